/* agentbox check [--json] [--explain HOST[:PORT]|PATH] [RUN OPTIONS]: the
 * effective policy, every value with the layer and line it came from;
 * agentbox trust [DIR]: approve a project's policy file. */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/path.h"
#include "common/say.h"
#include "common/util.h"
#include "policy/layers.h"

const char cli_check_usage[] =
        "Usage: agentbox check [--json] [--explain HOST[:PORT]|PATH] "
        "[RUN OPTIONS]\n"
        "\n"
        "Print the effective policy: the managed file, your file, the\n"
        "project's agentbox.yaml and the run options given, merged, with the\n"
        "layer and line each value came from.  Exit 0 when every layer is\n"
        "valid, 125 otherwise (every error listed).\n"
        "\n"
        "  --json             the same as one JSON document\n"
        "  --explain TARGET   may the box reach HOST[:PORT] (443 unless\n"
        "                     given), or read or write PATH, and which line\n"
        "                     decides\n"
        "  RUN OPTIONS        as for agentbox run (-w DIR, --allow, ...)\n"
        "\n"
        "See agentbox.yaml(5).\n";

struct out {
        const struct policy_stack *s;
        bool json;
        json_object *root;
};

static json_object *src_json(const struct policy_stack *s,
                             struct policy_src src)
{
        json_object *o = json_object_new_object();
        enum policy_layer l = src.layer < POLICY_LAYER_N ? src.layer : 0;
        json_object_object_add(o, "layer",
                               json_object_new_string(policy_layer_name(l)));
        if (l != POLICY_LAYER_DEFAULT && l != POLICY_LAYER_FLAGS &&
            s->path[l]) {
                json_object_object_add(o, "file",
                                       json_object_new_string(s->path[l]));
                json_object_object_add(o, "line",
                                       json_object_new_int((int)src.line));
                json_object_object_add(o, "column",
                                       json_object_new_int((int)src.col));
        }
        if (l == POLICY_LAYER_FLAGS)
                json_object_object_add(o, "argument",
                                       json_object_new_int((int)src.line));
        return o;
}

static void row(struct out *o, const char *key, const char *value,
                struct policy_src src, json_object *into)
{
        if (o->json) {
                json_object *v = json_object_new_object();
                json_object_object_add(v, "value",
                                       json_object_new_string(value));
                json_object_object_add(v, "from", src_json(o->s, src));
                if (json_object_is_type(into, json_type_array))
                        json_object_array_add(into, v);
                else
                        json_object_object_add(into, key, v);
                return;
        }
        char where[PATH_MAX + 64];
        policy_src_describe(o->s, src, where, sizeof(where));
        _cleanup_free_ char *v = say_escape(value);
        _cleanup_free_ char *w = say_escape(where);
        say_safe(stdout, "  %-20s %-30s %s\n", key, v ? v : "?",
                 w ? w : "?");
}

static json_object *list(struct out *o, const char *key)
{
        if (!o->json)
                return NULL;
        json_object *a = json_object_new_array();
        json_object_object_add(o->root, key, a);
        return a;
}

