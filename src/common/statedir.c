#include "statedir.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/util.h"

/* Open (or make) one component below dir, refusing links and what is not
 * the caller's. */
static int step(int dir, const char *name, bool ours, struct ab_err *err)
{
        if (mkdirat(dir, name, 0700) < 0 && errno != EEXIST)
                return err_setx(err, -errno, "state directory: cannot make %s",
                                name);
        int fd = fileio_open_subdir(dir, name);
        if (fd < 0)
                return err_setx(err, -errno,
                                "state directory: cannot open %s (a link or "
                                "not a directory?)",
                                name);
        struct stat st;
        if (ours && (fstat(fd, &st) < 0 || st.st_uid != geteuid())) {
                close(fd);
                return err_set(err, -EPERM,
                               "state directory: %s is not owned by uid %u; "
                               "remove it",
                               name, (unsigned)geteuid());
        }
        return fd;
}

const char *statedir_base_override;

int statedir_open(const char *sub, struct ab_err *err)
{
        return statedir_open_kind(STATEDIR_STATE, sub, err);
}

int statedir_open_kind(enum statedir_kind kind, const char *sub,
                       struct ab_err *err)
{
        bool root = geteuid() == 0;
        const char *xdg_var = kind == STATEDIR_DATA ? "XDG_DATA_HOME"
                                                    : "XDG_STATE_HOME";
        const char *below_home[] = {".local",
                                    kind == STATEDIR_DATA ? "share" : "state"};
        const char *state = statedir_base_override ? statedir_base_override
                            : root                 ? NULL
                                                   : getenv(xdg_var);
        const char *home = root ? NULL : getenv("HOME");
        struct passwd *pw = NULL;
        if (!home || home[0] != '/') {
                pw = getpwuid(geteuid());
                home = pw ? pw->pw_dir : NULL;
        }
        bool xdg = state && state[0] == '/';
        const char *base = xdg ? state : home;
        if (!base || base[0] != '/')
                return err_set(err, -ENOENT,
                               "state directory: no home directory to keep "
                               "agentbox's state in; set %s",
                               xdg_var);
        /* The usual case, in one call: it all exists already. */
        char full[4096];
        if (snprintf(full, sizeof(full), "%s%s%s%s%s/agentbox%s%s", base,
                     xdg ? "" : "/", xdg ? "" : below_home[0],
                     xdg ? "" : "/", xdg ? "" : below_home[1],
                     sub ? "/" : "", sub ? sub : "") < (int)sizeof(full)) {
                int fd = fileio_open_nolinks(
                        AT_FDCWD, full, O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                        root);
                struct stat st;
                if (fd >= 0 && fstat(fd, &st) == 0 &&
                    st.st_uid == geteuid())
                        return fd;
                if (fd >= 0)
                        close(fd);
                /* else walk it, making and checking each step */
        }
        int fd = fileio_open_nolinks(AT_FDCWD, base,
                                     O_RDONLY | O_DIRECTORY | O_CLOEXEC, root);
        if (fd < 0)
                return err_setx(err, -errno, "state directory: %s", base);
        for (size_t i = 0; !xdg && i < ARRAY_SIZE(below_home); i++) {
                int next = step(fd, below_home[i], false, err);
                close(fd);
                if (next < 0)
                        return next;
                fd = next;
        }
        int next = step(fd, "agentbox", true, err);
        close(fd);
        if (next < 0 || !sub)
                return next;
        /* each component of sub in turn */
        char path[4096];
        if (snprintf(path, sizeof(path), "%s", sub) >= (int)sizeof(path)) {
                close(next);
                return err_set(err, -ENAMETOOLONG, "state directory: %s",
                               sub);
        }
        char *save = NULL;
        for (char *c = strtok_r(path, "/", &save); c;
             c = strtok_r(NULL, "/", &save)) {
                fd = next;
                next = step(fd, c, true, err);
                close(fd);
                if (next < 0)
                        return next;
        }
        return next;
}
