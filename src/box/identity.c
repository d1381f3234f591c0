#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

int box_identity_resolve(const struct stat *ws, struct box_identity *out,
                         struct ab_err *err)
{
        uid_t euid = geteuid();
        if (euid != getuid())
                return err_set(err, -EPERM,
                               "agentbox must not be installed setuid; "
                               "run it as yourself or as root");
        if (euid != 0) {
                *out = (struct box_identity){.uid = euid, .gid = getegid()};
                return 0;
        }
        /* As root, the agent owns what the workspace's owner owns, so files
         * it writes there keep their owner. */
        *out = (struct box_identity){
                .uid = ws->st_uid,
                .gid = ws->st_gid,
                .invoker_root = true,
        };
        return 0;
}

int box_dir_open(const char *path, dev_t dev, ino_t ino)
{
        int fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_dev != dev || st.st_ino != ino) {
                close(fd);
                return -ESTALE;
        }
        return fd;
}
