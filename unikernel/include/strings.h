#ifndef _STRINGS_H
#define _STRINGS_H
#include <string.h>
int bcmp(const void *a, const void *b, size_t n);
#endif
