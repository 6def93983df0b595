/* write_share: files written by several processes.
 *  1. A description opened before fork is shared, offset included: the
 *     child's write moves the parent's offset.
 *  2. O_APPEND writes of four processes (forked and posix_spawned) never
 *     overwrite each other: every line arrives whole.
 *  3. pwrite leaves the offset; ftruncate cuts; lseek past the end makes
 *     a hole.
 *  4. copy_file_range and sendfile between two files, with and without
 *     offsets.
 * Prints what the files hold, then removes them. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define LINES 50

static void append_lines(const char *who) {
    int fd = open("log.txt", O_WRONLY | O_APPEND | O_CREAT, 0644);
    char line[64];
    for (int i = 0; i < LINES; i++) {
        int n = snprintf(line, sizeof line, "%s line %02d\n", who, i);
        if (write(fd, line, n) != n) {
            perror("write");
            exit(1);
        }
    }
    close(fd);
}

static void dump(const char *name) {
    char buf[8192];
    int fd = open(name, O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    printf("%s: %zd bytes\n", name, n);
    for (ssize_t i = 0; i < n; i++) {
        putchar(buf[i] ? buf[i] : '.');
    }
    if (n > 0 && buf[n - 1] != '\n') {
        putchar('\n');
    }
}

int main(int argc, char **argv) {
    if (argc > 2 && strcmp(argv[1], "append") == 0) {
        append_lines(argv[2]);
        return 0;
    }
    /* 1. Shared offset across fork. */
    int fd = open("shared.txt", O_WRONLY | O_CREAT | O_TRUNC, 0640);
    write(fd, "parent first\n", 13);
    pid_t pid = fork();
    if (pid == 0) {
        write(fd, "child\n", 6);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    write(fd, "parent after\n", 13);
    printf("offset after: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    close(fd);
    dump("shared.txt");

    /* 2. O_APPEND from four processes at once. */
    unlink("log.txt");
    pid_t kids[4];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            append_lines(k ? "forked-b" : "forked-a");
            _exit(0);
        }
    }
    for (int k = 2; k < 4; k++) {
        char *args[] = {argv[0], "append", k == 2 ? "spawned-c" : "spawned-d", NULL};
        if (posix_spawnp(&kids[k], argv[0], NULL, NULL, args, environ) != 0) {
            kids[k] = -1;
        }
    }
    for (int k = 0; k < 4; k++) {
        int st = 0;
        if (kids[k] < 0 || waitpid(kids[k], &st, 0) != kids[k] || st != 0) {
            printf("writer %d failed\n", k);
        }
    }
    FILE *f = fopen("log.txt", "r");
    char line[128];
    int whole = 0, broken = 0, count[4] = {0};
    const char *names[4] = {"forked-a", "forked-b", "spawned-c", "spawned-d"};
    while (fgets(line, sizeof line, f)) {
        int ok = 0;
        for (int k = 0; k < 4; k++) {
            int n;
            char tail[8];
            char fmt[64];
            snprintf(fmt, sizeof fmt, "%s line %%2d%%1[\n]", names[k]);
            if (sscanf(line, fmt, &n, tail) == 2 && n == count[k]) {
                count[k]++;
                ok = 1;
            }
        }
        ok ? whole++ : broken++;
    }
    fclose(f);
    printf("appended: %d whole lines, %d broken, in order per writer: %s\n", whole, broken,
           count[0] == LINES && count[1] == LINES && count[2] == LINES && count[3] == LINES
               ? "yes"
               : "no");

    /* 3. pwrite, ftruncate, a hole. */
    fd = open("edit.bin", O_RDWR | O_CREAT | O_EXCL, 0600);
    write(fd, "0123456789", 10);
    pwrite(fd, "AB", 2, 3);
    printf("offset after pwrite: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    ftruncate(fd, 8);
    lseek(fd, 12, SEEK_SET);
    write(fd, "Z", 1);
    struct stat st;
    fstat(fd, &st);
    printf("size %ld mode %o\n", (long)st.st_size, (unsigned)(st.st_mode & 0777));
    close(fd);
    dump("edit.bin");
    if (open("edit.bin", O_RDWR | O_CREAT | O_EXCL, 0600) < 0) {
        perror("O_EXCL again");
    }

    /* 4. copy_file_range and sendfile. */
    int in = open("shared.txt", O_RDONLY);
    int out = open("copy.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
    off_t off_in = 13, off_out = 0;
    ssize_t n = copy_file_range(in, &off_in, out, &off_out, 6, 0);
    printf("copy_file_range: %zd, offsets %lld %lld, in's own %ld\n", n, (long long)off_in,
           (long long)off_out, (long)lseek(in, 0, SEEK_CUR));
    n = copy_file_range(in, NULL, out, NULL, 13, 0);
    printf("copy_file_range by the fds' offsets: %zd, now %ld %ld\n", n,
           (long)lseek(in, 0, SEEK_CUR), (long)lseek(out, 0, SEEK_CUR));
    off_t soff = 19;
    n = sendfile(out, in, &soff, 100);
    printf("sendfile: %zd, offset %ld\n", n, (long)soff);
    close(in);
    close(out);
    dump("copy.txt");
    unlink("copy.txt");
    unlink("shared.txt");
    unlink("log.txt");
    unlink("edit.bin");
    return 0;
}
