/* The self-test (DESIGN.md §6.1): before an agent runs with its prompts
 * off, its box proves its walls.  Run by the box's init after every
 * hardening step and before the command exists, so it meets exactly what
 * the command would: each canary tries something the box must not be able
 * to do, and one that gets through stops the start (exit 125 with a
 * sentence naming it).  The host side plants what is to be missed: a file
 * in the invoker's home, a unix socket on the host, an abstract socket in
 * the host's network namespace (supervisor.c). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "internal.h"

#define KEYCTL_GET_KEYRING_ID 0
#define KEY_SPEC_USER_KEYRING -4

struct canary {
        const char *name;
        const char *what; /* what must not work */
        int (*try)(const struct box_spec *spec, char *why, size_t n);
};

/* Each try returns 0 when the wall held, 1 when the canary got through
 * (why says how). */

static int host_file(const struct box_spec *spec, char *why, size_t n)
{
        if (!spec->canary_file)
                return 0;
        int fd = open(spec->canary_file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        close(fd);
        snprintf(why, n, "%s could be opened", spec->canary_file);
        return 1;
}

static int write_outside(const struct box_spec *spec, char *why, size_t n)
{
        (void)spec;
        static const char *const paths[] = {"/usr/.agentbox-selftest",
                                            "/etc/.agentbox-selftest",
                                            "/.agentbox-selftest"};
        for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
                int fd = open(paths[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                              0600);
                if (fd >= 0) {
                        close(fd);
                        unlink(paths[i]);
                        snprintf(why, n, "%s could be created", paths[i]);
                        return 1;
                }
        }
        return 0;
}

static int dial(int type, const char *why_kind, char *why, size_t n)
{
        int s = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s < 0)
                return 0;
        /* a public address (no name, no proxy): the box has no route */
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons(type == SOCK_DGRAM ? 53
                                                                     : 443),
                                .sin_addr.s_addr = htonl(0x01010101)};
        int r = type == SOCK_DGRAM
                        ? (int)sendto(s, "x", 1, 0, (struct sockaddr *)&a,
                                      sizeof(a))
                        : connect(s, (struct sockaddr *)&a, sizeof(a));
        int e = errno;
        close(s);
        if (r < 0 && e != EINPROGRESS)
                return 0;
        snprintf(why, n, "%s to 1.1.1.1 found a route", why_kind);
        return 1;
}

static int raw_ip(const struct box_spec *spec, char *why, size_t n)
{
        (void)spec;
        return dial(SOCK_STREAM, "a TCP connection", why, n);
}

static int raw_udp(const struct box_spec *spec, char *why, size_t n)
{
        (void)spec;
        return dial(SOCK_DGRAM, "a UDP datagram", why, n);
}

static int unix_connect(const char *name, bool abstract, char *why, size_t n)
{
        if (!name)
                return 0;
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return 0;
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        size_t l = strlen(name);
        if (l + 2 > sizeof(a.sun_path)) {
                close(s);
                return 0;
        }
        memcpy(a.sun_path + abstract, name, l);
        socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
                                    l + abstract);
        int r = connect(s, (struct sockaddr *)&a, len);
        close(s);
        if (r < 0)
                return 0;
        snprintf(why, n, "the host's %s socket %s%s answered",
                 abstract ? "abstract" : "unix", abstract ? "@" : "", name);
        return 1;
}

static int host_socket(const struct box_spec *spec, char *why, size_t n)
{
        return unix_connect(spec->canary_sock, false, why, n);
}

static int abstract_socket(const struct box_spec *spec, char *why, size_t n)
{
        return unix_connect(spec->canary_abstract, true, why, n);
}

static int keyring(const struct box_spec *spec, char *why, size_t n)
{
        (void)spec;
        long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID,
                          KEY_SPEC_USER_KEYRING, 0);
        if (id < 0)
                return 0;
        snprintf(why, n, "keyctl found the user keyring (%ld)", id);
        return 1;
}

static int capabilities(const struct box_spec *spec, char *why, size_t n)
{
        (void)spec;
        struct __user_cap_header_struct h = {.version =
                                                     _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct d[2] = {{0}};
        if (syscall(SYS_capget, &h, d) < 0) {
                snprintf(why, n, "capget failed: %s", strerror(errno));
                return 1;
        }
        for (int i = 0; i < 2; i++)
                if (d[i].effective || d[i].permitted || d[i].inheritable) {
                        snprintf(why, n, "capabilities are held (%08x %08x)",
                                 d[i].effective, d[i].permitted);
                        return 1;
                }
        if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN) != 0 || getuid() == 0) {
                snprintf(why, n, "%s", getuid() == 0 ? "the box runs as uid 0"
                                                     : "the bounding set "
                                                       "holds CAP_SYS_ADMIN");
                return 1;
        }
        return 0;
}

