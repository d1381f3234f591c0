/* Load the box's seccomp program, compiled from seccomp_rules.c by
 * libseccomp at build time, and check that it is in force. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seccomp_bpf.h" /* generated in the build directory */
#include "common/util.h"
#include "internal.h"

int box_seccomp_apply(struct ab_err *err)
{
        struct sock_fprog prog = {
                .len = (unsigned short)ARRAY_SIZE(box_seccomp_prog),
                .filter = (struct sock_filter *)box_seccomp_prog,
        };
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                return err_setx(err, -errno, "loading the seccomp filter");
        if (prctl(PR_GET_SECCOMP) != 2 /* SECCOMP_MODE_FILTER */)
                return err_set(err, -EPERM, "seccomp filter not in force");
        return 0;
}
