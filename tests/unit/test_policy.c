#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/policy.h"
#include "policy/workspace.h"
#include "policy/urlpat.h"

Test(policy, env_rules)
{
        struct policy p;
        struct ab_err err = {0};
        policy_init(&p);
        cr_assert_eq(policy_env_add(&p, "FOO", &err), 0);
        cr_assert_eq(policy_env_add(&p, "BAR=1=2", &err), 0);
        cr_assert_eq(policy_env_add(&p, "FOO=x", &err), 0);
        cr_assert_eq(p.n_env, 2);
        cr_assert_str_eq(p.env[0].value, "x");
        cr_assert_str_eq(p.env[1].value, "1=2");
        cr_assert_eq(policy_env_add(&p, "1BAD", &err), -EINVAL);
        cr_assert(strstr(err.msg, "not a variable name"));
        cr_assert_eq(policy_env_add(&p, "=x", &err), -EINVAL);
        cr_assert_eq(policy_env_add(&p, "A-B=1", &err), -EINVAL);
        cr_assert_eq(policy_env_add(&p, "AGENT_SANDBOX=0", &err), -EINVAL);
        cr_assert(strstr(err.msg, "always sets"));
        policy_free(&p);
}

Test(policy, env_cap)
{
        struct policy p;
        struct ab_err err = {0};
        policy_init(&p);
        char buf[32];
        int r = 0;
        for (unsigned i = 0; i <= POLICY_ENV_MAX && r == 0; i++) {
                snprintf(buf, sizeof(buf), "V%u=1", i);
                r = policy_env_add(&p, buf, &err);
        }
        cr_assert_eq(r, -E2BIG);
        policy_free(&p);
}

Test(policy, pids)
{
        unsigned v = 0;
        struct ab_err err = {0};
        cr_assert_eq(policy_pids_parse("1", &v, &err), 0);
        cr_assert_eq(v, 1);
        cr_assert_eq(policy_pids_parse("4194304", &v, &err), 0);
        const char *bad[] = {"0", "-1", "", "12x", "+5", " 5", "4194305",
                             "99999999999999999999"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                cr_assert_eq(policy_pids_parse(bad[i], &v, &err), -EINVAL,
                             "%s", bad[i]);
}

Test(policy, memory)
{
        uint64_t v = 0;
        struct ab_err err = {0};
        const struct {
                const char *s;
                uint64_t v;
        } good[] = {
                {"32M", 32ull << 20},      {"512m", 512ull << 20},
                {"4G", 4ull << 30},        {"4GiB", 4ull << 30},
                {"4GB", 4ull << 30},       {"1T", 1ull << 40},
                {"33554432", 33554432ull}, {"65536K", 64ull << 20},
                {"unlimited", POLICY_MEMORY_UNLIMITED},
        };
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                cr_assert_eq(policy_memory_parse(good[i].s, &v, &err), 0,
                             "%s", good[i].s);
                cr_assert_eq(v, good[i].v, "%s", good[i].s);
        }
        const char *bad[] = {"0",    "31M",  "1.5G", "-1G", "+1G", " 1G",
                             "1GG",  "1Gx",  "G",    "",    "1P",
                             "16777216T", "18446744073709551615",
                             "99999999999999999999", "Unlimited"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                cr_assert_eq(policy_memory_parse(bad[i], &v, &err), -EINVAL,
                             "%s", bad[i]);
}

Test(policy, cpus)
{
        unsigned v = 0;
        struct ab_err err = {0};
        const struct {
                const char *s;
                unsigned v;
        } good[] = {{"1", 1000},     {"0.5", 500},   {"1.25", 1250},
                    {"0.01", 10},    {"2.", 0},      {"4096", 4096000},
                    {"0.125", 125},  {"12", 12000}};
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                if (!good[i].v)
                        continue;
                cr_assert_eq(policy_cpus_parse(good[i].s, &v, &err), 0,
                             "%s", good[i].s);
                cr_assert_eq(v, good[i].v, "%s", good[i].s);
        }
        const char *bad[] = {"0",   "0.001", "0.0001", "-1", "+1", "",
                             ".5",  "2.",    "1e3",    "1,5", "4097",
                             "4096.001", "99999999999", " 1", "1 "};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                cr_assert_eq(policy_cpus_parse(bad[i], &v, &err), -EINVAL,
                             "%s", bad[i]);
}

Test(policy, net)
{
        enum policy_net n;
        struct ab_err err = {0};
        cr_assert_eq(policy_net_parse("off", &n, &err), 0);
        cr_assert_eq(n, POLICY_NET_OFF);
        cr_assert_eq(policy_net_parse("bogus", &n, &err), -EINVAL);
        cr_assert(strstr(err.msg, "off, filtered or open"));
}

static int resolve(const char *ws, const char *home, struct ab_err *err)
{
        int fd = -1;
        char *path = NULL;
        int r = policy_workspace_pin(ws, false, &fd, &path, err);
        if (r == 0)
                r = policy_check_workspace(path, home, err);
        if (fd >= 0)
                close(fd);
        free(path);
        return r;
}

