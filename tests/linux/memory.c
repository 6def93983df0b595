/* brk, mmap, munmap, mprotect, mremap and madvise, as a program sees them. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <errno.h>

static char *brk_at(char *p)
{
    return (char *)syscall(SYS_brk, p);
}

int main(void)
{
    /* musl's sbrk() refuses to move the break, so ask brk directly. */
    char *b0 = brk_at(0);
    char *b1 = brk_at(b0 + 64 * 1024);
    memset(b0, 1, 64 * 1024);
    printf("brk grew by 64 KiB: %s\n", b1 - b0 == 64 * 1024 ? "yes" : "no");
    char *b2 = brk_at(b0 + 32 * 1024);
    printf("brk shrank to 32 KiB: %s\n", b2 - b0 == 32 * 1024 ? "yes" : "no");
    printf("brk below its start stays: %s\n", brk_at(b0 - 4096) == b2 ? "yes" : "no");

    size_t len = 8 * 4096;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        printf("mmap failed\n");
        return 1;
    }
    int zero = 1;
    for (size_t i = 0; i < len; i++)
        zero &= m[i] == 0;
    printf("fresh mmap reads zero: %s\n", zero ? "yes" : "no");
    strcpy(m + 4096, "page two");
    printf("mprotect read-only: %d\n", mprotect(m, len, PROT_READ));
    printf("still readable: %s\n", m + 4096);
    printf("mprotect back: %d\n", mprotect(m, len, PROT_READ | PROT_WRITE));
    char *g = mremap(m, len, 64 * 4096, MREMAP_MAYMOVE);
    printf("mremap kept the bytes: %s\n", g != MAP_FAILED && strcmp(g + 4096, "page two") == 0 ? "yes" : "no");
    g[63 * 4096] = 'x';
    printf("madvise DONTNEED: %d\n", madvise(g, 64 * 4096, MADV_DONTNEED));
    printf("reads zero after DONTNEED: %s\n", g[4096] == 0 && g[63 * 4096] == 0 ? "yes" : "no");
    printf("munmap: %d\n", munmap(g, 64 * 4096));
    char *f = mmap((void *)0x10000000, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("MAP_FIXED at the asked address: %s\n", f == (void *)0x10000000 ? "yes" : "no");
    printf("munmap of nothing: %d\n", munmap((void *)0x20000000, 4096));
    errno = 0;
    printf("mprotect of nothing fails: %s\n", mprotect((void *)0x20000000, 4096, PROT_READ) == -1 ? "yes" : "no");
    return 0;
}
