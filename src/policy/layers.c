#include "layers.h"

#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_*: no provider to load */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/sha.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/path.h"
#include "common/statedir.h"
#include "common/util.h"
#include "policy/workspace.h"

const char *policy_managed_path_override;
uid_t policy_managed_owner; /* root */
const char *policy_user_path_override;

static const char *const layer_names[POLICY_LAYER_N] = {
        [POLICY_LAYER_DEFAULT] = "built-in",
        [POLICY_LAYER_MANAGED] = "managed",
        [POLICY_LAYER_USER] = "user",
        [POLICY_LAYER_AGENT] = "agent profile",
        [POLICY_LAYER_PROJECT] = "project",
        [POLICY_LAYER_FLAGS] = "command line",
};

const char *policy_layer_name(enum policy_layer l)
{
        return (size_t)l < POLICY_LAYER_N ? layer_names[l] : "?";
}

void policy_src_describe(const struct policy_stack *s, struct policy_src src,
                         char *buf, size_t size)
{
        enum policy_layer l = src.layer;
        if (l == POLICY_LAYER_DEFAULT || l >= POLICY_LAYER_N)
                snprintf(buf, size, "built-in");
        else if (l == POLICY_LAYER_AGENT)
                snprintf(buf, size, "the %s agent profile",
                         s && s->path[l] ? s->path[l] : "?");
        else if (l == POLICY_LAYER_FLAGS)
                snprintf(buf, size, "command line");
        else
                snprintf(buf, size, "%s %s:%u:%u", layer_names[l],
                         s && s->path[l] ? s->path[l] : "?", src.line,
                         src.col);
}

/* ---- where the files are ----------------------------------------------- */

/* The user's home: root's own under root (whatever HOME says: sudo -E
 * keeps the caller's), else $HOME, else the passwd entry's. */
static char *home_dir(void)
{
        const char *h = geteuid() == 0 ? NULL : getenv("HOME");
        if (!h || h[0] != '/') {
                struct passwd *pw = getpwuid(geteuid());
                h = pw ? pw->pw_dir : NULL;
        }
        return h ? strdup(h) : NULL;
}

static char *user_file(void)
{
        if (policy_user_path_override)
                return strdup(policy_user_path_override);
        const char *x = geteuid() == 0 ? NULL : getenv("XDG_CONFIG_HOME");
        char *p = NULL;
        if (x && x[0] == '/') {
                if (asprintf(&p, "%s/agentbox/config.yaml", x) < 0)
                        p = NULL;
                return p;
        }
        _cleanup_free_ char *h = home_dir();
        if (h && asprintf(&p, "%s/.config/agentbox/config.yaml", h) < 0)
                p = NULL;
        return p;
}

/* "~/x" on the host side, as the user's home. */
char *policy_expand_home(const char *path)
{
        if (path[0] != '~')
                return strdup(path);
        _cleanup_free_ char *h = home_dir();
        char *p = NULL;
        if (!h || asprintf(&p, "%s%s", h, path + 1) < 0)
                return NULL;
        return p;
}

/* A managed file must be the administrator's alone: owned by root and
 * writable by nobody else, in a directory of the same kind. */
static bool root_only(const struct stat *st)
{
        return st->st_uid == policy_managed_owner &&
               !(st->st_mode & S_IWOTH) &&
               (!(st->st_mode & S_IWGRP) ||
                st->st_gid == (gid_t)policy_managed_owner);
}

/* A user's file: theirs (or root's), writable by nobody else. */
static bool users_own(const struct stat *st)
{
        return (st->st_uid == geteuid() || st->st_uid == 0) &&
               !(st->st_mode & (S_IWOTH | S_IWGRP));
}

