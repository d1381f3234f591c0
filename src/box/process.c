/* The process tier, host side: clone3 into fresh namespaces, write the id
 * maps, put the child under the pids cap, then let it go. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/util.h"
#include "internal.h"

static const struct box_driver process_driver;

struct process_box {
        struct box pub;
        struct box_cgroups cg;
        uint64_t memory; /* the cap the memory cgroup holds */
        pid_t helper; /* idmap's killed helper, reaped at the end */
        int mnt;      /* the prepared workspace mount until start() */
        int mnt2;     /* and the linked worktree's repository's */
        int bind[BOX_MOUNTS_MAX]; /* and read-write filesystem.mounts' */
        int life_fd; /* our end of the sync socket, held while the box runs */
        bool pty;    /* the box makes a terminal of its own ("T") */
};

static int write_id_map(pid_t pid, const char *file, unsigned inside,
                        unsigned outside)
{
        char path[64], line[64];
        snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, file);
        snprintf(line, sizeof(line), "%u %u 1\n", inside, outside);
        return fileio_write_str(path, line);
}

static int setup_ids(pid_t pid, const struct box_identity *id,
                     struct ab_err *err)
{
        char path[64];
        int r;
        /* An unprivileged user may map its gid only after giving up
         * setgroups(); root keeps it so the child can drop root's groups. */
        if (!id->invoker_root) {
                snprintf(path, sizeof(path), "/proc/%ld/setgroups", (long)pid);
                r = fileio_write_str(path, "deny");
                if (r < 0)
                        return err_setx(err, r, "cannot write %s", path);
        }
        r = write_id_map(pid, "uid_map", BOX_UID, id->uid);
        if (r < 0)
                return err_setx(err, r, "cannot map uid %u into the box",
                                (unsigned)id->uid);
        r = write_id_map(pid, "gid_map", BOX_GID, id->gid);
        if (r < 0)
                return err_setx(err, r, "cannot map gid %u into the box",
                                (unsigned)id->gid);
        return 0;
}

static int clone_box(int *pidfd, struct ab_err *err)
{
        struct clone_args args = {
                /* the network and IPC namespaces: made by the box while
                 * it builds its root (child.c, start_ns) */
                .flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID |
                         CLONE_NEWUTS | CLONE_PIDFD,
                .pidfd = (uint64_t)(uintptr_t)pidfd,
                .exit_signal = SIGCHLD,
        };
        long pid = syscall(SYS_clone3, &args, sizeof(args));
        if (pid < 0) {
                int e = errno;
                if (e == EPERM || e == ENOSPC || e == EINVAL)
                        return err_setx(
                                err, -e,
                                "cannot create the box's namespaces (clone3 "
                                "with new user, mount, pid and uts "
                                "namespaces); this host may forbid "
                                "unprivileged user namespaces (check sysctl "
                                "kernel.unprivileged_userns_clone, "
                                "user.max_user_namespaces and AppArmor's "
                                "restrict_unprivileged_userns)");
                return err_setx(err, -e, "cannot create the box (clone3)");
        }
        return (int)pid;
}

#define UNPRIV_ID 65534 /* nobody / nogroup */

static void kill_box(struct process_box *b, pid_t pid, int pidfd)
{
        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        waitpid(pid, NULL, 0);
        if (b->helper > 0)
                waitpid(b->helper, NULL, 0);
        if (b->mnt >= 0)
                close(b->mnt);
        for (size_t i = 0; i < BOX_MOUNTS_MAX; i++)
                if (b->bind[i] >= 0)
                        close(b->bind[i]);
        box_cgroups_remove(&b->cg);
        close(pidfd);
}

/* After "G": the idmapped workspace, which the box needs to build its
 * root; sent as "C" as soon as it is ready. */
static int prepare_workspace(struct process_box *b,
                             const struct box_spec *spec, uid_t owner,
                             gid_t group, struct ab_err *err)
{
        if (!spec->id.idmapped)
                return 0;
        struct ab_err why = {0};
        b->mnt = box_idmap_prepare(spec, owner, group, &b->helper, &b->mnt2,
                                   b->bind, &why);
        if (b->mnt < 0)
                return err_set(err, why.code,
                               "%s; the workspace is owned by root, and "
                               "without an idmapped mount the agent would be "
                               "host root by ownership. Run agentbox as the "
                               "user who should own the agent's files, or "
                               "chown the workspace to that user",
                               why.msg);
        return 0;
}

