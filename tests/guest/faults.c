/* faults MODE: guest programs for the kill -9 tests (tests/tests/faults.rs).
 * The test kills one guest's QEMU once a line names its pid; the root then
 * reports what it saw, proves the daemon still serves (a round trip through
 * a fresh child) and exits 0.
 *
 *   transfer       spawn `faults writer` on a pipe; once data flows print
 *                  "transfer from pid P"; read to EOF, check the bytes
 *   blocked-read   spawn `faults reader` on a pipe we keep open; it prints
 *                  "reader pid P" and blocks in read; then write: EPIPE
 *   blocked-write  spawn `faults filler`: it fills a pipe nobody reads,
 *                  prints "writer pid P" and blocks in write; read to EOF
 *   blocked-wait   spawn `faults waiter`: it spawns `faults orphan` on a
 *                  pipe, prints "waiter pid P" and blocks in waitpid
 *   root           spawn `faults reader`, block in waitpid (the test kills
 *                  the root)
 *   writer | reader | filler | waiter | orphan | echo   the children
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK 4096
#define CAPACITY 65536

static void say(const char *fmt, int v)
{
    printf(fmt, v);
    fflush(stdout);
}

/* Spawns argv with `in` on fd 0 and `out` on fd 1 (when >= 0), `extra` on
 * fd 3 (when >= 0), closing the fds of `closes` (ended by -1). */
static pid_t spawn(char *const argv[], int in, int out, int extra, const int *closes)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (in >= 0)
        posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
    if (out >= 0)
        posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
    if (extra >= 0)
        posix_spawn_file_actions_adddup2(&fa, extra, 3);
    for (; closes && *closes >= 0; closes++)
        if (*closes != 3 || extra < 0)
            posix_spawn_file_actions_addclose(&fa, *closes);
    pid_t pid;
    int err = posix_spawn(&pid, argv[0], &fa, NULL, argv, NULL);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0) {
        printf("spawn %s failed: %s\n", argv[1], strerror(err));
        exit(2);
    }
    return pid;
}

static void report(pid_t pid, const char *who)
{
    int status;
    if (waitpid(pid, &status, 0) != pid) {
        printf("waitpid: errno %d\n", errno);
        exit(2);
    }
    if (WIFSIGNALED(status))
        printf("%s signaled %d\n", who, WTERMSIG(status));
    else
        printf("%s exited %d\n", who, WEXITSTATUS(status));
    fflush(stdout);
}

/* A fresh child echoes "ping": the daemon still spawns and moves bytes. */
static void round_trip(void)
{
    int in[2], out[2];
    if (pipe(in) || pipe(out)) {
        printf("pipe: errno %d\n", errno);
        exit(2);
    }
    char *argv[] = {"faults", "echo", NULL};
    int closes[] = {in[0], in[1], out[0], out[1], -1};
    pid_t pid = spawn(argv, in[0], out[1], -1, closes);
    close(in[0]);
    close(out[1]);
    write(in[1], "ping\n", 5);
    close(in[1]);
    char buf[16];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf && (n = read(out[0], buf + got, sizeof buf - got)) > 0)
        got += n;
    close(out[0]);
    int status;
    waitpid(pid, &status, 0);
    if (got == 5 && memcmp(buf, "ping\n", 5) == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        say("round trip ok\n", 0);
    else
        say("round trip failed (%d bytes)\n", (int)got);
}

static int root_transfer(void)
{
    int p[2];
    pipe(p);
    char *argv[] = {"faults", "writer", NULL};
    int closes[] = {p[0], p[1], -1};
    pid_t pid = spawn(argv, -1, p[1], -1, closes);
    close(p[1]);
    static unsigned char buf[CHUNK];
    long total = 0;
    int intact = 1, announced = 0;
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != (unsigned char)((total + i) % 251))
                intact = 0;
        total += n;
        if (!announced) {
            say("transfer from pid %d\n", (int)pid);
            announced = 1;
        }
    }
    say(intact ? "eof, data intact\n" : "eof, data corrupt\n", 0);
    report(pid, "child");
    round_trip();
    return 0;
}

