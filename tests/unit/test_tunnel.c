/* Data-driven cases for the tunnel classifier (http_classify_first):
 * tests/data/tunnel/cases.txt.  Each case is also checked byte by byte:
 * a prefix of an HTTP case is never "not" (else its bytes would be
 * relayed unchecked before the rest came). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http.h"

#ifndef TUNNEL_CASES
#error TUNNEL_CASES must be set
#endif

static size_t unescape(const char *in, char *out)
{
        size_t o = 0;
        for (const char *p = in; *p; p++) {
                if (*p != '\\') {
                        out[o++] = *p;
                        continue;
                }
                p++;
                switch (*p) {
                case 'r': out[o++] = '\r'; break;
                case 'n': out[o++] = '\n'; break;
                case 't': out[o++] = '\t'; break;
                case '\\': out[o++] = '\\'; break;
                case 'x': {
                        char hex[3] = {p[1], p[2], 0};
                        out[o++] = (char)strtoul(hex, NULL, 16);
                        p += 2;
                        break;
                }
                default:
                        cr_assert_fail("bad escape \\%c", *p);
                }
        }
        return o;
}

static char *trim(char *s)
{
        while (*s == ' ')
                s++;
        char *e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\n'))
                *--e = 0;
        return s;
}

Test(tunnel, cases)
{
        FILE *f = fopen(TUNNEL_CASES, "r");
        cr_assert(f);
        char line[1024];
        int n = 0;
        while (fgets(line, sizeof(line), f)) {
                if (line[0] == '#' || line[0] == '\n')
                        continue;
                char *b1 = strchr(line, '|'), *b2 = b1 ? strchr(b1 + 1, '|') : NULL;
                cr_assert(b2, "%s", line);
                *b1 = *b2 = 0;
                char *name = trim(line), *bytes = trim(b1 + 1),
                     *want = trim(b2 + 1);
                /* a leading space or tab in the bytes is the case's own:
                 * the column starts after "| " */
                bytes = b1 + 2;
                char *end = b2;
                while (end > bytes && end[-1] == ' ')
                        end--;
                *end = 0;
                char buf[1024];
                size_t len = unescape(bytes, buf);
                enum http_first got = http_classify_first(buf, len, 16384);
                const char *g = got == HTTP_YES ? "http"
                                : got == HTTP_NOT ? "not" : "more";
                cr_expect_str_eq(g, want, "%s", name);
                for (size_t k = 0; !strcmp(want, "http") && k < len; k++)
                        cr_expect_neq(http_classify_first(buf, k, 16384),
                                      HTTP_NOT, "%s: prefix of %zu", name, k);
                n++;
        }
        fclose(f);
        cr_assert_gt(n, 40);
}

Test(tunnel, long_line_is_http)
{
        /* a line longer than the caller's limit: HTTP (its parser then
         * refuses it), never relayed unchecked */
        static char buf[20000];
        memset(buf, 'a', sizeof(buf));
        memcpy(buf, "GET /", 5);
        cr_assert_eq(http_classify_first(buf, sizeof(buf), 16384), HTTP_YES);
        cr_assert_eq(http_classify_first(buf, 100, 16384), HTTP_MORE);
        /* a method alone, as long */
        memset(buf, 'A', sizeof(buf));
        cr_assert_eq(http_classify_first(buf, sizeof(buf), 16384), HTTP_YES);
}