void policy_sha256_hex(const char *buf, size_t len, char out[65])
{
        unsigned char md[SHA256_DIGEST_LENGTH];
        SHA256_CTX c;
        SHA256_Init(&c);
        SHA256_Update(&c, buf, len);
        SHA256_Final(md, &c);
        for (size_t i = 0; i < sizeof(md); i++)
                snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Load one layer's file; present stays false when there is none. */
static int load(struct policy_stack *s, enum policy_layer l, char *path,
                struct policy_errors *errs)
{
        s->path[l] = path;
        if (!path)
                return 0;
        char *buf = NULL;
        size_t len = 0;
        struct stat st;
        /* the project's: read in the workspace as pinned, never by name */
        int r = l == POLICY_LAYER_PROJECT
                        ? policy_file_read_at(s->effective.ws_fd,
                                              POLICY_PROJECT_FILE, path, &buf,
                                              &len, &st, errs)
                        : policy_file_read(path, &buf, &len, &st, errs);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        s->present[l] = true;
        if (l == POLICY_LAYER_MANAGED) {
                struct stat dst;
                _cleanup_free_ char *dir = strdup(path);
                char *slash = dir ? strrchr(dir, '/') : NULL;
                if (slash)
                        *(slash == dir ? slash + 1 : slash) = 0;
                if (!root_only(&st) || !dir || stat(dir, &dst) < 0 ||
                    !root_only(&dst)) {
                        policy_errors_add(
                                errs,
                                "%s: the managed policy must be owned by "
                                "root and writable by no one else (and so "
                                "must its directory); agentbox does not "
                                "start under a ceiling someone else could "
                                "have changed",
                                path);
                        free(buf);
                        return -EPERM;
                }
        } else if (l == POLICY_LAYER_USER && !users_own(&st)) {
                policy_errors_add(errs,
                                  "%s: owned by someone else or writable by "
                                  "others; make it yours, mode 0644 or "
                                  "stricter",
                                  path);
                free(buf);
                return -EPERM;
        }
        if (l == POLICY_LAYER_PROJECT)
                policy_sha256_hex(buf, len, s->project_hash);
        r = policy_file_parse(path, buf, len, l, &s->layer[l], errs);
        free(buf);
        return r;
}

/* ---- trust -------------------------------------------------------------- */

#define TRUST_FILE "trusted-projects"


#define WORKSPACES_FILE "workspaces"
#define WORKSPACES_MAX (64 * 1024 * 1024)

/* Was a directory strictly above dir once a box's workspace?  That box
 * could have written dir's agentbox.yaml (only a workspace's own one is a
 * protected path), so no trust: tree may vouch for it. */
static bool below_a_workspace(const char *dir)
{
        struct ab_err err = {0};
        int d = statedir_open(NULL, &err);
        if (d < 0)
                return true; /* unknown: vouch for nothing */
        int fd = openat(d, WORKSPACES_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        close(d);
        if (fd < 0)
                return errno != ENOENT;
        size_t len = 0;
        char *buf = fileio_read_fd(fd, WORKSPACES_MAX, &len);
        close(fd);
        if (!buf)
                return true;
        bool below = false;
        for (char *save = NULL, *line = strtok_r(buf, "\n", &save);
             !below && line;
             line = strtok_r(NULL, "\n", &save))
                below = line[0] == '/' && strcmp(line, dir) != 0 &&
                        path_is_under(dir, line);
        free(buf);
        return below;
}

int policy_record_workspace(const char *dir)
{
        if (strchr(dir, '\n'))
                return -EINVAL;
        struct ab_err err = {0};
        int d = statedir_open(NULL, &err);
        if (d < 0)
                return d;
        int fd = openat(d, WORKSPACES_FILE,
                        O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                        0600);
        close(d);
        if (fd < 0)
                return -errno;
        /* one writer at a time: two runs never both add the same line */
        if (flock(fd, LOCK_EX) < 0) {
                int e = -errno;
                close(fd);
                return e;
        }
        int r = -ENOMEM;
        size_t len = 0, n = strlen(dir);
        char *buf = fileio_read_fd(fd, WORKSPACES_MAX, &len);
        char *needle = malloc(n + 3); /* "\n" dir "\n" */
        if (buf && needle) {
                needle[0] = '\n';
                memcpy(needle + 1, dir, n);
                needle[n + 1] = '\n';
                needle[n + 2] = 0;
                bool known = (len > n && !memcmp(buf, needle + 1, n + 1)) ||
                             memmem(buf, len, needle, n + 2);
                /* after a cut last line, a line of its own */
                const char *line = len && buf[len - 1] != '\n' ? needle
                                                               : needle + 1;
                size_t l = strlen(line);
                r = known || write(fd, line, l) == (ssize_t)l ? 0 : -EIO;
        }
        free(needle);
        free(buf);
        close(fd);
        return r;
}

static void check_trust(struct policy_stack *s)
{
        if (!s->present[POLICY_LAYER_PROJECT])
                return;
        const struct policy *u = &s->layer[POLICY_LAYER_USER];
        _cleanup_free_ char *home = policy_expand_home("~");
        char hreal[PATH_MAX] = "";
        if (home && !realpath(home, hreal))
                hreal[0] = 0;
        bool vouch = u->n_trust && !below_a_workspace(s->workspace);
        for (size_t i = 0; vouch && i < u->n_trust; i++) {
                _cleanup_free_ char *t = policy_expand_home(u->trust[i].path);
                char real[PATH_MAX];
                /* never the whole filesystem or the whole home, however
                 * spelt (~/., /home/me/) */
                if (t && realpath(t, real) && strcmp(real, "/") != 0 &&
                    strcmp(real, hreal) != 0 && path_is_under(s->workspace, real)) {
                        char where[512];
                        policy_src_describe(s, u->trust[i].src, where,
                                            sizeof(where));
                        if (asprintf(&s->trusted_by, "trust: %s (%s)",
                                     u->trust[i].path, where) < 0)
                                s->trusted_by = NULL;
                        s->project_trusted = true;
                        return;
                }
        }
        struct ab_err err = {0};
        int dir = statedir_open(NULL, &err);
        if (dir < 0)
                return;
        int fd = openat(dir, TRUST_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        close(dir);
        if (fd < 0)
                return;
        FILE *f = fdopen(fd, "r");
        if (!f) {
                close(fd);
                return;
        }
        char line[PATH_MAX + 80];
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = 0;
                if (strlen(line) > 65 && line[64] == ' ' &&
                    memcmp(line, s->project_hash, 64) == 0 &&
                    strcmp(line + 65, s->workspace) == 0) {
                        s->project_trusted = true;
                        s->trusted_by = strdup("agentbox trust");
                        break;
                }
        }
        fclose(f);
}

int policy_trust_project(const char *dir, const char *expect,
                         struct ab_err *err)
{
        char real[PATH_MAX];
        if (!realpath(dir, real))
                return err_setx(err, -errno, "%s", dir);
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", real, POLICY_PROJECT_FILE) < 0)
                return err_set(err, -ENOMEM, "out of memory");
        struct policy_errors errs = {0};
        char *buf = NULL;
        size_t len = 0;
        struct stat st;
        int r = policy_file_read(path, &buf, &len, &st, &errs);
        if (r < 0) {
                if (r == -ENOENT)
                        err_set(err, r, "%s: no such file", path);
                else
                        err_set(err, r, "%s", errs.n ? errs.v[0] : path);
                policy_errors_free(&errs);
                return r;
        }
        char hash[65];
        policy_sha256_hex(buf, len, hash);
        free(buf);
        if (expect && strcmp(expect, hash) != 0)
                return err_set(err, -EAGAIN,
                               "%s changed while agentbox read it; look at "
                               "it again",
                               path);
        int d = statedir_open(NULL, err);
        if (d < 0)
                return d;
        int fd = openat(d, TRUST_FILE,
                        O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                        0600);
        close(d);
        if (fd < 0)
                return err_setx(err, -errno, "cannot record the trust");
        char line[PATH_MAX + 80];
        int n = snprintf(line, sizeof(line), "%s %s\n", hash, real);
        r = strchr(real, '\n') ? -EINVAL
                               : fileio_write_all(fd, line, (size_t)n);
        close(fd);
        return r < 0 ? err_setx(err, r, "cannot record the trust") : 0;
}

/* ---- merging ------------------------------------------------------------ */

static int copy_str(char **dst, const char *v)
{
        char *d = v ? strdup(v) : NULL;
        if (v && !d)
                return -ENOMEM;
        free(*dst);
        *dst = d;
        return 0;
}

/* dst := dst with layer l on top: single values where l gives them, lists
 * appended (deny and protect accumulate; an env or secret of the same
 * name replaces the lower one). */
static int apply(struct policy *dst, const struct policy *l)
{
        int r = 0;
        for (int k = 0; k < POLICY_K_N; k++) {
                if (!(l->given & (1u << k)))
                        continue;
                dst->given |= 1u << k;
                dst->src[k] = l->src[k];
                switch ((enum policy_key)k) {
                case POLICY_K_ISOLATION:
                        dst->isolation = l->isolation;
                        break;
                case POLICY_K_WORKSPACE:
                        r = copy_str(&dst->workspace, l->workspace);
                        break;
                case POLICY_K_NET:
                        dst->net = l->net;
                        break;
                case POLICY_K_PIDS:
                        dst->pids_max = l->pids_max;
                        break;
                case POLICY_K_MEMORY:
                        dst->memory_max = l->memory_max;
                        dst->memory_given = true;
                        break;
                case POLICY_K_CPUS:
                        dst->cpus_milli = l->cpus_milli;
                        break;
                case POLICY_K_TMP:
                        dst->tmp_max = l->tmp_max;
                        break;
                case POLICY_K_AGENT:
                        r = copy_str(&dst->agent_name, l->agent_name);
                        break;
                case POLICY_K_PROFILE:
                        dst->profile = l->profile;
                        break;
                case POLICY_K_AGENT_PATH:
                        r = copy_str(&dst->agent_path, l->agent_path);
                        break;
                case POLICY_K_AGENT_STATE:
                        dst->agent_state_project = l->agent_state_project;
                        break;
                case POLICY_K_TELEMETRY:
                        dst->agent_telemetry = l->agent_telemetry;
                        break;
                default:
                        break;
                }
                if (r < 0)
                        return r;
        }
        struct ab_err err = {0};
        const struct netpat_list *src_l[2] = {&l->allow, &l->deny};
        struct netpat_list *dst_l[2] = {&dst->allow, &dst->deny};
        for (int j = 0; j < 2; j++)
                for (size_t i = 0; i < src_l[j]->n; i++) {
                        struct netpat_list *d = dst_l[j];
                        if (d->n >= NETPAT_MAX)
                                return -E2BIG;
                        struct netpat *v = realloc(d->v,
                                                   (d->n + 1) * sizeof(*v));
                        if (!v)
                                return -ENOMEM;
                        d->v = v;
                        d->v[d->n++] = src_l[j]->v[i];
                }
        for (size_t i = 0; i < l->protect.n_add; i++)
                if ((r = protect_rule_add_src(&dst->protect, false,
                                              l->protect.add[i], "protect",
                                              l->protect.add_src[i], &err)) < 0)
                        return r;
        for (size_t i = 0; i < l->protect.n_remove; i++)
                if ((r = protect_rule_add_src(&dst->protect, true,
                                              l->protect.remove[i],
                                              "unprotect",
                                              l->protect.remove_src[i], &err)) <
                    0)
                        return r;
        for (size_t i = 0; i < l->n_env; i++) {
                char *spec = NULL;
                const struct policy_env *e = &l->env[i];
                if (asprintf(&spec, "%s%s%s", e->name, e->value ? "=" : "",
                             e->value ? e->value : "") < 0)
                        return -ENOMEM;
                r = policy_env_add_as(dst, spec, "env", e->src, &err);
                free(spec);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < l->n_mounts; i++) {
                struct policy_mount *v = realloc(
                        dst->mounts, (dst->n_mounts + 1) * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                dst->mounts = v;
                struct policy_mount m = l->mounts[i];
                m.source = strdup(m.source);
                m.target = m.target ? strdup(m.target) : NULL;
                if (!m.source || (l->mounts[i].target && !m.target)) {
                        free(m.source);
                        free(m.target);
                        return -ENOMEM;
                }
                dst->mounts[dst->n_mounts++] = m;
        }
        for (size_t i = 0; i < l->n_secrets; i++) {
                const struct policy_secret *ls = &l->secrets[i];
                size_t e = 0;
                while (e < dst->n_secrets &&
                       strcmp(dst->secrets[e].name, ls->name) != 0)
                        e++;
                if (e == dst->n_secrets) {
                        struct policy_secret *v = realloc(
                                dst->secrets, (e + 1) * sizeof(*v));
                        if (!v)
                                return -ENOMEM;
                        dst->secrets = v;
                        dst->secrets[e] = (struct policy_secret){0};
                        dst->n_secrets++;
                }
                struct policy_secret *d = &dst->secrets[e];
                if (copy_str(&d->name, ls->name) < 0 ||
                    copy_str(&d->from, ls->from) < 0)
                        return -ENOMEM;
                d->src = ls->src;
        }
        return 0;
}

/* ---- the ceiling -------------------------------------------------------- */

/* The credential stores no layer may mount (filesystem.deny_mounts adds
 * to them): a box that could read them would hold the user's keys. */
static const char *const builtin_deny_mounts[] = {
        "~/.ssh", "~/.aws", "~/.gnupg", "~/.config/gh", "~/.docker",
        "~/.kube", "~/.azure", "~/.config/gcloud", "~/.netrc",
        "~/.git-credentials", "~/.npmrc", "~/.pypirc", "~/.cargo/credentials",
        "~/.cargo/credentials.toml", "~/.local/share/keyrings",
        "~/.password-store", "~/.vault-token", "~/.terraform.d",
        "~/.config/hub", "~/.claude", "~/.claude.json", "~/.codex",
        "~/.gemini", "/var/run/docker.sock",
        /* agentbox's own: the policy and what it trusts */
        "~/.config/agentbox", "~/.local/state/agentbox",
        /* the box has its own view of these: a second one would show
         * what it masks (/etc's secrets), the host's processes and
         * devices, or its sockets (docker, D-Bus, ...) */
        "/etc", "/proc", "/sys", "/dev", "/run",
        /* where programs keep the unix sockets they serve (X11, tmux,
         * ssh-agent, editors' servers): a read-only mount does not stop a
         * connect() */
        "/tmp/.X11-unix", "/tmp/.ICE-unix", "~/.vscode-server",
        "~/.cursor-server", "~/.ssh-agent",
};

/* Mount sources that hold one of these are refused, but what lies in them
 * may be mounted (a project's own directory in /tmp). */
static const char *const builtin_deny_holding[] = {"/tmp", "/var/tmp"};

__attribute__((format(printf, 3, 4))) static void
ceiling_error(const struct policy_stack *s, struct policy_errors *errs,
              const char *fmt, ...)
{
        (void)s;
        char msg[1536];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        policy_errors_add(errs, "%s", msg);
}

static void describe_key(const struct policy_stack *s, const struct policy *p,
                         enum policy_key k, char *buf, size_t size)
{
        policy_src_describe(s, p->src[k], buf, size);
}

static bool exceeds(enum policy_key k, const struct policy *e,
                    const struct policy *m)
{
        switch (k) {
        case POLICY_K_NET:
                return e->net > m->net;
        case POLICY_K_PIDS:
                return e->pids_max > m->pids_max;
        case POLICY_K_MEMORY:
                /* 0 is the default: half the host's, within any cap */
                return e->memory_max > m->memory_max;
        case POLICY_K_CPUS:
                return m->cpus_milli &&
                       (!e->cpus_milli || e->cpus_milli > m->cpus_milli);
        case POLICY_K_TMP:
                return m->tmp_max && (!e->tmp_max || e->tmp_max > m->tmp_max);
        default:
                return false;
        }
}

void policy_size_words(uint64_t v, char *buf, size_t size)
{
        if (v % (1ull << 30) == 0)
                snprintf(buf, size, "%lluG", (unsigned long long)(v >> 30));
        else
                snprintf(buf, size, "%lluM", (unsigned long long)(v >> 20));
}

static void format_value(enum policy_key k, const struct policy *p, char *buf,
                         size_t size)
{
        switch (k) {
        case POLICY_K_NET:
                snprintf(buf, size, "%s", policy_net_name(p->net));
                break;
        case POLICY_K_PIDS:
                snprintf(buf, size, "%u", p->pids_max);
                break;
        case POLICY_K_MEMORY:
                if (p->memory_max == POLICY_MEMORY_UNLIMITED)
                        snprintf(buf, size, "unlimited");
                else if (!p->memory_max)
                        snprintf(buf, size, "default (half the host's)");
                else
                        policy_size_words(p->memory_max, buf, size);
                break;
        case POLICY_K_CPUS:
                if (p->cpus_milli)
                        snprintf(buf, size, "%u.%03u", p->cpus_milli / 1000,
                                 p->cpus_milli % 1000);
                else
                        snprintf(buf, size, "no cap");
                break;
        case POLICY_K_TMP:
                if (p->tmp_max)
                        policy_size_words(p->tmp_max, buf, size);
                else
                        snprintf(buf, size, "default");
                break;
        case POLICY_K_ISOLATION:
                snprintf(buf, size, "process");
                break;
        case POLICY_K_WORKSPACE:
                snprintf(buf, size, "%s", p->workspace ? p->workspace : ".");
                break;
        case POLICY_K_AGENT:
                snprintf(buf, size, "%s", p->agent_name ? p->agent_name : "");
                break;
        case POLICY_K_PROFILE:
                snprintf(buf, size, "%s", policy_profile_name(p->profile));
                break;
        case POLICY_K_AGENT_PATH:
                snprintf(buf, size, "%s", p->agent_path ? p->agent_path : "");
                break;
        case POLICY_K_AGENT_STATE:
                snprintf(buf, size, "%s",
                         p->agent_state_project ? "project" : "user");
                break;
        case POLICY_K_TELEMETRY:
                snprintf(buf, size, "%s", p->agent_telemetry ? "true" : "false");
                break;
        default:
                snprintf(buf, size, "?");
        }
}

static bool port_within(uint16_t a, uint16_t c) { return !c || a == c; }

static bool name_below(const char *name, const char *suffix)
{
        size_t n = strlen(name), m = strlen(suffix);
        return n > m && name[n - m - 1] == '.' &&
               strcmp(name + n - m, suffix) == 0;
}

static bool addr_within(const struct netpat *a, const struct netpat *c)
{
        if (a->family != c->family || a->prefix < c->prefix)
                return false;
        unsigned bits = c->prefix;
        size_t bytes = bits / 8;
        if (memcmp(a->addr, c->addr, bytes) != 0)
                return false;
        if (bits % 8) {
                uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));
                if ((a->addr[bytes] & mask) != (c->addr[bytes] & mask))
                        return false;
        }
        return true;
}

/* Does everything pattern a allows lie within what ceiling allows? */
static bool within(const struct netpat *a, const struct netpat_list *ceiling)
{
        for (size_t i = 0; i < ceiling->n; i++) {
                const struct netpat *c = &ceiling->v[i];
                if (!port_within(a->port, c->port))
                        continue;
                if (a->kind == NETPAT_ADDR) {
                        if (c->kind == NETPAT_ADDR && addr_within(a, c))
                                return true;
                        continue;
                }
                if (c->kind == NETPAT_NAME && a->kind == NETPAT_NAME &&
                    strcmp(a->name, c->name) == 0)
                        return true;
                if (c->kind == NETPAT_SUFFIX &&
                    (name_below(a->name, c->name) ||
                     (a->kind == NETPAT_SUFFIX &&
                      strcmp(a->name, c->name) == 0)))
                        return true;
        }
        return false;
}

/* The source of a mount, as the host resolves it (or as written). */
static char *mount_host_path(const char *source)
{
        _cleanup_free_ char *e = policy_expand_home(source);
        if (!e)
                return NULL;
        char real[PATH_MAX];
        return strdup(realpath(e, real) ? real : e);
}

const char *policy_mount_denied(const struct policy *p, const char *real,
                                struct policy_src *src)
{
        for (size_t i = 0; i < ARRAY_SIZE(builtin_deny_holding); i++)
                if (path_is_under(builtin_deny_holding[i], real)) {
                        *src = (struct policy_src){0};
                        return builtin_deny_holding[i];
                }
        /* the state and config directories as this user has them */
        const char *xs = geteuid() == 0 ? NULL : getenv("XDG_STATE_HOME");
        const char *xc = geteuid() == 0 ? NULL : getenv("XDG_CONFIG_HOME");
        const char *xdg[2] = {xs, xc};
        for (int i = 0; i < 2; i++) {
                char d[PATH_MAX], r[PATH_MAX];
                if (!xdg[i] || xdg[i][0] != '/' ||
                    snprintf(d, sizeof(d), "%s/agentbox", xdg[i]) >=
                            (int)sizeof(d))
                        continue;
                const char *dp = realpath(d, r) ? r : d;
                if (path_is_under(real, dp) || path_is_under(dp, real)) {
                        *src = (struct policy_src){0};
                        return i ? "$XDG_CONFIG_HOME/agentbox"
                                 : "$XDG_STATE_HOME/agentbox";
                }
        }
        size_t nb = ARRAY_SIZE(builtin_deny_mounts);
        for (size_t i = 0; i < nb + p->n_deny_mounts; i++) {
                const char *d = i < nb ? builtin_deny_mounts[i]
                                       : p->deny_mounts[i - nb].path;
                _cleanup_free_ char *dp = mount_host_path(d);
                if (!dp || !(path_is_under(real, dp) || path_is_under(dp, real)))
                        continue;
                *src = i < nb ? (struct policy_src){0}
                              : p->deny_mounts[i - nb].src;
                return d;
        }
        return NULL;
}

static void check_mount_denied(struct policy_stack *s,
                               const struct policy_mount *m,
                               struct policy_errors *errs)
{
        _cleanup_free_ char *src = mount_host_path(m->source);
        struct policy_src ds;
        const char *d = src ? policy_mount_denied(&s->layer[POLICY_LAYER_MANAGED],
                                                  src, &ds)
                            : NULL;
        if (!d)
                return;
        char where[512], by[512];
        policy_src_describe(s, m->src, where, sizeof(where));
        if (ds.layer == POLICY_LAYER_DEFAULT)
                snprintf(by, sizeof(by),
                         "agentbox's built-in list of credential stores");
        else
                policy_src_describe(s, ds, by, sizeof(by));
        _cleanup_free_ char *dp = mount_host_path(d);
        ceiling_error(s, errs,
                      "filesystem.mounts %s (%s): %s %s, which no box may "
                      "mount (%s)",
                      m->source, where,
                      dp && path_is_under(src, dp) ? "lies in" : "holds", d, by);
}

/* A value set by a lower layer over the managed one. */
static void ceiling_values(struct policy_stack *s, struct policy_errors *errs)
{
        const struct policy *mg = &s->layer[POLICY_LAYER_MANAGED];
        const struct policy *e = &s->effective;
        static const enum policy_key capped[] = {
                POLICY_K_NET, POLICY_K_PIDS, POLICY_K_MEMORY, POLICY_K_CPUS,
                POLICY_K_TMP};
        char a[512], b[512], va[64], vb[64];
        for (size_t i = 0; i < ARRAY_SIZE(capped); i++) {
                enum policy_key k = capped[i];
                if (!(mg->given & (1u << k)) || !exceeds(k, e, mg))
                        continue;
                describe_key(s, e, k, a, sizeof(a));
                describe_key(s, mg, k, b, sizeof(b));
                format_value(k, e, va, sizeof(va));
                format_value(k, mg, vb, sizeof(vb));
                ceiling_error(s, errs,
                              "%s: %s (%s) is above the ceiling %s (%s); ask "
                              "for %s or less",
                              policy_key_name(k), va, a, vb, b, vb);
        }
}

/* A managed allowlist: a lower layer may only allow within it. */
static void ceiling_allow(struct policy_stack *s, struct policy_errors *errs)
{
        const struct policy *mg = &s->layer[POLICY_LAYER_MANAGED];
        const struct policy *e = &s->effective;
        char a[512];
        if (!(mg->given & (1u << POLICY_K_ALLOW)))
                return;
        for (size_t i = 0; i < e->allow.n; i++) {
                const struct netpat *p = &e->allow.v[i];
                if (p->src.layer == POLICY_LAYER_MANAGED ||
                    within(p, &mg->allow))
                        continue;
                policy_src_describe(s, p->src, a, sizeof(a));
                ceiling_error(s, errs,
                              "network.allow %s (%s): not within the managed "
                              "allowlist (%s); the administrator allows only "
                              "what it names",
                              p->text, a, s->path[POLICY_LAYER_MANAGED]);
        }
        if (e->net == POLICY_NET_OPEN) {
                describe_key(s, e, POLICY_K_NET, a, sizeof(a));
                ceiling_error(s, errs,
                              "network.mode open (%s): reaches beyond the "
                              "managed allowlist (%s); use filtered",
                              a, s->path[POLICY_LAYER_MANAGED]);
        }
}

/* What the managed file protects stays protected. */
static void ceiling_protect(struct policy_stack *s, struct policy_errors *errs)
{
        const struct policy *mg = &s->layer[POLICY_LAYER_MANAGED];
        const struct policy *e = &s->effective;
        char a[512], b[512];
        for (size_t i = 0; i < mg->protect.n_add; i++)
                for (size_t j = 0; j < e->protect.n_remove; j++) {
                        if (!protect_covers(e->protect.remove[j],
                                            mg->protect.add[i]))
                                continue;
                        policy_src_describe(s, e->protect.remove_src[j], a,
                                            sizeof(a));
                        policy_src_describe(s, mg->protect.add_src[i], b,
                                            sizeof(b));
                        ceiling_error(s, errs,
                                      "unprotect %s (%s): the managed policy "
                                      "protects %s (%s)",
                                      e->protect.remove[j], a,
                                      mg->protect.add[i], b);
                }
}

static bool layer_sets(const struct policy *lp, int k)
{
        if (k < POLICY_K_N)
                return lp->given & (1u << k);
        switch (k) {
        case POLICY_K_ALLOW:
                return lp->allow.n;
        case POLICY_K_DENY:
                return lp->deny.n;
        case POLICY_K_PROTECT:
                return lp->protect.n_add || lp->protect.n_remove;
        case POLICY_K_MOUNTS:
                return lp->n_mounts;
        case POLICY_K_ENV:
                return lp->n_env;
        default:
                return lp->n_secrets;
        }
}

/* Where layer lp sets key k (its first item for a list). */
static struct policy_src layer_key_src(const struct policy *lp, int k)
{
        if (k < POLICY_K_N)
                return lp->src[k];
        switch (k) {
        case POLICY_K_ALLOW:
                return lp->allow.n ? lp->allow.v[0].src : (struct policy_src){0};
        case POLICY_K_DENY:
                return lp->deny.n ? lp->deny.v[0].src : (struct policy_src){0};
        case POLICY_K_PROTECT:
                return lp->protect.n_add ? lp->protect.add_src[0]
                       : lp->protect.n_remove ? lp->protect.remove_src[0]
                                              : (struct policy_src){0};
        case POLICY_K_MOUNTS:
                return lp->n_mounts ? lp->mounts[0].src : (struct policy_src){0};
        case POLICY_K_ENV:
                return lp->n_env ? lp->env[0].src : (struct policy_src){0};
        default:
                return lp->n_secrets ? lp->secrets[0].src
                                     : (struct policy_src){0};
        }
}

/* Locked keys: no lower layer sets them at all. */
static void ceiling_locks(struct policy_stack *s, struct policy_errors *errs)
{
        const struct policy *mg = &s->layer[POLICY_LAYER_MANAGED];
        char b[512];
        for (int k = 0; k < POLICY_K_ALL; k++) {
                if (!(mg->locked & (1u << k)))
                        continue;
                policy_src_describe(s, mg->lock_src[k], b, sizeof(b));
                for (int l = POLICY_LAYER_USER; l < POLICY_LAYER_N; l++) {
                        if (!layer_sets(&s->layer[l], k))
                                continue;
                        char a[512];
                        policy_src_describe(s, layer_key_src(&s->layer[l], k),
                                            a, sizeof(a));
                        ceiling_error(s, errs,
                                      "%s (%s): locked by the managed policy "
                                      "(%s); no other layer may set it",
                                      policy_key_name((enum policy_key)k), a,
                                      b);
                }
        }
}

static void check_ceiling(struct policy_stack *s, struct policy_errors *errs)
{
        if (s->present[POLICY_LAYER_MANAGED]) {
                ceiling_values(s, errs);
                ceiling_allow(s, errs);
                ceiling_protect(s, errs);
                ceiling_locks(s, errs);
        }
        for (size_t i = 0; i < s->effective.n_mounts; i++)
                check_mount_denied(s, &s->effective.mounts[i], errs);
}

/* ---- what an untrusted project file would widen ------------------------- */

/* The memory cap in bytes: the default (0) is half the host's. */
static uint64_t memory_of(const struct policy *p)
{
        if (p->memory_max)
                return p->memory_max;
        struct sysinfo si;
        return sysinfo(&si) == 0 ? (uint64_t)si.totalram * si.mem_unit / 2
                                 : UINT64_MAX;
}

static void widening(struct policy_stack *s)
{
        const struct policy *p = &s->layer[POLICY_LAYER_PROJECT];
        struct policy base;
        policy_init(&base);
        (void)apply(&base, &s->layer[POLICY_LAYER_MANAGED]);
        (void)apply(&base, &s->layer[POLICY_LAYER_USER]);
        (void)apply(&base, &s->layer[POLICY_LAYER_AGENT]);
        struct policy_errors *w = &s->widens;
        char v[64];
        for (size_t i = 0; i < p->allow.n; i++)
                policy_errors_add(w, "line %u: network.allow %s",
                                  p->allow.v[i].src.line, p->allow.v[i].text);
        static const enum policy_key keys[] = {POLICY_K_NET, POLICY_K_PIDS,
                                               POLICY_K_MEMORY, POLICY_K_CPUS,
                                               POLICY_K_TMP};
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                enum policy_key k = keys[i];
                if (!(p->given & (1u << k)))
                        continue;
                bool more = k == POLICY_K_MEMORY
                                    ? p->memory_max > memory_of(&base)
                            : k == POLICY_K_CPUS
                                    ? base.cpus_milli &&
                                              p->cpus_milli > base.cpus_milli
                            : k == POLICY_K_TMP
                                    ? p->tmp_max > (base.tmp_max
                                                            ? base.tmp_max
                                                            : POLICY_TMP_DEFAULT)
                                    : exceeds(k, p, &base);
                /* the default memory cap (0) is half the host's: any
                 * explicit size may be more */
                if (!more)
                        continue;
                format_value(k, p, v, sizeof(v));
                policy_errors_add(w, "line %u: %s %s", p->src[k].line,
                                  policy_key_name(k), v);
        }
        for (size_t i = 0; i < p->protect.n_remove; i++)
                policy_errors_add(w, "line %u: filesystem.unprotect %s",
                                  p->protect.remove_src[i].line,
                                  p->protect.remove[i]);
        for (size_t i = 0; i < p->n_mounts; i++)
                policy_errors_add(w, "line %u: filesystem.mounts %s (%s)",
                                  p->mounts[i].src.line, p->mounts[i].source,
                                  p->mounts[i].rw ? "rw" : "ro");
        for (size_t i = 0; i < p->n_env; i++) {
                size_t l = strlen(p->env[i].name);
                if (!p->env[i].value)
                        policy_errors_add(w, "line %u: env.pass %s",
                                          p->env[i].src.line, p->env[i].name);
                /* where an agent sends its requests (and its API key) */
                else if (l > 9 &&
                         strcmp(p->env[i].name + l - 9, "_BASE_URL") == 0)
                        policy_errors_add(w,
                                          "line %u: env.set %s (an agent's "
                                          "requests, and its key, would go "
                                          "there)",
                                          p->env[i].src.line, p->env[i].name);
        }
        /* the agent's prompts off where the layers below keep them
         * (interactive), or its state shared where they keep it per
         * project: other projects' sessions and login in reach */
        if (p->given & 1u << POLICY_K_PROFILE &&
            p->profile != POLICY_PROFILE_INTERACTIVE &&
            base.profile == POLICY_PROFILE_INTERACTIVE)
                policy_errors_add(w, "line %u: agent.profile %s",
                                  p->src[POLICY_K_PROFILE].line,
                                  policy_profile_name(p->profile));
        if (p->given & 1u << POLICY_K_AGENT_STATE && !p->agent_state_project &&
            base.agent_state_project)
                policy_errors_add(w, "line %u: agent.state user",
                                  p->src[POLICY_K_AGENT_STATE].line);
        /* another program to run, and its installation mounted */
        if (p->given & 1u << POLICY_K_AGENT_PATH)
                policy_errors_add(w, "line %u: agent.path %s",
                                  p->src[POLICY_K_AGENT_PATH].line,
                                  p->agent_path);
        /* another vendor's hosts, when it picks the agent */
        if (s->agent_by_policy && p->given & 1u << POLICY_K_AGENT &&
            s->agent && strcmp(s->agent, p->agent_name) == 0)
                policy_errors_add(w, "line %u: agent.name %s (the agent "
                                     "agentbox starts, and its vendor's hosts)",
                                  p->src[POLICY_K_AGENT].line, p->agent_name);
        for (size_t i = 0; i < p->n_secrets; i++)
                policy_errors_add(w, "line %u: secrets.%s from %s",
                                  p->secrets[i].src.line, p->secrets[i].name,
                                  p->secrets[i].from);
        policy_free(&base);
}

