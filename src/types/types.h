/* types.h - the value kinds (one file each) and their registration. */
#ifndef KASI_TYPES_H
#define KASI_TYPES_H

#include "store/kind.h"

/* Register every kind's operations with the store (once, at start-up). */
void types_init(void);

#endif
