/* Hostile arguments: pointers into the guest kernel's image (1 MiB) and
 * into the upper half (its direct map), bad lengths and numbers. Each
 * call must fail with the errno Linux gives (EFAULT for a bad pointer)
 * and the kernel must survive them all. Raw syscall(): no vDSO, no libc
 * wrappers that check first. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define KIMAGE 0x100000UL
#define KDIRECT 0xffff800000000000UL

static const char *errname(int e)
{
    switch (e) {
    case EFAULT: return "EFAULT";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EPERM: return "EPERM";
    case EBADF: return "EBADF";
    case ENOSYS: return "ENOSYS";
    case EEXIST: return "EEXIST";
    default: return "other";
    }
}

static void show(const char *what, long r)
{
    printf("%-40s %s\n", what, r >= 0 ? "ok" : errname(errno));
}

int main(void)
{
    unsigned long bad[] = {KIMAGE, KDIRECT, 16};
    const char *names[] = {"image", "direct map", "page 0"};
    for (int i = 0; i < 3; i++) {
        void *p = (void *)bad[i];
        char what[64];
        printf("-- %s\n", names[i]);
        snprintf(what, sizeof what, "write(1, %s)", names[i]);
        show(what, syscall(SYS_write, 1, p, 16));
        show("clock_gettime", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, p));
        show("rt_sigaction act", syscall(SYS_rt_sigaction, SIGUSR1, p, 0, 8));
        show("rt_sigaction oldact", syscall(SYS_rt_sigaction, SIGUSR1, 0, p, 8));
        show("rt_sigprocmask", syscall(SYS_rt_sigprocmask, SIG_BLOCK, p, 0, 8));
        show("pipe", syscall(SYS_pipe, p));
        show("uname", syscall(SYS_uname, p));
        show("nanosleep", syscall(SYS_nanosleep, p, 0));
        show("getcwd", syscall(SYS_getcwd, p, 4096));
        show("getrandom", syscall(SYS_getrandom, p, 16, 0));
        show("sigaltstack", syscall(SYS_sigaltstack, p, 0));
        show("prlimit64 old", syscall(SYS_prlimit64, 0, RLIMIT_STACK, 0, p));
        show("readv iov", syscall(SYS_readv, 0, p, 1));
        show("writev iov", syscall(SYS_writev, 1, p, 1));
        struct iovec iov = {p, 8};
        show("writev base", syscall(SYS_writev, 1, &iov, 1));
        show("poll", syscall(SYS_poll, p, 1, 0));
        show("gettimeofday", syscall(SYS_gettimeofday, p, 0));
        show("arch_prctl ARCH_GET_FS", syscall(SYS_arch_prctl, 0x1003, p));
        show("sched_getaffinity", syscall(SYS_sched_getaffinity, 0, 8, p));
        show("prctl PR_SET_NAME", syscall(SYS_prctl, PR_SET_NAME, p));
        show("time", syscall(SYS_time, p));
    }
    printf("-- addresses and numbers\n");
    show("munmap(direct map)", syscall(SYS_munmap, KDIRECT, 4096));
    show("mprotect(image)", syscall(SYS_mprotect, KIMAGE, 4096, PROT_READ));
    show("madvise(image, DONTNEED)", syscall(SYS_madvise, KIMAGE, 4096, MADV_DONTNEED));
    show("mmap(direct map, MAP_FIXED)", syscall(SYS_mmap, KDIRECT, 4096, PROT_READ | PROT_WRITE,
                                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
    show("mmap(length 0)", syscall(SYS_mmap, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    show("mmap(huge)", syscall(SYS_mmap, 0, 1UL << 62, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    show("mremap(unmapped)", syscall(SYS_mremap, 0x70000000UL, 4096, 8192, MREMAP_MAYMOVE));
    show("arch_prctl ARCH_SET_FS(direct map)", syscall(SYS_arch_prctl, 0x1002, KDIRECT));
    long cur = syscall(SYS_brk, 0);
    printf("%-40s %s\n", "brk(direct map) leaves the break",
           syscall(SYS_brk, KDIRECT) == cur ? "yes" : "no");
    printf("%-40s %s\n", "brk(image) leaves the break",
           syscall(SYS_brk, KIMAGE) == cur ? "yes" : "no");
    show("kill(self, 65)", syscall(SYS_kill, getpid(), 65));
    show("rt_sigaction(0)", syscall(SYS_rt_sigaction, 0, 0, 0, 8));
    struct sigaction sa = {0};
    sa.sa_handler = SIG_IGN;
    show("rt_sigaction(SIGKILL, SIG_IGN)", syscall(SYS_rt_sigaction, SIGKILL, &sa, 0, 8));
    show("rt_sigaction(sigsetsize 4)", syscall(SYS_rt_sigaction, SIGUSR1, 0, 0, 4));
    show("rt_sigprocmask(how 9)", syscall(SYS_rt_sigprocmask, 9, &sa.sa_mask, 0, 8));
    show("close(-1)", syscall(SYS_close, -1));
    show("close(1 << 40)", syscall(SYS_close, 1L << 40));
    show("dup2(0, -1)", syscall(SYS_dup2, 0, -1));
    show("fcntl(1, 12345)", syscall(SYS_fcntl, 1, 12345));
    show("syscall 1000", syscall(1000));
    show("syscall 1 << 20", syscall(1L << 20));
    printf("survived\n");
    return 0;
}
