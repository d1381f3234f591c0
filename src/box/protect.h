/* Protected workspace paths, the mechanism (src/policy/protect.h says
 * which; protect.c says how). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"
#include "policy/protect.h"

#define BOX_PROTECT_LOCKS 64

/* What in a linked worktree's directory (.git/worktrees/NAME) points host
 * git elsewhere: protected at start, reported when changed at the end. */
#define BOX_WORKTREE_POINTERS 3
extern const char *const box_worktree_pointers[BOX_WORKTREE_POINTERS];

struct box_protect {
        char *plan;        /* "R path\n" / "A path\n", parents first */
        size_t plan_len;
        size_t n_items;    /* mounts in the plan */
        size_t made;       /* placeholders this run made */
        int ws_fd;         /* borrowed: the pinned workspace */
        const char *ws_path;
        int lock_fd;       /* the workspace, flock(LOCK_SH) while we run */
        int locks[BOX_PROTECT_LOCKS]; /* and each directory a placeholder
                                       * of the plan lies in (shared with
                                       * runs from other workspaces) */
        struct {
                dev_t dev;
                ino_t ino;
        } lock_ids[BOX_PROTECT_LOCKS];
        size_t n_locks;
        uid_t owner;       /* who placeholders belong to (under root) */
        gid_t group;
        bool chown;
};

/* Host side: lock the workspace, make this run's placeholders (or take
 * over an earlier run's), and compute the plan of mounts.  gitdir: ws is a
 * repository's git directory (a linked worktree's, mounted beside it),
 * which gets the ".git/" defaults at its root.  Fails closed: on error the
 * box must not start. */
int box_protect_prepare(int ws_fd, const char *ws_path,
                        const struct protect_rules *rules, bool gitdir,
                        uid_t owner, gid_t group, struct box_protect *bp,
                        struct ab_err *err);

/* Host side, after the box ended: if no other run holds the workspace,
 * remove every placeholder at the paths the plan holds; release all. */
void box_protect_finish(struct box_protect *bp);

/* Child side: make the plan's mounts inside the box's workspace (the
 * plan's text is modified; a line "D /path" moves on to that directory).
 * Dies on any failure. */
void box_protect_apply(const char *workspace, char *plan);