/* ---- the whole ---------------------------------------------------------- */

/* "command line" or "user FILE:LINE:COL", from p's own record of files. */
static void src_text(const struct policy *p, struct policy_src s, char *buf,
                     size_t size)
{
        unsigned l = s.layer < POLICY_LAYER_N ? s.layer : 0;
        if (l == POLICY_LAYER_DEFAULT || l == POLICY_LAYER_FLAGS ||
            l == POLICY_LAYER_AGENT || !p->layer_file[l])
                snprintf(buf, size, "%s", layer_names[l]);
        else
                snprintf(buf, size, "%s %s:%u:%u", layer_names[l],
                         p->layer_file[l], s.line, s.col);
}

int policy_check_effective(const struct policy *p, struct ab_err *err)
{
        char at[PATH_MAX + 64];
        for (size_t i = 0; i < p->n_env && p->net != POLICY_NET_OFF; i++) {
                size_t l = strlen(p->env[i].name);
                if (l < 6 || strcasecmp(p->env[i].name + l - 6, "_proxy"))
                        continue;
                src_text(p, p->env[i].src, at, sizeof(at));
                return err_set(err, -EINVAL,
                               "env %s (%s): the box sets the proxy "
                               "variables to agentbox's own proxy; with "
                               "network.mode off (--net off) you may set "
                               "them",
                               p->env[i].name, at);
        }
        for (size_t i = 0; i < p->n_secrets && p->net != POLICY_NET_OFF; i++) {
                size_t l = strlen(p->secrets[i].name);
                if (l < 6 ||
                    strcasecmp(p->secrets[i].name + l - 6, "_proxy") != 0)
                        continue;
                src_text(p, p->secrets[i].src, at, sizeof(at));
                return err_set(err, -EINVAL,
                               "secrets.%s (%s): the box sets the proxy "
                               "variables itself",
                               p->secrets[i].name, at);
        }
        if (p->audit_path && !p->audit_path[0])
                return err_set(err, -EINVAL, "--audit: empty file name");
        /* one layer that says both means something it cannot have; a
         * list under another layer's "off" is merely unused */
        const struct netpat_list *lists[2] = {&p->allow, &p->deny};
        for (int j = 0; p->net == POLICY_NET_OFF && j < 2; j++)
                for (size_t i = 0; i < lists[j]->n; i++)
                        if (lists[j]->v[i].src.layer ==
                            p->src[POLICY_K_NET].layer) {
                                src_text(p, lists[j]->v[i].src, at,
                                         sizeof(at));
                                return err_set(
                                        err, -EINVAL,
                                        "network.%s %s (%s) with "
                                        "network.mode off (--%s with --net "
                                        "off) in the same place: the box "
                                        "has no network at all; drop the "
                                        "mode off to use them",
                                        j ? "deny" : "allow",
                                        lists[j]->v[i].text, at,
                                        j ? "deny" : "allow");
                        }
        uint16_t ports[POLICY_TRANSPARENT_MAX];
        int r = policy_transparent_ports(p, ports, err);
        return r < 0 ? r : 0;
}

