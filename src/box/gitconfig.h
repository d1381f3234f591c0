/* A reader of git's config format, enough to find the keys that name
 * other files (core.hooksPath, include.path, submodule paths): sections
 * [name], [name "sub"] and [name.sub], "key = value" with quotes, escapes,
 * comments and continued lines, a bare key meaning true.  Its input is
 * the workspace's (the box may have written it before it was protected),
 * so it is capped and fuzzed; anything it cannot read is skipped. */
#pragma once

#include <stddef.h>

/* Call fn for each variable in buf[0..len): section and key lower-cased,
 * subsection as written (NULL when none), value unquoted (NULL for a bare
 * key).  Stops when fn returns non-zero and returns that; else 0. */
int gitconfig_each(const char *buf, size_t len,
                   int (*fn)(void *arg, const char *section,
                             const char *sub, const char *key,
                             const char *value),
                   void *arg);