Test(policy, workspace)
{
        struct ab_err err = {0};
        char tmpl[] = "/tmp/abws.XXXXXX";
        cr_assert(mkdtemp(tmpl));
        char sub[64];
        snprintf(sub, sizeof(sub), "%s/home", tmpl);
        mkdir(sub, 0755);
        cr_assert_eq(resolve(tmpl, NULL, &err), 0);
        cr_assert_eq(resolve("/", NULL, &err), -EINVAL);
        cr_assert_eq(resolve("/usr/share", NULL, &err), -EINVAL);
        cr_assert(strstr(err.msg, "system directory /usr"));
        cr_assert_eq(resolve("/etc", NULL, &err), -EINVAL);
        cr_assert_eq(resolve("/nonexistent/x", NULL, &err), -ENOENT);
        /* the home itself and any ancestor of it are refused */
        cr_assert_eq(resolve(tmpl, sub, &err), -EINVAL);
        cr_assert(strstr(err.msg, "home directory"));
        cr_assert_eq(resolve(sub, sub, &err), -EINVAL);
        /* a hidden directory of the home is refused, a project is not */
        char dot[80];
        snprintf(dot, sizeof(dot), "%s/.ssh", sub);
        mkdir(dot, 0700);
        cr_assert_eq(resolve(dot, sub, &err), -EINVAL);
        cr_assert(strstr(err.msg, "hidden directory"), "%s", err.msg);
        rmdir(dot);
        /* shared directories themselves, and their ancestors */
        cr_assert_eq(resolve("/tmp", NULL, &err), -EINVAL);
        cr_assert(strstr(err.msg, "share"), "%s", err.msg);
        cr_assert_eq(resolve("/var/tmp", NULL, &err), -EINVAL);
        /* where root's tools keep what they run */
        cr_assert_eq(resolve("/var/lib/dpkg", NULL, &err), -EINVAL);
        cr_assert(strstr(err.msg, "/var/lib"), "%s", err.msg);
        /* below the home is fine */
        char below[80];
        snprintf(below, sizeof(below), "%s/proj", sub);
        mkdir(below, 0755);
        cr_assert_eq(resolve(below, sub, &err), 0);
        rmdir(below);
        /* no symlink at all when asked (root): refused, and named */
        char link[80];
        snprintf(link, sizeof(link), "%s/link", tmpl);
        cr_assert_eq(symlink(sub, link), 0);
        cr_assert_eq(resolve(link, NULL, &err), 0);
        int fd = -1;
        char *path = NULL;
        cr_assert_eq(policy_workspace_pin(link, true, &fd, &path, &err),
                     -ELOOP);
        cr_assert(strstr(err.msg, "passes through the symlink"), "%s",
                  err.msg);
        cr_assert(strstr(err.msg, link), "%s", err.msg);
        /* the pinned path is the kernel's name for the directory held */
        cr_assert_eq(policy_workspace_pin(link, false, &fd, &path, &err), 0);
        cr_assert_str_eq(path, sub);
        close(fd);
        free(path);
        unlink(link);
        rmdir(sub);
        rmdir(tmpl);
}

Test(policy, protect_rules)
{
        struct protect_rules r = {0};
        struct ab_err err = {0};
        cr_assert_eq(protect_rule_add(&r, false, "./tools//x/", "--protect",
                                      &err), 0);
        cr_assert_str_eq(r.add[0], "tools/x");
        cr_assert_eq(protect_rule_add(&r, false, "tools/x", "--protect", &err),
                     0);
        cr_assert_eq(r.n_add, 1); /* once */
        cr_assert_eq(protect_rule_add(&r, false, "a/../../b", "--protect",
                                      &err), -EINVAL);
        cr_assert(strstr(err.msg, "inside the workspace"), "%s", err.msg);
        cr_assert_eq(protect_rule_add(&r, false, "/etc", "--protect", &err),
                     -EINVAL);
        cr_assert_eq(protect_rule_add(&r, false, "./", "--protect", &err),
                     -EINVAL);
        cr_assert(strstr(err.msg, "workspace itself"), "%s", err.msg);
        cr_assert_eq(protect_rule_add(&r, false, "*.json", "--protect", &err),
                     -EINVAL);
        cr_assert_eq(protect_rule_add(&r, true, ".git", "--unprotect", &err),
                     0);
        /* --unprotect .git drops every default below it, and only those */
        for (size_t i = 0; i < protect_defaults_n; i++) {
                bool git = protect_covers(".git", protect_defaults[i].path);
                cr_assert_eq(protect_default_active(&r, i), !git, "%s",
                             protect_defaults[i].path);
        }
        cr_assert(!protect_covers(".git", ".gitmodules"));
        protect_rules_free(&r);
}

static void collect(void *arg, const char *pattern, bool internal)
{
        char *out = arg;
        snprintf(out + strlen(out), 512 - strlen(out), "%s%s%s",
                 out[0] ? " " : "", pattern, internal ? "(i)" : "");
}

Test(policy, a_urls_patterns_name_its_port_never_every_port)
{
        static const struct {
                const char *url, *want;
        } ok[] = {
                {"https://api.example.com/v1", "api.example.com:443"},
                {"http://api.example.com", "api.example.com:80"},
                {"http://u:p@api.example.com:8080/x", "api.example.com:8080"},
                {"http://127.0.0.1:9", "127.0.0.1:9"},
                {"http://localhost/", "localhost:80 127.0.0.1:80(i)"},
        };
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                char out[512] = "";
                cr_assert_eq(policy_url_patterns(ok[i].url, collect, out), 0,
                             "%s", ok[i].url);
                cr_assert(strncmp(out, ok[i].want, strlen(ok[i].want)) == 0,
                          "%s: %s", ok[i].url, out);
        }
        static const char *const bad[] = {
                "http://vm:abc/", "http://vm:/", "http://*.example.com/",
                "http://vm:0", "http://vm:70000", "ftp://vm/", "http://:80/",
                "http://vm:-1/", "http://vm\\@x.example:22/", "http://vm /"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char out[512] = "";
                cr_assert_eq(policy_url_patterns(bad[i], collect, out), -EINVAL,
                             "%s: %s", bad[i], out);
        }
}
