/* The seccomp rules: refuse the calls that reach kernel surface the box
 * never needs (mounts, modules, keyrings, bpf, new user namespaces, tty
 * injection).  Refused calls fail with EPERM, so tools see a clean error.
 * libseccomp compiles these at build time (seccomp_gen.c); the box loads
 * the compiled program (seccomp.c), which saves ~1.5 ms per start. */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <linux/seccomp.h>

#include "common/util.h"
#include "seccomp_rules.h"

static const char *const denied[] = {
        /* mounts and root changes */
        "mount", "umount", "umount2", "pivot_root", "chroot", "move_mount",
        "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
        "mount_setattr",
        /* the kernel itself */
        "kexec_load", "kexec_file_load", "init_module", "finit_module",
        "delete_module", "reboot", "swapon", "swapoff", "acct", "syslog",
        "iopl", "ioperm", "quotactl", "quotactl_fd", "lookup_dcookie",
        "uselib", "nfsservctl", "vhangup",
        /* keyrings */
        "keyctl", "add_key", "request_key",
        /* other kernel attack surface */
        "bpf", "perf_event_open", "userfaultfd", "io_uring_setup",
        "io_uring_enter", "io_uring_register", "fanotify_init",
        "name_to_handle_at", "open_by_handle_at", "setns",
        /* per-process descriptor tables: Wine and DOS emulators only,
         * and a source of kernel bugs (Docker's default allows it on x86;
         * systemd's @system-service does not) */
        "modify_ldt",
};

struct arg_rule {
        const char *name;
        unsigned arg;
        uint64_t mask;
        uint64_t value;
        int err;
};

/* Set-user-ID and set-group-ID bits: a file the agent marks so would run
 * as its owner for whoever on the host executes it, and under root the
 * workspace's owner is root.  Every call that sets a mode refuses them. */
#define SUID 04000u
#define SGID 02000u

static const struct arg_rule arg_rules[] = {
        {"chmod", 1, SUID, SUID, EPERM},
        {"chmod", 1, SGID, SGID, EPERM},
        {"fchmod", 1, SUID, SUID, EPERM},
        {"fchmod", 1, SGID, SGID, EPERM},
        {"fchmodat", 2, SUID, SUID, EPERM},
        {"fchmodat", 2, SGID, SGID, EPERM},
        {"fchmodat2", 2, SUID, SUID, EPERM},
        {"fchmodat2", 2, SGID, SGID, EPERM},
        {"open", 2, SUID, SUID, EPERM},
        {"open", 2, SGID, SGID, EPERM},
        {"openat", 3, SUID, SUID, EPERM},
        {"openat", 3, SGID, SGID, EPERM},
        {"creat", 1, SUID, SUID, EPERM},
        {"creat", 1, SGID, SGID, EPERM},
        {"mknod", 1, SUID, SUID, EPERM},
        {"mknod", 1, SGID, SGID, EPERM},
        {"mknodat", 2, SUID, SUID, EPERM},
        {"mknodat", 2, SGID, SGID, EPERM},
        /* typing into the caller's terminal */
        {"ioctl", 1, 0xffffffffu, TIOCSTI, EPERM},
        {"ioctl", 1, 0xffffffffu, TIOCLINUX, EPERM},
        /* line disciplines are kernel attack surface (n_gsm, ...) */
        {"ioctl", 1, 0xffffffffu, TIOCSETD, EPERM},
        /* new user namespaces (a policy switch may allow nesting later) */
        {"unshare", 0, CLONE_NEWUSER, CLONE_NEWUSER, EPERM},
        {"clone", 0, CLONE_NEWUSER, CLONE_NEWUSER, EPERM},
};

static int add(scmp_filter_ctx ctx, uint32_t action, const char *name,
               unsigned n, const struct scmp_arg_cmp *cmp, struct ab_err *err)
{
        /* A name libseccomp does not know at all would leave its rule out
         * without a word (fchmodat2's set-user-ID rules, with libseccomp
         * before 2.5.5): the build fails instead.  Names it knows that
         * an architecture lacks resolve to pseudo-numbers it handles. */
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR)
                return err_set(err, -ENOSYS,
                               "libseccomp does not know the system call %s: "
                               "build agentbox with a newer libseccomp",
                               name);
        int r = seccomp_rule_add_array(ctx, action, nr, n, cmp);
        if (r < 0)
                return err_setx(err, r, "seccomp rule for %s", name);
        return 0;
}

