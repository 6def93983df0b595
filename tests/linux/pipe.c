/* A pipe inside one process, and the fd calls around it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

int main(void)
{
    int p[2];
    if (pipe(p) != 0) {
        printf("pipe failed\n");
        return 1;
    }
    printf("write: %zd\n", write(p[1], "hello, pipe", 11));
    char buf[64] = {0};
    printf("read: %zd %s\n", read(p[0], buf, sizeof buf), buf);

    struct iovec iov[3] = {{"one ", 4}, {"two ", 4}, {"three", 5}};
    printf("writev: %zd\n", writev(p[1], iov, 3));
    char a[6] = {0}, b[8] = {0};
    struct iovec rv[2] = {{a, 5}, {b, 7}};
    printf("readv: %zd [%s][%s]\n", readv(p[0], rv, 2), a, b);

    int d = dup(p[1]);
    printf("dup gives the lowest free fd: %s\n", d == p[1] + 1 ? "yes" : "no");
    printf("dup2 onto 10: %d\n", dup2(p[0], 10));
    printf("F_GETFD of dup2 result: %d\n", fcntl(10, F_GETFD));
    int r = fcntl(10, F_SETFD, FD_CLOEXEC);
    printf("F_SETFD cloexec: %d, F_GETFD: %d\n", r, fcntl(10, F_GETFD));
    printf("F_DUPFD from 20: %d\n", fcntl(p[0], F_DUPFD, 20));
    r = fcntl(p[0], F_DUPFD_CLOEXEC, 30);
    printf("F_DUPFD_CLOEXEC from 30: %d, cloexec %d\n", r, fcntl(30, F_GETFD));
    r = fcntl(p[0], F_SETFL, O_NONBLOCK);
    printf("O_NONBLOCK set: %d, F_GETFL has it: %s\n", r,
           fcntl(p[0], F_GETFL) & O_NONBLOCK ? "yes" : "no");
    ssize_t n = read(p[0], buf, sizeof buf);
    printf("O_NONBLOCK read of the rest: %zd\n", n);
    n = read(p[0], buf, 1);
    printf("O_NONBLOCK read of an empty pipe: %zd errno %s\n", n, errno == EAGAIN ? "EAGAIN" : strerror(errno));

    int q[2];
    r = pipe2(q, O_CLOEXEC);
    printf("pipe2 cloexec: %d, F_GETFD %d\n", r, fcntl(q[0], F_GETFD));
    r = dup3(q[1], 40, O_CLOEXEC);
    printf("dup3 cloexec: %d, F_GETFD %d\n", r, fcntl(40, F_GETFD));
    close(q[1]);
    close(40);
    printf("EOF after last writer closed: %zd\n", read(q[0], buf, sizeof buf));
    r = close(q[1]);
    printf("close of a closed fd: %d errno %s\n", r, errno == EBADF ? "EBADF" : strerror(errno));
    n = read(55, buf, 1);
    printf("read of a bad fd: %zd errno %s\n", n, errno == EBADF ? "EBADF" : strerror(errno));
    n = write(p[1], (char *)16, 4);
    printf("write from a bad pointer: %zd errno %s\n", n, errno == EFAULT ? "EFAULT" : strerror(errno));
    write(p[1], "data", 4);
    n = read(p[0], (char *)16, 4);
    printf("read into a bad pointer: %zd errno %s\n", n, errno == EFAULT ? "EFAULT" : strerror(errno));
    n = read(p[0], buf, 4);
    printf("the bytes stay in the pipe: %zd %.4s\n", n, buf);
    return 0;
}
