/* Terminal control on fd 0, a terminal: isatty, tcgetattr, tcsetattr
 * (raw, then back), the window size (TIOCGWINSZ, TIOCSWINSZ), and in a
 * child that makes a session of its own and the terminal its controlling
 * terminal (setsid, TIOCSCTTY): tcgetpgrp and tcsetpgrp. ENOTTY on a
 * pipe. Prints what it sees, to compare with the host's run on the same
 * kind of descriptors (stdin and stderr a fresh pseudo-terminal, stdout a
 * pipe). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static const char *err(int e)
{
    switch (e) {
    case 0: return "ok";
    case ENOTTY: return "ENOTTY";
    case ESRCH: return "ESRCH";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    default: return "other";
    }
}

/* The modes the kernel's struct termios carries (flags, line, 19 control
 * characters): libc's struct has room for more, which TCGETS leaves. */
static int same_modes(const struct termios *a, const struct termios *b)
{
    return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag && a->c_cflag == b->c_cflag &&
           a->c_lflag == b->c_lflag && memcmp(a->c_cc, b->c_cc, 19) == 0;
}

int main(void)
{
    printf("isatty: 0 %d, 1 %d, 2 %d\n", isatty(0), isatty(1), isatty(2));
    struct termios t, raw, now;
    if (tcgetattr(0, &t) != 0) {
        printf("tcgetattr: %s\n", err(errno));
        return 1;
    }
    printf("modes: icanon %d echo %d isig %d\n", !!(t.c_lflag & ICANON), !!(t.c_lflag & ECHO),
           !!(t.c_lflag & ISIG));
    raw = t;
    cfmakeraw(&raw);
    errno = 0;
    int rc = tcsetattr(0, TCSANOW, &raw);
    printf("tcsetattr raw: %d %s\n", rc, err(rc ? errno : 0));
    tcgetattr(2, &now);
    printf("raw on fd 2 too: icanon %d echo %d opost %d, as set %s\n", !!(now.c_lflag & ICANON),
           !!(now.c_lflag & ECHO), !!(now.c_oflag & OPOST), same_modes(&now, &raw) ? "yes" : "no");
    rc = tcsetattr(0, TCSADRAIN, &t);
    tcgetattr(0, &now);
    printf("tcsetattr back: %d, restored %s\n", rc, same_modes(&now, &t) ? "yes" : "no");

    struct winsize ws = {0};
    rc = ioctl(0, TIOCGWINSZ, &ws);
    printf("TIOCGWINSZ: %d, %dx%d\n", rc, ws.ws_row, ws.ws_col);
    struct winsize big = {.ws_row = 30, .ws_col = 100};
    rc = ioctl(2, TIOCSWINSZ, &big);
    memset(&ws, 0, sizeof ws);
    ioctl(0, TIOCGWINSZ, &ws);
    printf("TIOCSWINSZ: %d, now %dx%d\n", rc, ws.ws_row, ws.ws_col);

    int p[2];
    pipe(p);
    errno = 0;
    int is = isatty(p[0]);
    printf("pipe: isatty %d %s", is, err(errno));
    rc = tcgetattr(p[0], &now);
    printf(", tcgetattr %d %s", rc, err(errno));
    errno = 0;
    rc = tcgetpgrp(p[1]);
    printf(", tcgetpgrp %d %s\n", rc, err(errno));

    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        pid_t sid = setsid();
        printf("child: setsid leads it %s\n", sid == getpid() ? "yes" : "no");
        errno = 0;
        rc = ioctl(0, TIOCSCTTY, 0);
        printf("child: TIOCSCTTY %d %s\n", rc, err(rc ? errno : 0));
        printf("child: the foreground group is mine %s\n", tcgetpgrp(0) == getpgrp() ? "yes" : "no");
        rc = tcsetpgrp(0, getpgrp());
        printf("child: tcsetpgrp mine %d %s\n", rc, err(rc ? errno : 0));
        errno = 0;
        rc = tcsetpgrp(0, 999999);
        printf("child: tcsetpgrp of no group %d %s\n", rc, err(errno));
        errno = 0;
        rc = tcsetpgrp(0, -5);
        printf("child: tcsetpgrp -5 %d %s\n", rc, err(errno));
        return 0;
    }
    int st = 0;
    waitpid(c, &st, 0);
    printf("child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