static void print_policy(struct out *o)
{
        const struct policy_stack *s = o->s;
        const struct policy *p = &s->effective;
        json_object *vals = NULL;
        if (o->json) {
                vals = json_object_new_object();
                json_object_object_add(o->root, "values", vals);
        } else
                say_safe(stdout, "effective policy:\n");
        char v[PATH_MAX];
        row(o, "isolation", "process", p->src[POLICY_K_ISOLATION], vals);
        row(o, "workspace", s->workspace ? s->workspace : "?",
            p->src[POLICY_K_WORKSPACE], vals);
        row(o, "network.mode", policy_net_name(p->net), p->src[POLICY_K_NET],
            vals);
        if (p->memory_max == POLICY_MEMORY_UNLIMITED)
                snprintf(v, sizeof(v), "unlimited");
        else if (p->memory_max)
                policy_size_words(p->memory_max, v, sizeof(v));
        else
                snprintf(v, sizeof(v), "half the host's memory");
        row(o, "resources.memory", v, p->src[POLICY_K_MEMORY], vals);
        if (p->cpus_milli)
                snprintf(v, sizeof(v), "%u.%03u", p->cpus_milli / 1000,
                         p->cpus_milli % 1000);
        else
                snprintf(v, sizeof(v), "no cap");
        row(o, "resources.cpus", v, p->src[POLICY_K_CPUS], vals);
        snprintf(v, sizeof(v), "%u", p->pids_max);
        row(o, "resources.pids", v, p->src[POLICY_K_PIDS], vals);
        if (p->tmp_max)
                policy_size_words(p->tmp_max, v, sizeof(v));
        else
                snprintf(v, sizeof(v), "default (agentbox(1))");
        row(o, "resources.tmp", v, p->src[POLICY_K_TMP], vals);
        if (p->given & 1u << POLICY_K_AGENT)
                row(o, "agent.name", p->agent_name, p->src[POLICY_K_AGENT],
                    vals);
        row(o, "agent.profile", policy_profile_name(p->profile),
            p->src[POLICY_K_PROFILE], vals);
        if (p->given & 1u << POLICY_K_AGENT_PATH)
                row(o, "agent.path", p->agent_path,
                    p->src[POLICY_K_AGENT_PATH], vals);
        row(o, "agent.state", p->agent_state_project ? "project" : "user",
            p->src[POLICY_K_AGENT_STATE], vals);
        row(o, "agent.telemetry", p->agent_telemetry ? "true" : "false",
            p->src[POLICY_K_TELEMETRY], vals);

        const struct netpat_list *nl[2] = {&p->allow, &p->deny};
        const char *nk[2] = {"network.allow", "network.deny"};
        for (int j = 0; j < 2; j++) {
                json_object *a = list(o, nk[j]);
                if (!o->json && !nl[j]->n)
                        say_safe(stdout, "  %-20s (none)\n", nk[j]);
                for (size_t i = 0; i < nl[j]->n; i++)
                        row(o, nk[j], nl[j]->v[i].text, nl[j]->v[i].src, a);
        }
        json_object *a = list(o, "filesystem.protect");
        for (size_t i = 0; i < protect_defaults_n; i++)
                if (protect_default_active(&p->protect, i))
                        row(o, "filesystem.protect", protect_defaults[i].path,
                            (struct policy_src){0}, a);
        for (size_t i = 0; i < p->protect.n_add; i++)
                row(o, "filesystem.protect", p->protect.add[i],
                    p->protect.add_src[i], a);
        a = list(o, "filesystem.unprotect");
        for (size_t i = 0; i < p->protect.n_remove; i++)
                row(o, "filesystem.unprotect", p->protect.remove[i],
                    p->protect.remove_src[i], a);
        a = list(o, "filesystem.mounts");
        for (size_t i = 0; i < p->n_mounts; i++) {
                snprintf(v, sizeof(v), "%s (%s%s%s)", p->mounts[i].source,
                         p->mounts[i].rw ? "rw" : "ro",
                         p->mounts[i].target ? " at " : "",
                         p->mounts[i].target ? p->mounts[i].target : "");
                row(o, "filesystem.mounts", v, p->mounts[i].src, a);
        }
        a = list(o, "env");
        for (size_t i = 0; i < p->n_env; i++) {
                if (p->env[i].value)
                        snprintf(v, sizeof(v), "%s=%s", p->env[i].name,
                                 p->env[i].value);
                else
                        snprintf(v, sizeof(v), "%s (passed from the host)",
                                 p->env[i].name);
                row(o, "env", v, p->env[i].src, a);
        }
        /* where a secret comes from, never its value */
        a = list(o, "secrets");
        for (size_t i = 0; i < p->n_secrets; i++) {
                snprintf(v, sizeof(v), "%s from %s", p->secrets[i].name,
                         p->secrets[i].from);
                row(o, "secrets", v, p->secrets[i].src, a);
        }
}

