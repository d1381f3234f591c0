/* agentbox's own state directory, opened without following anyone's
 * links: $XDG_STATE_HOME/agentbox (or ~/.local/state/agentbox) for an
 * ordinary user, root's own home's under root (whatever HOME says: sudo -E
 * keeps the user's, and root must not write where a user's link points). */
#pragma once

#include "common/err.h"

/* Open (creating as needed, mode 0700) the state directory's
 * subdirectory sub (one component, or NULL for the directory itself) and
 * return an O_RDONLY|O_DIRECTORY descriptor, or -errno with err filled.
 * Under root no symlink is followed on the whole path; otherwise the base
 * ($XDG_STATE_HOME or $HOME) may be reached through links, but what
 * agentbox creates below it is opened with O_NOFOLLOW and must be owned
 * by the caller. */
int statedir_open(const char *sub, struct ab_err *err);

/* Which of agentbox's directories: its state ($XDG_STATE_HOME/agentbox,
 * ~/.local/state/agentbox: trust, workspaces, the audit log) or its data
 * ($XDG_DATA_HOME/agentbox, ~/.local/share/agentbox: the agents' own
 * state, kept for the user).  The test builds' override is the base of
 * both. */
enum statedir_kind { STATEDIR_STATE, STATEDIR_DATA };

/* statedir_open in either, with sub a relative path of one or more
 * components ("agents/claude"), each made and checked as sub is. */
int statedir_open_kind(enum statedir_kind kind, const char *sub,
                       struct ab_err *err);

/* Test builds only (tests/agentbox_test_main.c): the base instead of
 * $XDG_STATE_HOME or the home's, for root too. */
extern const char *statedir_base_override;
