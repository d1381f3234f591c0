#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/say.h"
#include "common/util.h"
#include "policy/yamltree.h"

void policy_errors_add(struct policy_errors *e, const char *fmt, ...)
{
        char *raw = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&raw, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        /* what a file said never moves the cursor or starts a line of
         * its own where it is printed */
        char *s = say_escape(raw);
        free(raw);
        if (!s)
                return;
        char **v = realloc(e->v, (e->n + 1) * sizeof(*v));
        if (!v) {
                free(s);
                return;
        }
        e->v = v;
        e->v[e->n++] = s;
}

void policy_errors_free(struct policy_errors *e)
{
        for (size_t i = 0; i < e->n; i++)
                free(e->v[i]);
        free(e->v);
        *e = (struct policy_errors){0};
}

/* ---- walking the tree -------------------------------------------------- */

struct walk {
        const char *file;
        enum policy_layer layer;
        struct policy *p;
        struct policy_errors *errs;
        size_t n_before;
};

static const char *kind_name(const struct ynode *n)
{
        return n->kind == YNODE_MAP ? "a mapping"
               : n->kind == YNODE_SEQ ? "a list"
                                      : "a value";
}

static bool is_null(const struct ynode *n)
{
        return n->kind == YNODE_SCALAR && n->plain &&
               (n->len == 0 || strcmp(n->str, "~") == 0 ||
                strcmp(n->str, "null") == 0 || strcmp(n->str, "Null") == 0 ||
                strcmp(n->str, "NULL") == 0);
}

__attribute__((format(printf, 4, 5))) static void
bad(struct walk *w, const struct ynode *n, const char *key, const char *fmt,
    ...)
{
        char msg[768];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        policy_errors_add(w->errs, "%s:%u:%u: %s: %s", w->file, n->line,
                          n->col, key, msg);
}

/* An error of one of the policy's own parsers: its message starts with
 * the key already. */
static void bad_err(struct walk *w, const struct ynode *n,
                    const struct ab_err *err)
{
        policy_errors_add(w->errs, "%s:%u:%u: %s", w->file, n->line, n->col,
                          err->msg);
}

static struct policy_src src_of(const struct walk *w, const struct ynode *n)
{
        return (struct policy_src){.layer = (uint8_t)w->layer,
                                   .line = n->line,
                                   .col = n->col};
}

/* A single value (a string, number or word), or NULL after an error. */
static const char *scalar(struct walk *w, const struct ynode *n,
                          const char *key)
{
        if (n->kind != YNODE_SCALAR) {
                bad(w, n, key, "expected a value, got %s", kind_name(n));
                return NULL;
        }
        if (is_null(n)) {
                bad(w, n, key, "expected a value, got nothing");
                return NULL;
        }
        if (strlen(n->str) != n->len) {
                bad(w, n, key, "a NUL byte in the value");
                return NULL;
        }
        return n->str;
}

/* A list (nothing counts as an empty one); each item a single value. */
typedef void (*item_fn)(struct walk *w, const struct ynode *item,
                        const char *key, const char *value, void *arg);

static void each_value(struct walk *w, const struct ynode *n, const char *key,
                       item_fn fn, void *arg)
{
        if (is_null(n))
                return;
        if (n->kind != YNODE_SEQ) {
                bad(w, n, key, "expected a list (e.g. [a, b]), got %s",
                    kind_name(n));
                return;
        }
        for (size_t i = 0; i < n->n; i++) {
                const char *v = scalar(w, n->items[i], key);
                if (v)
                        fn(w, n->items[i], key, v, arg);
        }
}

struct keydef {
        const char *name;
        void (*fn)(struct walk *w, const struct ynode *value,
                   const char *key);
        unsigned layers; /* 0: every layer; else 1 << layer */
};

