/* One policy file, agentbox.yaml(5), read into a layer: a struct policy
 * that holds what the file says, each value with its line and column, and
 * in "given" which single values it set.  Every problem is collected (not
 * only the first) as "FILE:LINE:COLUMN: key.path: what was expected". */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"

struct policy_errors {
        char **v;
        size_t n;
};

void policy_errors_add(struct policy_errors *e, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
void policy_errors_free(struct policy_errors *e);

/* Parse buf as the file named file (for messages) of the given layer into
 * out (policy_init'ed by the caller; its defaults are not "given").  The
 * keys a layer may not use (deny_mounts and lock outside the managed
 * file, trust outside the user's) are errors.  0, or -EINVAL with errs
 * filled. */
int policy_file_parse(const char *file, const char *buf, size_t len,
                      enum policy_layer layer, struct policy *out,
                      struct policy_errors *errs);

/* Read path (a regular file, no link followed in its last component, at
 * most YTREE_MAX_BYTES) into a malloc'ed buffer.  0, -ENOENT when there
 * is none, or another -errno with errs filled.  *st gets its metadata. */
struct stat;
int policy_file_read(const char *path, char **buf, size_t *len,
                     struct stat *st, struct policy_errors *errs);
/* The same for name in directory dir (path names it in messages). */
int policy_file_read_at(int dir, const char *name, const char *path,
                        char **buf, size_t *len, struct stat *st,
                        struct policy_errors *errs);
