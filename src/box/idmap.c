/* Root invoking on a root-owned workspace: rather than let the agent be
 * host root (owner of every root file the box can see), run it as an
 * unprivileged host id and give it the workspace through an idmapped mount
 * on which that id owns what root owns.  Needs real root and a filesystem
 * that supports idmapped mounts; the caller falls back when it fails. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/util.h"
#include "internal.h"

#define UNPRIV_ID 65534 /* nobody / nogroup */

/* A throwaway user namespace mapping uid/gid in → out, as an fd. */
static int userns_fd(uid_t uin, uid_t uout, gid_t gin, gid_t gout)
{
        int ready[2];
        if (pipe2(ready, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(ready[0]);
                close(ready[1]);
                return -e;
        }
        if (pid == 0) {
                close(ready[0]);
                char c = unshare(CLONE_NEWUSER) == 0 ? 'U' : 'E';
                (void)!write(ready[1], &c, 1);
                pause();
                _exit(0);
        }
        close(ready[1]);
        char c = 0, path[64], line[64];
        int r = read(ready[0], &c, 1) == 1 && c == 'U' ? 0 : -EPERM;
        close(ready[0]);
        if (r == 0) {
                snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
                snprintf(line, sizeof(line), "%u %u 1\n", uin, uout);
                r = fileio_write_str(path, line);
        }
        if (r == 0) {
                snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
                snprintf(line, sizeof(line), "%u %u 1\n", gin, gout);
                r = fileio_write_str(path, line);
        }
        if (r == 0) {
                snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
                r = open(path, O_RDONLY | O_CLOEXEC);
                if (r < 0)
                        r = -errno;
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return r;
}

int box_idmap_workspace(struct box_spec *spec, struct ab_err *err)
{
        uid_t owner = spec->id.uid, host = owner ? owner : UNPRIV_ID;
        gid_t group = spec->id.gid, hostg = group ? group : UNPRIV_ID;
        _cleanup_close_ int ns = userns_fd(owner, host, group, hostg);
        if (ns < 0)
                return err_setx(err, ns, "idmap: user namespace");
        _cleanup_close_ int dir = box_workspace_open(spec);
        if (dir < 0)
                return err_setx(err, dir, "workspace %s changed or vanished",
                                spec->policy->workspace);
        _cleanup_close_ int mnt =
                open_tree(dir, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                                           AT_RECURSIVE | AT_EMPTY_PATH);
        if (mnt < 0)
                return err_setx(err, -errno, "idmap: open_tree %s",
                                spec->policy->workspace);
        struct mount_attr a = {
                .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID |
                            MOUNT_ATTR_NODEV,
                .userns_fd = (uint64_t)ns,
        };
        if (mount_setattr(mnt, "", AT_EMPTY_PATH | AT_RECURSIVE, &a,
                          sizeof(a)) < 0)
                return err_setx(err, -errno,
                                "idmap: %s does not support idmapped mounts",
                                spec->policy->workspace);
        spec->workspace_fd = steal_fd(&mnt);
        spec->id.uid = host;
        spec->id.gid = hostg;
        spec->id.idmapped = true;
        return 0;
}
