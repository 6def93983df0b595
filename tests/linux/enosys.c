/* An unknown syscall returns -ENOSYS and harms nothing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(void)
{
    long r = syscall(999, 1, 2, 3);
    printf("syscall(999): %ld, errno ENOSYS: %s\n", r, errno == ENOSYS ? "yes" : "no");
    r = syscall(-1L);
    printf("syscall(-1): %ld, errno ENOSYS: %s\n", r, errno == ENOSYS ? "yes" : "no");
    printf("still alive, pid > 0: %s\n", getpid() > 0 ? "yes" : "no");
    return 0;
}
