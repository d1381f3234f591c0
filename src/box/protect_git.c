/* Protected workspace paths: what git itself points at (protect.c walks
 * and holds them).  A .git file naming a directory in the workspace, the
 * paths the config names (core.hooksPath, include paths, core.fsmonitor;
 * in the host user's own configs too), submodules' .git and git
 * directories (the whole of .git/modules is read-only but for each
 * existing submodule's own state), linked worktrees' pointers. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/path.h"
#include "common/util.h"
#include "gitconfig.h"
#include "protect_plan.h"

/* A small file below the workspace (no link on the way), as text. */
static char *read_small(struct ctx *c, const char *rel, size_t max,
                        size_t *len)
{
        return fileio_read_small(c->ws, rel, true, max, len);
}

/* A path a git file names (relative to base, the workspace-relative
 * directory it is relative to; absolute; or "~/..." for the home), as a
 * workspace-relative path, lexically; NULL when it lies outside. */
static const char *ws_relative(struct ctx *c, const char *base,
                               const char *p, char *out, size_t size)
{
        size_t wl = strlen(c->ws_path);
        if (p[0] == '~')
                return NULL; /* the home: never the workspace */
        if (p[0] == '/') {
                if (strncmp(p, c->ws_path, wl) != 0 || p[wl] != '/')
                        return NULL;
                base = "";
                p += wl + 1;
        }
        return path_normalise(base, p, out, size) > 0 ? out : NULL;
}

/* An absolute host path as a workspace-relative one: lexically when it is
 * spelled below the workspace, else by resolving it (another name of the
 * workspace's directory, through a link, lands inside all the same); NULL
 * when it lies outside. */
static const char *abs_to_ws(struct ctx *c, const char *p, char *out,
                             size_t size)
{
        const char *r = ws_relative(c, "", p, out, size);
        if (r)
                return r;
        char real[PATH_MAX], dir[PATH_MAX];
        if (!realpath(p, real)) {
                const char *slash = strrchr(p, '/');
                if (!slash || slash == p ||
                    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - p), p) >=
                            (int)sizeof(dir) ||
                    !realpath(dir, real) ||
                    strlen(real) + strlen(slash) >= sizeof(real))
                        return NULL;
                strcat(real, slash);
        }
        return ws_relative(c, "", real, out, size);
}

struct cfg_refs {
        struct ctx *c;
        char dir[PATH_MAX]; /* the config file's directory, absolute */
        const char *top;    /* the worktree's top, workspace-relative, or
                             * NULL when not known (a submodule's) */
        int depth;          /* of includes */
        int r;
};

static int read_config_at(struct ctx *c, const char *abs, const char *top,
                          int depth);

static bool is_bool(const char *v)
{
        static const char *const words[] = {"true", "false", "yes", "no",
                                            "on",   "off",   "1",   "0"};
        for (size_t i = 0; i < ARRAY_SIZE(words); i++)
                if (!strcasecmp(v, words[i]))
                        return true;
        return false;
}

/* A path as git reads it from a config: "~/" is the home; relative ones
 * are to base (absolute, or NULL: not known).  Into out, absolute. */
static bool expand(const char *v, const char *base, char *out, size_t size)
{
        const char *home = getenv("HOME");
        int n;
        if (v[0] == '~' && v[1] == '/')
                n = home ? snprintf(out, size, "%s%s", home, v + 1) : -1;
        else if (v[0] == '~' || v[0] == '%')
                return false; /* ~user, %(prefix): not the workspace */
        else if (v[0] == '/')
                n = snprintf(out, size, "%s", v);
        else
                n = base ? snprintf(out, size, "%s/%s", base, v) : -1;
        return n >= 0 && (size_t)n < size;
}

static int protect_abs(struct ctx *c, const char *abs)
{
        char rel[PROTECT_PATH_MAX];
        if (!abs_to_ws(c, abs, rel, sizeof(rel)))
                return 0;
        return box_protect_plan_path(c, rel, PROTECT_HOLD_NODE, false, NULL, 0);
}

/* core.hooksPath (relative: to the worktree's top), include.path and
 * includeIf.*.path (relative: to the config's directory; the included
 * file is read too, its own includes in turn), core.fsmonitor when it
 * names programs (each word that is a path, relative to the top): each,
 * when inside the workspace, protected, held when missing. */
