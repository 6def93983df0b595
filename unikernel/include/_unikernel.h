/* Shared definitions of the unikernel C library headers. */
#ifndef _UNIKERNEL_H
#define _UNIKERNEL_H
#include <stddef.h>
#include <stdint.h>
typedef long ssize_t;
typedef int pid_t;
typedef long off_t;
typedef unsigned int mode_t;
typedef long time_t;
typedef long suseconds_t;
typedef long clock_t;
typedef int clockid_t;
typedef unsigned int useconds_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
#define __UK_NORETURN __attribute__((__noreturn__))
#define __UK_PRINTF(f, a) __attribute__((__format__(__printf__, f, a)))
#endif
