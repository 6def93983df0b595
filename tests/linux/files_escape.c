/* files_escape MODE ...: a hostile program that tries to write, create,
 * remove, rename, link and change host files outside its tree's root
 * (tests/tests/files_escape.rs). Every attempt prints one line
 * "CASE: RESULT", RESULT being "ok" or the errno's name; a file opened for
 * writing gets "CASE\n" written into it, so the test can find where a
 * write landed.
 *
 *   files_escape cases P WORKDIR     `../`, absolute paths, symbolic links
 *                                    to outside, hard links, /proc/self/root
 *   files_escape race P WORKDIR N    a name swapped between a directory and
 *                                    a symbolic link to outside by a child,
 *                                    while this process creates, makes
 *                                    directories and renames through it N times
 *   files_escape devices WORKDIR     mknod, and host device nodes, FIFOs and
 *                                    links to devices placed in the root
 *   files_escape readonly WORKDIR    every write op on a read-only root
 *
 * P is the host path of the directory that holds the root (the root's
 * parent): it holds SECRET and outside/file, which no case may change.
 * Inside the tree WORKDIR is /w; the test also runs the program natively,
 * unconfined, with WORKDIR = the host path of the root's w/, to show that
 * the same attempts do change the outside there. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* musl has no strerrorname_np. */
static const char *ename(int e)
{
    static char other[32];
    switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ETXTBSY: return "ETXTBSY";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case EMLINK: return "EMLINK";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default:
        snprintf(other, sizeof other, "errno %d", e);
        return other;
    }
}

/* Prints "name: ok" for rc >= 0, else "name: ERRNO". */
static void report(const char *name, long rc)
{
    int e = errno;
    if (rc < 0)
        printf("%s: %s\n", name, ename(e));
    else
        printf("%s: ok\n", name);
    fflush(stdout);
}

/* open(path, flags, 0644); on success writes "name\n" if opened for
 * writing, closes it and reports ok. */
static void try_open_at(const char *name, int dirfd, const char *path, int flags)
{
    int fd = openat(dirfd, path, flags, 0644);
    if (fd < 0) {
        report(name, -1);
        return;
    }
    if (flags & (O_WRONLY | O_RDWR)) {
        char line[128];
        int n = snprintf(line, sizeof line, "%s\n", name);
        if (write(fd, line, (size_t)n) != n) {
            report(name, -1);
            close(fd);
            return;
        }
    }
    close(fd);
    report(name, 0);
}

static void try_open(const char *name, const char *path, int flags)
{
    try_open_at(name, AT_FDCWD, path, flags);
}

/* A path from a printf format, in one of a few rotating buffers. */
static const char *fmt(const char *f, const char *a)
{
    static char bufs[8][4096];
    static int i;
    char *b = bufs[i++ % 8];
    snprintf(b, sizeof bufs[0], f, a);
    return b;
}

/* Makes a small regular file holding "name\n"; exits on failure (setup). */
static void make_file(const char *path)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0 || write(fd, path, strlen(path)) < 0 || write(fd, "\n", 1) != 1) {
        printf("setup %s: %s\n", path, ename(errno));
        exit(3);
    }
    close(fd);
}

static void make_link(const char *target, const char *path)
{
    if (symlink(target, path) < 0) {
        printf("setup symlink %s: %s\n", path, ename(errno));
        exit(3);
    }
}

static const struct timespec EPOCH[2] = {{0, 0}, {0, 0}};

