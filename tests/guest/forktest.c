/* forktest MODE [ARGS]: fork() guests for the end-to-end tests
 * (tests/tests/fork.rs). Only the C interface is used.
 *
 *   pipe          child writes a line to a pipe, parent reads it and waits
 *   isolation     globals, heap and stack differ after fork, both ways
 *   many N        fork N children in a loop, each exits with its own code;
 *                 reap them all with wait()
 *   grandchild    the child forks again; the grandchild reports up a pipe
 *   pipes N       spawn `forktest source N` (into pipe P) and `forktest
 *                 sink` (from pipe Q), fork while holding P's read end and
 *                 Q's write end; the child copies P to Q, both close
 *   limit         fork until it fails (run with --max-processes)
 *   bigheap       fill 44 MiB of heap (most of a 64 MiB VM) with 1 MiB
 *                 blocks of a pattern, fork, and let the child check every
 *                 byte (the child's firmware must not have written into any
 *                 of it). Not "until malloc fails": the kernel overcommits,
 *                 as Linux does, and a touch past the end of RAM is killed.
 *   bench N       time N forks and N spawns of `forktest ping`, interleaved
 *   source N      write N bytes to stdout
 *   sink          count stdin bytes until EOF: "sink got N bytes"
 *   ping          write one byte to stdout
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
    printf("%s failed: errno %d\n", what, errno);
    exit(2);
}

static int wait_for(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid)
        die("waitpid");
    return status;
}

static void read_exact(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r <= 0)
            die("read_exact");
        got += (size_t)r;
    }
}

static void write_all(int fd, const void *buf, size_t n)
{
    size_t put = 0;
    while (put < n) {
        ssize_t w = write(fd, (const char *)buf + put, n - put);
        if (w <= 0)
            die("write_all");
        put += (size_t)w;
    }
}

static int mode_pipe(void)
{
    int p[2];
    if (pipe(p) < 0)
        die("pipe");
    pid_t me = getpid();
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(p[0]);
        char msg[96];
        int n = snprintf(msg, sizeof msg, "hello from child, ppid matches: %s, fork returned 0",
                         getppid() == me ? "yes" : "no");
        write_all(p[1], msg, (size_t)n);
        close(p[1]);
        _exit(0);
    }
    close(p[1]);
    char buf[128];
    size_t got = 0;
    ssize_t r;
    while ((r = read(p[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)r;
    buf[got] = 0;
    int status = wait_for(pid);
    printf("parent read: %s\n", buf);
    printf("child %s, exit %d, pid differs: %s\n", WIFEXITED(status) ? "exited" : "died",
           WEXITSTATUS(status), pid != me ? "yes" : "no");
    return 0;
}

int global_counter = 100;
static char global_text[32] = "parent-global";
static int bss_value;

static int mode_isolation(void)
{
    int to_child[2], to_parent[2];
    if (pipe(to_child) < 0 || pipe(to_parent) < 0)
        die("pipe");
    int stack_value = 7;
    int *heap = malloc(64 * sizeof(int));
    for (int i = 0; i < 64; i++)
        heap[i] = i;
    bss_value = 5;
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    char c;
    if (pid == 0) {
        /* Wait until the parent has changed its copies, then check ours. */
        read_exact(to_child[0], &c, 1);
        int ok = global_counter == 100 && strcmp(global_text, "parent-global") == 0 &&
                 bss_value == 5 && stack_value == 7 && heap[10] == 10 && heap[63] == 63;
        global_counter = 200;
        strcpy(global_text, "child-global");
        bss_value = 6;
        stack_value = 8;
        heap[10] = -10;
        int *more = malloc(1024);
        more[0] = 42;
        write_all(to_parent[1], "x", 1);
        _exit(ok ? 0 : 1);
    }
    global_counter = 300;
    strcpy(global_text, "parent-changed");
    bss_value = 9;
    stack_value = 10;
    heap[63] = -63;
    write_all(to_child[1], "x", 1);
    read_exact(to_parent[0], &c, 1);
    int status = wait_for(pid);
    int ok = global_counter == 300 && strcmp(global_text, "parent-changed") == 0 &&
             bss_value == 9 && stack_value == 10 && heap[10] == 10 && heap[63] == -63;
    int *after = malloc(4096);
    after[0] = 1;
    free(after);
    free(heap);
    printf("child saw the parent's values: %s\n",
           WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "unchanged" : "CHANGED");
    printf("parent saw the child's writes: %s\n", ok ? "no" : "YES");
    return 0;
}

