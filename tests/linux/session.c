/* Sessions and groups: getpgrp, getpgid, getsid and setpgid, setsid with
 * their errors (ESRCH, EINVAL, EPERM, EACCES after the child exec'd), and
 * what children inherit. The top process never calls setsid: natively it
 * leads a process group of the test harness's, in the guest group 1. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

static const char *err(int e)
{
    switch (e) {
    case 0: return "ok";
    case ESRCH: return "ESRCH";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    default: return strerror(e);
    }
}

#define TRY(what, call) do { errno = 0; int r_ = (call); \
    printf("%s: %s\n", what, r_ == -1 ? err(errno) : "ok"); } while (0)

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "execd") == 0) {
        /* The exec'd child: say so on fd 3, wait for fd 4 to close. */
        char c = 'x';
        write(3, &c, 1);
        while (read(4, &c, 1) > 0) {}
        return 0;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t pgrp = getpgrp(), sid = getsid(0);
    printf("getpgrp is getpgid(0) and getpgid(getpid()): %s\n",
           pgrp == getpgid(0) && pgrp == getpgid(getpid()) ? "yes" : "no");
    printf("getsid(0) is getsid(getpid()): %s\n", sid == getsid(getpid()) ? "yes" : "no");
    TRY("setpgid(0, -1)", setpgid(0, -1));
    TRY("getpgid(-5)", getpgid(-5));

    /* A reaped child's pid names no process. */
    pid_t gone = fork();
    if (gone == 0) _exit(0);
    waitpid(gone, NULL, 0);
    TRY("getpgid(reaped)", getpgid(gone));
    TRY("getsid(reaped)", getsid(gone));
    TRY("setpgid(reaped, 0)", setpgid(gone, 0));

    /* Child A: inherits both, then starts a session of its own. */
    int ready[2], done[2];
    pipe(ready);
    pipe(done);
    pid_t a = fork();
    if (a == 0) {
        close(ready[0]);
        close(done[1]);
        printf("child: in the parent's group and session: %s\n",
               getpgid(0) == pgrp && getsid(0) == sid ? "yes" : "no");
        printf("child: setsid returns its pid: %s\n", setsid() == getpid() ? "yes" : "no");
        printf("child: leads its session and group: %s\n",
               getsid(0) == getpid() && getpgrp() == getpid() ? "yes" : "no");
        TRY("child: setsid again", setsid());
        TRY("child: setpgid(0, parent's group)", setpgid(0, pgrp));
        char c = 'r';
        write(ready[1], &c, 1);
        while (read(done[0], &c, 1) > 0) {}
        _exit(0);
    }
    close(ready[1]);
    char c;
    read(ready[0], &c, 1);
    printf("parent: getsid(child) is the child: %s\n", getsid(a) == a ? "yes" : "no");
    TRY("parent: setpgid(child in another session)", setpgid(a, a));

    /* Child B: a group of its own from the parent, then a group that does
     * not exist in the session. */
    pid_t b = fork();
    if (b == 0) {
        close(done[1]);
        while (read(done[0], &c, 1) > 0) {}
        _exit(0);
    }
    TRY("parent: setpgid(child, child)", setpgid(b, b));
    printf("parent: the child leads a group now: %s\n", getpgid(b) == b ? "yes" : "no");
    TRY("parent: setpgid(child, a group of another session)", setpgid(b, a));
    TRY("parent: setpgid(child, no such group)", setpgid(b, gone));
    TRY("parent: setpgid(child, back to the parent's group)", setpgid(b, pgrp));

    /* Child C exec's: the parent may no longer move it. */
    int up[2];
    pipe(up);
    pid_t cpid = fork();
    if (cpid == 0) {
        close(done[1]);
        dup2(up[1], 3);
        dup2(done[0], 4);
        execlp("session", "session", "execd", (char *)NULL);
        _exit(127);
    }
    close(up[1]);
    printf("parent: the exec'd child is up: %s\n", read(up[0], &c, 1) == 1 ? "yes" : "no");
    TRY("parent: setpgid(exec'd child)", setpgid(cpid, cpid));

    close(done[1]);
    int ok = 1, st;
    pid_t kids[3] = { a, b, cpid };
    for (int i = 0; i < 3; i++)
        if (waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0) ok = 0;
    printf("children exited 0: %s\n", ok ? "yes" : "no");
    return 0;
}
