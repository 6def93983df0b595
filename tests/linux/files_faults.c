/* files_faults MODE ...: file writes that meet a fault
 * (tests/tests/files_faults.rs).
 *
 *   files_faults bigwrite PATH MIB   forks a writer that creates PATH and
 *                                    writes MIB MiB of the pattern in 1 MiB
 *                                    writes, printing "ack N" (bytes
 *                                    acknowledged so far) after each one; the
 *                                    test kills the writer's VM meanwhile. The
 *                                    parent prints "writer pid P", then how
 *                                    the writer ended and the file's size.
 *   files_faults fill NAME           writes 64 KiB at a time into NAME (in the
 *                                    working directory; at most 64 MiB) until a
 *                                    write fails, prints how it failed, then
 *                                    shows that the file system still works
 *                                    (removes NAME, writes and reads back a
 *                                    small file, forks a child that does the
 *                                    same); exits 7 after ENOSPC.
 *
 * The pattern: the little-endian 32-bit word at byte offset 4i is i + 1
 * (no zero word, so a hole shows). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1 << 20)

static const char *ename(int e)
{
    static char other[32];
    switch (e) {
    case ENOSPC: return "ENOSPC";
    case EDQUOT: return "EDQUOT";
    case EFBIG: return "EFBIG";
    case EIO: return "EIO";
    case ENOENT: return "ENOENT";
    case EROFS: return "EROFS";
    default:
        snprintf(other, sizeof other, "errno %d", e);
        return other;
    }
}

static uint32_t chunk[MIB / 4];

static int writer(const char *path, long mib)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0) {
        printf("open: %s\n", ename(errno));
        return 3;
    }
    long done = 0;
    for (long m = 0; m < mib; m++) {
        for (uint32_t i = 0; i < MIB / 4; i++)
            chunk[i] = (uint32_t)(m * (MIB / 4) + i + 1);
        ssize_t n = write(fd, chunk, MIB);
        if (n != MIB) {
            printf("write: %zd %s\n", n, n < 0 ? ename(errno) : "short");
            return 4;
        }
        done += n;
        printf("ack %ld\n", done);
        fflush(stdout);
    }
    close(fd);
    printf("writer finished\n");
    return 0;
}

static int bigwrite(const char *path, long mib)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        printf("fork: %d\n", errno);
        return 3;
    }
    if (pid == 0)
        _exit(writer(path, mib));
    printf("writer pid %d\n", pid);
    fflush(stdout);
    int status;
    if (waitpid(pid, &status, 0) != pid) {
        printf("waitpid: %d\n", errno);
        return 3;
    }
    if (WIFSIGNALED(status))
        printf("writer signaled %d\n", WTERMSIG(status));
    else
        printf("writer exited %d\n", WEXITSTATUS(status));
    struct stat st;
    if (stat(path, &st) < 0)
        printf("stat: %s\n", ename(errno));
    else
        printf("size %lld\n", (long long)st.st_size);
    return 0;
}

/* Writes and reads back a small file: the root still works. */
static int small_file(const char *who)
{
    int fd = open("small", O_CREAT | O_TRUNC | O_RDWR, 0644);
    char buf[16] = {0};
    if (fd < 0 || write(fd, "still works\n", 12) != 12 || pread(fd, buf, 12, 0) != 12) {
        printf("%s: small file: %s\n", who, ename(errno));
        return 1;
    }
    close(fd);
    unlink("small");
    printf("%s: %s", who, buf);
    fflush(stdout);
    return 0;
}

/* At most this much, whatever the file system: a run on a big disk by
 * mistake stops here. */
#define FILL_CAP (64L * MIB)

static int fill(const char *path)
{
    static char block[64 * 1024];
    /* Only a name in the working directory (the small file system). */
    if (strchr(path, '/')) {
        printf("fill: NAME must be a plain name\n");
        return 2;
    }
    memset(block, 'F', sizeof block);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0) {
        printf("open: %s\n", ename(errno));
        return 3;
    }
    long total = 0;
    int err = 0;
    for (;;) {
        if (total >= FILL_CAP) {
            printf("no error after %ld bytes\n", total);
            unlink(path);
            return 1;
        }
        ssize_t n = write(fd, block, sizeof block);
        if (n < 0) {
            err = errno;
            break;
        }
        if (n == 0) {
            printf("write returned 0\n");
            return 3;
        }
        total += n;
    }
    printf("wrote %ld bytes, then %s\n", total, ename(err));
    struct stat st;
    if (fstat(fd, &st) == 0)
        printf("size matches: %s\n", st.st_size == total ? "yes" : "no");
    printf("fsync: %s\n", fsync(fd) == 0 ? "ok" : ename(errno));
    printf("close: %s\n", close(fd) == 0 ? "ok" : ename(errno));
    printf("unlink: %s\n", unlink(path) == 0 ? "ok" : ename(errno));
    if (small_file("parent"))
        return 3;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(small_file("child"));
    int status = -1;
    waitpid(pid, &status, 0);
    printf("child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return err == ENOSPC ? 7 : 1;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 2 ? argv[1] : "";
    if (strcmp(mode, "bigwrite") == 0)
        return bigwrite(argv[2], argc > 3 ? atol(argv[3]) : 64);
    if (strcmp(mode, "fill") == 0)
        return fill(argv[2]);
    fprintf(stderr, "usage: files_faults bigwrite PATH MIB | fill NAME\n");
    return 2;
}