static void print_layers(struct out *o)
{
        const struct policy_stack *s = o->s;
        json_object *a = list(o, "layers");
        if (!o->json)
                say_safe(stdout, "layers (lowest first; the managed one is a "
                       "ceiling):\n");
        for (int l = POLICY_LAYER_MANAGED; l < POLICY_LAYER_FLAGS; l++) {
                const char *state =
                        !s->present[l] ? "none"
                        : l != POLICY_LAYER_PROJECT ? "read"
                        : s->project_trusted        ? "trusted"
                        : s->widens.n ? "NOT TRUSTED: would widen the box"
                                      : "untrusted, narrows only";
                if (o->json) {
                        json_object *e = json_object_new_object();
                        json_object_object_add(
                                e, "layer",
                                json_object_new_string(policy_layer_name(
                                        (enum policy_layer)l)));
                        json_object_object_add(
                                e, "file",
                                s->path[l] ? json_object_new_string(s->path[l])
                                           : NULL);
                        json_object_object_add(
                                e, "present",
                                json_object_new_boolean(s->present[l]));
                        json_object_array_add(a, e);
                        continue;
                }
                say_safe(stdout, "  %-8s %s (%s)\n",
                       policy_layer_name((enum policy_layer)l),
                       s->path[l] ? s->path[l] : "-", state);
        }
        if (!s->present[POLICY_LAYER_PROJECT])
                return;
        if (o->json) {
                json_object *pr = json_object_new_object();
                json_object_object_add(pr, "sha256",
                                       json_object_new_string(s->project_hash));
                json_object_object_add(
                        pr, "trusted",
                        json_object_new_boolean(s->project_trusted));
                if (s->trusted_by)
                        json_object_object_add(
                                pr, "trusted_by",
                                json_object_new_string(s->trusted_by));
                json_object *w = json_object_new_array();
                for (size_t i = 0; i < s->widens.n; i++)
                        json_object_array_add(
                                w, json_object_new_string(s->widens.v[i]));
                json_object_object_add(pr, "widens", w);
                json_object_object_add(o->root, "project", pr);
                return;
        }
        if (s->project_trusted)
                say_safe(stdout, "  project file trusted by %s (sha256 %.16s...)\n",
                       s->trusted_by ? s->trusted_by : "?", s->project_hash);
        else if (s->widens.n) {
                say_safe(stdout, "  the project file would widen the box; run refuses "
                       "it until you trust it (agentbox trust %s):\n",
                       s->workspace);
                for (size_t i = 0; i < s->widens.n; i++)
                        say_safe(stdout, "    %s\n", s->widens.v[i]);
        }
}

/* ---- --explain ---------------------------------------------------------- */

static void verdict(struct out *o, const char *what, const char *why,
                    struct policy_src src)
{
        char where[PATH_MAX + 64];
        policy_src_describe(o->s, src, where, sizeof(where));
        if (o->json) {
                json_object *e = json_object_new_object();
                json_object_object_add(e, "verdict",
                                       json_object_new_string(what));
                json_object_object_add(e, "why", json_object_new_string(why));
                json_object_object_add(e, "from", src_json(o->s, src));
                json_object_object_add(o->root, "explain", e);
                return;
        }
        say_safe(stdout, "%s: %s (%s)\n", what, why, where);
}

