/* fork, exec and wait; built with musl and with glibc's gcc -static. */
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>

int main(void)
{
    printf("parent before fork\n");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/busybox", "busybox", "echo", "the child execs busybox", (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child exited %d with %d\n", WIFEXITED(st), WEXITSTATUS(st));
    return 0;
}