/* Under root, each filesystem.mounts as a detached mount ("M"): the box's
 * own ids may not be able to read its source (a path in root's home). The
 * object checked on the host side, or the box does not start. */
static int send_bind(int sock, const struct box_mount *m, int *made,
                     struct ab_err *err)
{
        if (*made >= 0) { /* idmapped already (box_idmap_prepare) */
                int r = box_sync_send(sock, 'M', *made);
                close(*made);
                *made = -1;
                return r < 0 ? err_setx(err, r, "cannot start the box") : 0;
        }
        _cleanup_close_ int fd = box_bind_clone(m);
        if (fd == -ESTALE)
                return err_set(err, -ESTALE,
                               "filesystem.mounts %s changed or vanished "
                               "while the box started",
                               m->host);
        if (fd < 0)
                return err_setx(err, fd, "cannot bind %s into the box",
                                m->host);
        if (box_sync_send(sock, 'M', fd) < 0)
                return err_setx(err, -errno, "cannot start the box");
        return 0;
}

/* Then the box's cgroups, while it builds its root: it waits for them (in
 * "P", the go) before it forks anything.  A pids cgroup that cannot be had
 * leaves RLIMIT_NPROC; a memory or cpu cgroup that the probe promised and
 * that cannot be had fails the start (the box would hold less than it was
 * told). */
static int join_cgroups(struct process_box *b, const struct box_spec *spec,
                        struct ab_err *err)
{
        const struct policy *p = spec->policy;
        struct box_cgroup_caps caps = {
                .pids = p->pids_max,
                .memory = spec->mem.by_cgroup ? spec->mem.max : UINT64_MAX,
                .cpus_milli = p->cpus_milli,
        };
        b->memory = caps.memory;
        int failed = -1;
        int r = box_cgroups_create(&b->cg, b->pub.pid, &caps, &failed);
        const struct box_cgroup *pc = &b->cg.v[BOX_CG_PIDS];
        if (pc->err && p->verbose)
                fprintf(stderr,
                        "agentbox: no pids cgroup (%s: %s); the process cap "
                        "is RLIMIT_NPROC in the box's user namespace\n",
                        pc->path, strerror(-pc->err));
        if (r == 0)
                return 0;
        const struct box_cgroup *c = &b->cg.v[failed];
        if (failed == BOX_CG_MEMORY)
                return err_setx(err, r,
                                "cannot make the box's memory cgroup %s "
                                "(--memory unlimited runs it without a "
                                "memory cap)",
                                c->path);
        return err_setx(err, r,
                        "cannot make the box's cpu cgroup %s (without "
                        "--cpus it needs none)",
                        c->path);
}

static int process_start(struct box *pub, const struct box_protect *prot,
                         struct ab_err *err)
{
        struct process_box *b = (struct process_box *)pub;
        if (b->pty) {
                /* the box's own terminal, made from its devpts once its
                 * root was built; a pty master or nothing */
                char tag = 0;
                int fd = -1, n = 0;
                int r = box_sync_recv(b->life_fd, &tag, &fd);
                if (r < 0 || tag != 'T' || fd < 0 ||
                    ioctl(fd, TIOCGPTN, &n) < 0) {
                        if (fd >= 0)
                                close(fd);
                        return err_setx(err, r < 0 ? r : -EPROTO,
                                        "the box's terminal did not come");
                }
                pub->pty_master = fd;
        }
        int r = box_sync_send_data(b->life_fd, 'P',
                                   prot && prot->plan ? prot->plan : "",
                                   prot ? prot->plan_len : 0);
        if (r == -E2BIG)
                return err_set(err, r,
                               "too many protected paths for one box; "
                               "--unprotect some");
        return r < 0 ? err_setx(err, r, "cannot start the box") : 0;
}

