/* threads: pthread_create must fail cleanly (the guest kernel answers
 * clone with CLONE_THREAD with ENOSYS and a log line; threads come later),
 * and the process goes on. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static void *run(void *arg)
{
    return arg;
}

int main(void)
{
    pthread_t t;
    int err = pthread_create(&t, NULL, run, NULL);
    if (err == 0) {
        pthread_join(t, NULL);
        printf("pthread_create: ok\n");
    } else {
        printf("pthread_create: %s\n", strerror(err));
    }
    printf("still running\n");
    return 0;
}
