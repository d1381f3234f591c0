/* The workspace, resolved once and held: the directory agentbox checks is
 * the directory it mounts.  Nothing here resolves the same path by name
 * twice; every later step works from the descriptor. */
#include "workspace.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/util.h"
#include "policy.h"

/* The absolute form of given, without resolving anything. */
static int absolute(const char *given, char *out, size_t size,
                    struct ab_err *err)
{
        if (given[0] == '/') {
                if (snprintf(out, size, "%s", given) >= (int)size)
                        return err_set(err, -ENAMETOOLONG,
                                       "workspace %.64s...: path too long",
                                       given);
                return 0;
        }
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)))
                return err_setx(err, -errno,
                                "workspace %s: cannot read the current "
                                "directory",
                                given);
        if (snprintf(out, size, "%s/%s", cwd, given) >= (int)size)
                return err_set(err, -ENAMETOOLONG,
                               "workspace %.64s...: path too long", given);
        return 0;
}

/* For the message only: the first symlink on the way to path. */
static void first_link(const char *path, char *out, size_t size)
{
        char buf[PATH_MAX];
        snprintf(buf, sizeof(buf), "%s", path);
        out[0] = 0;
        for (char *q = buf + 1;; q++) {
                if (*q && *q != '/')
                        continue;
                char c = *q;
                *q = 0;
                struct stat st;
                if (lstat(buf, &st) == 0 && S_ISLNK(st.st_mode)) {
                        snprintf(out, size, "%s", buf);
                        return;
                }
                *q = c;
                if (!c)
                        return;
        }
}

static int open_dir(const char *abs, bool no_symlinks, struct ab_err *err)
{
        int fd = fileio_open_nolinks(AT_FDCWD, abs,
                                     O_PATH | O_DIRECTORY | O_CLOEXEC,
                                     no_symlinks);
        if (no_symlinks && fd < 0 && errno == ELOOP) {
                char link[PATH_MAX];
                first_link(abs, link, sizeof(link));
                return err_set(err, -ELOOP,
                               "workspace %s: passes through the symlink "
                               "%s; as root, agentbox follows no symlink "
                               "to the workspace (anyone who can write "
                               "where the link lives, a box included, "
                               "could point it at root's files). Give the "
                               "real path",
                               abs, link[0] ? link : "(a link)");
        }
        if (fd < 0) {
                if (errno == ENOTDIR)
                        return err_set(err, -ENOTDIR,
                                       "workspace %s: not a directory; use "
                                       "--workspace DIR",
                                       abs);
                return err_setx(err, -errno,
                                "workspace %s: cannot open it (use "
                                "--workspace DIR with an existing "
                                "directory)",
                                abs);
        }
        return fd;
}

