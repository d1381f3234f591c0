#include "supervisor.h"
#include "canary.h"
#include "mounts.h"
#include "policy/layers.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <sys/types.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "box/box.h"
#include "box/leftovers.h"
#include "common/handoff.h"
#include "net/audit.h"
#include "net/net.h"
#include "session/tty.h"
#include "policy/workspace.h"
#include "common/util.h"

extern char **environ;

struct supervisor {
        struct event_base *base;
        struct box *box;
        int status;
        struct ab_err *err;
        struct net *net;
        int handoff_fd;
        struct event *handoff_ev;
        struct tty_relay *tty; /* the box's terminal, relayed, or NULL */
        struct box_protect *prot, *repo_prot; /* swept when the box ends */
};

static const int forwarded[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT, SIGWINCH,
                                SIGUSR1, SIGUSR2, SIGTSTP, SIGCONT};

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
        (void)what;
        struct supervisor *s = arg;
        /* the box's own terminal has the size of the caller's: the kernel
         * tells the box's foreground job */
        if (sig == SIGWINCH && s->tty) {
                tty_relay_resize(s->tty);
                return;
        }
        /* Failing to forward is not fatal: the box may be exiting. */
        s->box->driver->signal(s->box, (int)sig);
        /* Ctrl-Z: the box stops, then so do we, so the shell gets the
         * terminal back (set as it was); `fg` sends SIGCONT, which is
         * forwarded too. */
        if (sig == SIGTSTP && s->tty) {
                tty_relay_suspend(s->tty);
                /* continued: the box's TUI draws its screen again */
                s->box->driver->signal(s->box, SIGWINCH);
        }
        else if (sig == SIGCONT && s->tty)
                tty_relay_resume(s->tty);
        else if (sig == SIGTSTP)
                raise(SIGSTOP);
}

static void on_box_exit(evutil_socket_t fd, short what, void *arg)
{
        (void)fd;
        (void)what;
        struct supervisor *s = arg;
        int r = s->box->driver->reap(s->box, s->err);
        s->status = r < 0 ? EXIT_AGENTBOX : r;
        event_base_loopbreak(s->base);
}

/* Nothing of the box runs any more (its init is ending): the placeholders
 * can go while the kernel takes the box's mounts down, not after. */
static void on_box_quiet(evutil_socket_t fd, short what, void *arg)
{
        (void)fd;
        (void)what;
        struct supervisor *s = arg;
        if (!s->box->driver->quiet(s->box))
                return; /* then at the box's exit */
        box_protect_finish(s->prot);
        box_protect_finish(s->repo_prot);
}

/* The box's listeners arrive once, right after it starts.  Anything wrong
 * with them ends the box: it never runs without the network it was
 * promised, and never with more. */
static void on_handoff(evutil_socket_t fd, short what, void *arg)
{
        (void)what;
        struct supervisor *s = arg;
        struct handoff_msg m;
        int fds[HANDOFF_MAX];
        int r = handoff_recv((int)fd, &m, fds);
        if (r == -EAGAIN)
                return;
        event_del(s->handoff_ev);
        if (r == -ECONNRESET)
                return; /* the box ended before its network came up */
        if (r < 0) {
                err_setx(s->err, r, "network: bad hand-over from the box");
                s->box->driver->signal(s->box, SIGKILL);
                return;
        }
        for (uint32_t i = 0; i < m.count; i++) {
                if (r == 0)
                        r = net_serve(s->net, m.kinds[i], m.ports[i], fds[i],
                                      s->err);
                else
                        close(fds[i]);
        }
        if (r < 0)
                s->box->driver->signal(s->box, SIGKILL);
}

/* Watch for the box's listeners (the network side exists already). */
static int start_net(struct supervisor *s)
{
        s->handoff_ev = event_new(s->base, s->handoff_fd, EV_READ | EV_PERSIST,
                                  on_handoff, s);
        if (!s->handoff_ev || event_add(s->handoff_ev, NULL) < 0)
                return err_set(s->err, -ENOMEM, "cannot watch the box");
        return 0;
}

