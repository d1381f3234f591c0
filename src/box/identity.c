#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "box.h"

int box_identity_resolve(const char *workspace, struct box_identity *out,
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
        struct stat st;
        if (stat(workspace, &st) < 0)
                return err_setx(err, -errno, "workspace %s", workspace);
        *out = (struct box_identity){
                .uid = st.st_uid,
                .gid = st.st_gid,
                .invoker_root = true,
        };
        return 0;
}
