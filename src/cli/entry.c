/* The agentbox command: which subcommand runs. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common/say.h"
#include "common/util.h"
#include "policy/policy.h"

#ifndef AGENTBOX_VERSION
#define AGENTBOX_VERSION "0"
#endif

static const char usage[] =
        "Usage: agentbox COMMAND [OPTIONS]\n"
        "\n"
        "Run an AI coding agent, or any command, in a box it cannot escape.\n"
        "\n"
        "Commands:\n"
        "  run [OPTIONS] -- CMD [ARG...]   run CMD in a one-shot box\n"
        "  check [--json] [--explain X]    show the effective policy and where\n"
        "                                  each value comes from\n"
        "  trust [DIR]                     approve DIR/agentbox.yaml as it is\n"
        "  claude [ARGS...]                Claude Code, autonomous in a box\n"
        "  codex [ARGS...]                 Codex CLI, autonomous in a box\n"
        "  gemini [ARGS...]                Gemini CLI, autonomous in a box\n"
        "  [OPTIONS] AGENT [ARGS...]       the same, with run's options and\n"
        "                                  --profile autonomous|ci|interactive\n"
        "  [OPTIONS] [-- ARGS...]          the agent a policy file names\n"
        "                                  (agent.name)\n"
        "  selftest [OPTIONS]              prove a box's walls, canary by canary\n"
        "  init [TEMPLATE]                 write an agentbox.yaml for this\n"
        "                                  project (node, python, go, ...)\n"
        "  version                         print the version\n"
        "  help                            show this help\n"
        "\n"
        "See agentbox run --help, agentbox(1) and agentbox.yaml(5).\n";

/* agentbox [OPTIONS] [AGENT [ARGS...]]: run's options, then the agent
 * (none: the policy's agent.name). */
static int agent_with_options(int argc, char **argv)
{
        struct policy flags;
        struct ab_err err = {0};
        char **cmd = NULL;
        policy_init(&flags);
        int r = cli_run_parse(argc, argv, &flags, &cmd, &err);
        if (r == 1) {
                fputs(usage, stdout);
                policy_free(&flags);
                return 0;
        }
        /* after "--", the policy's agent's own arguments */
        bool args_only = r == 0 && cmd && cmd > argv + 1 &&
                         strcmp(cmd[-1], "--") == 0 &&
                         !policy_agent_known(cmd[0]);
        if (r == 0 && cmd && !args_only && !policy_agent_known(cmd[0]))
                r = err_set(&err, -EINVAL,
                            "\"%s\" is not an agent (claude, codex or "
                            "gemini); for the agent a policy file names, "
                            "agentbox [OPTIONS] -- ARGS; for another "
                            "command, agentbox run [OPTIONS] -- COMMAND",
                            cmd[0]);
        if (r < 0) {
                say_safe(stderr, "agentbox: %s\n", err.msg);
                policy_free(&flags);
                return EXIT_AGENTBOX;
        }
        int n = 0;
        while (cmd && cmd[n])
                n++;
        if (args_only)
                return cli_agent(&flags, NULL, n, cmd);
        return cli_agent(&flags, cmd ? cmd[0] : NULL, cmd ? n - 1 : 0,
                         cmd ? cmd + 1 : NULL);
}

int cli_main(int argc, char **argv)
{
        if (argc < 2 || (argv[1][0] == '-' && strcmp(argv[1], "-h") != 0 &&
                         strcmp(argv[1], "--help") != 0 &&
                         strcmp(argv[1], "--version") != 0))
                return agent_with_options(argc, argv);
        const char *c = argv[1];
        if (strcmp(c, "run") == 0)
                return cli_run(argc - 1, argv + 1);
        if (strcmp(c, "check") == 0)
                return cli_check(argc - 1, argv + 1);
        if (strcmp(c, "trust") == 0)
                return cli_trust(argc - 1, argv + 1);
        if (strcmp(c, "init") == 0)
                return cli_init(argc - 1, argv + 1);
        if (strcmp(c, "selftest") == 0)
                return cli_selftest(argc - 1, argv + 1);
        if (policy_agent_known(c)) {
                struct policy flags;
                policy_init(&flags);
                return cli_agent(&flags, c, argc - 2, argv + 2);
        }
        if (strcmp(c, "version") == 0 || strcmp(c, "--version") == 0) {
                printf("agentbox %s\n", AGENTBOX_VERSION);
                return 0;
        }
        if (strcmp(c, "help") == 0 || strcmp(c, "--help") == 0 ||
            strcmp(c, "-h") == 0) {
                fputs(usage, stdout);
                return 0;
        }
        say_safe(stderr,
                 "agentbox: unknown command \"%s\"; see agentbox help\n", c);
        return EXIT_AGENTBOX;
}
