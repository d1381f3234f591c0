#include "protect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/path.h"
#include "common/util.h"

/* What the host user's own tools run from a project without being asked,
 * on open, at start, on cd or at the next commit.  The reasons are
 * agentbox(1)'s; keep the two in step. */
const struct protect_default protect_defaults[] = {
        {".git/hooks", PROTECT_HOLD_NODE, true, NULL,
         "git runs its hooks at commit, checkout, merge, rebase and push"},
        {".git/config", PROTECT_HOLD_CONF, true, NULL,
         "core.fsmonitor, core.hooksPath, core.sshCommand, the pager, "
         "filters and aliases: commands git runs by itself (what its "
         "hooksPath, include paths and fsmonitor name in the workspace is "
         "protected too)"},
        {".git/commondir", PROTECT_HOLD_DOT, true, NULL,
         "makes git read another directory's config and hooks"},
        {".git/config.worktree", PROTECT_HOLD_NONE, true, NULL,
         "per-worktree config, read when extensions.worktreeConfig is on"},
        {".git/modules/**", PROTECT_HOLD_NONE, true, NULL,
         "submodules' git directories: git status in the parent runs their "
         "fsmonitor, git commit their hooks (read-only as a whole but for "
         "each existing one's own state)"},
        {".git/worktrees/*", PROTECT_HOLD_NONE, true, NULL,
         "linked worktrees' commondir, gitdir and config.worktree"},
        {".git", PROTECT_HOLD_NODE, false, "HEAD",
         "a repository made at the workspace's root would be the one the "
         "host's git uses there (its config runs commands)"},
        {".gitmodules", PROTECT_HOLD_NODE, false, NULL,
         "submodule URLs and paths that git submodule update fetches (each "
         "submodule's .git is protected too)"},
        {".claude", PROTECT_HOLD_NODE, false, NULL,
         "Claude Code: settings.json hooks run at session start, commands, "
         "agents, skills"},
        {".mcp.json", PROTECT_HOLD_NODE, false, NULL,
         "MCP servers that Claude Code and other agents start"},
        {".codex", PROTECT_HOLD_NODE, false, NULL,
         "Codex CLI: project config.toml (MCP servers, settings)"},
        {".gemini", PROTECT_HOLD_NODE, false, NULL,
         "Gemini CLI: settings.json (MCP servers, hooks)"},
        {".cursor", PROTECT_HOLD_NODE, false, NULL,
         "Cursor: mcp.json servers, hooks, rules"},
        {".vscode", PROTECT_HOLD_NODE, false, NULL,
         "VS Code: tasks run on folder open, settings naming programs "
         "(interpreters, linters), mcp.json"},
        {".idea", PROTECT_HOLD_NODE, false, NULL,
         "JetBrains IDEs: run configurations and startup tasks"},
        {".zed", PROTECT_HOLD_NODE, false, NULL,
         "Zed: tasks and language-server settings naming programs"},
        {".devcontainer", PROTECT_HOLD_NODE, false, NULL,
         "Dev Containers: initializeCommand runs on the host"},
        {".devcontainer.json", PROTECT_HOLD_NODE, false, NULL,
         "Dev Containers: initializeCommand runs on the host"},
        {".envrc", PROTECT_HOLD_NODE, false, NULL,
         "direnv: shell code run on cd"},
        {".husky", PROTECT_HOLD_NODE, false, NULL,
         "husky: git hooks through core.hooksPath"},
        {".pre-commit-config.yaml", PROTECT_HOLD_NODE, false, NULL,
         "pre-commit: commands its git hook runs at every commit"},
        {"mise.toml", PROTECT_HOLD_NODE, false, NULL,
         "mise: env scripts and hooks run on cd"},
        {".mise.toml", PROTECT_HOLD_NODE, false, NULL,
         "mise: env scripts and hooks run on cd"},
        {".opencode", PROTECT_HOLD_NODE, false, NULL,
         "opencode: plugins loaded at start, MCP servers"},
        {"opencode.json", PROTECT_HOLD_NODE, false, NULL,
         "opencode: MCP servers and commands"},
        {"agentbox.yaml", PROTECT_HOLD_NODE, false, NULL,
         "agentbox's own project policy: what it widens needs your "
         "approval (agentbox trust), so the box may neither change nor "
         "create it"},
        {".hg", PROTECT_HOLD_NODE, false, "requires",
         "a Mercurial repository made at the root would be the one the "
         "host's hg uses there"},
        {".hg/hgrc", PROTECT_HOLD_NONE, true, NULL, "Mercurial: hooks"},
        {".jj", PROTECT_HOLD_NODE, false, "repo",
         "a Jujutsu repository made at the root would be the one the host's "
         "jj uses there"},
        {".jj/repo/config.toml", PROTECT_HOLD_NONE, true, NULL,
         "Jujutsu: repository config naming programs"},
};
const size_t protect_defaults_n = ARRAY_SIZE(protect_defaults);

