#ifndef _STDLIB_H
#define _STDLIB_H
#include <_unikernel.h>
#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1
void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);
void free(void *p);
int atoi(const char *s);
long atol(const char *s);
long long atoll(const char *s);
long strtol(const char *s, char **end, int base);
long long strtoll(const char *s, char **end, int base);
unsigned long strtoul(const char *s, char **end, int base);
unsigned long long strtoull(const char *s, char **end, int base);
int abs(int v);
long labs(long v);
int atexit(void (*f)(void));
void exit(int code) __UK_NORETURN;
void _Exit(int code) __UK_NORETURN;
void abort(void) __UK_NORETURN;
char *getenv(const char *name);
#endif