int supervisor_check_stdio(struct ab_err *err)
{
        for (int fd = 0; fd <= 2; fd++) {
                int fl = fcntl(fd, F_GETFL);
                if (fl < 0) {
                        /* Closed: give the box /dev/null rather than let an
                         * internal file take the number. */
                        int n = open("/dev/null", O_RDWR);
                        if (n < 0)
                                return err_setx(err, -errno, "/dev/null");
                        if (n != fd) {
                                dup2(n, fd);
                                close(n);
                        }
                        continue;
                }
                struct stat st;
                if (fstat(fd, &st) < 0)
                        return err_setx(err, -errno, "fstat(%d)", fd);
                if (S_ISDIR(st.st_mode) || (fl & O_PATH))
                        return err_set(err, -EBADF,
                                       "standard %s is a directory or an "
                                       "O_PATH descriptor; the box "
                                       "would reach the host's files through "
                                       "it. Redirect it from a file or "
                                       "/dev/null",
                                       fd == 0 ? "input"
                                               : fd == 1 ? "output" : "error");
        }
        return 0;
}

/* Refuse a workspace that holds a home directory: the invoker's ($HOME and
 * passwd) and, under root, the workspace owner's. */
static int check_homes(const char *ws, uid_t owner, struct ab_err *err)
{
        const char *homes[3] = {getenv("HOME")};
        char *dup[2] = {NULL, NULL};
        uid_t uids[2] = {getuid(), owner};
        for (int i = 0; i < 2 && (i == 0 || uids[1] != uids[0]); i++) {
                struct passwd *pw = getpwuid(uids[i]);
                if (pw && pw->pw_dir)
                        homes[i + 1] = dup[i] = strdup(pw->pw_dir);
        }
        int r = 0;
        for (int i = 0; i < 3 && r == 0; i++)
                if (homes[i])
                        r = policy_check_workspace(ws, homes[i], err);
        free(dup[0]);
        free(dup[1]);
        return r;
}

