/* kind.c - see kind.h. The registry is written once, at start-up, before
 * any thread reads it. */
#include "store/kind.h"

#include "lib/util.h"

static const kind_ops *registry[KIND_MAX];

void kind_register(unsigned kind, const kind_ops *ops)
{
    if (kind < KIND_MAX) registry[kind] = ops;
}

const kind_ops *kind_ops_of(unsigned kind) { return kind < KIND_MAX ? registry[kind] : NULL; }

int kind_by_name(const char *name, size_t len)
{
    for (unsigned k = 0; k < KIND_MAX; k++)
        if (registry[k] && util_eqi(name, len, registry[k]->name)) return (int)k;
    return -1;
}

const char *kind_name(unsigned kind)
{
    const kind_ops *ops = kind_ops_of(kind);
    return ops ? ops->name : "none";
}
