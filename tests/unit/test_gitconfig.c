/* The git-config reader against git itself: for each case, what it reads
 * is what `git config --file F --list` lists. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "box/gitconfig.h"

static int collect(void *arg, const char *section, const char *sub,
                   const char *key, const char *value)
{
        FILE *f = arg;
        /* git lists a bare key (true) without "=" */
        fprintf(f, "%s.%s%s%s%s%s\n", section, sub ? sub : "", sub ? "." : "",
                key, value ? "=" : "", value ? value : "");
        return 0;
}

static void same_as_git(const char *text)
{
        char path[] = "/tmp/abgitcfg.XXXXXX";
        int fd = mkstemp(path);
        cr_assert(fd >= 0);
        cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        char cmd[256], want[8192] = "", got[8192] = "";
        snprintf(cmd, sizeof(cmd), "git config --file %s --list 2>/dev/null",
                 path);
        FILE *p = popen(cmd, "r");
        cr_assert(p);
        size_t n = fread(want, 1, sizeof(want) - 1, p);
        want[n] = 0;
        pclose(p);
        FILE *m = fmemopen(got, sizeof(got), "w");
        gitconfig_each(text, strlen(text), collect, m);
        fclose(m);
        unlink(path);
        cr_assert_str_eq(got, want, "for:\n%s", text);
}

Test(gitconfig, like_git)
{
        same_as_git("[core]\n\thooksPath = .githooks\n");
        same_as_git("[core]\r\n\thooksPath = .githooks\r\n[x]\r\n\ty = 1\r\n");
        same_as_git("\xef\xbb\xbf[core]\n\thookspath = a\n");
        same_as_git("[include]\n\tpath = \"../a b.cfg\" ; comment\n");
        same_as_git("[includeIf \"gitdir:~/w/\"]\n\tpath = x\\\n y\n");
        same_as_git("[submodule \"lib/a\"]\n\tpath = lib/a\n\turl = ../a\n");
        same_as_git("[Core]\n\tHooksPath=  spaced value  \n# c\n; c\n");
        same_as_git("[core]\n\tfsmonitor = \"sh tools/f.sh\"\n\tbare\n");
        same_as_git("[a]\n\tb = x \"q\\\"uote\" # tail\n\tc = tab\\there\n");
        same_as_git("[include]\n\tpath = /ws/inc\tB\n\tpath = /ws/incC\r\r\n");
        same_as_git("[a]\n\tb = x  \t y \" q  \" z\n");
        char big[1200];
        snprintf(big, sizeof(big), "[includeIf \"onbranch:%0300d\"]\n\tpath = x\n", 0);
        same_as_git(big);
}
