/* What the box left in the workspace that host tools may run and the
 * protected paths do not hold back (leftovers.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define BOX_LEFTOVERS_MAX 32

struct box_leftovers {
        char *v[BOX_LEFTOVERS_MAX]; /* "path (why)" */
        size_t n;
        size_t more;     /* found beyond the first BOX_LEFTOVERS_MAX */
        size_t entries;  /* looked at */
        bool complete;   /* the whole tree was looked at in time */
        bool too_deep;   /* parts lie deeper than the look goes */
};

/* Walk the workspace (ws_fd, at ws_path on the host) for at most
 * budget_us: names of protected paths below the root, and links out of
 * the workspace, changed at or after since (CLOCK_REALTIME, as ctime).
 * Returns 0 or -errno; fills out (free with box_leftovers_free). */
int box_leftovers_find(int ws_fd, const char *ws_path,
                       const struct timespec *since, long budget_us,
                       struct box_leftovers *out);
void box_leftovers_free(struct box_leftovers *l);

/* The same look inside a linked worktree's repository's git directory
 * (mounted beside the workspace), adding to out. */
int box_leftovers_gitdir(int git_fd, const char *git_path,
                         const struct timespec *since,
                         struct box_leftovers *out);

/* Does a symlink at rel (relative to the workspace at ws_path) with
 * target t point out of the workspace?  Lexically, as the box wrote it. */
bool box_link_escapes(const char *ws_path, const char *rel, const char *t);
