/* fork, pipe and waitpid: the child writes to the pipe and exits with 7,
 * the parent reads to the end of file and reaps it. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

int main(void)
{
    int p[2];
    if (pipe(p) != 0) return 1;
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 2; }
    if (pid == 0) {
        close(p[0]);
        const char *m = "hello from the child\n";
        write(p[1], m, strlen(m));
        _exit(7);
    }
    close(p[1]);
    char buf[128];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0)
        fwrite(buf, 1, n, stdout);
    int st;
    pid_t w = waitpid(pid, &st, 0);
    printf("waitpid: same pid %s, exited %d, code %d\n", w == pid ? "yes" : "no",
           WIFEXITED(st), WEXITSTATUS(st));
    return 0;
}
