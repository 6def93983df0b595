/* vupbench: the guest side of vhost-user-pipe-bench, one image, one mode per
 * argv[1]. Every figure is taken with the guest's CLOCK_MONOTONIC (the TSC,
 * calibrated against the PIT at boot) and printed as text on stdout, which
 * the benchmark reads through the root's host pipe.
 *
 *   vupbench pingpong ITERS SAMPLES SIZE:TOTAL...   (root) pipe round trips
 *                                    and throughput against a spawned `echo`
 *   vupbench echo                    (child) serves the pingpong protocol
 *   vupbench spawn COUNT [PAUSE_MS]  (root) posix_spawn latency of `hello`
 *                                    (musl's posix_spawn: a vfork and an exec)
 *   vupbench vfork COUNT [PAUSE_MS]  (root) vfork() + execve of `hello`
 *   vupbench exec COUNT              (root) execve latency: execs itself
 *                                    COUNT times, from the call to main
 *   vupbench fork COUNT [PAUSE_MS]   (root) fork latency, or "fork_ns enosys"
 *   vupbench pipeline STAGES COUNT [PAUSE_MS]
 *                                    (root) a burst: STAGES `cat` children
 *                                    spawned at once, connected by pipes; one
 *                                    byte written into the first and read back
 *                                    from the last
 *   vupbench cat                     (child) copies stdin to stdout until EOF
 *   vupbench hello                   writes "!<ns since first instruction>\n"
 *   vupbench density                 (root) grows a tree of `idle` children
 *                                    on command from stdin (a line N: grow to
 *                                    N children; prints "ready N", or
 *                                    "limit N ERROR" when a spawn fails)
 *   vupbench idle                    (child) says ready, then blocks on stdin
 *   vupbench file DIR SAMPLES SIZE:TOTAL...
 *                                    file throughput: per SIZE:TOTAL, SAMPLES
 *                                    times (after one warm-up) writes TOTAL
 *                                    bytes into DIR/vupbench-file in writes of
 *                                    SIZE (O_CREAT|O_TRUNC), then reads them
 *                                    back in reads of SIZE; removes the file.
 *                                    Prints "clock NS" first and last
 *
 * The latency modes sleep PAUSE_MS (default 0) between samples, so that a
 * pool of parked VMs can refill in the background before the next sample.
 * "Child runs user code" is when the child's first write reaches the parent
 * through a pipe: the child's own clock cannot be compared with the
 * parent's (each VM's clock starts at its own boot).
 *
 * Protocol between pingpong and echo, on two pipes: 'p' is echoed back as
 * one byte; 't' + u64 total + u64 chunk: echo reads `total` bytes in reads
 * of `chunk`, then answers one byte; 'q': echo exits. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHUNK (1 << 20)
#define MAX_ITERS 100000
#define WARMUP 50

static unsigned char buf[MAX_CHUNK];
static long samples[MAX_ITERS];

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void pause_ms(int ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static void die(const char *what)
{
    fprintf(stderr, "vupbench: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void read_exact(int fd, void *p, size_t n)
{
    unsigned char *b = p;
    while (n > 0) {
        ssize_t got = read(fd, b, n);
        if (got <= 0)
            die("read");
        b += got;
        n -= (size_t)got;
    }
}

static void write_all(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n > 0) {
        ssize_t put = write(fd, b, n);
        if (put <= 0)
            die("write");
        b += put;
        n -= (size_t)put;
    }
}

static void print_samples(const char *tag, long *s, int n)
{
    printf("%s", tag);
    for (int i = 0; i < n; i++)
        printf(" %ld", s[i]);
    printf("\n");
}

/* posix_spawn of `vupbench` with stdin/stdout from `in_fd`/`out_fd` (-1:
 * inherited) and `close_fds` closed; 0 or the error number. */
static int try_spawn(pid_t *pid, char *const argv[], int in_fd, int out_fd, const int *close_fds,
                     int nclose)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (in_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
    for (int i = 0; i < nclose; i++)
        posix_spawn_file_actions_addclose(&fa, close_fds[i]);
    int err = posix_spawn(pid, "vupbench", &fa, NULL, argv, NULL);
    posix_spawn_file_actions_destroy(&fa);
    return err;
}