static int cases(const char *p)
{
    /* fmt's buffers rotate: keep these two. */
    const char *secret = strdup(fmt("%s/SECRET", p));
    const char *ofile = strdup(fmt("%s/outside/file", p));
    make_file("mine");
    make_file("mine2");
    make_file("mine3");
    make_file("mine4");

    /* `..` climbs to the root and stops there: ../../SECRET from /w is
     * /SECRET, and /outside does not exist in the root. */
    try_open("dd_open_trunc", "../../SECRET", O_WRONLY | O_TRUNC);
    try_open("dd_open_rdwr", "../../outside/file", O_RDWR);
    try_open("dd_open_append", "../../../SECRET", O_WRONLY | O_APPEND);
    try_open("dd_creat_in_outside", "../../outside/new", O_CREAT | O_WRONLY);
    try_open("dd_creat", "../../dd-new", O_CREAT | O_WRONLY | O_EXCL);
    report("dd_truncate", truncate("../../SECRET", 0));
    report("dd_unlink", unlink("../../SECRET"));
    report("dd_rmdir", rmdir("../../outside"));
    report("dd_mkdir", mkdir("../../outside/d", 0755));
    report("dd_mkdir_top", mkdir("../../../dd-dir", 0755));
    report("dd_rename_src", rename("../../SECRET", "stolen"));
    report("dd_rename_dir_src", rename("../../outside", "stolen"));
    report("dd_rename_dst", rename("mine", "../../outside/file"));
    report("dd_link_src", link("../../SECRET", "hl"));
    report("dd_link_dst", link("mine", "../../outside/hl"));
    report("dd_symlink_dst", symlink("x", "../../outside/sl"));
    report("dd_chmod", chmod("../../SECRET", 0777));
    report("dd_utimens", utimensat(AT_FDCWD, "../../SECRET", EPOCH, 0));
    int rootfd = open("/", O_RDONLY | O_DIRECTORY);
    report("dd_at_open_root", rootfd);
    try_open_at("dd_at_write", rootfd, "../outside/file", O_WRONLY);
    report("dd_at_unlink", unlinkat(rootfd, "../SECRET", 0));
    report("dd_at_mkdir", mkdirat(rootfd, "../outside/x", 0755));
    close(rootfd);

    /* Absolute paths resolve from the root: P/outside exists inside the
     * root too (the test made it there), P/SECRET and P/outside/file do
     * not, so what is made lands inside. */
    try_open("abs_open_trunc", secret, O_WRONLY | O_TRUNC);
    try_open("abs_open_write", ofile, O_WRONLY);
    try_open("abs_creat", fmt("%s/outside/abs-new", p), O_CREAT | O_WRONLY | O_EXCL);
    report("abs_truncate", truncate(secret, 0));
    report("abs_unlink", unlink(ofile));
    report("abs_rmdir", rmdir(fmt("%s/outside", p)));
    report("abs_mkdir", mkdir(fmt("%s/outside/abs-dir", p), 0755));
    report("abs_rename_src", rename(secret, "stolen"));
    report("abs_rename_dst", rename("mine2", fmt("%s/outside/abs-moved", p)));
    report("abs_link_src", link(secret, "hl"));
    report("abs_link_dst", link("mine", fmt("%s/outside/abs-hl", p)));
    report("abs_symlink", symlink("x", fmt("%s/outside/abs-sl", p)));
    report("abs_chmod", chmod(secret, 0777));
    report("abs_chmod_dir", chmod(fmt("%s/outside", p), 0700));
    report("abs_utimens", utimensat(AT_FDCWD, secret, EPOCH, 0));
    report("abs_utimens_dir", utimensat(AT_FDCWD, fmt("%s/outside", p), EPOCH, 0));

    /* Symbolic links to outside: absolute (la, lda) and relative (lr, ldr).
     * They resolve as if the root were /: la -> root/P/SECRET (not there
     * yet), lr -> root/SECRET (not there yet), lda -> root/P/outside (a
     * directory inside), ldr -> root/outside (not there). */
    make_link(secret, "la");
    make_link(secret, "la2");
    make_link("../../SECRET", "lr");
    make_link("../../SECRET", "lr2");
    make_link("../../SECRET", "lr3");
    make_link(fmt("%s/outside", p), "lda");
    make_link("../../outside", "ldr");
    try_open("sl_abs_trunc", "la", O_WRONLY | O_TRUNC);
    try_open("sl_rel_trunc", "lr", O_WRONLY | O_TRUNC);
    try_open("sl_rel_rdwr", "lr", O_RDWR);
    try_open("sl_absdir_write", "lda/file", O_WRONLY);
    try_open("sl_reldir_write", "ldr/file", O_WRONLY);
    try_open("sl_reldir_creat", "ldr/new", O_CREAT | O_WRONLY);
    try_open("sl_absdir_creat", "lda/sl-new", O_CREAT | O_WRONLY | O_EXCL);
    report("sl_reldir_mkdir", mkdir("ldr/d", 0755));
    report("sl_absdir_mkdir", mkdir("lda/sl-dir", 0755));
    report("sl_mkdir_on_link", mkdir("la", 0755));
    try_open("sl_creat_excl", "la", O_CREAT | O_EXCL | O_WRONLY);
    try_open("sl_nofollow", "la", O_WRONLY | O_NOFOLLOW);
    try_open("sl_creat_nofollow", "lr", O_CREAT | O_WRONLY | O_NOFOLLOW);
    report("sl_reldir_unlink", unlink("ldr/file"));
    report("sl_absdir_unlink", unlink("lda/file"));
    report("sl_unlink_link", unlink("lr2"));
    report("sl_rmdir_link", rmdir("ldr"));
    report("sl_reldir_rename_src", rename("ldr/file", "stolen"));
    report("sl_reldir_rename_dst", rename("mine", "ldr/file"));
    report("sl_rename_link", rename("la2", "la2-moved"));
    report("sl_rename_over_link", rename("mine3", "lr3"));
    report("sl_rename_into_absdir", rename("mine4", "lda/sl-moved"));
    /* Linux's link(2) does not follow a symbolic link: a hard link to the
     * link itself. */
    report("sl_link_nofollow", link("la", "hl-la"));
    report("sl_link_follow_abs", linkat(AT_FDCWD, "la", AT_FDCWD, "hl-fa", AT_SYMLINK_FOLLOW));
    report("sl_link_follow_rel", linkat(AT_FDCWD, "lr", AT_FDCWD, "hl-fr", AT_SYMLINK_FOLLOW));
    report("sl_link_follow_dir",
           linkat(AT_FDCWD, "ldr/file", AT_FDCWD, "hl-fd", AT_SYMLINK_FOLLOW));
    report("sl_link_dst_reldir", link("mine", "ldr/hl"));
    report("sl_link_dst_absdir", link("mine", "lda/sl-hl"));
    report("sl_chmod_abs", chmod("la", 0777));
    report("sl_chmod_rel", chmod("lr", 0777));
    report("sl_chmod_reldir", chmod("ldr", 0777));
    report("sl_utimens_abs", utimensat(AT_FDCWD, "la", EPOCH, 0));
    report("sl_utimens_rel", utimensat(AT_FDCWD, "lr", EPOCH, 0));
    report("sl_utimens_nofollow", utimensat(AT_FDCWD, "la", EPOCH, AT_SYMLINK_NOFOLLOW));
    report("sl_truncate_abs", truncate("la", 0));
    report("sl_truncate_rel", truncate("lr", 0));
    /* A link made by the program itself, then written through. */
    report("sl_symlink_abs", symlink(secret, "sw"));
    try_open("sl_sw_append", "sw", O_WRONLY | O_APPEND);
    report("sl_symlink_rel", symlink("../../SECRET", "sr"));
    try_open("sl_sr_write", "sr", O_WRONLY);
    int dfd = open("ldr", O_RDONLY | O_DIRECTORY);
    report("sl_reldir_open_dir", dfd);
    if (dfd >= 0)
        close(dfd);

    /* /proc/self/root and other magic links: never followed (or there is
     * no /proc at all). */
    try_open("proc_root_creat", fmt("/proc/self/root%s/outside/pr-new", p), O_CREAT | O_WRONLY);
    try_open("proc_root_trunc", fmt("/proc/self/root%s/SECRET", p), O_WRONLY | O_TRUNC);
    try_open("proc_1_root_trunc", fmt("/proc/1/root%s/SECRET", p), O_WRONLY | O_TRUNC);
    report("proc_root_unlink", unlink(fmt("/proc/self/root%s/SECRET", p)));
    report("proc_root_mkdir", mkdir(fmt("/proc/self/root%s/outside/pr-dir", p), 0755));
    report("proc_root_rename", rename("mine", fmt("/proc/self/root%s/outside/pr-moved", p)));
    report("proc_root_link", link(fmt("/proc/self/root%s/SECRET", p), "hl-pr"));
    report("proc_root_chmod", chmod(fmt("/proc/self/root%s/SECRET", p), 0777));
    report("proc_root_truncate", truncate(fmt("/proc/self/root%s/SECRET", p), 0));
    make_link("/proc/self/root", "magic");
    try_open("proc_magic_trunc", fmt("magic%s/SECRET", p), O_WRONLY | O_TRUNC);
    try_open("proc_magic_creat", fmt("magic%s/outside/pm-new", p), O_CREAT | O_WRONLY);
    int wfd = open(".", O_RDONLY | O_DIRECTORY);
    char fdpath[64];
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d/../../SECRET", wfd);
    try_open("proc_fd_trunc", fdpath, O_WRONLY | O_TRUNC);
    close(wfd);
    char target[256];
    ssize_t n = readlink("/proc/self/root", target, sizeof target - 1);
    report("proc_root_readlink", n);
    if (n >= 0) {
        target[n] = 0;
        printf("proc_root_readlink target: %s\n", target);
    }

    /* Last, what follows the dangling links inside the root and creates
     * their targets there (as Linux does in a chroot). */
    try_open("sl_abs_creat", "la", O_CREAT | O_WRONLY);
    try_open("sl_rel_creat", "lr", O_CREAT | O_WRONLY);
    dfd = open("lda", O_RDONLY | O_DIRECTORY);
    report("sl_absdir_open_dir", dfd);
    try_open_at("sl_at_creat", dfd, "../at-new", O_CREAT | O_WRONLY | O_EXCL);
    close(dfd);
    printf("done\n");
    return 0;
}