/* What an agent's entrypoint checks before its prompts go off: that it
 * runs in a box (AGENT_SANDBOX=1, and Claude Code's IS_SANDBOX=1), each
 * once, in the environment the command gets. */
static int agent_env(const struct box_spec *spec, char *why, size_t n)
{
        static const char *const want[] = {"AGENT_SANDBOX=", "IS_SANDBOX="};
        for (size_t w = 0; w < ARRAY_SIZE(want); w++) {
                size_t len = strlen(want[w]), seen = 0;
                bool one = false;
                for (char **e = spec->envp; e && *e; e++)
                        if (strncmp(*e, want[w], len) == 0) {
                                seen++;
                                one = strcmp(*e + len, "1") == 0;
                        }
                if (seen != 1 || !one) {
                        snprintf(why, n, "the command's environment has %s "
                                         "%zu times, not once as 1",
                                 want[w], seen);
                        return 1;
                }
        }
        return 0;
}

static int seccomp_on(const struct box_spec *spec, char *why, size_t n)
{
        (void)spec;
        /* the filter refuses new user namespaces (EPERM); without it,
         * unshare would make one */
        char line[128];
        int mode = -1;
        FILE *f = fopen("/proc/self/status", "re");
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "Seccomp: %d", &mode) == 1)
                        break;
        if (f)
                fclose(f);
        if (mode != 2) {
                snprintf(why, n, "no seccomp filter (Seccomp: %d)", mode);
                return 1;
        }
        return 0;
}

static int landlock_on(const struct box_spec *spec, char *why, size_t n)
{
        /* a FIFO in the workspace: the directory lets the agent write
         * (DAC), only Landlock refuses the node */
        char p[4096];
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        snprintf(p, sizeof(p), "%s/.agentbox-selftest-%ld%09ld",
                 spec->policy->workspace, (long)t.tv_sec, t.tv_nsec);
        if (mkfifo(p, 0600) < 0)
                return errno == EEXIST ? landlock_on(spec, why, n) : 0;
        unlink(p);
        snprintf(why, n, "a FIFO could be made in the workspace (no "
                         "Landlock)");
        return 1;
}

static const struct canary canaries[] = {
        {"host-file", "read a file planted in your home", host_file},
        {"write-outside", "write outside the workspace and scratch space",
         write_outside},
        {"raw-ip", "reach a raw public address", raw_ip},
        {"raw-udp", "send UDP out", raw_udp},
        {"host-socket", "reach a unix socket on the host", host_socket},
        {"abstract-socket", "reach an abstract socket of the host's",
         abstract_socket},
        {"keyring", "reach the host's keyring", keyring},
        {"capabilities", "hold a capability, or be uid 0", capabilities},
        {"agent-env", "start the agent without AGENT_SANDBOX=1", agent_env},
        {"seccomp", "run without the seccomp filter", seccomp_on},
        {"landlock", "run without Landlock", landlock_on},
};

int box_selftest(const struct box_spec *spec)
{
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int failed = 0;
        for (size_t i = 0; i < ARRAY_SIZE(canaries); i++) {
                char why[512] = "";
                int r = canaries[i].try(spec, why, sizeof(why));
                failed += r;
                if (spec->selftest == BOX_SELFTEST_SHOW)
                        dprintf(2, "agentbox: self-test %-16s %s%s%s\n",
                                canaries[i].name,
                                r ? "GOT THROUGH: " : "held: cannot ",
                                r ? why : canaries[i].what, "");
                else if (r)
                        dprintf(2,
                                "agentbox: self-test: the %s canary got "
                                "through (%s: %s); the agent does not "
                                "start\n",
                                canaries[i].name, canaries[i].what, why);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (spec->selftest == BOX_SELFTEST_SHOW)
                dprintf(2, "agentbox: self-test: %zu canaries, %d got "
                           "through, %ld us\n",
                        ARRAY_SIZE(canaries), failed,
                        (long)((t1.tv_sec - t0.tv_sec) * 1000000 +
                               (t1.tv_nsec - t0.tv_nsec) / 1000));
        return failed;
}