static pid_t spawn_with(char *const argv[], int in_fd, int out_fd, const int *close_fds, int nclose)
{
    pid_t pid;
    int err = try_spawn(&pid, argv, in_fd, out_fd, close_fds, nclose);
    if (err != 0) {
        errno = err;
        die("posix_spawn");
    }
    return pid;
}

static int echo(void)
{
    for (;;) {
        unsigned char cmd;
        read_exact(0, &cmd, 1);
        if (cmd == 'p') {
            write_all(1, &cmd, 1);
        } else if (cmd == 't') {
            unsigned long hdr[2];
            read_exact(0, hdr, sizeof hdr);
            unsigned long left = hdr[0], chunk = hdr[1] > MAX_CHUNK ? MAX_CHUNK : hdr[1];
            while (left > 0) {
                ssize_t got = read(0, buf, left < chunk ? left : chunk);
                if (got <= 0)
                    die("read");
                left -= (unsigned long)got;
            }
            write_all(1, &cmd, 1);
        } else {
            return 0;
        }
    }
}

static int pingpong(int argc, char **argv)
{
    int iters = argc > 2 ? atoi(argv[2]) : 1000;
    int nsamples = argc > 3 ? atoi(argv[3]) : 5;
    if (iters > MAX_ITERS)
        iters = MAX_ITERS;
    if (nsamples > MAX_ITERS)
        nsamples = MAX_ITERS;
    int to[2], from[2];
    if (pipe(to) < 0 || pipe(from) < 0)
        die("pipe");
    int all[4] = {to[0], to[1], from[0], from[1]};
    char *child_argv[] = {"vupbench", "echo", NULL};
    pid_t child = spawn_with(child_argv, to[0], from[1], all, 4);
    close(to[0]);
    close(from[1]);

    /* The host timestamps the arrival of the two "clock" lines to check
     * the guest clock against its own. */
    printf("clock %ld\n", now_ns());
    fflush(stdout);
    unsigned char b = 'p';
    for (int i = 0; i < WARMUP + iters; i++) {
        long t0 = now_ns();
        write_all(to[1], &b, 1);
        read_exact(from[0], &b, 1);
        if (i >= WARMUP)
            samples[i - WARMUP] = now_ns() - t0;
    }
    print_samples("rtt_ns", samples, iters);

    for (int a = 4; a < argc; a++) {
        unsigned long size = strtoul(argv[a], NULL, 10);
        char *colon = strchr(argv[a], ':');
        unsigned long total = colon ? strtoul(colon + 1, NULL, 10) : size * 64;
        if (size == 0 || size > MAX_CHUNK)
            continue;
        total -= total % size;
        for (int s = 0; s < 1 + nsamples; s++) {
            unsigned char t = 't';
            unsigned long hdr[2] = {total, size};
            long t0 = now_ns();
            write_all(to[1], &t, 1);
            write_all(to[1], hdr, sizeof hdr);
            for (unsigned long sent = 0; sent < total; sent += size)
                write_all(to[1], buf, size);
            read_exact(from[0], &t, 1);
            if (s > 0)
                samples[s - 1] = now_ns() - t0;
        }
        char tag[64];
        snprintf(tag, sizeof tag, "tput %lu %lu", size, total);
        print_samples(tag, samples, nsamples);
    }
    printf("clock %ld\n", now_ns());
    fflush(stdout);
    b = 'q';
    write_all(to[1], &b, 1);
    int status;
    if (waitpid(child, &status, 0) < 0)
        die("waitpid");
    return 0;
}

static int hello(void)
{
    long t = now_ns();
    char line[32];
    int n = snprintf(line, sizeof line, "!%ld\n", t);
    write_all(1, line, (size_t)n);
    return 0;
}

/* COUNT and PAUSE_MS of a process-start mode (`MODE COUNT PAUSE_MS`). */
static int start_sample_count(int argc, char **argv, int *pause)
{
    int count = argc > 2 ? atoi(argv[2]) : 5;
    *pause = argc > 3 ? atoi(argv[3]) : 0;
    return count > MAX_ITERS / 4 ? MAX_ITERS / 4 : count;
}

/* The start of one process-start sample: the pause (so a pool can refill),
 * then the pipe the child's first byte comes back through. */
static void begin_start_sample(int pause, int p[2])
{
    pause_ms(pause);
    if (pipe(p) < 0)
        die("pipe");
}

