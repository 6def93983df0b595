/* The pool's probe (tests/tests/pool.rs). As the root it reads commands
 * from stdin, so a test can wait until the daemon's pool is ready before
 * each one:
 *   identity   posix_spawn, vfork+execve and fork a child each; every
 *              child prints who it is (pid, ppid, argv, env, working
 *              directory, umask, its fds and what they are; the fork child
 *              also a checksum of memory its parent filled)
 *   burst N    posix_spawn N children at once, then wait for them all
 *   spawn      posix_spawn one child and wait for it
 * and exits at end of input. As a child (argv[1] = "child") it prints its
 * identity and exits 7; argv[1] = "quiet" exits 0 at once. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

extern char **environ;

#define MEM_BYTES (1 << 20)

static unsigned checksum(const unsigned char *p, size_t n)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void identity(int argc, char **argv)
{
    printf("pid %d ppid %d\n", (int)getpid(), (int)getppid());
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    for (char **e = environ; *e; e++)
        printf("env %s\n", *e);
    char cwd[256];
    printf("cwd %s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
    mode_t m = umask(0);
    umask(m);
    printf("umask %03o\n", (unsigned)m);
    for (int fd = 0; fd < 16; fd++) {
        int fdfl = fcntl(fd, F_GETFD);
        if (fdfl < 0)
            continue;
        int fl = fcntl(fd, F_GETFL);
        struct stat st;
        const char *kind = "?";
        if (fstat(fd, &st) == 0)
            kind = S_ISFIFO(st.st_mode) ? "pipe"
                 : S_ISCHR(st.st_mode)  ? "chr"
                 : S_ISREG(st.st_mode)  ? "file"
                 : S_ISDIR(st.st_mode)  ? "dir"
                                        : "other";
        printf("fd %d %s acc %d cloexec %d\n", fd, kind, fl & O_ACCMODE,
               (fdfl & FD_CLOEXEC) != 0);
    }
    fflush(stdout);
}

static int wait_status(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void do_identity(void)
{
    /* What a child inherits: a pipe at fd 5, a close-on-exec fd 6, a
     * working directory and a umask. */
    int p[2];
    if (pipe(p) != 0 || dup2(p[1], 5) < 0)
        exit(2);
    close(p[0]);
    close(p[1]);
    int ce = open("/etc/fruits", O_RDONLY | O_CLOEXEC);
    if (ce < 0 || dup2(ce, 6) < 0 || fcntl(6, F_SETFD, FD_CLOEXEC) < 0)
        exit(2);
    close(ce);
    if (chdir("/data") != 0)
        exit(2);
    umask(027);
    char *env[] = {"A=1", "B=two words", NULL};

    char *sargv[] = {"pool_probe", "child", "spawned", "a b", NULL};
    pid_t pid;
    fflush(stdout);
    int r = posix_spawn(&pid, "/bin/pool_probe", NULL, NULL, sargv, env);
    printf("posix_spawn %d: child %d exited %d\n", r, (int)pid, r ? -1 : wait_status(pid));

    char *vargv[] = {"pool_probe", "child", "vforked", NULL};
    fflush(stdout);
    pid = vfork();
    if (pid == 0) {
        execve("/bin/pool_probe", vargv, env);
        _exit(127);
    }
    printf("vfork+execve: child %d exited %d\n", (int)pid, wait_status(pid));

    unsigned char *mem = malloc(MEM_BYTES);
    for (size_t i = 0; i < MEM_BYTES; i++)
        mem[i] = (unsigned char)(i * 7 + (i >> 12));
    unsigned sum = checksum(mem, MEM_BYTES);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        char *fargv[] = {"pool_probe", "child", "forked", NULL};
        printf("fork child: memory %s\n",
               checksum(mem, MEM_BYTES) == sum ? "as the parent left it" : "CHANGED");
        identity(3, fargv);
        _exit(7);
    }
    printf("fork: child %d exited %d\n", (int)pid, wait_status(pid));
    free(mem);
}

static void do_burst(int n)
{
    pid_t pids[64];
    if (n > 64)
        n = 64;
    char *qargv[] = {"pool_probe", "quiet", NULL};
    int started = 0;
    for (int i = 0; i < n; i++)
        if (posix_spawn(&pids[started], "/bin/pool_probe", NULL, NULL, qargv, environ) == 0)
            started++;
    int ok = 0;
    for (int i = 0; i < started; i++)
        ok += wait_status(pids[i]) == 0;
    printf("burst %d: %d started, %d exited 0\n", n, started, ok);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        identity(argc, argv);
        return 7;
    }
    if (argc > 1 && strcmp(argv[1], "quiet") == 0)
        return 0;
    char line[128];
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "identity", 8) == 0) {
            do_identity();
        } else if (strncmp(line, "burst ", 6) == 0) {
            do_burst(atoi(line + 6));
        } else if (strncmp(line, "spawn", 5) == 0) {
            char *qargv[] = {"pool_probe", "quiet", NULL};
            pid_t pid;
            int r = posix_spawn(&pid, "/bin/pool_probe", NULL, NULL, qargv, environ);
            printf("spawn %d: exited %d\n", r, r ? -1 : wait_status(pid));
        }
        printf("ready\n");
        fflush(stdout);
    }
    return 0;
}