/* The agent: keys of every layer, merged (an untrusted project's path
 * too: it is refused as widening), then the profile's own layer. */
static void agent_layer(struct policy_stack *s,
                        const struct policy_agent_hook *h,
                        struct policy_errors *errs)
{
        size_t before = errs->n;
        struct policy conf;
        policy_init(&conf);
        for (int l = POLICY_LAYER_MANAGED; l < POLICY_LAYER_N; l++) {
                struct policy one;
                policy_init(&one);
                const struct policy *lp = &s->layer[l];
                one.given = lp->given & (1u << POLICY_K_AGENT |
                                         1u << POLICY_K_PROFILE |
                                         1u << POLICY_K_AGENT_PATH |
                                         1u << POLICY_K_AGENT_STATE |
                                         1u << POLICY_K_TELEMETRY);
                memcpy(one.src, lp->src, sizeof(one.src));
                one.agent_name = lp->agent_name;
                one.agent_path = lp->agent_path;
                one.profile = lp->profile;
                one.agent_state_project = lp->agent_state_project;
                one.agent_telemetry = lp->agent_telemetry;
                if (apply(&conf, &one) < 0)
                        policy_errors_add(errs, "out of memory");
                one.agent_name = one.agent_path = NULL;
                policy_free(&one);
        }
        /* a path is one agent's program: it goes with the policy's name */
        if (conf.agent_path && !conf.agent_name) {
                char where[PATH_MAX + 64];
                policy_src_describe(s, conf.src[POLICY_K_AGENT_PATH], where,
                                    sizeof(where));
                policy_errors_add(errs,
                                  "agent.path %s (%s): say which agent it is "
                                  "with agent.name",
                                  conf.agent_path, where);
        }
        if (h->name && conf.agent_name &&
            strcmp(h->name, conf.agent_name) != 0) {
                free(conf.agent_path);
                conf.agent_path = NULL;
                conf.given &= ~(1u << POLICY_K_AGENT_PATH);
        }
        if (h->name && copy_str(&conf.agent_name, h->name) < 0)
                policy_errors_add(errs, "out of memory");
        s->agent_by_policy = !h->name;
        if (!conf.agent_name)
                policy_errors_add(errs,
                                  "no agent named: say which (agentbox "
                                  "claude, agentbox codex, agentbox gemini), "
                                  "or set agent.name in a policy file");
        if (conf.agent_name && errs->n == before) {
                s->agent = strdup(conf.agent_name);
                s->path[POLICY_LAYER_AGENT] = strdup(conf.agent_name);
                s->present[POLICY_LAYER_AGENT] = true;
                if (!s->agent || !s->path[POLICY_LAYER_AGENT] ||
                    h->build(h->arg, s, &conf,
                             &s->layer[POLICY_LAYER_AGENT], errs) < 0)
                        if (errs->n == before)
                                policy_errors_add(errs, "out of memory");
        }
        policy_free(&conf);
}

