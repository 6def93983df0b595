#ifndef _SYS_TYPES_H
#define _SYS_TYPES_H
#include <_unikernel.h>
#endif
