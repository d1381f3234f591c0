/* Protected workspace paths (DESIGN.md §1): what the host user's tools run
 * later must not be the box's to write.
 *
 * Host side (box_protect_prepare), while the box builds its root: walk each
 * protected path from the pinned workspace without following links, and
 * make a plan of mounts.  A path that exists becomes a read-only bind onto
 * itself; each directory above it a bind onto itself ("anchor"), since a
 * mount point can be neither renamed nor removed, so no parent can be moved
 * aside and replaced.  A missing path (or missing parent) is held by an
 * inert placeholder made on the host (a socket node nobody listens on,
 * which git ignores and which fails at once when opened; for
 * .git/commondir a file holding ".") and mounted read-only the same way;
 * placeholders are recorded in a journal in agentbox's state directory and
 * removed by the last run on the workspace to end (a flock on the
 * workspace directory says who that is), so a killed run's are removed by
 * the next.
 *
 * Child side (box_protect_apply), after the root is built and before the
 * command runs: the plan's mounts, each opened with O_NOFOLLOW and mounted
 * by descriptor, so nothing is resolved by name through a link. */
#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/statedir.h"
#include "common/util.h"
#include "internal.h"
#include "protect.h"

#define SCAN_MAX 4096   /* entries looked at inside protected directories */
#define SCAN_DEPTH 8
#define LINK_DEPTH 4    /* links inside protected directories, followed */
#define JOURNAL_MAX (1u << 20)

static const char dot_content[] = ".\n";
static const char conf_content[] =
        "# agentbox: held empty while a box runs; removed when it ends\n";

/* R: read-only; A: an anchor, writable but immovable; H: read-only, one
 * of this run's socket placeholders (all links of one inode). */
enum item_op { OP_RO = 'R', OP_ANCHOR = 'A', OP_HELD = 'H' };

struct item {
        char *rel;
        char op;
};

struct ctx {
        struct box_protect *bp;
        int ws;
        const char *ws_path;
        struct item *v;
        size_t n, cap;
        size_t scanned;
        bool worktree_config;
        const char *git; /* ".git/" in a workspace; "" in a git directory */
        int node_dir;  /* where the first socket placeholder was made; the */
        char node_name[NAME_MAX + 1]; /* others are hard links to it */
        ino_t node_ino;
        FILE *journal; /* lines for the journal, written at the end */
        char *jbuf;
        size_t jlen;
        struct ab_err *err;
};

static int add_item(struct ctx *c, const char *rel, size_t len, char op)
{
        if (memchr(rel, '\n', len))
                return err_set(c->err, -EINVAL,
                               "protected path %.*s has a newline in its "
                               "name; rename it",
                               (int)len, rel);
        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 32;
                struct item *v = realloc(c->v, cap * sizeof(*v));
                if (!v)
                        return err_set(c->err, -ENOMEM, "out of memory");
                c->v = v;
                c->cap = cap;
        }
        char *d = strndup(rel, len);
        if (!d)
                return err_set(c->err, -ENOMEM, "out of memory");
        c->v[c->n++] = (struct item){d, op};
        return 0;
}

/* ---- the journal of placeholders ---------------------------------------- */

/* Lines are gathered while planning and written at once before the box
 * starts (see journal_flush). */
static int journal_add(struct ctx *c, char kind, ino_t ino, const char *rel,
                       size_t len)
{
        struct box_protect *bp = c->bp;
        bp->made++;
        if (!c->journal && !(c->journal = open_memstream(&c->jbuf, &c->jlen)))
                return err_set(c->err, -ENOMEM, "out of memory");
        fprintf(c->journal, "%c %llu %.*s\n", kind, (unsigned long long)ino,
                (int)len, rel);
        return 0;
}

static int journal_flush(struct ctx *c)
{
        struct box_protect *bp = c->bp;
        if (!c->journal)
                return 0;
        int r = fclose(c->journal) == 0 ? 0 : -ENOMEM;
        c->journal = NULL;
        if (r == 0 && bp->state_fd >= 0) {
                _cleanup_close_ int fd =
                        openat(bp->state_fd, bp->journal,
                               O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
                                       O_CLOEXEC,
                               0600);
                r = fd < 0 ? -errno : fileio_write_all(fd, c->jbuf, c->jlen);
        }
        free(c->jbuf);
        c->jbuf = NULL;
        return r < 0 ? err_setx(c->err, r,
                                "cannot record placeholders in the state "
                                "directory")
                     : 0;
}

