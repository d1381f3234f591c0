/* Lexical path arithmetic (nothing on disk is looked at). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Join p to base (both relative, base may be "") and resolve ".", ".." and
 * empty components, into out.  Returns the length (0: base's root itself),
 * or -1 when the path climbs above the root or does not fit. */
int path_normalise(const char *base, const char *p, char *out, size_t size);

/* Is path dir itself or below it (dir's trailing slashes aside; "/"
 * holds every absolute path)? */
bool path_is_under(const char *path, const char *dir);