static void format_size(uint64_t v, char *buf, size_t size)
{
        if (v >= (1ull << 30))
                snprintf(buf, size, "%.1f GiB", (double)v / (1ull << 30));
        else
                snprintf(buf, size, "%llu MiB",
                         (unsigned long long)(v >> 20));
}

/* A description, cut where it does not fit (it is only shown). */
__attribute__((format(printf, 3, 4))) static void
describe(char *buf, size_t size, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, size, fmt, ap);
        va_end(ap);
}

static void describe_memory(const struct box_spec *spec,
                            const struct box_cgroups *cg, char *buf,
                            size_t size)
{
        const struct box_memory *m = &spec->mem;
        char max[32], tmp[32], shm[32];
        format_size(m->tmp_size, tmp, sizeof(tmp));
        format_size(m->shm_size, shm, sizeof(shm));
        if (m->max == UINT64_MAX) {
                describe(buf, size,
                         "no memory cap (--memory unlimited); /tmp, /var/tmp "
                         "and home %s each, /dev/shm %s",
                         tmp, shm);
                return;
        }
        format_size(m->max, max, sizeof(max));
        const struct box_cgroup *c = &cg->v[BOX_CG_MEMORY];
        if (m->by_cgroup)
                describe(buf, size,
                         "memory cap %s on all the box holds by %s (%s%s); "
                         "/tmp, /var/tmp and home %s each, /dev/shm %s",
                         max, c->joined ? c->path : c->parent,
                         c->v2 ? "memory.max, no swap"
                               : "memory.limit_in_bytes",
                         !c->v2 && c->memsw ? " and memsw" : "", tmp, shm);
        else
                describe(buf, size,
                         "memory cap %s per process and per file only "
                         "(RLIMIT_DATA, RLIMIT_FSIZE; no memory cgroup "
                         "here); /tmp, /var/tmp and home %s "
                         "each, /dev/shm %s, so that together they stay "
                         "below it",
                         max, tmp, shm);
}

/* The caps that hold less than asked, said once at the start: a memory
 * cap without a memory cgroup holds per process and per tmpfs only (said
 * when asked for, with --verbose, or to a person at a terminal), and
 * --cpus without a cpu cgroup holds nothing (always said). */
static void say_weaker_caps(const struct box_spec *spec,
                            const struct box_cgroups *cg)
{
        const struct policy *p = spec->policy;
        const char *why = geteuid() == 0
                                  ? "this host has no cgroup controller for "
                                    "it that agentbox can use"
                                  : "cgroup v1 needs root, and no cgroup v2 "
                                    "with it is delegated to you";
        if (!spec->mem.by_cgroup && spec->mem.max != UINT64_MAX &&
            (p->memory_given || p->verbose || isatty(STDERR_FILENO))) {
                char max[32];
                format_size(spec->mem.max, max, sizeof(max));
                fprintf(stderr,
                        "agentbox: memory: no memory cgroup (%s), so the "
                        "%s cap holds for each process's own data, each file "
                        "and the box's tmpfs, not for shared memory or the "
                        "box as a whole; see agentbox(1), Resources\n",
                        why, max);
        }
        if (p->cpus_milli && !cg->v[BOX_CG_CPU].parent[0])
                fprintf(stderr,
                        "agentbox: %s: no cpu cgroup (%s), so the box's "
                        "CPU time is not capped\n",
                        p->src[POLICY_K_CPUS].layer == POLICY_LAYER_FLAGS
                                ? "--cpus"
                                : "resources.cpus",
                        why);
}

/* An administrator's cap (the managed policy's) is a ceiling: a box it
 * cannot hold in whole does not start. */
