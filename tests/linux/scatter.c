/* Buffers handed to the device in place. The guest kernel passes a
 * program's own pages to the device, one descriptor per run of physically
 * contiguous frames, at most 32 runs per request. A buffer touched from
 * its last page to its first gets its frames in the opposite order, so no
 * two neighbouring pages are contiguous: every page is a run of its own,
 * and 1 MiB takes many requests. Everything printed is what Linux prints. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
#define BIG (1 << 20)
#define TINY_IOVECS 1024
#define FILE_BYTES (192 * 1024)

/* `len` bytes of fresh anonymous memory, its pages touched last first. */
static unsigned char *scattered(size_t len)
{
    unsigned char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    for (size_t off = len; off > 0; off -= PAGE)
        p[off - PAGE] = 1;
    return p;
}

static unsigned char pattern(size_t i)
{
    return (unsigned char)(i * 7 + i / PAGE);
}

static const char *err(ssize_t r)
{
    return r >= 0 ? "ok" : errno == EFAULT ? "EFAULT" : strerror(errno);
}

/* A child writes 1 MiB from scattered pages in one write() call; the
 * parent reads it into scattered pages and checks every byte. */
static void big_transfer(void)
{
    int p[2];
    if (pipe(p) != 0)
        exit(2);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        unsigned char *src = scattered(BIG);
        for (size_t i = 0; i < BIG; i++)
            src[i] = pattern(i);
        size_t done = 0;
        while (done < BIG) {
            ssize_t n = write(p[1], src + done, BIG - done);
            if (n <= 0)
                _exit(1);
            done += (size_t)n;
        }
        _exit(0);
    }
    close(p[1]);
    unsigned char *dst = scattered(BIG);
    size_t got = 0;
    ssize_t n;
    while (got < BIG && (n = read(p[0], dst + got, BIG - got)) > 0)
        got += (size_t)n;
    size_t bad = 0;
    for (size_t i = 0; i < got; i++)
        bad += dst[i] != pattern(i);
    int st;
    waitpid(pid, &st, 0);
    printf("1 MiB through a pipe, scattered pages both ends: %zu bytes, %zu wrong, writer exit %d\n",
           got, bad, WEXITSTATUS(st));
    close(p[0]);
}

/* 1024 one-byte iovecs four bytes apart (1024 runs): still one write. */
static void tiny_iovecs(int p[2])
{
    static unsigned char src[4 * TINY_IOVECS];
    static struct iovec iov[TINY_IOVECS];
    for (int i = 0; i < TINY_IOVECS; i++) {
        src[4 * i] = pattern(i);
        iov[i].iov_base = &src[4 * i];
        iov[i].iov_len = 1;
    }
    ssize_t w = writev(p[1], iov, TINY_IOVECS);
    unsigned char back[TINY_IOVECS];
    ssize_t r = read(p[0], back, sizeof back);
    int same = r == TINY_IOVECS;
    for (int i = 0; same && i < TINY_IOVECS; i++)
        same = back[i] == pattern(i);
    printf("writev of %d one-byte iovecs: %zd, read back %zd, as written: %s\n", TINY_IOVECS, w, r,
           same ? "yes" : "no");
}

/* readv into iovecs that overlap: filled in order, the later bytes win. */
static void overlapping_readv(int p[2])
{
    write(p[1], "0123456789abcdef", 16);
    char buf[13] = {0};
    struct iovec iov[2] = {{buf, 8}, {buf + 4, 8}};
    ssize_t r = readv(p[0], iov, 2);
    printf("readv into overlapping iovecs: %zd [%s]\n", r, buf);
}

/* Pages the program never touched, read-only pages, and a guard page. */
static void protections(int p[2])
{
    unsigned char *fresh = mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    write(p[1], "into fresh pages", 16);
    ssize_t r = read(p[0], fresh + PAGE - 8, 16);
    printf("read across two untouched pages: %zd [%.16s]\n", r, fresh + PAGE - 8);

    unsigned char *ro = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memcpy(ro, "read-only bytes!", 16);
    mprotect(ro, PAGE, PROT_READ);
    r = write(p[1], ro, 16);
    printf("write from read-only pages: %zd %s\n", r, err(r));
    r = read(p[0], ro, 16);
    printf("read into read-only pages: %zd %s\n", r, err(r));
    char back[17] = {0};
    r = read(p[0], back, 16);
    printf("the bytes stay in the pipe: %zd [%s]\n", r, back);

    unsigned char *guarded = mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(guarded + PAGE, PAGE, PROT_NONE);
    write(p[1], "g", 1);
    r = read(p[0], guarded + PAGE, 1);
    printf("read into a PROT_NONE page: %zd %s\n", r, err(r));
    r = read(p[0], guarded, 1);
    printf("then into the page before it: %zd [%c]\n", r, guarded[0]);
}

/* The program's own file: pread64 into scattered pages and mmap both
 * match what read() puts in an ordinary buffer. */
static void file_reads(void)
{
    int fd = open("/proc/self/exe", O_RDONLY);
    if (fd < 0) {
        printf("open /proc/self/exe: %s\n", strerror(errno));
        return;
    }
    unsigned char *plain = malloc(FILE_BYTES);
    size_t have = 0;
    ssize_t n;
    while (have < FILE_BYTES && (n = read(fd, plain + have, FILE_BYTES - have)) > 0)
        have += (size_t)n;
    unsigned char *pages = scattered(FILE_BYTES);
    size_t got = 0;
    while (got < have && (n = pread(fd, pages + got, have - got, (off_t)got)) > 0)
        got += (size_t)n;
    printf("pread into scattered pages matches read: %s\n",
           got == have && memcmp(plain, pages, have) == 0 ? "yes" : "no");
    unsigned char *map = mmap(0, have, PROT_READ, MAP_PRIVATE, fd, 0);
    printf("mmap of the file matches read: %s\n",
           map != MAP_FAILED && memcmp(plain, map, have) == 0 ? "yes" : "no");
    close(fd);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    big_transfer();
    int p[2];
    if (pipe(p) != 0)
        return 2;
    tiny_iovecs(p);
    overlapping_readv(p);
    protections(p);
    file_reads();
    return 0;
}