int policy_stack_load(struct policy_stack *s, struct policy *flags,
                      const struct policy_agent_hook *agent,
                      struct policy_errors *errs)
{
        *s = (struct policy_stack){0};
        for (int l = 0; l < POLICY_LAYER_N; l++)
                policy_init(&s->layer[l]);
        policy_init(&s->effective);
        policy_free(&s->layer[POLICY_LAYER_FLAGS]);
        s->layer[POLICY_LAYER_FLAGS] = *flags;
        policy_init(flags);
        s->present[POLICY_LAYER_FLAGS] = true;
        size_t before = errs->n;

        const char *mp = policy_managed_path_override
                                 ? policy_managed_path_override
                                 : POLICY_MANAGED_PATH;
        (void)load(s, POLICY_LAYER_MANAGED, strdup(mp), errs);
        (void)load(s, POLICY_LAYER_USER, user_file(), errs);

        /* the project file is the workspace's: the command line's, else
         * the user's default, else here */
        const struct policy *fl = &s->layer[POLICY_LAYER_FLAGS];
        const struct policy *us = &s->layer[POLICY_LAYER_USER];
        const char *ws = fl->workspace ? fl->workspace
                         : us->workspace ? us->workspace
                                         : ".";
        /* pinned once, as the box will have it: the supervisor takes
         * this descriptor, and the project file is read through it */
        _cleanup_free_ char *wse = policy_expand_home(ws);
        char *real = NULL;
        struct ab_err err = {0};
        if (!wse)
                policy_errors_add(errs, "out of memory");
        else if (policy_workspace_pin(wse, geteuid() == 0,
                                      &s->effective.ws_fd, &real, &err) < 0)
                policy_errors_add(errs, "%s", err.msg);
        else {
                s->workspace = real;
                char *pp = NULL;
                if (asprintf(&pp, "%s/%s", real, POLICY_PROJECT_FILE) < 0)
                        pp = NULL;
                (void)load(s, POLICY_LAYER_PROJECT, pp, errs);
        }
        check_trust(s);
        if (agent && errs->n == before)
                agent_layer(s, agent, errs);

