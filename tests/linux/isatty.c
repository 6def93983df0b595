/* isatty: which of fds 0, 1 and 2 are terminals, as isatty(3) (TCGETS)
 * says; for a terminal, whether TIOCGWINSZ answers too. */
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(void)
{
    for (int fd = 0; fd < 3; fd++) {
        struct winsize ws;
        int tty = isatty(fd);
        printf("fd %d: %s", fd, tty ? "terminal" : "not a terminal");
        if (tty)
            printf(", window size %s", ioctl(fd, TIOCGWINSZ, &ws) == 0 ? "known" : "unknown");
        printf("\n");
    }
    return 0;
}