static void walk_map(struct walk *w, const struct ynode *n, const char *key,
                     const struct keydef *defs, size_t n_defs)
{
        if (is_null(n))
                return;
        if (n->kind != YNODE_MAP) {
                bad(w, n, key, "expected a mapping (key: value), got %s",
                    kind_name(n));
                return;
        }
        for (size_t i = 0; i + 1 < n->n; i += 2) {
                const struct ynode *k = n->items[i], *v = n->items[i + 1];
                char path[160];
                snprintf(path, sizeof(path), "%s%s%.64s", key,
                         key[0] ? "." : "", k->str);
                size_t d = 0;
                while (d < n_defs && strcmp(defs[d].name, k->str) != 0)
                        d++;
                if (d == n_defs) {
                        char known[512] = "";
                        for (size_t j = 0; j < n_defs; j++)
                                if (!defs[j].layers ||
                                    defs[j].layers & (1u << w->layer))
                                        snprintf(known + strlen(known),
                                                 sizeof(known) - strlen(known),
                                                 "%s%s", known[0] ? ", " : "",
                                                 defs[j].name);
                        bad(w, k, path, "unknown key; expected one of: %s",
                            known);
                        continue;
                }
                if (defs[d].layers && !(defs[d].layers & (1u << w->layer))) {
                        bad(w, k, path,
                            "only the %s file may set this",
                            defs[d].layers & (1u << POLICY_LAYER_MANAGED)
                                    ? "managed (administrator's)"
                                    : "user's own");
                        continue;
                }
                defs[d].fn(w, v, path);
        }
}

static void given(struct walk *w, enum policy_key k, const struct ynode *n)
{
        w->p->given |= 1u << k;
        w->p->src[k] = src_of(w, n);
}

/* ---- the keys ---------------------------------------------------------- */

static void k_version(struct walk *w, const struct ynode *n, const char *key)
{
        const char *v = scalar(w, n, key);
        if (v && strcmp(v, "1") != 0)
                bad(w, n, key,
                    "this agentbox reads version 1 (found \"%.32s\")", v);
}

static void k_isolation(struct walk *w, const struct ynode *n,
                        const char *key)
{
        const char *v = scalar(w, n, key);
        if (!v)
                return;
        if (strcmp(v, "process") == 0) {
                w->p->isolation = POLICY_ISOLATION_PROCESS;
                given(w, POLICY_K_ISOLATION, n);
        } else if (strcmp(v, "vm") == 0 || strcmp(v, "landlock") == 0)
                bad(w, n, key,
                    "\"%s\" is not available in this version of agentbox; "
                    "use process",
                    v);
        else
                bad(w, n, key, "expected process, got \"%.32s\"", v);
}

static void k_workspace(struct walk *w, const struct ynode *n,
                        const char *key)
{
        const char *v = scalar(w, n, key);
        if (!v)
                return;
        if (w->layer == POLICY_LAYER_PROJECT && strcmp(v, ".") != 0 &&
            strcmp(v, "./") != 0) {
                bad(w, n, key,
                    "a project file's workspace is the directory it is "
                    "in; write . or leave the key out");
                return;
        }
        char *d = strdup(v);
        if (!d)
                return;
        free(w->p->workspace);
        w->p->workspace = d;
        given(w, POLICY_K_WORKSPACE, n);
}

/* agent */

static void k_agent_name(struct walk *w, const struct ynode *n,
                         const char *key)
{
        const char *v = scalar(w, n, key);
        if (!v)
                return;
        if (!policy_agent_known(v)) {
                bad(w, n, key, "expected claude, codex or gemini, got \"%.32s\"",
                    v);
                return;
        }
        char *d = strdup(v);
        if (!d)
                return;
        free(w->p->agent_name);
        w->p->agent_name = d;
        given(w, POLICY_K_AGENT, n);
}

static void k_agent_profile(struct walk *w, const struct ynode *n,
                            const char *key)
{
        const char *v = scalar(w, n, key);
        struct ab_err err = {0};
        if (!v)
                return;
        if (policy_profile_parse_as(v, &w->p->profile, key, &err) < 0)
                bad_err(w, n, &err);
        else
                given(w, POLICY_K_PROFILE, n);
}

static void k_agent_path(struct walk *w, const struct ynode *n,
                         const char *key)
{
        const char *v = scalar(w, n, key);
        if (!v)
                return;
        if (v[0] != '/' && strncmp(v, "~/", 2) != 0) {
                bad(w, n, key,
                    "expected the agent's program as an absolute path (or "
                    "~/...), got \"%.64s\"",
                    v);
                return;
        }
        char *d = strdup(v);
        if (!d)
                return;
        free(w->p->agent_path);
        w->p->agent_path = d;
        given(w, POLICY_K_AGENT_PATH, n);
}

