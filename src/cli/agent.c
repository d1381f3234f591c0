/* agentbox claude [ARGS...]: Claude Code in a box, autonomous inside it
 * only.  The agent's profile is one more layer of the policy (between the
 * user's file and the project's, under the managed ceiling):
 *   - its installation on the host's PATH, found through its links and
 *     shown read-only at its own path (and a node it needs, when not the
 *     system's), nothing else of the home;
 *   - its state (login, sessions, history) in a directory agentbox owns,
 *     $XDG_DATA_HOME/agentbox/agents/claude, read-write at ~/.claude in
 *     the box (CLAUDE_CONFIG_DIR), never the user's own ~/.claude;
 *   - its API and login hosts allowed, nothing else; a base URL set in
 *     the box's environment (ANTHROPIC_BASE_URL) is allowed instead;
 *   - nonessential traffic (telemetry, error reports, updates) off;
 *   - bypass mode by flags only (--dangerously-skip-permissions and
 *     --settings as a JSON string): no file saying so is written, on the
 *     host or in the state directory.
 * codex and gemini are not done yet: said so, exit 125. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "box/box.h"
#include "cli.h"
#include "common/fileio.h"
#include "common/say.h"
#include "common/statedir.h"
#include "common/util.h"
#include "policy/layers.h"
#include "policy/urlpat.h"

#define AGENT_SRC ((struct policy_src){POLICY_LAYER_AGENT, 0, 0})

/* The first executable name on PATH, malloc'ed, or NULL. */
static char *on_path(const char *name)
{
        const char *path = getenv("PATH");
        if (!path || !*path)
                path = "/usr/local/bin:/usr/bin:/bin";
        for (const char *p = path; *p;) {
                size_t n = strcspn(p, ":");
                char cand[PATH_MAX];
                /* absolute entries only: "." or "bin" would find a
                 * program the current directory (a repository) ships */
                if (n && p[0] == '/' && n < sizeof(cand) - strlen(name) - 2) {
                        snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, p,
                                 name);
                        struct stat st;
                        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
                            access(cand, X_OK) == 0)
                                return strdup(cand);
                }
                p += n + (p[n] == ':');
        }
        return NULL;
}

/* The directory of the npm package that holds file (a package.json naming
 * pkg, at most 4 levels up), or NULL. */