bool protect_covers(const char *r, const char *e)
{
        size_t n = strlen(r);
        return strncmp(r, e, n) == 0 && (e[n] == 0 || e[n] == '/');
}

bool protect_default_active(const struct protect_rules *rules, size_t i)
{
        for (size_t j = 0; j < rules->n_remove; j++)
                if (protect_covers(rules->remove[j], protect_defaults[i].path))
                        return false;
        return true;
}

/* "./a//b/" -> "a/b" ("" for the workspace itself); NULL when it has a
 * ".." component (or memory runs out). */
static char *normalise(const char *in)
{
        for (const char *p = in; *p;) { /* no "..", even one that stays in */
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return NULL;
                p += n + (p[n] == '/');
        }
        size_t size = strlen(in) + 2;
        char *out = malloc(size);
        if (out && path_normalise("", in, out, size) < 0) {
                free(out);
                return NULL;
        }
        return out;
}

int protect_rule_add(struct protect_rules *rules, bool remove,
                     const char *path, const char *what, struct ab_err *err)
{
        return protect_rule_add_src(rules, remove, path, what,
                                    (struct policy_src){0}, err);
}

int protect_rule_add_src(struct protect_rules *rules, bool remove,
                         const char *path, const char *what,
                         struct policy_src src, struct ab_err *err)
{
        if (path[0] == '/')
                return err_set(err, -EINVAL,
                               "%s %s: give the path relative to the "
                               "workspace (e.g. .git/hooks)",
                               what, path);
        if (strpbrk(path, "*?[\n"))
                return err_set(err, -EINVAL,
                               "%s %s: patterns and newlines are not "
                               "supported; name one path",
                               what, path);
        if (strlen(path) >= PROTECT_PATH_MAX)
                return err_set(err, -ENAMETOOLONG, "%s: path too long", what);
        _cleanup_free_ char *norm = normalise(path);
        if (!norm)
                return err_set(err, norm ? -EINVAL : -EINVAL,
                               "%s %s: must stay inside the workspace (no "
                               "..)",
                               what, path);
        if (!norm[0])
                return err_set(err, -EINVAL,
                               "%s %s: names the workspace itself; name a "
                               "path inside it",
                               what, path);
        char ***v = remove ? &rules->remove : &rules->add;
        size_t *n = remove ? &rules->n_remove : &rules->n_add;
        for (size_t i = 0; i < *n; i++)
                if (strcmp((*v)[i], norm) == 0)
                        return 0;
        if (*n >= PROTECT_MAX)
                return err_set(err, -E2BIG, "%s: more than %d paths", what,
                               PROTECT_MAX);
        struct policy_src **vs = remove ? &rules->remove_src : &rules->add_src;
        char **nv = realloc(*v, (*n + 1) * sizeof(**v));
        if (!nv)
                return err_set(err, -ENOMEM, "out of memory");
        *v = nv;
        struct policy_src *ns = realloc(*vs, (*n + 1) * sizeof(**vs));
        if (!ns)
                return err_set(err, -ENOMEM, "out of memory");
        *vs = ns;
        ns[*n] = src;
        nv[(*n)++] = steal_ptr(&norm);
        return 0;
}

void protect_rules_free(struct protect_rules *rules)
{
        for (size_t i = 0; i < rules->n_add; i++)
                free(rules->add[i]);
        for (size_t i = 0; i < rules->n_remove; i++)
                free(rules->remove[i]);
        free(rules->add);
        free(rules->remove);
        free(rules->add_src);
        free(rules->remove_src);
        *rules = (struct protect_rules){0};
}
