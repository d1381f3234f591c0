/* The process tier, child side: everything between clone and exec.  Each
 * step is checked; any failure ends the box before the command runs. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "internal.h"

extern char **environ;

static _Noreturn void vdie(int e, const char *fmt, va_list ap)
{
        char msg[1024];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        if (e)
                dprintf(STDERR_FILENO, "agentbox: box setup failed: %s: %s\n",
                        msg, strerror(e));
        else
                dprintf(STDERR_FILENO, "agentbox: box setup failed: %s\n",
                        msg);
        _exit(EXIT_AGENTBOX);
}

void box_die(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vdie(0, fmt, ap);
}

void box_die_errno(int e, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vdie(e, fmt, ap);
}

/* The child shares the supervisor's initial environment block, which
 * /proc/1/environ would show.  Wipe it: the box gets only spec->envp. */
static void scrub_host_environ(void)
{
        for (char **e = environ; e && *e; e++)
                explicit_bzero(*e, strlen(*e));
        environ = NULL;
}

static void become_agent(const struct box_spec *spec)
{
        /* The creator's own ids are mapped already when it is the agent's
         * host identity; otherwise (root invoking for another owner) switch
         * to them.  Root also drops its supplementary groups. */
        if (spec->id.invoker_root && setgroups(0, NULL) < 0)
                box_die_errno(errno, "setgroups");
        if (setresgid(BOX_GID, BOX_GID, BOX_GID) < 0)
                box_die_errno(errno, "setresgid(%d)", BOX_GID);
        if (setresuid(BOX_UID, BOX_UID, BOX_UID) < 0)
                box_die_errno(errno, "setresuid(%d)", BOX_UID);
}

/* 0, or -errno with what failed in *why. */
static int loopback_up(const char **why)
{
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
                *why = "socket for lo";
                return box_helper_errno();
        }
        struct ifreq ifr = {0};
        strcpy(ifr.ifr_name, "lo");
        int r = 0;
        if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
                *why = "reading lo's flags";
                r = box_helper_errno();
        } else {
                ifr.ifr_flags |= IFF_UP;
                if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
                        *why = "bringing up lo";
                        r = box_helper_errno();
                }
        }
        close(s);
        return r;
}

/* The box's network and IPC namespaces cost more to make than all of
 * its other namespaces together (sysctl tables, a loopback device, an
 * mqueue mount: ~0.7 ms on 6.18), and nothing needs them until the root
 * is built.  So they are not made with the others: a helper that shares
 * our memory and descriptors makes them on the other CPU meanwhile, with
 * lo up and the box's listening sockets in them (~0.25 ms more), and
 * join_ns() enters them before anything of the network is used.  The
 * helper is ours and gone before the box's cgroup or command exist.  It
 * shares our thread's memory, errno and malloc's caches too: it makes
 * system calls only, allocates nothing, never exits the process, and
 * knows a failure by a call's return value (box_helper_errno). */
struct ns_maker {
        int proc;     /* /proc, opened before the root changes */
        int net, ipc; /* the new namespaces, or -1 */
        int err;
        const char *why; /* what failed, when err */
        uint16_t port;   /* and on which port, or 0 */
        struct box_listeners *listen; /* made in the namespace, or NULL */
        pid_t pid;
        char stack[16384] __attribute__((aligned(16)));
};