static int cfg_ref(void *arg, const char *section, const char *sub,
                   const char *key, const char *value)
{
        struct cfg_refs *x = arg;
        struct ctx *c = x->c;
        if (!value || !value[0])
                return 0;
        char top[PATH_MAX], abs[PATH_MAX];
        bool have_top = x->top &&
                        snprintf(top, sizeof(top), "%s%s%s", c->ws_path,
                                 x->top[0] ? "/" : "", x->top) <
                                (int)sizeof(top);
        if (!strcmp(section, "core") && !sub && !strcmp(key, "hookspath")) {
                if (expand(value, have_top ? top : NULL, abs, sizeof(abs)))
                        x->r = protect_abs(c, abs);
        } else if (((!strcmp(section, "include") && !sub) ||
                    (!strcmp(section, "includeif") && sub)) &&
                   !strcmp(key, "path")) {
                if (expand(value, x->dir, abs, sizeof(abs))) {
                        x->r = protect_abs(c, abs);
                        if (x->r == 0)
                                x->r = read_config_at(c, abs, x->top,
                                                      x->depth + 1);
                }
        } else if (!strcmp(section, "core") && !sub &&
                   !strcmp(key, "fsmonitor") && !is_bool(value)) {
                /* run by a shell: every word that names a file */
                char word[PATH_MAX];
                for (const char *p = value; *p && x->r == 0;) {
                        size_t n = strcspn(p, " \t");
                        if (n && n < sizeof(word)) {
                                memcpy(word, p, n);
                                word[n] = 0;
                                if (strchr(word, '/') &&
                                    expand(word, have_top ? top : x->dir,
                                           abs, sizeof(abs)))
                                        x->r = protect_abs(c, abs);
                        }
                        p += n;
                        while (*p == ' ' || *p == '\t')
                                p++;
                }
        }
        return x->r;
}

static int read_config_buf(struct ctx *c, const char *buf, size_t len,
                           const char *abs, const char *top, int depth)
{
        struct cfg_refs x = {.c = c, .top = top, .depth = depth};
        const char *slash = strrchr(abs, '/');
        snprintf(x.dir, sizeof(x.dir), "%.*s",
                 slash ? (int)(slash - abs) : 0, abs);
        gitconfig_each(buf, len, cfg_ref, &x);
        return x.r;
}

/* A config file by its absolute host path (an include, a global one):
 * read as git would, links followed (reading changes nothing). */
static int read_config_at(struct ctx *c, const char *abs, const char *top,
                          int depth)
{
        if (depth > 10)
                return 0; /* git stops at 10 too */
        size_t n = 0;
        _cleanup_free_ char *buf =
                fileio_read_small(AT_FDCWD, abs, false, CONFIG_MAX, &n);
        if (!buf || n == 0)
                return 0;
        return read_config_buf(c, buf, n, abs, top, depth);
}

/* A config file of the workspace's (rel, following no link). */
static int config_refs(struct ctx *c, const char *rel, const char *top)
{
        size_t len = 0;
        _cleanup_free_ char *buf = read_small(c, rel, CONFIG_MAX, &len);
        char abs[PATH_MAX];
        if (!buf || snprintf(abs, sizeof(abs), "%s/%s", c->ws_path, rel) >=
                            (int)sizeof(abs))
                return 0;
        return read_config_buf(c, buf, len, abs, top, 0);
}

/* The host user's own git configs, as their git reads them for this
 * workspace: the system one, the global ones (GIT_CONFIG_SYSTEM and
 * GIT_CONFIG_GLOBAL where set), under root also the workspace owner's. */
