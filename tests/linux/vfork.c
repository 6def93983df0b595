/* vfork: the child runs in the parent's memory until it exits or execs;
 * the parent resumes with the child's pid. */
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>

int main(void)
{
    int st;
    static volatile int shared = 1;
    static volatile pid_t child_pid;
    /* vfork + _exit: the parent resumes with the pid. */
    pid_t v = vfork();
    if (v == 0) {
        shared = 2;
        child_pid = getpid();
        _exit(42);
    }
    printf("vfork child exited: same pid %s", waitpid(v, &st, 0) == v ? "yes" : "no");
    printf(", code %d\n", WEXITSTATUS(st));
    printf("getpid in the child was its pid: %s\n", child_pid == v ? "yes" : "no");

    /* vfork + exec. */
    fflush(stdout);
    v = vfork();
    if (v == 0) {
        char *a[] = {"busybox", "echo", "vfork and exec", NULL};
        execv("/bin/busybox", a);
        _exit(127);
    }
    waitpid(v, &st, 0);
    printf("vfork+exec child code %d\n", WEXITSTATUS(st));

    printf("the child's write to memory is the parent's: %s\n", shared == 2 ? "yes" : "no");
    return 0;
}