static int make_ns(void *arg)
{
        struct ns_maker *m = arg;
        if (unshare(CLONE_NEWNET | CLONE_NEWIPC) < 0) {
                m->err = -box_helper_errno();
                return 1;
        }
        m->net = openat(m->proc, "thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        m->ipc = openat(m->proc, "thread-self/ns/ipc", O_RDONLY | O_CLOEXEC);
        if (m->net < 0 || m->ipc < 0) {
                m->err = -box_helper_errno();
                return 1;
        }
        int r = loopback_up(&m->why);
        if (r == 0 && m->listen) {
                r = box_net_listen(m->listen);
                if (r < 0) {
                        m->why = m->listen->why;
                        m->port = m->listen->port;
                }
        }
        if (r < 0) {
                m->err = -r;
                return 1;
        }
        return 0;
}

static void start_ns(struct ns_maker *m)
{
        m->net = m->ipc = -1;
        m->proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (m->proc < 0)
                box_die_errno(errno, "open /proc");
        m->pid = clone(make_ns, m->stack + sizeof(m->stack),
                       CLONE_VM | CLONE_FILES | SIGCHLD, m);
        if (m->pid < 0)
                box_die_errno(errno, "cannot start making the box's network");
}

static void join_ns(struct ns_maker *m)
{
        int ws = 0;
        if (waitpid(m->pid, &ws, 0) != m->pid)
                box_die_errno(errno, "waiting for the box's network");
        if (m->why && m->port)
                box_die_errno(m->err, "%s (port %u)", m->why,
                              (unsigned)m->port);
        if (m->why)
                box_die_errno(m->err, "%s", m->why);
        if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0 || m->net < 0 ||
            m->ipc < 0)
                box_die_errno(m->err ? m->err : EIO,
                              "cannot make the box's network and IPC "
                              "namespaces");
        if (setns(m->net, CLONE_NEWNET) < 0)
                box_die_errno(errno, "entering the box's network namespace");
        if (setns(m->ipc, CLONE_NEWIPC) < 0)
                box_die_errno(errno, "entering the box's IPC namespace");
        close(m->net);
        close(m->ipc);
        close(m->proc);
}

/* Close every descriptor from 3 up except those in keep (-1: none). */
static void close_all_but(int *keep, size_t n)
{
        /* sort the few keepers, then close the gaps between them */
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
                        int t = keep[j];
                        keep[j] = keep[j - 1];
                        keep[j - 1] = t;
                }
        unsigned from = 3;
        for (size_t i = 0; i < n; i++) {
                if (keep[i] < (int)from)
                        continue;
                if (keep[i] > (int)from &&
                    close_range(from, (unsigned)keep[i] - 1, 0) < 0)
                        box_die_errno(errno, "close_range");
                from = (unsigned)keep[i] + 1;
        }
        if (close_range(from, ~0U, 0) < 0)
                box_die_errno(errno, "close_range");
}

static void wait_for_go(int sync_fd)
{
        char tag = 0;
        int fd = -1;
        /* EOF: the supervisor failed or died; it reports why. */
        if (box_sync_recv(sync_fd, &tag, &fd) < 0 || tag != 'G' || fd >= 0)
                _exit(EXIT_AGENTBOX);
}

void box_child_ready(struct box_spec *spec)
{
        if (spec->ready)
                return;
        char tag = 0;
        int fd = -1;
        if (box_sync_recv(spec->sync_fd, &tag, &fd) < 0 || tag != 'C')
                _exit(EXIT_AGENTBOX); /* the supervisor reports why */
        if ((fd >= 0) != spec->id.idmapped)
                box_die("unexpected workspace mount from agentbox");
        spec->workspace_fd = fd;
        if (spec->repo_path && spec->id.idmapped) {
                if (box_sync_recv(spec->sync_fd, &tag, &fd) < 0 ||
                    tag != 'D' || fd < 0)
                        _exit(EXIT_AGENTBOX);
                spec->repo_mount_fd = fd;
        }
        /* under root, the filesystem.mounts, made by the supervisor */
        for (size_t i = 0; spec->id.invoker_root && i < spec->n_mounts; i++) {
                if (box_sync_recv(spec->sync_fd, &tag, &fd) < 0 ||
                    tag != 'M' || fd < 0)
                        _exit(EXIT_AGENTBOX);
                spec->mounts[i].fd = fd;
        }
        spec->ready = true;
}

/* Changing credentials clears the parent-death signal: set it again, then
 * make sure the supervisor did not die in between.  It holds its end of
 * the sync socket for the box's whole life, so a hang-up means it is gone
 * (a message waiting to be read is fine). */
static void rearm_parent_death(int sync_fd)
{
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                box_die_errno(errno, "PR_SET_PDEATHSIG");
        struct pollfd pfd = {.fd = sync_fd, .events = POLLIN};
        if (poll(&pfd, 1, 0) < 0 || (pfd.revents & (POLLHUP | POLLERR)))
                _exit(EXIT_AGENTBOX);
}

/* Likewise /proc/1/cmdline would show agentbox's command line (options,
 * --env values).  The command's argv is its tail; copy that, then wipe the
 * whole argument block. */