int box_protect_global_refs(struct ctx *c)
{
        char path[PATH_MAX];
        const char *sys = getenv("GIT_CONFIG_SYSTEM");
        int r = read_config_at(c, sys && sys[0] ? sys : "/etc/gitconfig", "",
                               0);
        const char *glob = getenv("GIT_CONFIG_GLOBAL");
        if (r == 0 && glob && glob[0])
                r = read_config_at(c, glob, "", 0);
        /* GIT_CONFIG_COUNT, GIT_CONFIG_KEY_n, GIT_CONFIG_VALUE_n: as one
         * more config, rendered in its own syntax */
        const char *count = getenv("GIT_CONFIG_COUNT");
        long cn = count ? strtol(count, NULL, 10) : 0;
        for (long i = 0; r == 0 && i < cn && i < 64; i++) {
                char kn[40], vn[40];
                snprintf(kn, sizeof(kn), "GIT_CONFIG_KEY_%ld", i);
                snprintf(vn, sizeof(vn), "GIT_CONFIG_VALUE_%ld", i);
                const char *k = getenv(kn), *v = getenv(vn);
                const char *dot1 = k ? strchr(k, '.') : NULL;
                const char *dotn = k ? strrchr(k, '.') : NULL;
                if (!v || !dot1)
                        continue;
                char sec[64], sub[PATH_MAX], key[64];
                snprintf(sec, sizeof(sec), "%.*s", (int)(dot1 - k), k);
                snprintf(key, sizeof(key), "%s", dotn + 1);
                for (char *q = sec; *q; q++)
                        *q = (char)tolower((unsigned char)*q);
                for (char *q = key; *q; q++)
                        *q = (char)tolower((unsigned char)*q);
                bool has_sub = dotn > dot1;
                if (has_sub)
                        snprintf(sub, sizeof(sub), "%.*s",
                                 (int)(dotn - dot1 - 1), dot1 + 1);
                struct cfg_refs x = {.c = c, .top = "", .depth = 0};
                snprintf(x.dir, sizeof(x.dir), "%s", c->ws_path);
                r = cfg_ref(&x, sec, has_sub ? sub : NULL, key, v);
        }
        const char *home = getenv("HOME");
        struct passwd *pw = geteuid() == 0 ? getpwuid(c->bp->owner) : NULL;
        const char *homes[2] = {home, pw ? pw->pw_dir : NULL};
        const char *xdg = getenv("XDG_CONFIG_HOME");
        for (size_t i = 0; r == 0 && i < 2; i++) {
                if (!homes[i] || homes[i][0] != '/' ||
                    (i == 1 && homes[0] && !strcmp(homes[0], homes[1])))
                        continue;
                snprintf(path, sizeof(path), "%s/.gitconfig", homes[i]);
                r = read_config_at(c, path, "", 0);
                if (r == 0 && i == 0 && xdg && xdg[0] == '/')
                        snprintf(path, sizeof(path), "%s/git/config", xdg);
                else if (r == 0)
                        snprintf(path, sizeof(path), "%s/.config/git/config",
                                 homes[i]);
                if (r == 0)
                        r = read_config_at(c, path, "", 0);
        }
        return r;
}

bool box_protect_active(struct ctx *c, const char *path)
{
        for (size_t i = 0; i < protect_defaults_n; i++)
                if (!strcmp(protect_defaults[i].path, path))
                        return protect_default_active(c->rules, i);
        return false;
}

/* gd/sub, planned as protect_defaults[".git/" sub] says, if active. */
static int plan_in(struct ctx *c, const char *gd, const char *sub,
                   enum protect_hold how)
{
        char def[64], p[PROTECT_PATH_MAX];
        snprintf(def, sizeof(def), ".git/%s", sub);
        if (!box_protect_active(c, def))
                return 0;
        if (snprintf(p, sizeof(p), "%s%s%s", gd, gd[0] ? "/" : "", sub) >=
            (int)sizeof(p))
                return err_set(c->err, -ENAMETOOLONG, "%s: too long", gd);
        return box_protect_plan_path(c, p, how, true, NULL, 0);
}

struct subdirs {
        struct ctx *c;
        int fd;
        const char *rel;
        int depth;
        size_t count;       /* worktrees: their own budget */
        bool worktree_conf; /* worktrees: extensions.worktreeConfig on */
};

/* .git/modules: read-only as a whole (the box can make no new submodule
 * directory there, and one the host makes while the box runs is read-only
 * in the box); each existing git directory in it writable again but for
 * its own protected files.  A submodule's name may hold slashes, and its
 * own submodules nest below. */