        for (int l = POLICY_LAYER_MANAGED; l < POLICY_LAYER_N; l++) {
                int r = apply(&s->effective, &s->layer[l]);
                if (r == -E2BIG)
                        policy_errors_add(errs,
                                          "the layers together name more "
                                          "than %u network patterns, %d "
                                          "protected paths or %u variables "
                                          "(the %s layer is past it)",
                                          NETPAT_MAX, PROTECT_MAX,
                                          POLICY_ENV_MAX,
                                          policy_layer_name(
                                                  (enum policy_layer)l));
                else if (r < 0)
                        policy_errors_add(errs, "out of memory");
                if (r < 0)
                        break;
        }
        s->effective.audit_path = fl->audit_path ? strdup(fl->audit_path)
                                                 : NULL;
        if (s->workspace && copy_str(&s->effective.workspace, s->workspace) < 0)
                policy_errors_add(errs, "out of memory");
        s->effective.tty_passthrough = fl->tty_passthrough;
        s->effective.trust_trees = us->n_trust > 0;
        s->effective.verbose = fl->verbose;
        for (int l = 0; l < POLICY_LAYER_N; l++)
                if (s->path[l])
                        s->effective.layer_file[l] = strdup(s->path[l]);
        const struct policy *mg = &s->layer[POLICY_LAYER_MANAGED];
        for (size_t i = 0; i < mg->n_deny_mounts; i++) {
                struct policy *e = &s->effective;
                struct policy_path *v = realloc(
                        e->deny_mounts, (e->n_deny_mounts + 1) * sizeof(*v));
                char *d = strdup(mg->deny_mounts[i].path);
                if (!v || !d) {
                        free(d);
                        if (v)
                                e->deny_mounts = v;
                        policy_errors_add(errs, "out of memory");
                        break;
                }
                e->deny_mounts = v;
                e->deny_mounts[e->n_deny_mounts++] =
                        (struct policy_path){d, mg->deny_mounts[i].src};
        }
        if (errs->n == before) {
                check_ceiling(s, errs);
                struct ab_err err = {0};
                if (policy_check_effective(&s->effective, &err) < 0)
                        policy_errors_add(errs, "%s", err.msg);
        }
        if (s->present[POLICY_LAYER_PROJECT] && !s->project_trusted)
                widening(s);
        return errs->n > before ? -EINVAL : 0;
}