/* One op through the racing name, counted by its result. */
struct tally {
    const char *name;
    long ok, enoent, other;
    int last_other;
};

static void count(struct tally *t, long rc)
{
    if (rc >= 0)
        t->ok++;
    else if (errno == ENOENT)
        t->enoent++;
    else {
        t->other++;
        t->last_other = errno;
    }
}

/* Keeps x as it is for a few calls. */
static void hold(void)
{
    struct stat st;
    for (int k = 0; k < 8; k++)
        lstat("x", &st);
}

static void swapper(const char *p)
{
    const char *abs = strdup(fmt("%s/outside", p));
    for (long i = 0;; i++) {
        /* x: a directory, then (moved aside) a link to outside, in turn
         * absolute and relative (race/x/.. is w, then the root, then P). */
        if (rename("x", "xd") < 0)
            _exit(10);
        if (symlink(i % 2 ? abs : "../../../outside", "x") < 0)
            _exit(11);
        hold();
        if (unlink("x") < 0)
            _exit(12);
        if (rename("xd", "x") < 0)
            _exit(13);
        hold();
    }
}

static int race(const char *p, long n)
{
    if (mkdir("race", 0755) < 0 || chdir("race") < 0 || mkdir("x", 0755) < 0) {
        printf("setup race: %s\n", ename(errno));
        return 3;
    }
    make_file("m");
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
        printf("fork: %s\n", ename(errno));
        return 3;
    }
    if (child == 0)
        swapper(p);
    struct tally creat = {"creat"}, mk = {"mkdir"}, mv_in = {"rename_in"}, mv_out = {"rename_out"},
                 ln = {"link"}, trunc = {"open_trunc"};
    for (long i = 0; i < n; i++) {
        int fd = open("x/r-new", O_CREAT | O_WRONLY, 0644);
        count(&creat, fd);
        if (fd >= 0) {
            if (write(fd, "race\n", 5) != 5)
                printf("write: %s\n", ename(errno));
            close(fd);
        }
        count(&mk, mkdir("x/r-dir", 0755));
        count(&mv_in, rename("m", "x/r-moved"));
        count(&mv_out, rename("x/r-moved", "m"));
        count(&ln, link("m", "x/r-hl"));
        unlink("x/r-hl");
        fd = open("x/r-new", O_WRONLY | O_TRUNC);
        count(&trunc, fd);
        if (fd >= 0)
            close(fd);
    }
    int status = 0;
    pid_t w = waitpid(child, &status, WNOHANG);
    if (w == child)
        printf("swapper ended early: status %d\n", status);
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    struct tally *all[] = {&creat, &mk, &mv_in, &mv_out, &ln, &trunc};
    for (int i = 0; i < 6; i++) {
        struct tally *t = all[i];
        printf("race %s: ok %ld enoent %ld other %ld", t->name, t->ok, t->enoent, t->other);
        if (t->other)
            printf(" (last %s)", ename(t->last_other));
        printf("\n");
    }
    printf("done\n");
    return 0;
}

