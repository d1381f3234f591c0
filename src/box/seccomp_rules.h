#pragma once

#include <seccomp.h>

#include "common/err.h"

/* Add the box's rules (and, on x86-64, the 32-bit and x32 arches) to ctx,
 * created with seccomp_init(SCMP_ACT_ALLOW). */
int box_seccomp_rules(scmp_filter_ctx ctx, struct ab_err *err);
