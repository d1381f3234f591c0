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
 * The same for codex (Codex CLI) and gemini (Gemini CLI), each from its
 * table below.  The profile (agent.profile, --profile) says which of the
 * vendor's flags go on: autonomous (bypass, the default), ci (bypass and
 * machine-readable output) or interactive (none). */
#include <errno.h>
#include <fcntl.h>
#include <json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "box/box.h"
#include "agentcfg.h"
#include "cli.h"
#include "common/fileio.h"
#include "common/path.h"
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

/* DIR/package.json, parsed (NULL: none, or not JSON). */
static json_object *package_json(const char *dir)
{
        char pj[PATH_MAX + 16];
        snprintf(pj, sizeof(pj), "%s/package.json", dir);
        size_t len = 0;
        _cleanup_free_ char *text =
                fileio_read_small(AT_FDCWD, pj, false, 1u << 20, &len);
        return text ? json_tokener_parse(text) : NULL;
}

/* The directory of the npm package that holds file (a package.json naming
 * pkg, at most 4 levels up), or NULL; its package.json in *json. */
static char *package_of(const char *file, const char *pkg, json_object **json)
{
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", file);
        for (int up = 0; up < 5; up++) {
                char *slash = strrchr(dir, '/');
                if (!slash || slash == dir)
                        return NULL;
                *slash = 0;
                json_object *o = package_json(dir), *name = NULL;
                if (o && json_object_object_get_ex(o, "name", &name) &&
                    json_object_is_type(name, json_type_string) &&
                    strcmp(json_object_get_string(name), pkg) == 0) {
                        char *d = strdup(dir);
                        if (d)
                                *json = o;
                        else
                                json_object_put(o);
                        return d;
                }
                json_object_put(o);
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

/* agentbox's own directory for an agent's state, made now (0700) and
 * opened following no link (statedir.h): one per user (agents/NAME), or
 * one per workspace (projects/HASH/NAME, the hash of its path: no
 * project's box sees another's).  Its descriptor, its path in out. */
static int state_dir(const char *agent, const char *project, char *out,
                     size_t size, struct ab_err *err)
{
        char rel[128];
        if (project) {
                char hash[65];
                policy_sha256_hex(project, strlen(project), hash);
                hash[16] = 0;
                snprintf(rel, sizeof(rel), "projects/%s/%s", hash, agent);
        } else
                snprintf(rel, sizeof(rel), "agents/%s", agent);
        int fd = statedir_open_kind(STATEDIR_DATA, rel, err);
        if (fd >= 0 && fileio_fd_path(fd, out, size) < 0) {
                int e = -errno;
                close(fd);
                return err_setx(err, e, "the state directory %s", rel);
        }
        return fd;
}

/* ---- the agents ---------------------------------------------------------- */

struct agent_run {
        const struct agent_def *def;
        enum policy_profile profile;
        char state[PATH_MAX]; /* its state directory, on the host */
        int state_fd;         /* and open (-1 until made) */
        bool deny_file;       /* its deny list is in /etc/agentbox */
        char *base_url;       /* where its requests go instead, or NULL */
        char *workspace;
        bool telemetry;       /* agent.telemetry: the vendor's own */
        bool shared;          /* its state is every project's (user) */
        char *opts[4];        /* flags made for this run (freed) */
        size_t n_opts;
        char *bin;   /* the program, links followed */
        char **argv; /* the agent's own arguments (after its name) */
        int argc;
        char **cmd;  /* what the box runs */
};

struct agent_def {
        const char *name;
        const char *title;
        const char *program;
        const char *package; /* its npm package */
        const char *install; /* how to get it */
        const char *home;    /* its state, in the box */
        const char *const *hosts; /* its API and login hosts */
        size_t n_hosts;
        const char *const (*env)[2]; /* its home, its sandbox off, ... */
        size_t n_env;
        const char *const (*quiet_env)[2]; /* nonessential traffic off */
        size_t n_quiet_env;
        const char *const *keys; /* passed when set on the host */
        size_t n_keys;
        const char *base_url; /* where it goes instead (env) */
        const char *const *info; /* a question about the program */
        size_t n_info;
        /* the vendor's flags for the profile, before the user's */
        int (*flags)(struct agent_run *r, char **out, size_t *n);
        /* once the layers are merged: its files (NULL: none) */
        int (*prepare)(struct agent_run *r, struct policy_stack *s,
                       struct policy_errors *errs);
};

/* Claude Code */

static const char *const claude_hosts[] = {
        "api.anthropic.com", /* the API */
        "platform.claude.com", "claude.ai",
        "console.anthropic.com", /* login */
};

static const char *const claude_env[][2] = {
        {"CLAUDE_CONFIG_DIR", BOX_HOME "/.claude"},
};

/* nonessential traffic off (unless agent.telemetry) */
static const char *const claude_quiet_env[][2] = {
        {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"},
        {"DISABLE_AUTOUPDATER", "1"},
        {"DISABLE_TELEMETRY", "1"},
        {"DISABLE_ERROR_REPORTING", "1"},
};

static const char *const claude_keys[] = {"ANTHROPIC_API_KEY",
                                          "ANTHROPIC_AUTH_TOKEN"};
static const char *const claude_info[] = {"--version", "-v", "--help", "-h"};

/* The bypass (and the residual deny list: a tripwire, not a wall; the
 * box is the wall), as a JSON string: nothing written anywhere. */
#define CLAUDE_DENY                                                          \
        "\"deny\":[\"Bash(git push --force:*)\",\"Bash(git push -f:*)\","    \
        "\"Bash(git push --mirror:*)\",\"Bash(gh repo delete:*)\","          \
        "\"Bash(gh secret:*)\",\"Bash(npm publish:*)\","                     \
        "\"Bash(cargo publish:*)\",\"Bash(twine upload:*)\","                \
        "\"Bash(gem push:*)\",\"Read(./.env)\",\"Read(./.env.*)\"]"
static const char claude_bypass[] =
        "{\"permissions\":{\"defaultMode\":\"bypassPermissions\"," CLAUDE_DENY
        "}}";
static const char claude_tripwire[] =
        "{\"disableAllHooks\":true,\"permissions\":{\"defaultMode\":"
        "\"default\"," CLAUDE_DENY "}}";

static int claude_flags(struct agent_run *r, char **out, size_t *n)
{
        /* the settings in its home are the shared state directory's,
         * which a box may have written: a hook there would run in every
         * later box of every project; only the project's own (and
         * agentbox's flags) count */
        out[(*n)++] = "--setting-sources";
        out[(*n)++] = "project,local";
        /* and its MCP servers (.claude.json's, per project too) would
         * start in every later box: only --mcp-config's count */
        if (r->shared)
                out[(*n)++] = "--strict-mcp-config";
        if (r->profile == POLICY_PROFILE_INTERACTIVE) {
                /* pinned: no settings file may turn the prompts off */
                out[(*n)++] = "--permission-mode";
                out[(*n)++] = "default";
                out[(*n)++] = "--settings";
                out[(*n)++] = (char *)claude_tripwire;
                return 0;
        }
        out[(*n)++] = "--dangerously-skip-permissions";
        out[(*n)++] = "--settings";
        out[(*n)++] = (char *)claude_bypass;
        if (r->profile == POLICY_PROFILE_CI) {
                /* stream-json wants --verbose in print mode */
                out[(*n)++] = "--output-format";
                out[(*n)++] = "stream-json";
                out[(*n)++] = "--verbose";
        }
        return 0;
}

/* Codex CLI */

static const char *const codex_hosts[] = {
        "api.openai.com", /* the API */
        "auth.openai.com", /* login */
        "chatgpt.com",     /* the API for a ChatGPT login */
};

static const char *const codex_env[][2] = {
        {"CODEX_HOME", BOX_HOME "/.codex"},
};

static const char *const codex_keys[] = {"OPENAI_API_KEY", "CODEX_API_KEY"};
static const char *const codex_info[] = {"--version", "-V", "--help", "-h"};

/* nonessential traffic off (analytics to ab.chatgpt.com, the plugin
 * sync with github.com and chatgpt.com, the update check), and no
 * shared daemon (a unix socket in CODEX_HOME, which the box refuses),
 * for every profile */
static const char *const codex_quiet[] = {
        "-c", "analytics.enabled=false",
        "-c", "check_for_update_on_startup=false",
        "--disable", "plugins",
};

/* A string as a TOML basic string's content: NULL when it holds what
 * would need escaping (a quote, a backslash, a control byte). */
static bool toml_plain(const char *v)
{
        for (const unsigned char *c = (const unsigned char *)v; *c; c++)
                if (*c < 0x20 || *c == 0x7f || *c == '"' || *c == '\\')
                        return false;
        return true;
}

static char *run_opt(struct agent_run *r, char *s)
{
        if (s && r->n_opts < ARRAY_SIZE(r->opts))
                r->opts[r->n_opts++] = s;
        else {
                free(s);
                s = NULL;
        }
        return s;
}

static int codex_flags(struct agent_run *r, char **out, size_t *n)
{
        for (size_t i = 0; !r->telemetry && i < ARRAY_SIZE(codex_quiet); i++)
                out[(*n)++] = (char *)codex_quiet[i];
        out[(*n)++] = "--no-daemon";
        /* its config.toml is every project's box's to write: no MCP
         * server or notify command of it starts (exec reads none) */
        if (r->shared) {
                out[(*n)++] = "-c";
                out[(*n)++] = "mcp_servers={}";
                out[(*n)++] = "-c";
                out[(*n)++] = "notify=[]";
        }
        /* OPENAI_BASE_URL, which Codex itself ignores, as a provider of
         * its own (the Responses API there, the key in OPENAI_API_KEY) */
        if (r->base_url) {
                char *p = NULL;
                if (asprintf(&p,
                             "model_providers.agentbox={name=\"agentbox\","
                             "base_url=\"%s\",env_key=\"OPENAI_API_KEY\","
                             "wire_api=\"responses\"}",
                             r->base_url) < 0 ||
                    !run_opt(r, p))
                        return -ENOMEM;
                out[(*n)++] = "-c";
                out[(*n)++] = "model_provider=agentbox";
                out[(*n)++] = "-c";
                out[(*n)++] = p;
        }
        if (r->profile == POLICY_PROFILE_INTERACTIVE) {
                /* pinned to the vendor's defaults, whatever its
                 * config.toml (the box's to write) says: its own sandbox,
                 * and a question before leaving it (its bubblewrap cannot
                 * nest in the box, so each command asks) */
                out[(*n)++] = "-c";
                out[(*n)++] = "approval_policy=\"on-request\"";
                out[(*n)++] = "-c";
                out[(*n)++] = "sandbox_mode=\"workspace-write\"";
                return 0;
        }
        /* the box is the sandbox: Codex's own (bubblewrap) cannot nest */
        out[(*n)++] = "--dangerously-bypass-approvals-and-sandbox";
        /* and the workspace is trusted (no question at start) */
        if (r->workspace && toml_plain(r->workspace)) {
                char *p = NULL;
                if (asprintf(&p, "projects={\"%s\"={trust_level=\"trusted\"}}",
                             r->workspace) < 0 ||
                    !run_opt(r, p))
                        return -ENOMEM;
                out[(*n)++] = "-c";
                out[(*n)++] = p;
        }
        return 0;
}

/* Its execpolicy rules: Codex applies forbidden prefixes with approvals
 * off too, but has no flag for a rule, so they are a file in its home
 * (rewritten each run).  A tripwire: `echo > x; git push -f` is not
 * parsed, so not matched. */
static const char codex_rules[] =
        "# agentbox's residual deny list for Codex CLI (rewritten at each "
        "start):\n"
        "# a tripwire for irreversible actions, not the wall (the box is "
        "the wall).\n"
        "prefix_rule(pattern = [\"git\", \"push\", [\"--force\", \"-f\", "
        "\"--mirror\"]], decision = \"forbidden\", justification = "
        "\"agentbox: force-push is on the residual deny list\")\n"
        "prefix_rule(pattern = [\"gh\", \"repo\", \"delete\"], decision = "
        "\"forbidden\", justification = \"agentbox: on the residual deny "
        "list\")\n"
        "prefix_rule(pattern = [\"gh\", \"secret\"], decision = "
        "\"forbidden\", justification = \"agentbox: on the residual deny "
        "list\")\n"
        "prefix_rule(pattern = [[\"npm\", \"cargo\"], \"publish\"], "
        "decision = \"forbidden\", justification = \"agentbox: a registry "
        "publish is on the residual deny list\")\n"
        "prefix_rule(pattern = [\"twine\", \"upload\"], decision = "
        "\"forbidden\", justification = \"agentbox: a registry publish is "
        "on the residual deny list\")\n"
        "prefix_rule(pattern = [\"gem\", \"push\"], decision = "
        "\"forbidden\", justification = \"agentbox: a registry publish is "
        "on the residual deny list\")\n";

static int foreign_rule(void *arg, const char *name, unsigned char type)
{
        (void)type;
        size_t l = strlen(name);
        if (l > 6 && strcmp(name + l - 6, ".rules") == 0 &&
            strcmp(name, "agentbox.rules") != 0 &&
            unlinkat(*(int *)arg, name, 0) < 0 && errno != ENOENT &&
            errno != EISDIR)
                return -errno;
        return 0;
}

static int codex_quarantine(int dfd, const char *state, struct ab_err *err)
{
        size_t len = 0;
        _cleanup_free_ char *t = NULL;
        int r = agentcfg_read(dfd, "config.toml", &t, &len);
        if (r == 0 && !t)
                return 0;
        if (r < 0 && r != -EINVAL)
                return err_setx(err, r, "%s/config.toml", state);
        /* what cannot be read as a small file is held back too */
        bool risky = !t || memchr(t, 0, len);
        static const char *const words[] = {"mcp", "notify", "hook", "\\u",
                                            "\\U"};
        for (size_t i = 0; t && !risky && i < ARRAY_SIZE(words); i++)
                risky = strcasestr(t, words[i]) != NULL;
        if (!risky)
                return 0;
        if (renameat(dfd, "config.toml", dfd, "config.toml.agentbox-held") < 0)
                return err_setx(err, -errno, "%s/config.toml", state);
        say_safe(stderr,
                 "agentbox: moved %s/config.toml aside (to "
                 "config.toml.agentbox-held): it could start a program (an MCP "
                 "server, a notify command, a hook), and every project's box "
                 "can write it; with agent.state: project such settings "
                 "stay\n",
                 state);
        return 0;
}

static int codex_prepare(struct agent_run *r, struct policy_stack *s,
                         struct policy_errors *errs)
{
        struct ab_err err = {0};
        if (s->workspace && !(r->workspace = strdup(s->workspace)))
                return -ENOMEM;
        if (r->base_url && !toml_plain(r->base_url)) {
                policy_errors_add(errs,
                                  "OPENAI_BASE_URL %s: a quote, backslash "
                                  "or control character in it",
                                  r->base_url);
                return -EINVAL;
        }
        int dfd = r->state_fd;
        char shown[PATH_MAX + 32];
        snprintf(shown, sizeof(shown), "%s/rules/agentbox.rules", r->state);
        int rc = agentcfg_put(dfd, "rules", "agentbox.rules", codex_rules,
                              shown, &err);
        /* shared: a config.toml that could start a program (an MCP
         * server, a notify command, a hook; escapes could spell them) is
         * moved aside, since every project's box can write it; exec reads
         * none anyway, the TUI and the other commands would */
        if (rc == 0 && r->shared)
                rc = codex_quarantine(dfd, r->state, &err);
        /* interactive: a rule that allows a command would run it unasked,
         * and the rules there are the box's to write: only agentbox's */
        int rd = rc == 0 && r->profile == POLICY_PROFILE_INTERACTIVE
                         ? fileio_open_subdir(dfd, "rules")
                         : -1;
        if (rd >= 0) {
                rc = fileio_dir_each(rd, foreign_rule, &rd);
                if (rc < 0)
                        err_setx(&err, rc, "%s/rules", r->state);
                close(rd);
        }
        if (rc < 0)
                policy_errors_add(errs, "%s", err.msg);
        return rc;
}

/* Gemini CLI */

static const char *const gemini_hosts[] = {
        "generativelanguage.googleapis.com", /* the API */
        "cloudcode-pa.googleapis.com",       /* the API for a Google login */
        "oauth2.googleapis.com", "accounts.google.com", /* login */
};

static const char *const gemini_env[][2] = {
        {"GEMINI_SANDBOX", "false"}, /* the box is the sandbox */
};

static const char *const gemini_quiet_env[][2] = {
        {"GEMINI_TELEMETRY_ENABLED", "false"},
};

static const char *const gemini_keys[] = {"GEMINI_API_KEY", "GOOGLE_API_KEY"};
static const char *const gemini_info[] = {"--version", "-v", "--help", "-h"};

#define GEMINI_DENY_FILE "gemini-deny.toml"
#define GEMINI_TRUST_FILE "gemini-trusted-folders.json"

/* Its policy engine's deny rules (a file: it has no flag for a rule),
 * above its yolo allow-all; shown read-only in /etc/agentbox.  Commands
 * only: a tripwire for irreversible actions, which `g=git; $g push -f`
 * walks past. */
static const char gemini_deny[] =
        "# agentbox's residual deny list for Gemini CLI: a tripwire for\n"
        "# irreversible actions, not the wall (the box is the wall).\n"
        "[[rule]]\n"
        "toolName = \"run_shell_command\"\n"
        "commandPrefix = [\"git push --force\", \"git push -f\", "
        "\"git push --mirror\", \"gh repo delete\", \"gh secret\", "
        "\"npm publish\", \"cargo publish\", \"twine upload\", "
        "\"gem push\"]\n"
        "decision = \"deny\"\n"
        "priority = 999\n"
        "denyMessage = \"agentbox: on the residual deny list (an "
        "irreversible action); the user may run it outside the box\"\n";

static int gemini_flags(struct agent_run *r, char **out, size_t *n)
{
        if (r->deny_file) {
                out[(*n)++] = "--policy";
                out[(*n)++] = "/etc/agentbox/" GEMINI_DENY_FILE;
        }
        if (r->profile == POLICY_PROFILE_INTERACTIVE) {
                out[(*n)++] = "--approval-mode=default";
                return 0;
        }
        out[(*n)++] = "--approval-mode=yolo";
        /* folder trust would turn yolo back to the default */
        out[(*n)++] = "--skip-trust";
        if (r->profile == POLICY_PROFILE_CI) {
                out[(*n)++] = "--output-format";
                out[(*n)++] = "json";
        }
        return 0;
}

static int gemini_settings(const char *in, size_t len, void *arg, char **out,
                           struct ab_err *err)
{
        return agentcfg_gemini(in, len, *(unsigned *)arg, out, err);
}

/* The value the box's environment gets for name (set, or passed from
 * ours), or NULL; its rule in *rule when given. */
static const char *env_value(const struct policy *e, const char *name,
                             const struct policy_env **rule)
{
        for (size_t i = 0; i < e->n_env; i++)
                if (strcmp(e->env[i].name, name) == 0) {
                        if (rule)
                                *rule = &e->env[i];
                        return e->env[i].value ? e->env[i].value
                                               : getenv(name);
                }
        return NULL;
}

static int add_box_file(struct policy *e, const char *name, const char *text)
{
        struct policy_boxfile *v =
                realloc(e->box_files, (e->n_box_files + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        e->box_files = v;
        struct policy_boxfile b = {strdup(name), strdup(text)};
        if (!b.name || !b.text) {
                free(b.name);
                free(b.text);
                return -ENOMEM;
        }
        e->box_files[e->n_box_files++] = b;
        return 0;
}

/* Its settings (what it has no flag or variable for: usage statistics
 * off, the API-key sign-in with a base URL), and its deny list. */
static int gemini_prepare(struct agent_run *r, struct policy_stack *s,
                          struct policy_errors *errs)
{
        struct ab_err err = {0};
        unsigned want =
                (env_value(&s->effective, "GOOGLE_GEMINI_BASE_URL", NULL)
                         ? AGENTCFG_KEY_AUTH
                         : 0) |
                (r->telemetry ? 0 : AGENTCFG_QUIET) |
                (r->shared ? AGENTCFG_NO_CODE : 0) |
                (r->profile == POLICY_PROFILE_INTERACTIVE ? AGENTCFG_ASK : 0);
        char shown[PATH_MAX + 16];
        snprintf(shown, sizeof(shown), "%s/settings.json", r->state);
        int rc = agentcfg_update(r->state_fd, "settings.json", shown,
                                 gemini_settings, &want, &err);
        if (rc == 0 && box_etc_shown()) {
                rc = add_box_file(&s->effective, GEMINI_DENY_FILE, gemini_deny);
                r->deny_file = rc == 0;
                /* interactive: its folder trust asked, not a file the box
                 * wrote in the state directory */
                if (rc == 0 && r->profile == POLICY_PROFILE_INTERACTIVE) {
                        rc = add_box_file(&s->effective, GEMINI_TRUST_FILE,
                                          "{}\n");
                        struct ab_err e2 = {0};
                        if (rc == 0)
                                rc = policy_env_add_as(
                                        &s->effective,
                                        "GEMINI_CLI_TRUSTED_FOLDERS_PATH="
                                        "/etc/agentbox/" GEMINI_TRUST_FILE,
                                        "agent", AGENT_SRC, &e2);
                }
        } else if (rc == 0)
                say_safe(stderr,
                         "agentbox: note: this host has no /etc/agentbox "
                         "(agentbox's configuration directory, made when it "
                         "is installed), so Gemini CLI runs without its "
                         "residual deny list\n");
        if (rc < 0)
                policy_errors_add(errs, "%s", err.code ? err.msg
                                                       : "out of memory");
        return rc;
}

#define LIST(a) a, ARRAY_SIZE(a)

static const struct agent_def agents[] = {
        {"claude", "Claude Code", "claude", "@anthropic-ai/claude-code",
         "npm install -g @anthropic-ai/claude-code, or Anthropic's native "
         "installer",
         BOX_HOME "/.claude", LIST(claude_hosts), LIST(claude_env),
         LIST(claude_quiet_env), LIST(claude_keys), "ANTHROPIC_BASE_URL", LIST(claude_info),
         claude_flags, NULL},
        {"codex", "Codex CLI", "codex", "@openai/codex",
         "npm install -g @openai/codex", BOX_HOME "/.codex", LIST(codex_hosts),
         LIST(codex_env), NULL, 0, LIST(codex_keys), "OPENAI_BASE_URL",
         LIST(codex_info), codex_flags, codex_prepare},
        {"gemini", "Gemini CLI", "gemini", "@google/gemini-cli",
         "npm install -g @google/gemini-cli", BOX_HOME "/.gemini",
         LIST(gemini_hosts), LIST(gemini_env), LIST(gemini_quiet_env),
         LIST(gemini_keys),
         "GOOGLE_GEMINI_BASE_URL", LIST(gemini_info), gemini_flags,
         gemini_prepare},
};

static const struct agent_def *agent_find(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(agents); i++)
                if (strcmp(agents[i].name, name) == 0)
                        return &agents[i];
        return NULL;
}

/* The program and what it needs, read-only at their own paths: its npm
 * package (or its binary's directory: a native installer's), and a node
 * that is not the system's (nvm's, a tarball's). */
/* The platform packages (optionalDependencies: Codex's and Claude
 * Code's native binaries) that npm put beside pkg instead of inside it,
 * read-only at their own paths too. */
static int hoisted_mounts(struct policy *l, const char *pkg, const char *name,
                          json_object *o)
{
        json_object *deps = NULL;
        /* the node_modules pkg is in: one up, two for a @scope/ name */
        char root[PATH_MAX];
        snprintf(root, sizeof(root), "%s", pkg);
        for (int up = name[0] == '@' ? 2 : 1; up > 0; up--) {
                char *s = strrchr(root, '/');
                if (s && s != root)
                        *s = 0;
        }
        int r = 0;
        if (json_object_object_get_ex(o, "optionalDependencies", &deps) &&
            json_object_is_type(deps, json_type_object)) {
                json_object_object_foreach(deps, k, v) {
                        (void)v;
                        char cand[PATH_MAX * 2];
                        struct stat st;
                        if (strstr(k, "..") || k[0] == '/' ||
                            (size_t)snprintf(cand, sizeof(cand), "%s/%s", root,
                                             k) >= sizeof(cand) ||
                            lstat(cand, &st) < 0 || !S_ISDIR(st.st_mode) ||
                            path_is_under(pkg, cand))
                                continue;
                        if ((r = add_mount(l, cand, cand, false)) < 0)
                                break;
                }
        }
        return r;
}

static int install_mounts(struct policy *l, const struct agent_def *d,
                          const char *real, struct ab_err *err)
{
        json_object *pj = NULL;
        _cleanup_free_ char *pkg = package_of(real, d->package, &pj);
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", real);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir)
                *slash = 0;
        int r = add_mount(l, pkg ? pkg : dir, pkg ? pkg : dir, false);
        if (r == 0 && pkg)
                r = hoisted_mounts(l, pkg, d->package, pj);
        json_object_put(pj);
        if (r < 0 || !needs_node(real))
                return r;
        _cleanup_free_ char *node = on_path("node");
        char nreal[PATH_MAX];
        if (!node || !realpath(node, nreal))
                return err_set(err, -ENOENT,
                               "%s needs node, and there is none on your PATH",
                               real);
        if (strncmp(nreal, "/usr/", 5) == 0 || strncmp(nreal, "/opt/", 5) == 0)
                return 0; /* the system's is in the box already */
        char *s1 = strrchr(nreal, '/');
        if (s1)
                *s1 = 0; /* .../bin */
        char *s2 = strrchr(nreal, '/');
        if (s2 && s2 != nreal)
                *s2 = 0; /* the prefix */
        return add_mount(l, nreal, nreal, false);
}

static int agent_build(void *arg, const struct policy_stack *s,
                       const struct policy *conf, struct policy *l,
                       struct policy_errors *errs)
{
        struct agent_run *run = arg;
        struct ab_err err = {0};
        const struct agent_def *d = agent_find(conf->agent_name);
        if (!d) {
                policy_errors_add(errs, "%s: no such agent", conf->agent_name);
                return -EINVAL;
        }
        run->def = d;
        run->profile = conf->profile;
        run->telemetry = conf->agent_telemetry;
        run->shared = !conf->agent_state_project;
        /* agent.path names it, else PATH finds it */
        _cleanup_free_ char *bin = NULL;
        const char *why = "on your PATH";
        if (conf->agent_path) {
                bin = policy_expand_home(conf->agent_path);
                why = "at agent.path";
        } else
                bin = on_path(d->program);
        struct stat st;
        if (!bin || stat(bin, &st) < 0 || !S_ISREG(st.st_mode)) {
                policy_errors_add(errs,
                                  "%s is not installed here (no %s %s): "
                                  "install it (%s), then run agentbox %s "
                                  "again",
                                  d->title, conf->agent_path ? conf->agent_path
                                                             : d->program,
                                  why, d->install, d->name);
                return -ENOENT;
        }
        char real[PATH_MAX];
        if (!realpath(bin, real)) {
                policy_errors_add(errs, "%s: %s", bin, strerror(errno));
                return -errno;
        }
        int r = install_mounts(l, d, real, &err);
        if (r == 0) {
                run->state_fd = state_dir(
                        d->name, conf->agent_state_project ? s->workspace : NULL,
                        run->state, sizeof(run->state), &err);
                r = run->state_fd < 0 ? run->state_fd : 0;
        }
        if (r == 0)
                r = add_mount(l, run->state, d->home, true);
        for (size_t i = 0; r == 0 && i < d->n_hosts; i++) {
                r = netpat_list_add(&l->allow, d->hosts[i], "agent", &err);
                if (r == 0)
                        l->allow.v[l->allow.n - 1].src = AGENT_SRC;
        }
        l->given |= 1u << POLICY_K_ALLOW;
        for (size_t i = 0; r == 0 && i < d->n_env + d->n_quiet_env; i++) {
                const char *const *e = i < d->n_env ? d->env[i]
                                                    : d->quiet_env[i - d->n_env];
                if (i >= d->n_env && run->telemetry)
                        break;
                char spec[256];
                snprintf(spec, sizeof(spec), "%s=%s", e[0], e[1]);
                r = policy_env_add_as(l, spec, "agent", AGENT_SRC, &err);
        }
        /* the user's API key, when they have one set */
        for (size_t i = 0; r == 0 && i < d->n_keys; i++)
                if (getenv(d->keys[i]))
                        r = policy_env_add_as(l, d->keys[i], "agent",
                                              AGENT_SRC, &err);
        if (r == 0 && !(run->bin = strdup(real)))
                r = -ENOMEM;
        if (r < 0) {
                policy_errors_add(errs, "%s", err.code ? err.msg
                                                       : "out of memory");
                return r;
        }
        return 0;
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

static int follow_base_url(struct agent_run *run, struct policy_stack *s,
                           struct policy_errors *errs)
{
        const char *var = run->def->base_url;
        const struct policy_env *rule = NULL;
        const char *v = env_value(&s->effective, var, &rule);
        /* an untrusted project file's is no reason to allow a host (it is
         * refused as widening anyway) */
        if (!v || (rule->src.layer == POLICY_LAYER_PROJECT &&
                   !s->project_trusted))
                return 0;
        if (!(run->base_url = strdup(v)))
                return -ENOMEM;
        struct base_ctx c = {s, errs, 0};
        if (policy_url_patterns(v, allow_base, &c) < 0) {
                policy_errors_add(errs,
                                  "%s %s: not an http(s) URL with a host",
                                  var, v);
                return -EINVAL;
        }
        return c.r;
}

static int agent_after_load(struct policy_stack *s, void *arg,
                            struct policy_errors *errs)
{
        struct agent_run *run = arg;
        int r = follow_base_url(run, s, errs);
        if (r == 0 && run->def->prepare)
                r = run->def->prepare(run, s, errs);
        /* the box has no use for it (and closes what it inherits) */
        if (run->state_fd >= 0)
                close(run->state_fd);
        run->state_fd = -1;
        return r;
}

/* The box's command: the program, the profile's flags, the user's. */
static char **agent_command(void *arg)
{
        struct agent_run *run = arg;
        const struct agent_def *d = run->def;
        /* the profile's flags are at most 21 */
        run->cmd = calloc((size_t)run->argc + 40, sizeof(*run->cmd));
        if (!run->cmd)
                return NULL;
        size_t n = 0;
        run->cmd[n++] = run->bin;
        /* a question about the program itself needs no bypass (and
         * Claude Code's --settings costs it 4x the time) */
        bool info = false;
        for (size_t i = 0; run->argc == 1 && i < d->n_info; i++)
                info |= strcmp(run->argv[0], d->info[i]) == 0;
        if (!info && d->flags(run, run->cmd, &n) < 0)
                return NULL;
        for (int i = 0; i < run->argc; i++) {
                run->cmd[n++] = run->argv[i];
                /* exec's own flags: its config.toml is the shared state
                 * directory's, which a box may have written (an MCP
                 * server, a notify command would run in every later
                 * box), so not read; and its machine-readable output */
                if (i == 0 && d->flags == codex_flags &&
                    (strcmp(run->argv[0], "exec") == 0 ||
                     strcmp(run->argv[0], "e") == 0)) {
                        run->cmd[n++] = "--ignore-user-config";
                        if (run->profile == POLICY_PROFILE_CI)
                                run->cmd[n++] = "--json";
                }
        }
        run->cmd[n] = NULL;
        return run->cmd;
}

int cli_agent(struct policy *flags, const char *name, int argc, char **argv)
{
        struct agent_run run = {.argv = argv, .argc = argc, .state_fd = -1};
        struct policy_agent_hook agent = {name, agent_build, &run};
        /* the walls proven before the agent starts (box/selftest.c) */
        struct cli_agent_hooks hooks = {.selftest = BOX_SELFTEST_GATE,
                                        .agent = &agent,
                                        .after_load = agent_after_load,
                                        .command = agent_command,
                                        .arg = &run};
        int status = cli_run_layers(flags, &hooks, NULL);
        free(run.cmd);
        free(run.bin);
        free(run.base_url);
        free(run.workspace);
        if (run.state_fd >= 0)
                close(run.state_fd);
        for (size_t i = 0; i < run.n_opts; i++)
                free(run.opts[i]);
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
        int status = cli_run_layers(&flags, &hooks, cmd);
        free(args);
        return status;
}