/* Hold a missing name in dir with a placeholder; 0, or -EEXIST when
 * something appeared there meanwhile (the caller looks again). */
static int hold(struct ctx *c, int dir, const char *name, const char *rel,
                size_t len, enum protect_hold how)
{
        const char *content = how == PROTECT_HOLD_DOT    ? dot_content
                              : how == PROTECT_HOLD_CONF ? conf_content
                                                         : NULL;
        struct stat st;
        int r = 0;
        if (!content && c->node_dir >= 0 &&
            linkat(c->node_dir, c->node_name, dir, name, 0) == 0) {
                /* one inode for every socket placeholder: a link costs a
                 * tenth of making a node on ext4 */
                return journal_add(c, 's', c->node_ino, rel, len) ?:
                       add_item(c, rel, len, OP_HELD);
        }
        if (!content) {
                if (mknodat(dir, name, S_IFSOCK, 0) < 0)
                        return errno == EEXIST ? -EEXIST
                                               : err_setx(c->err, -errno,
                                                          "cannot hold the "
                                                          "protected path "
                                                          "%.*s",
                                                          (int)len, rel);
        } else {
                int fd = openat(dir, name,
                                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                        O_CLOEXEC,
                                0444);
                if (fd < 0 && errno == EEXIST)
                        return -EEXIST;
                if (fd < 0)
                        return err_setx(c->err, -errno,
                                        "cannot hold the protected path %.*s",
                                        (int)len, rel);
                r = fileio_write_all(fd, content, strlen(content));
                close(fd);
        }
        if (r == 0 && fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                r = -errno;
        /* under root, the workspace owner's, so they can tidy up after a
         * crash; never root-owned files in a user's tree */
        if (r == 0 && c->bp->chown &&
            fchownat(dir, name, c->bp->owner, c->bp->group,
                     AT_SYMLINK_NOFOLLOW) < 0)
                r = -errno;
        if (r < 0)
                return err_setx(c->err, r, "placeholder %.*s", (int)len, rel);
        if (!content && c->node_dir < 0 &&
            (c->node_dir = fcntl(dir, F_DUPFD_CLOEXEC, 3)) >= 0) {
                snprintf(c->node_name, sizeof(c->node_name), "%s", name);
                c->node_ino = st.st_ino;
        }
        r = journal_add(c, content ? 'f' : 's', st.st_ino, rel, len);
        if (r < 0)
                return r;
        return add_item(c, rel, len, content ? OP_RO : OP_HELD);
}

/* ---- walking the protected paths ---------------------------------------- */

static int plan_path(struct ctx *c, const char *rel, enum protect_hold how,
                     bool if_parent, bool anchor, int links);

static int link_error(struct ctx *c, const char *rel, size_t len)
{
        return err_set(c->err, -ELOOP,
                       "protected path %.*s is a symlink: the box could point "
                       "it elsewhere. Replace the link with what it points "
                       "at, or --unprotect it",
                       (int)len, rel);
}

/* A link found inside a protected directory (a hook pointing into the
 * tree, say): what it reaches inside the workspace is protected too. */
static int follow_link(struct ctx *c, int dir, const char *name,
                       const char *rel, int links)
{
        char t[PATH_MAX];
        ssize_t n = readlinkat(dir, name, t, sizeof(t) - 1);
        if (n < 0)
                return err_setx(c->err, -errno, "readlink %s", rel);
        t[n] = 0;
        char cand[PATH_MAX];
        size_t wl = strlen(c->ws_path);
        if (t[0] == '/') {
                if (strncmp(t, c->ws_path, wl) != 0 || t[wl] != '/')
                        return 0; /* outside: not the box's to change */
                snprintf(cand, sizeof(cand), "%s", t + wl + 1);
        } else {
                const char *slash = strrchr(rel, '/');
                int dl = slash ? (int)(slash - rel) : 0;
                if (snprintf(cand, sizeof(cand), "%.*s%s%s", dl, rel,
                             dl ? "/" : "", t) >= (int)sizeof(cand))
                        return err_set(c->err, -ENAMETOOLONG, "%s", rel);
        }
        struct open_how oh = {.flags = O_PATH | O_CLOEXEC,
                              .resolve = RESOLVE_BENEATH |
                                         RESOLVE_NO_MAGICLINKS};
        _cleanup_close_ int fd =
                (int)syscall(SYS_openat2, c->ws, cand, &oh, sizeof(oh));
        if (fd < 0 && errno == EXDEV)
                return 0; /* climbs out of the workspace */
        if (fd < 0)
                return err_setx(c->err, -errno,
                                "%s, inside a protected directory, is a link "
                                "to %s, which the box could create; remove "
                                "the link or what it should point at",
                                rel, t);
        char proc[64], real[PATH_MAX];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        n = readlink(proc, real, sizeof(real) - 1);
        if (n < 0)
                return err_setx(c->err, -errno, "readlink %s", proc);
        real[n] = 0;
        if (strncmp(real, c->ws_path, wl) != 0 || real[wl] != '/')
                return err_set(c->err, -EINVAL,
                               "%s, inside a protected directory, points at "
                               "the workspace itself",
                               rel);
        return plan_path(c, real + wl + 1, PROTECT_HOLD_NONE, false, false,
                         links + 1);
}

static int scan_dir(struct ctx *c, int pathfd, const char *rel, int depth,
                    int links);

static int scan_entry(struct ctx *c, int dir, const char *name,
                      unsigned char type, const char *rel, int depth,
                      int links)
{
        if (++c->scanned > SCAN_MAX)
                return err_set(c->err, -E2BIG,
                               "protected directory %s holds more than %d "
                               "entries to check; --unprotect it or trim it",
                               rel, SCAN_MAX);
        char sub[PROTECT_PATH_MAX];
        if (snprintf(sub, sizeof(sub), "%s/%s", rel, name) >= (int)sizeof(sub))
                return err_set(c->err, -ENAMETOOLONG, "%s: too long", rel);
        if (type == DT_DIR) {
                if (depth >= SCAN_DEPTH)
                        return 0;
                _cleanup_close_ int s =
                        openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                return s < 0 ? 0 : scan_dir(c, s, sub, depth + 1, links);
        }
        if (type != DT_REG && type != DT_LNK && type != DT_UNKNOWN)
                return 0;
        size_t nl = strlen(name);
        if (nl > 7 && !strcmp(name + nl - 7, ".sample") &&
            (strstr(rel, "hooks") != NULL))
                return 0; /* git runs no *.sample hook: not worth a stat */
        struct stat st;
        if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        if (S_ISREG(st.st_mode) && st.st_nlink > 1)
                return err_set(c->err, -EMLINK,
                               "protected file %s has %lu hard links: the box "
                               "could change it through another. Break the "
                               "link (cp %s x && mv x %s) or --unprotect it",
                               sub, (unsigned long)st.st_nlink, sub, sub);
        if (S_ISLNK(st.st_mode))
                return links < LINK_DEPTH
                               ? follow_link(c, dir, name, sub, links)
                               : err_set(c->err, -ELOOP, "%s: too many links",
                                         sub);
        if (S_ISDIR(st.st_mode))
                return scan_entry(c, dir, name, DT_DIR, rel, depth, links);
        return 0;
}

/* Look inside a protected directory: a hard link there is a second name
 * the box could write through; a symlink may reach into the tree.  This
 * runs for each at every start, so it reads with getdents64. */
struct scan {
        struct ctx *c;
        int fd;
        const char *rel;
        int depth, links;
};

static int scan_one(void *arg, const char *name, unsigned char type)
{
        struct scan *s = arg;
        return scan_entry(s->c, s->fd, name, type, s->rel, s->depth,
                          s->links);
}

static int scan_dir(struct ctx *c, int pathfd, const char *rel, int depth,
                    int links)
{
        _cleanup_close_ int fd =
                openat(pathfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == EACCES ? 0 : err_setx(c->err, -errno,
                                                      "%s", rel);
        struct scan s = {c, fd, rel, depth, links};
        int r = fileio_dir_each(fd, scan_one, &s);
        return r > 0 ? 0 : r < 0 && !c->err->code
                                   ? err_setx(c->err, r, "%s", rel)
                                   : r;
}

static int check_final(struct ctx *c, int fd, const struct stat *st,
                       const char *rel, int links)
{
        if (S_ISREG(st->st_mode) && st->st_nlink > 1)
                return err_set(c->err, -EMLINK,
                               "protected file %s has %lu hard links: the box "
                               "could change it through another. Break the "
                               "link (cp %s x && mv x %s) or --unprotect it",
                               rel, (unsigned long)st->st_nlink, rel, rel);
        if (S_ISDIR(st->st_mode))
                return scan_dir(c, fd, rel, 0, links);
        return 0;
}

/* Is dir (O_PATH) a git directory?  Anything else at .git (an empty
 * directory, a half-made repository) is held read-only, lest the box
 * complete it into one whose config the host runs. */
static bool is_git_dir(int dir)
{
        struct stat st;
        return fstatat(dir, "HEAD", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
               S_ISREG(st.st_mode);
}

static int plan_path(struct ctx *c, const char *rel, enum protect_hold how,
                     bool if_parent, bool anchor, int links)
{
        size_t total = strlen(rel);
        int dir = c->ws;
        _cleanup_close_ int owned = -1;
        for (size_t at = 0; at < total;) {
                const char *name_start = rel + at;
                const char *slash = strchr(name_start, '/');
                size_t end = slash ? (size_t)(slash - rel) : total;
                bool last = end == total;
                char name[NAME_MAX + 1];
                if (end - at > NAME_MAX)
                        return err_set(c->err, -ENAMETOOLONG, "%s", rel);
                memcpy(name, name_start, end - at);
                name[end - at] = 0;
                int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno != ENOENT)
                        return err_setx(c->err, -errno, "protected path %.*s",
                                        (int)end, rel);
                if (fd < 0) {
                        if (!last && if_parent)
                                return 0;
                        enum protect_hold h = last ? how : PROTECT_HOLD_NODE;
                        if (h == PROTECT_HOLD_NONE)
                                return 0;
                        int r = hold(c, dir, name, rel, end, h);
                        if (r != -EEXIST)
                                return r;
                        /* made meanwhile (another box's placeholder?) */
                        fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0)
                                return err_setx(c->err, -errno, "%s", rel);
                }
                closep(&owned);
                owned = fd;
                dir = fd;
                struct stat st;
                if (fstat(fd, &st) < 0)
                        return err_setx(c->err, -errno, "%s", rel);
                if (S_ISLNK(st.st_mode))
                        return link_error(c, rel, end);
                if (!last && !S_ISDIR(st.st_mode))
                        /* e.g. .git as a file (a worktree's gitdir: line):
                         * it is held read-only, so it cannot be re-pointed */
                        return add_item(c, rel, end, OP_RO);
                if (last && anchor && S_ISDIR(st.st_mode) && !is_git_dir(fd))
                        anchor = false;
                char op = !last || (anchor && S_ISDIR(st.st_mode)) ? OP_ANCHOR
                                                                   : OP_RO;
                int r = add_item(c, rel, end, op);
                if (r == 0 && last && op == OP_RO)
                        r = check_final(c, fd, &st, rel, links);
                if (r < 0)
                        return r;
                at = end + 1;
        }
        return 0;
}

/* O_PATH directory at rel below the workspace, following no link, or -1. */
static int open_dir_beneath(struct ctx *c, const char *rel)
{
        struct open_how oh = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                              .resolve = RESOLVE_BENEATH |
                                         RESOLVE_NO_SYMLINKS};
        return (int)syscall(SYS_openat2, c->ws, rel, &oh, sizeof(oh));
}

