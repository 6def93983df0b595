/* Signals to oneself: signal(SIGUSR1, h) and kill(getpid()) runs the
 * handler before kill returns; sigaction with SA_SIGINFO; blocking and
 * unblocking; raise; SIG_IGN. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static volatile int info_pid, info_signo, info_code;

static void h(int sig)
{
    got = sig;
}

static void hi(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    info_signo = si->si_signo;
    info_pid = si->si_pid;
    info_code = si->si_code;
    got = sig;
}

int main(void)
{
    signal(SIGUSR1, h);
    kill(getpid(), SIGUSR1);
    printf("handler ran before kill returned: %s (got %d)\n", got == SIGUSR1 ? "yes" : "no", (int)got);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = hi;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &sa, NULL);
    got = 0;
    kill(getpid(), SIGUSR2);
    printf("SA_SIGINFO: signo %d, pid is mine %s, code SI_USER %s\n", info_signo,
           info_pid == getpid() ? "yes" : "no", info_code == SI_USER ? "yes" : "no");

    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    got = 0;
    raise(SIGUSR1);
    sigset_t pend;
    sigpending(&pend);
    printf("blocked: handler ran %s, pending %s\n", got ? "yes" : "no",
           sigismember(&pend, SIGUSR1) ? "yes" : "no");
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: handler ran %s\n", got == SIGUSR1 ? "yes" : "no");

    signal(SIGUSR1, SIG_IGN);
    raise(SIGUSR1);
    printf("ignored SIGUSR1: still here\n");
    struct sigaction cur;
    sigaction(SIGUSR2, NULL, &cur);
    printf("sigaction reads back the handler: %s\n", cur.sa_sigaction == hi ? "yes" : "no");
    return 0;
}
