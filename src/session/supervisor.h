/* The supervisor: starts a box and runs the event loop that serves it
 * (signals now; the network side and the control socket later). */
#pragma once

#include "common/err.h"
#include "policy/policy.h"

/* Run argv in a box under p.  Returns the exit status agentbox should exit
 * with; on agentbox's own failure returns 125 with err filled. */
int supervisor_run(struct policy *p, char *const *argv, struct ab_err *err);

/* The standard streams are the one thing of the host the box inherits;
 * refuse any that would be a way out (a directory, an O_PATH fd). */
int supervisor_check_stdio(struct ab_err *err);
