#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <string.h>

#include "cli/cli.h"
#include "policy/layers.h"

static int parse(int argc, char **argv, struct policy *p, char ***cmd,
                 struct ab_err *err)
{
        policy_init(p);
        return cli_run_parse(argc, argv, p, cmd, err);
}

Test(cli, basic)
{
        char *argv[] = {"run", "-w", "/tmp", "--env", "A=1", "--pids", "10",
                        "--", "sh", "-c", "id", NULL};
        struct policy p;
        struct ab_err err = {0};
        char **cmd = NULL;
        cr_assert_eq(parse(11, argv, &p, &cmd, &err), 0, "%s", err.msg);
        cr_assert_str_eq(p.workspace, "/tmp");
        cr_assert_eq(p.pids_max, 10);
        cr_assert_str_eq(cmd[0], "sh");
        cr_assert_str_eq(cmd[2], "id");
        cr_assert_eq(p.net, POLICY_NET_FILTERED);
        policy_free(&p);
}

Test(cli, stops_at_command)
{
        char *argv[] = {"run", "ls", "-w", NULL};
        struct policy p;
        struct ab_err err = {0};
        char **cmd = NULL;
        cr_assert_eq(parse(3, argv, &p, &cmd, &err), 0);
        cr_assert_str_eq(cmd[1], "-w");
        policy_free(&p);
}

Test(cli, nothing_after_the_options)
{
        struct policy p;
        struct ab_err err = {0};
        char **cmd = (char **)1;
        char *argv[] = {"run", "--net", "off", NULL};
        cr_assert_eq(parse(3, argv, &p, &cmd, &err), 0);
        cr_assert_null(cmd);
        policy_free(&p);
}

Test(cli, errors)
{
        struct {
                int argc;
                char *argv[7];
                const char *msg;
        } cases[] = {
                {2, {"run", "--bogus"}, "unknown option --bogus"},
                {2, {"run", "--pids"}, "needs a value"},
                {6, {"run", "--net", "off", "--allow", "a.example", "x"}, "no network"},
                {4, {"run", "--allow", "*.com", "x"}, "public suffix"},
                {4, {"run", "--deny", "*", "x"}, "too broad"},
                {4, {"run", "--net", "nope", "x"}, "unknown mode"},
                {4, {"run", "--pids", "0", "x"}, "whole number"},
                {3, {"run", "--", ""}, "empty"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct policy p;
                struct ab_err err = {0};
                char **cmd = NULL;
                int r = parse(cases[i].argc, cases[i].argv, &p, &cmd, &err);
                /* what needs the merged layers is checked on them */
                if (r == 0)
                        r = policy_check_effective(&p, &err);
                cr_assert_lt(r, 0, "case %zu", i);
                cr_assert(strstr(err.msg, cases[i].msg), "case %zu: %s", i,
                          err.msg);
                policy_free(&p);
        }
}

Test(cli, help)
{
        char *argv[] = {"run", "--help", NULL};
        struct policy p;
        struct ab_err err = {0};
        char **cmd = NULL;
        cr_assert_eq(parse(2, argv, &p, &cmd, &err), 1);
        policy_free(&p);
}