static void k_agent_state(struct walk *w, const struct ynode *n,
                          const char *key)
{
        const char *v = scalar(w, n, key);
        if (!v)
                return;
        if (strcmp(v, "user") == 0 || strcmp(v, "project") == 0) {
                w->p->agent_state_project = v[0] == 'p';
                given(w, POLICY_K_AGENT_STATE, n);
        } else
                bad(w, n, key,
                    "expected user (one state directory for all your "
                    "projects, the default) or project (one per "
                    "workspace), got \"%.32s\"",
                    v);
}

static void k_agent_telemetry(struct walk *w, const struct ynode *n,
                              const char *key)
{
        const char *v = scalar(w, n, key);
        if (!v)
                return;
        if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
                w->p->agent_telemetry = v[0] == 't';
                given(w, POLICY_K_TELEMETRY, n);
        } else
                bad(w, n, key,
                    "expected true (the vendor's telemetry, error reports "
                    "and update checks left on; their hosts are still "
                    "refused unless allowed) or false (the default), got "
                    "\"%.32s\"",
                    v);
}

static const struct keydef agent_keys[] = {
        {"name", k_agent_name, 0},
        {"profile", k_agent_profile, 0},
        {"path", k_agent_path, 0},
        {"state", k_agent_state, 0},
        {"telemetry", k_agent_telemetry, 0},
};

static void k_agent(struct walk *w, const struct ynode *n, const char *key)
{
        walk_map(w, n, key, agent_keys, ARRAY_SIZE(agent_keys));
}

/* network */

static void k_mode(struct walk *w, const struct ynode *n, const char *key)
{
        const char *v = scalar(w, n, key);
        struct ab_err err = {0};
        if (!v)
                return;
        if (policy_net_parse_as(v, &w->p->net, key, &err) < 0)
                bad_err(w, n, &err);
        else
                given(w, POLICY_K_NET, n);
}

static void add_pattern(struct walk *w, const struct ynode *item,
                        const char *key, const char *value, void *arg)
{
        struct netpat_list *l = arg;
        struct ab_err err = {0};
        if (netpat_list_add(l, value, key, &err) < 0)
                bad_err(w, item, &err);
        else
                l->v[l->n - 1].src = src_of(w, item);
}

static void k_allow(struct walk *w, const struct ynode *n, const char *key)
{
        /* said, even empty: a managed allowlist of nothing allows nothing */
        w->p->given |= 1u << POLICY_K_ALLOW;
        each_value(w, n, key, add_pattern, &w->p->allow);
}

static void k_deny(struct walk *w, const struct ynode *n, const char *key)
{
        each_value(w, n, key, add_pattern, &w->p->deny);
}

static const struct keydef network_keys[] = {
        {"mode", k_mode, 0},
        {"allow", k_allow, 0},
        {"deny", k_deny, 0},
};

static void k_network(struct walk *w, const struct ynode *n, const char *key)
{
        walk_map(w, n, key, network_keys, ARRAY_SIZE(network_keys));
}

/* filesystem */

static void add_protect(struct walk *w, const struct ynode *item,
                        const char *key, const char *value, void *arg)
{
        bool remove = arg != NULL;
        struct ab_err err = {0};
        if (protect_rule_add_src(&w->p->protect, remove, value, key,
                                 src_of(w, item), &err) < 0)
                bad_err(w, item, &err);
}

static void k_protect(struct walk *w, const struct ynode *n, const char *key)
{
        each_value(w, n, key, add_protect, NULL);
}

static void k_unprotect(struct walk *w, const struct ynode *n,
                        const char *key)
{
        each_value(w, n, key, add_protect, (void *)1);
}

static int add_path(struct policy_path **v, size_t *n, const char *path,
                    struct policy_src src)
{
        if (*n >= 256)
                return -E2BIG;
        char *d = strdup(path);
        struct policy_path *nv = d ? realloc(*v, (*n + 1) * sizeof(**v)) : NULL;
        if (!nv) {
                free(d);
                return -ENOMEM;
        }
        *v = nv;
        nv[(*n)++] = (struct policy_path){d, src};
        return 0;
}

static bool host_path_ok(const char *v)
{
        return v[0] == '/' || (v[0] == '~' && (v[1] == '/' || v[1] == 0));
}

static void add_deny_mount(struct walk *w, const struct ynode *item,
                           const char *key, const char *value, void *arg)
{
        (void)arg;
        if (!host_path_ok(value)) {
                bad(w, item, key, "expected an absolute path or ~/..., got "
                                  "\"%.64s\"",
                    value);
                return;
        }
        if (add_path(&w->p->deny_mounts, &w->p->n_deny_mounts, value,
                     src_of(w, item)) < 0)
                bad(w, item, key, "too many paths (256 at most)");
}

