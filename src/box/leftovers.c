/* After the box: what it left in the workspace that a host tool may run
 * or open and that the protected paths could not hold back (DESIGN.md §1:
 * direct mode says plainly what it does not cover): a repository, or an
 * agent's or editor's settings, made below the workspace's root, and
 * links that point out of the workspace.  Found by one walk of the tree,
 * bounded in time, looking only at what changed since the box started
 * (an entry's ctime cannot be set back from inside). */
#include "leftovers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/path.h"
#include "common/util.h"
#include "policy/protect.h"
#include "protect.h"

#define WALK_DEPTH 32
#define LOOK_ALWAYS 256

struct walk {
        const char *ws_path;
        struct timespec since;
        struct timespec deadline;
        dev_t dev;
        unsigned checks;
        struct box_leftovers *out;
};

static bool at_or_after(long long sec, long nsec, const struct timespec *t)
{
        return sec > t->tv_sec || (sec == t->tv_sec && nsec >= t->tv_nsec);
}

static bool newer(const struct stat *st, const struct timespec *t)
{
        return at_or_after(st->st_ctim.tv_sec, st->st_ctim.tv_nsec, t);
}

/* Made (not just changed) since the box started: its birth time where the
 * filesystem keeps one (a repository whose config was rewritten has a new
 * ctime on its .git too), else its ctime. */
static bool born_since(const struct walk *w, int dir, const char *name,
                       const struct stat *st)
{
        struct statx sx;
        if (statx(dir, name, AT_SYMLINK_NOFOLLOW, STATX_BTIME, &sx) == 0 &&
            (sx.stx_mask & STATX_BTIME))
                return at_or_after(sx.stx_btime.tv_sec, sx.stx_btime.tv_nsec,
                                   &w->since);
        return newer(st, &w->since);
}

static bool past(const struct timespec *deadline)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return now.tv_sec > deadline->tv_sec ||
               (now.tv_sec == deadline->tv_sec &&
                now.tv_nsec > deadline->tv_nsec);
}

static void note(struct walk *w, const char *rel, const char *what)
{
        struct box_leftovers *o = w->out;
        if (o->n >= BOX_LEFTOVERS_MAX) {
                o->more++;
                return;
        }
        char *line = NULL;
        if (asprintf(&line, "%s (%s)", rel, what) < 0)
                return;
        /* names are the box's: no newline or escape of theirs may forge or
         * hide a line of the report */
        for (char *q = line; *q; q++)
                if ((unsigned char)*q < 0x20 || *q == 0x7f)
                        *q = '?';
        o->v[o->n++] = line;
}

/* The first component of every protected default: below the root, the
 * same names are what host tools would run there.  Looked up for every
 * entry of the tree, so first by a table of first characters. */
static const char *flagged(const char *name)
{
        static bool ready;
        static unsigned char first[256];
        if (!ready) {
                for (size_t i = 0; i < protect_defaults_n; i++)
                        first[(unsigned char)protect_defaults[i].path[0]] = 1;
                ready = true;
        }
        if (!first[(unsigned char)name[0]])
                return NULL;
        size_t len = strlen(name);
        for (size_t i = 0; i < protect_defaults_n; i++) {
                const char *p = protect_defaults[i].path;
                size_t n = strcspn(p, "/");
                if (len == n && !strncmp(p, name, n))
                        return !strcmp(name, ".git")
                                       ? "a repository: host git there runs "
                                         "its config and hooks"
                                       : protect_defaults[i].why;
        }
        return NULL;
}

bool box_link_escapes(const char *ws_path, const char *rel, const char *t)
{
        if (t[0] == '/') {
                size_t n = strlen(ws_path);
                return strncmp(t, ws_path, n) != 0 ||
                       (t[n] != '/' && t[n] != 0);
        }
        /* from the link's own directory, lexically, as the box wrote it */
        char dir[PATH_MAX], out[2 * PATH_MAX + 2];
        const char *slash = strrchr(rel, '/');
        snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - rel) : 0,
                 rel);
        return path_normalise(dir, t, out, sizeof(out)) < 0;
}

static int walk_dir(struct walk *w, int dirfd, const char *rel, int depth);

/* What git keeps of an unfinished rebase or cherry-pick: todos that may
 * hold exec lines. */
static const char *const sequencer_state[] = {"rebase-merge", "rebase-apply",
                                              "sequencer"};

static void changed(struct walk *w, int dir, const char *name,
                    const char *rel, const char *what)
{
        struct stat st;
        char p[PATH_MAX];
        if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            newer(&st, &w->since) &&
            snprintf(p, sizeof(p), "%s/%s", rel, name) < (int)sizeof(p))
                note(w, p, what);
}

/* Where each fileio_dir_each callback of the walk is: the open directory
 * and its path (and for some, a depth or what to say). */
