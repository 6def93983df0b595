/* A NULL-pointer write: the process dies of SIGSEGV (exit status 139). */
#include <stdio.h>

int main(void)
{
    printf("about to write through NULL\n");
    fflush(stdout);
    *(volatile int *)0 = 1;
    printf("not reached\n");
    return 0;
}