static int build(scmp_filter_ctx ctx, struct ab_err *err)
{
        int r = 0;
        for (size_t i = 0; i < ARRAY_SIZE(denied) && r == 0; i++)
                r = add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0, NULL, err);
        for (size_t i = 0; i < ARRAY_SIZE(arg_rules) && r == 0; i++) {
                const struct arg_rule *a = &arg_rules[i];
                struct scmp_arg_cmp c = {
                        .arg = a->arg,
                        .op = SCMP_CMP_MASKED_EQ,
                        .datum_a = a->mask,
                        .datum_b = a->value,
                };
                r = add(ctx, SCMP_ACT_ERRNO(a->err), a->name, 1, &c, err);
        }
        /* personality: only the query (0xffffffff) passes; every change
         * (ASLR off, READ_IMPLIES_EXEC, ...) is refused.  libseccomp allows
         * one comparison per argument, hence "below or above". */
        const struct scmp_arg_cmp lt = {.arg = 0, .op = SCMP_CMP_LT,
                                        .datum_a = 0xffffffffu};
        const struct scmp_arg_cmp gt = {.arg = 0, .op = SCMP_CMP_GT,
                                        .datum_a = 0xffffffffu};
        if (r == 0)
                r = add(ctx, SCMP_ACT_ERRNO(EPERM), "personality", 1, &lt, err);
        if (r == 0)
                r = add(ctx, SCMP_ACT_ERRNO(EPERM), "personality", 1, &gt, err);
        /* clone3 and openat2 pass flags and modes in memory seccomp cannot
         * read; ENOSYS makes libc fall back to clone and openat, whose
         * arguments are checked above. */
        if (r == 0)
                r = add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, err);
        if (r == 0)
                r = add(ctx, SCMP_ACT_ERRNO(ENOSYS), "openat2", 0, NULL, err);
        /* Socket families: only unix, IPv4, IPv6 and netlink.  Others are
         * not all confined by the network namespace (AF_VSOCK reaches the
         * VM host) or are needless kernel surface.  One comparison per
         * rule, so the refused values are listed as ranges. */
        static const struct {
                enum scmp_compare op;
                uint64_t v;
        } fam[] = {
                {SCMP_CMP_EQ, 0}, {SCMP_CMP_EQ, 3}, {SCMP_CMP_EQ, 4},
                {SCMP_CMP_EQ, 5}, {SCMP_CMP_EQ, 6}, {SCMP_CMP_EQ, 7},
                {SCMP_CMP_EQ, 8}, {SCMP_CMP_EQ, 9}, {SCMP_CMP_EQ, 11},
                {SCMP_CMP_EQ, 12}, {SCMP_CMP_EQ, 13}, {SCMP_CMP_EQ, 14},
                {SCMP_CMP_EQ, 15}, {SCMP_CMP_GT, 16},
        };
        for (size_t i = 0; i < ARRAY_SIZE(fam) && r == 0; i++) {
                struct scmp_arg_cmp c = {.arg = 0, .op = fam[i].op,
                                         .datum_a = fam[i].v};
                r = add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", 1, &c,
                        err);
        }
        return r;
}

int box_seccomp_rules(scmp_filter_ctx ctx, struct ab_err *err)
{
        int r = 0;
        /* The same rules for the 32-bit and x32 entry points, so a 32-bit
         * binary cannot walk around them. */
        if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
                r = seccomp_arch_add(ctx, SCMP_ARCH_X86);
                if (r == 0 || r == -EEXIST)
                        r = seccomp_arch_add(ctx, SCMP_ARCH_X32);
                if (r == -EEXIST)
                        r = 0;
                if (r < 0)
                        return err_setx(err, r, "seccomp: adding 32-bit arches");
        }
        return build(ctx, err);
}
