/* Protected workspace paths (DESIGN.md §1): what the host user's tools run
 * later must not be the box's to write.
 *
 * Host side (box_protect_prepare), while the box builds its root: walk each
 * protected path from the pinned workspace without following links, and
 * make a plan of mounts.  A path that exists becomes a read-only bind onto
 * itself; each directory above it a bind onto itself ("anchor"), since a
 * mount point can be neither renamed nor removed, so no parent can be moved
 * aside and replaced.  A missing path (or missing parent) is held by an
 * inert placeholder made on the host and bound read-only the same way: a
 * socket node of mode 0000 that nobody listens on (git ignores it, opening
 * it fails at once), all of one run hard links of one inode; for git's
 * commondir and config, a read-only file of known content.  A placeholder
 * is known by that shape alone, whoever made it, so the last run on the
 * workspace to end (a flock on the workspace directory says who that is)
 * removes every one at the paths it protected, a killed run's included.
 *
 * What git itself points at is followed too (protect_git.c).
 *
 * Child side (box_protect_apply), after the root is built and before the
 * command runs: the plan's mounts, each resolved in one step that follows
 * no link and mounted by descriptor. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/util.h"
#include "internal.h"
#include "leftovers.h"
#include "protect.h"
#include "protect_plan.h"

const char *const box_worktree_pointers[BOX_WORKTREE_POINTERS] = {
        "commondir", "gitdir", "config.worktree"};

static const char dot_content[] = ".\n";
static const char conf_content[] =
        "# agentbox: held empty while a box runs; removed when it ends\n";

int box_protect_add_item(struct ctx *c, const char *rel, size_t len, char op)
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

/* ---- placeholders ------------------------------------------------------- */

static const char *hold_content(enum protect_hold how)
{
        return how == PROTECT_HOLD_DOT    ? dot_content
               : how == PROTECT_HOLD_CONF ? conf_content
                                          : NULL;
}

/* Is name in dir one of agentbox's placeholders (by its shape, and for
 * the two files, its name)? */
static bool is_placeholder(int dir, const char *name, const struct stat *st)
{
        if (S_ISSOCK(st->st_mode))
                return (st->st_mode & 07777) == 0;
        bool dot = !strcmp(name, "commondir");
        bool conf = !strcmp(name, "config") || !strcmp(name, "config.worktree");
        if ((!dot && !conf) || !S_ISREG(st->st_mode) ||
            (st->st_mode & 07777) != 0444 ||
            st->st_size > (off_t)sizeof(conf_content))
                return false;
        _cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW |
                                                           O_NONBLOCK |
                                                           O_CLOEXEC);
        char buf[sizeof(conf_content) + 1];
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
        return n > 0 && ((dot && (size_t)n == strlen(dot_content) &&
                          !memcmp(buf, dot_content, (size_t)n)) ||
                         (conf && (size_t)n == strlen(conf_content) &&
                          !memcmp(buf, conf_content, (size_t)n)));
}

/* A shared flock on fd.  An exclusive one is held only briefly (a run
 * sweeping at its end), so it is waited for, 5 s at most: then -EBUSY. */
static int flock_shared(int fd)
{
        for (int i = 0; i < 5000; i++) {
                if (flock(fd, LOCK_SH | LOCK_NB) == 0)
                        return 0;
                if (errno != EWOULDBLOCK)
                        return -errno;
                struct timespec ms = {0, 1000000};
                nanosleep(&ms, NULL);
        }
        return -EBUSY;
}

/* Hold a shared lock on the directory dir (O_PATH) that a placeholder of
 * the plan lies in: another run, from another workspace (a linked or main
 * worktree, a superproject and its submodule), may hold the same
 * placeholder, and none may sweep it while another still runs.  A run
 * that cannot lock one does not start. */