static int prepare_spec(struct policy *p, char *const *argv,
                        struct box_spec *spec, struct ab_err *err)
{
        *spec = (struct box_spec){.policy = p, .argv = argv, .ws_fd = -1,
                                  .workspace_fd = -1, .net_fd = -1,
                                  .repo_fd = -1, .repo_mount_fd = -1,
                                  .pty_slave = -1};
        /* Resolved once; from here on every check, and the mount, are
         * about the directory held.  Root follows no symlink on the way:
         * a box run by root writes root-owned files, links included. */
        char *real = NULL;
        int r = 0;
        if (p->ws_fd >= 0) {
                /* pinned by the layers (policy_stack_load) already */
                spec->ws_fd = steal_fd(&p->ws_fd);
                if (!(real = strdup(p->workspace)))
                        return err_set(err, -ENOMEM, "out of memory");
        } else
                r = policy_workspace_pin(p->workspace, geteuid() == 0,
                                         &spec->ws_fd, &real, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *given = p->workspace;
        p->workspace = real;
        struct stat st;
        if (fstat(spec->ws_fd, &st) < 0)
                return err_setx(err, -errno, "workspace %s", real);
        spec->ws_dev = st.st_dev;
        spec->ws_ino = st.st_ino;
        r = box_identity_resolve(&st, &spec->id, err);
        if (r == 0)
                r = check_homes(p->workspace, st.st_uid, err);
        if (r < 0)
                return r;
        /* a linked worktree: its repository goes in too, checked alike */
        char *repo = NULL;
        r = policy_worktree_repo(spec->ws_fd, p->workspace, geteuid() == 0,
                                 (unsigned)st.st_uid, &spec->repo_fd, &repo,
                                 err);
        if (r == 1) {
                spec->repo_path = repo;
                struct stat rs;
                r = check_homes(repo, st.st_uid, err);
                if (r == 0 && fstat(spec->repo_fd, &rs) < 0)
                        r = err_setx(err, -errno, "%s", repo);
                if (r == 0) {
                        spec->repo_dev = rs.st_dev;
                        spec->repo_ino = rs.st_ino;
                }
                if (r == 0 && p->verbose)
                        fprintf(stderr,
                                "agentbox: the workspace is a git worktree; "
                                "its repository %s is in the box too\n",
                                repo);
        }
        if (r < 0)
                return r;
        if (p->verbose && given && strcmp(given, p->workspace) != 0)
                fprintf(stderr, "agentbox: workspace %s is %s\n", given,
                        p->workspace);
        r = session_mounts_resolve(p, p->workspace, spec->repo_path,
                                   st.st_uid, &spec->mounts, &spec->n_mounts,
                                   err);
        if (r < 0)
                return r;
        for (size_t i = 0; p->verbose && i < spec->n_mounts; i++)
                fprintf(stderr, "agentbox: mount %s at %s (%s)\n",
                        spec->mounts[i].host, spec->mounts[i].box,
                        spec->mounts[i].rw ? "read-write" : "read-only");
        spec->shell = access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh";
        return box_env_build(p, environ, spec->shell, &spec->envp, err);
}

static void print_plan(const char *plan)
{
        for (const char *l = plan; l && *l;) {
                const char *nl = strchr(l, '\n');
                int len = nl ? (int)(nl - l) : (int)strlen(l);
                if (l[0] == 'D')
                        fprintf(stderr, "agentbox:   in %.*s:\n", len - 2, l + 2);
                else
                        fprintf(stderr, "agentbox:   %s %.*s\n",
                                l[0] == 'A' ? "no rename " : "read-only ",
                                len - 2, l + 2);
                l = nl ? nl + 1 : l + len;
        }
}

/* What this box writes below them, no trust: tree vouches for: the
 * workspace and each read-write mount, recorded before anything runs in
 * the box (while it builds its root: the record is not the box's to
 * wait for).  With such trees, a box whose writes cannot be recorded
 * does not start. */
static int record_workspaces(const struct box_spec *spec, struct ab_err *err)
{
        const struct policy *p = spec->policy;
        int r = policy_record_workspace(p->workspace);
        if (r < 0 && p->trust_trees)
                return err_set(err, r,
                               "cannot record %s as a box's workspace in the "
                               "state directory (%s), and your trust: trees "
                               "would then vouch for a policy file this box "
                               "writes below it; fix the state directory, or "
                               "drop trust: from your config",
                               p->workspace, strerror(-r));
        for (size_t i = 0; i < spec->n_mounts; i++)
                if (spec->mounts[i].rw &&
                    policy_record_workspace(spec->mounts[i].host) < 0 &&
                    p->trust_trees)
                        return err_set(err, -EIO,
                                       "cannot record %s (a read-write "
                                       "mount) in the state directory, and "
                                       "your trust: trees would then vouch "
                                       "for a policy file the box writes "
                                       "there",
                                       spec->mounts[i].host);
        return 0;
}

/* The protected paths of the workspace and, for a linked worktree, of its
 * repository's git directory: one plan for the box (prot), the second
 * after a "D path" line. */
static int prepare_protect(const struct box_spec *spec,
                           struct box_protect *prot,
                           struct box_protect *repo, char **both,
                           struct ab_err *err)
{
        struct stat st;
        if (fstat(spec->ws_fd, &st) < 0)
                return err_setx(err, -errno, "workspace %s",
                                spec->policy->workspace);
        int r = box_protect_prepare(spec->ws_fd, spec->policy->workspace,
                                    &spec->policy->protect, false, st.st_uid,
                                    st.st_gid, prot, err);
        if (r == 0 && spec->repo_path)
                r = box_protect_prepare(spec->repo_fd, spec->repo_path,
                                        &spec->policy->protect, true,
                                        st.st_uid, st.st_gid, repo, err);
        /* what the box is sent: one plan, the repository's after a "D"
         * line; each half is swept against its own directory later */
        if (r == 0 &&
            asprintf(both, "%s%s%s%s%s", prot->plan ? prot->plan : "",
                     spec->repo_path ? "D " : "",
                     spec->repo_path ? spec->repo_path : "",
                     spec->repo_path ? "\n" : "",
                     repo->plan ? repo->plan : "") < 0)
                r = err_set(err, -ENOMEM, "out of memory");
        if (r < 0 || !spec->policy->verbose)
                return r;
        fprintf(stderr,
                "agentbox: %zu protected mounts in the workspace (%zu "
                "placeholders made); see agentbox(1), Protected paths\n",
                prot->n_items + repo->n_items, prot->made + repo->made);
        print_plan(*both);
        return 0;
}

/* What the box left that host tools may run and no mount held back
 * (box/leftovers.h).  None is looked for after a run of under 0.1 s; the
 * walk gets the first few hundred entries whatever the time and, for a
 * run of a second or more, a tenth of the time it ran, at most 2 s: a long
 * agent session is checked whole, a small tree always, a quick command in
 * a big tree only as far as that goes (said with --verbose, or when a run
 * of over 20 s could not be checked whole). */
static void report_leftovers(const struct box_spec *spec,
                             const struct timespec *since,
                             const struct timespec *t_start)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ran_us = (now.tv_sec - t_start->tv_sec) * 1000000 +
                      (now.tv_nsec - t_start->tv_nsec) / 1000;
        /* a command of under a tenth of a second is no agent's session
         * (and the look would cost more than the run); under a second,
         * the first entries only (a small tree whole) */
        if (ran_us < 100000)
                return;
        long budget = ran_us < 1000000         ? 0
                      : ran_us / 10 > 2000000 ? 2000000
                                               : ran_us / 10;
        /* since is from the coarse clock that stamps ctime (a fine-grained
         * ctime is never earlier than it), so no slack is needed */
        struct box_leftovers l;
        if (box_leftovers_find(spec->ws_fd, spec->policy->workspace, since,
                               budget, &l) < 0)
                return;
        if (spec->repo_fd >= 0)
                box_leftovers_gitdir(spec->repo_fd, spec->repo_path, since,
                                     &l);
        if (l.n)
                fprintf(stderr,
                        "agentbox: the box left %zu thing%s in the workspace "
                        "that host tools may run or open and that this mode "
                        "does not hold back (agentbox(1), Protected paths); "
                        "look before running git or an editor there:\n",
                        l.n + l.more, l.n + l.more == 1 ? "" : "s");
        for (size_t i = 0; i < l.n; i++)
                fprintf(stderr, "agentbox:   %s\n", l.v[i]);
        if (l.more)
                fprintf(stderr, "agentbox:   ... and %zu more\n", l.more);
        if (l.too_deep)
                fprintf(stderr,
                        "agentbox: parts of the workspace lie deeper than "
                        "agentbox looks (32 levels, or %d bytes of path): a "
                        "repository the box made there would not be listed "
                        "above\n",
                        PATH_MAX);
        else if (!l.complete &&
                 (spec->policy->verbose || ran_us > 20000000))
                fprintf(stderr,
                        "agentbox: looked at %zu entries of the workspace for "
                        "repositories and links the box made, not all of it "
                        "(the look gets a tenth of the time the box ran, at "
                        "most 2 s)\n",
                        l.entries);
        else if (spec->policy->verbose)
                fprintf(stderr,
                        "agentbox: looked at all %zu entries of the workspace "
                        "for repositories and links the box made\n",
                        l.entries);
        box_leftovers_free(&l);
}

