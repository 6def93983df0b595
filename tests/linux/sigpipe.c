/* A write to a pipe without readers: SIGPIPE's handler runs, then write
 * fails with EPIPE; with SIG_IGN only EPIPE. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void h(int sig)
{
    got = sig;
}

int main(void)
{
    int p[2];
    pipe(p);
    close(p[0]);
    signal(SIGPIPE, h);
    ssize_t n = write(p[1], "x", 1);
    int e = errno;
    printf("write: %zd, errno EPIPE: %s, handler ran: %s\n", n, e == EPIPE ? "yes" : "no",
           got == SIGPIPE ? "yes" : "no");
    signal(SIGPIPE, SIG_IGN);
    got = 0;
    n = write(p[1], "x", 1);
    printf("ignored: write %zd, errno EPIPE: %s\n", n, errno == EPIPE ? "yes" : "no");
    signal(SIGPIPE, SIG_DFL);
    printf("default action next\n");
    fflush(stdout);
    write(p[1], "x", 1);
    printf("not reached\n");
    return 0;
}
