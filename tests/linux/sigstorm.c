/* No lost bytes under a signal storm: a writer and a reader exchange a
 * pseudo-random byte stream through a pipe while a third process sends
 * each of them SIGUSR1 thousands of times. The reader's handler has no
 * SA_RESTART (its reads fail with EINTR and it reads again); the writer's
 * has SA_RESTART (an interrupted write returns what it moved, and it
 * writes the rest). The reader checks every byte against the same
 * generator. `sigstorm [SIGNALS_EACH]`. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t handled, stop;

static void on_usr1(int s)
{
    (void)s;
    handled++;
}

static void on_usr2(int s)
{
    (void)s;
    stop = 1;
}

/* SIGUSR1 and SIGUSR2, blocked from before the forks until each side has
 * its handlers: a signal that comes first waits instead of killing it. */
static void mask_usr(int how)
{
    sigset_t usr;
    sigemptyset(&usr);
    sigaddset(&usr, SIGUSR1);
    sigaddset(&usr, SIGUSR2);
    sigprocmask(how, &usr, NULL);
}

static void handle(int sig, void (*h)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

/* xorshift32: the stream both sides generate. */
static unsigned next(unsigned *s)
{
    unsigned x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

struct result {
    long long bytes;
    long long bad;
    long long handled;
    long long eintr;
};

static void report(int fd, struct result *r)
{
    if (write(fd, r, sizeof *r) != sizeof *r)
        _exit(3);
}

static void writer(int out, int res)
{
    handle(SIGUSR1, on_usr1, SA_RESTART);
    handle(SIGUSR2, on_usr2, SA_RESTART);
    mask_usr(SIG_UNBLOCK);
    unsigned gen = 12345, sizes = 777;
    static unsigned char buf[20000];
    struct result r = {0, 0, 0, 0};
    while (!stop) {
        size_t n = 1 + next(&sizes) % sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char)next(&gen);
        size_t done = 0;
        while (done < n) {
            ssize_t w = write(out, buf + done, n - done);
            if (w < 0) {
                if (errno == EINTR) {
                    r.eintr++;
                    continue;
                }
                perror("write");
                _exit(2);
            }
            done += (size_t)w;
        }
        r.bytes += (long long)n;
    }
    close(out);
    r.handled = handled;
    report(res, &r);
    _exit(0);
}

static void reader(int in, int res)
{
    handle(SIGUSR1, on_usr1, 0);
    mask_usr(SIG_UNBLOCK);
    unsigned gen = 12345;
    static unsigned char buf[16384];
    struct result r = {0, 0, 0, 0};
    for (;;) {
        ssize_t n = read(in, buf, 1 + (r.bytes % sizeof buf));
        if (n < 0) {
            if (errno == EINTR) {
                r.eintr++;
                continue;
            }
            perror("read");
            _exit(2);
        }
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != (unsigned char)next(&gen))
                r.bad++;
        r.bytes += n;
    }
    r.handled = handled;
    report(res, &r);
    _exit(0);
}

int main(int argc, char **argv)
{
    int each = argc > 1 ? atoi(argv[1]) : 2000;
    int p[2], wres[2], rres[2];
    if (pipe(p) || pipe(wres) || pipe(rres))
        return 2;
    mask_usr(SIG_BLOCK);
    pid_t w = fork();
    if (w == 0) {
        close(p[0]);
        writer(p[1], wres[1]);
    }
    pid_t r = fork();
    if (r == 0) {
        close(p[1]);
        reader(p[0], rres[1]);
    }
    close(p[0]);
    close(p[1]);
    close(wres[1]);
    close(rres[1]);
    pid_t s = fork();
    if (s == 0) {
        for (int i = 0; i < each; i++) {
            kill(w, SIGUSR1);
            kill(r, SIGUSR1);
        }
        _exit(0);
    }
    waitpid(s, NULL, 0);
    kill(w, SIGUSR2);
    struct result wr, rr;
    if (read(wres[0], &wr, sizeof wr) != sizeof wr || read(rres[0], &rr, sizeof rr) != sizeof rr) {
        printf("a side did not report\n");
        return 1;
    }
    int st1, st2;
    waitpid(w, &st1, 0);
    waitpid(r, &st2, 0);
    printf("storm of %d signals to each side sent\n", each);
    printf("writer and reader exited 0: %s\n", st1 == 0 && st2 == 0 ? "yes" : "no");
    printf("bytes read == bytes written: %s\n", rr.bytes == wr.bytes ? "yes" : "no");
    printf("every byte in order: %s\n", rr.bad == 0 ? "yes" : "no");
    printf("both handled signals: %s\n", wr.handled > 0 && rr.handled > 0 ? "yes" : "no");
    fprintf(stderr, "sigstorm: %lld bytes, writer handled %lld (EINTR %lld), reader handled %lld (EINTR %lld)\n",
            wr.bytes, wr.handled, wr.eintr, rr.handled, rr.eintr);
    return rr.bytes == wr.bytes && rr.bad == 0 ? 0 : 1;
}
