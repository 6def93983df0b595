/* Signals that arrive while a process waits, each case compared with a
 * native run: handlers, masks and sigsuspend; EINTR and SA_RESTART on a
 * blocked pipe read; an interrupted write's partial count; SIGCHLD-driven
 * reaping; alarm, pause and setitimer. `sigdeliver CASE`.
 *
 * Timing: where another process sends the signal it first sleeps long
 * enough (500 ms) that the receiver is certainly blocked by then. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t count, alarms, flag;

static void on_sig(int s)
{
    (void)s;
    count++;
}

static void on_alrm(int s)
{
    (void)s;
    alarms++;
    flag = 1;
}

static void handle(int sig, void (*h)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) {
        perror("sigaction");
        exit(2);
    }
}

static const char *ename(int e)
{
    return e == EINTR ? "EINTR" : e == EAGAIN ? "EAGAIN" : strerror(e);
}

/* A child that sleeps `ms`, sends `sig` to its parent, sleeps `ms2` and
 * writes `data` (if any) to `fd`. */
static pid_t sender(int sig, int ms, int ms2, int fd, const char *data)
{
    pid_t parent = getpid();
    pid_t c = fork();
    if (c == 0) {
        usleep(ms * 1000);
        kill(parent, sig);
        if (data) {
            usleep(ms2 * 1000);
            if (write(fd, data, strlen(data)) < 0)
                _exit(1);
        }
        _exit(0);
    }
    return c;
}

static void masks(void)
{
    handle(SIGUSR1, on_sig, 0);
    sigset_t set, old, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    pid_t c = sender(SIGUSR1, 100, 0, -1, NULL);
    waitpid(c, NULL, 0);
    sigpending(&pend);
    printf("blocked while sent: handler ran %d, pending %s\n", (int)count,
           sigismember(&pend, SIGUSR1) ? "yes" : "no");
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: handler ran %d\n", (int)count);
    /* SA_RESETHAND: the second signal takes the default action (SIGURG's
     * is to ignore it). */
    handle(SIGURG, on_sig, SA_RESETHAND);
    raise(SIGURG);
    raise(SIGURG);
    printf("SA_RESETHAND: handler ran %d\n", (int)count);
}

static void suspend(void)
{
    handle(SIGUSR1, on_sig, 0);
    sigset_t set, empty, now;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &set, NULL);
    pid_t c = sender(SIGUSR1, 500, 0, -1, NULL);
    int r = sigsuspend(&empty);
    int e = errno;
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("sigsuspend returned %d (%s), handler ran %d, SIGUSR1 blocked again %s\n", r,
           ename(e), (int)count, sigismember(&now, SIGUSR1) ? "yes" : "no");
    waitpid(c, NULL, 0);
}

static void eintr(int restart)
{
    int p[2];
    if (pipe(p) != 0)
        exit(2);
    handle(SIGUSR1, on_sig, restart ? SA_RESTART : 0);
    count = 0;
    pid_t c = sender(SIGUSR1, 500, 300, p[1], "x");
    close(p[1]);
    char b[8];
    ssize_t n = read(p[0], b, sizeof b);
    int e = errno;
    printf("%s: read returned %zd%s%s, handler ran %d\n", restart ? "SA_RESTART" : "no SA_RESTART",
           n, n < 0 ? " " : "", n < 0 ? ename(e) : "", (int)count);
    if (n < 0) {
        n = read(p[0], b, sizeof b);
        printf("read again: %zd\n", n);
    }
    waitpid(c, NULL, 0);
    close(p[0]);
}

