/* Protected workspace paths, the mechanism (src/policy/protect.h says
 * which; protect.c says how). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"
#include "policy/protect.h"

struct box_protect {
        char *plan;        /* "R path\n" / "A path\n", parents first */
        size_t plan_len;
        size_t n_items;    /* mounts in the plan */
        size_t made;       /* placeholders this run made */
        int ws_fd;         /* borrowed: the pinned workspace */
        const char *ws_path;
        int lock_fd;       /* the workspace, flock(LOCK_SH) while we run */
        int state_fd;      /* agentbox's placeholders/ state directory */
        char journal[48];  /* DEV-INO of the workspace */
        uid_t owner;       /* who placeholders belong to (under root) */
        gid_t group;
        bool chown;
        char note[256];    /* why there is no journal, for --verbose */
};

/* Host side: lock the workspace, sweep placeholders of runs that ended,
 * make this run's, and compute the plan of mounts.  gitdir: ws is a
 * repository's git directory (a linked worktree's, mounted beside it),
 * which gets the ".git/" defaults at its root.  Fails closed: on error the
 * box must not start. */
int box_protect_prepare(int ws_fd, const char *ws_path,
                        const struct protect_rules *rules, bool gitdir,
                        uid_t owner, gid_t group, struct box_protect *bp,
                        struct ab_err *err);

/* Host side, after the box ended: if no other run holds the workspace,
 * remove every recorded placeholder; release everything. */
void box_protect_finish(struct box_protect *bp);

/* Child side: make the plan's mounts inside the box's workspace (the
 * plan's text is modified; a line "D /path" moves on to that directory).
 * Dies on any failure. */
void box_protect_apply(const char *workspace, char *plan);

/* The journal's lines ("KIND INO PATH", KIND s or f), each handed to fn;
 * the buffer (NUL-terminated) is modified.  Malformed lines are skipped. */
void box_protect_journal_each(char *buf,
                              void (*fn)(void *arg, char kind,
                                         unsigned long long ino, char *rel),
                              void *arg);
