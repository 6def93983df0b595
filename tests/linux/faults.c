/* CPU faults delivered to handlers: SIGSEGV with si_addr, SIGFPE from a
 * division by zero, SIGILL from ud2 (each handler jumps back out); then a
 * SIGILL handler that moves the saved rip past the ud2 and returns, so
 * rt_sigreturn resumes the edited context with the registers intact. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static sigjmp_buf back;
static volatile void *addr;
static volatile int code;

static void h(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    addr = si->si_addr;
    code = si->si_code;
    siglongjmp(back, sig);
}

static volatile int skipped;

static void skip_ud2(int sig, siginfo_t *si, void *uc)
{
    (void)si;
    skipped = sig;
    ((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP] += 2;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);

    int s = sigsetjmp(back, 1);
    if (s == 0)
        *(volatile int *)0x1234 = 1;
    printf("SIGSEGV: %d, si_addr 0x1234: %s, SEGV_MAPERR: %s\n", s,
           addr == (void *)0x1234 ? "yes" : "no", code == SEGV_MAPERR ? "yes" : "no");

    static const int ro = 5;
    s = sigsetjmp(back, 1);
    if (s == 0)
        *(volatile int *)&ro = 6;
    printf("write to read-only: %d, SEGV_ACCERR: %s\n", s, code == SEGV_ACCERR ? "yes" : "no");

    s = sigsetjmp(back, 1);
    if (s == 0) {
        int q, zero = 0;
        __asm__ volatile("cltd; idivl %1" : "=a"(q) : "r"(zero), "a"(1) : "edx");
        printf("%d\n", q);
    }
    printf("SIGFPE: %d, FPE_INTDIV: %s\n", s, code == FPE_INTDIV ? "yes" : "no");

    s = sigsetjmp(back, 1);
    if (s == 0)
        __asm__ volatile("ud2");
    printf("SIGILL: %d\n", s);

    sa.sa_sigaction = skip_ud2;
    sigaction(SIGILL, &sa, NULL);
    long kept = 0x1234567890L, out;
    __asm__ volatile("mov %1, %%r12; ud2; mov %%r12, %0" : "=r"(out) : "r"(kept) : "r12");
    printf("returned past ud2: %d, r12 kept: %s\n", skipped, out == kept ? "yes" : "no");
    return 0;
}