static void k_deny_mounts(struct walk *w, const struct ynode *n,
                          const char *key)
{
        each_value(w, n, key, add_deny_mount, NULL);
}

/* One {source, target, mode}; false after an error. */
static bool one_mount(struct walk *w, const struct ynode *m, const char *key,
                      struct policy_mount *pm)
{
        bool ok = true;
        for (size_t j = 0; j + 1 < m->n; j += 2) {
                const struct ynode *k = m->items[j], *v = m->items[j + 1];
                char path[192];
                snprintf(path, sizeof(path), "%s.%.32s", key, k->str);
                bool src = strcmp(k->str, "source") == 0;
                bool tgt = strcmp(k->str, "target") == 0;
                if (!src && !tgt && strcmp(k->str, "mode") != 0) {
                        bad(w, k, path, "unknown key; expected one of: "
                                        "source, target, mode");
                        ok = false;
                        continue;
                }
                const char *s = scalar(w, v, path);
                if (!s)
                        ok = false;
                else if (!src && !tgt) {
                        pm->rw = strcmp(s, "rw") == 0;
                        if (!pm->rw && strcmp(s, "ro") != 0) {
                                bad(w, v, path, "expected ro or rw, got "
                                                "\"%.32s\"",
                                    s);
                                ok = false;
                        }
                } else if (src && !host_path_ok(s)) {
                        bad(w, v, path, "expected an absolute path or ~/..., "
                                        "got \"%.64s\"",
                            s);
                        ok = false;
                } else if (tgt && s[0] != '/') {
                        bad(w, v, path, "expected an absolute path in the "
                                        "box, got \"%.64s\"",
                            s);
                        ok = false;
                } else {
                        char **dst = src ? &pm->source : &pm->target;
                        free(*dst);
                        *dst = strdup(s);
                }
        }
        if (ok && !pm->source) {
                bad(w, m, key, "a mount needs a source");
                ok = false;
        }
        return ok;
}

static void k_mounts(struct walk *w, const struct ynode *n, const char *key)
{
        if (is_null(n))
                return;
        if (n->kind != YNODE_SEQ) {
                bad(w, n, key,
                    "expected a list of {source: PATH, mode: ro|rw}, got %s",
                    kind_name(n));
                return;
        }
        struct policy *p = w->p;
        for (size_t i = 0; i < n->n; i++) {
                const struct ynode *m = n->items[i];
                if (m->kind != YNODE_MAP) {
                        bad(w, m, key,
                            "expected {source: PATH, target: PATH, mode: "
                            "ro|rw}, got %s",
                            kind_name(m));
                        continue;
                }
                struct policy_mount pm = {.src = src_of(w, m)};
                bool ok = one_mount(w, m, key, &pm);
                if (ok && p->n_mounts >= 64) {
                        bad(w, m, key, "more than 64 mounts");
                        ok = false;
                }
                struct policy_mount *nv =
                        ok ? realloc(p->mounts,
                                     (p->n_mounts + 1) * sizeof(*nv))
                           : NULL;
                if (!nv) {
                        free(pm.source);
                        free(pm.target);
                        continue;
                }
                p->mounts = nv;
                p->mounts[p->n_mounts++] = pm;
        }
}

static const struct keydef filesystem_keys[] = {
        {"mounts", k_mounts, 0},
        {"protect", k_protect, 0},
        {"unprotect", k_unprotect, 0},
        {"deny_mounts", k_deny_mounts, 1u << POLICY_LAYER_MANAGED},
};

static void k_filesystem(struct walk *w, const struct ynode *n,
                         const char *key)
{
        walk_map(w, n, key, filesystem_keys, ARRAY_SIZE(filesystem_keys));
}

/* env */

static void add_pass(struct walk *w, const struct ynode *item,
                     const char *key, const char *value, void *arg)
{
        (void)arg;
        struct ab_err err = {0};
        if (strchr(value, '=')) {
                bad(w, item, key,
                    "\"%.64s\": a name only (values go in env.set)", value);
                return;
        }
        if (policy_env_add_as(w->p, value, key, src_of(w, item), &err) < 0)
                bad_err(w, item, &err);
}

static void k_pass(struct walk *w, const struct ynode *n, const char *key)
{
        each_value(w, n, key, add_pass, NULL);
}

