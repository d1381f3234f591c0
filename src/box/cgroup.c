/* The box's cgroups: its process cap (pids), its memory cap (memory) and
 * its CPU cap (cpu), each where one can be had.  cgroup v1, which root can
 * use where a host still mounts it, or a cgroup v2 hierarchy whose cgroup
 * of ours has the controller enabled for its children (root's, or one
 * delegated to the invoker, e.g. by a systemd user manager).
 *
 * A box's cgroup is made below the invoker's own one in each hierarchy,
 * never at a root: whatever caps the invoker caps the box too.  It is
 * named after the box's init ("agentbox-PID"), so a cgroup of a supervisor
 * that was killed is known as stale by the next start (its init is dead)
 * and removed then.  The box later sees it as "/" (a cgroup namespace made
 * after it joined), never its host name.
 *
 * A v1 cgroup is joined by the box's setup process itself, writing "0"
 * (itself) to the cgroup's "tasks" that we opened: moving another process
 * (its pid into cgroup.procs) write-locks cgroup_threadgroup_rwsem, whose
 * first writer after a quiet spell waits for an RCU grace period (5-8 ms
 * on this kernel, every cold start and some warm ones); a thread that
 * moves only itself takes no such lock.  The setup process has one
 * thread and has forked nothing yet, so all the box's processes start in
 * the cgroup.  v2 has no such file for a domain cgroup: there we move it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/util.h"
#include "internal.h"
#include "policy/policy.h"

static const char *const ctrl_name[BOX_CG_N] = {"pids", "memory", "cpu"};

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
 * their boxes died with them): removed by the next start.  rmdir refuses
 * a cgroup with processes in it, and one just made, not yet joined, has a
 * live init. */
static void sweep_stale(const char *dir)
{
        DIR *d = opendir(dir);
        if (!d)
                return;
        for (struct dirent *e; (e = readdir(d));) {
                char *end;
                if (strncmp(e->d_name, "agentbox-", 9) != 0)
                        continue;
                long pid = strtol(e->d_name + 9, &end, 10);
                if (*end || pid <= 0 || !dead(pid))
                        continue;
                char path[BOX_CG_PATH_MAX + 64];
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                (void)rmdir(path);
        }
        closedir(d);
}

/* Does the comma-separated list hold name? */
static bool in_list(const char *list, size_t len, const char *name)
{
        size_t n = strlen(name);
        for (const char *p = list, *end = list + len; p < end;) {
                const char *c = memchr(p, ',', (size_t)(end - p));
                size_t l = c ? (size_t)(c - p) : (size_t)(end - p);
                if (l == n && memcmp(p, name, n) == 0)
                        return true;
                p += l + 1;
        }
        return false;
}

/* Does a cgroup v2 directory enable name for its children? */
static bool v2_enables(const char *dir, const char *name)
{
        char file[BOX_CG_PATH_MAX + 32], buf[256];
        snprintf(file, sizeof(file), "%s/cgroup.subtree_control", dir);
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return false;
        buf[n] = 0;
        for (char *save = NULL, *w = strtok_r(buf, " \n", &save); w;
             w = strtok_r(NULL, " \n", &save))
                if (strcmp(w, name) == 0)
                        return true;
        return false;
}

void box_cgroups_probe(struct box_cgroups *cg)
{
        *cg = (struct box_cgroups){0};
        for (int i = 0; i < BOX_CG_N; i++)
                cg->v[i].tasks = -1;
        char buf[4096];
        _cleanup_close_ int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return;
        buf[n] = 0;
        const char *v2 = NULL;
        size_t v2_len = 0;
        for (char *line = buf, *nl; *line; line = nl + 1) {
                nl = strchr(line, '\n');
                if (!nl)
                        nl = line + strlen(line);
                /* ID:CONTROLLERS:PATH */
                char *c1 = memchr(line, ':', (size_t)(nl - line));
                char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(nl - c1 - 1))
                              : NULL;
                if (c2) {
                        const char *ctrls = c1 + 1, *path = c2 + 1;
                        size_t clen = (size_t)(c2 - ctrls);
                        size_t plen = (size_t)(nl - path);
                        if (plen == 1 && path[0] == '/')
                                plen = 0; /* the root: no double slash */
                        if (clen == 0) {
                                v2 = path;
                                v2_len = plen;
                        }
                        for (int i = 0; clen && i < BOX_CG_N; i++) {
                                if (cg->v[i].parent[0] ||
                                    !in_list(ctrls, clen, ctrl_name[i]))
                                        continue;
                                char dir[BOX_CG_PATH_MAX];
                                int w = snprintf(dir, sizeof(dir),
                                                 "/sys/fs/cgroup/%s%.*s",
                                                 ctrl_name[i], (int)plen,
                                                 path);
                                if (w > 0 && (size_t)w < sizeof(dir) &&
                                    access(dir, W_OK) == 0)
                                        memcpy(cg->v[i].parent, dir,
                                               (size_t)w + 1);
                        }
                }
                if (!*nl)
                        break;
        }
        /* cgroup v2, mounted at /sys/fs/cgroup (unified) */
        if (!v2 || access("/sys/fs/cgroup/cgroup.controllers", F_OK) < 0)
                return;
        char dir[BOX_CG_PATH_MAX];
        int w = snprintf(dir, sizeof(dir), "/sys/fs/cgroup%.*s", (int)v2_len,
                         v2);
        if (w <= 0 || (size_t)w >= sizeof(dir) || access(dir, W_OK) < 0)
                return;
        for (int i = 0; i < BOX_CG_N; i++)
                if (!cg->v[i].parent[0] && v2_enables(dir, ctrl_name[i])) {
                        memcpy(cg->v[i].parent, dir, (size_t)w + 1);
                        cg->v[i].v2 = true;
                }
}