static int plan_gitdir(struct ctx *c, const char *gd);
static int plan_sub(struct ctx *c, const char *gd, const char *name,
                    enum protect_hold how);

/* Each subdirectory of rel (below the workspace, reached following no
 * link), handed to fn with its path; counted against SCAN_MAX. */
struct subdirs {
        struct ctx *c;
        int fd;
        const char *rel;
        int (*fn)(struct ctx *c, int dir, const char *name, const char *sub,
                  int depth);
        int depth;
};

static int subdir_one(void *arg, const char *name, unsigned char type)
{
        struct subdirs *s = arg;
        if (++s->c->scanned > SCAN_MAX)
                return err_set(s->c->err, -E2BIG,
                               "%s holds too many entries to protect",
                               s->rel);
        char sub[PROTECT_PATH_MAX];
        struct stat st;
        if (snprintf(sub, sizeof(sub), "%s/%s", s->rel, name) >=
                    (int)sizeof(sub) ||
            (type != DT_DIR && type != DT_UNKNOWN) ||
            fstatat(s->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISDIR(st.st_mode))
                return 0;
        return s->fn(s->c, s->fd, name, sub, s->depth);
}

static int each_subdir(struct ctx *c, const char *rel, int depth,
                       int (*fn)(struct ctx *c, int dir, const char *name,
                                 const char *sub, int depth))
{
        _cleanup_close_ int fd = open_dir_beneath(c, rel);
        if (fd < 0)
                return 0;
        struct subdirs s = {c, fd, rel, fn, depth};
        int r = fileio_dir_each(fd, subdir_one, &s);
        return r > 0 ? 0 : r < 0 && !c->err->code
                                   ? err_setx(c->err, r, "%s", rel)
                                   : r;
}

static int module_one(struct ctx *c, int dir, const char *name,
                      const char *sub, int depth);

/* The modules pattern: git directories of submodules, at any depth (a
 * submodule's name may hold slashes; its own submodules nest below). */
static int expand_modules(struct ctx *c, const char *rel, int depth)
{
        return each_subdir(c, rel, depth, module_one);
}

static int module_one(struct ctx *c, int dir, const char *name,
                      const char *sub, int depth)
{
        char head[NAME_MAX + 8];
        struct stat st;
        snprintf(head, sizeof(head), "%s/HEAD", name);
        if (fstatat(dir, head, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return plan_gitdir(c, sub);
        return depth < SCAN_DEPTH ? expand_modules(c, sub, depth + 1) : 0;
}

static int worktree_one(struct ctx *c, int dir, const char *name,
                        const char *sub, int depth)
{
        (void)dir;
        (void)name;
        (void)depth;
        int r = plan_sub(c, sub, "commondir", PROTECT_HOLD_NONE);
        if (r == 0)
                r = plan_sub(c, sub, "config.worktree",
                             c->worktree_config ? PROTECT_HOLD_CONF
                                                : PROTECT_HOLD_NONE);
        return r;
}

static int plan_sub(struct ctx *c, const char *gd, const char *name,
                    enum protect_hold how)
{
        char p[PROTECT_PATH_MAX];
        if (snprintf(p, sizeof(p), "%s/%s", gd, name) >= (int)sizeof(p))
                return err_set(c->err, -ENAMETOOLONG, "%s: too long", gd);
        return plan_path(c, p, how, true, false, 0);
}

/* A submodule's git directory: as the top one's. */
static int plan_gitdir(struct ctx *c, const char *gd)
{
        int r = plan_sub(c, gd, "config", PROTECT_HOLD_NONE);
        if (r == 0)
                r = plan_sub(c, gd, "hooks", PROTECT_HOLD_NODE);
        if (r == 0)
                r = plan_sub(c, gd, "commondir", PROTECT_HOLD_DOT);
        if (r == 0)
                r = plan_sub(c, gd, "config.worktree",
                             c->worktree_config ? PROTECT_HOLD_CONF
                                                : PROTECT_HOLD_NONE);
        char m[PROTECT_PATH_MAX];
        if (r == 0 && snprintf(m, sizeof(m), "%s/modules", gd) <
                              (int)sizeof(m))
                r = expand_modules(c, m, 0);
        return r;
}

/* The worktrees pattern: what points each linked worktree at its
 * config. */
static int expand_worktrees(struct ctx *c)
{
        char wts[16];
        snprintf(wts, sizeof(wts), "%sworktrees", c->git);
        return each_subdir(c, wts, 0, worktree_one);
}

/* extensions.worktreeConfig on?  A cheap look: the word in the config. */
static bool worktree_config_on(int ws, const char *git)
{
        char cfg[16];
        snprintf(cfg, sizeof(cfg), "%sconfig", git);
        _cleanup_close_ int fd = openat(ws, cfg,
                                        O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
                                                O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
            st.st_size > (off_t)JOURNAL_MAX)
                return false;
        _cleanup_free_ char *buf = malloc((size_t)st.st_size + 1);
        ssize_t n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
        if (n < 0)
                return false;
        buf[n] = 0;
        for (char *p = buf; *p; p++)
                if (strncasecmp(p, "worktreeconfig", 14) == 0)
                        return true;
        return false;
}

/* ---- the plan ------------------------------------------------------------- */

static int cmp_item(const void *a, const void *b)
{
        const struct item *x = a, *y = b;
        return strcmp(x->rel, y->rel);
}

/* Sorted (parents before children), each path once (read-only wins over
 * anchor), nothing below a read-only path; then as text for the box. */
static int finish_plan(struct ctx *c)
{
        qsort(c->v, c->n, sizeof(*c->v), cmp_item);
        size_t o = 0;
        for (size_t i = 0; i < c->n; i++) {
                if (o && !strcmp(c->v[o - 1].rel, c->v[i].rel)) {
                        if (c->v[i].op != OP_ANCHOR)
                                c->v[o - 1].op = c->v[i].op;
                        free(c->v[i].rel);
                        continue;
                }
                bool covered = false;
                for (size_t j = 0; j < o && !covered; j++)
                        covered = c->v[j].op != OP_ANCHOR &&
                                  protect_covers(c->v[j].rel, c->v[i].rel);
                if (covered) {
                        free(c->v[i].rel);
                        continue;
                }
                c->v[o++] = c->v[i];
        }
        c->n = o;
        FILE *f = open_memstream(&c->bp->plan, &c->bp->plan_len);
        if (!f)
                return err_set(c->err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < c->n; i++)
                fprintf(f, "%c %s\n", c->v[i].op, c->v[i].rel);
        if (fclose(f) != 0)
                return err_set(c->err, -ENOMEM, "out of memory");
        return 0;
}

/* In a workspace, every default; in a repository's git directory (a
 * linked worktree's, mounted beside the workspace), the ".git/" ones, at
 * its root. */
static int plan_all(struct ctx *c, const struct protect_rules *rules,
                    bool gitdir)
{
        c->git = gitdir ? "" : ".git/";
        c->worktree_config = worktree_config_on(c->ws, c->git);
        int r = 0;
        for (size_t i = 0; r == 0 && i < protect_defaults_n; i++) {
                const struct protect_default *d = &protect_defaults[i];
                const char *path = d->path;
                if (!protect_default_active(rules, i))
                        continue;
                if (gitdir && strncmp(path, ".git/", 5) != 0)
                        continue;
                if (gitdir)
                        path += 5;
                if (!strcmp(d->path, ".git/modules/**"))
                        r = expand_modules(c, gitdir ? "modules"
                                                     : ".git/modules",
                                           0);
                else if (!strcmp(d->path, ".git/worktrees/*"))
                        r = expand_worktrees(c);
                else if (!strcmp(d->path, ".git/config.worktree"))
                        r = plan_path(c, path,
                                      c->worktree_config ? PROTECT_HOLD_CONF
                                                         : PROTECT_HOLD_NONE,
                                      true, false, 0);
                else
                        r = plan_path(c, path, d->hold,
                                      d->if_parent && !gitdir, d->anchor, 0);
        }
        for (size_t i = 0; r == 0 && !gitdir && i < rules->n_add; i++)
                r = plan_path(c, rules->add[i], PROTECT_HOLD_NODE, false,
                              false, 0);
        return r < 0 ? r : finish_plan(c);
}

/* ---- placeholders left by runs that ended ---------------------------------- */

/* Remove a placeholder the journal names, if it still is one: same inode,
 * and still a socket node, or a file holding what agentbox wrote. */
static void remove_placeholder(int ws, char kind, unsigned long long ino,
                               char *rel)
{
        int dir = ws;
        _cleanup_close_ int owned = -1;
        char *name = rel;
        for (char *s; (s = strchr(name, '/')); name = s + 1) {
                *s = 0;
                int fd = openat(dir, name,
                                O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                *s = '/';
                if (fd < 0)
                        return;
                closep(&owned);
                dir = owned = fd;
        }
        struct stat st;
        if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            st.st_ino != (ino_t)ino)
                return;
        if (kind == 's' && S_ISSOCK(st.st_mode)) {
                (void)unlinkat(dir, name, 0);
                return;
        }
        if (kind != 'f' || !S_ISREG(st.st_mode) ||
            st.st_size > (off_t)sizeof(conf_content))
                return;
        _cleanup_close_ int fd =
                openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
                                          O_CLOEXEC);
        char buf[sizeof(conf_content) + 1];
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
        if (n < 0)
                return;
        if (((size_t)n == strlen(dot_content) &&
             !memcmp(buf, dot_content, (size_t)n)) ||
            ((size_t)n == strlen(conf_content) &&
             !memcmp(buf, conf_content, (size_t)n)))
                (void)unlinkat(dir, name, 0);
}

static void remove_one(void *arg, char kind, unsigned long long ino,
                       char *rel)
{
        struct box_protect *bp = arg;
        remove_placeholder(bp->ws_fd, kind, ino, rel);
}

void box_protect_journal_each(char *buf,
                              void (*fn)(void *arg, char kind,
                                         unsigned long long ino, char *rel),
                              void *arg)
{
        for (char *line = buf, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
                *nl = 0;
                char kind = 0;
                unsigned long long ino = 0;
                int off = 0;
                if (sscanf(line, "%c %llu %n", &kind, &ino, &off) == 2 &&
                    off > 0 && line[off] && (kind == 's' || kind == 'f'))
                        fn(arg, kind, ino, line + off);
        }
}

/* With the workspace's lock held exclusively: no box runs on it, so every
 * placeholder the journal lists can go, and the journal with them. */
static void sweep(struct box_protect *bp)
{
        if (bp->state_fd < 0)
                return;
        _cleanup_close_ int fd = openat(bp->state_fd, bp->journal,
                                        O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0)
                return;
        _cleanup_free_ char *buf = malloc(JOURNAL_MAX + 1);
        if (!buf)
                return;
        size_t len = 0;
        for (ssize_t n; len < JOURNAL_MAX &&
                        (n = read(fd, buf + len, JOURNAL_MAX - len)) > 0;)
                len += (size_t)n;
        buf[len] = 0;
        box_protect_journal_each(buf, remove_one, bp);
        /* emptied rather than removed: one file per workspace, reused */
        if (ftruncate(fd, 0) < 0)
                (void)unlinkat(bp->state_fd, bp->journal, 0);
}

/* Shared while the box runs; exclusive, briefly, to sweep.  A lock held
 * elsewhere for long (it should never be) is waited for 5 s at most. */
static int lock_workspace(struct box_protect *bp, struct ab_err *err)
{
        bp->lock_fd = openat(bp->ws_fd, ".", O_RDONLY | O_DIRECTORY |
                                                     O_CLOEXEC);
        if (bp->lock_fd < 0)
                return 0; /* unreadable: no sweeping, placeholders stay */
        if (flock(bp->lock_fd, LOCK_EX | LOCK_NB) == 0)
                sweep(bp);
        for (int i = 0; i < 5000; i++) {
                if (flock(bp->lock_fd, LOCK_SH | LOCK_NB) == 0)
                        return 0;
                if (errno != EWOULDBLOCK)
                        return err_setx(err, -errno, "locking the workspace");
                struct timespec ms = {0, 1000000};
                nanosleep(&ms, NULL);
        }
        return err_set(err, -EBUSY,
                       "workspace %s: another process holds its lock; "
                       "is an agentbox run stuck there?",
                       bp->ws_path);
}

int box_protect_prepare(int ws_fd, const char *ws_path,
                        const struct protect_rules *rules, bool gitdir,
                        uid_t owner, gid_t group, struct box_protect *bp,
                        struct ab_err *err)
{
        *bp = (struct box_protect){.ws_fd = ws_fd, .ws_path = ws_path,
                                   .lock_fd = -1, .state_fd = -1,
                                   .owner = owner,
                                   .group = group,
                                   .chown = geteuid() == 0};
        struct stat st;
        if (fstat(ws_fd, &st) < 0)
                return err_setx(err, -errno, "workspace %s", ws_path);
        snprintf(bp->journal, sizeof(bp->journal), "%llu-%llu",
                 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
        struct ab_err why = {0};
        bp->state_fd = statedir_open("placeholders", &why);
        if (bp->state_fd < 0)
                snprintf(bp->note, sizeof(bp->note), "%.200s", why.msg);
        int r = lock_workspace(bp, err);
        if (r < 0)
                return r;
        struct ctx c = {.bp = bp, .ws = ws_fd, .ws_path = ws_path,
                        .node_dir = -1, .err = err};
        r = plan_all(&c, rules, gitdir);
        if (c.node_dir >= 0)
                close(c.node_dir);
        int j = journal_flush(&c);
        if (r == 0)
                r = j;
        for (size_t i = 0; i < c.n; i++)
                free(c.v[i].rel);
        free(c.v);
        bp->n_items = c.n;
        return r;
}

void box_protect_finish(struct box_protect *bp)
{
        if (bp->lock_fd >= 0 && flock(bp->lock_fd, LOCK_EX | LOCK_NB) == 0)
                sweep(bp);
        else if (bp->made && bp->state_fd < 0) {
                /* nowhere to record them: the placeholders this run made
                 * cannot be told from others' later, so they stay */
        }
        if (bp->lock_fd >= 0)
                close(bp->lock_fd);
        if (bp->state_fd >= 0)
                close(bp->state_fd);
        free(bp->plan);
        *bp = (struct box_protect){.lock_fd = -1, .state_fd = -1,
                                   .ws_fd = -1};
}

/* ---- child side ------------------------------------------------------------ */

/* One read-only (or anchoring) bind of rel onto itself.  Resolved in one
 * step that follows no link: a link put there since the plan was made
 * fails the start (ELOOP), never redirects the mount. */
static void bind_self(int ws, char op, const char *rel, int *ro_src)
{
        struct open_how oh = {.flags = O_PATH | O_CLOEXEC,
                              .resolve = RESOLVE_BENEATH |
                                         RESOLVE_NO_SYMLINKS |
                                         RESOLVE_NO_MAGICLINKS};
        _cleanup_close_ int fd =
                (int)syscall(SYS_openat2, ws, rel, &oh, sizeof(oh));
        if (fd < 0)
                box_die_errno(errno, "protected path %s (replaced by a "
                                     "link while the box started?)",
                              rel);
        /* placeholders are links of one inode: one read-only clone of the
         * first serves for all */
        bool held = op == OP_HELD && *ro_src >= 0;
        _cleanup_close_ int m =
                open_tree(held ? *ro_src : fd, "",
                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (m < 0)
                box_die_errno(errno, "cannot protect %s", rel);
        if (!held) {
                struct mount_attr a = {.attr_set = MOUNT_ATTR_NOSUID |
                                                   MOUNT_ATTR_NODEV};
                if (op != OP_ANCHOR)
                        a.attr_set |= MOUNT_ATTR_RDONLY;
                if (mount_setattr(m, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
                        box_die_errno(errno, "cannot make %s read-only", rel);
        }
        if (op == OP_HELD && *ro_src < 0)
                *ro_src = fcntl(m, F_DUPFD_CLOEXEC, 3);
        if (move_mount(m, "", fd, "",
                       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                box_die_errno(errno, "cannot protect %s", rel);
}

void box_protect_apply(const char *workspace, char *plan)
{
        if (!plan)
                return;
        _cleanup_close_ int ws =
                open(workspace, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ws < 0)
                box_die_errno(errno, "open %s", workspace);
        int ro_src = -1;
        for (char *line = plan, *nl; (nl = strchr(line, '\n'));
             line = nl + 1) {
                *nl = 0;
                if (line[0] == 'D' && line[1] == ' ' && line[2] == '/') {
                        /* a linked worktree's repository, beside it */
                        close(ws);
                        ws = open(line + 2, O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (ws < 0)
                                box_die_errno(errno, "open %s", line + 2);
                        if (ro_src >= 0)
                                close(ro_src);
                        ro_src = -1;
                        continue;
                }
                if ((line[0] != OP_RO && line[0] != OP_ANCHOR &&
                     line[0] != OP_HELD) ||
                    line[1] != ' ' || !line[2])
                        box_die("bad protection plan");
                bind_self(ws, line[0], line + 2, &ro_src);
        }
        if (ro_src >= 0)
                close(ro_src);
}
