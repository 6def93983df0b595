/* sigterm: signals sent by another process. A child with a SIGTERM handler
 * is sent SIGTERM by its parent while it sleeps: the handler runs and the
 * child exits with 3. A child without a handler dies of SIGTERM. A child
 * with a SIGUSR1 handler gets SIGUSR1 twice and counts both. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t usr1;

static void on_term(int sig)
{
    (void)sig;
    static const char msg[] = "child: SIGTERM handler ran\n";
    write(1, msg, sizeof msg - 1);
    _exit(3);
}

static void on_usr1(int sig)
{
    (void)sig;
    usr1++;
}

/* Forks a child that installs `handler` for `sig` (none if NULL), says it
 * is ready on a pipe and then sleeps until a signal ends it. */
static pid_t child(int sig, void (*handler)(int), int rounds)
{
    int p[2];
    pipe(p);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (handler) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = handler;
            sigaction(sig, &sa, NULL);
        }
        close(p[0]);
        write(p[1], "r", 1);
        for (int i = 0; i < 600 && (rounds == 0 || usr1 < rounds); i++)
            usleep(100000);
        if (rounds) {
            printf("child: SIGUSR1 handler ran %d times\n", (int)usr1);
            fflush(stdout);
            _exit(0);
        }
        _exit(9);
    }
    close(p[1]);
    char c;
    read(p[0], &c, 1);
    close(p[0]);
    return pid;
}

static void report(const char *what, pid_t pid)
{
    int status;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status))
        printf("%s: exited %d\n", what, WEXITSTATUS(status));
    else
        printf("%s: killed by signal %d\n", what, WTERMSIG(status));
    fflush(stdout);
}

int main(void)
{
    pid_t a = child(SIGTERM, on_term, 0);
    kill(a, SIGTERM);
    report("handled SIGTERM", a);

    pid_t b = child(SIGTERM, NULL, 0);
    kill(b, SIGTERM);
    report("default SIGTERM", b);

    pid_t c = child(SIGUSR1, on_usr1, 2);
    kill(c, SIGUSR1);
    usleep(300000);
    kill(c, SIGUSR1);
    report("two SIGUSR1", c);
    return 0;
}