static int lock_dir(struct ctx *c, int dir, const char *rel)
{
        struct box_protect *bp = c->bp;
        if (dir == c->ws)
                return 0; /* the workspace's own lock */
        struct stat st;
        if (fstat(dir, &st) < 0)
                return err_setx(c->err, -errno, "%s", rel);
        if (st.st_dev == c->ws_dev && st.st_ino == c->ws_ino)
                return 0;
        for (size_t i = 0; i < bp->n_locks; i++)
                if (bp->lock_ids[i].dev == st.st_dev &&
                    bp->lock_ids[i].ino == st.st_ino)
                        return 0;
        if (bp->n_locks == BOX_PROTECT_LOCKS)
                return err_set(c->err, -E2BIG,
                               "placeholders in more than %d directories; "
                               "--unprotect some",
                               BOX_PROTECT_LOCKS);
        int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return err_setx(c->err, -errno,
                                "cannot lock the directory of %s (agentbox "
                                "must read it to share it with other runs)",
                                rel);
        int r = flock_shared(fd);
        if (r < 0) {
                close(fd);
                return r == -EBUSY
                               ? err_set(c->err, r,
                                         "the directory of %s: another "
                                         "process holds its lock; is an "
                                         "agentbox run stuck there?",
                                         rel)
                               : err_setx(c->err, r,
                                          "locking the directory of %s", rel);
        }
        bp->lock_ids[bp->n_locks].dev = st.st_dev;
        bp->lock_ids[bp->n_locks].ino = st.st_ino;
        bp->locks[bp->n_locks++] = fd;
        return 0;
}

/* Hold a missing name in dir; 0, or -EEXIST when something appeared there
 * meanwhile (the caller looks again). */
static int hold(struct ctx *c, int dir, const char *name, const char *rel,
                size_t len, enum protect_hold how)
{
        const char *content = hold_content(how);
        int r = lock_dir(c, dir, rel);
        if (r < 0)
                return r;
        if (!content && c->node_dir >= 0 &&
            linkat(c->node_dir, c->node_name, dir, name, 0) == 0) {
                /* a link costs a tenth of making a node on ext4 */
                c->bp->made++;
                return box_protect_add_item(c, rel, len, OP_HELD);
        }
        if (!content) {
                if (mknodat(dir, name, S_IFSOCK, 0) < 0)
                        return errno == EEXIST ? -EEXIST
                                               : err_setx(c->err, -errno,
                                                          "cannot hold the "
                                                          "protected path "
                                                          "%.*s",
                                                          (int)len, rel);
                /* a umask cannot have added bits, but make sure: the mode
                 * is how a placeholder is known */
                r = fchmodat(dir, name, 0, 0) < 0 ? -errno : 0;
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
                if (r == 0 && fchmod(fd, 0444) < 0)
                        r = -errno;
                close(fd);
        }
        /* under root, the workspace owner's, so any later run there (theirs
         * too) can remove it; never root-owned files in a user's tree */
        if (r == 0 && c->bp->chown &&
            fchownat(dir, name, c->bp->owner, c->bp->group,
                     AT_SYMLINK_NOFOLLOW) < 0)
                r = -errno;
        if (r < 0)
                return err_setx(c->err, r, "placeholder %.*s", (int)len, rel);
        c->bp->made++;
        if (!content && c->node_dir < 0 &&
            (c->node_dir = fcntl(dir, F_DUPFD_CLOEXEC, 3)) >= 0)
                snprintf(c->node_name, sizeof(c->node_name), "%s", name);
        return box_protect_add_item(c, rel, len, content ? OP_RO : OP_HELD);
}

/* ---- walking the protected paths ---------------------------------------- */

static int link_error(struct ctx *c, const char *rel, size_t len)
{
        return err_set(c->err, -ELOOP,
                       "protected path %.*s is a symlink: the box could point "
                       "it elsewhere. Replace the link with what it points "
                       "at (or, if you did not make it, remove it), or "
                       "--unprotect it",
                       (int)len, rel);
}

/* A protected file with a second name the box could write through. */
static int linked_error(struct ctx *c, const char *rel, const struct stat *st)
{
        return err_set(c->err, -EMLINK,
                       "protected file %s has %lu hard links: the box could "
                       "change it through another. Break the link (cp %s x "
                       "&& mv x %s) or --unprotect it",
                       rel, (unsigned long)st->st_nlink, rel, rel);
}

/* The path of what fd is, relative to the workspace, or NULL when outside
 * it (or the workspace itself). */
static const char *inside(struct ctx *c, int fd, char *buf, size_t size)
{
        if (fileio_fd_path(fd, buf, size) < 0)
                return NULL;
        size_t wl = strlen(c->ws_path);
        if (strncmp(buf, c->ws_path, wl) != 0 || buf[wl] != '/')
                return NULL;
        return buf + wl + 1;
}

/* A link found where git looks (a hook pointing into the tree, say): what
 * it reaches inside the workspace is protected too.  It is resolved for
 * real (an alias of the workspace's path, or ../ out and back in, lands
 * inside all the same); a way through another link inside the workspace is
 * refused, since the box could re-point that link. */