static void k_set(struct walk *w, const struct ynode *n, const char *key)
{
        if (is_null(n))
                return;
        if (n->kind != YNODE_MAP) {
                bad(w, n, key, "expected a mapping NAME: VALUE, got %s",
                    kind_name(n));
                return;
        }
        for (size_t i = 0; i + 1 < n->n; i += 2) {
                const struct ynode *k = n->items[i], *v = n->items[i + 1];
                char path[192];
                snprintf(path, sizeof(path), "%s.%.64s", key, k->str);
                if (strchr(k->str, '=') || !k->len) {
                        bad(w, k, path, "not a variable name");
                        continue;
                }
                /* an empty value is a value: "" */
                const char *s = v->kind == YNODE_SCALAR && !is_null(v)
                                        ? v->str
                                : v->kind == YNODE_SCALAR ? ""
                                                          : NULL;
                if (!s) {
                        bad(w, v, path, "expected a value, got %s",
                            kind_name(v));
                        continue;
                }
                if (strlen(s) != v->len && !is_null(v)) {
                        bad(w, v, path, "a NUL byte in the value");
                        continue;
                }
                char *spec = NULL;
                if (asprintf(&spec, "%s=%s", k->str, s) < 0)
                        continue;
                struct ab_err err = {0};
                if (policy_env_add_as(w->p, spec, key, src_of(w, k), &err) < 0)
                        bad_err(w, k, &err);
                free(spec);
        }
}

static const struct keydef env_keys[] = {
        {"pass", k_pass, 0},
        {"set", k_set, 0},
};

static void k_env(struct walk *w, const struct ynode *n, const char *key)
{
        walk_map(w, n, key, env_keys, ARRAY_SIZE(env_keys));
}

/* secrets */

/* A secret's {from: ...}: its source, checked, or NULL after an error. */
static const char *secret_from(struct walk *w, const struct ynode *v,
                               const char *path)
{
        if (v->kind != YNODE_MAP) {
                bad(w, v, path,
                    "expected {from: \"env:NAME\"} or {from: \"file:PATH\"}, "
                    "got %s",
                    kind_name(v));
                return NULL;
        }
        const char *from = NULL;
        bool ok = true;
        for (size_t j = 0; j + 1 < v->n; j += 2) {
                const struct ynode *sk = v->items[j];
                char sp[256];
                snprintf(sp, sizeof(sp), "%s.%.32s", path, sk->str);
                if (strcmp(sk->str, "from") == 0)
                        from = scalar(w, v->items[j + 1], sp);
                else {
                        bad(w, sk, sp,
                            strcmp(sk->str, "inject") == 0
                                    ? "credential injection is not "
                                      "available in this version of agentbox"
                                    : "unknown key; expected from");
                        ok = false;
                }
        }
        if (!ok)
                return NULL;
        if (!from) {
                bad(w, v, path, "a secret needs from: \"env:NAME\" or "
                                "\"file:PATH\"");
                return NULL;
        }
        bool env = strncmp(from, "env:", 4) == 0;
        bool file = strncmp(from, "file:", 5) == 0;
        if ((!env && !file) ||
            (env && !policy_env_name_valid(from + 4, strlen(from + 4))) ||
            (file && !host_path_ok(from + 5))) {
                bad(w, v, path,
                    "from: expected \"env:NAME\" or \"file:PATH\" (absolute "
                    "or ~/...), got \"%.64s\"",
                    from);
                return NULL;
        }
        return from;
}

static void k_secrets(struct walk *w, const struct ynode *n, const char *key)
{
        if (is_null(n))
                return;
        if (n->kind != YNODE_MAP) {
                bad(w, n, key, "expected a mapping NAME: {from: ...}, got %s",
                    kind_name(n));
                return;
        }
        struct policy *p = w->p;
        for (size_t i = 0; i + 1 < n->n; i += 2) {
                const struct ynode *k = n->items[i], *v = n->items[i + 1];
                char path[192];
                snprintf(path, sizeof(path), "%s.%.64s", key, k->str);
                if (!policy_env_name_valid(k->str, k->len)) {
                        bad(w, k, path,
                            "not a variable name (letters, digits and _)");
                        continue;
                }
                const char *from = secret_from(w, v, path);
                if (!from)
                        continue;
                if (p->n_secrets >= 64) {
                        bad(w, k, path, "more than 64 secrets");
                        continue;
                }
                struct policy_secret *nv =
                        realloc(p->secrets, (p->n_secrets + 1) * sizeof(*nv));
                if (!nv)
                        continue;
                p->secrets = nv;
                struct policy_secret ps = {strdup(k->str), strdup(from),
                                           src_of(w, k)};
                if (!ps.name || !ps.from) {
                        free(ps.name);
                        free(ps.from);
                        continue;
                }
                p->secrets[p->n_secrets++] = ps;
        }
}

