#ifndef _ASSERT_H
#define _ASSERT_H
#include <stdio.h>
#include <stdlib.h>
#ifdef NDEBUG
#define assert(e) ((void)0)
#else
#define assert(e) ((e) ? (void)0 : (fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #e), abort()))
#endif
#endif
