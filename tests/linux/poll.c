/* poll, ppoll, select and pselect over two pipes, with timeouts: a child
 * writes to pipe A after a delay (each time the parent says "go" on a
 * third pipe), pipe B stays empty. Checks which fd becomes ready, that a
 * timeout returns 0, POLLHUP once the writer closed, POLLERR on a write
 * end without readers, POLLNVAL and EBADF for a closed fd, and EINTR for
 * a handled signal (with and without SA_RESTART, as Linux: never
 * restarted). Prints the results; the same output natively and under
 * the daemon. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_usr1(int s) { (void)s; got++; }

static void go(int fd, char c) {
    if (write(fd, &c, 1) != 1) perror("go");
}

static void pause_ms(long ms) {
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
}

static void show(const char *what, int r, struct pollfd *p, int n) {
    printf("%s: %d", what, r);
    if (r < 0) printf(" (%s)", strerror(errno));
    for (int i = 0; i < n; i++) printf(" [%d]=%#x", i, p[i].revents);
    printf("\n");
}

/* The child: for each "go" byte, waits a little and acts on it. */
static void child(int ctl, int a) {
    char c;
    while (read(ctl, &c, 1) == 1) {
        pause_ms(200);
        switch (c) {
        case 'x': case 'y': write(a, &c, 1); break;
        case 'k': kill(getppid(), SIGUSR1); break;
        case 'q': close(a); _exit(0);
        }
    }
    _exit(1);
}

int main(void) {
    int a[2], b[2], ctl[2];
    if (pipe(a) || pipe(b) || pipe(ctl)) return 1;
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) {
        close(ctl[1]); close(a[0]);
        child(ctl[0], a[1]);
    }
    close(ctl[0]); close(a[1]);
    struct pollfd p[2] = { { a[0], POLLIN, 0 }, { b[0], POLLIN, 0 } };
    struct timespec t0, t1;

    int r = poll(p, 2, 0);
    show("poll, timeout 0", r, p, 2);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = poll(p, 2, 100);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    show("poll, timeout 100 ms", r, p, 2);
    printf("waited at least 100 ms: %s\n", ms >= 99 ? "yes" : "no");

    go(ctl[1], 'x');
    r = poll(p, 2, 20000);
    show("poll, child writes A", r, p, 2);
    char c = 0;
    ssize_t n;
    n = read(a[0], &c, 1);
    printf("read A: %zd '%c'\n", n, c);

    fd_set rd, wr;
    struct timeval tv = { 0, 50000 };
    FD_ZERO(&rd);
    FD_SET(a[0], &rd); FD_SET(b[0], &rd);
    r = select(b[0] + 1, &rd, NULL, NULL, &tv);
    printf("select, timeout 50 ms: %d, A %d, B %d\n", r, FD_ISSET(a[0], &rd), FD_ISSET(b[0], &rd));

    FD_ZERO(&rd); FD_ZERO(&wr);
    FD_SET(a[0], &rd); FD_SET(b[0], &rd); FD_SET(b[1], &wr);
    r = select(b[1] + 1, &rd, &wr, NULL, NULL);
    printf("select, B writable: %d, A %d, B %d, B's write end %d\n", r,
           FD_ISSET(a[0], &rd), FD_ISSET(b[0], &rd), FD_ISSET(b[1], &wr));
    go(ctl[1], 'y');
    FD_ZERO(&rd); FD_ZERO(&wr);
    FD_SET(a[0], &rd); FD_SET(b[0], &rd);
    tv.tv_sec = 20; tv.tv_usec = 0;
    r = select(b[0] + 1, &rd, NULL, NULL, &tv);
    printf("select, child writes A: %d, A %d, B %d\n", r, FD_ISSET(a[0], &rd), FD_ISSET(b[0], &rd));
    n = read(a[0], &c, 1);
    printf("read A: %zd '%c'\n", n, c);

    /* A handled signal ends a wait with EINTR, SA_RESTART or not. */
    for (int restart = 0; restart < 2; restart++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr1;
        sa.sa_flags = restart ? SA_RESTART : 0;
        sigaction(SIGUSR1, &sa, NULL);
        go(ctl[1], 'k');
        r = poll(&p[1], 1, 20000);
        printf("poll, SIGUSR1 (SA_RESTART %d): %d (%s), handler ran %d\n", restart, r,
               r < 0 ? strerror(errno) : "-", (int)got);
    }
    go(ctl[1], 'k');
    FD_ZERO(&rd);
    FD_SET(b[0], &rd);
    r = select(b[0] + 1, &rd, NULL, NULL, NULL);
    printf("select, SIGUSR1: %d (%s), handler ran %d\n", r, r < 0 ? strerror(errno) : "-", (int)got);

    /* ppoll and pselect: their mask is in force while they wait. */
    sigset_t block, none, old;
    sigemptyset(&block); sigaddset(&block, SIGUSR1);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &block, &old);
    raise(SIGUSR1);
    struct timespec ts = { 0, 30000000 };
    r = ppoll(&p[1], 1, &ts, &block);
    printf("ppoll, SIGUSR1 pending and blocked: %d, handler ran %d\n", r, (int)got);
    ts.tv_nsec = 30000000;
    r = ppoll(&p[1], 1, &ts, &none);
    printf("ppoll, SIGUSR1 let through: %d (%s), handler ran %d\n", r,
           r < 0 ? strerror(errno) : "-", (int)got);
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("mask after ppoll blocks SIGUSR1 again: %d\n", sigismember(&now, SIGUSR1));
    raise(SIGUSR1);
    FD_ZERO(&rd);
    FD_SET(b[0], &rd);
    ts.tv_nsec = 30000000;
    r = pselect(b[0] + 1, &rd, NULL, NULL, &ts, &none);
    printf("pselect, SIGUSR1 let through: %d (%s), handler ran %d\n", r,
           r < 0 ? strerror(errno) : "-", (int)got);
    FD_ZERO(&rd);
    FD_SET(b[0], &rd);
    ts.tv_nsec = 30000000;
    r = pselect(b[0] + 1, &rd, NULL, NULL, &ts, NULL);
    printf("pselect, timeout 30 ms: %d, B %d\n", r, FD_ISSET(b[0], &rd));
    sigprocmask(SIG_SETMASK, &old, NULL);

    /* The writer closes: POLLHUP, with nothing left to read. */
    go(ctl[1], 'q');
    p[0].events = POLLIN;
    r = poll(p, 1, 20000);
    show("poll, child closed A", r, p, 1);
    int st;
    printf("child exited %d\n", waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1);

    /* No reader: POLLERR (and POLLOUT) on the write end. */
    close(b[0]);
    struct pollfd q[3] = { { b[1], POLLOUT, 0 }, { b[0], POLLIN, 0 }, { -1, POLLIN, 0 } };
    r = poll(q, 3, 0);
    show("poll, B's reader closed, B closed, -1", r, q, 3);
    FD_ZERO(&rd);
    FD_SET(b[0], &rd);
    tv.tv_sec = 0; tv.tv_usec = 0;
    r = select(b[0] + 1, &rd, NULL, NULL, &tv);
    printf("select, closed fd: %d (%s)\n", r, r < 0 ? strerror(errno) : "-");
    return 0;
}