/* resources */

static void k_memory(struct walk *w, const struct ynode *n, const char *key)
{
        const char *v = scalar(w, n, key);
        struct ab_err err = {0};
        if (!v)
                return;
        if (policy_memory_parse_as(v, &w->p->memory_max, key, &err) < 0)
                bad_err(w, n, &err);
        else {
                w->p->memory_given = true;
                given(w, POLICY_K_MEMORY, n);
        }
}

static void k_tmp(struct walk *w, const struct ynode *n, const char *key)
{
        const char *v = scalar(w, n, key);
        struct ab_err err = {0};
        uint64_t t = 0;
        if (!v)
                return;
        if (strcmp(v, "unlimited") == 0)
                bad(w, n, key, "expected a size such as 512M or 2G");
        else if (policy_memory_parse_as(v, &t, key, &err) < 0)
                bad_err(w, n, &err);
        else {
                w->p->tmp_max = t;
                given(w, POLICY_K_TMP, n);
        }
}

static void k_cpus(struct walk *w, const struct ynode *n, const char *key)
{
        const char *v = scalar(w, n, key);
        struct ab_err err = {0};
        if (!v)
                return;
        if (policy_cpus_parse_as(v, &w->p->cpus_milli, key, &err) < 0)
                bad_err(w, n, &err);
        else
                given(w, POLICY_K_CPUS, n);
}

static void k_pids(struct walk *w, const struct ynode *n, const char *key)
{
        const char *v = scalar(w, n, key);
        struct ab_err err = {0};
        if (!v)
                return;
        if (policy_pids_parse_as(v, &w->p->pids_max, key, &err) < 0)
                bad_err(w, n, &err);
        else
                given(w, POLICY_K_PIDS, n);
}

static const struct keydef resources_keys[] = {
        {"memory", k_memory, 0},
        {"cpus", k_cpus, 0},
        {"pids", k_pids, 0},
        {"tmp", k_tmp, 0},
};

static void k_resources(struct walk *w, const struct ynode *n,
                        const char *key)
{
        walk_map(w, n, key, resources_keys, ARRAY_SIZE(resources_keys));
}

/* the managed layer's lock, the user's trust */

static void add_lock(struct walk *w, const struct ynode *item,
                     const char *key, const char *value, void *arg)
{
        (void)arg;
        for (int k = 0; k < POLICY_K_ALL; k++)
                if (strcmp(policy_key_name((enum policy_key)k), value) == 0) {
                        w->p->locked |= 1u << k;
                        w->p->lock_src[k] = src_of(w, item);
                        return;
                }
        char known[512] = "";
        for (int k = 0; k < POLICY_K_ALL; k++)
                snprintf(known + strlen(known), sizeof(known) - strlen(known),
                         "%s%s", k ? ", " : "",
                         policy_key_name((enum policy_key)k));
        bad(w, item, key, "\"%.64s\" cannot be locked; expected one of: %s",
            value, known);
}

static void k_lock(struct walk *w, const struct ynode *n, const char *key)
{
        each_value(w, n, key, add_lock, NULL);
}

static void add_trust(struct walk *w, const struct ynode *item,
                      const char *key, const char *value, void *arg)
{
        (void)arg;
        if (!host_path_ok(value) || strcmp(value, "/") == 0 ||
            strcmp(value, "~") == 0 || strcmp(value, "~/") == 0) {
                bad(w, item, key,
                    "expected a directory tree (absolute or ~/...; not / or "
                    "~ itself), got \"%.64s\"",
                    value);
                return;
        }
        if (add_path(&w->p->trust, &w->p->n_trust, value, src_of(w, item)) < 0)
                bad(w, item, key, "too many paths (256 at most)");
}

static void k_trust(struct walk *w, const struct ynode *n, const char *key)
{
        each_value(w, n, key, add_trust, NULL);
}

