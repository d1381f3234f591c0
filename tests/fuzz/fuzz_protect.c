/* libFuzzer target: what the protected paths read that others wrote - git
 * config files of the workspace (.git/config, .gitmodules), --protect and
 * --unprotect paths, and the link targets a box leaves (is it out of the
 * workspace?).  The input's first byte picks
 * the parser; outcomes must be clean, never a crash or a leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "box/gitconfig.h"
#include "box/leftovers.h"
#include "policy/protect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int each(void *arg, const char *section, const char *sub,
                const char *key, const char *value)
{
        (void)sub;
        (void)value;
        if (!section[0] || !key[0])
                abort();
        for (const char *p = key; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        abort(); /* keys come lower-cased */
        return ++*(size_t *)arg > 100000;
}

/* a normalised path: no empty, "." or ".." component, no leading or
 * trailing slash */
static int climbs(const char *p)
{
        if (!p[0] || p[0] == '/')
                return 1;
        for (;;) {
                size_t n = strcspn(p, "/");
                if (n == 0 || (n == 1 && p[0] == '.') ||
                    (n == 2 && p[0] == '.' && p[1] == '.'))
                        return 1;
                if (!p[n])
                        return 0;
                p += n + 1;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1 || size > 8192)
                return 0;
        char *buf = malloc(size);
        if (!buf)
                return 0;
        memcpy(buf, data + 1, size - 1);
        buf[size - 1] = 0;
        struct ab_err err = {0};
        switch (data[0] % 3) {
        case 0: {
                size_t n = 0;
                gitconfig_each((const char *)data + 1, size - 1, each, &n);
                break;
        }
        case 1: {
                struct protect_rules r = {0};
                int rc = protect_rule_add(&r, data[0] & 4, buf, "--protect",
                                          &err);
                if (rc < 0 && !err.msg[0])
                        abort();
                if (rc == 0 && (r.n_add + r.n_remove != 1 ||
                                climbs(r.n_add ? r.add[0] : r.remove[0])))
                        abort();
                protect_rules_free(&r);
                break;
        }
        default: {
                /* "rel\ttarget" */
                char *tab = strchr(buf, '\t');
                if (tab) {
                        *tab = 0;
                        (void)box_link_escapes("/home/u/proj", buf, tab + 1);
                }
                break;
        }
        }
        free(buf);
        return 0;
}
