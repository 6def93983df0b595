/* Files of the tree's root: open, read, lseek, pread, fstat/stat/lstat,
 * a directory listing, readlink (of a link and of /proc/self/exe),
 * getcwd and chdir/fchdir. Run from the root directory, which holds
 * data/a.txt ("hello, files\n"), data/sub/ and data/link -> a.txt. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static const char *err(void)
{
    switch (errno) {
    case ENOENT: return "ENOENT";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case ESPIPE: return "ESPIPE";
    default: return strerror(errno);
    }
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    char buf[256];
    int fd = open("data/a.txt", O_RDONLY);
    printf("open: %s\n", fd >= 0 ? "ok" : err());
    ssize_t n = read(fd, buf, 5);
    printf("read 5: %zd [%.*s]\n", n, (int)n, buf);
    printf("lseek cur: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    printf("lseek set 7: %ld\n", (long)lseek(fd, 7, SEEK_SET));
    n = read(fd, buf, sizeof buf);
    printf("read rest: %zd [%.*s]\n", n, (int)n, buf);
    printf("read at end: %zd\n", read(fd, buf, sizeof buf));
    printf("lseek end -6: %ld\n", (long)lseek(fd, -6, SEEK_END));
    n = pread(fd, buf, 5, 0);
    printf("pread 5 at 0: %zd [%.*s], offset stays %ld\n", n, (int)n, buf, (long)lseek(fd, 0, SEEK_CUR));
    struct stat st;
    fstat(fd, &st);
    printf("fstat: regular %d, size %ld, mode %o\n", S_ISREG(st.st_mode), (long)st.st_size, st.st_mode & 0777);
    close(fd);

    printf("stat data: dir %d\n", stat("data", &st) == 0 && S_ISDIR(st.st_mode));
    printf("lstat data/link: link %d\n", lstat("data/link", &st) == 0 && S_ISLNK(st.st_mode));
    int r = stat("data/link", &st);
    printf("stat data/link: regular %d, size %ld\n", r == 0 && S_ISREG(st.st_mode), (long)st.st_size);
    n = readlink("data/link", buf, sizeof buf);
    printf("readlink data/link: %zd [%.*s]\n", n, (int)n, buf);
    n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("/proc/self/exe ends with /bin/files: %s\n",
           n >= 10 && strcmp(buf + n - 10, "/bin/files") == 0 ? "yes" : buf);
    r = open("data/missing", O_RDONLY);
    printf("open missing: %d %s\n", r, err());
    r = open("data/a.txt", O_RDONLY | O_DIRECTORY);
    printf("O_DIRECTORY of a file: %d %s\n", r, err());
    printf("access data/a.txt R_OK: %d\n", access("data/a.txt", R_OK));
    r = access("data/missing", F_OK);
    printf("access missing F_OK: %d %s\n", r, err());
    int dfd = open("data", O_RDONLY | O_DIRECTORY);
    n = read(dfd, buf, 4);
    printf("read of a directory: %zd %s\n", n, err());
    int p[2];
    pipe(p);
    long off = lseek(p[0], 0, SEEK_CUR);
    printf("lseek of a pipe: %ld %s\n", off, err());

    DIR *d = opendir("data");
    char *names[16];
    int k = 0;
    struct dirent *e;
    while ((e = readdir(d)) && k < 16)
        names[k++] = strdup(e->d_name);
    closedir(d);
    qsort(names, k, sizeof names[0], cmp);
    printf("data holds:");
    for (int i = 0; i < k; i++)
        printf(" %s", names[i]);
    printf("\n");

    char top[512], cwd[512];
    getcwd(top, sizeof top);
    printf("chdir data: %d\n", chdir("data"));
    getcwd(cwd, sizeof cwd);
    char want[600];
    snprintf(want, sizeof want, "%s/data", strcmp(top, "/") == 0 ? "" : top);
    printf("getcwd after chdir is the root's data: %s\n", strcmp(cwd, want) == 0 ? "yes" : cwd);
    fd = open("a.txt", O_RDONLY);
    printf("open relative to the new cwd: %s\n", fd >= 0 ? "ok" : err());
    r = chdir("a.txt");
    printf("chdir a.txt: %d %s\n", r, err());
    printf("fchdir sub: %d\n", fchdir(open("sub", O_RDONLY | O_DIRECTORY)));
    getcwd(cwd, sizeof cwd);
    printf("getcwd ends with /data/sub: %s\n", strlen(cwd) >= 9 && strcmp(cwd + strlen(cwd) - 9, "/data/sub") == 0 ? "yes" : cwd);
    char *got = getcwd(cwd, 2);
    printf("getcwd with a small buffer: %s %s\n", got ? "ok" : "NULL", errno == ERANGE ? "ERANGE" : err());
    return 0;
}
