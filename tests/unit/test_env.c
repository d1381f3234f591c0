#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <string.h>

#include "box/box.h"

Test(env, clean_by_default)
{
        struct policy p;
        struct ab_err err = {0};
        policy_init(&p);
        char *host[] = {"SECRET_TOKEN=hunter2", "TERM=xterm", "HOME=/root",
                        "PATH=/evil", NULL};
        char **env = NULL;
        cr_assert_eq(box_env_build(&p, host, "/bin/sh", &env, &err), 0);
        cr_assert_null(box_env_get(env, "SECRET_TOKEN"));
        cr_assert_str_eq(box_env_get(env, "HOME"), "/home/agent");
        cr_assert_str_eq(box_env_get(env, "TERM"), "xterm");
        cr_assert_str_eq(box_env_get(env, "LANG"), "C.UTF-8");
        cr_assert_str_eq(box_env_get(env, "USER"), "agent");
        cr_assert_str_eq(box_env_get(env, "AGENT_SANDBOX"), "1");
        cr_assert_str_eq(box_env_get(env, "IS_SANDBOX"), "1");
        cr_assert_neq(strcmp(box_env_get(env, "PATH"), "/evil"), 0);
        box_env_free(env);
        policy_free(&p);
}

Test(env, pass_and_set)
{
        struct policy p;
        struct ab_err err = {0};
        policy_init(&p);
        cr_assert_eq(policy_env_add(&p, "SECRET_TOKEN", &err), 0);
        cr_assert_eq(policy_env_add(&p, "MISSING", &err), 0);
        cr_assert_eq(policy_env_add(&p, "CI=1", &err), 0);
        cr_assert_eq(policy_env_add(&p, "HOME=/x", &err), 0);
        char *host[] = {"SECRET_TOKEN=hunter2", NULL};
        char **env = NULL;
        cr_assert_eq(box_env_build(&p, host, "/bin/sh", &env, &err), 0);
        cr_assert_str_eq(box_env_get(env, "SECRET_TOKEN"), "hunter2");
        cr_assert_null(box_env_get(env, "MISSING"));
        cr_assert_str_eq(box_env_get(env, "CI"), "1");
        cr_assert_str_eq(box_env_get(env, "HOME"), "/x");
        size_t n = 0;
        for (char **e = env; *e; e++)
                n += strncmp(*e, "HOME=", 5) == 0;
        cr_assert_eq(n, 1);
        box_env_free(env);
        policy_free(&p);
}