/* The rest of one process-start sample: the parent got `pid` back from the
 * call at t1 (started at t0) and holds the read end `rd` of the pipe the
 * child writes its first byte to; waits for that byte (t2) and reaps the
 * child (t3), and stores "T1:T2:T3" (ns after t0) as sample i. */
static void finish_start_sample(int i, int rd, pid_t pid, long t0, long t1)
{
    unsigned char c;
    read_exact(rd, &c, 1);
    long t2 = now_ns();
    int status;
    if (waitpid(pid, &status, 0) < 0)
        die("waitpid");
    long t3 = now_ns();
    close(rd);
    samples[4 * i] = t1 - t0;
    samples[4 * i + 1] = t2 - t0;
    samples[4 * i + 2] = t3 - t0;
    samples[4 * i + 3] = 0;
}

/* Prints `tag` and the count samples of finish_start_sample. */
static void print_start_samples(const char *tag, int count)
{
    printf("%s", tag);
    for (int i = 0; i < count; i++)
        printf(" %ld:%ld:%ld", samples[4 * i], samples[4 * i + 1], samples[4 * i + 2]);
    printf("\n");
}

static int spawn_bench(int argc, char **argv)
{
    int pause;
    int count = start_sample_count(argc, argv, &pause);
    char *child_argv[] = {"vupbench", "hello", NULL};
    for (int i = 0; i < count; i++) {
        int p[2];
        begin_start_sample(pause, p);
        long t0 = now_ns();
        pid_t pid = spawn_with(child_argv, -1, p[1], p, 2);
        long t1 = now_ns();
        close(p[1]);
        finish_start_sample(i, p[0], pid, t0, t1);
    }
    print_start_samples("spawn_ns", count);
    return 0;
}

static int fork_bench(int argc, char **argv)
{
    int pause;
    int count = start_sample_count(argc, argv, &pause);
    for (int i = 0; i < count; i++) {
        int p[2];
        begin_start_sample(pause, p);
        long t0 = now_ns();
        pid_t pid = fork();
        if (pid == 0) {
            unsigned char c = 'f';
            write_all(p[1], &c, 1);
            _exit(0);
        }
        long t1 = now_ns();
        if (pid < 0) {
            printf("fork_ns %s\n", errno == ENOSYS ? "enosys" : strerror(errno));
            return 0;
        }
        close(p[1]);
        finish_start_sample(i, p[0], pid, t0, t1);
    }
    print_start_samples("fork_ns", count);
    return 0;
}

/* vfork() (musl: the vfork system call itself), then in the child dup2 and
 * execve of `vupbench hello`; as spawn_bench, "vfork_ns T1:T2:T3" per
 * sample: the call returns in the parent, the child's first write arrives,
 * the child is reaped. */
static int vfork_bench(int argc, char **argv)
{
    int pause;
    int count = start_sample_count(argc, argv, &pause);
    static char *child_argv[] = {"vupbench", "hello", NULL};
    for (int i = 0; i < count; i++) {
        int p[2];
        begin_start_sample(pause, p);
        long t0 = now_ns();
        pid_t pid = vfork();
        if (pid == 0) {
            if (dup2(p[1], STDOUT_FILENO) < 0)
                _exit(126);
            close(p[0]);
            close(p[1]);
            execv("vupbench", child_argv);
            _exit(127);
        }
        long t1 = now_ns();
        if (pid < 0)
            die("vfork");
        close(p[1]);
        finish_start_sample(i, p[0], pid, t0, t1);
    }
    print_start_samples("vfork_ns", count);
    return 0;
}

static int cat(void)
{
    for (;;) {
        ssize_t got = read(0, buf, sizeof buf);
        if (got < 0)
            die("read");
        if (got == 0)
            return 0;
        write_all(1, buf, (size_t)got);
    }
}

#define MAX_STAGES 64

/* A burst: per sample, STAGES `vupbench cat` children spawned back to back,
 * stage i reading pipe i and writing pipe i+1; the parent writes one byte
 * into pipe 0 as soon as the first stage exists and reads it from the last
 * pipe. "pipeline_ns T1:T2:T3": every spawn has returned, the byte has come
 * through all the stages, every stage is reaped (after the parent closes
 * pipe 0: EOF runs down the line). */
