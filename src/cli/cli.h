#pragma once

#include "common/err.h"
#include "policy/policy.h"

/* Parse `agentbox run` arguments (argv[0] is "run") into p; *cmd points at
 * the command's argv inside argv (NULL: nothing follows the options).
 * Returns 0, 1 for --help shown, or -errno with err filled. */
int cli_run_parse(int argc, char **argv, struct policy *p, char ***cmd,
                  struct ab_err *err);

int cli_run(int argc, char **argv);

/* An agent command's part in a run (agent.c): its profile layer's name,
 * and a step once the layers are merged (the allowlist following a base
 * URL the layers set), which may add errors. */
struct policy_stack;
struct policy_errors;
struct cli_agent_hooks {
        int selftest; /* the box's self-test (box.h BOX_SELFTEST_*) */
        /* the agent's profile layer (NULL: none) */
        const struct policy_agent_hook *agent;
        /* once merged: a base URL followed, ...; and the command, when
         * cmd is NULL (the agent's, which its profile decides) */
        int (*after_load)(struct policy_stack *s, void *arg,
                          struct policy_errors *errs);
        char **(*command)(void *arg);
        void *arg;
};
/* Run cmd under the layers with flags on top (moved in), and an agent's
 * profile when hooks say.  Returns the exit status. */
int cli_run_layers(struct policy *flags, const struct cli_agent_hooks *hooks,
                   char **cmd);

extern const char cli_run_usage[];

/* agentbox check, agentbox trust (check.c) */
int cli_check(int argc, char **argv);
int cli_trust(int argc, char **argv);
/* Trust dir's project file only if its content hashes to hash (hex). */
int cli_trust_written(const char *dir, const char *hash);
extern const char cli_check_usage[];

/* The whole agentbox command (entry.c). */
int cli_main(int argc, char **argv);

/* agentbox init (init.c) */
int cli_init(int argc, char **argv);
extern const char cli_init_usage[];

/* agentbox [OPTIONS] claude|codex|gemini [ARGS...] (agent.c): the agent
 * name (NULL: the policy's agent.name) with its arguments, under flags
 * (moved in). */
int cli_agent(struct policy *flags, const char *name, int argc, char **argv);

/* agentbox selftest [RUN OPTIONS] (agent.c) */
int cli_selftest(int argc, char **argv);
