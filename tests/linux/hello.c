/* printf and an exit code: the smallest program, built with musl, glibc
 * (-static) and glibc (-static-pie). */
#include <stdio.h>

int main(void)
{
    printf("hello, world\n");
    printf("%s %d %.3f\n", "formatted", 42, 2.5);
    return 3;
}
