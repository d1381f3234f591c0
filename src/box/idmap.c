/* Root invoking on a root-owned workspace: rather than let the agent be
 * host root (owner of every root file the box can see), run it as an
 * unprivileged host id and give it the workspace through an idmapped mount
 * on which that id owns what root owns, cloned from the descriptor the
 * checks were made on.  Needs a filesystem that supports idmapped mounts;
 * without one the box refuses to start. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/util.h"
#include "internal.h"


/* A throwaway user namespace mapping uid/gid in -> out, as an fd.  Its
 * only process is born in it (no handshake to wait for) and is killed as
 * soon as the fd pins the namespace; *helper is left to reap later, off
 * the start-up path. */
static int userns_fd(uid_t uin, uid_t uout, gid_t gin, gid_t gout,
                     pid_t *helper)
{
        struct clone_args args = {.flags = CLONE_NEWUSER,
                                  .exit_signal = SIGCHLD};
        long pid = syscall(SYS_clone3, &args, sizeof(args));
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                for (;;)
                        pause();
        }
        char path[64], line[64];
        snprintf(path, sizeof(path), "/proc/%ld/uid_map", pid);
        snprintf(line, sizeof(line), "%u %u 1\n", uin, uout);
        int r = fileio_write_str(path, line);
        if (r == 0) {
                snprintf(path, sizeof(path), "/proc/%ld/gid_map", pid);
                snprintf(line, sizeof(line), "%u %u 1\n", gin, gout);
                r = fileio_write_str(path, line);
        }
        if (r == 0) {
                snprintf(path, sizeof(path), "/proc/%ld/ns/user", pid);
                r = open(path, O_RDONLY | O_CLOEXEC);
                if (r < 0)
                        r = -errno;
        }
        kill((pid_t)pid, SIGKILL);
        *helper = (pid_t)pid;
        return r;
}

static int idmapped_clone(int dir, int ns, const char *path, bool recursive,
                          struct ab_err *err)
{
        /* From the descriptor the checks were made on: never the path. */
        int mnt = open_tree(dir, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                                             (recursive ? AT_RECURSIVE : 0) |
                                             AT_EMPTY_PATH);
        if (mnt < 0)
                return err_setx(err, -errno, "cannot bind %s", path);
        struct mount_attr a = {
                .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID |
                            MOUNT_ATTR_NODEV,
                .userns_fd = (uint64_t)ns,
        };
        if (mount_setattr(mnt, "", AT_EMPTY_PATH | AT_RECURSIVE, &a,
                          sizeof(a)) < 0) {
                int e = errno;
                close(mnt);
                return err_setx(err, -e,
                                "idmap: %s does not support idmapped mounts",
                                path);
        }
        return mnt;
}

int box_idmap_prepare(const struct box_spec *spec, uid_t owner, gid_t group,
                      pid_t *helper, int *repo_mnt, int *bind_mnt,
                      struct ab_err *err)
{
        /* The idmapping's namespace first: a tree cloned before it was
         * created cannot be moved into the box once idmapped (EINVAL on
         * Linux 6.18). */
        _cleanup_close_ int ns = userns_fd(owner, spec->id.uid, group,
                                           spec->id.gid, helper);
        if (ns < 0)
                return err_setx(err, ns, "idmap: user namespace");
        int mnt = idmapped_clone(spec->ws_fd, ns, spec->policy->workspace,
                                 true, err);
        if (mnt >= 0 && spec->repo_fd >= 0) {
                *repo_mnt = idmapped_clone(spec->repo_fd, ns, spec->repo_path,
                                           true, err);
                if (*repo_mnt < 0) {
                        close(mnt);
                        return *repo_mnt;
                }
        }
        /* a read-write filesystem.mounts is the agent's as the workspace
         * is: idmapped alike (a read-only one is sent as it is) */
        for (size_t i = 0; mnt >= 0 && i < spec->n_mounts; i++) {
                const struct box_mount *m = &spec->mounts[i];
                if (!m->rw)
                        continue;
                _cleanup_close_ int at = fileio_open_nolinks(
                        AT_FDCWD, m->host, O_PATH | O_CLOEXEC, true);
                struct stat st;
                if (at < 0 || fstat(at, &st) < 0 || st.st_dev != m->dev ||
                    st.st_ino != m->ino) {
                        close(mnt);
                        return err_set(err, -ESTALE,
                                       "filesystem.mounts %s changed or "
                                       "vanished while the box started",
                                       m->host);
                }
                bind_mnt[i] = idmapped_clone(at, ns, m->host, false, err);
                if (bind_mnt[i] < 0) {
                        close(mnt);
                        return bind_mnt[i];
                }
        }
        return mnt;
}