static int module_one(void *arg, const char *name, unsigned char type)
{
        struct subdirs *s = arg;
        struct ctx *c = s->c;
        if (++c->scanned > SCAN_MAX)
                return err_set(c->err, -E2BIG,
                               "%s holds too many entries to protect",
                               s->rel);
        char sub[PROTECT_PATH_MAX], head[NAME_MAX + 8];
        struct stat st;
        if (snprintf(sub, sizeof(sub), "%s/%s", s->rel, name) >=
                    (int)sizeof(sub) ||
            (type != DT_DIR && type != DT_UNKNOWN) ||
            fstatat(s->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISDIR(st.st_mode))
                return 0;
        snprintf(head, sizeof(head), "%s/HEAD", name);
        if (fstatat(s->fd, head, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                int r = box_protect_add_item(c, sub, strlen(sub), OP_RW);
                return r ? r : box_protect_git_dir(c, sub, NULL, s->depth + 1);
        }
        if (s->depth >= SCAN_DEPTH)
                return 0;
        _cleanup_close_ int fd = fileio_open_subdir(s->fd, name);
        if (fd < 0)
                return 0;
        struct subdirs inner = {c, fd, sub, s->depth + 1, 0, false};
        int r = fileio_dir_each(fd, module_one, &inner);
        return r > 0 ? 0 : r;
}

static int plan_modules(struct ctx *c, const char *gd, int depth)
{
        char m[PROTECT_PATH_MAX];
        if (!box_protect_active(c, ".git/modules/**") ||
            snprintf(m, sizeof(m), "%s%smodules", gd, gd[0] ? "/" : "") >=
                    (int)sizeof(m))
                return 0;
        /* read-only as a whole, but no look at every object in it: what
         * matters there is planned below, directory by directory */
        c->noscan = true;
        int r = box_protect_plan_path(c, m, PROTECT_HOLD_NODE, true, NULL, 0);
        c->noscan = false;
        _cleanup_close_ int fd = fileio_open_nolinks(
                c->ws, m, O_RDONLY | O_DIRECTORY | O_CLOEXEC, true);
        if (r < 0 || fd < 0)
                return r;
        struct subdirs s = {c, fd, m, depth, 0, false};
        r = fileio_dir_each(fd, module_one, &s);
        return r > 0 ? 0 : r;
}

/* .git/worktrees: writable (git worktree add works in the box), each
 * existing worktree's pointers read-only.  One the host adds while the box
 * runs is not covered until the next run; the box's changes there are
 * reported when it ends (leftovers.c). */
static int worktree_one(void *arg, const char *name, unsigned char type)
{
        struct subdirs *s = arg;
        struct ctx *c = s->c;
        /* The box can make worktrees (git worktree add works), so nothing
         * odd in one may stop a later start: such a worktree is skipped,
         * and what the box changes there is reported (leftovers.c). */
        if (++s->count > SCAN_MAX)
                return 1;
        char w[PROTECT_PATH_MAX];
        struct stat st;
        if (strchr(name, '\n') ||
            snprintf(w, sizeof(w), "%s/%s", s->rel, name) >= (int)sizeof(w) ||
            (type != DT_DIR && type != DT_UNKNOWN) ||
            fstatat(s->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISDIR(st.st_mode))
                return 0;
        size_t mark = c->n;
        for (size_t i = 0; i < BOX_WORKTREE_POINTERS; i++) {
                char p[PROTECT_PATH_MAX + 32];
                snprintf(p, sizeof(p), "%s/%s", w, box_worktree_pointers[i]);
                struct ab_err why = {0};
                struct ab_err *keep = c->err;
                c->err = &why;
                enum protect_hold h = !strcmp(box_worktree_pointers[i],
                                              "config.worktree") &&
                                                      s->worktree_conf
                                              ? PROTECT_HOLD_CONF
                                              : PROTECT_HOLD_NONE;
                int r = box_protect_plan_path(c, p, h, true, NULL, 0);
                c->err = keep;
                if (r == -ENOMEM)
                        return err_set(c->err, r, "out of memory");
                if (r < 0) { /* drop what was planned for this one */
                        while (c->n > mark)
                                free(c->v[--c->n].rel);
                        return 0;
                }
        }
        return 0;
}

static int plan_worktrees(struct ctx *c, const char *gd, bool wtc)
{
        char w[PROTECT_PATH_MAX];
        if (!box_protect_active(c, ".git/worktrees/*") ||
            snprintf(w, sizeof(w), "%s%sworktrees", gd, gd[0] ? "/" : "") >=
                    (int)sizeof(w))
                return 0;
        _cleanup_close_ int fd = fileio_open_nolinks(
                c->ws, w, O_RDONLY | O_DIRECTORY | O_CLOEXEC, true);
        if (fd < 0)
                return 0;
        struct subdirs s = {c, fd, w, 0, 0, wtc};
        int r = fileio_dir_each(fd, worktree_one, &s);
        return r > 0 ? 0 : r;
}

/* extensions.worktreeConfig on?  A cheap look: the word in the config. */
static bool worktree_config_on(struct ctx *c, const char *gd)
{
        char cfg[PROTECT_PATH_MAX];
        size_t len = 0;
        snprintf(cfg, sizeof(cfg), "%s%sconfig", gd, gd[0] ? "/" : "");
        _cleanup_free_ char *buf = read_small(c, cfg, CONFIG_MAX, &len);
        for (char *p = buf; p && *p; p++)
                if (strncasecmp(p, "worktreeconfig", 14) == 0)
                        return true;
        return false;
}

/* A git directory gd ("" for the root of a repository mounted beside the
 * workspace): its hooks, config (held when missing), commondir,
 * config.worktree, what its config points at, its submodules' and
 * worktrees' directories.  top: the worktree it belongs to, for relative
 * core.hooksPath (NULL: none in the workspace). */
int box_protect_git_dir(struct ctx *c, const char *gd, const char *top,
                        int depth)
{
        bool wtc = worktree_config_on(c, gd);
        int r = plan_in(c, gd, "hooks", PROTECT_HOLD_NODE);
        if (r == 0)
                r = plan_in(c, gd, "config", PROTECT_HOLD_CONF);
        if (r == 0)
                r = plan_in(c, gd, "commondir", PROTECT_HOLD_DOT);
        if (r == 0)
                r = plan_in(c, gd, "config.worktree",
                            wtc ? PROTECT_HOLD_CONF : PROTECT_HOLD_NONE);
        char cfg[PROTECT_PATH_MAX];
        snprintf(cfg, sizeof(cfg), "%s%sconfig", gd, gd[0] ? "/" : "");
        if (r == 0 && box_protect_active(c, ".git/config"))
                r = config_refs(c, cfg, top);
        if (r == 0 && wtc && box_protect_active(c, ".git/config")) {
                char wcfg[PROTECT_PATH_MAX + 16];
                snprintf(wcfg, sizeof(wcfg), "%s.worktree", cfg);
                r = config_refs(c, wcfg, top);
        }
        if (r == 0)
                r = plan_modules(c, gd, depth);
        if (r == 0)
                r = plan_worktrees(c, gd, wtc);
        return r;
}

/* A .git file naming a git directory outside the workspace (a linked
 * worktree's, mounted and protected by itself: supervisor.c): what its
 * config and its repository's name in this worktree, a relative
 * core.hooksPath say, is protected here. */
static int outside_refs(struct ctx *c, const char *base, const char *gd,
                        const char *top)
{
        char abs[PATH_MAX], cfg[PATH_MAX], cd[PATH_MAX + 16];
        if (gd[0] == '/')
                snprintf(abs, sizeof(abs), "%s", gd);
        else if (snprintf(abs, sizeof(abs), "%s%s%s/%s", c->ws_path,
                          base[0] ? "/" : "", base, gd) >= (int)sizeof(abs))
                return 0;
        snprintf(cfg, sizeof(cfg), "%.*s/config.worktree", PATH_MAX - 20,
                 abs);
        int r = read_config_at(c, cfg, top, 0);
        snprintf(cd, sizeof(cd), "%s/commondir", abs);
        size_t n = 0;
        _cleanup_free_ char *line =
                fileio_read_small(AT_FDCWD, cd, false, PATH_MAX - 1, &n);
        if (r < 0 || !line || n == 0)
                return r;
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '/')
                snprintf(cfg, sizeof(cfg), "%.*s/config", PATH_MAX - 10, line);
        else if (snprintf(cfg, sizeof(cfg), "%s/%s/config", abs, line) >=
                 (int)sizeof(cfg))
                return 0;
        return read_config_at(c, cfg, top, 0);
}

/* A .git file at rel ("gitdir: DIR"): a DIR inside the workspace (the
 * ".bare" layout, an absorbed submodule) is a git directory to protect
 * like .git itself, and so is the commondir it names. */
int box_protect_gitfile(struct ctx *c, const char *rel, const char *top)
{
        size_t len = 0;
        _cleanup_free_ char *buf = read_small(c, rel, 4096, &len);
        if (!buf || strncmp(buf, "gitdir: ", 8) != 0)
                return 0;
        buf[strcspn(buf, "\r\n")] = 0;
        char gd[PROTECT_PATH_MAX], base[PROTECT_PATH_MAX];
        const char *slash = strrchr(rel, '/');
        snprintf(base, sizeof(base), "%.*s", slash ? (int)(slash - rel) : 0,
                 rel);
        if (!ws_relative(c, base, buf + 8, gd, sizeof(gd)))
                return outside_refs(c, base, buf + 8, top);
        int r = box_protect_plan_path(c, gd, PROTECT_HOLD_NONE, true, "HEAD",
                                      0);
        if (r == 0)
                r = box_protect_git_dir(c, gd, top, 0);
        char cd[PROTECT_PATH_MAX + 16], common[PROTECT_PATH_MAX];
        snprintf(cd, sizeof(cd), "%s/commondir", gd);
        _cleanup_free_ char *cbuf = read_small(c, cd, 4096, &len);
        if (r == 0 && cbuf) {
                cbuf[strcspn(cbuf, "\r\n")] = 0;
                if (strcmp(cbuf, ".") != 0 &&
                    ws_relative(c, gd, cbuf, common, sizeof(common))) {
                        r = box_protect_plan_path(c, common, PROTECT_HOLD_NONE,
                                                  true, "HEAD", 0);
                        if (r == 0)
                                r = box_protect_git_dir(c, common, top, 0);
                }
        }
        return r;
}

struct submods {
        struct ctx *c;
        const char *base; /* where this .gitmodules lies */
        int depth;
        size_t *n;        /* submodules so far, in all .gitmodules */
        int r;
};

static int plan_submodules_at(struct ctx *c, const char *base, int depth,
                              size_t *n);

/* Each submodule path a .gitmodules names: its .git (a file pointing into
 * .git/modules, or an old-style directory) is protected, held when
 * missing, so the box can point no submodule at a git directory of its
 * own making; its git directory is protected with the submodule as its
 * worktree (a relative core.hooksPath there is the submodule's); and its
 * own .gitmodules is read in turn. */
static int submodule_one(void *arg, const char *section, const char *sub,
                         const char *key, const char *value)
{
        struct submods *s = arg;
        struct ctx *c = s->c;
        if (strcmp(section, "submodule") || !sub || strcmp(key, "path") ||
            !value || !value[0])
                return 0;
        if (++*s->n > SUBMODULES_MAX)
                return s->r = err_set(c->err, -E2BIG,
                                      ".gitmodules names more than %d "
                                      "submodules",
                                      SUBMODULES_MAX);
        char p[PROTECT_PATH_MAX], g[PROTECT_PATH_MAX + 8];
        if (!ws_relative(c, s->base, value, p, sizeof(p)))
                return 0;
        snprintf(g, sizeof(g), "%s/.git", p);
        struct stat st;
        bool dir = fstatat(c->ws, g, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                   S_ISDIR(st.st_mode);
        s->r = box_protect_plan_path(c, g, PROTECT_HOLD_NODE, false, "HEAD", 0);
        if (s->r == 0 && dir)
                s->r = box_protect_git_dir(c, g, p, 0);
        else if (s->r == 0)
                s->r = box_protect_gitfile(c, g, p);
        if (s->r == 0 && s->depth < SCAN_DEPTH)
                s->r = plan_submodules_at(c, p, s->depth + 1, s->n);
        return s->r;
}

static int plan_submodules_at(struct ctx *c, const char *base, int depth,
                              size_t *n)
{
        char gm[PROTECT_PATH_MAX + 16];
        size_t len = 0;
        snprintf(gm, sizeof(gm), "%s%s.gitmodules", base, base[0] ? "/" : "");
        _cleanup_free_ char *buf = read_small(c, gm, CONFIG_MAX, &len);
        if (!buf)
                return 0;
        /* a submodule's own .gitmodules, as the top one (not held when
         * missing: most submodules have none) */
        int r = depth ? box_protect_plan_path(c, gm, PROTECT_HOLD_NONE, true,
                                              NULL, 0)
                      : 0;
        if (r < 0)
                return r;
        struct submods s = {c, base, depth, n, 0};
        gitconfig_each(buf, len, submodule_one, &s);
        return s.r;
}

int box_protect_submodules(struct ctx *c)
{
        size_t n = 0;
        return plan_submodules_at(c, "", 0, &n);
}
