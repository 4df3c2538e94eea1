/* durable.h - small file helpers for writing data that must survive a crash. */
#ifndef KASI_DURABLE_H
#define KASI_DURABLE_H

#include <stddef.h>

/* Write all n bytes (retrying short writes). Returns 0, or -1 with errno. */
int durable_write(int fd, const void *p, size_t n);
/* fsync the directory that holds path (so a rename or create in it is
 * durable). Returns 0 or -1 with errno. */
int durable_sync_dir(const char *path);
/* Rename tmp over path, then make the rename durable. */
int durable_replace(const char *tmp, const char *path);
/* "dir/name" in a new string (name alone if it is absolute). */
char *durable_join(const char *dir, const char *name);

#endif
