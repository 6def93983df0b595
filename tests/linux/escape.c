/* escape PATH...: a hostile program that tries to reach files outside its
 * tree's root. For each PATH it tries open+read, stat, opendir, chdir
 * and execve, and prints what it got: the first line of what it read, or
 * the errno. Then it climbs with chdir("..") and prints where it is. The
 * test puts a secret next to the root (outside it) and checks that no
 * attempt shows it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* musl has no strerrorname_np. */
static const char *ename(int e)
{
    switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case ELOOP: return "ELOOP";
    case EXDEV: return "EXDEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EPERM: return "EPERM";
    default: return "other";
    }
}

static void first_line(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("open %s: %s\n", path, ename(errno));
        return;
    }
    char buf[80] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) {
        printf("read %s: %s\n", path, ename(errno));
        return;
    }
    buf[strcspn(buf, "\n")] = 0;
    printf("open %s: read \"%s\"\n", path, buf);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *p = argv[i];
        first_line(p);
        struct stat st;
        if (stat(p, &st) < 0)
            printf("stat %s: %s\n", p, ename(errno));
        else
            printf("stat %s: size %lld\n", p, (long long)st.st_size);
        DIR *d = opendir(p);
        if (d) {
            struct dirent *e;
            int n = 0;
            while ((e = readdir(d)) != NULL)
                if (strstr(e->d_name, "SECRET"))
                    n++;
            closedir(d);
            printf("opendir %s: %d secret entries\n", p, n);
        } else {
            printf("opendir %s: %s\n", p, ename(errno));
        }
        char *args[] = {(char *)p, NULL};
        fflush(stdout);
        if (fork() == 0) {
            execv(p, args);
            dprintf(1, "execv %s: %s\n", p, ename(errno));
            _exit(0);
        }
        wait(NULL);
    }
    for (int i = 0; i < 8; i++)
        chdir("..");
    char cwd[256];
    printf("after climbing: %s\n", getcwd(cwd, sizeof cwd) ? cwd : ename(errno));
    first_line("SECRET");
    return 0;
}
