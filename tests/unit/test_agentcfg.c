/* An agent's settings in agentbox's state directory (src/cli/agentcfg.c):
 * agentbox's keys over the user's, and what the box may have left there
 * refused or replaced, never followed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/agentcfg.h"

Test(agentcfg, gemini_keeps_the_users_keys_and_sets_its_own)
{
        char *out = NULL;
        struct ab_err err = {0};
        const char *in = "// theirs\n{\"ui\": {\"theme\": \"Dracula\"}, "
                         "\"privacy\": {\"usageStatisticsEnabled\": true}, "
                         "\"security\": {\"auth\": {\"selectedType\": "
                         "\"oauth-personal\"}}}";
        cr_assert_eq(agentcfg_gemini(in, strlen(in), AGENTCFG_QUIET, &out, &err), 0,
                     "%s", err.msg);
        cr_assert(strstr(out, "\"theme\":\"Dracula\""), "%s", out);
        cr_assert(strstr(out, "\"usageStatisticsEnabled\":false"), "%s", out);
        cr_assert(strstr(out, "\"selectedType\":\"oauth-personal\""), "%s",
                  out);
        cr_assert(!strstr(out, "yolo") && !strstr(out, "Trust"), "%s", out);
        free(out);
        /* with a base URL, the API-key sign-in */
        cr_assert_eq(agentcfg_gemini(in, strlen(in), AGENTCFG_QUIET | AGENTCFG_KEY_AUTH, &out, &err), 0);
        cr_assert(strstr(out, "\"selectedType\":\"gemini-api-key\""), "%s",
                  out);
        free(out);
        cr_assert_eq(agentcfg_gemini(NULL, 0, AGENTCFG_QUIET, &out, &err), 0);
        cr_assert(strstr(out, "\"enableAutoUpdate\":false"), "%s", out);
        free(out);
}

Test(agentcfg, gemini_shared_state_starts_no_code_and_interactive_asks)
{
        const char *in = "{\"mcpServers\": {\"evil\": {\"command\": \"sh\"}}, "
                         "\"hooks\": {\"SessionStart\": []}, \"tools\": "
                         "{\"allowed\": [\"run_shell_command\"], "
                         "\"discoveryCommand\": \"sh\", \"core\": [\"x\"]}}";
        char *out = NULL;
        struct ab_err err = {0};
        cr_assert_eq(agentcfg_gemini(in, strlen(in),
                                     AGENTCFG_NO_CODE | AGENTCFG_ASK, &out,
                                     &err),
                     0);
        cr_assert(!strstr(out, "mcpServers") && !strstr(out, "hooks") &&
                          !strstr(out, "allowed") &&
                          !strstr(out, "discoveryCommand"),
                  "%s", out);
        cr_assert(strstr(out, "\"core\""), "%s", out);
        free(out);
        /* per project, autonomous: the user's own stay */
        cr_assert_eq(agentcfg_gemini(in, strlen(in), 0, &out, &err), 0);
        cr_assert(strstr(out, "mcpServers") && strstr(out, "allowed"), "%s",
                  out);
        free(out);
}

Test(agentcfg, what_is_not_one_json_object_is_refused)
{
        const char *bad[] = {"[1]", "{\"a\":1} {\"b\":2}", "{\"a\":", "3",
                             "{\"a\":1} x"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char *out = NULL;
                struct ab_err err = {0};
                cr_assert_eq(agentcfg_gemini(bad[i], strlen(bad[i]), AGENTCFG_QUIET,
                                             &out, &err),
                             -EINVAL, "%s", bad[i]);
                cr_assert(strstr(err.msg, "not a JSON object"), "%s", err.msg);
                cr_assert_null(out);
        }
}

static int same(const char *in, size_t len, void *arg, char **out,
                struct ab_err *err)
{
        (void)len;
        (void)err;
        *(int *)arg += in != NULL;
        *out = strdup("{}");
        return 0;
}

Test(agentcfg, a_link_or_fifo_the_box_left_is_not_followed)
{
        char dir[] = "/tmp/agentcfg.XXXXXX";
        cr_assert(mkdtemp(dir));
        int d = open(dir, O_RDONLY | O_DIRECTORY);
        char p[128], victim[128];
        snprintf(victim, sizeof(victim), "%s/victim", dir);
        FILE *f = fopen(victim, "w");
        fputs("host's", f);
        fclose(f);
        snprintf(p, sizeof(p), "%s/settings.json", dir);
        cr_assert_eq(symlink(victim, p), 0);
        int seen = 0;
        struct ab_err err = {0};
        /* a link: refused, the file it names untouched */
        cr_assert_lt(agentcfg_update(d, "settings.json", p, same, &seen, &err),
                     0);
        unlink(p);
        cr_assert_eq(mkfifo(p, 0600), 0);
        cr_assert_lt(agentcfg_update(d, "settings.json", p, same, &seen, &err),
                     0);
        cr_assert_eq(seen, 0);
        /* agentcfg_put replaces a link in place of a file, and a link in
         * place of the directory is refused */
        unlink(p);
        cr_assert_eq(symlink(victim, p), 0);
        cr_assert_eq(agentcfg_put(d, NULL, "settings.json", "x", p, &err), 0);
        struct stat st;
        cr_assert_eq(lstat(p, &st), 0);
        cr_assert(S_ISREG(st.st_mode));
        char sub[128];
        snprintf(sub, sizeof(sub), "%s/rules", dir);
        cr_assert_eq(symlink(dir, sub), 0);
        cr_assert_lt(agentcfg_put(d, "rules", "a.rules", "x", sub, &err), 0);
        f = fopen(victim, "r");
        char buf[16] = "";
        cr_assert(fgets(buf, sizeof(buf), f));
        fclose(f);
        cr_assert_str_eq(buf, "host's");
        close(d);
        char cmd[160];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        (void)system(cmd);
}
