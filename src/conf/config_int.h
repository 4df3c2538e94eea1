/* config_int.h - what config.c shares with rewrite.c: the directive table's
 * rows, a directive's value as CONFIG GET shows it, and the line splitter
 * of config files. Not for other modules (they use config.h). */
#ifndef KASI_CONFIG_INT_H
#define KASI_CONFIG_INT_H

#include "conf/config.h"

enum cfg_type { CFG_INT, CFG_OCT, CFG_MEM, CFG_BOOL, CFG_ENUM, CFG_STR };

/* Checks a string value; returns 0, or -1 with Redis's text in err. */
typedef int cfg_check_fn(const char *name, const char *v, char *err, size_t errlen);

typedef struct cfg_row {
    const char *name;
    enum cfg_type type;
    size_t offset;
    const char *def;
    long long min, max;
    const char *enums;   /* ENUM: space-separated words, index = value */
    int flags;
    cfg_check_fn *check;
    const char *info_section, *info_field;
    const char *help;
} cfg_row;

/* The rows, CFG_COUNT of them, indexed by CFG_x. */
extern const cfg_row *const config__rows;

/* Directive r's value in cfg as CONFIG GET shows it (a new string). */
char *config__value(config *cfg, const cfg_row *r);
/* The row of a directive or alias name, or NULL. */
const cfg_row *config__find(const char *name, size_t len);
/* Split the line line[0..n), which ends with a newline, into words as
 * Redis's config parser does (quotes and escapes, unescaped in place;
 * each word NUL-terminated). Returns their number, or -1 if the line does
 * not parse (unbalanced quotes, more than cap words). */
int config__split(char *line, size_t n, char **words, int cap);

#endif
