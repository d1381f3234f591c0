/* agentbox's own messages while a box runs (denials, caps reached): one
 * line each, to stderr, or through a sink that never blocks (the terminal
 * relay, session/tty.c), so a terminal that takes no output cannot stall
 * the proxy. */
#pragma once

#include <stddef.h>
#include <stdio.h>

/* One line, without its newline; longer than 4 KiB is cut. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Where say() goes from now on: sink(arg, line, len), or stderr again
 * with NULL.  The sink must not block. */
void say_set_sink(void (*sink)(void *arg, const char *line, size_t len),
                  void *arg);

/* fprintf, with every control byte of the result but newline and tab
 * (C0, DEL, and C1 as UTF-8) written as an escape (\x1b, \u009b): for
 * text that holds what an outside file said (a policy file's values), so
 * that it cannot move the cursor or rewrite what was printed before. */
void say_safe(FILE *f, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* s with every control byte (newline and tab too) escaped as say_safe
 * does, into a malloc'ed string (NULL when out of memory). */
char *say_escape(const char *s);
