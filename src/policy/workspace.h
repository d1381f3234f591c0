/* Resolving and pinning the workspace (DESIGN.md §3: policy_resolve pins
 * it; the supervisor and the box then work from the descriptor). */
#pragma once

#include <stdbool.h>

#include "common/err.h"

/* Open the workspace given (NULL: the current directory) once, as an
 * O_PATH directory descriptor, and name it by what the kernel says the
 * descriptor is (so a component swapped meanwhile changes nothing: the
 * checks and the mount are about the same directory).  no_symlinks (used
 * under root): follow no symlink at all on the way.  The canonical path is
 * checked with policy_check_workspace(.., NULL).  On success *fd_out and
 * *path_out (malloc'd) are the caller's. */
int policy_workspace_pin(const char *given, bool no_symlinks, int *fd_out,
                         char **path_out, struct ab_err *err);