struct at {
        struct walk *w;
        int fd;
        const char *rel;
        int depth;
        const char *what;
};

static int changed_one(void *arg, const char *name, unsigned char type)
{
        struct at *d = arg;
        (void)type;
        size_t n = strlen(name);
        if (n > 7 && !strcmp(name + n - 7, ".sample"))
                return 0;
        changed(d->w, d->fd, name, d->rel, d->what);
        return 0;
}

static void changed_in(struct walk *w, int dir, const char *name,
                       const char *rel, const char *what)
{
        char p[PATH_MAX];
        _cleanup_close_ int fd = fileio_open_subdir(dir, name);
        if (fd < 0 ||
            snprintf(p, sizeof(p), "%s/%s", rel, name) >= (int)sizeof(p))
                return;
        struct at d = {w, fd, p, 0, what};
        (void)fileio_dir_each(fd, changed_one, &d);
}

static int worktree_changed(void *arg, const char *name, unsigned char type)
{
        struct at *t = arg;
        char p[PATH_MAX];
        if ((type != DT_DIR && type != DT_UNKNOWN) ||
            snprintf(p, sizeof(p), "%s/%s", t->rel, name) >= (int)sizeof(p))
                return 0;
        _cleanup_close_ int fd = fileio_open_subdir(t->fd, name);
        if (fd < 0)
                return 0;
        for (size_t i = 0; i < BOX_WORKTREE_POINTERS; i++)
                changed(t->w, fd, box_worktree_pointers[i], p,
                        "a linked worktree's pointer, changed while the box "
                        "ran: host git in that worktree reads it");
        return 0;
}

static void sequencer_in_modules(struct walk *w, int gd, const char *rel,
                                 int depth);

static int module_seq(void *arg, const char *name, unsigned char type)
{
        struct at *m = arg;
        char p[PATH_MAX];
        if ((type != DT_DIR && type != DT_UNKNOWN) || ++m->w->checks > 4096 ||
            snprintf(p, sizeof(p), "%s/%s", m->rel, name) >= (int)sizeof(p))
                return 0;
        _cleanup_close_ int d = fileio_open_subdir(m->fd, name);
        if (d < 0)
                return 0;
        for (size_t i = 0; i < ARRAY_SIZE(sequencer_state); i++)
                changed(m->w, d, sequencer_state[i], p,
                        "an unfinished rebase or cherry-pick the box left in "
                        "a submodule: its todo may run commands");
        if (m->depth < 8) {
                struct at inner = {m->w, d, p, m->depth + 1, NULL};
                (void)fileio_dir_each(d, module_seq, &inner);
        }
        return 0;
}

/* Submodules' git directories (their names may hold slashes, so every
 * directory below .git/modules is looked at, to a depth). */
static void sequencer_in_modules(struct walk *w, int gd, const char *rel,
                                 int depth)
{
        char p[PATH_MAX];
        _cleanup_close_ int m = fileio_open_subdir(gd, "modules");
        if (m < 0 ||
            snprintf(p, sizeof(p), "%s/modules", rel) >= (int)sizeof(p))
                return;
        struct at x = {w, m, p, depth, NULL};
        (void)fileio_dir_each(m, module_seq, &x);
}

/* In a git directory: state that makes host git run commands later.
 * nested: a repository below the root, whose config and hooks no mount
 * protects. */
static void look_in_gitfd(struct walk *w, int g, const char *rel,
                          bool nested);

static void look_in_git(struct walk *w, int parent, const char *rel,
                        bool nested)
{
        _cleanup_close_ int g = fileio_open_subdir(parent, ".git");
        if (g >= 0)
                look_in_gitfd(w, g, rel, nested);
}

static void look_in_gitfd(struct walk *w, int g, const char *rel,
                          bool nested)
{
        for (size_t i = 0; i < ARRAY_SIZE(sequencer_state); i++)
                changed(w, g, sequencer_state[i], rel,
                        "an unfinished rebase or cherry-pick the box left: "
                        "its todo may run commands at git rebase --continue; "
                        "git rebase --abort drops it");
        if (nested) {
                changed(w, g, "config", rel,
                        "a nested repository's config, changed by the box: "
                        "host git there runs what it names");
                changed(w, g, "commondir", rel,
                        "a nested repository's commondir, changed by the "
                        "box");
                changed(w, g, "hooks", rel,
                        "a nested repository's hooks directory, changed or "
                        "replaced by the box: host git there runs its hooks");
                changed_in(w, g, "hooks", rel,
                           "a nested repository's hook, changed by the box: "
                           "host git there runs it");
        }
        sequencer_in_modules(w, g, rel, 0);
        _cleanup_close_ int wts = fileio_open_subdir(g, "worktrees");
        char p[PATH_MAX];
        if (wts >= 0 &&
            snprintf(p, sizeof(p), "%s/worktrees", rel) < (int)sizeof(p)) {
                struct at t = {w, wts, p, 0, NULL};
                (void)fileio_dir_each(wts, worktree_changed, &t);
        }
}

