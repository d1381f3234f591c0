/* filesystem.mounts, resolved on the host side before the box exists:
 * each source to a real path with no link left in it (the box binds it
 * only if it is still the object checked here), checked against the
 * credential stores no box may mount, and given its place in the box:
 * the same path, or for a path in the user's home the same place in the
 * box's home.  A place over the workspace, the system directories or the
 * box's own mounts is refused. */
#include "mounts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "box/box.h"
#include "common/fileio.h"
#include "common/path.h"
#include "common/util.h"
#include "policy/layers.h"


/* Where the box has its own view already: a mount there would hide it
 * or be hidden by it. */
static const char *const box_own[] = {
        "/usr", "/etc", "/opt",   "/bin", "/sbin", "/lib", "/lib32",
        "/lib64", "/libx32", "/proc", "/sys", "/dev", "/run", "/boot",
        "/.agentbox-stage",
};

/* A clean absolute path: no ".", "..", empty component or trailing
 * slash. */
static bool clean_path(const char *p)
{
        if (p[0] != '/' || !p[1] || strlen(p) >= PATH_MAX)
                return false;
        for (const char *c = p; *c;) {
                c++;
                size_t n = strcspn(c, "/");
                if (n == 0 || (n == 1 && c[0] == '.') ||
                    (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += n;
        }
        return true;
}

static int target_of(const struct policy_mount *m, const char *real,
                     char *out, size_t size, const char *where,
                     struct ab_err *err)
{
        if (m->target)
                snprintf(out, size, "%s", m->target);
        else {
                _cleanup_free_ char *home = policy_expand_home("~");
                char hreal[PATH_MAX];
                if (home && realpath(home, hreal) && path_is_under(real, hreal) &&
                    strcmp(real, hreal) != 0)
                        snprintf(out, size, "%s%s", BOX_HOME,
                                 real + strlen(hreal));
                else
                        snprintf(out, size, "%s", real);
        }
        size_t n = strlen(out);
        while (n > 1 && out[n - 1] == '/')
                out[--n] = 0;
        if (!clean_path(out))
                return err_set(err, -EINVAL,
                               "filesystem.mounts %s (%s): the place in the "
                               "box, %s, must be a plain absolute path",
                               m->source, where, out);
        if (path_is_under(BOX_HOME, out))
                return err_set(err, -EINVAL,
                               "filesystem.mounts %s (%s): %s would cover the "
                               "box's whole home; mount something inside it",
                               m->source, where, out);
        /* the box's scratch space lets it make FIFOs and sockets, which a
         * read-write host directory there would then hold */
        static const char *const scratch[] = {"/tmp", "/var/tmp", "/dev/shm"};
        for (size_t i = 0; m->rw && i < ARRAY_SIZE(scratch); i++)
                if (path_is_under(out, scratch[i]))
                        return err_set(err, -EINVAL,
                                       "filesystem.mounts %s (%s): a "
                                       "read-write mount may not be placed "
                                       "in %s; give a target below %s or "
                                       "a new directory such as /data",
                                       m->source, where, scratch[i],
                                       BOX_HOME);
        for (size_t i = 0; i < ARRAY_SIZE(box_own); i++)
                if (path_is_under(out, box_own[i]) || strcmp(out, "/") == 0)
                        return err_set(err, -EINVAL,
                                       "filesystem.mounts %s (%s): %s is in "
                                       "%s, which the box has its own view "
                                       "of; give a target elsewhere (e.g. "
                                       "below %s)",
                                       m->source, where, out,
                                       strcmp(out, "/") ? box_own[i] : "/",
                                       BOX_HOME);
        return 0;
}

/* Under root, the source as written (~ expanded): every component a
 * real directory (no link) that only root or its owner may change, or
 * one with the sticky bit whose next component is root's or the
 * invoker's own. */
static int root_safe(const struct policy_mount *m, const char *path,
                     uid_t owner, const char *where, struct ab_err *err)
{
        int dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return err_setx(err, -errno, "/");
        struct stat up;
        if (fstat(dir, &up) < 0) {
                close(dir);
                return err_setx(err, -errno, "/");
        }
        char buf[PATH_MAX];
        snprintf(buf, sizeof(buf), "%s", path);
        int r = 0;
        for (char *save = NULL, *c = strtok_r(buf, "/", &save); c && r == 0;
             c = strtok_r(NULL, "/", &save)) {
                int next = openat(dir, c, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                struct stat st = {0};
                if (next < 0 || fstat(next, &st) < 0)
                        r = err_setx(err, -errno,
                                     "filesystem.mounts %s (%s)", m->source,
                                     where);
                else if (S_ISLNK(st.st_mode))
                        r = err_set(err, -ELOOP,
                                    "filesystem.mounts %s (%s): %s is a "
                                    "symbolic link; under root a mount's "
                                    "path may hold none",
                                    m->source, where, c);
                else if ((up.st_mode & (S_IWGRP | S_IWOTH)) &&
                         !((up.st_mode & S_ISVTX) && st.st_uid == 0))
                        r = err_set(err, -EPERM,
                                    "filesystem.mounts %s (%s): a directory "
                                    "on its path others may write to "
                                    "(before %s); under root that is not "
                                    "a path to mount from",
                                    m->source, where, c);
                else if (st.st_uid != 0 && st.st_uid != owner)
                        r = err_set(err, -EPERM,
                                    "filesystem.mounts %s (%s): %s belongs "
                                    "to uid %u, neither root nor the "
                                    "workspace's owner; under root that is "
                                    "not a path to mount from",
                                    m->source, where, c,
                                    (unsigned)st.st_uid);
                else if (st.st_mode & (S_IWGRP | S_IWOTH) &&
                         S_ISDIR(st.st_mode) && !(st.st_mode & S_ISVTX))
                        r = err_set(err, -EPERM,
                                    "filesystem.mounts %s (%s): %s is "
                                    "writable by others",
                                    m->source, where, c);
                close(dir);
                dir = next;
                up = st;
        }
        if (dir >= 0)
                close(dir);
        return r;
}

/* A unix socket at the top of a directory to mount: a program on the
 * host serves it, and the box could connect to it (a read-only mount
 * does not stop that).  Deeper ones are not looked for: agentbox.yaml(5). */
static int no_sockets(int fd, const struct policy_mount *m, const char *where,
                      struct ab_err *err)
{
        int d = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *dp = d >= 0 ? fdopendir(d) : NULL;
        if (!dp) {
                if (d >= 0)
                        close(d);
                return 0; /* unreadable: the box cannot list it either */
        }
        int r = 0;
        for (struct dirent *e; r == 0 && (e = readdir(dp));)
                if (e->d_type == DT_SOCK)
                        r = err_set(err, -EPERM,
                                    "filesystem.mounts %s (%s): holds the "
                                    "unix socket %s, which a program on the "
                                    "host serves and the box could talk to",
                                    m->source, where, e->d_name);
        closedir(dp);
        return r;
}

int session_mounts_resolve(const struct policy *p, const char *workspace,
                           const char *repo, uid_t owner,
                           struct box_mount **out, size_t *n_out,
                           struct ab_err *err)
{
        *out = NULL;
        *n_out = 0;
        if (!p->n_mounts)
                return 0;
        if (p->n_mounts > BOX_MOUNTS_MAX)
                return err_set(err, -E2BIG, "filesystem.mounts: more than %d",
                               BOX_MOUNTS_MAX);
        struct box_mount *v = calloc(p->n_mounts, sizeof(*v));
        if (!v)
                return err_set(err, -ENOMEM, "out of memory");
        int r = 0;
        size_t n = 0;
        for (size_t i = 0; r == 0 && i < p->n_mounts; i++) {
                const struct policy_mount *m = &p->mounts[i];
                char where[64];
                snprintf(where, sizeof(where), "%s line %u",
                         policy_layer_name((enum policy_layer)m->src.layer),
                         m->src.line);
                _cleanup_free_ char *e = policy_expand_home(m->source);
                char real[PATH_MAX], box[PATH_MAX];
                if (!e || !realpath(e, real)) {
                        r = err_setx(err, -errno, "filesystem.mounts %s (%s)",
                                     m->source, where);
                        break;
                }
                struct policy_src ds;
                const char *d = policy_mount_denied(p, real, &ds);
                if (d) {
                        r = err_set(err, -EPERM,
                                    "filesystem.mounts %s (%s): %s is or "
                                    "holds %s, which no box may mount",
                                    m->source, where, real, d);
                        break;
                }
                if (path_is_under(real, workspace) || path_is_under(workspace, real) ||
                    (repo && (path_is_under(real, repo) || path_is_under(repo, real)))) {
                        r = err_set(err, -EINVAL,
                                    "filesystem.mounts %s (%s): is, holds or "
                                    "lies in the workspace, which is in the "
                                    "box already",
                                    m->source, where);
                        break;
                }
                if ((r = target_of(m, real, box, sizeof(box), where, err)) < 0)
                        break;
                if (path_is_under(box, workspace) || path_is_under(workspace, box) ||
                    (repo && (path_is_under(box, repo) || path_is_under(repo, box)))) {
                        r = err_set(err, -EINVAL,
                                    "filesystem.mounts %s (%s): its place %s "
                                    "would be over the workspace",
                                    m->source, where, box);
                        break;
                }
                /* none in another: a link the box left in a read-write
                 * one could redirect where the inner one goes */
                for (size_t j = 0; r == 0 && j < n; j++)
                        if (path_is_under(box, v[j].box) || path_is_under(v[j].box, box))
                                r = err_set(err, -EINVAL,
                                            "filesystem.mounts %s (%s): %s "
                                            "is, holds or lies in the place "
                                            "of another mount (%s)",
                                            m->source, where, box, v[j].box);
                if (r < 0)
                        break;
                /* under root: no link on the way, and no directory on it
                 * that another user may change (root would bind, and an
                 * idmapped read-write mount would give the agent, what
                 * they chose) */
                if (geteuid() == 0 &&
                    (r = root_safe(m, e, owner, where, err)) < 0)
                        break;
                /* pinned: the box binds this object or nothing */
                int fd = fileio_open_nolinks(AT_FDCWD, real,
                                             O_PATH | O_CLOEXEC, true);
                struct stat st;
                if (fd < 0 || fstat(fd, &st) < 0) {
                        r = err_setx(err, -errno, "filesystem.mounts %s (%s)",
                                     m->source, where);
                        if (fd >= 0)
                                close(fd);
                        break;
                }
                if (S_ISDIR(st.st_mode) &&
                    (r = no_sockets(fd, m, where, err)) < 0) {
                        close(fd);
                        break;
                }
                close(fd);
                if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
                        r = err_set(err, -EINVAL,
                                    "filesystem.mounts %s (%s): neither a "
                                    "directory nor a regular file",
                                    m->source, where);
                        break;
                }
                v[n] = (struct box_mount){.host = strdup(real),
                                          .box = strdup(box),
                                          .rw = m->rw,
                                          .dev = st.st_dev,
                                          .ino = st.st_ino,
                                          .fd = -1};
                if (!v[n].host || !v[n].box) {
                        free(v[n].host);
                        free(v[n].box);
                        r = err_set(err, -ENOMEM, "out of memory");
                        break;
                }
                n++;
        }
        if (r < 0) {
                session_mounts_free(v, n);
                return r;
        }
        *out = v;
        *n_out = n;
        return 0;
}

void session_mounts_free(struct box_mount *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(v[i].host);
                free(v[i].box);
        }
        free(v);
}