/* What prepare_spec() holds: the environment, the pinned workspace and
 * linked worktree's repository. */
static void release_spec(struct box_spec *spec)
{
        box_env_free(spec->envp);
        if (spec->ws_fd >= 0)
                close(spec->ws_fd);
        if (spec->repo_fd >= 0)
                close(spec->repo_fd);
        free((char *)spec->repo_path);
        session_mounts_free(spec->mounts, spec->n_mounts);
        spec->mounts = NULL;
        spec->n_mounts = 0;
}

int supervisor_run(struct policy *p, char *const *argv, struct ab_err *err)
{
        struct box_spec spec = {.ws_fd = -1, .workspace_fd = -1, .net_fd = -1,
                                .repo_fd = -1, .repo_mount_fd = -1,
                                .pty_slave = -1};
        int r = supervisor_check_stdio(err);
        if (r == 0)
                r = prepare_spec(p, argv, &spec, err);
        if (r < 0) {
                release_spec(&spec);
                return EXIT_AGENTBOX;
        }
        /* what the self-test must miss, planted just before the start */
        struct canaries canary = {.sock_fd = -1, .abstract_fd = -1};
        spec.selftest = p->selftest;
        if (p->selftest && canaries_plant(&canary, &spec, err) < 0) {
                canaries_remove(&canary);
                release_spec(&spec);
                return EXIT_AGENTBOX;
        }
        /* the box's share of the invoker's per-user kernel quotas */
        box_limits_plan(&spec.limits, p->pids_max);
        if (p->verbose) {
                char d[256];
                fprintf(stderr, "agentbox: limits: %s\n",
                        box_limits_describe(&spec.limits, d, sizeof(d)));
        }
        /* a terminal among the caller's streams: the box gets its own */
        struct tty_caller tc;
        if (tty_probe(&tc)) {
                spec.pty = true;
                memcpy(spec.tty, tc.tty, sizeof(spec.tty));
                spec.tio = tc.saved;
                spec.winsz = tc.ws;
        }

        struct supervisor s = {.status = EXIT_AGENTBOX, .err = err,
                               .handoff_fd = -1};
        int sv[2] = {-1, -1};
        if (p->net != POLICY_NET_OFF) {
                if (p->audit_path == NULL)
                        p->audit_path = audit_default_path();
                if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) <
                    0) {
                        err_setx(err, -errno, "socketpair");
                        release_spec(&spec);
                        return EXIT_AGENTBOX;
                }
                spec.net_fd = sv[1];
                s.handoff_fd = sv[0];
        }
        struct event *evs[ARRAY_SIZE(forwarded) + 2] = {0};
        struct box_protect prot = {.lock_fd = -1, .ws_fd = -1};
        struct box_protect repo_prot = prot;
        s.prot = &prot;
        s.repo_prot = &repo_prot;
        char *plan = NULL;
        bool started = false;
        struct timespec since = {0}, t_start = {0};
        s.base = event_base_new();
        if (!s.base) {
                err_set(err, -ENOMEM, "cannot create the event loop");
                goto out;
        }
        const struct box_driver *drv = box_driver_for(p->isolation);
        r = drv->spawn(&spec, &s.box, err);
        if (sv[1] >= 0)
                close(sv[1]);
        if (r < 0)
                goto out;
        /* A peer that resets while the relay writes to it is an error to
         * handle, not a reason to die (the box has its own dispositions:
         * its init resets every signal before the command runs). */
        signal(SIGPIPE, SIG_IGN);
        /* While the box builds its root: its writes recorded, the
         * protected paths held on the host, and the network side (audit
         * log included), ready before anything runs in the box. */
        if (record_workspaces(&spec, err) < 0 ||
            prepare_protect(&spec, &prot, &repo_prot, &plan, err) < 0 ||
            (s.handoff_fd >= 0 && (net_new(s.base, p, &s.net, err) < 0 ||
                                   start_net(&s) < 0)) ||
            drv->start(s.box, &(struct box_protect){.plan = plan,
                                                    .plan_len = strlen(plan)},
                       err) < 0) {
                drv->signal(s.box, SIGKILL);
                on_box_exit(-1, 0, &s);
                s.status = EXIT_AGENTBOX;
                goto out;
        }
        if (s.box->pty_master >= 0) {
                int m = s.box->pty_master;
                s.box->pty_master = -1;
                if (tty_relay_start(s.base, &tc, m, p->tty_passthrough,
                                    &s.tty, err) < 0) {
                        drv->signal(s.box, SIGKILL);
                        on_box_exit(-1, 0, &s);
                        s.status = EXIT_AGENTBOX;
                        goto out;
                }
        }
        if (p->verbose && s.box->note)
                fprintf(stderr, "agentbox: %s\n", s.box->note);

        for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++) {
                evs[i] = evsignal_new(s.base, forwarded[i], on_signal, &s);
                if (!evs[i] || evsignal_add(evs[i], NULL) < 0) {
                        err_set(err, -ENOMEM, "cannot watch signals");
                        drv->signal(s.box, SIGKILL);
                }
        }
        /* from now on the box's writes are its own: what it left is
         * looked for later (report_leftovers) */
        started = true;
        clock_gettime(CLOCK_REALTIME_COARSE, &since);
        clock_gettime(CLOCK_MONOTONIC, &t_start);
        struct event *exit_ev = event_new(s.base, s.box->pidfd, EV_READ,
                                          on_box_exit, &s);
        evs[ARRAY_SIZE(forwarded)] = exit_ev;
        struct event *quiet_ev =
                s.box->quiet_fd >= 0
                        ? event_new(s.base, s.box->quiet_fd, EV_READ,
                                    on_box_quiet, &s)
                        : NULL;
        evs[ARRAY_SIZE(forwarded) + 1] = quiet_ev;
        if (quiet_ev)
                (void)event_add(quiet_ev, NULL); /* else at the exit */
        if (!exit_ev || event_add(exit_ev, NULL) < 0) {
                err_set(err, -ENOMEM, "cannot watch the box");
                drv->signal(s.box, SIGKILL);
                on_box_exit(-1, 0, &s);
                s.status = EXIT_AGENTBOX;
        } else if (event_base_dispatch(s.base) < 0) {
                err_set(err, -EIO, "event loop failed");
                drv->signal(s.box, SIGKILL);
        }
out:
        canaries_remove(&canary);
        /* what the box wrote last shown, the caller's terminal as it was */
        tty_relay_finish(s.tty);
        s.tty = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(evs); i++)
                if (evs[i])
                        event_free(evs[i]);
        if (s.handoff_ev)
                event_free(s.handoff_ev);
        if (s.handoff_fd >= 0)
                close(s.handoff_fd);
        net_free(s.net);
        if (s.box)
                s.box->driver->destroy(s.box);
        /* the box is gone, every process of it: its placeholders can go */
        box_protect_finish(&prot);
        box_protect_finish(&repo_prot);
        free(plan);
        if (started)
                report_leftovers(&spec, &since, &t_start);
        if (s.base) {
                /* a bufferevent freed with a callback still queued goes
                 * when the queue runs: let it */
                for (int i = 0; i < 3; i++) /* frees may queue frees */
                        event_base_loop(s.base, EVLOOP_NONBLOCK);
                event_base_free(s.base);
        }
        release_spec(&spec);
        return s.status;
}
