/* Each Criterion test runs in its own process, so the walls can be put up
 * for real and tried. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "box/internal.h"

Test(harden, seccomp_refuses)
{
        struct ab_err err = {0};
        cr_assert_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
        cr_assert_eq(box_seccomp_apply(&err), 0, "%s", err.msg);
        errno = 0;
        cr_assert_eq(mount("none", "/tmp", "tmpfs", 0, NULL), -1);
        cr_assert_eq(errno, EPERM);
        cr_assert_eq(unshare(CLONE_NEWUSER), -1);
        cr_assert_eq(errno, EPERM);
        cr_assert_eq(syscall(SYS_bpf, 0, 0, 0), -1);
        cr_assert_eq(errno, EPERM);
        cr_assert_eq(syscall(SYS_clone3, NULL, 0), -1);
        cr_assert_eq(errno, ENOSYS);
        char c = 'x';
        cr_assert_eq(ioctl(0, TIOCSTI, &c), -1);
        cr_assert_eq(errno, EPERM);
        int ld = 0;
        cr_assert_eq(ioctl(0, TIOCSETD, &ld), -1);
        cr_assert_eq(errno, EPERM);
        cr_assert_eq(syscall(SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */), -1);
        cr_assert_eq(errno, EPERM);
        cr_assert_eq(syscall(SYS_personality, 0x100040000ull), -1);
        cr_assert_eq(errno, EPERM);
        cr_assert_geq(syscall(SYS_personality, 0xffffffffu), 0);
#if defined(__x86_64__)
        /* The i386 entry point (int 0x80) is filtered by the same rules
         * (arch added in seccomp_rules.c); this kernel has IA32 emulation
         * off, so it cannot be exercised here. */
        /* x32 numbering (bit 30): refused or unknown, never run */
        cr_assert_eq(syscall(0x40000000 | SYS_unshare, CLONE_NEWUSER), -1);
        cr_assert(errno == EPERM || errno == ENOSYS);
#endif
        /* setuid/setgid bits, however they are asked for */
        char f[] = "/tmp/abhard.XXXXXX";
        int fd = mkstemp(f);
        cr_assert_geq(fd, 0);
        cr_assert_eq(chmod(f, 04755), -1);
        cr_assert_eq(errno, EPERM);
        cr_assert_eq(fchmod(fd, 02755), -1);
        cr_assert_eq(errno, EPERM);
        cr_assert_eq(fchmodat(AT_FDCWD, f, 06755, 0), -1);
        cr_assert_eq(errno, EPERM);
        cr_assert_eq(chmod(f, 0755), 0);
        unlink(f);
        cr_assert_eq(open(f, O_CREAT | O_WRONLY, 04755), -1);
        cr_assert_eq(errno, EPERM);
        cr_assert_eq(syscall(SYS_openat2, AT_FDCWD, f, NULL, 0), -1);
        cr_assert_eq(errno, ENOSYS);
        close(fd);
        /* socket families outside unix/inet/inet6/netlink */
        cr_assert_eq(socket(40 /* AF_VSOCK */, SOCK_STREAM, 0), -1);
        cr_assert_eq(errno, EAFNOSUPPORT);
        cr_assert_eq(socket(38 /* AF_ALG */, SOCK_SEQPACKET, 0), -1);
        cr_assert_eq(errno, EAFNOSUPPORT);
        cr_assert_eq(socket(AF_UNSPEC, SOCK_STREAM, 0), -1);
        cr_assert_eq(errno, EAFNOSUPPORT);
        int s4 = socket(AF_INET, SOCK_STREAM, 0);
        cr_assert_geq(s4, 0);
        close(s4);
        int su = socket(AF_UNIX, SOCK_STREAM, 0);
        cr_assert_geq(su, 0);
        close(su);
        /* ordinary calls still work */
        cr_assert_geq(getpid(), 1);
        cr_assert_eq(unshare(0), 0);
}

Test(harden, landlock_fails_closed)
{
        /* A rule whose path is missing must stop the box, never be skipped:
         * outside a box /home/agent does not exist. */
        struct ab_err err = {0};
        cr_assert_neq(access("/home/agent", F_OK), 0);
        cr_assert_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
        cr_assert_eq(box_landlock_apply("/tmp", NULL, NULL, 0, &err), -ENOENT);
        cr_assert(strstr(err.msg, "/home/agent"), "%s", err.msg);
}

/* Criterion's test process has threads, and a threaded process cannot
 * enter a new user namespace: do it in a forked child. */
static int caps_child(void)
{
        struct ab_err err = {0};
        if (unshare(CLONE_NEWUSER) != 0)
                return 10;
        if (prctl(PR_CAPBSET_READ, 21 /* CAP_SYS_ADMIN */) != 1)
                return 11;
        if (box_caps_drop(&err) != 0) {
                fprintf(stderr, "%s\n", err.msg);
                return 12;
        }
        if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
                return 13;
        if (prctl(PR_CAPBSET_READ, 21) != 0)
                return 14;
        return 0;
}

Test(harden, caps_dropped_and_verified)
{
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0)
                _exit(caps_child());
        int st = 0;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert(WIFEXITED(st));
        cr_assert_eq(WEXITSTATUS(st), 0, "step %d failed", WEXITSTATUS(st));
}