int policy_stack_allow(struct policy_stack *s, const char *pattern,
                       struct policy_src src, struct policy_errors *errs)
{
        struct netpat np;
        struct ab_err err = {0};
        if (netpat_parse(pattern, &np, "allow", &err) < 0) {
                policy_errors_add(errs, "%s", err.msg);
                return -EINVAL;
        }
        np.src = src;
        struct policy *e = &s->effective;
        for (size_t i = 0; i < e->allow.n; i++)
                if (strcmp(e->allow.v[i].text, np.text) == 0)
                        return 0;
        const struct policy *mg = &s->layer[POLICY_LAYER_MANAGED];
        if ((mg->given & (1u << POLICY_K_ALLOW)) && !within(&np, &mg->allow)) {
                char a[512];
                policy_src_describe(s, src, a, sizeof(a));
                policy_errors_add(errs,
                                  "network.allow %s (%s): not within the "
                                  "managed allowlist (%s)",
                                  np.text, a, s->path[POLICY_LAYER_MANAGED]);
                return -EPERM;
        }
        if (e->allow.n >= NETPAT_MAX)
                return -E2BIG;
        struct netpat *v = realloc(e->allow.v, (e->allow.n + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        e->allow.v = v;
        e->allow.v[e->allow.n++] = np;
        uint16_t ports[POLICY_TRANSPARENT_MAX];
        int r = policy_transparent_ports(e, ports, &err);
        if (r < 0) {
                policy_errors_add(errs, "%s", err.msg);
                return r;
        }
        return 0;
}

int policy_stack_refuse(const struct policy_stack *s,
                        struct policy_errors *errs)
{
        if (!s->widens.n)
                return 0;
        policy_errors_add(errs,
                          "%s: this project's policy file would widen the "
                          "box, and you have not trusted it (a cloned "
                          "repository may be hostile):",
                          s->path[POLICY_LAYER_PROJECT]);
        for (size_t i = 0; i < s->widens.n; i++)
                policy_errors_add(errs, "  %s", s->widens.v[i]);
        policy_errors_add(errs,
                          "read it, then approve this exact content with: "
                          "agentbox trust %s",
                          s->workspace);
        return -EPERM;
}

void policy_stack_free(struct policy_stack *s)
{
        for (int l = 0; l < POLICY_LAYER_N; l++) {
                policy_free(&s->layer[l]);
                free(s->path[l]);
        }
        policy_free(&s->effective);
        policy_errors_free(&s->widens);
        free(s->workspace);
        free(s->trusted_by);
        free(s->agent);
        *s = (struct policy_stack){0};
}

#define SECRET_MAX 65536

int policy_resolve_secrets(struct policy *p, struct ab_err *err)
{
        for (size_t i = 0; i < p->n_secrets; i++) {
                const struct policy_secret *s = &p->secrets[i];
                _cleanup_free_ char *val = NULL;
                if (strncmp(s->from, "env:", 4) == 0) {
                        const char *v = getenv(s->from + 4);
                        if (!v)
                                return err_set(err, -ENOENT,
                                               "secrets.%s: %s is not set in "
                                               "your environment",
                                               s->name, s->from + 4);
                        val = strdup(v);
                } else {
                        _cleanup_free_ char *path = policy_expand_home(s->from + 5);
                        int fd = path ? open(path, O_RDONLY | O_NONBLOCK |
                                                           O_CLOEXEC)
                                      : -1;
                        struct stat st;
                        if (fd < 0 || fstat(fd, &st) < 0 ||
                            !S_ISREG(st.st_mode)) {
                                int e = fd < 0 ? errno : EINVAL;
                                if (fd >= 0)
                                        close(fd);
                                return err_set(err, -e,
                                               "secrets.%s: cannot read %s: "
                                               "%s",
                                               s->name, s->from + 5,
                                               fd < 0 ? strerror(e)
                                                      : "not a regular file");
                        }
                        val = malloc(SECRET_MAX + 1);
                        ssize_t n = val ? read(fd, val, SECRET_MAX + 1) : -1;
                        close(fd);
                        if (n < 0 || n > SECRET_MAX)
                                return err_set(err, -EFBIG,
                                               "secrets.%s: %s: %s", s->name,
                                               s->from + 5,
                                               n < 0 ? "cannot read it"
                                                     : "larger than 64 KiB");
                        if (memchr(val, 0, (size_t)n))
                                return err_set(err, -EINVAL,
                                               "secrets.%s: %s holds a NUL "
                                               "byte",
                                               s->name, s->from + 5);
                        /* one final newline is the file's, not the key's */
                        if (n > 0 && val[n - 1] == '\n')
                                n--;
                        if (n > 0 && val[n - 1] == '\r')
                                n--;
                        val[n] = 0;
                }
                if (!val)
                        return err_set(err, -ENOMEM, "out of memory");
                _cleanup_free_ char *spec = NULL;
                if (asprintf(&spec, "%s=%s", s->name, val) < 0)
                        return err_set(err, -ENOMEM, "out of memory");
                explicit_bzero(val, strlen(val));
                struct ab_err e2 = {0};
                int r = policy_env_add_as(p, spec, "secrets", s->src, &e2);
                explicit_bzero(spec, strlen(spec));
                if (r < 0) /* the message names the variable, not the value */
                        return err_set(err, r, "secrets.%s: cannot be set",
                                       s->name);
        }
        return 0;
}
