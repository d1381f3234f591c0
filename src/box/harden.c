/* The walls that stay with the process: no capabilities, no_new_privs,
 * Landlock on writes, a seccomp filter.  Each step is verified, never
 * assumed: a wall that silently did nothing is a failure. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <linux/securebits.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "internal.h"

int box_caps_drop(struct ab_err *err)
{
        if (prctl(PR_SET_SECUREBITS,
                  SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
                          SECBIT_NO_SETUID_FIXUP |
                          SECBIT_NO_SETUID_FIXUP_LOCKED |
                          SECBIT_KEEP_CAPS_LOCKED |
                          SECBIT_NO_CAP_AMBIENT_RAISE |
                          SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) < 0)
                return err_setx(err, -errno, "PR_SET_SECUREBITS");
        /* The kernel's capabilities are 0 to its last one: the first
         * EINVAL is past the end (the check below reads one back). */
        for (int c = 0; c <= 63; c++) {
                if (prctl(PR_CAPBSET_DROP, c) == 0)
                        continue;
                if (errno == EINVAL && c > CAP_SYS_ADMIN)
                        break;
                return err_setx(err, -errno, "dropping capability %d", c);
        }
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return err_setx(err, -errno, "clearing ambient capabilities");
        struct __user_cap_header_struct h = {.version =
                                                     _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct d[2] = {{0}};
        if (syscall(SYS_capset, &h, d) < 0)
                return err_setx(err, -errno, "dropping capabilities");
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return err_setx(err, -errno, "PR_SET_NO_NEW_PRIVS");

        /* Verify. */
        if (syscall(SYS_capget, &h, d) < 0)
                return err_setx(err, -errno, "capget");
        for (int i = 0; i < 2; i++)
                if (d[i].effective || d[i].permitted || d[i].inheritable)
                        return err_set(err, -EPERM,
                                       "capabilities still held after "
                                       "dropping them");
        if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN) != 0 ||
            prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
                return err_set(err, -EPERM,
                               "bounding set or no_new_privs not in force");
        return 0;
}

/* ---- Landlock ---------------------------------------------------------- */

/* Debian 12's kernel headers predate Landlock ABI 3; these are the
 * kernel's UAPI values (include/uapi/linux/landlock.h), which never change. */
#define LL_ACCESS_FS_TRUNCATE (1ULL << 14)
#define LL_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {
        uint64_t handled_access_fs;
        uint64_t handled_access_net; /* ABI 4 */
        uint64_t scoped;             /* ABI 6 */
};

static long ll_create(const struct ll_ruleset_attr *a, size_t size,
                      uint32_t flags)
{
        return syscall(SYS_landlock_create_ruleset, a, size, flags);
}

#define LL_FILE_WRITE                                                         \
        (LANDLOCK_ACCESS_FS_WRITE_FILE)
#define LL_DIR_WRITE                                                          \
        (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |      \
         LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |      \
         LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |          \
         LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |        \
         LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM)

struct ll_rule {
        const char *path;
        bool dir;
        bool dev;     /* terminal-like: ioctls allowed */
        bool nonodes; /* no FIFOs, sockets or device nodes (the workspace:
                       * the host's tools would open them later) */
};

static int ll_add(int ruleset, const struct ll_rule *r, uint64_t handled,
                  struct ab_err *err)
{
        _cleanup_close_ int fd = open(r->path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return err_setx(err, -errno, "landlock: cannot open %s",
                                r->path);
        uint64_t want = r->dir ? LL_DIR_WRITE | LANDLOCK_ACCESS_FS_REFER |
                                         LL_ACCESS_FS_TRUNCATE
                               : LL_FILE_WRITE | LL_ACCESS_FS_TRUNCATE;
        if (r->dev)
                want |= LL_ACCESS_FS_IOCTL_DEV;
        if (r->nonodes)
                want &= ~(uint64_t)(LANDLOCK_ACCESS_FS_MAKE_FIFO |
                                    LANDLOCK_ACCESS_FS_MAKE_SOCK |
                                    LANDLOCK_ACCESS_FS_MAKE_CHAR |
                                    LANDLOCK_ACCESS_FS_MAKE_BLOCK);
        struct landlock_path_beneath_attr pb = {
                .allowed_access = want & handled,
                .parent_fd = fd,
        };
        if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH,
                    &pb, 0) < 0)
                return err_setx(err, -errno, "landlock: rule for %s", r->path);
        return 0;
}

int box_landlock_apply(const char *workspace, const char *repo,
                       const struct box_mount *mounts, size_t n_mounts,
                       struct ab_err *err)
{
        long abi = ll_create(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
        if (abi < 1)
                return err_setx(err, abi < 0 ? -errno : -ENOSYS,
                                "Landlock is not available on this kernel "
                                "(needs Linux >= 5.13 with landlock in the "
                                "lsm= boot parameter); the box refuses to "
                                "start without its second wall");
        uint64_t handled = LL_DIR_WRITE;
        if (abi >= 2)
                handled |= LANDLOCK_ACCESS_FS_REFER;
        if (abi >= 3)
                handled |= LL_ACCESS_FS_TRUNCATE;
        if (abi >= 5)
                handled |= LL_ACCESS_FS_IOCTL_DEV;
        struct ll_ruleset_attr attr = {.handled_access_fs = handled};
        size_t attr_size = sizeof(attr.handled_access_fs);
        if (abi >= 6) {
                /* No signals and no abstract unix sockets across the box's
                 * edge, even were a namespace shared. */
                attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
                attr_size = sizeof(attr);
        }
        _cleanup_close_ int rs = (int)ll_create(&attr, attr_size, 0);
        if (rs < 0)
                return err_setx(err, -errno, "landlock_create_ruleset");
        /* Landlock's rights pass down to everything below a rule's
         * directory, so a scratch directory holding the workspace gives
         * it no more than the workspace's own rule does. */
        bool in_tmp = strncmp(workspace, "/tmp/", 5) == 0;
        bool in_vartmp = strncmp(workspace, "/var/tmp/", 9) == 0;
        /* a read-write host directory in the home: no nodes in the home
         * at all (a rule's rights reach everything below it) */
        bool home_binds = false;
        for (size_t i = 0; i < n_mounts; i++)
                home_binds |= mounts[i].rw &&
                              strncmp(mounts[i].box, BOX_HOME "/",
                                      strlen(BOX_HOME) + 1) == 0;
        const struct ll_rule rules[] = {
                {workspace, true, false, true},
                {"/tmp", true, false, in_tmp},
                {"/var/tmp", true, false, in_vartmp},
                {BOX_HOME, true, false, home_binds},
                {"/dev/shm", true, false, false}, {"/dev/pts", true, true, false},
                {"/dev/null", false, true, false}, {"/dev/tty", false, true, false},
                {repo, true, false, true},
        };
        for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
                if (!rules[i].path)
                        continue; /* no linked worktree's repository */
                int r = ll_add(rs, &rules[i], handled, err);
                if (r < 0)
                        return r;
        }
        /* a read-write filesystem.mounts: like the workspace, no nodes
         * the host's programs would open later */
        for (size_t i = 0; i < n_mounts; i++) {
                if (!mounts[i].rw)
                        continue;
                struct stat st;
                struct ll_rule r = {mounts[i].box, true, false, true};
                r.dir = stat(mounts[i].box, &st) == 0 && S_ISDIR(st.st_mode);
                int e = ll_add(rs, &r, handled, err);
                if (e < 0)
                        return e;
        }
        if (syscall(SYS_landlock_restrict_self, rs, 0) < 0)
                return err_setx(err, -errno, "landlock_restrict_self");
        return 0;
}
