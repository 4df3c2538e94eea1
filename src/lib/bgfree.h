/* bgfree.h - freeing big structures away from the threads that serve
 * clients. Deleting a collection of ten million elements takes longer than
 * any client should wait; its owner hands the structure over and one
 * background thread frees it (Redis's lazyfree). */
#ifndef KASI_BGFREE_H
#define KASI_BGFREE_H

#include <stddef.h>

/* Run fn(arg) on the background thread, soon; returns at once. When the
 * thread cannot be had, fn runs here. */
void bgfree_submit(void (*fn)(void *), void *arg);
/* Wait until everything submitted before this call has run. */
void bgfree_drain(void);
/* Jobs submitted and not yet run (INFO's lazyfree_pending_objects). */
size_t bgfree_pending(void);
/* Jobs run since start (INFO's lazyfreed_objects). */
size_t bgfree_done(void);

#endif
