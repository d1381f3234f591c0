/* Files an agent's profile keeps in agentbox's state directory for it
 * (agent.c): only what the vendor has no flag or variable for, never
 * anything that turns its prompts off. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

#define AGENTCFG_MAX (1u << 20) /* a settings file agentbox reads */

/* Gemini CLI's settings.json as text in (NULL: none yet), with
 * agentbox's keys set over it: (when quiet) usage statistics, telemetry and update
 * checks off, variables that look like secrets kept from its tools, and,
 * when api_key_auth (a base URL is set), the API-key sign-in its own
 * validator needs.  Everything else of the user's stays.  *out is
 * malloc'ed.  0, or -EINVAL with err filled (not a JSON object). */
enum {
        AGENTCFG_KEY_AUTH = 1, /* the API-key sign-in (a base URL is set) */
        AGENTCFG_QUIET = 2,    /* nonessential traffic off */
        AGENTCFG_NO_CODE = 4,  /* no MCP server, hook or tool command: the
                                * state is shared by every project's box */
        AGENTCFG_ASK = 8,      /* interactive: no tool allowed unasked */
};
int agentcfg_gemini(const char *in, size_t len, unsigned flags, char **out,
                    struct ab_err *err);

/* dir_fd/name read without following a link: 0 with *out NULL when
 * there is none, 0 with *out malloc'ed (NUL-terminated, *len bytes), or
 * -EINVAL when it is no regular file of at most AGENTCFG_MAX bytes, or
 * -errno. */
int agentcfg_read(int dir_fd, const char *name, char **out, size_t *len);

/* Put text at dir_fd/name (a new file renamed over whatever the box left
 * there), made in the directory sub below dir_fd first when sub is given
 * (followed by no link).  0 or -errno, err filled. */
int agentcfg_put(int dir_fd, const char *sub, const char *name,
                 const char *text, const char *shown, struct ab_err *err);

/* Rewrite dir_fd/name through fn (in: its content, or NULL when there
 * is none): read without following a link, at most AGENTCFG_MAX bytes,
 * a regular file; written whole to a new file, renamed over it.  What
 * the box left there is input like any other.  0 or -errno, err filled
 * (naming shown, the path for messages). */
int agentcfg_update(int dir_fd, const char *name, const char *shown,
                    int (*fn)(const char *in, size_t len, void *arg,
                              char **out, struct ab_err *err),
                    void *arg, struct ab_err *err);