int policy_workspace_pin(const char *given, bool no_symlinks, int *fd_out,
                         char **path_out, struct ab_err *err)
{
        char abs[PATH_MAX];
        int r = absolute(given ? given : ".", abs, sizeof(abs), err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open_dir(abs, no_symlinks, err);
        if (fd < 0)
                return fd;
        /* The kernel's name for what we hold: canonical, and about this
         * very directory, however the path was swapped meanwhile. */
        char real[PATH_MAX];
        if (fileio_fd_path(fd, real, sizeof(real)) < 0)
                return err_setx(err, -errno, "workspace %s", abs);
        if (real[0] != '/')
                return err_set(err, -ENOENT,
                               "workspace %s: not reachable from / (%s)", abs,
                               real);
        r = policy_check_workspace(real, NULL, err);
        if (r < 0)
                return r;
        char *dup = strdup(real);
        if (!dup)
                return err_set(err, -ENOMEM, "out of memory");
        *path_out = dup;
        *fd_out = steal_fd(&fd);
        return 0;
}

/* A small text file below dir, one line: its first line, trimmed.  The
 * file must be regular (a FIFO must not hang us) and under 4 KiB. */
static int read_line(int dir, const char *name, char *out, size_t size)
{
        size_t n = 0;
        _cleanup_free_ char *buf =
                fileio_read_small(dir, name, true, size - 1, &n);
        if (!buf)
                return -EINVAL;
        buf[strcspn(buf, "\r\n")] = 0;
        memcpy(out, buf, strlen(buf) + 1);
        return 0;
}

/* Join a path read from a file in dir (at dir_path) to an absolute one. */
static int join(const char *dir_path, const char *p, char *out, size_t size)
{
        int n = p[0] == '/' ? snprintf(out, size, "%s", p)
                            : snprintf(out, size, "%s/%s", dir_path, p);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int policy_worktree_repo(int ws_fd, const char *ws_path, bool no_symlinks,
                         unsigned owner, int *fd_out, char **path_out,
                         struct ab_err *err)
{
        char line[PATH_MAX], gd[PATH_MAX];
        struct stat st;
        if (fstatat(ws_fd, ".git", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(st.st_mode))
                return 0;
        if (read_line(ws_fd, ".git", line, sizeof(line)) < 0 ||
            strncmp(line, "gitdir: ", 8) != 0)
                return err_set(err, -EINVAL,
                               "workspace %s: .git is a file but not a "
                               "\"gitdir: DIR\" line; fix or remove it",
                               ws_path);
        if (join(ws_path, line + 8, gd, sizeof(gd)) < 0)
                return err_set(err, -ENAMETOOLONG, "%s/.git: path too long",
                               ws_path);
        _cleanup_close_ int gfd = -1;
        _cleanup_free_ char *greal = NULL;
        struct ab_err why = {0};
        if (policy_workspace_pin(gd, no_symlinks, &gfd, &greal, &why) < 0)
                return err_set(err, why.code,
                               "workspace %s is a git worktree whose "
                               "repository cannot be given to the box: %s",
                               ws_path, why.msg);
        char common[PATH_MAX], back[PATH_MAX], want[PATH_MAX];
        if (read_line(gfd, "commondir", line, sizeof(line)) < 0)
                return 0; /* a submodule's checkout, not a linked worktree */
        if (join(greal, line, common, sizeof(common)) < 0 ||
            snprintf(want, sizeof(want), "%s/.git", ws_path) >=
                    (int)sizeof(want))
                return err_set(err, -ENAMETOOLONG, "%s: path too long", gd);
        /* git's own back-link: this admin directory is this worktree's */
        if (read_line(gfd, "gitdir", back, sizeof(back)) < 0 ||
            strcmp(back, want) != 0)
                return err_set(err, -EINVAL,
                               "workspace %s: .git points at %s, which is "
                               "not this worktree's (its gitdir file names "
                               "%s); run git worktree repair",
                               ws_path, greal, back);
        _cleanup_close_ int cfd = -1;
        _cleanup_free_ char *creal = NULL;
        if (policy_workspace_pin(common, no_symlinks, &cfd, &creal, &why) < 0)
                return err_set(err, why.code,
                               "workspace %s is a git worktree whose "
                               "repository cannot be given to the box: %s",
                               ws_path, why.msg);
        size_t cl = strlen(creal);
        if (strncmp(greal, creal, cl) != 0 || greal[cl] != '/')
                return err_set(err, -EINVAL,
                               "workspace %s: its worktree directory %s is "
                               "not inside its repository %s",
                               ws_path, greal, creal);
        size_t wl = strlen(ws_path);
        if (!strncmp(creal, ws_path, wl) && creal[wl] == '/')
                return 0; /* inside the workspace: the box has it anyway */
        if (fstat(cfd, &st) < 0)
                return err_setx(err, -errno, "%s", creal);
        if (st.st_uid != owner || fstatat(cfd, "HEAD", &st, 0) < 0)
                return err_set(err, -EPERM,
                               "workspace %s is a git worktree of %s, which "
                               "is not a repository of the workspace's "
                               "owner (uid %u)",
                               ws_path, creal, owner);
        *fd_out = steal_fd(&cfd);
        *path_out = steal_ptr(&creal);
        return 1;
}
