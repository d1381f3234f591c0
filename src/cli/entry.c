/* The agentbox command: which subcommand runs. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common/util.h"

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
        "  selftest [OPTIONS]              prove a box's walls, canary by canary\n"
        "  init [TEMPLATE]                 write an agentbox.yaml for this\n"
        "                                  project (node, python, go, ...)\n"
        "  version                         print the version\n"
        "  help                            show this help\n"
        "\n"
        "See agentbox run --help, agentbox(1) and agentbox.yaml(5).\n";

int cli_main(int argc, char **argv)
{
        if (argc < 2) {
                fputs(usage, stderr);
                return EXIT_AGENTBOX;
        }
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
        if (strcmp(c, "claude") == 0 || strcmp(c, "codex") == 0 ||
            strcmp(c, "gemini") == 0)
                return cli_agent(c, argc - 1, argv + 1);
        if (strcmp(c, "version") == 0 || strcmp(c, "--version") == 0) {
                printf("agentbox %s\n", AGENTBOX_VERSION);
                return 0;
        }
        if (strcmp(c, "help") == 0 || strcmp(c, "--help") == 0 ||
            strcmp(c, "-h") == 0) {
                fputs(usage, stdout);
                return 0;
        }
        fprintf(stderr, "agentbox: unknown command \"%s\"; see agentbox help\n",
                c);
        return EXIT_AGENTBOX;
}
