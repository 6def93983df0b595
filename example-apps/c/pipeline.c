/* pipeline [LINES]: runs `producer LINES | filter | consumer`, each stage
 * its own unikernel VM, wired with posix_spawn file actions. The consumer
 * writes to our stdout. Exits 0 when every stage exited 0. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t start(const char *image, char *const argv[], int in_fd, int out_fd,
                   const int *close_fds, int nclose)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (in_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
    for (int i = 0; i < nclose; i++)
        posix_spawn_file_actions_addclose(&fa, close_fds[i]);
    pid_t pid;
    int err = posix_spawn(&pid, image, &fa, NULL, argv, NULL);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0) {
        fprintf(stderr, "pipeline: spawning %s: %s\n", image, strerror(err));
        exit(1);
    }
    return pid;
}

int main(int argc, char **argv)
{
    const char *lines = argc > 1 ? argv[1] : "10";
    int a[2], b[2];
    if (pipe(a) < 0 || pipe(b) < 0) {
        perror("pipeline: pipe");
        return 1;
    }
    int all[4] = {a[0], a[1], b[0], b[1]};

    char *producer_argv[] = {"producer", (char *)lines, NULL};
    char *filter_argv[] = {"filter", NULL};
    char *consumer_argv[] = {"consumer", NULL};
    pid_t pids[3];
    pids[0] = start("producer", producer_argv, -1, a[1], all, 4);
    pids[1] = start("filter", filter_argv, a[0], b[1], all, 4);
    pids[2] = start("consumer", consumer_argv, b[0], -1, all, 4);
    for (int i = 0; i < 4; i++)
        close(all[i]);

    int failed = 0;
    for (int i = 0; i < 3; i++) {
        int status;
        pid_t pid = waitpid(pids[i], &status, 0);
        if (pid < 0) {
            perror("pipeline: waitpid");
            return 1;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "pipeline: stage pid %d ended with status %#x\n", pid, status);
            failed = 1;
        }
    }
    fprintf(stderr, "pipeline: %s\n", failed ? "FAILED" : "all 3 stages exited 0");
    return failed;
}