static void scrub_host_args(struct box_spec *spec)
{
        size_t n = 0;
        while (spec->argv[n])
                n++;
        char **copy = calloc(n + 1, sizeof(*copy));
        if (!copy)
                box_die("out of memory");
        for (size_t i = 0; i < n; i++)
                if (!(copy[i] = strdup(spec->argv[i])))
                        box_die("out of memory");
        char *start = program_invocation_name;
        char *end = spec->argv[n - 1] + strlen(spec->argv[n - 1]);
        if (start && end > start)
                explicit_bzero(start, (size_t)(end - start));
        spec->argv = copy;
}

const char *box_test_break;

void box_child_main(const struct box_spec *given, int sync_fd)
{
        struct box_spec local = *given, *spec = &local;
        spec->sync_fd = sync_fd;
        /* the caller's terminal: never the box's, not even ours here */
        box_pty_hide_caller(spec);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                box_die_errno(errno, "PR_SET_PDEATHSIG");
        scrub_host_environ();
        scrub_host_args(spec);
        /* Nothing of the host's open files may follow us in, except the
         * standard streams (checked by the supervisor) and the sync pipe. */
        int keep[] = {sync_fd, spec->workspace_fd, spec->net_fd,
                      spec->repo_mount_fd};
        close_all_but(keep, ARRAY_SIZE(keep));
        static struct ns_maker nsm;
        static struct box_listeners listeners;
        if (spec->net_fd >= 0) {
                struct ab_err err = {0};
                int n = policy_transparent_ports(spec->policy,
                                                 listeners.tports, &err);
                if (n < 0)
                        box_die_errno(-n, "%s", err.msg);
                listeners.ntports = n;
                nsm.listen = &listeners;
        }
        start_ns(&nsm);
        wait_for_go(sync_fd);
        if (prctl(PR_SET_DUMPABLE, 0) < 0)
                box_die_errno(errno, "PR_SET_DUMPABLE");

        become_agent(spec);
        rearm_parent_death(sync_fd);
        /* Out of the caller's process group and session: a Ctrl-C reaches
         * the box once, through the supervisor, not twice. */
        if (setsid() < 0)
                box_die_errno(errno, "setsid");
        if (sethostname(BOX_HOSTNAME, strlen(BOX_HOSTNAME)) < 0)
                box_die_errno(errno, "sethostname");
        box_rootfs_setup(spec);
        join_ns(&nsm);
        if (spec->net_fd >= 0)
                box_net_handoff(spec->net_fd, &listeners);

        /* Counted per user namespace and uid (Linux >= 5.14), so this caps
         * the box's own processes whoever invoked agentbox. */
        struct rlimit rl = {spec->policy->pids_max, spec->policy->pids_max};
        if (setrlimit(RLIMIT_NPROC, &rl) < 0)
                box_die_errno(errno, "RLIMIT_NPROC");

        box_child_ready(spec);
        /* into its cgroups, by itself (cgroup.c), before it forks */
        box_cgroups_join(sync_fd);
        box_pty_make(spec, sync_fd);
        /* the go: the protected paths held on the host, and the box in
         * its cgroups, before anything is forked */
        char tag = 0, *plan = NULL;
        if (box_sync_recv_data(sync_fd, &tag, &plan) < 0 || tag != 'P')
                _exit(EXIT_AGENTBOX); /* the supervisor reports why */
        /* and only then a cgroup namespace: the box sees its cgroup as
         * "/", never the host's name for it */
        if (unshare(CLONE_NEWCGROUP) < 0)
                box_die_errno(errno, "new cgroup namespace");
        box_protect_apply(spec->policy->workspace, plan);
        free(plan);
        box_limits_apply(&spec->limits);
        /* kept by init alone (close-on-exec) to say when the box is done */
        struct ab_err err = {0};
        bool no_ll = box_test_break && strcmp(box_test_break, "landlock") == 0;
        bool no_sc = box_test_break && strcmp(box_test_break, "seccomp") == 0;
        if (box_caps_drop(&err) < 0 ||
            (!no_ll &&
             box_landlock_apply(spec->policy->workspace, spec->repo_path,
                                spec->mounts, spec->n_mounts, &err) < 0) ||
            (!no_sc && box_seccomp_apply(&err) < 0))
                box_die("%s", err.msg);
        box_init_run(spec);
}
