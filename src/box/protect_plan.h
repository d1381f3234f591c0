/* Inside the protected paths' planning (protect.c, protect_git.c): the
 * plan being made, and the steps each side takes of the other's. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"
#include "policy/protect.h"
#include "protect.h"

#define SCAN_MAX 4096   /* entries looked at inside protected directories */
#define SCAN_DEPTH 8
#define LINK_DEPTH 4    /* links inside protected directories, followed */
#define CONFIG_MAX (1u << 20)
#define SUBMODULES_MAX 256

/* R: read-only; A: a directory above a protected path, writable but
 * immovable; W: the same, asked for below a read-only one (a submodule's
 * own state inside the read-only .git/modules); H: read-only, one of the
 * socket placeholders (all links of one inode, one clone serves all). */
enum item_op { OP_RO = 'R', OP_ANCHOR = 'A', OP_RW = 'W', OP_HELD = 'H' };

struct item {
        char *rel;
        char op;
};

struct ctx {
        struct box_protect *bp;
        int ws;
        const char *ws_path;
        const struct protect_rules *rules;
        struct item *v;
        size_t n, cap;
        size_t scanned;
        bool noscan; /* the next plan_path: no look inside (.git/modules) */
        dev_t ws_dev;
        ino_t ws_ino;
        int node_dir; /* where the first socket placeholder was made; the */
        char node_name[NAME_MAX + 1]; /* others are hard links to it */
        struct ab_err *err;
};

/* protect.c: one item of the plan; one path walked from the workspace
 * without following links, held when missing as how says (only if its
 * parent exists, with if_parent; only when marker exists in it, with a
 * marker), what is inside looked at for links out. */
int box_protect_add_item(struct ctx *c, const char *rel, size_t len, char op);
int box_protect_plan_path(struct ctx *c, const char *rel,
                          enum protect_hold how, bool if_parent,
                          const char *marker, int links);

/* protect_git.c: what git points at.  Is the default at path in force; a
 * git directory gd (with top its worktree, NULL when none is known); a
 * .git file at rel; the submodules .gitmodules names; the host user's
 * own git configs. */
bool box_protect_active(struct ctx *c, const char *path);
int box_protect_git_dir(struct ctx *c, const char *gd, const char *top,
                        int depth);
int box_protect_gitfile(struct ctx *c, const char *rel, const char *top);
int box_protect_submodules(struct ctx *c);
int box_protect_global_refs(struct ctx *c);
