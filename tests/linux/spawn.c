/* posix_spawn with file actions (the child's stdin and stdout are pipes:
 * dup2), of a missing program, and a SIGCHLD handler. musl's posix_spawn
 * is clone(CLONE_VM | CLONE_VFORK) and exec. */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

extern char **environ;
static volatile sig_atomic_t chld;

static void on_chld(int sig)
{
    (void)sig;
    chld++;
}

int main(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_chld;
    sigaction(SIGCHLD, &sa, NULL);

    /* posix_spawn, stdout onto a pipe. */
    int p[2];
    pipe(p);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    posix_spawn_file_actions_addclose(&fa, p[1]);
    char *argv[] = {"busybox", "tr", "a-z", "A-Z", NULL};
    int in[2];
    pipe(in);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_addclose(&fa, in[0]);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    pid_t pid;
    int r = posix_spawn(&pid, "/bin/busybox", &fa, NULL, argv, environ);
    printf("posix_spawn: %d\n", r);
    close(p[1]);
    close(in[0]);
    write(in[1], "spawned through a pipe\n", 23);
    close(in[1]);
    char buf[128];
    ssize_t n, total = 0;
    while ((n = read(p[0], buf + total, sizeof buf - 1 - total)) > 0)
        total += n;
    buf[total] = 0;
    printf("the child wrote: %s", buf);
    int st;
    printf("waitpid same pid: %s\n", waitpid(pid, &st, 0) == pid ? "yes" : "no");
    printf("exit code %d\n", WEXITSTATUS(st));

    r = posix_spawn(&pid, "/no/such", NULL, NULL, argv, environ);
    printf("posix_spawn of a missing program: %s\n", r == ENOENT ? "ENOENT" : strerror(r));

    /* A SIGCHLD handler ran for the children (at least once). */
    printf("SIGCHLD handled: %s\n", chld > 0 ? "yes" : "no");
    return 0;
}
