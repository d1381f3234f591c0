#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "common/say.h"
#include "common/util.h"
#include "policy/layers.h"
#include "session/supervisor.h"

const char cli_run_usage[] =
        "Usage: agentbox run [OPTIONS] [--] COMMAND [ARG...]\n"
        "\n"
        "Run COMMAND in a box: it sees the workspace (read-write), the\n"
        "system's programs (read-only), a private home and /tmp, and nothing\n"
        "else of the host.\n"
        "\n"
        "Options:\n"
        "  -w, --workspace DIR   the directory shared read-write with the box,\n"
        "                        at the same path (default: the current one)\n"
        "  -e, --env NAME        pass the host's NAME into the box\n"
        "  -e, --env NAME=VALUE  set NAME in the box\n"
        "      --net MODE        network: filtered (default: only what --allow\n"
        "                        names, through agentbox's proxy and DNS), open\n"
        "                        (every public host, still filtered and logged)\n"
        "                        or off (a loopback and nothing else)\n"
        "  -a, --allow PATTERN   allow a destination: example.com, *.example.com\n"
        "                        (subdomains), example.com:22 (that port only;\n"
        "                        ports beyond 80 and 443 open a listener for\n"
        "                        tools without proxy settings), an address or\n"
        "                        CIDR (needed for internal addresses)\n"
        "      --deny PATTERN    refuse a destination, even if allowed\n"
        "      --audit FILE      the JSON-lines audit log (default:\n"
        "                        $XDG_STATE_HOME/agentbox/audit.jsonl)\n"
        "      --pids N          at most N processes and threads (default 2048)\n"
        "      --memory SIZE     a cap on all the memory the box holds (its\n"
        "                        processes, tmpfs, kernel memory), e.g. 4G;\n"
        "                        default half the host's; or unlimited\n"
        "      --cpus N          at most N CPUs' worth of time (e.g. 1.5)\n"
        "      --protect PATH    keep PATH (relative to the workspace) read-only\n"
        "                        and impossible to create, remove or replace\n"
        "      --unprotect PATH  drop PATH, and what is below it, from the\n"
        "                        protected paths (default: .git/hooks,\n"
        "                        .git/config, .claude, .vscode, .envrc, ...;\n"
        "                        see agentbox(1))\n"
        "      --tty-passthrough pass every control sequence the box writes to\n"
        "                        the terminal, clipboard and queries included\n"
        "                        (default: filtered; see agentbox(1))\n"
        "  -v, --verbose         say what the box chose (e.g. how pids are capped)\n"
        "  -h, --help            show this help\n"
        "\n"
        "The options come on top of the policy files: the administrator's\n"
        "/etc/agentbox/managed.yaml (a ceiling), ~/.config/agentbox/config.yaml\n"
        "and the workspace's agentbox.yaml (agentbox check shows the result;\n"
        "see agentbox.yaml(5)).\n"
        "\n"
        "Exit status: COMMAND's; 125 when agentbox itself fails, 126 when\n"
        "COMMAND cannot be executed, 127 when it is not found in the box.\n";

enum { OPT_NET = 256, OPT_PIDS, OPT_DENY, OPT_AUDIT, OPT_PROTECT,
       OPT_UNPROTECT, OPT_TTY_PASSTHROUGH, OPT_MEMORY, OPT_CPUS,
       OPT_PROFILE };

static const struct option run_opts[] = {
        {"workspace", required_argument, NULL, 'w'},
        {"env", required_argument, NULL, 'e'},
        {"net", required_argument, NULL, OPT_NET},
        {"pids", required_argument, NULL, OPT_PIDS},
        {"memory", required_argument, NULL, OPT_MEMORY},
        {"cpus", required_argument, NULL, OPT_CPUS},
        {"allow", required_argument, NULL, 'a'},
        {"deny", required_argument, NULL, OPT_DENY},
        {"audit", required_argument, NULL, OPT_AUDIT},
        {"protect", required_argument, NULL, OPT_PROTECT},
        {"unprotect", required_argument, NULL, OPT_UNPROTECT},
        {"tty-passthrough", no_argument, NULL, OPT_TTY_PASSTHROUGH},
        {"profile", required_argument, NULL, OPT_PROFILE},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {0},
};

static int set_str(char **dst, const char *v, struct ab_err *err)
{
        char *d = strdup(v);
        if (!d)
                return err_set(err, -ENOMEM, "out of memory");
        free(*dst);
        *dst = d;
        return 0;
}