static int follow_link(struct ctx *c, int dir, const char *name,
                       const char *rel, int links)
{
        char t[PATH_MAX], real[PATH_MAX];
        ssize_t n = readlinkat(dir, name, t, sizeof(t) - 1);
        if (n < 0)
                return err_setx(c->err, -errno, "readlink %s", rel);
        t[n] = 0;
        _cleanup_close_ int fd = fileio_open_nolinks(dir, t,
                                                     O_PATH | O_CLOEXEC,
                                                     true);
        if (fd < 0 && errno == ELOOP) {
                _cleanup_close_ int via = openat(dir, t, O_PATH | O_CLOEXEC);
                if (via < 0 || !inside(c, via, real, sizeof(real)))
                        return 0; /* dangling or outside: not the box's */
                return err_set(c->err, -ELOOP,
                               "%s is a link to %s, which goes through "
                               "another link the box could re-point; point "
                               "it at the real path (%s)",
                               rel, t, real);
        }
        if (fd < 0) {
                /* missing: does its name fall inside the workspace? */
                if (box_link_escapes(c->ws_path, rel, t))
                        return 0;
                return err_setx(c->err, -errno,
                                "%s is a link to %s, which the box could "
                                "create; remove the link or make what it "
                                "should point at",
                                rel, t);
        }
        const char *r = inside(c, fd, real, sizeof(real));
        if (!r)
                return 0; /* outside: not the box's to change */
        return box_protect_plan_path(c, r, PROTECT_HOLD_NONE, false, NULL,
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
                return linked_error(c, sub, &st);
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
                return linked_error(c, rel, st);
        if (S_ISDIR(st->st_mode)) {
                c->scanned = 0; /* a budget per protected directory */
                return scan_dir(c, fd, rel, 0, links);
        }
        return 0;
}

/* Walk rel component by component from the workspace, following no link:
 * each directory above it an anchor, the path itself read-only (a
 * directory with marker in it - a real repository - an anchor instead),
 * the first missing component held (how: for the last one; if_parent: a
 * missing parent means nothing to protect). */
int box_protect_plan_path(struct ctx *c, const char *rel, enum protect_hold how,
                          bool if_parent, const char *marker, int links)
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
                /* Most names at the workspace's top are missing: hold
                 * them at once (-EEXIST: there is something; look at it
                 * below), sparing a lookup that fails. */
                if (dir == c->ws &&
                    (last ? how == PROTECT_HOLD_NODE : !if_parent)) {
                        int r = hold(c, dir, name, rel, end, PROTECT_HOLD_NODE);
                        if (r != -EEXIST)
                                return r;
                }
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
                /* the parent (dir) stays open until this one is checked */
                _cleanup_close_ int parent = owned;
                (void)parent;
                owned = fd;
                struct stat st;
                if (fstat(fd, &st) < 0)
                        return err_setx(c->err, -errno, "%s", rel);
                if (S_ISLNK(st.st_mode))
                        return link_error(c, rel, end);
                if (!S_ISDIR(st.st_mode) && is_placeholder(dir, name, &st)) {
                        /* this run's or another's: held read-only, and
                         * removed with the others by the last run out */
                        int r = lock_dir(c, dir, rel);
                        return r ? r
                                 : box_protect_add_item(c, rel, end,
                                                        S_ISSOCK(st.st_mode)
                                                                ? OP_HELD
                                                                : OP_RO);
                }
                dir = fd;
                if (!last && !S_ISDIR(st.st_mode))
                        /* e.g. .git as a file (a worktree's gitdir: line):
                         * it is held read-only, so it cannot be re-pointed */
                        return box_protect_add_item(c, rel, end, OP_RO);
                bool real = last && marker && S_ISDIR(st.st_mode) &&
                            fstatat(fd, marker, &st, AT_SYMLINK_NOFOLLOW) == 0;
                char op = !last || real ? OP_ANCHOR : OP_RO;
                int r = box_protect_add_item(c, rel, end, op);
                if (r == 0 && last && op == OP_RO && !c->noscan)
                        r = check_final(c, fd, &st, rel, links);
                if (r < 0)
                        return r;
                at = end + 1;
        }
        return 0;
}

/* ---- the plan ------------------------------------------------------------- */

static int cmp_item(const void *a, const void *b)
{
        const struct item *x = a, *y = b;
        return strcmp(x->rel, y->rel);
}

static bool ro(char op) { return op == OP_RO || op == OP_HELD; }

