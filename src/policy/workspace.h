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

/* When the workspace ws (pinned: ws_fd, canonical ws_path) is a linked
 * worktree (.git is a file "gitdir: DIR", DIR has a commondir file and a
 * gitdir file naming ws_path/.git back), open the repository's common git
 * directory it belongs to, the same way as the workspace, so the box can
 * have it too; it must be owned by owner and pass the workspace checks.
 * Returns 1 with *fd_out and *path_out set, 0 when the workspace is no
 * linked worktree (or its repository lies inside it), or -errno with err
 * filled (a .git file that points elsewhere is refused). */
int policy_worktree_repo(int ws_fd, const char *ws_path, bool no_symlinks,
                         unsigned owner, int *fd_out, char **path_out,
                         struct ab_err *err);
