/* agentbox's own messages while a box runs (denials, caps reached): one
 * line each, to stderr, or through a sink that never blocks (the terminal
 * relay, session/tty.c), so a terminal that takes no output cannot stall
 * the proxy. */
#pragma once

#include <stddef.h>

/* One line, without its newline; longer than 4 KiB is cut. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Where say() goes from now on: sink(arg, line, len), or stderr again
 * with NULL.  The sink must not block. */
void say_set_sink(void (*sink)(void *arg, const char *line, size_t len),
                  void *arg);