static char *package_of(const char *file, const char *pkg)
{
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", file);
        for (int up = 0; up < 5; up++) {
                char *slash = strrchr(dir, '/');
                if (!slash || slash == dir)
                        return NULL;
                *slash = 0;
                char pj[PATH_MAX + 16], buf[4096];
                snprintf(pj, sizeof(pj), "%s/package.json", dir);
                int fd = open(pj, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                ssize_t n = read(fd, buf, sizeof(buf) - 1);
                close(fd);
                if (n <= 0)
                        continue;
                buf[n] = 0;
                char want[256];
                snprintf(want, sizeof(want), "\"name\": \"%s\"", pkg);
                char want2[256];
                snprintf(want2, sizeof(want2), "\"name\":\"%s\"", pkg);
                if (strstr(buf, want) || strstr(buf, want2))
                        return strdup(dir);
        }
        return NULL;
}

/* A script's interpreter, when it is "#!/usr/bin/env node" or a path. */
static bool needs_node(const char *file)
{
        char buf[128] = "";
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        if (fd >= 0)
                close(fd);
        if (n < 2 || buf[0] != '#' || buf[1] != '!')
                return false;
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return strstr(buf, "node") != NULL;
}

static int add_mount(struct policy *l, const char *src, const char *target,
                     bool rw)
{
        struct policy_mount *v =
                realloc(l->mounts, (l->n_mounts + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        l->mounts = v;
        struct policy_mount m = {.source = strdup(src),
                                 .target = target ? strdup(target) : NULL,
                                 .rw = rw,
                                 .src = AGENT_SRC};
        if (!m.source || (target && !m.target)) {
                free(m.source);
                free(m.target);
                return -ENOMEM;
        }
        l->mounts[l->n_mounts++] = m;
        return 0;
}

/* agentbox's own directory for an agent's state, made now (0700). */
static int state_dir(const char *agent, char *out, size_t size,
                     struct ab_err *err)
{
        const char *x = geteuid() == 0 ? NULL : getenv("XDG_DATA_HOME");
        if (statedir_base_override)
                snprintf(out, size, "%s/agents/%s", statedir_base_override,
                         agent);
        else if (x && x[0] == '/')
                snprintf(out, size, "%s/agentbox/agents/%s", x, agent);
        else {
                _cleanup_free_ char *h = policy_expand_home("~");
                if (!h)
                        return err_set(err, -ENOENT, "no home directory");
                snprintf(out, size, "%s/.local/share/agentbox/agents/%s", h,
                         agent);
        }
        int r = fileio_mkdirs(out, 0700);
        if (r < 0)
                return err_setx(err, r, "%s", out);
        struct stat st;
        if (lstat(out, &st) < 0 || !S_ISDIR(st.st_mode) ||
            st.st_uid != geteuid())
                return err_set(err, -EPERM,
                               "%s: not a directory of yours; remove it", out);
        return 0;
}

/* ---- Claude Code --------------------------------------------------------- */

static const char *const claude_hosts[] = {
        "api.anthropic.com", /* the API */
        "platform.claude.com", "claude.ai",
        "console.anthropic.com", /* login */
};

static const char *const claude_env[][2] = {
        {"CLAUDE_CONFIG_DIR", BOX_HOME "/.claude"},
        {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"},
        {"DISABLE_AUTOUPDATER", "1"},
        {"DISABLE_TELEMETRY", "1"},
        {"DISABLE_ERROR_REPORTING", "1"},
};

static int claude_layer(struct policy *l, char **bin_out, struct ab_err *err)
{
        _cleanup_free_ char *bin = on_path("claude");
        if (!bin)
                return err_set(err, -ENOENT,
                               "Claude Code is not installed here (no claude "
                               "on your PATH): install it (npm install -g "
                               "@anthropic-ai/claude-code, or Anthropic's "
                               "native installer), then run agentbox claude "
                               "again");
        char real[PATH_MAX];
        if (!realpath(bin, real))
                return err_setx(err, -errno, "%s", bin);
        /* its package (the npm one), or the directory of its binary (the
         * native installer's) */
        _cleanup_free_ char *pkg = package_of(real, "@anthropic-ai/claude-code");
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", real);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir)
                *slash = 0;
        int r = add_mount(l, pkg ? pkg : dir, pkg ? pkg : dir, false);
        if (r == 0 && needs_node(real)) {
                _cleanup_free_ char *node = on_path("node");
                char nreal[PATH_MAX];
                if (!node || !realpath(node, nreal))
                        return err_set(err, -ENOENT,
                                       "%s needs node, and there is none "
                                       "on your PATH",
                                       real);
                /* the system's is in the box already; another one's
                 * prefix (nvm's, a tarball's) goes in read-only */
                if (strncmp(nreal, "/usr/", 5) != 0 &&
                    strncmp(nreal, "/opt/", 5) != 0) {
                        char *s1 = strrchr(nreal, '/');
                        if (s1)
                                *s1 = 0; /* .../bin */
                        char *s2 = strrchr(nreal, '/');
                        if (s2 && s2 != nreal)
                                *s2 = 0; /* the prefix */
                        r = add_mount(l, nreal, nreal, false);
                }
        }
        char state[PATH_MAX];
        if (r == 0 && (r = state_dir("claude", state, sizeof(state), err)) < 0)
                return r;
        if (r == 0)
                r = add_mount(l, state, BOX_HOME "/.claude", true);
        for (size_t i = 0; r == 0 && i < ARRAY_SIZE(claude_hosts); i++) {
                r = netpat_list_add(&l->allow, claude_hosts[i], "agent", err);
                if (r == 0)
                        l->allow.v[l->allow.n - 1].src = AGENT_SRC;
        }
        l->given |= 1u << POLICY_K_ALLOW;
        for (size_t i = 0; r == 0 && i < ARRAY_SIZE(claude_env); i++) {
                char spec[256];
                snprintf(spec, sizeof(spec), "%s=%s", claude_env[i][0],
                         claude_env[i][1]);
                r = policy_env_add_as(l, spec, "agent", AGENT_SRC, err);
        }
        /* the user's API key, when they have one set */
        if (r == 0 && getenv("ANTHROPIC_API_KEY"))
                r = policy_env_add_as(l, "ANTHROPIC_API_KEY", "agent",
                                      AGENT_SRC, err);
        if (r < 0)
                return err->code ? r : err_set(err, r, "out of memory");
        *bin_out = strdup(real);
        return *bin_out ? 0 : err_set(err, -ENOMEM, "out of memory");
}

/* Once the layers are merged: a base URL in the box's environment is
 * where the agent goes instead, so it is allowed (within the ceiling). */
struct base_ctx {
        struct policy_stack *s;
        struct policy_errors *errs;
        int r;
};

static void allow_base(void *arg, const char *pattern, bool internal)
{
        (void)internal;
        struct base_ctx *c = arg;
        if (c->r == 0)
                c->r = policy_stack_allow(c->s, pattern, AGENT_SRC, c->errs);
}

static int claude_after_load(struct policy_stack *s, void *arg,
                             struct policy_errors *errs)
{
        (void)arg;
        const struct policy *e = &s->effective;
        for (size_t i = 0; i < e->n_env; i++) {
                if (strcmp(e->env[i].name, "ANTHROPIC_BASE_URL") != 0)
                        continue;
                /* an untrusted project file's is no reason to allow a
                 * host (it is refused as widening anyway) */
                if (e->env[i].src.layer == POLICY_LAYER_PROJECT &&
                    !s->project_trusted)
                        return 0;
                const char *v = e->env[i].value ? e->env[i].value
                                                : getenv("ANTHROPIC_BASE_URL");
                if (!v)
                        return 0;
                struct base_ctx c = {s, errs, 0};
                if (policy_url_patterns(v, allow_base, &c) < 0) {
                        policy_errors_add(errs,
                                          "ANTHROPIC_BASE_URL %s: not an "
                                          "http(s) URL with a host",
                                          v);
                        return -EINVAL;
                }
                return c.r;
        }
        return 0;
}

/* The bypass configuration, as flags: nothing written anywhere. */
static const char claude_settings[] =
        "{\"permissions\":{\"defaultMode\":\"bypassPermissions\"}}";

int cli_agent(const char *name, int argc, char **argv)
{
        struct ab_err err = {0};
        if (strcmp(name, "claude") != 0) {
                say_safe(stderr,
                         "agentbox: %s: this version has the claude profile "
                         "only; run the agent with agentbox run -- %s (and "
                         "its own flags) meanwhile\n",
                         name, name);
                return EXIT_AGENTBOX;
        }
        struct policy agent;
        policy_init(&agent);
        char *bin = NULL;
        if (claude_layer(&agent, &bin, &err) < 0) {
                say_safe(stderr, "agentbox: %s\n", err.msg);
                policy_free(&agent);
                return EXIT_AGENTBOX;
        }
        /* the agent's own arguments follow ours */
        char **cmd = calloc((size_t)argc + 4, sizeof(*cmd));
        if (!cmd) {
                free(bin);
                policy_free(&agent);
                return EXIT_AGENTBOX;
        }
        size_t n = 0;
        cmd[n++] = bin;
        /* a question about the program itself needs no bypass (and the
         * flags make Claude Code load its settings: 4x the time) */
        bool info = argc == 2 && (strcmp(argv[1], "--version") == 0 ||
                                  strcmp(argv[1], "-v") == 0 ||
                                  strcmp(argv[1], "--help") == 0 ||
                                  strcmp(argv[1], "-h") == 0);
        if (!info) {
                cmd[n++] = "--dangerously-skip-permissions";
                cmd[n++] = "--settings";
                cmd[n++] = (char *)claude_settings;
        }
        for (int i = 1; i < argc; i++)
                cmd[n++] = argv[i];
        cmd[n] = NULL;
        struct policy flags;
        policy_init(&flags);
        /* the walls proven before the agent starts (box/selftest.c) */
        struct cli_agent_hooks hooks = {.name = name,
                                        .selftest = BOX_SELFTEST_GATE,
                                        .after_load = claude_after_load};
        int status = cli_run_layers(&flags, &agent, &hooks, cmd);
        policy_free(&agent);
        free(cmd);
        free(bin);
        return status;
}

int cli_selftest(int argc, char **argv)
{
        /* a box as run would make it, with these options; each canary
         * said, no command run */
        char **args = calloc((size_t)argc + 3, sizeof(*args));
        if (!args)
                return EXIT_AGENTBOX;
        int n = 0;
        args[n++] = "run";
        for (int i = 1; i < argc; i++)
                args[n++] = argv[i];
        args[n++] = "--";
        args[n++] = "true";
        struct policy flags;
        struct ab_err err = {0};
        char **cmd = NULL;
        policy_init(&flags);
        int r = cli_run_parse(n, args, &flags, &cmd, &err);
        if (r != 0) {
                say_safe(stderr, "agentbox: %s\n",
                         r == 1 ? "usage: agentbox selftest [RUN OPTIONS]"
                                : err.msg);
                policy_free(&flags);
                free(args);
                return r == 1 ? 0 : EXIT_AGENTBOX;
        }
        struct cli_agent_hooks hooks = {.selftest = BOX_SELFTEST_SHOW};
        int status = cli_run_layers(&flags, NULL, &hooks, cmd);
        free(args);
        return status;
}