int cli_run_parse(int argc, char **argv, struct policy *p, char ***cmd,
                  struct ab_err *err)
{
        optind = 0; /* full reset: tests parse more than once */
        opterr = 0;
        int c, r = 0;
        while (r == 0 &&
               (c = getopt_long(argc, argv, "+:w:e:a:vh", run_opts, NULL)) != -1) {
                /* where it came from: the flag's place on the line */
                struct policy_src src = {POLICY_LAYER_FLAGS,
                                         (uint32_t)optind - 1, 0};
                int k = c == 'w'           ? POLICY_K_WORKSPACE
                        : c == OPT_NET    ? POLICY_K_NET
                        : c == OPT_PIDS   ? POLICY_K_PIDS
                        : c == OPT_MEMORY ? POLICY_K_MEMORY
                        : c == OPT_CPUS   ? POLICY_K_CPUS
                        : c == OPT_PROFILE ? POLICY_K_PROFILE
                                          : -1;
                if (k >= 0) {
                        p->given |= 1u << k;
                        p->src[k] = src;
                }
                switch (c) {
                case 'w':
                        r = set_str(&p->workspace, optarg, err);
                        break;
                case 'e':
                        r = policy_env_add_as(p, optarg, "--env", src, err);
                        break;
                case OPT_NET:
                        r = policy_net_parse(optarg, &p->net, err);
                        break;
                case 'a':
                        r = netpat_list_add(&p->allow, optarg, "--allow", err);
                        if (r == 0)
                                p->allow.v[p->allow.n - 1].src = src;
                        break;
                case OPT_DENY:
                        r = netpat_list_add(&p->deny, optarg, "--deny", err);
                        if (r == 0)
                                p->deny.v[p->deny.n - 1].src = src;
                        break;
                case OPT_AUDIT:
                        r = set_str(&p->audit_path, optarg, err);
                        break;
                case OPT_PROTECT:
                case OPT_UNPROTECT:
                        r = protect_rule_add_src(&p->protect,
                                                 c == OPT_UNPROTECT, optarg,
                                                 c == OPT_PROTECT
                                                         ? "--protect"
                                                         : "--unprotect",
                                                 src, err);
                        break;
                case OPT_PIDS:
                        r = policy_pids_parse(optarg, &p->pids_max, err);
                        break;
                case OPT_MEMORY:
                        r = policy_memory_parse(optarg, &p->memory_max, err);
                        p->memory_given = r == 0;
                        break;
                case OPT_CPUS:
                        r = policy_cpus_parse(optarg, &p->cpus_milli, err);
                        break;
                case OPT_TTY_PASSTHROUGH:
                        p->tty_passthrough = true;
                        break;
                case OPT_PROFILE:
                        r = policy_profile_parse_as(optarg, &p->profile,
                                                    "--profile", err);
                        break;
                case 'v':
                        p->verbose = true;
                        break;
                case 'h':
                        return 1;
                case ':':
                        return err_set(err, -EINVAL,
                                       "option %s needs a value; see "
                                       "agentbox run --help",
                                       argv[optind - 1]);
                default:
                        return err_set(err, -EINVAL,
                                       "unknown option %s; see agentbox run "
                                       "--help",
                                       argv[optind - 1]);
                }
        }
        if (r < 0)
                return r;
        if (p->audit_path && !p->audit_path[0])
                return err_set(err, -EINVAL, "--audit: empty file name");
        if (optind >= argc) {
                *cmd = NULL; /* the caller's to say */
                return 0;
        }
        if (argv[optind][0] == 0)
                return err_set(err, -EINVAL, "the command is an empty string");
        *cmd = &argv[optind];
        return 0;
}

static void print_errors(const struct policy_errors *e)
{
        for (size_t i = 0; i < e->n; i++)
                say_safe(stderr, "agentbox: %s\n", e->v[i]);
}

int cli_run(int argc, char **argv)
{
        struct policy flags;
        struct ab_err err = {0};
        char **cmd = NULL;
        policy_init(&flags);
        int r = cli_run_parse(argc, argv, &flags, &cmd, &err);
        if (r == 1) {
                fputs(cli_run_usage, stdout);
                policy_free(&flags);
                return 0;
        }
        if (r == 0 && !cmd)
                r = err_set(&err, -EINVAL,
                            "no command given; usage: agentbox run "
                            "[OPTIONS] -- COMMAND [ARG...]");
        if (r == 0 && flags.given & 1u << POLICY_K_PROFILE)
                r = err_set(&err, -EINVAL,
                            "--profile is an agent's (agentbox --profile ci "
                            "claude -p ...); run takes a command as it is");
        if (r < 0) {
                say_safe(stderr, "agentbox: %s\n", err.msg);
                policy_free(&flags);
                return EXIT_AGENTBOX;
        }
        return cli_run_layers(&flags, NULL, cmd);
}

int cli_run_layers(struct policy *flags, const struct cli_agent_hooks *hooks,
                   char **cmd)
{
        struct ab_err err = {0};
        /* the layers: the managed ceiling, the user's file, an agent's
         * profile, the project's, then these flags (agentbox.yaml(5)) */
        struct policy_stack stack;
        struct policy_errors errs = {0};
        int r = policy_stack_load(&stack, flags, hooks ? hooks->agent : NULL,
                                  &errs);
        if (r == 0 && hooks && hooks->after_load)
                r = hooks->after_load(&stack, hooks->arg, &errs);
        if (r == 0 && !cmd && hooks && hooks->command &&
            !(cmd = hooks->command(hooks->arg))) {
                policy_errors_add(&errs, "out of memory");
                r = -ENOMEM;
        }
        if (r == 0)
                r = policy_stack_refuse(&stack, &errs);
        if (r < 0) {
                print_errors(&errs);
                policy_errors_free(&errs);
                policy_stack_free(&stack);
                return EXIT_AGENTBOX;
        }
        struct policy *p = &stack.effective;
        p->selftest = hooks ? hooks->selftest : 0;
        for (size_t i = 0; i < p->allow.n; i++)
                if (p->allow.v[i].shared_suffix)
                        say_safe(stderr,
                                "agentbox: note: network.allow %s covers a "
                                "shared suffix; its subdomains may belong to "
                                "different owners\n",
                                p->allow.v[i].text);
        for (size_t i = 0; i < p->n_env; i++)
                if (!p->env[i].value && !getenv(p->env[i].name))
                        say_safe(stderr,
                                "agentbox: env %s: not set in your "
                                "environment, so not passed\n",
                                p->env[i].name);
        int status = policy_resolve_secrets(p, &err) < 0
                             ? EXIT_AGENTBOX
                             : supervisor_run(p, cmd, &err);
        if (err.code)
                say_safe(stderr, "agentbox: %s\n", err.msg);
        policy_errors_free(&errs);
        policy_stack_free(&stack);
        return status;
}
