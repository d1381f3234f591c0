/* The policy file parser, data-driven: each tests/data/policy/NAME.yaml
 * (its first line may say "# layer: managed|user|project", default
 * project) is parsed and dumped, and the dump must equal NAME.expect:
 * every value with its line and column, or every error.  Set
 * POLICY_UPDATE=1 to write the .expect files afresh (then read them). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/file.h"
#include "policy/yamltree.h"

static char *slurp(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        char *b = malloc(YTREE_MAX_BYTES + 2);
        size_t n = fread(b, 1, YTREE_MAX_BYTES + 1, f);
        fclose(f);
        b[n] = 0;
        *len = n;
        return b;
}

static void at(FILE *o, struct policy_src s)
{
        fprintf(o, " @%u:%u\n", s.line, s.col);
}

static void dump(FILE *o, const struct policy *p)
{
        for (int i = 0; i < POLICY_K_N; i++) {
                if (!(p->given & (1u << i)))
                        continue;
                fprintf(o, "%s ", policy_key_name((enum policy_key)i));
                switch (i) {
                case POLICY_K_ISOLATION:
                        fprintf(o, "process");
                        break;
                case POLICY_K_WORKSPACE:
                        fprintf(o, "%s", p->workspace);
                        break;
                case POLICY_K_NET:
                        fprintf(o, "%s", policy_net_name(p->net));
                        break;
                case POLICY_K_PIDS:
                        fprintf(o, "%u", p->pids_max);
                        break;
                case POLICY_K_MEMORY:
                        fprintf(o, "%llu", (unsigned long long)p->memory_max);
                        break;
                case POLICY_K_CPUS:
                        fprintf(o, "%u", p->cpus_milli);
                        break;
                case POLICY_K_TMP:
                        fprintf(o, "%llu", (unsigned long long)p->tmp_max);
                        break;
                case POLICY_K_AGENT:
                        fprintf(o, "%s", p->agent_name);
                        break;
                case POLICY_K_PROFILE:
                        fprintf(o, "%s", policy_profile_name(p->profile));
                        break;
                case POLICY_K_AGENT_PATH:
                        fprintf(o, "%s", p->agent_path);
                        break;
                case POLICY_K_AGENT_STATE:
                        fprintf(o, "%s",
                                p->agent_state_project ? "project" : "user");
                        break;
                case POLICY_K_TELEMETRY:
                        fprintf(o, "%s", p->agent_telemetry ? "true" : "false");
                        break;
                }
                at(o, p->src[i]);
        }
        for (size_t i = 0; i < p->allow.n; i++) {
                fprintf(o, "allow %s", p->allow.v[i].text);
                at(o, p->allow.v[i].src);
        }
        for (size_t i = 0; i < p->deny.n; i++) {
                fprintf(o, "deny %s", p->deny.v[i].text);
                at(o, p->deny.v[i].src);
        }
        for (size_t i = 0; i < p->protect.n_add; i++) {
                fprintf(o, "protect %s", p->protect.add[i]);
                at(o, p->protect.add_src[i]);
        }
        for (size_t i = 0; i < p->protect.n_remove; i++) {
                fprintf(o, "unprotect %s", p->protect.remove[i]);
                at(o, p->protect.remove_src[i]);
        }
        for (size_t i = 0; i < p->n_mounts; i++) {
                fprintf(o, "mount %s %s %s", p->mounts[i].source,
                        p->mounts[i].target ? p->mounts[i].target : "-",
                        p->mounts[i].rw ? "rw" : "ro");
                at(o, p->mounts[i].src);
        }
        for (size_t i = 0; i < p->n_env; i++) {
                if (p->env[i].value)
                        fprintf(o, "env %s=%s", p->env[i].name,
                                p->env[i].value);
                else
                        fprintf(o, "env %s (pass)", p->env[i].name);
                at(o, p->env[i].src);
        }
        for (size_t i = 0; i < p->n_secrets; i++) {
                fprintf(o, "secret %s %s", p->secrets[i].name,
                        p->secrets[i].from);
                at(o, p->secrets[i].src);
        }
        for (size_t i = 0; i < p->n_deny_mounts; i++) {
                fprintf(o, "deny_mount %s", p->deny_mounts[i].path);
                at(o, p->deny_mounts[i].src);
        }
        for (int i = 0; i < POLICY_K_ALL; i++)
                if (p->locked & (1u << i)) {
                        fprintf(o, "lock %s",
                                policy_key_name((enum policy_key)i));
                        at(o, p->lock_src[i]);
                }
        for (size_t i = 0; i < p->n_trust; i++) {
                fprintf(o, "trust %s", p->trust[i].path);
                at(o, p->trust[i].src);
        }
}

static enum policy_layer layer_of(const char *buf)
{
        if (strncmp(buf, "# layer: managed", 16) == 0)
                return POLICY_LAYER_MANAGED;
        if (strncmp(buf, "# layer: user", 13) == 0)
                return POLICY_LAYER_USER;
        return POLICY_LAYER_PROJECT;
}

Test(policyfile, cases)
{
        DIR *d = opendir(POLICY_DIR);
        cr_assert(d, "%s: %s", POLICY_DIR, strerror(errno));
        bool update = getenv("POLICY_UPDATE") != NULL;
        int n = 0;
        for (struct dirent *e; (e = readdir(d));) {
                size_t l = strlen(e->d_name);
                if (l < 6 || strcmp(e->d_name + l - 5, ".yaml") != 0)
                        continue;
                char path[512], exp[512];
                snprintf(path, sizeof(path), "%s/%s", POLICY_DIR, e->d_name);
                snprintf(exp, sizeof(exp), "%s/%.*s.expect", POLICY_DIR,
                         (int)(l - 5), e->d_name);
                size_t len = 0;
                char *buf = slurp(path, &len);
                cr_assert(buf, "%s", path);
                struct policy p;
                policy_init(&p);
                struct policy_errors errs = {0};
                int r = policy_file_parse("FILE", buf, len, layer_of(buf), &p,
                                          &errs);
                char *got = NULL;
                size_t gl = 0;
                FILE *o = open_memstream(&got, &gl);
                if (r == 0)
                        dump(o, &p);
                for (size_t i = 0; i < errs.n; i++)
                        fprintf(o, "error: %s\n", errs.v[i]);
                fclose(o);
                cr_assert((r == 0) == (errs.n == 0), "%s: %d with %zu errors",
                          e->d_name, r, errs.n);
                if (update) {
                        FILE *w = fopen(exp, "w");
                        fputs(got, w);
                        fclose(w);
                } else {
                        size_t el = 0;
                        char *want = slurp(exp, &el);
                        cr_assert(want, "%s: no .expect", e->d_name);
                        cr_assert_str_eq(got, want, "%s:\n--- got\n%s--- want\n%s",
                                         e->d_name, got, want);
                        free(want);
                }
                free(got);
                free(buf);
                policy_errors_free(&errs);
                policy_free(&p);
                n++;
        }
        closedir(d);
        cr_assert_geq(n, 20, "only %d cases", n);
}

/* What no file on disk shows well: the size cap, deep nesting, an alias
 * bomb and NUL bytes. */
