#include "yamltree.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/util.h"

#define YTREE_MAX_KEYS 1024

struct anchor {
        char *name;
        struct ynode *node;
};

struct build {
        struct ytree *t;
        struct ynode *stack[YTREE_MAX_DEPTH + 1];
        size_t depth;
        struct anchor anchors[YTREE_MAX_ANCHORS];
        size_t n_anchors, n_aliases;
        char *pending_anchor[YTREE_MAX_DEPTH + 1]; /* of each open node */
        unsigned *line, *col;
        char *msg;
        size_t msg_size;
};

__attribute__((format(printf, 4, 5))) static int fail(struct build *b,
                                                      const yaml_mark_t *m,
                                                      int code,
                                                      const char *fmt, ...)
{
        *b->line = (unsigned)m->line + 1;
        *b->col = (unsigned)m->column + 1;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->msg, b->msg_size, fmt, ap);
        va_end(ap);
        return code;
}

static struct ynode *new_node(struct build *b, enum ynode_kind kind,
                              const yaml_mark_t *m)
{
        struct ytree *t = b->t;
        if (t->n_all == t->cap_all) {
                size_t cap = t->cap_all ? t->cap_all * 2 : 64;
                struct ynode **a = realloc(t->all, cap * sizeof(*a));
                if (!a)
                        return NULL;
                t->all = a;
                t->cap_all = cap;
        }
        struct ynode *n = calloc(1, sizeof(*n));
        if (!n)
                return NULL;
        n->kind = kind;
        n->line = (unsigned)m->line + 1;
        n->col = (unsigned)m->column + 1;
        n->weight = 1;
        t->all[t->n_all++] = n;
        return n;
}

