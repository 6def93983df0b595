/* probe MODE [ARGS]: small guest programs for the end-to-end tests
 * (tests/tests/e2e.rs). Each mode prints one result line on stdout.
 *
 *   eof N        spawn `probe write N` with its stdout on a pipe, close our
 *                write end, read until EOF: "eof after N bytes"
 *   write N      write N bytes of 'x' to stdout, exit 0
 *   epipe        spawn `probe exit 0` holding the read end, close ours, wait
 *                for it, then write: "epipe errno=32"
 *   exit CODE    exit with CODE
 *   status CODE  spawn `probe exit CODE`, waitpid: "exited CODE"
 *   crash        spawn `crash abort`, waitpid: "signaled 6"
 *   block SECS   spawn `probe reader` on a pipe we hold open, print
 *                "blocked pid P", sleep SECS, write one byte, wait
 *   reader       read one byte from stdin: "reader got 1"
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t spawn_with(char *const argv[], int in_fd, int out_fd, int close_a, int close_b)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (in_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
    if (close_a >= 0)
        posix_spawn_file_actions_addclose(&fa, close_a);
    if (close_b >= 0)
        posix_spawn_file_actions_addclose(&fa, close_b);
    pid_t pid;
    int err = posix_spawn(&pid, argv[0], &fa, NULL, argv, NULL);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0) {
        printf("spawn %s failed: %s\n", argv[0], strerror(err));
        exit(2);
    }
    return pid;
}

static int wait_for(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid) {
        perror("waitpid");
        exit(2);
    }
    return status;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    const char *arg = argc > 2 ? argv[2] : "0";
    int p[2];

    if (strcmp(mode, "write") == 0) {
        int n = atoi(arg);
        char buf[512];
        memset(buf, 'x', sizeof buf);
        while (n > 0) {
            int k = n < (int)sizeof buf ? n : (int)sizeof buf;
            if (write(STDOUT_FILENO, buf, k) != k)
                return 3;
            n -= k;
        }
        return 0;
    }
    if (strcmp(mode, "exit") == 0)
        return atoi(arg);
    if (strcmp(mode, "reader") == 0) {
        char c;
        ssize_t n = read(STDIN_FILENO, &c, 1);
        printf("reader got %d\n", (int)n);
        return n == 1 ? 0 : 1;
    }
    if (strcmp(mode, "eof") == 0) {
        pipe(p);
        char *child[] = {"probe", "write", (char *)arg, NULL};
        pid_t pid = spawn_with(child, -1, p[1], p[0], p[1]);
        close(p[1]);
        long total = 0;
        char buf[1024];
        ssize_t n;
        while ((n = read(p[0], buf, sizeof buf)) > 0)
            total += n;
        if (n < 0)
            perror("read");
        int status = wait_for(pid);
        printf("eof after %ld bytes, writer status %d\n", total, WEXITSTATUS(status));
        return 0;
    }
    if (strcmp(mode, "epipe") == 0) {
        signal(SIGPIPE, SIG_IGN);
        pipe(p);
        char *child[] = {"probe", "exit", "0", NULL};
        pid_t pid = spawn_with(child, p[0], -1, p[0], p[1]);
        close(p[0]);
        wait_for(pid);
        ssize_t n = write(p[1], "x", 1);
        printf("epipe result %d errno=%d\n", (int)n, n < 0 ? errno : 0);
        return 0;
    }
    if (strcmp(mode, "status") == 0) {
        char *child[] = {"probe", "exit", (char *)arg, NULL};
        int status = wait_for(spawn_with(child, -1, -1, -1, -1));
        if (WIFEXITED(status))
            printf("exited %d\n", WEXITSTATUS(status));
        else
            printf("status %#x\n", status);
        return 0;
    }
    if (strcmp(mode, "crash") == 0) {
        char *child[] = {"crash", "abort", NULL};
        int status = wait_for(spawn_with(child, -1, -1, -1, -1));
        if (WIFSIGNALED(status))
            printf("signaled %d\n", WTERMSIG(status));
        else
            printf("status %#x\n", status);
        return 0;
    }
    if (strcmp(mode, "block") == 0) {
        pipe(p);
        char *child[] = {"probe", "reader", NULL};
        pid_t pid = spawn_with(child, p[0], -1, p[0], p[1]);
        close(p[0]);
        printf("blocked pid %d\n", (int)pid);
        fflush(stdout);
        sleep(atoi(arg));
        write(p[1], "!", 1);
        int status = wait_for(pid);
        printf("reader status %d\n", WEXITSTATUS(status));
        return 0;
    }
    if (strcmp(mode, "huge") == 0) {
        /* Reads larger than a descriptor can hold, and into memory that is
         * not RAM: errors, never a panic or a false end of file. */
        static char buf[16];
        pipe(p);
        write(p[1], "hello", 5);
        ssize_t n = read(p[0], buf, (size_t)1 << 32);
        printf("huge read %d errno %d\n", (int)n, n < 0 ? errno : 0);
        n = read(p[0], (void *)0xfffff000UL, 5);
        printf("unmapped read %d errno %d\n", (int)n, n < 0 ? errno : 0);
        n = read(p[0], buf, sizeof buf);
        printf("then read %d\n", (int)n);
        return 0;
    }
    printf("probe: unknown mode '%s'\n", mode);
    return 64;
}