static int explain_host(struct out *o, const char *target)
{
        const struct policy *p = &o->s->effective;
        char host[300];
        unsigned port = 443;
        snprintf(host, sizeof(host), "%s", target);
        char *colon = strrchr(host, ':');
        if (host[0] == '[') {
                char *rb = strchr(host, ']');
                if (!rb)
                        return -EINVAL;
                *rb = 0;
                memmove(host, host + 1, strlen(host));
                colon = rb[1] == ':' ? rb + 1 : NULL;
        } else if (colon && strchr(host, ':') != colon)
                colon = NULL; /* a bare IPv6 address */
        if (colon) {
                char *end;
                unsigned long v = strtoul(colon + 1, &end, 10);
                if (*end || !v || v > 65535)
                        return -EINVAL;
                port = (unsigned)v;
                *colon = 0;
        }
        char why[600];
        if (p->net == POLICY_NET_OFF) {
                verdict(o, "blocked", "the box has no network: network.mode off",
                    p->src[POLICY_K_NET]);
                return 0;
        }
        struct sockaddr_storage ss = {0};
        bool is_addr = false;
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
                s4->sin_family = AF_INET;
                s4->sin_port = htons((uint16_t)port);
                is_addr = true;
        } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons((uint16_t)port);
                is_addr = true;
        }
        char norm[256];
        if (!is_addr && netpat_host_normalise(host, norm, sizeof(norm)) < 0)
                return -EINVAL;
        const struct netpat *d =
                is_addr ? netpat_match_addr(&p->deny, (struct sockaddr *)&ss)
                        : netpat_match_name(&p->deny, norm, (uint16_t)port);
        if (d) {
                snprintf(why, sizeof(why), "%s:%u is denied by network.deny %s",
                         host, port, d->text);
                verdict(o, "blocked", why, d->src);
                return 0;
        }
        const struct netpat *a =
                is_addr ? netpat_match_addr(&p->allow, (struct sockaddr *)&ss)
                        : netpat_match_name(&p->allow, norm, (uint16_t)port);
        if (a) {
                snprintf(why, sizeof(why),
                         "%s:%u is allowed by network.allow %s", host, port,
                         a->text);
                verdict(o, "allowed", why, a->src);
                return 0;
        }
        if (is_addr && netpat_addr_is_internal((struct sockaddr *)&ss)) {
                snprintf(why, sizeof(why),
                         "%s is an internal address (loopback, private, the "
                         "host's own, ...): reached only when network.allow "
                         "names it",
                         host);
                verdict(o, "blocked", why, (struct policy_src){0});
                return 0;
        }
        if (p->net == POLICY_NET_OPEN) {
                snprintf(why, sizeof(why),
                         "%s:%u: network.mode open reaches every public host "
                         "(an internal address it resolves to is still "
                         "refused)",
                         host, port);
                verdict(o, "allowed", why, p->src[POLICY_K_NET]);
                return 0;
        }
        snprintf(why, sizeof(why),
                 "%s:%u: no network.allow pattern names it; add it to "
                 "network.allow in agentbox.yaml, or --allow %s",
                 host, port, host);
        verdict(o, "blocked", why, p->src[POLICY_K_NET]);
        return 0;
}


