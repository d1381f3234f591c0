/* The box's terminal, host side: the caller's terminal is the supervisor's
 * alone; the box has a pseudo-terminal of its own (box/pty.c), and this
 * relays between the two on the event loop, never blocking on either.
 * A unit of its own so that `agentbox exec` into a running box can reuse
 * it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "common/err.h"

struct event_base;

/* The caller's standard streams that are terminals, and how the terminal
 * is set (the first of them that is one: ctl). */
struct tty_caller {
        bool tty[3];
        int ctl;
        struct termios saved;
        struct winsize ws;
};

/* Fill tc; true when any of fd 0, 1, 2 is a terminal. */
bool tty_probe(struct tty_caller *tc);

struct tty_relay;

/* Relay the box's terminal (its master, taken) to the caller's: the box's
 * output, filtered (session/ttyfilter.h) unless passthrough, to the
 * caller's terminal; the caller's keys (when stdin is the terminal and
 * agentbox has the foreground) to the box; the caller's terminal raw
 * meanwhile but for Ctrl-Z, which stops agentbox and the box
 * (tty_relay_suspend).  agentbox's own messages (common/say.h) go the same
 * way when stderr is the terminal: at once while the box's program reads
 * lines, held while it has the screen (the alternate screen, or its
 * terminal not in line mode) and shown, each once, when it gives the
 * screen back or ends. */
int tty_relay_start(struct event_base *base, const struct tty_caller *tc,
                    int master, bool passthrough, struct tty_relay **out,
                    struct ab_err *err);

/* The caller's window size, to the box's terminal (SIGWINCH). */
void tty_relay_resize(struct tty_relay *r);

/* Ctrl-Z (SIGTSTP): the caller's terminal as it was, then stop agentbox
 * itself; returns once continued, with the terminal raw again if
 * agentbox is in the foreground (fg), and reading no keys if not (bg). */
void tty_relay_suspend(struct tty_relay *r);

/* agentbox was continued (SIGCONT) other than from tty_relay_suspend: by
 * fg after bg, or after a start in the background.  Takes the keys and
 * the terminal's raw mode if agentbox is now in the foreground. */
void tty_relay_resume(struct tty_relay *r);

/* The box has ended: what it wrote last goes out (for a second at most
 * if the terminal takes nothing), then what turns off the modes its
 * program left on (alternate screen, mouse, bracketed paste, a hidden
 * cursor) and the messages held; the caller's terminal is set back
 * exactly as it was, and r is freed. */
void tty_relay_finish(struct tty_relay *r);