Test(policyfile, limits)
{
        struct {
                const char *what;
                char *buf;
                size_t len;
        } c[4];
        /* over 1 MiB */
        size_t big = YTREE_MAX_BYTES + 10;
        c[0].what = "larger than";
        c[0].buf = malloc(big);
        memset(c[0].buf, '#', big);
        c[0].len = big;
        /* deep */
        c[1].what = "nested more than";
        c[1].buf = malloc(200);
        strcpy(c[1].buf, "version: 1\nnetwork: ");
        for (int i = 0; i < 40; i++)
                strcat(c[1].buf, "[");
        c[1].len = strlen(c[1].buf);
        /* laughs: 9 aliases a level, 6 levels */
        char *b = malloc(8192);
        strcpy(b, "version: 1\na: &a [x,x,x,x,x,x,x,x,x]\n");
        for (int lv = 1; lv <= 6; lv++) {
                char line[256];
                snprintf(line, sizeof(line),
                         "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n",
                         'a' + lv, 'a' + lv, 'a' + lv - 1, 'a' + lv - 1,
                         'a' + lv - 1, 'a' + lv - 1, 'a' + lv - 1,
                         'a' + lv - 1, 'a' + lv - 1, 'a' + lv - 1,
                         'a' + lv - 1);
                strcat(b, line);
        }
        c[2].what = "more than";
        c[2].buf = b;
        c[2].len = strlen(b);
        c[3].what = "NUL";
        c[3].buf = malloc(16);
        memcpy(c[3].buf, "version: 1\n\0x: 1", 16);
        c[3].len = 16;
        for (size_t i = 0; i < 4; i++) {
                struct policy p;
                policy_init(&p);
                struct policy_errors errs = {0};
                struct timespec t0, t1;
                clock_gettime(CLOCK_MONOTONIC, &t0);
                int r = policy_file_parse("F", c[i].buf, c[i].len,
                                          POLICY_LAYER_PROJECT, &p, &errs);
                clock_gettime(CLOCK_MONOTONIC, &t1);
                double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                            (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
                cr_assert_lt(r, 0, "case %zu", i);
                cr_assert(errs.n && strstr(errs.v[0], c[i].what),
                          "case %zu: %s", i, errs.n ? errs.v[0] : "-");
                /* refused at once, never after expanding */
                cr_assert_lt(ms, 200.0, "case %zu took %.1f ms", i, ms);
                policy_errors_free(&errs);
                policy_free(&p);
                free(c[i].buf);
        }
}