static void partial(void)
{
    int p[2], back[2];
    if (pipe(p) != 0 || pipe(back) != 0)
        exit(2);
    handle(SIGUSR1, on_sig, 0);
    pid_t parent = getpid();
    pid_t c = fork();
    if (c == 0) {
        close(p[1]);
        close(back[0]);
        usleep(500 * 1000);
        kill(parent, SIGUSR1);
        long total = 0;
        char b[65536];
        ssize_t n;
        while ((n = read(p[0], b, sizeof b)) > 0)
            total += n;
        if (write(back[1], &total, sizeof total) != sizeof total)
            _exit(1);
        _exit(0);
    }
    close(p[0]);
    close(back[1]);
    size_t want = 4 << 20;
    char *buf = malloc(want);
    memset(buf, 'z', want);
    ssize_t n = write(p[1], buf, want);
    printf("write of 4 MiB returned a partial count: %s\n",
           n > 0 && (size_t)n < want ? "yes" : "no");
    close(p[1]);
    long total = -1;
    if (read(back[0], &total, sizeof total) != sizeof total)
        total = -2;
    printf("the reader got exactly that many bytes: %s\n", total == n ? "yes" : "no");
    waitpid(c, NULL, 0);
}

static int codes[8];
static volatile sig_atomic_t reaped;

static void on_chld(int s)
{
    (void)s;
    int st;
    pid_t p;
    int saved = errno;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0)
        codes[reaped++] = WEXITSTATUS(st);
    errno = saved;
}

static void sigchld(void)
{
    sigset_t set, empty;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &set, NULL);
    handle(SIGCHLD, on_chld, SA_RESTART);
    for (int i = 0; i < 3; i++) {
        if (fork() == 0) {
            usleep(100 * 1000 * i);
            _exit(10 + i);
        }
    }
    while (reaped < 3)
        sigsuspend(&empty);
    int seen = 0;
    for (int i = 0; i < 3; i++)
        seen |= 1 << (codes[i] - 10);
    printf("SIGCHLD handler reaped %d children, codes 10 11 12: %s\n", (int)reaped,
           seen == 7 ? "yes" : "no");
    printf("none left: %s\n", waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD ? "yes" : "no");
}

static void alarm_case(void)
{
    handle(SIGALRM, on_alrm, 0);
    alarm(1);
    int r = pause();
    int e = errno;
    printf("pause: %d (%s), alarms %d\n", r, ename(e), (int)alarms);
    alarm(10);
    printf("alarm(0) after alarm(10): %u\n", alarm(0));
    /* An alarm interrupts a blocked pipe read (no SA_RESTART). */
    int p[2];
    if (pipe(p) != 0)
        exit(2);
    alarm(1);
    char b[4];
    ssize_t n = read(p[0], b, sizeof b);
    e = errno;
    printf("read: %zd (%s), alarms %d\n", n, ename(e), (int)alarms);
    /* ... and a program that only computes. */
    flag = 0;
    alarm(1);
    unsigned long spins = 0;
    while (!flag)
        spins++;
    printf("busy loop ended by the alarm: %s, alarms %d\n", spins > 0 ? "yes" : "no",
           (int)alarms);
    /* An interval timer: three more expiries, then disarmed. */
    struct itimerval it = {{0, 100000}, {0, 100000}}, cur;
    setitimer(ITIMER_REAL, &it, NULL);
    while (alarms < 6)
        pause();
    memset(&it, 0, sizeof it);
    setitimer(ITIMER_REAL, &it, NULL);
    getitimer(ITIMER_REAL, &cur);
    printf("interval timer: alarms %d, disarmed %s\n", (int)alarms,
           cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0 ? "yes" : "no");
    /* nanosleep is cut short by a handled alarm, with the time left. */
    alarm(1);
    struct timespec req = {5, 0}, rem = {0, 0};
    r = nanosleep(&req, &rem);
    e = errno;
    printf("nanosleep: %d (%s), time left between 3 and 5 s: %s\n", r, ename(e),
           rem.tv_sec >= 3 && rem.tv_sec < 5 ? "yes" : "no");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *c = argc > 1 ? argv[1] : "";
    if (!strcmp(c, "masks"))
        masks();
    else if (!strcmp(c, "sigsuspend"))
        suspend();
    else if (!strcmp(c, "eintr")) {
        eintr(0);
        eintr(1);
    } else if (!strcmp(c, "partial"))
        partial();
    else if (!strcmp(c, "sigchld"))
        sigchld();
    else if (!strcmp(c, "alarm"))
        alarm_case();
    else {
        fprintf(stderr, "usage: sigdeliver masks|sigsuspend|eintr|partial|sigchld|alarm\n");
        return 2;
    }
    return 0;
}
