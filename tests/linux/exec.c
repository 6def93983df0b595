/* execv and execvp of another program, dup2 onto stdout before exec, and
 * an exec that fails (ENOENT) returning to the caller. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

static int run(const char *what, void (*child)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        child();
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("%s: exited %d code %d\n", what, WIFEXITED(st), WEXITSTATUS(st));
    return 0;
}

static void do_execv(void)
{
    char *argv[] = {"echo", "from", "execv", NULL};
    execv("/bin/busybox", argv);
}

static void do_execvp(void)
{
    char *argv[] = {"busybox", "echo", "from", "execvp", NULL};
    execvp("busybox", argv);
}

static void do_dup2(void)
{
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        char *argv[] = {"busybox", "echo", "through the pipe", NULL};
        execv("/bin/busybox", argv);
        _exit(127);
    }
    close(p[1]);
    char buf[128];
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("read from the child's stdout: %s", buf);
    int st;
    waitpid(pid, &st, 0);
    exit(WEXITSTATUS(st));
}

int main(void)
{
    char *argv[] = {"nothing", NULL};
    int r = execv("/no/such/program", argv);
    printf("execv of a missing program: %d %s\n", r, errno == ENOENT ? "ENOENT" : strerror(errno));
    r = execv("/etc", argv);
    printf("execv of a directory: %d %s\n", r, errno == EACCES ? "EACCES" : strerror(errno));
    run("execv", do_execv);
    run("execvp", do_execvp);
    run("dup2 onto stdout", do_dup2);
    int fd = open("/bin/busybox", O_RDONLY | O_CLOEXEC);
    printf("O_CLOEXEC fd %d, FD_CLOEXEC %d\n", fd, fcntl(fd, F_GETFD));
    return 0;
}