static int managed_caps_held(const struct box_spec *spec,
                             const struct box_cgroups *cg, struct ab_err *err)
{
        const struct policy *p = spec->policy;
        const char *file = p->layer_file[POLICY_LAYER_MANAGED];
        const struct policy_src *m = &p->src[POLICY_K_MEMORY];
        const struct policy_src *c = &p->src[POLICY_K_CPUS];
        if (m->layer == POLICY_LAYER_MANAGED && !spec->mem.by_cgroup &&
            spec->mem.max != UINT64_MAX)
                return err_set(err, -EPERM,
                               "resources.memory (managed %s:%u:%u): this "
                               "host gives agentbox no memory cgroup, so the "
                               "administrator's cap would hold for each "
                               "process alone; the box does not start (a "
                               "cgroup v2 subtree with the memory controller "
                               "delegated to you makes it hold)",
                               file ? file : "?", m->line, m->col);
        if (c->layer == POLICY_LAYER_MANAGED && p->cpus_milli &&
            !cg->v[BOX_CG_CPU].parent[0])
                return err_set(err, -EPERM,
                               "resources.cpus (managed %s:%u:%u): this host "
                               "gives agentbox no cpu cgroup, so the "
                               "administrator's cap cannot be held; the box "
                               "does not start (a cgroup v2 subtree with the "
                               "cpu controller delegated to you makes it "
                               "hold)",
                               file ? file : "?", c->line, c->col);
        return 0;
}

static int process_spawn(const struct box_spec *given, struct box **out,
                         struct ab_err *err)
{
        struct box_spec copy = *given, *spec = &copy;
        /* Under root, never let the agent be host root by ownership: it
         * becomes nobody, and the workspace an idmapped mount. */
        uid_t owner = spec->id.uid;
        gid_t group = spec->id.gid;
        if (spec->id.invoker_root && (owner == 0 || group == 0)) {
                spec->id.uid = owner ? owner : UNPRIV_ID;
                spec->id.gid = group ? group : UNPRIV_ID;
                spec->id.idmapped = true;
        }
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return err_setx(err, -errno, "socketpair");
        _cleanup_close_ int mine = sv[0], theirs = sv[1];
        _cleanup_free_ struct process_box *b = calloc(1, sizeof(*b));
        if (!b)
                return err_set(err, -ENOMEM, "out of memory");
        b->mnt = b->mnt2 = -1;
        for (size_t i = 0; i < BOX_MOUNTS_MAX; i++)
                b->bind[i] = -1;
        b->pub.pty_master = -1;
        b->pub.quiet_fd = -1;
        b->pty = spec->pty;
        /* what holds the memory budget decides the box's tmpfs sizes and
         * rlimits: known before it is made */
        box_cgroups_probe(&b->cg);
        box_memory_plan(spec->policy->memory_max, spec->policy->tmp_max, &b->cg,
                        &spec->mem);
        if (!spec->mem.by_cgroup && spec->mem.max != UINT64_MAX)
                spec->limits.data = spec->mem.max;
        int held = managed_caps_held(spec, &b->cg, err);
        if (held < 0)
                return held;
        say_weaker_caps(spec, &b->cg);
        int pidfd = -1;
        fflush(NULL);
        int pid = clone_box(&pidfd, err);
        if (pid < 0)
                return pid;
        if (pid == 0) {
                closep(&mine);
                box_child_main(spec, theirs);
        }
        closep(&theirs);
        b->pub.pid = pid;
        int r = setup_ids(pid, &spec->id, err);
        if (r == 0 && box_sync_send(mine, 'G', -1) < 0)
                r = err_setx(err, -errno, "cannot start the box");
        if (r == 0)
                r = prepare_workspace(b, spec, owner, group, err);
        /* The box may go on building its root with what it needs from us
         * (the idmapped workspace); it waits for its cgroups and the
         * protected paths, our go, only at the very end. */
        if (r == 0 && box_sync_send(mine, 'C', b->mnt) < 0)
                r = err_setx(err, -errno, "cannot start the box");
        if (r == 0 && b->mnt2 >= 0 && box_sync_send(mine, 'D', b->mnt2) < 0)
                r = err_setx(err, -errno, "cannot start the box");
        for (size_t i = 0; r == 0 && spec->id.invoker_root &&
                           i < spec->n_mounts;
             i++)
                r = send_bind(mine, &spec->mounts[i], &b->bind[i], err);
        if (b->mnt >= 0) {
                close(b->mnt);
                b->mnt = -1;
        }
        if (b->mnt2 >= 0) {
                close(b->mnt2);
                b->mnt2 = -1;
        }
        if (r == 0)
                r = join_cgroups(b, spec, err);
        if (r == 0 && box_cgroups_send(&b->cg, mine) < 0)
                r = err_setx(err, -errno, "cannot start the box");
        if (r < 0) {
                kill_box(b, pid, pidfd);
                return r;
        }
        b->pub.driver = &process_driver;
        b->life_fd = steal_fd(&mine);
        b->pub.quiet_fd = b->life_fd;
        b->pub.pidfd = pidfd;
        char ids[96] = "";
        if (spec->id.idmapped)
                snprintf(ids, sizeof(ids),
                         "; agent is host uid %u gid %u, workspace idmapped",
                         (unsigned)spec->id.uid, (unsigned)spec->id.gid);
        char mem[1024], cpu[64] = "";
        describe_memory(spec, &b->cg, mem, sizeof(mem));
        if (spec->policy->cpus_milli)
                snprintf(cpu, sizeof(cpu), "; cpu cap %u.%03u CPUs by %s",
                         spec->policy->cpus_milli / 1000,
                         spec->policy->cpus_milli % 1000,
                         b->cg.v[BOX_CG_CPU].joined ? "cpu.max / cfs quota"
                                                    : "nothing (no cgroup)");
        const struct box_cgroup *pc = &b->cg.v[BOX_CG_PIDS];
        if (asprintf(&b->pub.note, "process tier; pids cap %u by %s; %s%s%s",
                     spec->policy->pids_max,
                     pc->joined ? pc->path
                                : "RLIMIT_NPROC in the box's user namespace",
                     mem, cpu, ids) < 0)
                b->pub.note = NULL;
        *out = &((struct process_box *)steal_ptr(&b))->pub;
        return 0;
}