/* For one path planned twice: asked writable > read-only > anchor. */
static int prec(char op) { return op == OP_RW ? 2 : ro(op) ? 1 : 0; }

/* Sorted (parents before children), each path once (read-only wins over
 * anchor, an asked-for writable one over both), nothing below a read-only
 * path but what is asked writable there; then as text for the box. */
static int finish_plan(struct ctx *c)
{
        qsort(c->v, c->n, sizeof(*c->v), cmp_item);
        size_t o = 0;
        for (size_t i = 0; i < c->n; i++) {
                struct item *it = &c->v[i];
                if (o && !strcmp(c->v[o - 1].rel, it->rel)) {
                        if (prec(it->op) > prec(c->v[o - 1].op))
                                c->v[o - 1].op = it->op;
                        free(it->rel);
                        continue;
                }
                /* the nearest kept item above this one decides */
                const struct item *up = NULL;
                for (size_t j = o; j-- > 0;)
                        if (protect_covers(c->v[j].rel, it->rel)) {
                                up = &c->v[j];
                                break;
                        }
                if (up && ro(up->op) && it->op != OP_RW) {
                        free(it->rel);
                        continue;
                }
                c->v[o++] = *it;
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

/* In a workspace, every default and every added path; in a repository's
 * git directory (a linked worktree's, mounted beside the workspace), the
 * ".git/" ones, at its root. */
static int plan_all(struct ctx *c, bool gitdir)
{
        if (gitdir)
                return box_protect_git_dir(c, "", NULL, 0) ?: finish_plan(c);
        int r = 0;
        for (size_t i = 0; r == 0 && i < protect_defaults_n; i++) {
                const struct protect_default *d = &protect_defaults[i];
                if (!protect_default_active(c->rules, i) ||
                    !strncmp(d->path, ".git/", 5))
                        continue; /* git's own: plan_git_dir */
                r = box_protect_plan_path(c, d->path, d->hold, d->if_parent,
                                          d->marker, 0);
        }
        struct stat st;
        if (r == 0 && fstatat(c->ws, ".git", &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (S_ISDIR(st.st_mode))
                        r = box_protect_git_dir(c, ".git", "", 0);
                else if (S_ISREG(st.st_mode))
                        r = box_protect_gitfile(c, ".git", "");
        }
        if (r == 0 && box_protect_active(c, ".gitmodules"))
                r = box_protect_submodules(c);
        if (r == 0 && box_protect_active(c, ".git/hooks"))
                r = box_protect_global_refs(c);
        for (size_t i = 0; r == 0 && i < c->rules->n_add; i++)
                r = box_protect_plan_path(c, c->rules->add[i],
                                          PROTECT_HOLD_NODE, false, NULL, 0);
        return r < 0 ? r : finish_plan(c);
}

/* ---- the end ---------------------------------------------------------------- */

/* Remove what the plan holds with placeholders, where it still is one.
 * The plan is sorted, so a directory's items come together: each
 * directory is opened once. */
static void sweep(struct box_protect *bp)
{
        char dir_rel[PROTECT_PATH_MAX] = "";
        int dir = bp->ws_fd;
        for (const char *l = bp->plan; l && *l;) {
                const char *nl = strchr(l, '\n');
                size_t len = nl ? (size_t)(nl - l) : strlen(l);
                char rel[PROTECT_PATH_MAX];
                if ((l[0] == OP_HELD || l[0] == OP_RO) && len > 2 &&
                    len - 2 < sizeof(rel)) {
                        memcpy(rel, l + 2, len - 2);
                        rel[len - 2] = 0;
                        char *slash = strrchr(rel, '/');
                        const char *name = slash ? slash + 1 : rel;
                        if (slash)
                                *slash = 0;
                        const char *parent = slash ? rel : "";
                        if (strcmp(parent, dir_rel) != 0) {
                                if (dir != bp->ws_fd && dir >= 0)
                                        close(dir);
                                dir = slash ? fileio_open_nolinks(
                                                      bp->ws_fd, parent,
                                                      O_PATH | O_DIRECTORY |
                                                              O_CLOEXEC,
                                                      true)
                                            : bp->ws_fd;
                                snprintf(dir_rel, sizeof(dir_rel), "%s",
                                         parent);
                        }
                        struct stat st;
                        if (dir >= 0 &&
                            fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                            !S_ISDIR(st.st_mode) &&
                            is_placeholder(dir, name, &st))
                                (void)unlinkat(dir, name, 0);
                }
                if (!nl)
                        break;
                l = nl + 1;
        }
        if (dir != bp->ws_fd && dir >= 0)
                close(dir);
}

/* Shared while the box runs; exclusive, briefly, to sweep at the end. */
static int lock_workspace(struct box_protect *bp, struct ab_err *err)
{
        bp->lock_fd = openat(bp->ws_fd, ".", O_RDONLY | O_DIRECTORY |
                                                     O_CLOEXEC);
        if (bp->lock_fd < 0)
                return err_setx(err, -errno,
                                "workspace %s: cannot open it to lock it "
                                "(agentbox shares the workspace with other "
                                "runs by a lock on it; make it readable)",
                                bp->ws_path);
        int r = flock_shared(bp->lock_fd);
        if (r == -EBUSY)
                return err_set(err, r,
                               "workspace %s: another process holds its "
                               "lock; is an agentbox run stuck there?",
                               bp->ws_path);
        return r < 0 ? err_setx(err, r, "locking the workspace") : 0;
}

int box_protect_prepare(int ws_fd, const char *ws_path,
                        const struct protect_rules *rules, bool gitdir,
                        uid_t owner, gid_t group, struct box_protect *bp,
                        struct ab_err *err)
{
        *bp = (struct box_protect){.ws_fd = ws_fd, .ws_path = ws_path,
                                   .lock_fd = -1, .owner = owner,
                                   .group = group,
                                   .chown = geteuid() == 0};
        int r = lock_workspace(bp, err);
        if (r < 0)
                return r;
        struct ctx c = {.bp = bp, .ws = ws_fd, .ws_path = ws_path,
                        .rules = rules, .node_dir = -1, .err = err};
        struct stat wst;
        if (fstat(ws_fd, &wst) == 0) {
                c.ws_dev = wst.st_dev;
                c.ws_ino = wst.st_ino;
        }
        r = plan_all(&c, gitdir);
        if (c.node_dir >= 0)
                close(c.node_dir);
        for (size_t i = 0; i < c.n; i++)
                free(c.v[i].rel);
        free(c.v);
        bp->n_items = c.n;
        return r;
}


void box_protect_finish(struct box_protect *bp)
{
        /* Only when no other run holds any of our directories.  Converting
         * to exclusive drops the shared lock first: if another run holds
         * one we are done anyway, and the last one out sweeps. */
        bool alone = bp->lock_fd >= 0 &&
                     flock(bp->lock_fd, LOCK_EX | LOCK_NB) == 0;
        for (size_t i = 0; alone && i < bp->n_locks; i++)
                alone = flock(bp->locks[i], LOCK_EX | LOCK_NB) == 0;
        if (alone)
                sweep(bp);
        if (bp->lock_fd >= 0)
                close(bp->lock_fd);
        for (size_t i = 0; i < bp->n_locks; i++)
                close(bp->locks[i]);
        free(bp->plan);
        *bp = (struct box_protect){.lock_fd = -1, .ws_fd = -1};
}

/* ---- child side ------------------------------------------------------------ */

/* One read-only (or anchoring) bind of rel onto itself.  Resolved in one
 * step that follows no link: a link put there since the plan was made
 * fails the start (ELOOP), never redirects the mount. */
static void bind_self(int ws, char op, const char *rel, int *ro_src)
{
        /* A placeholder right in the directory: one clone of the first,
         * moved onto the name itself.  move_mount follows no link in a
         * last component (no MOVE_MOUNT_T_SYMLINKS) and there is no other
         * component, so this resolves as safely as openat2 below, in two
         * system calls instead of five (a fresh repository holds ~20). */
        if (op == OP_HELD && *ro_src >= 0 && !strchr(rel, '/') &&
            strcmp(rel, "..") != 0 && strcmp(rel, ".") != 0) {
                _cleanup_close_ int m = open_tree(
                        *ro_src, "",
                        OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
                if (m < 0 || move_mount(m, "", ws, rel,
                                        MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        box_die_errno(errno, "cannot protect %s", rel);
                return;
        }
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
                if (ro(op))
                        a.attr_set |= MOUNT_ATTR_RDONLY;
                else /* writable, also below a read-only mount */
                        a.attr_clr = MOUNT_ATTR_RDONLY;
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
                     line[0] != OP_HELD && line[0] != OP_RW) ||
                    line[1] != ' ' || !line[2])
                        box_die("bad protection plan");
                bind_self(ws, line[0], line + 2, &ro_src);
        }
        if (ro_src >= 0)
                close(ro_src);
}