static int pipeline(int argc, char **argv)
{
    int stages = argc > 2 ? atoi(argv[2]) : 16;
    int count = argc > 3 ? atoi(argv[3]) : 5;
    int pause = argc > 4 ? atoi(argv[4]) : 0;
    if (stages < 1)
        stages = 1;
    if (stages > MAX_STAGES)
        stages = MAX_STAGES;
    if (count > MAX_ITERS / 4)
        count = MAX_ITERS / 4;
    char *child_argv[] = {"vupbench", "cat", NULL};
    for (int i = 0; i < count; i++) {
        pause_ms(pause);
        int fds[2 * (MAX_STAGES + 1)];
        for (int s = 0; s <= stages; s++)
            if (pipe(fds + 2 * s) < 0)
                die("pipe");
        pid_t pids[MAX_STAGES];
        long t0 = now_ns();
        for (int s = 0; s < stages; s++) {
            pids[s] = spawn_with(child_argv, fds[2 * s], fds[2 * (s + 1) + 1], fds, 2 * (stages + 1));
            if (s == 0)
                write_all(fds[1], "x", 1);
        }
        long t1 = now_ns();
        for (int s = 0; s <= stages; s++) {
            if (s > 0)
                close(fds[2 * s + 1]);
            if (s < stages)
                close(fds[2 * s]);
        }
        unsigned char c;
        read_exact(fds[2 * stages], &c, 1);
        long t2 = now_ns();
        close(fds[1]);
        for (int s = 0; s < stages; s++) {
            int status;
            if (waitpid(pids[s], &status, 0) < 0)
                die("waitpid");
        }
        long t3 = now_ns();
        close(fds[2 * stages]);
        samples[4 * i] = t1 - t0;
        samples[4 * i + 1] = t2 - t0;
        samples[4 * i + 2] = t3 - t0;
    }
    printf("pipeline_ns");
    for (int i = 0; i < count; i++)
        printf(" %ld:%ld:%ld", samples[4 * i], samples[4 * i + 1], samples[4 * i + 2]);
    printf("\n");
    return 0;
}

/* `exec COUNT`, then `exec-step LEFT T_CALL SAMPLES...` after each execve:
 * each step takes one sample, from the execve call (T_CALL, carried in argv)
 * to its own main, and execs again until LEFT reaches 0; the last prints
 * them. The program is argv[0] as found from the working directory, or
 * /proc/self/exe. */
static int exec_bench(int argc, char **argv)
{
    long t_main = now_ns();
    int left;
    int first = strcmp(argv[1], "exec") == 0;
    if (first) {
        left = argc > 2 ? atoi(argv[2]) : 5;
        if (left > 64)
            left = 64;
        if (left < 1)
            left = 1;
    } else {
        if (argc < 4) {
            fprintf(stderr, "vupbench: exec-step needs LEFT T_CALL\n");
            return 2;
        }
        left = atoi(argv[2]);
    }
    /* argv of the next step: vupbench exec-step LEFT T_CALL SAMPLES... */
    static char strings[80][24];
    static char *next[84];
    int n = 0;
    next[n++] = "vupbench";
    next[n++] = "exec-step";
    int samples_from = first ? argc : 4;
    if (!first) {
        /* This step's sample, after the earlier ones. */
        long t_call = atol(argv[3]);
        snprintf(strings[0], sizeof strings[0], "%ld", t_main - t_call);
    }
    if (!first && left <= 0) {
        printf("exec_ns");
        for (int i = samples_from; i < argc; i++)
            printf(" %s", argv[i]);
        printf(" %s\n", strings[0]);
        return 0;
    }
    snprintf(strings[1], sizeof strings[1], "%d", left - 1);
    next[n++] = strings[1];
    next[n++] = strings[2];
    if (!first) {
        for (int i = samples_from; i < argc && n < 80; i++)
            next[n++] = argv[i];
        next[n++] = strings[0];
    }
    next[n] = NULL;
    snprintf(strings[2], sizeof strings[2], "%ld", now_ns());
    execv("/proc/self/exe", next);
    die("execv /proc/self/exe");
    return 2;
}