static int push_item(struct ynode *parent, struct ynode *child)
{
        /* grows by doubling: n is a power of two when full */
        if (parent->n == 0 || (parent->n & (parent->n - 1)) == 0) {
                size_t cap = parent->n ? parent->n * 2 : 1;
                struct ynode **v = realloc(parent->items, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                parent->items = v;
        }
        parent->items[parent->n++] = child;
        return 0;
}

/* Attach a finished node (or an alias's target) to the open collection. */
static int attach(struct build *b, struct ynode *node, const yaml_mark_t *m)
{
        if (b->depth == 0) {
                if (b->t->root)
                        return fail(b, m, -EINVAL, "more than one document");
                b->t->root = node;
                return 0;
        }
        struct ynode *p = b->stack[b->depth - 1];
        if (p->kind == YNODE_MAP && p->n % 2 == 0) {
                if (node->kind == YNODE_SCALAR &&
                    strlen(node->str) != node->len)
                        return fail(b, m, -EINVAL, "a NUL byte in a key");
                if (node->kind != YNODE_SCALAR)
                        return fail(b, m, -EINVAL,
                                    "a key must be a plain word, not a %s",
                                    node->kind == YNODE_MAP ? "mapping"
                                                            : "list");
                if (p->n / 2 >= YTREE_MAX_KEYS)
                        return fail(b, m, -EINVAL,
                                    "more than %d keys in one mapping",
                                    YTREE_MAX_KEYS);
                for (size_t i = 0; i < p->n; i += 2)
                        if (p->items[i]->len == node->len &&
                            memcmp(p->items[i]->str, node->str, node->len) ==
                                    0)
                                return fail(b, m, -EINVAL,
                                            "duplicate key \"%.*s\" (first "
                                            "at line %u)",
                                            (int)(node->len > 64 ? 64
                                                                 : node->len),
                                            node->str, p->items[i]->line);
        }
        p->weight += node->weight;
        if (p->weight > YTREE_MAX_WEIGHT)
                return fail(b, m, -EINVAL,
                            "the document expands to more than %d nodes "
                            "(aliases?)",
                            YTREE_MAX_WEIGHT);
        return push_item(p, node) < 0 ? -ENOMEM : 0;
}

static int remember(struct build *b, const char *anchor, struct ynode *node,
                    const yaml_mark_t *m)
{
        if (!anchor)
                return 0;
        if (b->n_anchors == YTREE_MAX_ANCHORS)
                return fail(b, m, -EINVAL, "more than %d anchors",
                            YTREE_MAX_ANCHORS);
        char *name = strdup(anchor);
        if (!name)
                return -ENOMEM;
        b->anchors[b->n_anchors++] = (struct anchor){name, node};
        return 0;
}

static int on_event(struct build *b, yaml_event_t *e, bool *done)
{
        const yaml_mark_t *m = &e->start_mark;
        switch (e->type) {
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
                return 0;
        case YAML_DOCUMENT_START_EVENT:
                if (b->t->root)
                        return fail(b, m, -EINVAL, "more than one document");
                if (e->data.document_start.tag_directives.start !=
                    e->data.document_start.tag_directives.end)
                        return fail(b, m, -EINVAL,
                                    "%%TAG directives are not allowed");
                return 0;
        case YAML_STREAM_END_EVENT:
                *done = true;
                return 0;
        case YAML_ALIAS_EVENT: {
                if (++b->n_aliases > YTREE_MAX_ALIASES)
                        return fail(b, m, -EINVAL, "more than %d aliases",
                                    YTREE_MAX_ALIASES);
                const char *name = (const char *)e->data.alias.anchor;
                for (size_t i = 0; i < b->n_anchors; i++)
                        if (strcmp(b->anchors[i].name, name) == 0)
                                return attach(b, b->anchors[i].node, m);
                return fail(b, m, -EINVAL, "alias *%.64s names no anchor "
                                           "before it",
                            name);
        }
        case YAML_SCALAR_EVENT: {
                if (e->data.scalar.tag && !e->data.scalar.plain_implicit &&
                    !e->data.scalar.quoted_implicit)
                        return fail(b, m, -EINVAL, "tags (!...) are not "
                                                   "allowed");
                if (e->data.scalar.length > YTREE_MAX_SCALAR)
                        return fail(b, m, -EINVAL,
                                    "a value longer than %d bytes",
                                    YTREE_MAX_SCALAR);
                struct ynode *n = new_node(b, YNODE_SCALAR, m);
                if (!n)
                        return -ENOMEM;
                n->len = e->data.scalar.length;
                n->str = malloc(n->len + 1);
                if (!n->str)
                        return -ENOMEM;
                memcpy(n->str, e->data.scalar.value, n->len);
                n->str[n->len] = 0;
                n->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                int r = attach(b, n, m);
                return r < 0 ? r
                             : remember(b, (const char *)e->data.scalar.anchor,
                                        n, m);
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
                bool seq = e->type == YAML_SEQUENCE_START_EVENT;
                const yaml_char_t *tag = seq ? e->data.sequence_start.tag
                                             : e->data.mapping_start.tag;
                int implicit = seq ? e->data.sequence_start.implicit
                                   : e->data.mapping_start.implicit;
                if (tag && !implicit)
                        return fail(b, m, -EINVAL, "tags (!...) are not "
                                                   "allowed");
                if (b->depth == YTREE_MAX_DEPTH)
                        return fail(b, m, -EINVAL,
                                    "nested more than %d deep",
                                    YTREE_MAX_DEPTH);
                if (b->depth > 0) {
                        struct ynode *p = b->stack[b->depth - 1];
                        if (p->kind == YNODE_MAP && p->n % 2 == 0)
                                return fail(b, m, -EINVAL,
                                            "a key must be a plain word, "
                                            "not a %s",
                                            seq ? "list" : "mapping");
                }
                struct ynode *n =
                        new_node(b, seq ? YNODE_SEQ : YNODE_MAP, m);
                if (!n)
                        return -ENOMEM;
                const yaml_char_t *anchor = seq ? e->data.sequence_start.anchor
                                                : e->data.mapping_start.anchor;
                if (anchor &&
                    !(b->pending_anchor[b->depth] = strdup((const char *)anchor)))
                        return -ENOMEM;
                b->stack[b->depth++] = n;
                return 0;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
                struct ynode *n = b->stack[--b->depth];
                char *anchor = b->pending_anchor[b->depth];
                b->pending_anchor[b->depth] = NULL;
                int r = attach(b, n, m);
                /* known only now, so that it cannot name itself */
                if (r == 0)
                        r = remember(b, anchor, n, m);
                free(anchor);
                return r;
        }
        case YAML_NO_EVENT:
                break;
        }
        return fail(b, m, -EINVAL, "unexpected YAML");
}

int ytree_parse(const char *buf, size_t len, struct ytree *t, unsigned *line,
                unsigned *col, char *msg, size_t msg_size)
{
        *t = (struct ytree){0};
        *line = *col = 0;
        if (msg_size)
                msg[0] = 0;
        struct build b = {.t = t, .line = line, .col = col, .msg = msg,
                          .msg_size = msg_size};
        if (len > YTREE_MAX_BYTES) {
                *line = *col = 1;
                snprintf(msg, msg_size, "larger than %u bytes",
                         YTREE_MAX_BYTES);
                return -EFBIG;
        }
        if (memchr(buf, 0, len)) {
                *line = *col = 1;
                snprintf(msg, msg_size, "a NUL byte: not a text file");
                return -EINVAL;
        }
        yaml_parser_t parser;
        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
        int r = 0;
        for (bool done = false; r == 0 && !done;) {
                yaml_event_t e;
                if (!yaml_parser_parse(&parser, &e)) {
                        const yaml_mark_t *m = &parser.problem_mark;
                        r = fail(&b, m, -EINVAL, "%s%s%s",
                                 parser.problem ? parser.problem
                                                : "not valid YAML",
                                 parser.context ? " " : "",
                                 parser.context ? parser.context : "");
                        break;
                }
                r = on_event(&b, &e, &done);
                yaml_event_delete(&e);
        }
        yaml_parser_delete(&parser);
        for (size_t i = 0; i < b.n_anchors; i++)
                free(b.anchors[i].name);
        for (size_t i = 0; i <= YTREE_MAX_DEPTH; i++)
                free(b.pending_anchor[i]);
        if (r == -ENOMEM && !msg[0])
                snprintf(msg, msg_size, "out of memory");
        if (r < 0)
                ytree_free(t);
        return r;
}

void ytree_free(struct ytree *t)
{
        for (size_t i = 0; i < t->n_all; i++) {
                free(t->all[i]->str);
                free(t->all[i]->items);
                free(t->all[i]);
        }
        free(t->all);
        *t = (struct ytree){0};
}

const struct ynode *ynode_get(const struct ynode *map, const char *key)
{
        if (!map || map->kind != YNODE_MAP)
                return NULL;
        for (size_t i = 0; i + 1 < map->n; i += 2)
                if (strcmp(map->items[i]->str, key) == 0)
                        return map->items[i + 1];
        return NULL;
}
