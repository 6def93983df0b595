/* umask: a process's umask reaches its children however they start:
 * posix_spawnp (vfork + exec in musl), vfork + execvp, fork, and fork +
 * execvp. Each child prints the umask it found. */
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void reap(pid_t pid, const char *how) {
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        printf("%s: failed\n", how);
    }
}

int main(int argc, char **argv) {
    if (argc > 2 && strcmp(argv[1], "child") == 0) {
        mode_t m = umask(0);
        printf("%s child: umask %03o\n", argv[2], (unsigned)m);
        return 0;
    }
    umask(027);
    pid_t pid;
    char *spawned[] = {"umask", "child", "posix_spawnp", NULL};
    if (posix_spawnp(&pid, "umask", NULL, NULL, spawned, environ) != 0) {
        pid = -1;
    }
    reap(pid, "posix_spawnp");
    fflush(stdout);
    pid = vfork();
    if (pid == 0) {
        execlp("umask", "umask", "child", "vfork+exec", (char *)NULL);
        _exit(127);
    }
    reap(pid, "vfork+exec");
    umask(077);
    pid = fork();
    if (pid == 0) {
        printf("fork child: umask %03o\n", (unsigned)umask(0));
        fflush(stdout);
        _exit(0);
    }
    reap(pid, "fork");
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        execlp("umask", "umask", "child", "fork+exec", (char *)NULL);
        _exit(127);
    }
    reap(pid, "fork+exec");
    printf("parent: umask %03o\n", (unsigned)umask(0));
    return 0;
}
