/* Data-driven cases for the SOCKS5 reader: tests/data/socks/cases.txt. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/socks.h"

#ifndef SOCKS_CASES
#error SOCKS_CASES must be set
#endif

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
        size_t n = 0;
        for (; *s && n < cap; s++) {
                if (*s == ' ')
                        continue;
                unsigned v;
                if (sscanf(s, "%2x", &v) != 1)
                        break;
                out[n++] = (uint8_t)v;
                s++;
        }
        return n;
}

static void outcome(const uint8_t *b, size_t len, char *out, size_t cap)
{
        struct socks_req r = {0};
        uint8_t ans[2];
        size_t off = 0;
        for (;;) {
                bool greeted = r.greeted;
                ssize_t n = socks_feed(&r, b + off, len - off, ans);
                if (n < 0) {
                        if (!greeted && r.greeted)
                                snprintf(out, cap, "method-refused");
                        else
                                snprintf(out, cap, "reply %d", r.reply);
                        cr_assert(r.err[0]);
                        return;
                }
                if (n == 0) {
                        snprintf(out, cap, "need-more");
                        return;
                }
                off += (size_t)n;
                if (r.done) {
                        snprintf(out, cap, "ok %s %u ip=%d", r.host, r.port,
                                 r.ip);
                        return;
                }
        }
}

Test(socks, data_cases)
{
        FILE *f = fopen(SOCKS_CASES, "r");
        cr_assert(f, "%s", SOCKS_CASES);
        char line[1024];
        int n = 0;
        while (fgets(line, sizeof(line), f)) {
                if (line[0] == '#' || line[0] == '\n')
                        continue;
                char *name = strtok(line, "|"), *hex = strtok(NULL, "|"),
                     *want = strtok(NULL, "|\n");
                cr_assert(name && hex && want);
                while (*want == ' ')
                        want++;
                for (char *e = want + strlen(want); e > want && e[-1] == ' ';)
                        *--e = 0;
                uint8_t buf[512];
                size_t len = unhex(hex, buf, sizeof(buf));
                char got[300];
                outcome(buf, len, got, sizeof(got));
                cr_expect_str_eq(got, want, "case %s", name);
                n++;
        }
        fclose(f);
        cr_assert_geq(n, 17);
}
