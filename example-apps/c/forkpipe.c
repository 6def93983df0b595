/* forkpipe [N]: the classic pipe + fork program. The child writes N
 * messages (default 5) into a pipe; the parent reads them, prints each
 * line, and reaps the child with waitpid. Parent and child are separate
 * unikernel VMs: fork() copies the parent's memory into a new VM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5;
    int fd[2];
    if (pipe(fd) == -1) {
        perror("pipe");
        return 1;
    }

    pid_t pid = fork();
    if (pid == -1) {
        perror("fork");
        return 1;
    }

    if (pid == 0) {
        /* Child: write the messages, then exit. */
        close(fd[0]);
        for (int i = 1; i <= n; i++) {
            char msg[80];
            int len = snprintf(msg, sizeof msg, "message %d of %d from child %d (parent %d)\n", i, n,
                               (int)getpid(), (int)getppid());
            if (write(fd[1], msg, (size_t)len) != len) {
                perror("write");
                _exit(1);
            }
        }
        close(fd[1]);
        _exit(0);
    }

    /* Parent: read until EOF (the child's exit closes the last write end),
     * printing whole lines. */
    close(fd[1]);
    char buf[512];
    size_t have = 0;
    ssize_t got;
    int lines = 0;
    while ((got = read(fd[0], buf + have, sizeof buf - 1 - have)) > 0) {
        have += (size_t)got;
        buf[have] = 0;
        char *start = buf, *nl;
        while ((nl = strchr(start, '\n')) != NULL) {
            *nl = 0;
            printf("parent %d got: %s\n", (int)getpid(), start);
            lines++;
            start = nl + 1;
        }
        have = strlen(start);
        memmove(buf, start, have);
    }
    close(fd[0]);

    int status;
    if (waitpid(pid, &status, 0) != pid) {
        perror("waitpid");
        return 1;
    }
    printf("child %d exited with status %d; %d lines\n", (int)pid,
           WIFEXITED(status) ? WEXITSTATUS(status) : -1, lines);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 && lines == n ? 0 : 1;
}
