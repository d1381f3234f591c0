/* A policy file's YAML as a small tree, read by libyaml, with every
 * node's line and column, and the limits an outside file must keep:
 * YTREE_MAX_BYTES in all, YTREE_MAX_DEPTH of nesting, YTREE_MAX_ALIASES
 * aliases and YTREE_MAX_WEIGHT nodes once aliases are expanded (no
 * "billion laughs").  Duplicate keys, non-scalar keys, tags and multiple
 * documents are errors.  Strings are copied; aliases share nodes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define YTREE_MAX_BYTES (1u << 20)
#define YTREE_MAX_DEPTH 16
#define YTREE_MAX_ALIASES 32
#define YTREE_MAX_ANCHORS 32
#define YTREE_MAX_WEIGHT 20000
#define YTREE_MAX_SCALAR 65536

enum ynode_kind { YNODE_SCALAR, YNODE_MAP, YNODE_SEQ };

struct ynode {
        enum ynode_kind kind;
        unsigned line, col; /* 1-based, where the node starts */
        /* scalar */
        char *str;
        size_t len;
        bool plain; /* not quoted: ~, null, true are words, not text */
        /* map: keys and values alternate (2n); seq: n items */
        struct ynode **items;
        size_t n;
        size_t weight; /* nodes below and including this one */
};

struct ytree {
        struct ynode *root; /* NULL: an empty document */
        struct ynode **all; /* every node made, for freeing */
        size_t n_all, cap_all;
};

/* Parse buf.  0, or -EINVAL with *line, *col and msg (a phrase) saying
 * what is wrong. */
int ytree_parse(const char *buf, size_t len, struct ytree *t, unsigned *line,
                unsigned *col, char *msg, size_t msg_size);
void ytree_free(struct ytree *t);

/* A map's value for key, or NULL. */
const struct ynode *ynode_get(const struct ynode *map, const char *key);