static int child_writer(void)
{
    static unsigned char buf[CHUNK];
    for (long total = 0;; total += CHUNK) {
        for (int i = 0; i < CHUNK; i++)
            buf[i] = (unsigned char)((total + i) % 251);
        if (write(STDOUT_FILENO, buf, CHUNK) != CHUNK)
            return 3;
    }
}

static int root_blocked_read(void)
{
    signal(SIGPIPE, SIG_IGN);
    int p[2];
    pipe(p);
    char *argv[] = {"faults", "reader", NULL};
    int closes[] = {p[0], p[1], -1};
    pid_t pid = spawn(argv, p[0], -1, -1, closes);
    close(p[0]);
    report(pid, "child");
    ssize_t n = write(p[1], "x", 1);
    say("write: errno %d\n", n < 0 ? errno : 0);
    round_trip();
    return 0;
}

static int child_reader(void)
{
    say("reader pid %d\n", (int)getpid());
    char c;
    return read(STDIN_FILENO, &c, 1) == 1 ? 0 : 1;
}

static int root_blocked_write(void)
{
    int p[2];
    pipe(p);
    char *argv[] = {"faults", "filler", NULL};
    int closes[] = {p[0], p[1], -1};
    pid_t pid = spawn(argv, -1, -1, p[1], closes);
    close(p[1]);
    report(pid, "child");
    static char buf[CHUNK];
    long total = 0;
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0)
        total += n;
    say("read %d bytes then eof\n", (int)total);
    round_trip();
    return 0;
}

static int child_filler(void)
{
    static char buf[CHUNK];
    memset(buf, 'f', sizeof buf);
    for (int done = 0; done < CAPACITY; done += CHUNK)
        if (write(3, buf, CHUNK) != CHUNK)
            return 3;
    say("writer pid %d\n", (int)getpid());
    write(3, buf, CHUNK); /* the pipe is full: blocks until the kill */
    return 4;
}

static int root_blocked_wait(void)
{
    char *argv[] = {"faults", "waiter", NULL};
    pid_t pid = spawn(argv, -1, -1, -1, NULL);
    report(pid, "child");
    /* The waiter's child is ours now; its stdin closed with the waiter. */
    int status;
    pid_t orphan = waitpid(-1, &status, 0);
    if (orphan > 0 && WIFEXITED(status))
        say("orphan exited %d\n", WEXITSTATUS(status));
    else {
        printf("orphan: waitpid gave %d, status %#x\n", (int)orphan, orphan > 0 ? status : 0);
        fflush(stdout);
    }
    round_trip();
    return 0;
}

static int child_waiter(void)
{
    int p[2];
    pipe(p);
    char *argv[] = {"faults", "orphan", NULL};
    int closes[] = {p[0], p[1], -1};
    pid_t pid = spawn(argv, p[0], -1, -1, closes);
    close(p[0]);
    say("waiter pid %d\n", (int)getpid());
    int status;
    waitpid(pid, &status, 0); /* blocks until the kill */
    return 4;
}

static int child_orphan(void)
{
    char c;
    while (read(STDIN_FILENO, &c, 1) > 0)
        ;
    return 0;
}

static int child_echo(void)
{
    char buf[256];
    ssize_t n;
    while ((n = read(STDIN_FILENO, buf, sizeof buf)) > 0)
        if (write(STDOUT_FILENO, buf, n) != n)
            return 3;
    return 0;
}

static int root_killed(void)
{
    int p[2];
    pipe(p);
    char *argv[] = {"faults", "reader", NULL};
    int closes[] = {p[0], p[1], -1};
    pid_t pid = spawn(argv, p[0], -1, -1, closes);
    close(p[0]);
    report(pid, "child"); /* blocks until the test kills us */
    return 4;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    static const struct {
        const char *name;
        int (*run)(void);
    } modes[] = {
        {"transfer", root_transfer},     {"writer", child_writer},
        {"blocked-read", root_blocked_read}, {"reader", child_reader},
        {"blocked-write", root_blocked_write}, {"filler", child_filler},
        {"blocked-wait", root_blocked_wait}, {"waiter", child_waiter},
        {"orphan", child_orphan},        {"echo", child_echo},
        {"root", root_killed},
    };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(mode, modes[i].name) == 0)
            return modes[i].run();
    printf("faults: unknown mode '%s'\n", mode);
    return 64;
}
