/* clock_gettime, gettimeofday, time and nanosleep. */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static long long ns(struct timespec t)
{
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void)
{
    struct timespec a, b, r;
    clock_gettime(CLOCK_MONOTONIC, &a);
    struct timespec req = {0, 50 * 1000 * 1000};
    int rc = nanosleep(&req, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long long d = ns(b) - ns(a);
    printf("nanosleep 50 ms: rc %d, slept at least 50 ms: %s, less than 5 s: %s\n", rc,
           d >= 50000000 ? "yes" : "no", d < 5000000000LL ? "yes" : "no");
    struct timespec req2 = {0, 20 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_nanosleep(CLOCK_MONOTONIC, 0, &req2, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("clock_nanosleep 20 ms: %s\n", ns(b) - ns(a) >= 20000000 ? "yes" : "no");
    clock_gettime(CLOCK_REALTIME, &r);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    time_t t = time(NULL);
    printf("wall clock after 2020: %s\n", r.tv_sec > 1577836800 && tv.tv_sec > 1577836800 && t > 1577836800 ? "yes" : "no");
    printf("clocks agree within 10 s: %s\n", t - r.tv_sec < 10 && r.tv_sec - t < 10 ? "yes" : "no");
    clock_getres(CLOCK_MONOTONIC, &r);
    printf("resolution under 1 ms: %s\n", r.tv_sec == 0 && r.tv_nsec < 1000000 ? "yes" : "no");
    return 0;
}
