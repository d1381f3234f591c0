/* What the box may take of the per-user kernel quotas and resources that it
 * shares with the user who runs agentbox.  The kernel charges the box's
 * inotify instances and watches, fanotify groups and marks, queued
 * signals, POSIX message queues and locked memory to its user namespace
 * and to every one above it, that is to the invoking user's own quota: a
 * box left unbounded could use it all up, and the user's own programs on
 * the host would fail (inotify_init, timer_create).  So the box's user
 * namespace gets its own limits, a quarter of the invoker's, read on the
 * host before the box is made; open files are capped per process. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/util.h"
#include "internal.h"

/* The user namespace limits set in the box: sysctl, and the most it gets
 * whatever the host allows (values real agents and their tools, language
 * servers and file watchers included, stay far below). */
static const struct {
        const char *name;
        unsigned most;
} quotas[BOX_QUOTAS] = {
        {"max_inotify_instances", 128},   {"max_inotify_watches", 1u << 20},
        {"max_fanotify_groups", 128},     {"max_fanotify_marks", 1u << 20},
        /* not the max_*_namespaces: the box cannot make namespaces (no
         * capabilities, and seccomp refuses new user namespaces), and
         * each write costs 10 us of every start */
};

static const struct {
        int resource;
        const char *name;
        rlim_t most;
} rlims[BOX_RLIMITS] = {
        {RLIMIT_NOFILE, "RLIMIT_NOFILE", 8192},
        {RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING", 4096},
        {RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE", 1u << 20},
        {RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK", 8u << 20},
};

static unsigned quarter(unsigned long host, unsigned most)
{
        unsigned long q = host / 4;
        if (q < 1 && host)
                q = 1;
        return q < most ? (unsigned)q : most;
}

/* A number from a /proc file (whose size says nothing). */
static int read_ulong(const char *path, unsigned long *v)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        char buf[32];
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return -1;
        buf[n] = 0;
        char *end;
        errno = 0;
        *v = strtoul(buf, &end, 10);
        return errno || end == buf ? -1 : 0;
}

/* Open files a process may have: at most 8192, and few enough that the
 * box's pids_max processes together hold at most half of the system's
 * fs.file-max (past which the host's unprivileged programs get ENFILE);
 * at least 256, for hosts whose fs.file-max is tiny. */
static rlim_t nofile_most(unsigned pids_max)
{
        unsigned long file_max;
        if (read_ulong("/proc/sys/fs/file-max", &file_max) < 0 || !pids_max)
                return 8192;
        unsigned long share = file_max / 2 / pids_max;
        return share < 256 ? 256 : share > 8192 ? 8192 : share;
}

void box_limits_plan(struct box_limits *l, unsigned pids_max)
{
        for (size_t i = 0; i < BOX_QUOTAS; i++) {
                char path[96];
                snprintf(path, sizeof(path), "/proc/sys/user/%s",
                         quotas[i].name);
                /* unknown to this kernel, or unreadable: not set */
                unsigned long host;
                l->quota[i] = read_ulong(path, &host) == 0
                                      ? quarter(host, quotas[i].most)
                                      : UINT32_MAX;
        }
        for (size_t i = 0; i < BOX_RLIMITS; i++) {
                struct rlimit host;
                if (getrlimit(rlims[i].resource, &host) < 0)
                        host = (struct rlimit){RLIM_INFINITY, RLIM_INFINITY};
                rlim_t hard = host.rlim_max;
                /* the per-user ones are the invoker's whole quota: a
                 * quarter of it; open files are per process */
                if (rlims[i].resource != RLIMIT_NOFILE &&
                    hard != RLIM_INFINITY)
                        hard = hard / 4 ? hard / 4 : hard;
                rlim_t most = rlims[i].resource == RLIMIT_NOFILE
                                      ? nofile_most(pids_max)
                                      : rlims[i].most;
                if (hard > most)
                        hard = most;
                rlim_t soft = host.rlim_cur < hard ? host.rlim_cur : hard;
                /* open files: a program raises its soft limit to the hard
                 * one when it needs more; keep the caller's soft one */
                l->rlim[i] = (struct rlimit){soft, hard};
        }
        /* the driver's, with the memory budget */
        l->data = RLIM_INFINITY;
}

void box_limits_apply(const struct box_limits *l)
{
        _cleanup_close_ int dir =
                open("/proc/sys/user", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                box_die_errno(errno, "/proc/sys/user");
        for (size_t i = 0; i < BOX_QUOTAS; i++) {
                if (l->quota[i] == UINT32_MAX)
                        continue;
                char val[16];
                int n = snprintf(val, sizeof(val), "%u", l->quota[i]);
                _cleanup_close_ int fd =
                        openat(dir, quotas[i].name, O_WRONLY | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT)
                        continue; /* not in this kernel */
                if (fd < 0 || write(fd, val, (size_t)n) != n)
                        box_die_errno(errno, "cannot set the box's %s",
                                      quotas[i].name);
        }
        for (size_t i = 0; i < BOX_RLIMITS; i++)
                if (setrlimit(rlims[i].resource, &l->rlim[i]) < 0)
                        box_die_errno(errno, "%s", rlims[i].name);
        /* the memory budget, per process and per file (a memfd is one),
         * where no cgroup holds it all (never above a lower limit of the
         * caller's) */
        static const int per[] = {RLIMIT_FSIZE, RLIMIT_DATA};
        /* AddressSanitizer's shadow memory is data far beyond any cap: an
         * instrumented init could not even spawn the command under one,
         * so there the command gets it right after its exec
         * (box_limits_data_late) */
        size_t n = BOX_DATA_LATE ? 1 : 2;
        for (size_t i = 0; l->data != RLIM_INFINITY && i < n; i++) {
                struct rlimit r;
                if (getrlimit(per[i], &r) < 0)
                        box_die_errno(errno, "getrlimit");
                if (r.rlim_max > l->data)
                        r.rlim_max = l->data;
                if (r.rlim_cur > r.rlim_max)
                        r.rlim_cur = r.rlim_max;
                if (setrlimit(per[i], &r) < 0)
                        box_die_errno(errno, "RLIMIT_DATA/FSIZE");
        }
}

const char *box_limits_describe(const struct box_limits *l, char *buf,
                                size_t size)
{
        snprintf(buf, size,
                 "inotify %u instances and %u watches, %lu open files a "
                 "process, %lu queued signals (the box's user namespace; a "
                 "quarter of yours)",
                 l->quota[0], l->quota[1], (unsigned long)l->rlim[0].rlim_max,
                 (unsigned long)l->rlim[1].rlim_max);
        return buf;
}

void box_limits_data_late(const struct box_limits *l, pid_t pid)
{
        if (!BOX_DATA_LATE || l->data == RLIM_INFINITY)
                return;
        struct rlimit r = {l->data, l->data};
        (void)prlimit(pid, RLIMIT_DATA, &r, NULL);
}
