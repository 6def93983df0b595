/* crash MODE: dies on purpose, to show how deaths are reported.
 *   abort  -> abort(): EXIT signaled SIGABRT
 *   segv   -> a store to an unmapped address: CPU exception, EXIT signaled SIGSEGV
 *   kill   -> kill(getpid(), SIGTERM): the device delivers it, default action */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "abort";
    printf("crash: %s\n", mode);
    if (strcmp(mode, "segv") == 0)
        *(volatile int *)0x100000000000ull = 1;
    else if (strcmp(mode, "kill") == 0)
        kill(getpid(), SIGTERM);
    else
        abort();
    return 0;
}
