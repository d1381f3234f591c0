#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/util.h"
#include "internal.h"

/* cgroup v1 pids controller first (this is what root can use on hosts that
 * still mount v1), then a v2 hierarchy with pids enabled at its root. */
static const char *const roots[] = {
        "/sys/fs/cgroup/pids",
        "/sys/fs/cgroup",
};

/* Is pid gone, or a zombie nobody reaped yet (a box whose supervisor was
 * killed dies with it, and init reaps it when it gets to it)? */
static bool dead(long pid)
{
        char path[64], buf[512];
        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return errno == ENOENT || errno == ESRCH || fd < 0;
        buf[n] = 0;
        const char *paren = strrchr(buf, ')');
        return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

/* The cgroups of supervisors that died without removing theirs (kill -9;
 * their boxes died with them, the cgroup is named after the box's init):
 * removed by the next start.  rmdir refuses a cgroup with processes in
 * it, and one just made, not yet joined, has a live init. */
static void sweep_stale(const char *root)
{
        DIR *d = opendir(root);
        if (!d)
                return;
        for (struct dirent *e; (e = readdir(d));) {
                char *end;
                if (strncmp(e->d_name, "agentbox-", 9) != 0)
                        continue;
                long pid = strtol(e->d_name + 9, &end, 10);
                if (*end || pid <= 0 || !dead(pid))
                        continue;
                char path[512];
                snprintf(path, sizeof(path), "%s/%s", root, e->d_name);
                (void)rmdir(path);
        }
        closedir(d);
}

static int try_root(const char *root, pid_t pid, unsigned max, char **out)
{
        char path[256], file[300], val[32];
        snprintf(path, sizeof(path), "%s/agentbox-%ld", root, (long)pid);
        if (mkdir(path, 0755) < 0)
                return -errno;
        snprintf(file, sizeof(file), "%s/pids.max", path);
        snprintf(val, sizeof(val), "%u", max);
        int r = fileio_write_str(file, val);
        if (r == 0) {
                snprintf(file, sizeof(file), "%s/cgroup.procs", path);
                snprintf(val, sizeof(val), "%ld", (long)pid);
                r = fileio_write_str(file, val);
        }
        if (r < 0) {
                rmdir(path);
                return r;
        }
        *out = strdup(path);
        if (!*out) {
                box_pids_cgroup_remove(path);
                return -ENOMEM;
        }
        return 0;
}

int box_pids_cgroup_create(pid_t pid, unsigned max, char **path)
{
        int r = -ENOENT;
        for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
                char probe[300];
                snprintf(probe, sizeof(probe), "%s/cgroup.procs", roots[i]);
                if (access(probe, W_OK) < 0)
                        continue;
                sweep_stale(roots[i]);
                r = try_root(roots[i], pid, max, path);
                if (r == 0)
                        return 0;
        }
        return r;
}

void box_pids_cgroup_remove(const char *path)
{
        /* The pid namespace is gone once init is reaped, but the cgroup may
         * lag a moment behind; retry briefly. */
        for (int i = 0; i < 50; i++) {
                if (rmdir(path) == 0 || errno != EBUSY)
                        return;
                nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
        }
}
