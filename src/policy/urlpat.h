/* The network patterns an http(s) URL needs: its host and port (the
 * scheme's, 80 or 443, when it names none; never every port), and
 * each internal address the host resolves it to (a mirror or a local API
 * on its own network: the box reaches internal addresses only when
 * named).  A user:password@ part is never part of a pattern. */
#pragma once

#include <stdbool.h>

/* fn(arg, pattern, internal) for each; 0, or -EINVAL for no http(s) URL
 * or a host that is no pattern. */
int policy_url_patterns(const char *url,
                        void (*fn)(void *arg, const char *pattern,
                                   bool internal),
                        void *arg);