/* Children hold the read end of `hold`; they end when it reaches EOF. */
static int density(void)
{
    int ready[2], hold[2];
    if (pipe(ready) < 0 || pipe(hold) < 0)
        die("pipe");
    int all[4] = {ready[0], ready[1], hold[0], hold[1]};
    char *child_argv[] = {"vupbench", "idle", NULL};
    static pid_t pids[1024];
    int n = 0;
    char line[32];
    int len = 0;
    for (;;) {
        char c;
        ssize_t got = read(0, &c, 1);
        if (got <= 0)
            break;
        if (c != '\n') {
            if (len < (int)sizeof line - 1)
                line[len++] = c;
            continue;
        }
        line[len] = 0;
        len = 0;
        if (line[0] == 'q')
            break;
        int want = atoi(line);
        if (want > 1024)
            want = 1024;
        int before = n, err = 0;
        while (n < want && err == 0) {
            err = try_spawn(&pids[n], child_argv, hold[0], ready[1], all, 4);
            if (err == 0)
                n++;
        }
        for (int i = before; i < n; i++) {
            unsigned char r;
            read_exact(ready[0], &r, 1);
        }
        if (err != 0)
            printf("limit %d %s\n", n, strerror(err));
        else
            printf("ready %d\n", n);
        fflush(stdout);
    }
    close(hold[1]);
    for (int i = 0; i < n; i++) {
        int status;
        waitpid(pids[i], &status, 0);
    }
    return 0;
}

static int idle(void)
{
    unsigned char c = 'r';
    write_all(1, &c, 1);
    while (read(0, &c, 1) > 0) {
    }
    return 0;
}

/* One timed pass over the file: writing (created empty) or reading it, in
 * calls of `size` bytes; the nanoseconds from the open to the close. */
static long file_pass(const char *path, int writing, unsigned long size, unsigned long total)
{
    long t0 = now_ns();
    int fd = writing ? open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644) : open(path, O_RDONLY);
    if (fd < 0)
        die("open");
    for (unsigned long done = 0; done < total; done += size) {
        if (writing)
            write_all(fd, buf, size);
        else
            read_exact(fd, buf, size);
    }
    if (close(fd) < 0)
        die("close");
    return now_ns() - t0;
}

static int file_bench(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "vupbench: file DIR SAMPLES SIZE:TOTAL...\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/vupbench-file", argv[2]);
    int nsamples = atoi(argv[3]);
    if (nsamples > MAX_ITERS / 2)
        nsamples = MAX_ITERS / 2;
    for (unsigned long i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 7 + 1);
    /* As in pingpong: the host checks the guest clock against its own. */
    printf("clock %ld\n", now_ns());
    fflush(stdout);
    for (int a = 4; a < argc; a++) {
        unsigned long size = strtoul(argv[a], NULL, 10);
        char *colon = strchr(argv[a], ':');
        unsigned long total = colon ? strtoul(colon + 1, NULL, 10) : size * 64;
        if (size == 0 || size > MAX_CHUNK)
            continue;
        total -= total % size;
        long *w = samples, *r = samples + nsamples;
        for (int s = 0; s < 1 + nsamples; s++) {
            long tw = file_pass(path, 1, size, total);
            long tr = file_pass(path, 0, size, total);
            if (s > 0) {
                w[s - 1] = tw;
                r[s - 1] = tr;
            }
        }
        char tag[64];
        snprintf(tag, sizeof tag, "fwrite %lu %lu", size, total);
        print_samples(tag, w, nsamples);
        snprintf(tag, sizeof tag, "fread %lu %lu", size, total);
        print_samples(tag, r, nsamples);
        fflush(stdout);
    }
    unlink(path);
    printf("clock %ld\n", now_ns());
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "pingpong") == 0)
        return pingpong(argc, argv);
    if (strcmp(mode, "echo") == 0)
        return echo();
    if (strcmp(mode, "spawn") == 0)
        return spawn_bench(argc, argv);
    if (strcmp(mode, "fork") == 0)
        return fork_bench(argc, argv);
    if (strcmp(mode, "vfork") == 0)
        return vfork_bench(argc, argv);
    if (strcmp(mode, "pipeline") == 0)
        return pipeline(argc, argv);
    if (strcmp(mode, "cat") == 0)
        return cat();
    if (strcmp(mode, "exec") == 0 || strcmp(mode, "exec-step") == 0)
        return exec_bench(argc, argv);
    if (strcmp(mode, "hello") == 0)
        return hello();
    if (strcmp(mode, "density") == 0)
        return density();
    if (strcmp(mode, "idle") == 0)
        return idle();
    if (strcmp(mode, "file") == 0)
        return file_bench(argc, argv);
    fprintf(stderr, "vupbench: unknown mode '%s'\n", mode);
    return 2;
}
