/* Process-tier internals shared by the files of src/box/. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <sys/types.h>

#include "box.h"
#include "common/handoff.h"

/* Child side, between clone and exec: print "agentbox: <msg>" and
 * _exit(125).  There is nobody to return an error to. */
_Noreturn void box_die(const char *fmt, ...)
        __attribute__((format(printf, 1, 2)));
_Noreturn void box_die_errno(int e, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* The child's whole life: set up the root, harden, become pid 1. */
_Noreturn void box_child_main(const struct box_spec *spec, int sync_fd);

/* Create the box's listening sockets and send them over sock (netbox.c). */
/* The box's listening sockets, made in its network namespace before it
 * is entered (netbox.c). */
struct box_listeners {
        uint16_t tports[POLICY_TRANSPARENT_MAX]; /* in: the transparent ports */
        int ntports;
        struct handoff_msg msg; /* out: what was made */
        int fds[HANDOFF_MAX];
        const char *why; /* on error: what failed, and on which port */
        uint16_t port;
};
/* 0, or -errno with why and port set (then none is left open). */
int box_net_listen(struct box_listeners *l);
/* In the helper that makes the box's network namespace (child.c), which
 * shares errno with the box's own thread, setting it meanwhile: a call's
 * failure is known by its return value, and errno read after is only a
 * hint for the message.  -errno, never 0. */
static inline int box_helper_errno(void)
{
        return errno > 0 ? -errno : -EIO;
}
/* Hand them to the supervisor on sock and close them and sock. */
void box_net_handoff(int sock, struct box_listeners *l);

/* Build the box's root and pivot into it (rootfs.c). */
void box_rootfs_setup(struct box_spec *spec);

/* Hardening steps (harden.c); each returns 0 or -errno and fills err. */
int box_caps_drop(struct ab_err *err);
int box_landlock_apply(const char *workspace, const char *repo,
                       const struct box_mount *mounts, size_t n_mounts,
                       struct ab_err *err);
int box_seccomp_apply(struct ab_err *err);
/* A filesystem.mounts source as a detached mount (rootfs.c). */
int box_bind_clone(const struct box_mount *m);

/* The self-test's canaries (selftest.c): how many got through. */
int box_selftest(const struct box_spec *spec);

/* The box's own terminal (pty.c): the caller's streams that are
 * terminals become /dev/null at once; after the root is built, the box's
 * pty, its master sent to the supervisor ("T").  No-ops without
 * spec->pty. */
void box_pty_hide_caller(const struct box_spec *spec);
void box_pty_make(struct box_spec *spec, int sync_fd);

/* Set the box's limits (limits.c) in its user namespace, while the setup
 * code still has the capabilities to. */
void box_limits_apply(const struct box_limits *l);

/* pid 1: run argv with envp, forward signals, reap, exit with its status. */
_Noreturn void box_init_run(const struct box_spec *spec);

/* Child side, when the workspace is not idmapped: open it (O_PATH) by its
 * path in the box's copy of the host's mounts and check it is the very
 * directory the supervisor pinned (spec->ws_dev, ws_ino), so a component
 * swapped meanwhile can only make the box refuse to start, never mount
 * another directory.  (A tree cloned in the host's namespace cannot be
 * moved into the box's unless idmapped.)  Returns the fd or -errno
 * (-ESTALE when it changed). */
int box_dir_open(const char *path, dev_t dev, ino_t ino);

/* Host side, root only (idmap.c): the workspace as a detached idmapped
 * mount, cloned from spec->ws_fd, on which host ids id->uid/gid own what
 * owner/group own.  Returns the mount fd or -errno; *helper is a killed
 * child to reap later.  With spec->repo_fd, *repo_mnt is the linked
 * worktree's repository's, idmapped alike, and bind_mnt[i] (-1 before)
 * each read-write spec->mounts[i]'s. */
int box_idmap_prepare(const struct box_spec *spec, uid_t owner, gid_t group,
                      pid_t *helper, int *repo_mnt, int *bind_mnt,
                      struct ab_err *err);

/* Supervisor <-> setup messages (sync.c). */
int box_sync_send(int sock, char tag, int fd);
int box_sync_recv(int sock, char *tag, int *fd);
/* A tag and up to BOX_SYNC_DATA_MAX bytes; the received text is NUL
 * terminated and malloc'd. */
#define BOX_SYNC_DATA_MAX (128u * 1024)
int box_sync_send_data(int sock, char tag, const char *buf, size_t len);
int box_sync_recv_data(int sock, char *tag, char **buf);

/* Child: wait for "C" (the prepared workspace mount, if any). */
void box_child_ready(struct box_spec *spec);

/* The box's cgroups (cgroup.c), host side: where each controller can be
 * had (probe, before the box is made), then made and joined by its init,
 * read, removed. */
enum { BOX_CG_PIDS, BOX_CG_MEMORY, BOX_CG_CPU, BOX_CG_N };
#define BOX_CG_PATH_MAX 512
struct box_cgroup {
        char parent[BOX_CG_PATH_MAX];      /* ours in that hierarchy, or "" */
        char path[BOX_CG_PATH_MAX + 40];   /* the box's, below it */
        bool v2, made, joined, memsw;
        int err;   /* the pids cgroup only: why it could not be had */
        int tasks; /* v1: its "tasks", open for the box to join by, or -1 */
};
struct box_cgroups {
        struct box_cgroup v[BOX_CG_N];
};
struct box_cgroup_caps {
        unsigned pids;
        uint64_t memory;     /* UINT64_MAX: no memory cgroup */
        unsigned cpus_milli; /* 0: no cpu cgroup */
};
void box_cgroups_probe(struct box_cgroups *cg);
/* 0, or -errno with *failed the controller that could not be had; a
 * pids cgroup that cannot be had is left out (its err says why).  A v1
 * cgroup is joined by the box itself (box_cgroups_send, box_cgroups_join):
 * moving another process takes a lock whose first taker waits for an RCU
 * grace period (5-8 ms here); a thread that moves itself takes none. */
int box_cgroups_create(struct box_cgroups *cg, pid_t pid,
                       const struct box_cgroup_caps *caps, int *failed);
/* Processes of the box the kernel killed for its memory cap. */
uint64_t box_cgroups_oom_kills(const struct box_cgroups *cg);
void box_cgroups_remove(struct box_cgroups *cg);
/* Supervisor: the v1 cgroups' "tasks" to the box ("K" each, then "E");
 * the box: joins each, or dies (it never runs outside its cgroups). */
int box_cgroups_send(struct box_cgroups *cg, int sync_fd);
void box_cgroups_join(int sync_fd);

/* The box's memory budget: asked (0: the default, half the host's), held
 * (tmp: the size of /tmp, /var/tmp and home, 0 for BOX_TMP_SIZE, within
 * the budget's share all the same)
 * by a memory cgroup where cg has one; the tmpfs sizes and inode caps
 * that follow from it. */
#define BOX_TMP_SIZE POLICY_TMP_DEFAULT
#define BOX_SHM_SIZE (512ull << 20)
#define BOX_TMP_INODES 1048576ull
#define BOX_SHM_INODES 65536ull
void box_memory_plan(uint64_t asked, uint64_t tmp,
                     const struct box_cgroups *cg, struct box_memory *m);
