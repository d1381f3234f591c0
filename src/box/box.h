/* The box: one driver interface for every isolation tier (DESIGN.md §1).
 * The supervisor only sees struct box and its driver; the process tier is
 * the first driver, landlock and vm follow behind the same calls. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <termios.h>

#include "common/err.h"
#include "policy/policy.h"
#include "box/protect.h"

/* Who the agent is on the host side of the user namespace. */
struct box_identity {
        uid_t uid;
        gid_t gid;
        bool invoker_root; /* agentbox itself runs as uid 0 */
        bool idmapped;     /* the workspace is an idmapped mount (below) */
};

/* The box's share of the invoker's per-user kernel quotas (limits.c):
 * its user namespace's user.max_* (UINT32_MAX: left alone), and rlimits
 * (NOFILE, SIGPENDING, MSGQUEUE, MEMLOCK). */
#define BOX_QUOTAS 4
#define BOX_RLIMITS 4
struct box_limits {
        uint32_t quota[BOX_QUOTAS];
        struct rlimit rlim[BOX_RLIMITS];
        rlim_t data; /* RLIMIT_DATA and _FSIZE where no cgroup holds the
                      * memory (RLIM_INFINITY: not set) */
};

/* Plan them from the host's own limits (the supervisor, before the box is
 * made); describe them for --verbose. */
void box_limits_plan(struct box_limits *l, unsigned pids_max);
/* Sanitizer builds only: RLIMIT_DATA on the command once it is spawned
 * (see limits.c); a no-op otherwise. */
#if defined(__SANITIZE_ADDRESS__)
#define BOX_DATA_LATE 1
#else
#define BOX_DATA_LATE 0
#endif
void box_limits_data_late(const struct box_limits *l, pid_t pid);
const char *box_limits_describe(const struct box_limits *l, char *buf,
                                size_t size);

/* The box's memory budget and what holds it (the driver decides, before
 * the box is made): a memory cgroup holds all of it, or else only each
 * process (RLIMIT_DATA) and each tmpfs by its size. */
struct box_memory {
        uint64_t max;    /* bytes; UINT64_MAX: none */
        bool by_cgroup;
        uint64_t tmp_size, shm_size;     /* /tmp, /var/tmp, home; /dev/shm */
        uint64_t tmp_inodes, shm_inodes; /* their nr_inodes */
};

/* A host path shown in the box (filesystem.mounts), resolved and checked
 * on the host side (session/mounts.c): host has no link in it, and the box
 * binds it only if it is still the object (dev, ino) that was checked. */
struct box_mount {
        char *host;
        char *box;
        bool rw;
        dev_t dev;
        ino_t ino;
        int fd; /* child side, under root: the detached mount agentbox
                 * made (the box's own ids may not read the source) */
};
#define BOX_MOUNTS_MAX 64

/* The self-test before an agent runs (selftest.c): off, as a gate (a
 * canary that gets through stops the start), or shown (agentbox
 * selftest: each canary said, no command run). */
enum { BOX_SELFTEST_OFF, BOX_SELFTEST_GATE, BOX_SELFTEST_SHOW };

/* Whether the box shows /etc/agentbox (its README, the policy's
 * box_files): only where the host has that directory, agentbox's own,
 * made when it is installed. */
bool box_etc_shown(void);

/* Test builds only (tests/agentbox_test_main.c): a wall to leave out
 * ("landlock", "seccomp"), so that a test sees the self-test catch it. */
extern const char *box_test_break;

/* Everything a driver needs, prepared on the host side. */
struct box_spec {
        const struct policy *policy; /* workspace already resolved */
        char *const *argv;           /* the command */
        char **envp;                 /* the box's whole environment */
        const char *shell;           /* the agent's login shell */
        struct box_identity id;
        int ws_fd;        /* the pinned workspace (O_PATH, host side only) */
        int workspace_fd; /* child side: the workspace mount agentbox
                           * prepared (always under root), or -1 */
        int net_fd;       /* socket to hand the box's listeners over, or -1 */
        int sync_fd;      /* child side: the supervisor's messages */
        bool ready;       /* child side: "C" received */
        dev_t ws_dev;     /* the workspace directory the checks were made on */
        ino_t ws_ino;
        /* The repository of a workspace that is a linked worktree, given
         * read-write beside it (policy_worktree_repo), or NULL. */
        const char *repo_path;
        int repo_fd;      /* pinned, host side only */
        dev_t repo_dev;
        ino_t repo_ino;
        int repo_mount_fd; /* child side: its idmapped mount, or -1 */
        /* The caller's standard streams that are terminals (tty[i]): the
         * box gets a pseudo-terminal of its own for them (pty), from its
         * own devpts, set up as the caller's is (tio, winsz); the
         * supervisor relays (session/tty.c).  No descriptor of the
         * caller's terminal enters the box. */
        bool tty[3];
        bool pty;
        struct termios tio;
        struct winsize winsz;
        int pty_slave;     /* child side: the box's end, or -1 */
        struct box_limits limits;
        struct box_memory mem;
        struct box_mount *mounts; /* filesystem.mounts, in order */
        size_t n_mounts;
        int selftest;              /* BOX_SELFTEST_* */
        const char *canary_file;   /* planted in the invoker's home */
        const char *canary_sock;   /* a unix socket listening on the host */
        const char *canary_abstract; /* an abstract one, host netns */
};

struct box;

struct box_driver {
        const char *name;
        /* Create the box for spec->argv: it builds its root while the
         * caller sets up its side; nothing runs in it until start().  On
         * success *out owns the box. */
        int (*spawn)(const struct box_spec *spec, struct box **out,
                     struct ab_err *err);
        /* Let the command run, with the protected paths of the workspace
         * as planned on the host meanwhile (box/protect.h; NULL: none).
         * With spec->pty, b->pty_master is the box's terminal from then. */
        int (*start)(struct box *b, const struct box_protect *prot,
                     struct ab_err *err);
        /* Deliver a signal to the box's command (through its init). */
        int (*signal)(struct box *b, int sig);
        /* Once b->quiet_fd is readable: true when nothing of the box runs
         * any more but its init, which is ending (its mounts may still be
         * going away); what the workspace held for it may go then.  False
         * when that cannot be told: wait for pidfd. */
        bool (*quiet)(struct box *b);
        /* Collect the exit status once box_pidfd() is readable; returns the
         * exit code agentbox should exit with. */
        int (*reap)(struct box *b, struct ab_err *err);
        void (*destroy)(struct box *b);
};

struct box {
        const struct box_driver *driver;
        int pidfd;       /* readable when the box has exited */
        pid_t pid;
        char *note;      /* what the driver chose, for --verbose */
        int pty_master;  /* the box's pseudo-terminal, ours, or -1 */
        int quiet_fd;    /* see quiet(); -1 when the driver has none */
};

const struct box_driver *box_driver_for(enum policy_isolation iso);

/* Inside-box identity (DESIGN.md §2). */
#define BOX_UID 1000
#define BOX_GID 1000
#define BOX_USER "agent"
#define BOX_HOME "/home/agent"
#define BOX_HOSTNAME "agentbox"

/* Decide the host identity: the invoking user, or the owner of the
 * (pinned) workspace ws when invoked as root. */
struct stat;
int box_identity_resolve(const struct stat *ws, struct box_identity *out,
                         struct ab_err *err);

/* Build the box's environment from the policy and the host's environment.
 * The host environment is not inherited except what the policy passes. */
int box_env_build(const struct policy *p, char *const *host_env,
                  const char *shell, char ***out, struct ab_err *err);
void box_env_free(char **env);
const char *box_env_get(char *const *env, const char *name);