static int write_at(const char *dir, const char *file, const char *val)
{
        char path[BOX_CG_PATH_MAX + 128];
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        return fileio_write_str(path, val);
}

static int set_limits(struct box_cgroup *c, int which,
                      const struct box_cgroup_caps *caps)
{
        char val[64];
        int r = 0;
        switch (which) {
        case BOX_CG_PIDS:
                snprintf(val, sizeof(val), "%u", caps->pids);
                return write_at(c->path, "pids.max", val);
        case BOX_CG_MEMORY:
                snprintf(val, sizeof(val), "%" PRIu64, caps->memory);
                if (c->v2) {
                        r = write_at(c->path, "memory.max", val);
                        /* no swap: the cap is on memory, not on memory
                         * and the host's swap besides */
                        if (r == 0)
                                (void)write_at(c->path, "memory.swap.max",
                                               "0");
                        return r;
                }
                r = write_at(c->path, "memory.limit_in_bytes", val);
                /* with swap accounting on: memory and swap together */
                if (r == 0 &&
                    write_at(c->path, "memory.memsw.limit_in_bytes", val) ==
                            0)
                        c->memsw = true;
                /* v1 charges TCP buffers to a cgroup only once it has a
                 * limit of their own (v2 always does) */
                if (r == 0) {
                        int t = write_at(c->path,
                                         "memory.kmem.tcp.limit_in_bytes",
                                         val);
                        r = t == -ENOENT ? 0 : t; /* a kernel without it */
                }
                return r;
        case BOX_CG_CPU:
                if (c->v2) {
                        snprintf(val, sizeof(val), "%u 100000",
                                 caps->cpus_milli * 100);
                        return write_at(c->path, "cpu.max", val);
                }
                /* the period stays the kernel's default, 100 ms */
                r = write_at(c->path, "cpu.cfs_period_us", "100000");
                snprintf(val, sizeof(val), "%u", caps->cpus_milli * 100);
                return r < 0 ? r : write_at(c->path, "cpu.cfs_quota_us", val);
        }
        return -EINVAL;
}

static int open_tasks(struct box_cgroup *c)
{
        char path[BOX_CG_PATH_MAX + 64];
        snprintf(path, sizeof(path), "%s/tasks", c->path);
        c->tasks = open(path, O_WRONLY | O_CLOEXEC);
        return c->tasks < 0 ? -errno : 0;
}

int box_cgroups_send(struct box_cgroups *cg, int sync_fd)
{
        for (int i = 0; i < BOX_CG_N; i++) {
                struct box_cgroup *c = &cg->v[i];
                if (c->tasks < 0)
                        continue;
                int r = box_sync_send(sync_fd, 'K', c->tasks);
                close(c->tasks);
                c->tasks = -1;
                if (r < 0)
                        return r;
        }
        return box_sync_send(sync_fd, 'E', -1);
}

void box_cgroups_join(int sync_fd)
{
        for (;;) {
                char tag = 0;
                int fd = -1;
                if (box_sync_recv(sync_fd, &tag, &fd) < 0 ||
                    (tag == 'K') != (fd >= 0) || (tag != 'K' && tag != 'E'))
                        _exit(EXIT_AGENTBOX); /* the supervisor says why */
                if (tag == 'E')
                        return;
                ssize_t n = write(fd, "0", 1);
                if (n != 1)
                        box_die_errno(n < 0 ? errno : EIO,
                                      "cannot join the box's cgroup");
                close(fd);
        }
}

