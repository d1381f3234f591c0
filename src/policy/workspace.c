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
        int fd;
        if (no_symlinks) {
                struct open_how how = {
                        .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                        .resolve = RESOLVE_NO_SYMLINKS |
                                   RESOLVE_NO_MAGICLINKS,
                };
                fd = (int)syscall(SYS_openat2, AT_FDCWD, abs, &how,
                                  sizeof(how));
                if (fd < 0 && errno == ELOOP) {
                        char link[PATH_MAX];
                        first_link(abs, link, sizeof(link));
                        return err_set(err, -ELOOP,
                                       "workspace %s: passes through the "
                                       "symlink %s; as root, agentbox "
                                       "follows no symlink to the "
                                       "workspace (anyone who can write "
                                       "where the link lives, a box "
                                       "included, could point it at root's "
                                       "files). Give the real path",
                                       abs, link[0] ? link : "(a link)");
                }
        } else {
                fd = open(abs, O_PATH | O_DIRECTORY | O_CLOEXEC);
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
        char link[64], real[PATH_MAX];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, real, sizeof(real) - 1);
        if (n < 0)
                return err_setx(err, -errno, "workspace %s", abs);
        real[n] = 0;
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
