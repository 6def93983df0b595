/* Stop and continue: a child that writes a byte every 20 ms is stopped
 * with SIGSTOP, seen stopped by waitpid(WUNTRACED), writes nothing for
 * 300 ms, is continued (waitpid(WCONTINUED)), writes again and exits 7. A
 * second child, in a group of its own, stops itself with raise(SIGTSTP)
 * (the default action),
 * seen by waitpid and then by waitid(WCONTINUED). A SIGCHLD handler sees
 * CLD_STOPPED and CLD_CONTINUED. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static volatile sig_atomic_t stops, conts;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    if (si->si_code == CLD_STOPPED) stops++;
    if (si->si_code == CLD_CONTINUED) conts++;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* Sleeps `s` seconds whatever signals come. */
static void pause_for(double s)
{
    double until = now() + s;
    while (now() < until) {
        struct timespec t = { 0, 10 * 1000 * 1000 };
        nanosleep(&t, NULL);
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);

    int data[2], ctl[2];
    pipe(data);
    pipe(ctl);
    pid_t pid = fork();
    if (pid == 0) {
        close(data[0]);
        close(ctl[1]);
        fcntl(ctl[0], F_SETFL, O_NONBLOCK);
        for (;;) {
            char c;
            if (read(ctl[0], &c, 1) == 0) _exit(7);
            write(data[1], "x", 1);
            struct timespec t = { 0, 20 * 1000 * 1000 };
            nanosleep(&t, NULL);
        }
    }
    close(data[1]);
    close(ctl[0]);
    char buf[256];
    printf("the child writes: %s\n", read(data[0], buf, 1) == 1 ? "yes" : "no");

    int st;
    kill(pid, SIGSTOP);
    pid_t w = waitpid(pid, &st, WUNTRACED);
    printf("waitpid(WUNTRACED): stopped by SIGSTOP: %s\n",
           w == pid && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP ? "yes" : "no");
    printf("reported once: %d\n", (int)waitpid(pid, &st, WUNTRACED | WNOHANG));
    fcntl(data[0], F_SETFL, O_NONBLOCK);
    while (read(data[0], buf, sizeof buf) > 0) {}
    pause_for(0.3);
    ssize_t n = read(data[0], buf, sizeof buf);
    printf("bytes written while stopped: %d (%s)\n", n < 0 ? 0 : (int)n,
           n < 0 && errno == EAGAIN ? "EAGAIN" : "data");

    kill(pid, SIGCONT);
    w = waitpid(pid, &st, WCONTINUED);
    printf("waitpid(WCONTINUED): continued: %s\n", w == pid && WIFCONTINUED(st) ? "yes" : "no");
    fcntl(data[0], F_SETFL, 0);
    printf("writes again: %s\n", read(data[0], buf, 1) == 1 ? "yes" : "no");
    close(ctl[1]);
    w = waitpid(pid, &st, 0);
    printf("then exits: %d\n", w == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    close(data[0]);

    /* A child that stops itself. */
    int hold[2];
    pipe(hold);
    pid_t self = fork();
    if (self == 0) {
        close(hold[1]);
        /* A group of its own, whose parent is in another group of the
         * session: not orphaned, so SIGTSTP's default action applies
         * (POSIX discards it in an orphaned group). */
        setpgid(0, 0);
        raise(SIGTSTP);
        char c;
        while (read(hold[0], &c, 1) > 0) {}
        _exit(3);
    }
    close(hold[0]);
    w = waitpid(self, &st, WUNTRACED);
    printf("raise(SIGTSTP) stops it: %s\n",
           w == self && WIFSTOPPED(st) && WSTOPSIG(st) == SIGTSTP ? "yes" : "no");
    kill(self, SIGCONT);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = waitid(P_PID, self, &si, WEXITED | WCONTINUED);
    printf("waitid: %d, CLD_CONTINUED %s, status SIGCONT %s\n", r,
           si.si_code == CLD_CONTINUED ? "yes" : "no", si.si_status == SIGCONT ? "yes" : "no");
    close(hold[1]);
    memset(&si, 0, sizeof si);
    r = waitid(P_PID, self, &si, WEXITED);
    printf("waitid: %d, CLD_EXITED %s, status %d\n", r, si.si_code == CLD_EXITED ? "yes" : "no",
           si.si_status);
    printf("SIGCHLD saw a stop: %s, a continue: %s\n", stops > 0 ? "yes" : "no",
           conts > 0 ? "yes" : "no");
    return 0;
}