int box_cgroups_create(struct box_cgroups *cg, pid_t pid,
                       const struct box_cgroup_caps *caps, int *failed)
{
        char pidstr[24];
        snprintf(pidstr, sizeof(pidstr), "%ld", (long)pid);
        for (int i = 0; i < BOX_CG_N; i++) {
                struct box_cgroup *c = &cg->v[i];
                if (!c->parent[0] || (i == BOX_CG_MEMORY &&
                                      caps->memory == UINT64_MAX) ||
                    (i == BOX_CG_CPU && caps->cpus_milli == 0))
                        continue;
                sweep_stale(c->parent);
                snprintf(c->path, sizeof(c->path), "%s/agentbox-%ld",
                         c->parent, (long)pid);
                int r = mkdir(c->path, 0755) < 0 ? -errno : 0;
                if (r == 0) {
                        c->made = true;
                        r = set_limits(c, i, caps);
                }
                if (r == 0 && c->v2)
                        r = write_at(c->path, "cgroup.procs", pidstr);
                else if (r == 0)
                        r = open_tasks(c);
                if (r < 0 && i == BOX_CG_PIDS) {
                        /* RLIMIT_NPROC still caps the box's processes:
                         * go on without it */
                        if (c->made)
                                (void)rmdir(c->path);
                        c->made = false;
                        c->err = r;
                        continue;
                }
                if (r < 0) {
                        *failed = i;
                        return r;
                }
                c->joined = true;
        }
        return 0;
}

uint64_t box_cgroups_oom_kills(const struct box_cgroups *cg)
{
        const struct box_cgroup *c = &cg->v[BOX_CG_MEMORY];
        if (!c->joined)
                return 0;
        char path[BOX_CG_PATH_MAX + 128], buf[512];
        snprintf(path, sizeof(path), "%s/%s", c->path,
                 c->v2 ? "memory.events" : "memory.oom_control");
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return 0;
        buf[n] = 0;
        const char *k = strstr(buf, "oom_kill ");
        return k ? strtoull(k + 9, NULL, 10) : 0;
}

void box_cgroups_remove(struct box_cgroups *cg)
{
        for (int i = 0; i < BOX_CG_N; i++) {
                struct box_cgroup *c = &cg->v[i];
                if (c->tasks >= 0)
                        close(c->tasks);
                c->tasks = -1;
                if (!c->made)
                        continue;
                /* The pid namespace is gone once init is reaped, but the
                 * cgroup may lag a moment behind; retry briefly. */
                for (int t = 0; t < 50; t++) {
                        if (rmdir(c->path) == 0 || errno != EBUSY)
                                break;
                        nanosleep(&(struct timespec){.tv_nsec = 2000000},
                                  NULL);
                }
                c->made = c->joined = false;
        }
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

static uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
        return v < lo ? lo : v > hi ? hi : v;
}

void box_memory_plan(uint64_t asked, uint64_t tmp,
                     const struct box_cgroups *cg, struct box_memory *m)
{
        uint64_t max = asked;
        if (max == 0) {
                /* the default: half the host's memory, so the host keeps
                 * the other half whatever the box does */
                struct sysinfo si;
                max = sysinfo(&si) == 0
                              ? (uint64_t)si.totalram * si.mem_unit / 2
                              : 4ull << 30;
                if (max < POLICY_MEMORY_MIN)
                        max = POLICY_MEMORY_MIN;
        }
        *m = (struct box_memory){.max = max};
        m->by_cgroup = max != UINT64_MAX && cg->v[BOX_CG_MEMORY].parent[0];
        /* the built-in caps; below a smaller budget, half of it (a cgroup
         * holds their sum; a full tmpfs says ENOSPC before the cap ends a
         * process), or without a cgroup a share of it each, so that
         * together they stay below it */
        m->tmp_size = tmp ? tmp : BOX_TMP_SIZE; /* resources.tmp */
        m->shm_size = BOX_SHM_SIZE;
        if (max != UINT64_MAX) {
                m->tmp_size = min_u64(m->tmp_size,
                                      m->by_cgroup ? max / 2 : max / 4);
                m->shm_size = min_u64(m->shm_size,
                                      m->by_cgroup ? max / 2 : max / 8);
        }
        /* an empty file costs the kernel ~1 KiB that no size counts: the
         * inodes are capped by the budget too (at most an eighth of it in
         * each tmpfs of /tmp's kind, a thirty-second in /dev/shm) */
        uint64_t budget = max == UINT64_MAX ? UINT64_MAX / 2 : max;
        m->tmp_inodes = clamp_u64(budget / 8192, 4096, BOX_TMP_INODES);
        m->shm_inodes = clamp_u64(budget / 32768, 1024, BOX_SHM_INODES);
}
