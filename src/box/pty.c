/* The box's own pseudo-terminal, child side.  The caller's terminal never
 * enters the box: the streams that are one are /dev/null from the first
 * step after clone, and the box's own pty once its devpts is mounted.
 * The pty comes from that devpts instance (so /dev/tty and /dev/pts work
 * inside), set up as the caller's terminal is, as the controlling
 * terminal of the box's session; its master goes to the supervisor, which
 * relays it to the caller's terminal (session/tty.c). */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "common/util.h"
#include "internal.h"

void box_pty_hide_caller(const struct box_spec *spec)
{
        if (!spec->pty)
                return;
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0)
                box_die_errno(errno, "/dev/null");
        for (int fd = 0; fd < 3; fd++)
                if (spec->tty[fd] && dup2(null, fd) < 0)
                        box_die_errno(errno, "dup2");
        close(null);
}

void box_pty_make(struct box_spec *spec, int sync_fd)
{
        spec->pty_slave = -1;
        if (!spec->pty)
                return;
        int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                box_die_errno(errno, "cannot open the box's /dev/pts/ptmx");
        int unlock = 0;
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                box_die_errno(errno, "unlockpt");
        int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                box_die_errno(errno, "cannot open the box's terminal");
        /* as the caller's terminal is set; the caller's own settings come
         * back when the box ends, whatever the box does to this one */
        if (tcsetattr(slave, TCSANOW, &spec->tio) < 0 ||
            ioctl(slave, TIOCSWINSZ, &spec->winsz) < 0)
                box_die_errno(errno, "setting up the box's terminal");
        /* the box's session (setsid in child.c) gets it as its terminal */
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                box_die_errno(errno, "TIOCSCTTY");
        for (int fd = 0; fd < 3; fd++)
                if (spec->tty[fd] && dup2(slave, fd) < 0)
                        box_die_errno(errno, "dup2");
        if (box_sync_send(sync_fd, 'T', master) < 0)
                _exit(EXIT_AGENTBOX); /* the supervisor reports why */
        close(master);
        spec->pty_slave = slave;
}