static int process_signal(struct box *b, int sig)
{
        if (syscall(SYS_pidfd_send_signal, b->pidfd, sig, NULL, 0) < 0)
                return -errno;
        return 0;
}

static int process_reap(struct box *b, struct ab_err *err)
{
        siginfo_t si = {0};
        if (waitid(P_PIDFD, (id_t)b->pidfd, &si, WEXITED) < 0)
                return err_setx(err, -errno, "waiting for the box");
        if (si.si_code == CLD_EXITED)
                return si.si_status;
        return 128 + si.si_status;
}

/* init says it is done ("X" and the status) only after it killed and
 * reaped everything else; it alone holds the socket, and we check: it
 * must have no child left (every process of the box but init descends
 * from it, orphans reparented to it).  Not yet reaped, its pid is its. */
static bool process_quiet(struct box *pub)
{
        struct process_box *b = (struct process_box *)pub;
        char msg[8];
        ssize_t n = recv(b->life_fd, msg, sizeof(msg), MSG_DONTWAIT);
        if (n != 2 || msg[0] != 'X')
                return false;
        char path[64], kids[16];
        snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
                 (int)pub->pid, (int)pub->pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        return fd >= 0 && read(fd, kids, sizeof(kids)) == 0;
}

static void process_destroy(struct box *pub)
{
        struct process_box *b = (struct process_box *)pub;
        if (!b)
                return;
        uint64_t oom = box_cgroups_oom_kills(&b->cg);
        if (oom) {
                char max[32];
                format_size(b->memory, max, sizeof(max));
                fprintf(stderr,
                        "agentbox: the box reached its memory cap of %s: "
                        "the kernel ended %llu of its processes (--memory "
                        "raises the cap)\n",
                        max, (unsigned long long)oom);
        }
        box_cgroups_remove(&b->cg);
        if (pub->pidfd >= 0)
                close(pub->pidfd);
        if (pub->pty_master >= 0)
                close(pub->pty_master);
        if (b->life_fd >= 0)
                close(b->life_fd);
        if (b->helper > 0)
                waitpid(b->helper, NULL, 0);
        if (b->mnt >= 0)
                close(b->mnt);
        free(pub->note);
        free(b);
}

static const struct box_driver process_driver = {
        .name = "process",
        .spawn = process_spawn,
        .start = process_start,
        .signal = process_signal,
        .quiet = process_quiet,
        .reap = process_reap,
        .destroy = process_destroy,
};

const struct box_driver *box_driver_for(enum policy_isolation iso)
{
        switch (iso) {
        case POLICY_ISOLATION_PROCESS:
                return &process_driver;
        }
        return NULL;
}
