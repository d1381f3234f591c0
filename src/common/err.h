/* Error convention (docs/internals/errors.md): functions return 0 or a
 * negative errno; where a person needs context they also fill a struct
 * ab_err.  Library code never prints; the top level reports once. */
#pragma once

#include <stddef.h>

struct ab_err {
        int code;       /* negative errno, 0 when unset */
        char msg[1024]; /* a sentence: what failed, on what, what to do */
};

/* Fill err (if non-NULL) and return code (a negative errno), so callers can
 * write `return err_set(err, -EINVAL, "...")`. */
int err_set(struct ab_err *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Like err_set, appending ": <strerror(-code)>". */
int err_setx(struct ab_err *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
