/* agentbox init: every template writes a file that parses as a project
 * layer with no error, is never written over without --force, and is
 * trusted once written.  The tools it asks (npm, pip, go, ruby) are the
 * machine's; one that is missing gives a note, not a broken file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/util.h"
#include "common/statedir.h"
#include "policy/file.h"
#include "policy/layers.h"

static char dir[64];

static void setup(void)
{
        strcpy(dir, "/tmp/abtest-init.XXXXXX");
        cr_assert(mkdtemp(dir));
        chmod(dir, 0755);
        statedir_base_override = dir; /* trust records and caches here */
        policy_managed_path_override = "/nonexistent/managed.yaml";
        policy_user_path_override = "/nonexistent/config.yaml";
}

static void teardown(void)
{
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        (void)system(cmd);
}

TestSuite(init, .init = setup, .fini = teardown);

Test(init, every_template_writes_a_valid_trusted_file)
{
        const char *t[] = {"node", "python", "go",  "ruby",
                           "rust", "java",   "git", "minimal"};
        for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
                char ws[128], path[160];
                snprintf(ws, sizeof(ws), "%s/%s", dir, t[i]);
                mkdir(ws, 0755);
                char *argv[] = {"init", "-w", ws, (char *)t[i], NULL};
                cr_assert_eq(cli_init(4, argv), 0, "%s", t[i]);
                snprintf(path, sizeof(path), "%s/agentbox.yaml", ws);
                FILE *f = fopen(path, "r");
                cr_assert(f, "%s", path);
                static char buf[65536];
                size_t n = fread(buf, 1, sizeof(buf), f);
                fclose(f);
                struct policy p;
                policy_init(&p);
                struct policy_errors errs = {0};
                int r = policy_file_parse(path, buf, n, POLICY_LAYER_PROJECT,
                                          &p, &errs);
                cr_assert_eq(r, 0, "%s: %s", t[i], errs.n ? errs.v[0] : "");
                cr_assert(strstr(buf, "version: 1"));
                policy_free(&p);
                /* not again without --force; with it, yes */
                cr_assert_eq(cli_init(4, argv), EXIT_AGENTBOX, "%s", t[i]);
                char *force[] = {"init", "--force", "-w", ws, (char *)t[i],
                                 NULL};
                cr_assert_eq(cli_init(5, force), 0, "%s", t[i]);
        }
        /* trusted: a record for each */
        char tp[160];
        snprintf(tp, sizeof(tp), "%s/agentbox/trusted-projects", dir);
        FILE *f = fopen(tp, "r");
        cr_assert(f, "%s", tp);
        int lines = 0;
        for (int c; (c = fgetc(f)) != EOF;)
                lines += c == '\n';
        fclose(f);
        cr_assert_geq(lines, 8);
}

Test(init, an_unknown_template_is_an_error)
{
        char *argv[] = {"init", "-w", dir, "cobol", NULL};
        cr_assert_eq(cli_init(4, argv), EXIT_AGENTBOX);
        char path[160];
        snprintf(path, sizeof(path), "%s/agentbox.yaml", dir);
        cr_assert_neq(access(path, F_OK), 0);
}
