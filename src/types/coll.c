/* coll.c - see coll.h. */
#include "types/coll.h"

int coll_close_packed(kref *r, unsigned kind, unsigned enc, int changed, size_t count,
                      const char *p, size_t n, int64_t expire, int64_t now)
{
    if (!changed) return 0;
    if (count == 0) {
        if (r->it) ks_delete(r, now);
    } else {
        ks_put_typed(r, kind, enc, p, n, expire);
    }
    return 1;
}

int coll_close_big(kref *r, unsigned kind, unsigned enc, void *ptr, size_t count, size_t mem,
                   size_t mem0, int changed, int64_t expire, int64_t now,
                   void (*destroy)(void *ptr))
{
    if (!mem0) {   /* made by this write: the item gets it now */
        if (!changed || count == 0) {
            destroy(ptr);
            if (changed && r->it) ks_delete(r, now);
            return changed;
        }
        ks_put_typed(r, kind, enc, (const char *)&ptr, sizeof ptr, expire);
        ks_charge(r, (long long)mem);
        return 1;
    }
    if (changed) {
        ks_charge(r, (long long)mem - (long long)mem0);
        if (count == 0) ks_delete(r, now);
    }
    return changed;
}
