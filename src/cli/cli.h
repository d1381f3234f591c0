#pragma once

#include "common/err.h"
#include "policy/policy.h"

/* Parse `agentbox run` arguments (argv[0] is "run") into p; *cmd points at
 * the command's argv inside argv.  Returns 0, 1 for --help shown, or -errno
 * with err filled. */
int cli_run_parse(int argc, char **argv, struct policy *p, char ***cmd,
                  struct ab_err *err);

int cli_run(int argc, char **argv);

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