static int devices(void)
{
    /* Device nodes: never made by the tree. */
    report("mknod_chr", mknod("nod-chr", S_IFCHR | 0600, makedev(1, 3)));
    report("mknod_blk", mknod("nod-blk", S_IFBLK | 0600, makedev(8, 0)));
    report("mknodat_chr", mknodat(AT_FDCWD, "nod-at", S_IFCHR | 0600, makedev(1, 5)));
    /* Placed in the root by the host: hostnull (char 1:3), hostzero (char
     * 1:5), hostdisk (block: the host's disk), hostfifo; links to them and
     * to the host's /dev. */
    try_open("open_host_null_rdwr", "hostnull", O_RDWR);
    try_open("open_host_null_rdonly", "hostnull", O_RDONLY);
    try_open("open_host_zero", "hostzero", O_RDONLY);
    try_open("open_host_disk", "hostdisk", O_RDONLY);
    try_open("open_host_fifo_read", "hostfifo", O_RDONLY | O_NONBLOCK);
    try_open("open_host_fifo_write", "hostfifo", O_WRONLY | O_NONBLOCK);
    try_open("open_link_to_host_null", "link-hostnull", O_RDONLY);
    try_open("open_link_to_dev_sda", "link-sda", O_RDONLY);
    try_open("open_link_to_dev_null", "link-devnull", O_RDONLY);
    try_open("open_dev_sda", "/dev/sda", O_RDONLY);
    try_open("open_dev_vda", "/dev/vda", O_RDONLY);
    try_open("open_dev_mem", "/dev/mem", O_RDONLY);
    printf("done\n");
    return 0;
}

