#ifndef _STDIO_H
#define _STDIO_H
#include <_unikernel.h>
#include <stdarg.h>
typedef struct __unikernel_file FILE;
extern FILE *stdin, *stdout, *stderr;
#define EOF (-1)
#define BUFSIZ 4096
#define _IOFBF 0
#define _IOLBF 1
#define _IONBF 2
int printf(const char *fmt, ...) __UK_PRINTF(1, 2);
int fprintf(FILE *f, const char *fmt, ...) __UK_PRINTF(2, 3);
int dprintf(int fd, const char *fmt, ...) __UK_PRINTF(2, 3);
int sprintf(char *buf, const char *fmt, ...) __UK_PRINTF(2, 3);
int snprintf(char *buf, size_t size, const char *fmt, ...) __UK_PRINTF(3, 4);
int vprintf(const char *fmt, va_list ap);
int vfprintf(FILE *f, const char *fmt, va_list ap);
int vdprintf(int fd, const char *fmt, va_list ap);
int vsprintf(char *buf, const char *fmt, va_list ap);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int puts(const char *s);
int fputs(const char *s, FILE *f);
int putchar(int c);
int fputc(int c, FILE *f);
int putc(int c, FILE *f);
size_t fwrite(const void *p, size_t size, size_t n, FILE *f);
size_t fread(void *p, size_t size, size_t n, FILE *f);
int fgetc(FILE *f);
int getc(FILE *f);
int getchar(void);
char *fgets(char *buf, int size, FILE *f);
int fflush(FILE *f);
int feof(FILE *f);
int ferror(FILE *f);
int fileno(FILE *f);
int setvbuf(FILE *f, char *buf, int mode, size_t size);
void perror(const char *s);
#endif
