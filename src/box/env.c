#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "box.h"
#include "common/util.h"

const char *box_env_get(char *const *env, const char *name)
{
        size_t n = strlen(name);
        for (; env && *env; env++)
                if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
                        return *env + n + 1;
        return NULL;
}

void box_env_free(char **env)
{
        for (char **e = env; e && *e; e++)
                free(*e);
        free(env);
}

struct envb {
        char **v;
        size_t n, cap;
};

/* Set name=value, replacing an earlier entry of the same name. */
static int envb_set(struct envb *b, const char *name, const char *value)
{
        char *s = NULL;
        if (asprintf(&s, "%s=%s", name, value) < 0)
                return -ENOMEM;
        size_t n = strlen(name);
        for (size_t i = 0; i < b->n; i++) {
                if (strncmp(b->v[i], name, n) == 0 && b->v[i][n] == '=') {
                        free(b->v[i]);
                        b->v[i] = s;
                        return 0;
                }
        }
        if (b->n + 2 > b->cap) {
                size_t cap = b->cap ? b->cap * 2 : 32;
                char **v = realloc(b->v, cap * sizeof(*v));
                if (!v) {
                        free(s);
                        return -ENOMEM;
                }
                b->v = v;
                b->cap = cap;
        }
        b->v[b->n++] = s;
        b->v[b->n] = NULL;
        return 0;
}

int box_env_build(const struct policy *p, char *const *host_env,
                  const char *shell, char ***out, struct ab_err *err)
{
        struct envb b = {0};
        const char *term = box_env_get(host_env, "TERM");
        const char *lang = box_env_get(host_env, "LANG");
        const struct {
                const char *name, *value;
        } base[] = {
                {"HOME", BOX_HOME},
                {"USER", BOX_USER},
                {"LOGNAME", BOX_USER},
                {"SHELL", shell},
                {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                         "/sbin:/bin"},
                {"TERM", term ? term : "dumb"},
                {"LANG", lang ? lang : "C.UTF-8"},
        };
        int r = 0;
        for (size_t i = 0; i < ARRAY_SIZE(base) && r == 0; i++)
                r = envb_set(&b, base[i].name, base[i].value);
        for (size_t i = 0; i < p->n_env && r == 0; i++) {
                const struct policy_env *e = &p->env[i];
                const char *v = e->value ? e->value
                                         : box_env_get(host_env, e->name);
                if (v)
                        r = envb_set(&b, e->name, v);
        }
        /* Proxy-aware tools go through the supervisor's proxy. */
        static const char *const proxy_env[][2] = {
                {"HTTP_PROXY", "http://127.0.0.1:3128"},
                {"HTTPS_PROXY", "http://127.0.0.1:3128"},
                {"ALL_PROXY", "socks5h://127.0.0.1:1080"},
                {"NO_PROXY", "localhost,127.0.0.1,::1"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(proxy_env) && r == 0 &&
                           p->net != POLICY_NET_OFF;
             i++) {
                char lower[16];
                size_t k = 0;
                for (; proxy_env[i][0][k] && k < sizeof(lower) - 1; k++)
                        lower[k] = (char)tolower((unsigned char)proxy_env[i][0][k]);
                lower[k] = 0;
                r = envb_set(&b, proxy_env[i][0], proxy_env[i][1]);
                if (r == 0)
                        r = envb_set(&b, lower, proxy_env[i][1]);
        }
        if (r == 0)
                r = envb_set(&b, "AGENT_SANDBOX", "1");
        if (r == 0)
                r = envb_set(&b, "IS_SANDBOX", "1");
        if (r < 0) {
                box_env_free(b.v);
                return err_set(err, r, "out of memory building environment");
        }
        *out = b.v;
        return 0;
}