static const struct keydef top_keys[] = {
        {"version", k_version, 0},
        {"isolation", k_isolation, 0},
        {"workspace", k_workspace,
         (1u << POLICY_LAYER_USER) | (1u << POLICY_LAYER_PROJECT)},
        {"filesystem", k_filesystem, 0},
        {"network", k_network, 0},
        {"env", k_env, 0},
        {"secrets", k_secrets, 0},
        {"resources", k_resources, 0},
        {"agent", k_agent, 0},
        {"lock", k_lock, 1u << POLICY_LAYER_MANAGED},
        {"trust", k_trust, 1u << POLICY_LAYER_USER},
};

int policy_file_parse(const char *file, const char *buf, size_t len,
                      enum policy_layer layer, struct policy *out,
                      struct policy_errors *errs)
{
        struct ytree t;
        unsigned line, col;
        char msg[256];
        size_t before = errs->n;
        /* a byte-order mark is no part of the text (columns count after) */
        if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
                buf += 3;
                len -= 3;
        }
        if (ytree_parse(buf, len, &t, &line, &col, msg, sizeof(msg)) < 0) {
                policy_errors_add(errs, "%s:%u:%u: %s", file, line, col, msg);
                return -EINVAL;
        }
        struct walk w = {.file = file, .layer = layer, .p = out,
                         .errs = errs};
        if (!t.root || is_null(t.root))
                policy_errors_add(errs,
                                  "%s:1:1: empty; a policy file starts with "
                                  "\"version: 1\" (agentbox.yaml(5))",
                                  file);
        else if (t.root->kind != YNODE_MAP)
                bad(&w, t.root, "(top)",
                    "expected a mapping of keys (version: 1, network: ...), "
                    "got %s",
                    kind_name(t.root));
        else {
                if (!ynode_get(t.root, "version"))
                        policy_errors_add(errs,
                                          "%s:%u:%u: version: missing; a "
                                          "policy file starts with "
                                          "\"version: 1\"",
                                          file, t.root->line, t.root->col);
                walk_map(&w, t.root, "", top_keys, ARRAY_SIZE(top_keys));
        }
        ytree_free(&t);
        return errs->n > before ? -EINVAL : 0;
}

int policy_file_read(const char *path, char **buf, size_t *len,
                     struct stat *st, struct policy_errors *errs)
{
        return policy_file_read_at(AT_FDCWD, path, path, buf, len, st, errs);
}

int policy_file_read_at(int dir, const char *name, const char *path,
                        char **buf, size_t *len, struct stat *st,
                        struct policy_errors *errs)
{
        *buf = NULL;
        *len = 0;
        int fd = openat(dir, name,
                        O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                int e = errno;
                struct stat ls;
                /* a socket node: the placeholder a run holds a missing
                 * agentbox.yaml with (or left, killed), so none (mode 0:
                 * EACCES but for root, who gets ENXIO) */
                if (e == ENOENT ||
                    ((e == ENXIO || e == EACCES) &&
                     fstatat(dir, name, &ls, AT_SYMLINK_NOFOLLOW) == 0 &&
                     S_ISSOCK(ls.st_mode)))
                        return -ENOENT;
                policy_errors_add(errs, "%s: cannot open it: %s%s", path,
                                  strerror(e),
                                  e == ELOOP ? " (a symbolic link: agentbox "
                                               "reads no policy through one)"
                                             : "");
                return -e;
        }
        if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
                policy_errors_add(errs, "%s: not a regular file", path);
                close(fd);
                return -EINVAL;
        }
        if (st->st_size > YTREE_MAX_BYTES) {
                policy_errors_add(errs, "%s:1:1: larger than %u bytes", path,
                                  YTREE_MAX_BYTES);
                close(fd);
                return -EFBIG;
        }
        size_t cap = (size_t)st->st_size + 1;
        char *b = malloc(cap + 1);
        size_t n = 0;
        ssize_t r = 0;
        while (b && n < cap && (r = read(fd, b + n, cap - n)) > 0)
                n += (size_t)r;
        int e = errno;
        close(fd);
        if (!b || r < 0) {
                free(b);
                policy_errors_add(errs, "%s: cannot read it: %s", path,
                                  strerror(b ? e : ENOMEM));
                return -EIO;
        }
        if (n > (size_t)st->st_size) {
                free(b);
                policy_errors_add(errs, "%s: it changed while read", path);
                return -EAGAIN;
        }
        b[n] = 0;
        *buf = b;
        *len = n;
        return 0;
}
