/* The process tier, host side: clone3 into fresh namespaces, write the id
 * maps, put the child under the pids cap, then let it go. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
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
        char *cgroup;
        pid_t helper; /* idmap's killed helper, reaped at the end */
        int mnt;      /* the prepared workspace mount until start() */
        int mnt2;     /* and the linked worktree's repository's */
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
        if (b->cgroup)
                box_pids_cgroup_remove(b->cgroup);
        free(b->cgroup);
        close(pidfd);
}

/* After "G": join the pids cap and prepare the idmapped workspace while
 * the box builds its root; start() sends them on. */
static int finish_setup(struct process_box *b, const struct box_spec *spec,
                        uid_t owner, gid_t group, struct ab_err *err)
{
        int r = box_pids_cgroup_create(b->pub.pid, spec->policy->pids_max,
                                       &b->cgroup);
        if (r < 0 && spec->id.invoker_root && spec->policy->verbose)
                fprintf(stderr,
                        "agentbox: no pids cgroup (%s); the process cap is "
                        "RLIMIT_NPROC in the box's user namespace\n",
                        strerror(-r));
        if (spec->id.idmapped) {
                struct ab_err why = {0};
                b->mnt = box_idmap_prepare(spec, owner, group, &b->helper,
                                           &b->mnt2, &why);
                if (b->mnt < 0)
                        return err_set(err, why.code,
                                       "%s; the workspace is owned by root, "
                                       "and without an idmapped mount the "
                                       "agent would be host root by "
                                       "ownership. Run agentbox as the user "
                                       "who should own the agent's files, or "
                                       "chown the workspace to that user",
                                       why.msg);
        }
        return 0;
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
        b->pub.pty_master = -1;
        b->pub.quiet_fd = -1;
        b->pty = spec->pty;
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
                r = finish_setup(b, spec, owner, group, err);
        /* The box may go on building its root with what it needs from us
         * (the cgroup joined, the idmapped workspace); it waits for the
         * protected paths, our go, only at the very end. */
        if (r == 0 && box_sync_send(mine, 'C', b->mnt) < 0)
                r = err_setx(err, -errno, "cannot start the box");
        if (r == 0 && b->mnt2 >= 0 && box_sync_send(mine, 'D', b->mnt2) < 0)
                r = err_setx(err, -errno, "cannot start the box");
        if (b->mnt >= 0) {
                close(b->mnt);
                b->mnt = -1;
        }
        if (b->mnt2 >= 0) {
                close(b->mnt2);
                b->mnt2 = -1;
        }
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
        if (asprintf(&b->pub.note, "process tier; pids cap %u by %s%s",
                     spec->policy->pids_max,
                     b->cgroup ? b->cgroup
                               : "RLIMIT_NPROC in the box's user namespace",
                     ids) < 0)
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
        if (b->cgroup) {
                box_pids_cgroup_remove(b->cgroup);
                free(b->cgroup);
        }
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
