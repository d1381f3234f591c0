/* The protected paths of the workspace (DESIGN.md §1: code the host runs
 * later).  Relative to the workspace; the box sees each read-only and can
 * neither create, remove, rename nor replace it or any parent of it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "policy/src.h"

/* How a missing path is held while the box runs (see src/box/protect.c). */
enum protect_hold {
        PROTECT_HOLD_NODE,  /* an inert socket node: git ignores it, opening
                             * it fails at once (ENXIO), and it costs a
                             * fraction of a directory to make and remove */
        PROTECT_HOLD_DOT,   /* a file holding ".": git's commondir */
        PROTECT_HOLD_CONF,  /* a file holding a comment: a git config */
        PROTECT_HOLD_NONE,  /* not held when missing (see the flags) */
};

struct protect_default {
        const char *path;
        enum protect_hold hold;
        bool if_parent;  /* only where its parent directory exists */
        const char *marker; /* a directory with this in it (a real
                             * repository) stays writable, but can be
                             * neither removed nor replaced */
        const char *why; /* what on the host runs it */
};

/* The built-in list, in the order agentbox(1) gives it.  Two entries are
 * patterns the box expands: the modules one (every git directory at any
 * depth below .git/modules) and the worktrees one (each linked worktree's
 * directory in .git/worktrees). */
extern const struct protect_default protect_defaults[];
extern const size_t protect_defaults_n;

#define PROTECT_MAX 256
#define PROTECT_PATH_MAX 1024

struct protect_rules {
        char **add;      /* --protect, filesystem.protect */
        size_t n_add;
        char **remove;   /* --unprotect, filesystem.unprotect */
        size_t n_remove;
        struct policy_src *add_src, *remove_src; /* each one's origin */
};

/* Normalise and add one path ("a/b", "./a/b/", an absolute path inside
 * workspace ws when ws is known) to rules->add or rules->remove.  Refuses
 * "..", "*", an empty path, the workspace itself, and more than
 * PROTECT_MAX of either.  what names the flag for the message. */
int protect_rule_add(struct protect_rules *rules, bool remove,
                     const char *path, const char *what, struct ab_err *err);
/* The same, recording where it came from. */
int protect_rule_add_src(struct protect_rules *rules, bool remove,
                         const char *path, const char *what,
                         struct policy_src src, struct ab_err *err);
void protect_rules_free(struct protect_rules *rules);

/* Whether rule path r removes entry e: e is r or below it. */
bool protect_covers(const char *r, const char *e);

/* Whether the built-in entry (by index) is in force under rules. */
bool protect_default_active(const struct protect_rules *rules, size_t i);