static int entry(struct walk *w, int dir, const char *name, unsigned char type,
                 const char *rel, int depth)
{
        char sub[PATH_MAX];
        if (snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "",
                     name) >= (int)sizeof(sub)) {
                w->out->too_deep = true;
                return 0;
        }
        /* a .git of the box's making is reported as such; one that was
         * there is looked into (look_in_git) */
        const char *why = depth > 0 ? flagged(name) : NULL;
        if (!why && type != DT_LNK && type != DT_DIR && type != DT_UNKNOWN)
                return 0;
        struct stat st;
        if ((why || type == DT_LNK || type == DT_UNKNOWN) &&
            fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        /* a .git the box made is reported whole; one that was there is
         * looked into instead; other names, made or changed */
        bool made = why && (strcmp(name, ".git")
                                    ? newer(&st, &w->since)
                                    : born_since(w, dir, name, &st));
        if (made)
                note(w, sub, why);
        if (type == DT_LNK || (type == DT_UNKNOWN && S_ISLNK(st.st_mode))) {
                char t[PATH_MAX];
                ssize_t n;
                if (!newer(&st, &w->since) ||
                    (n = readlinkat(dir, name, t, sizeof(t) - 1)) < 0)
                        return 0;
                t[n] = 0;
                if (box_link_escapes(w->ws_path, sub, t)) {
                        char what[PATH_MAX + 64];
                        snprintf(what, sizeof(what),
                                 "a link out of the workspace, to %.*s",
                                 PATH_MAX, t);
                        note(w, sub, what);
                }
                return 0;
        }
        if (!strcmp(name, ".git")) {
                /* not through repositories' own files, but at what in
                 * them runs commands */
                if (type == DT_DIR ||
                    (type == DT_UNKNOWN && S_ISDIR(st.st_mode)))
                        look_in_git(w, dir, sub, depth > 0 && !made);
                else if (depth > 0 && !made && newer(&st, &w->since))
                        note(w, sub,
                             "a nested repository's .git file, changed by "
                             "the box: host git there follows it");
                return 0;
        }
        if (type == DT_DIR || (type == DT_UNKNOWN && S_ISDIR(st.st_mode))) {
                if (depth + 1 >= WALK_DEPTH) {
                        w->out->too_deep = true; /* said when it ends */
                        return 0;
                }
                _cleanup_close_ int fd = fileio_open_subdir(dir, name);
                struct stat ds;
                if (fd < 0 || fstat(fd, &ds) < 0 || ds.st_dev != w->dev)
                        return 0; /* another filesystem: not walked */
                return walk_dir(w, fd, sub, depth + 1);
        }
        return 0;
}

static int walk_one(void *arg, const char *name, unsigned char type)
{
        struct at *a = arg;
        struct walk *w = a->w;
        /* a few hundred entries always (a small tree is checked whole, for
         * ~50 us), then as long as the time lasts */
        if ((++w->checks & 63) == 0 && w->checks > LOOK_ALWAYS &&
            past(&w->deadline))
                return -ETIME;
        w->out->entries++;
        return entry(w, a->fd, name, type, a->rel, a->depth);
}

static int walk_dir(struct walk *w, int fd, const char *rel, int depth)
{
        struct at a = {w, fd, rel, depth, NULL};
        int r = fileio_dir_each(fd, walk_one, &a);
        return r == -ETIME ? r : 0;
}

int box_leftovers_find(int ws_fd, const char *ws_path,
                       const struct timespec *since, long budget_us,
                       struct box_leftovers *out)
{
        *out = (struct box_leftovers){0};
        struct walk w = {.ws_path = ws_path, .since = *since, .out = out};
        clock_gettime(CLOCK_MONOTONIC, &w.deadline);
        w.deadline.tv_sec += budget_us / 1000000;
        w.deadline.tv_nsec += (budget_us % 1000000) * 1000;
        if (w.deadline.tv_nsec >= 1000000000) {
                w.deadline.tv_sec++;
                w.deadline.tv_nsec -= 1000000000;
        }
        _cleanup_close_ int fd =
                openat(ws_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        w.dev = st.st_dev;
        int r = walk_dir(&w, fd, "", 0);
        out->complete = r == 0 && !out->too_deep;
        return 0;
}

int box_leftovers_gitdir(int git_fd, const char *git_path,
                         const struct timespec *since,
                         struct box_leftovers *out)
{
        struct walk w = {.ws_path = git_path, .since = *since, .out = out};
        look_in_gitfd(&w, git_fd, git_path, false);
        return 0;
}

void box_leftovers_free(struct box_leftovers *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        *l = (struct box_leftovers){0};
}