static int explain_path(struct out *o, const char *target)
{
        const struct policy_stack *s = o->s;
        const struct policy *p = &s->effective;
        char abs[PATH_MAX], why[PATH_MAX + 200];
        if (!realpath(target, abs)) {
                /* a path that does not exist yet: as written, made absolute */
                if (target[0] == '/')
                        snprintf(abs, sizeof(abs), "%s", target);
                else if (!getcwd(abs, sizeof(abs) - strlen(target) - 2))
                        return -errno;
                else
                        snprintf(abs + strlen(abs), sizeof(abs) - strlen(abs),
                                 "/%s", target);
        }
        if (s->workspace && path_is_under(abs, s->workspace)) {
                const char *rel = abs + strlen(s->workspace);
                rel += *rel == '/';
                for (size_t i = 0; i < p->protect.n_add; i++)
                        if (protect_covers(p->protect.add[i], rel)) {
                                snprintf(why, sizeof(why),
                                         "%s is a protected path of the "
                                         "workspace (filesystem.protect %s); "
                                         "the box sees it, but can neither "
                                         "change nor create it",
                                         abs, p->protect.add[i]);
                                verdict(o, "read-only", why,
                                    p->protect.add_src[i]);
                                return 0;
                        }
                for (size_t i = 0; i < protect_defaults_n; i++) {
                        const struct protect_default *d = &protect_defaults[i];
                        if (!protect_default_active(&p->protect, i) ||
                            !protect_covers(d->path, rel))
                                continue;
                        /* a directory kept whole (a repository): it can be
                         * neither removed nor replaced, what is in it
                         * stays writable */
                        if (d->marker && strcmp(rel, d->path) != 0)
                                continue;
                        if (d->marker) {
                                snprintf(why, sizeof(why),
                                         "%s can be neither removed, renamed "
                                         "nor replaced (%s), but what is in "
                                         "it stays writable",
                                         abs, d->why);
                                verdict(o, "kept", why,
                                        (struct policy_src){0});
                                return 0;
                        }
                        snprintf(why, sizeof(why),
                                 "%s is a protected path by default (%s: "
                                 "%s); filesystem.unprotect %s would make "
                                 "it writable",
                                 abs, d->path, d->why, d->path);
                        verdict(o, "read-only", why, (struct policy_src){0});
                        return 0;
                }
                snprintf(why, sizeof(why),
                         "%s is in the workspace %s, shared read-write", abs,
                         s->workspace);
                verdict(o, "read-write", why, p->src[POLICY_K_WORKSPACE]);
                return 0;
        }
        static const char *const system[] = {"/usr", "/etc", "/opt", "/bin",
                                             "/sbin", "/lib", "/lib64"};
        for (size_t i = 0; i < ARRAY_SIZE(system); i++)
                if (path_is_under(abs, system[i])) {
                        snprintf(why, sizeof(why),
                                 "%s is in the host's system directories, "
                                 "shown read-only (the secrets agentbox "
                                 "masks in /etc excepted: agentbox(1))",
                                 abs);
                        verdict(o, "read-only", why, (struct policy_src){0});
                        return 0;
                }
        static const char *const scratch[] = {"/tmp", "/var/tmp", "/dev/shm",
                                              "/home/agent"};
        for (size_t i = 0; i < ARRAY_SIZE(scratch); i++)
                if (path_is_under(abs, scratch[i])) {
                        snprintf(why, sizeof(why),
                                 "%s: the box has its own empty %s (memory, "
                                 "gone when it ends); the host's is not "
                                 "visible",
                                 abs, scratch[i]);
                        verdict(o, "private", why, (struct policy_src){0});
                        return 0;
                }
        snprintf(why, sizeof(why),
                 "%s is not in the box: only the workspace, the system "
                 "directories and the box's own scratch space are",
                 abs);
        verdict(o, "hidden", why, (struct policy_src){0});
        return 0;
}

static int run_check(int argc, char **argv, bool *json_out)
{
        bool json = false;
        const char *explain = NULL;
        char **rest = calloc((size_t)argc + 3, sizeof(*rest));
        if (!rest)
                return EXIT_AGENTBOX;
        int n = 0;
        rest[n++] = "run";
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0)
                        json = true;
                else if (strcmp(argv[i], "--explain") == 0 && i + 1 < argc)
                        explain = argv[++i];
                else if (strncmp(argv[i], "--explain=", 10) == 0)
                        explain = argv[i] + 10;
                else if (strcmp(argv[i], "-h") == 0 ||
                         strcmp(argv[i], "--help") == 0) {
                        fputs(cli_check_usage, stdout);
                        free(rest);
                        return 0;
                } else
                        rest[n++] = argv[i];
        }
        *json_out = json;
        rest[n++] = "--";
        rest[n++] = "true";
        struct policy flags;
        struct ab_err err = {0};
        char **cmd = NULL;
        policy_init(&flags);
        int r = cli_run_parse(n, rest, &flags, &cmd, &err);
        free(rest);
        if (r != 0) {
                say_safe(stderr, "agentbox: %s\n",
                        r == 1 ? "agentbox check --help" : err.msg);
                policy_free(&flags);
                return EXIT_AGENTBOX;
        }
        struct policy_stack s;
        struct policy_errors errs = {0};
        r = policy_stack_load(&s, &flags, NULL, &errs);
        struct out o = {.s = &s, .json = json};
        if (json)
                o.root = json_object_new_object();
        print_layers(&o);
        if (r == 0)
                print_policy(&o);
        int status = r < 0 ? EXIT_AGENTBOX : 0;
        if (r == 0 && explain) {
                bool path = explain[0] == '/' || explain[0] == '.' ||
                            explain[0] == '~' || strchr(explain, '/');
                int e = path ? explain_path(&o, explain)
                             : explain_host(&o, explain);
                if (e < 0) {
                        policy_errors_add(&errs,
                                          "--explain %s: not a host[:port] "
                                          "or a path",
                                          explain);
                        status = EXIT_AGENTBOX;
                }
        }
        if (json) {
                json_object *ea = json_object_new_array();
                for (size_t i = 0; i < errs.n; i++)
                        json_object_array_add(ea,
                                              json_object_new_string(errs.v[i]));
                json_object_object_add(o.root, "errors", ea);
                json_object_object_add(o.root, "valid",
                                       json_object_new_boolean(r == 0));
                puts(json_object_to_json_string_ext(
                        o.root, JSON_C_TO_STRING_PRETTY |
                                        JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o.root);
        }
        for (size_t i = 0; i < errs.n; i++)
                say_safe(stderr, "agentbox: %s\n", errs.v[i]);
        policy_errors_free(&errs);
        policy_stack_free(&s);
        return status;
}