static int mode_many(int n)
{
    pid_t pids[64];
    if (n > 64)
        n = 64;
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0)
            _exit(10 + i);
        pids[i] = pid;
    }
    int reaped = 0, right = 0;
    for (int k = 0; k < n; k++) {
        int status;
        pid_t pid = wait(&status);
        if (pid < 0)
            die("wait");
        reaped++;
        for (int i = 0; i < n; i++)
            if (pids[i] == pid && WIFEXITED(status) && WEXITSTATUS(status) == 10 + i)
                right++;
    }
    int status;
    printf("reaped %d of %d, %d with their own status, then wait: %d\n", reaped, n, right,
           (int)wait(&status));
    return 0;
}

static int mode_grandchild(void)
{
    int p[2];
    if (pipe(p) < 0)
        die("pipe");
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        pid_t me = getpid();
        pid_t grand = fork();
        if (grand < 0)
            die("fork 2");
        if (grand == 0) {
            char msg[64];
            int n = snprintf(msg, sizeof msg, "grandchild: parent is child: %s\n",
                             getppid() == me ? "yes" : "no");
            write_all(p[1], msg, (size_t)n);
            _exit(3);
        }
        int status = wait_for(grand);
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) + 1 : 99);
    }
    close(p[1]);
    char buf[128];
    size_t got = 0;
    ssize_t r;
    while ((r = read(p[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)r;
    buf[got] = 0;
    int status = wait_for(child);
    printf("%schild exited %d\n", buf, WEXITSTATUS(status));
    return 0;
}

static pid_t spawn_io(char *const argv[], int in_fd, int out_fd, const int *closes, int nclose)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (in_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
    for (int i = 0; i < nclose; i++)
        posix_spawn_file_actions_addclose(&fa, closes[i]);
    pid_t pid;
    int err = posix_spawn(&pid, argv[0], &fa, NULL, argv, NULL);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0) {
        errno = err;
        die("posix_spawn");
    }
    return pid;
}

static int mode_pipes(const char *n)
{
    int p[2], q[2];
    if (pipe(p) < 0 || pipe(q) < 0)
        die("pipe");
    int all[4] = {p[0], p[1], q[0], q[1]};
    char *source_argv[] = {"forktest", "source", (char *)n, NULL};
    char *sink_argv[] = {"forktest", "sink", NULL};
    pid_t source = spawn_io(source_argv, -1, p[1], all, 4);
    pid_t sink = spawn_io(sink_argv, q[0], -1, all, 4);
    close(p[1]);
    close(q[0]);
    /* We hold P's read end and Q's write end: fork with them. */
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        char buf[4096];
        ssize_t r;
        long total = 0;
        while ((r = read(p[0], buf, sizeof buf)) > 0) {
            write_all(q[1], buf, (size_t)r);
            total += r;
        }
        if (r < 0)
            die("child read");
        _exit(total == atol(n) ? 0 : 1);
    }
    close(p[0]);
    write_all(q[1], "from parent\n", 12);
    close(q[1]);
    int cs = wait_for(child);
    int ss = wait_for(source);
    int ks = wait_for(sink);
    printf("copier %d, source %d, sink %d\n", WEXITSTATUS(cs), WEXITSTATUS(ss), WEXITSTATUS(ks));
    return 0;
}

static int mode_limit(void)
{
    int gate[2];
    if (pipe(gate) < 0)
        die("pipe");
    pid_t pids[64];
    int n = 0;
    pid_t pid;
    for (;;) {
        pid = fork();
        if (pid <= 0)
            break;
        pids[n++] = pid;
        if (n == 64)
            break;
    }
    if (pid == 0) {
        /* Stay alive (counted) until the parent closes the gate. */
        close(gate[1]);
        char c;
        while (read(gate[0], &c, 1) > 0) {
        }
        _exit(0);
    }
    int err = errno;
    close(gate[1]);
    int ok = 0;
    for (int i = 0; i < n; i++) {
        int status = wait_for(pids[i]);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            ok++;
    }
    printf("forked %d, then fork returned %d errno %d; %d reaped; still running\n", n, (int)pid,
           err, ok);
    return 0;
}

static unsigned pattern(unsigned block, unsigned word)
{
    return (block * 0x9e3779b9u) ^ (word * 2654435761u) ^ 0x5a5a5a5au;
}

