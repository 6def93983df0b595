/* selftest: exercises the C library inside one guest and prints PASS/FAIL
 * lines; exits with the number of failures. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "PASS" : "FAIL", what);
    failures += !ok;
}

static int fmt(char *buf, size_t n, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int r = vsnprintf(buf, n, f, ap);
    va_end(ap);
    return r;
}

int main(void)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%d|%5i|%-4u|%ld|%lu|%lld|%llu|%zu", -1, 42, 7u, -5L, 5UL, -6LL, 6ULL, (size_t)9);
    check(strcmp(buf, "-1|   42|7   |-5|5|-6|6|9") == 0, "printf integers");
    snprintf(buf, sizeof buf, "%x|%lx|%08x|%p|%s|%.2s|%c|%%", 255, 0x1234abcdUL, 0xbeef, (void *)0x1000, "str", "abc", 'z');
    check(strcmp(buf, "ff|1234abcd|0000beef|0x1000|str|ab|z|%") == 0, "printf hex, pointers, strings");
    check(fmt(buf, 4, "%s", "truncated") == 9 && strcmp(buf, "tru") == 0, "vsnprintf truncates and counts");

    int p[2];
    check(pipe(p) == 0, "pipe");
    check(write(p[1], "hello", 5) == 5, "write to pipe");
    char r[8] = {0};
    check(read(p[0], r, sizeof r) == 5 && memcmp(r, "hello", 5) == 0, "read from pipe");
    check(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0 && (fcntl(p[0], F_GETFL) & O_NONBLOCK), "fcntl O_NONBLOCK");
    check(read(p[0], r, sizeof r) == -1 && errno == EAGAIN, "non-blocking read on empty pipe is EAGAIN");
    int d = dup(p[1]);
    check(d > p[1], "dup");
    check(dup2(p[1], 10) == 10, "dup2");
    close(d);
    close(10);
    close(p[1]);
    check(read(p[0], r, sizeof r) == 0, "read sees EOF once all writers closed");
    check(close(p[0]) == 0 && close(p[0]) == -1 && errno == EBADF, "double close is EBADF");

    signal(SIGPIPE, SIG_IGN);
    check(pipe(p) == 0 && close(p[0]) == 0, "pipe without reader");
    check(write(p[1], "x", 1) == -1 && errno == EPIPE, "write without reader is EPIPE (SIGPIPE ignored)");
    close(p[1]);

    check(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD, "waitpid without children is ECHILD");
    int forked_status = -1;
    pid_t forked = fork();
    if (forked == 0)
        _exit(getppid() == getpid() ? 1 : 7);
    if (forked == -1 && errno == ENOSYS)
        /* A root the daemon did not launch (`vhost-user-pipe serve`) cannot fork. */
        printf("SKIP fork: the device cannot fork this process (ENOSYS)\n");
    else
        check(forked > 0 && waitpid(forked, &forked_status, 0) == forked &&
                  WIFEXITED(forked_status) && WEXITSTATUS(forked_status) == 7,
              "fork: the child is another process and its exit status arrives");

    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    usleep(20000);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    check(ms >= 20 && ms < 200, "usleep(20ms) sleeps about 20 ms");
    struct timeval tv;
    check(gettimeofday(&tv, NULL) == 0 && tv.tv_sec > 1600000000, "gettimeofday is after 2020");

    char *s = strdup("abc");
    s = realloc(s, 64);
    strcat(s, "def");
    check(strcmp(s, "abcdef") == 0 && strstr(s, "cd") == s + 2 && strrchr(s, 'f') == s + 5, "string.h and realloc");
    free(s);
    check(strtol("  -0x1f", NULL, 16) == -31 && atoi("123abc") == 123, "strtol and atoi");
    int *z = calloc(100, sizeof *z);
    int zero = 1;
    for (int i = 0; i < 100; i++)
        zero &= z[i] == 0;
    check(zero, "calloc zeroes");
    free(z);

    printf("selftest: %d failure(s)\n", failures);
    return failures;
}
