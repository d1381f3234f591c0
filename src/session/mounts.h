/* filesystem.mounts, resolved and checked on the host side (mounts.c). */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "box/box.h"
#include "common/err.h"
#include "policy/policy.h"

/* Resolve p's mounts for a box on workspace (and repo, or NULL) whose
 * files owner owns into a malloc'ed array.  0, or -errno with err naming
 * the mount and its line. */
int session_mounts_resolve(const struct policy *p, const char *workspace,
                           const char *repo, uid_t owner,
                           struct box_mount **out, size_t *n_out,
                           struct ab_err *err);
void session_mounts_free(struct box_mount *v, size_t n);
