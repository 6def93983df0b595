/* Process groups: three children put in a group of their own (setpgid in
 * the child and in the parent, the usual race-free way), killed as one
 * with kill(-pgid, SIGKILL) and reaped with waitpid(-pgid); two more in a
 * second group ended by kill(-pgid, SIGTERM) while they sleep; a child left
 * in the parent's group lives on and is reaped with waitpid(0). Never
 * kill(0) or kill(-1) here: natively they would reach the test harness. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static const char *err(int e)
{
    return e == ESRCH ? "ESRCH" : e == ECHILD ? "ECHILD" : e == EPERM ? "EPERM" : strerror(e);
}

/* Forks a child that joins group `pgid` (0: a group of its own) and then
 * blocks reading `fd` (sleeping: sleeps until killed). */
static pid_t member(pid_t pgid, int fd, int close_fd, int sleeping)
{
    pid_t pid = fork();
    if (pid == 0) {
        close(close_fd);
        setpgid(0, pgid);
        if (sleeping) {
            struct timespec t = { 0, 20 * 1000 * 1000 };
            for (;;)
                nanosleep(&t, NULL);
        }
        char c;
        ssize_t n = read(fd, &c, 1);
        _exit(n == 0 ? 3 : 4);
    }
    if (pid > 0)
        setpgid(pid, pgid ? pgid : pid);
    return pid;
}

int main(void)
{
    int hold[2];
    if (pipe(hold) != 0) return 1;
    pid_t kids[3], pgid = 0;
    for (int i = 0; i < 3; i++) {
        kids[i] = member(pgid, hold[0], hold[1], 0);
        if (kids[i] < 0) { perror("fork"); return 2; }
        if (!pgid) pgid = kids[i];
    }
    pid_t other = fork();
    if (other == 0) {
        close(hold[1]);
        char c;
        _exit(read(hold[0], &c, 1) == 0 ? 3 : 4);
    }
    printf("the first child leads the group: %s\n", getpgid(kids[0]) == kids[0] ? "yes" : "no");
    printf("all three in it: %s\n",
           getpgid(kids[1]) == pgid && getpgid(kids[2]) == pgid ? "yes" : "no");
    printf("the other child in the parent's group: %s\n",
           getpgid(other) == getpgrp() ? "yes" : "no");
    printf("probe the group: %d\n", kill(-pgid, 0));
    printf("kill(-pgid, SIGKILL): %d\n", kill(-pgid, SIGKILL));
    int reaped = 0, all_killed = 1, st;
    for (int i = 0; i < 3; i++) {
        pid_t w = waitpid(-pgid, &st, 0);
        int mine = w == kids[0] || w == kids[1] || w == kids[2];
        if (w > 0 && mine) reaped++;
        if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)) all_killed = 0;
    }
    printf("reaped %d of the group, all by SIGKILL: %s\n", reaped, all_killed ? "yes" : "no");
    int r = (int)waitpid(-pgid, &st, WNOHANG);
    printf("waitpid(-pgid) again: %d %s\n", r, err(errno));
    r = kill(-pgid, 0);
    printf("kill(-pgid, 0) now: %d %s\n", r, err(errno));

    /* A second group, sleeping: SIGTERM's default action ends both. */
    pid_t a = member(0, hold[0], hold[1], 1);
    pid_t b = member(a, hold[0], hold[1], 1);
    printf("kill(-pgid2, SIGTERM): %d\n", kill(-a, SIGTERM));
    int termed = 0;
    for (int i = 0; i < 2; i++) {
        pid_t w = waitpid(-a, &st, 0);
        if ((w == a || w == b) && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM) termed++;
    }
    printf("second group ended by SIGTERM: %d of 2\n", termed);

    /* The other child was never signalled: it ends when the pipe closes. */
    close(hold[1]);
    pid_t w = waitpid(0, &st, 0);
    printf("waitpid(0) reaps the other child: %s, exit %d\n", w == other ? "yes" : "no",
           WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