int cli_check(int argc, char **argv)
{
        bool json = false;
        return run_check(argc, argv, &json);
}

static int trust_dir(const char *dir, const char *expect);

int cli_trust(int argc, char **argv)
{
        if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
                fputs("Usage: agentbox trust [DIR]\n\nApprove the policy "
                      "file DIR/agentbox.yaml (default: here) as it is now; "
                      "a changed file needs approval again.\n",
                      argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout
                                                                  : stderr);
                return argc == 2 && strcmp(argv[1], "--help") == 0
                               ? 0
                               : EXIT_AGENTBOX;
        }
        return trust_dir(argc == 2 ? argv[1] : ".", NULL);
}

int cli_trust_written(const char *dir, const char *hash)
{
        return trust_dir(dir, hash);
}

/* Approve dir's project file: what it widens shown, and it must be valid;
 * with expect, only that content (what agentbox itself wrote). */
static int trust_dir(const char *dir, const char *expect)
{
        /* what is approved: shown, and it must be a valid file */
        char *args[] = {"run", "-w", (char *)dir, "--", "true", NULL};
        struct policy flags;
        struct ab_err err = {0};
        char **cmd = NULL;
        policy_init(&flags);
        if (cli_run_parse(5, args, &flags, &cmd, &err) != 0) {
                say_safe(stderr, "agentbox: %s\n", err.msg);
                policy_free(&flags);
                return EXIT_AGENTBOX;
        }
        struct policy_stack s;
        struct policy_errors errs = {0};
        int r = policy_stack_load(&s, &flags, NULL, &errs);
        if (r == 0 && !s.present[POLICY_LAYER_PROJECT]) {
                policy_errors_add(&errs, "%s: no %s there", dir,
                                  POLICY_PROJECT_FILE);
                r = -ENOENT;
        }
        if (r == 0 && expect && strcmp(expect, s.project_hash) != 0) {
                policy_errors_add(&errs,
                                  "%s/%s changed since agentbox wrote it",
                                  dir, POLICY_PROJECT_FILE);
                r = -EAGAIN;
        }
        if (r < 0) {
                for (size_t i = 0; i < errs.n; i++)
                        say_safe(stderr, "agentbox: %s\n", errs.v[i]);
                say_safe(stderr, "agentbox: nothing was trusted\n");
                policy_errors_free(&errs);
                policy_stack_free(&s);
                return EXIT_AGENTBOX;
        }
        if (s.widens.n) {
                say_safe(stdout, "trusting %s, which widens the box:\n",
                       s.path[POLICY_LAYER_PROJECT]);
                for (size_t i = 0; i < s.widens.n; i++)
                        say_safe(stdout, "  %s\n", s.widens.v[i]);
        }
        r = policy_trust_project(s.workspace, s.project_hash, &err);
        if (r < 0)
                say_safe(stderr, "agentbox: %s\n", err.msg);
        else
                say_safe(stdout, "trusted %s (sha256 %s); a changed file needs "
                       "agentbox trust again\n",
                       s.path[POLICY_LAYER_PROJECT], s.project_hash);
        policy_errors_free(&errs);
        policy_stack_free(&s);
        return r < 0 ? EXIT_AGENTBOX : 0;
}