static int mode_bigheap(void)
{
    enum { BLOCK = 1 << 20, MAX_BLOCKS = 44 };
    static unsigned *blocks[MAX_BLOCKS];
    unsigned n = 0;
    while (n < MAX_BLOCKS && (blocks[n] = malloc(BLOCK)) != NULL) {
        for (unsigned w = 0; w < BLOCK / 4; w++)
            blocks[n][w] = pattern(n, w);
        n++;
    }
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    unsigned bad = 0;
    if (pid == 0) {
        for (unsigned b = 0; b < n; b++)
            for (unsigned w = 0; w < BLOCK / 4; w++)
                if (blocks[b][w] != pattern(b, w)) {
                    if (bad++ == 0)
                        fprintf(stderr, "first bad word at %p\n", (void *)&blocks[b][w]);
                }
        _exit(bad ? 1 : 0);
    }
    int status = wait_for(pid);
    for (unsigned b = 0; b < n; b++)
        free(blocks[b]);
    printf("filled %s 40 MiB of heap; the child found it intact: %s\n", n >= 40 ? "over" : "UNDER",
           WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "yes" : "NO");
    return 0;
}

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void report(const char *what, long long *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            long long t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    long long sum = 0;
    for (int i = 0; i < n; i++)
        sum += v[i];
    printf("%-28s median %7.2f ms  min %7.2f  max %7.2f  mean %7.2f\n", what, v[n / 2] / 1000.0,
           v[0] / 1000.0, v[n - 1] / 1000.0, (double)sum / n / 1000.0);
}

static int mode_bench(int n)
{
    static long long ret_us[64], run_us[64], spawn_ret_us[64], spawn_us[64];
    if (n > 64)
        n = 64;
    int p[2];
    if (pipe(p) < 0)
        die("pipe");
    char c;
    char *ping_argv[] = {"forktest", "ping", NULL};
    /* Interleaved, so that load changes on the host hit both alike. */
    for (int i = 0; i < n; i++) {
        long long t0 = now_us();
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            write_all(p[1], "c", 1);
            _exit(0);
        }
        long long t1 = now_us();
        read_exact(p[0], &c, 1);
        long long t2 = now_us();
        wait_for(pid);
        ret_us[i] = t1 - t0;
        run_us[i] = t2 - t0;

        t0 = now_us();
        pid = spawn_io(ping_argv, -1, p[1], NULL, 0);
        spawn_ret_us[i] = now_us() - t0;
        read_exact(p[0], &c, 1);
        spawn_us[i] = now_us() - t0;
        wait_for(pid);
    }
    report("fork() returns in parent", ret_us, n);
    report("fork() to child running", run_us, n);
    report("posix_spawn returns", spawn_ret_us, n);
    report("posix_spawn to child running", spawn_us, n);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    const char *arg = argc > 2 ? argv[2] : "0";
    if (strcmp(mode, "pipe") == 0)
        return mode_pipe();
    if (strcmp(mode, "isolation") == 0)
        return mode_isolation();
    if (strcmp(mode, "many") == 0)
        return mode_many(atoi(arg));
    if (strcmp(mode, "grandchild") == 0)
        return mode_grandchild();
    if (strcmp(mode, "pipes") == 0)
        return mode_pipes(arg);
    if (strcmp(mode, "limit") == 0)
        return mode_limit();
    if (strcmp(mode, "bigheap") == 0)
        return mode_bigheap();
    if (strcmp(mode, "bench") == 0)
        return mode_bench(atoi(arg));
    if (strcmp(mode, "source") == 0) {
        static char buf[4096];
        long left = atol(arg);
        memset(buf, 'y', sizeof buf);
        while (left > 0) {
            size_t n = left < (long)sizeof buf ? (size_t)left : sizeof buf;
            write_all(STDOUT_FILENO, buf, n);
            left -= (long)n;
        }
        return 0;
    }
    if (strcmp(mode, "sink") == 0) {
        char buf[4096];
        long total = 0;
        ssize_t r;
        while ((r = read(STDIN_FILENO, buf, sizeof buf)) > 0)
            total += r;
        printf("sink got %ld bytes\n", total);
        return r < 0 ? 1 : 0;
    }
    if (strcmp(mode, "ping") == 0) {
        write_all(STDOUT_FILENO, "p", 1);
        return 0;
    }
    printf("usage: forktest pipe|isolation|many N|grandchild|pipes N|limit|bigheap|bench N\n");
    return 2;
}
