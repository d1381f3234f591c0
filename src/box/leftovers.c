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
#include "common/util.h"
#include "policy/protect.h"

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

static bool newer(const struct stat *st, const struct timespec *t)
{
        return st->st_ctim.tv_sec > t->tv_sec ||
               (st->st_ctim.tv_sec == t->tv_sec &&
                st->st_ctim.tv_nsec >= t->tv_nsec);
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
        o->v[o->n++] = line;
}

/* The first component of every protected default: below the root, the
 * same names are what host tools would run there. */
static const char *flagged(const char *name)
{
        for (size_t i = 0; i < protect_defaults_n; i++) {
                const char *p = protect_defaults[i].path;
                size_t n = strcspn(p, "/");
                if (strlen(name) == n && !strncmp(p, name, n))
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
        int depth = 0; /* of the link's directory below the root */
        for (const char *p = rel; (p = strchr(p, '/')); p++)
                depth++;
        for (const char *p = t; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        depth--;
                else if (n && !(n == 1 && p[0] == '.'))
                        depth++;
                if (depth < 0)
                        return true;
                p += n;
                while (*p == '/')
                        p++;
        }
        return false;
}

static int walk_dir(struct walk *w, int dirfd, const char *rel, int depth);

static int entry(struct walk *w, int dir, const char *name, unsigned char type,
                 const char *rel, int depth)
{
        char sub[PATH_MAX];
        if (snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "",
                     name) >= (int)sizeof(sub))
                return 0;
        const char *why = depth > 0 ? flagged(name) : NULL;
        if (!why && type != DT_LNK && type != DT_DIR && type != DT_UNKNOWN)
                return 0;
        struct stat st;
        if ((why || type == DT_LNK || type == DT_UNKNOWN) &&
            fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        if (why && newer(&st, &w->since))
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
        if (!strcmp(name, ".git"))
                return 0; /* not into repositories' own files */
        if (type == DT_DIR || (type == DT_UNKNOWN && S_ISDIR(st.st_mode))) {
                if (depth + 1 >= WALK_DEPTH)
                        return 0;
                _cleanup_close_ int fd = openat(
                        dir, name,
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                struct stat ds;
                if (fd < 0 || fstat(fd, &ds) < 0 || ds.st_dev != w->dev)
                        return 0; /* another filesystem: not walked */
                return walk_dir(w, fd, sub, depth + 1);
        }
        return 0;
}

struct walk_at {
        struct walk *w;
        int fd;
        const char *rel;
        int depth;
};

static int walk_one(void *arg, const char *name, unsigned char type)
{
        struct walk_at *a = arg;
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
        struct walk_at a = {w, fd, rel, depth};
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
        out->complete = r == 0;
        return 0;
}

void box_leftovers_free(struct box_leftovers *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        *l = (struct box_leftovers){0};
}
