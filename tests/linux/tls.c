/* A __thread variable: TLS through arch_prctl(ARCH_SET_FS). */
#include <stdio.h>

static __thread int counter = 40;
static __thread char name[16] = "tls";

int main(void)
{
    counter += 2;
    name[3] = '!';
    printf("counter %d, name %s, &counter %% 4 = %d\n", counter, name,
           (int)((unsigned long)&counter % 4));
    return 0;
}