static int readonly(void)
{
    try_open("ro_open_wronly", "ro-file", O_WRONLY);
    try_open("ro_open_rdwr", "ro-file", O_RDWR);
    try_open("ro_open_append", "ro-file", O_WRONLY | O_APPEND);
    try_open("ro_open_trunc", "ro-file", O_RDONLY | O_TRUNC);
    try_open("ro_open_link_write", "ro-link", O_WRONLY);
    try_open("ro_creat_new", "new", O_CREAT | O_WRONLY);
    try_open("ro_creat_excl", "new", O_CREAT | O_EXCL | O_RDONLY);
    report("ro_creat", creat("new2", 0644));
    report("ro_truncate", truncate("ro-file", 0));
    report("ro_mkdir", mkdir("newdir", 0755));
    report("ro_rmdir", rmdir("ro-dir"));
    report("ro_unlink", unlink("ro-file"));
    report("ro_unlink_link", unlink("ro-link"));
    report("ro_rename", rename("ro-file", "moved"));
    report("ro_rename_dir", rename("ro-dir", "moved-dir"));
    report("ro_link", link("ro-file", "hl"));
    report("ro_symlink", symlink("ro-file", "sl"));
    report("ro_chmod", chmod("ro-file", 0600));
    report("ro_chmod_dir", chmod("ro-dir", 0700));
    report("ro_utimens", utimensat(AT_FDCWD, "ro-file", EPOCH, 0));
    report("ro_utimens_link", utimensat(AT_FDCWD, "ro-link", EPOCH, AT_SYMLINK_NOFOLLOW));
    report("ro_access_w", access("ro-file", W_OK));
    report("ro_mknod", mknod("nod", S_IFCHR | 0600, makedev(1, 3)));
    report("ro_mknod_reg", mknod("nod-reg", S_IFREG | 0600, 0));
    int fd = open("ro-file", O_RDONLY);
    report("ro_open_rdonly", fd);
    report("ro_fchmod", fchmod(fd, 0600));
    report("ro_futimens", futimens(fd, EPOCH));
    /* Linux checks the description's mode first: EINVAL / EBADF, not EROFS. */
    report("ro_ftruncate", ftruncate(fd, 0));
    report("ro_write", write(fd, "x", 1));
    report("ro_pwrite", pwrite(fd, "x", 1, 0));
    close(fd);
    /* /dev/null is the device's, not the root's: still writable. */
    try_open("ro_dev_null_write", "/dev/null", O_WRONLY);
    printf("done\n");
    return 0;
}

int main(int argc, char **argv)
{
    umask(022);
    const char *mode = argc > 1 ? argv[1] : "";
    int wd = strcmp(mode, "cases") == 0 || strcmp(mode, "race") == 0 ? 3 : 2;
    if (argc <= wd) {
        fprintf(stderr, "usage: files_escape cases|race P WORKDIR [N] | devices|readonly WORKDIR\n");
        return 2;
    }
    if (chdir(argv[wd]) < 0) {
        printf("chdir %s: %s\n", argv[wd], ename(errno));
        return 3;
    }
    if (strcmp(mode, "cases") == 0)
        return cases(argv[2]);
    if (strcmp(mode, "race") == 0)
        return race(argv[2], argc > 4 ? atol(argv[4]) : 2000);
    if (strcmp(mode, "devices") == 0)
        return devices();
    if (strcmp(mode, "readonly") == 0)
        return readonly();
    fprintf(stderr, "files_escape: unknown mode %s\n", mode);
    return 2;
}
