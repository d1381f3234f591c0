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
        cr_assert_eq(box_landlock_apply("/tmp", &err), -ENOENT);
        cr_assert(strstr(err.msg, "/home/agent"), "%s", err.msg);
}

Test(harden, caps_dropped_and_verified)
{
        struct ab_err err = {0};
        cr_assert_eq(box_caps_drop(&err), 0, "%s", err.msg);
        cr_assert_eq(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1);
        cr_assert_eq(prctl(PR_CAPBSET_READ, 21 /* CAP_SYS_ADMIN */), 0);
}
