#ifndef _UNISTD_H
#define _UNISTD_H
#include <_unikernel.h>
#define STDIN_FILENO 0
#define STDOUT_FILENO 1
#define STDERR_FILENO 2
ssize_t read(int fd, void *buf, size_t n);
ssize_t write(int fd, const void *buf, size_t n);
int close(int fd);
int pipe(int fds[2]);
int pipe2(int fds[2], int flags);
int dup(int fd);
int dup2(int fd, int newfd);
/* fork() flushes stdout and stderr first; the child is a new VM. */
pid_t fork(void);
pid_t getpid(void);
pid_t getppid(void);
unsigned int sleep(unsigned int seconds);
int usleep(useconds_t us);
int isatty(int fd);
char *getcwd(char *buf, size_t size);
void _exit(int code) __UK_NORETURN;
extern char **environ;
#endif
