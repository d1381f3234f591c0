/* agentbox init [--force] [TEMPLATE]: a commented agentbox.yaml for the
 * workspace, from what the project is (package.json, pyproject.toml, ...)
 * and what its package manager is configured to use: each registry is
 * read from the tool itself (npm config get registry, pip config, go env
 * GOPROXY, gem sources), never from agentbox's source, so a company's
 * mirror works.  The tools run on the host outside the project (cwd /,
 * GOTOOLCHAIN=local), so a hostile repository's .npmrc or go.mod cannot
 * choose what is allowed.  Package caches are agentbox's own, below
 * $XDG_CACHE_HOME/agentbox, never the user's (a box could poison them).
 * The file written is trusted (the user asked for it); `check` of it
 * passes. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "box/box.h"
#include "cli.h"
#include "common/statedir.h"
#include "common/fileio.h"
#include "common/say.h"
#include "common/util.h"
#include "policy/layers.h"
#include "policy/netpat.h"
#include "policy/urlpat.h"

extern char **environ;

const char cli_init_usage[] =
        "Usage: agentbox init [--force] [-w DIR] [TEMPLATE]\n"
        "\n"
        "Write a commented agentbox.yaml for the workspace (default: here),\n"
        "for what the project is (TEMPLATE: node, python, go, ruby, rust,\n"
        "java, git or minimal; default: detected), allowing what its package\n"
        "manager needs as the tool itself is configured (your mirror too).\n"
        "The file is trusted once written; it is never overwritten without\n"
        "--force.  See agentbox.yaml(5).\n";

/* ---- asking the tools --------------------------------------------------- */

/* Run argv (from PATH, in /, with GOTOOLCHAIN=local) and return the first
 * line it prints, or NULL (not installed, failed, or 10 s passed). */
static char *tool_line(char *const argv[])
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return NULL;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, p[1], 1);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addchdir_np(&fa, "/");
        size_t n = 0;
        while (environ[n])
                n++;
        char **env = calloc(n + 2, sizeof(*env));
        if (!env) {
                posix_spawn_file_actions_destroy(&fa);
                close(p[0]);
                close(p[1]);
                return NULL;
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (strncmp(environ[i], "GOTOOLCHAIN=", 12) != 0)
                        env[k++] = environ[i];
        env[k++] = "GOTOOLCHAIN=local";
        pid_t pid;
        int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, env);
        posix_spawn_file_actions_destroy(&fa);
        free(env);
        close(p[1]);
        if (e) {
                close(p[0]);
                return NULL;
        }
        char buf[4096];
        size_t len = 0;
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                clock_gettime(CLOCK_MONOTONIC, &t);
                long left = 10000 - ((t.tv_sec - t0.tv_sec) * 1000 +
                                     (t.tv_nsec - t0.tv_nsec) / 1000000);
                struct pollfd pf = {.fd = p[0], .events = POLLIN};
                if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
                        break;
                ssize_t r = read(p[0], buf + len, sizeof(buf) - 1 - len);
                if (r <= 0 || (len += (size_t)r) == sizeof(buf) - 1)
                        break;
        }
        close(p[0]);
        kill(pid, SIGKILL);
        int st = 0;
        waitpid(pid, &st, 0);
        buf[len] = 0;
        buf[strcspn(buf, "\r\n")] = 0;
        if (!buf[0] || (WIFEXITED(st) && WEXITSTATUS(st) != 0))
                return NULL;
        return strdup(buf);
}

/* ---- what a registry needs ---------------------------------------------- */

struct out {
        FILE *f;
        char allow[16][300]; /* patterns, once each */
        size_t n_allow;
        char comment[16][200];
        char env[8][2][600];
        size_t n_env;
        char cache[8][2][PATH_MAX]; /* source, target */
        size_t n_cache;
        char notes[8][300];
        size_t n_notes;
};

static void add_allow(struct out *o, const char *pat, const char *why)
{
        for (size_t i = 0; i < o->n_allow; i++)
                if (strcmp(o->allow[i], pat) == 0)
                        return;
        if (o->n_allow == ARRAY_SIZE(o->allow))
                return;
        snprintf(o->allow[o->n_allow], sizeof(o->allow[0]), "%s", pat);
        snprintf(o->comment[o->n_allow++], sizeof(o->comment[0]), "%s", why);
}

struct url_ctx {
        struct out *o;
        const char *why;
};

static void url_pattern(void *arg, const char *pattern, bool internal)
{
        struct url_ctx *c = arg;
        add_allow(c->o, pattern,
                  internal ? "the address it has on this host: an internal "
                             "one, reached only when named"
                           : c->why);
}

/* The host (and port) of an http(s) URL, and the internal addresses it
 * has here (policy_url_patterns). */
static int allow_url(struct out *o, const char *url, const char *why)
{
        struct url_ctx c = {o, why};
        return policy_url_patterns(url, url_pattern, &c);
}

static void add_note(struct out *o, const char *note)
{
        if (o->n_notes < ARRAY_SIZE(o->notes))
                snprintf(o->notes[o->n_notes++], sizeof(o->notes[0]), "%s",
                         note);
}

/* url without a user:password@ part; true when it had one */
static bool strip_userinfo(const char *url, char *out, size_t size)
{
        const char *h = strstr(url, "://");
        const char *at = h ? strchr(h + 3, '@') : NULL;
        const char *slash = h ? strchr(h + 3, '/') : NULL;
        if (!at || (slash && at > slash)) {
                snprintf(out, size, "%s", url);
                return false;
        }
        snprintf(out, size, "%.*s%s", (int)(h + 3 - url), url, at + 1);
        return true;
}

static void add_env(struct out *o, const char *name, const char *value)
{
        if (o->n_env == ARRAY_SIZE(o->env))
                return;
        /* never a credential in a file made to be committed */
        char clean[600];
        if (strip_userinfo(value, clean, sizeof(clean)))
                add_note(o, "the configured URL holds credentials, left out "
                            "here: give them to the box as a secret "
                            "(secrets: in your own config, from a file)");
        snprintf(o->env[o->n_env][0], sizeof(o->env[0][0]), "%s", name);
        snprintf(o->env[o->n_env++][1], sizeof(o->env[0][1]), "%s", clean);
}


/* agentbox's own cache for a tool, made now (a mount's source must
 * exist), at target in the box. */
static void add_cache(struct out *o, const char *tool, const char *target)
{
        const char *x = geteuid() == 0 ? NULL : getenv("XDG_CACHE_HOME");
        char src[PATH_MAX], made[PATH_MAX];
        if (statedir_base_override) { /* the tests' own */
                snprintf(src, sizeof(src), "%s/cache/%s",
                         statedir_base_override, tool);
                snprintf(made, sizeof(made), "%s", src);
        } else if (x && x[0] == '/') {
                snprintf(src, sizeof(src), "%s/agentbox/%s", x, tool);
                snprintf(made, sizeof(made), "%s", src);
        } else {
                snprintf(src, sizeof(src), "~/.cache/agentbox/%s", tool);
                _cleanup_free_ char *e = policy_expand_home(src);
                snprintf(made, sizeof(made), "%s", e ? e : "");
        }
        if (!made[0] || o->n_cache == ARRAY_SIZE(o->cache))
                return;
        /* mode 0700: a cache of the user's alone */
        if (fileio_mkdirs(made, 0700) < 0)
                return;
        snprintf(o->cache[o->n_cache][0], sizeof(o->cache[0][0]), "%s", src);
        snprintf(o->cache[o->n_cache++][1], sizeof(o->cache[0][1]), "%s",
                 target);
}

/* ---- the ecosystems ----------------------------------------------------- */

static void node(struct out *o)
{
        char *argv[] = {"npm", "config", "get", "registry", NULL};
        _cleanup_free_ char *reg = tool_line(argv);
        if (!reg || allow_url(o, reg, "the npm registry, as `npm config get "
                                      "registry` gives it") < 0) {
                add_note(o, "npm is not installed here (or gave no "
                            "registry): add your registry to "
                            "network.allow");
                return;
        }
        /* the box has no ~/.npmrc of yours: it is told the registry */
        add_env(o, "NPM_CONFIG_REGISTRY", reg);
        add_cache(o, "npm", BOX_HOME "/.npm");
}

static void python(struct out *o)
{
        char *argv[] = {"python3", "-m", "pip", "config", "get",
                        "global.index-url", NULL};
        _cleanup_free_ char *idx = tool_line(argv);
        if (!idx) {
                /* pip's own default, from pip itself */
                char *d[] = {"python3", "-c",
                             "from pip._internal.models.index import PyPI;"
                             "print(PyPI.simple_url)",
                             NULL};
                idx = tool_line(d);
        }
        if (!idx || allow_url(o, idx, "pip's index, as pip is configured") <
                            0) {
                add_note(o, "pip is not installed here: add your package "
                            "index to network.allow");
                return;
        }
        if (strstr(idx, "/simple")) {
                /* the files of the default index are on another host, which
                 * pip learns from the index: say so, do not guess it */
                add_note(o, "the index may serve its files from another "
                            "host: if pip is refused one, add that host to "
                            "network.allow");
        }
        add_env(o, "PIP_INDEX_URL", idx);
        add_cache(o, "pip", BOX_HOME "/.cache/pip");
}

static void go(struct out *o)
{
        char *argv[] = {"go", "env", "GOPROXY", NULL};
        _cleanup_free_ char *px = tool_line(argv);
        if (!px) {
                add_note(o, "go is not installed here: add your module "
                            "proxy to network.allow");
                return;
        }
        char *save = NULL;
        _cleanup_free_ char *copy = strdup(px);
        for (char *t = copy ? strtok_r(copy, ",|", &save) : NULL; t;
             t = strtok_r(NULL, ",|", &save))
                if (strncmp(t, "http", 4) == 0)
                        (void)allow_url(o, t, "a module proxy, as `go env "
                                              "GOPROXY` gives it");
        add_env(o, "GOPROXY", px);
        char *sumdb[] = {"go", "env", "GOSUMDB", NULL};
        _cleanup_free_ char *sd = tool_line(sumdb);
        if (sd && strcmp(sd, "off") != 0) {
                char url[600];
                const char *sp = strchr(sd, ' ');
                snprintf(url, sizeof(url), "%s%s",
                         sp ? "" : "https://", sp ? sp + 1 : sd);
                (void)allow_url(o, url, "the checksum database, as `go env "
                                        "GOSUMDB` gives it");
        }
        add_cache(o, "go", BOX_HOME "/go/pkg/mod");
}

static void ruby(struct out *o)
{
        char *a2[] = {"ruby", "-e",
                      "require 'rubygems'; puts Gem.sources.first", NULL};
        _cleanup_free_ char *src = tool_line(a2);
        if (!src || allow_url(o, src, "the gem source, as rubygems is "
                                      "configured") < 0) {
                add_note(o, "ruby is not installed here: add your gem "
                            "source to network.allow");
                return;
        }
        add_cache(o, "gem", BOX_HOME "/.gem");
}

static void git_remote(struct out *o, const char *ws)
{
        char *argv[] = {"git", "-C", (char *)ws, "remote", "get-url",
                        "origin", NULL};
        _cleanup_free_ char *url = tool_line(argv);
        if (!url)
                return;
        if (allow_url(o, url, "the repository's origin (git remote)") == 0)
                return;
        /* scp-like git@host:path: ssh, port 22 */
        const char *at = strchr(url, '@');
        const char *colon = strchr(url, ':');
        if (at && colon && colon > at && !strstr(url, "://")) {
                char pat[300];
                snprintf(pat, sizeof(pat), "%.*s:22", (int)(colon - at - 1),
                         at + 1);
                struct netpat np;
                struct ab_err err = {0};
                if (netpat_parse(pat, &np, "allow", &err) == 0)
                        add_allow(o, pat, "the repository's origin, over "
                                          "ssh (git remote)");
        }
}

/* ---- detection and output ----------------------------------------------- */

static bool has(const char *ws, const char *name)
{
        char p[PATH_MAX + 32];
        return snprintf(p, sizeof(p), "%s/%s", ws, name) < (int)sizeof(p) &&
               access(p, F_OK) == 0;
}

static const char *detect(const char *ws)
{
        if (has(ws, "package.json"))
                return "node";
        if (has(ws, "pyproject.toml") || has(ws, "requirements.txt") ||
            has(ws, "setup.py") || has(ws, "Pipfile"))
                return "python";
        if (has(ws, "go.mod"))
                return "go";
        if (has(ws, "Gemfile"))
                return "ruby";
        if (has(ws, "Cargo.toml"))
                return "rust";
        if (has(ws, "pom.xml") || has(ws, "build.gradle") ||
            has(ws, "build.gradle.kts"))
                return "java";
        if (has(ws, ".git"))
                return "git";
        return "minimal";
}

static const char *const templates[] = {"node", "python", "go",  "ruby",
                                        "rust", "java",   "git", "minimal"};

static void yaml_str(FILE *f, const char *s)
{
        fputc('"', f);
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        fputc('\\', f);
                if ((unsigned char)*s < 0x20)
                        fprintf(f, "\\x%02x", (unsigned char)*s);
                else
                        fputc(*s, f);
        }
        fputc('"', f);
}

static void write_file(FILE *f, const struct out *o, const char *kind)
{
        fprintf(f,
                "# agentbox.yaml: what a box on this project has; see "
                "agentbox.yaml(5).\n"
                "# Written by `agentbox init` for a %s project. "
                "`agentbox check` shows the\n"
                "# effective policy; after an edit, `agentbox trust` "
                "approves what widens.\n"
                "version: 1\n"
                "network:\n"
                "  mode: filtered   # off | filtered | open\n"
                "  allow:\n",
                kind);
        if (!o->n_allow)
                fprintf(f, "    []  # nothing yet: add the hosts the project "
                           "needs\n");
        for (size_t i = 0; i < o->n_allow; i++) {
                fprintf(f, "    # %s\n    - ", o->comment[i]);
                yaml_str(f, o->allow[i]);
                fputc('\n', f);
        }
        for (size_t i = 0; i < o->n_notes; i++)
                fprintf(f, "    # note: %s\n", o->notes[i]);
        fprintf(f, "  deny: []\n");
        if (o->n_env) {
                fprintf(f, "env:\n  set:\n    # the box has none of your "
                           "tools' own config: it is told the same\n");
                for (size_t i = 0; i < o->n_env; i++) {
                        fprintf(f, "    %s: ", o->env[i][0]);
                        yaml_str(f, o->env[i][1]);
                        fputc('\n', f);
                }
        }
        fprintf(f, "filesystem:\n  protect: []   # beside the built-in list "
                   "(agentbox(1), Protected paths)\n");
        if (o->n_cache) {
                fprintf(f, "  mounts:\n    # package caches: agentbox's own, "
                           "never yours (a box could poison them)\n");
                for (size_t i = 0; i < o->n_cache; i++) {
                        fprintf(f, "    - { source: ");
                        yaml_str(f, o->cache[i][0]);
                        fprintf(f, ", target: ");
                        yaml_str(f, o->cache[i][1]);
                        fprintf(f, ", mode: rw }\n");
                }
        }
        fprintf(f, "resources:\n  # memory: 4G   # default: half the host's\n"
                   "  # cpus: 2\n  # pids: 2048\n");
}

int cli_init(int argc, char **argv)
{
        bool force = false;
        const char *ws = ".", *tmpl = NULL;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--force") == 0)
                        force = true;
                else if ((strcmp(argv[i], "-w") == 0 ||
                          strcmp(argv[i], "--workspace") == 0) &&
                         i + 1 < argc)
                        ws = argv[++i];
                else if (strcmp(argv[i], "-h") == 0 ||
                         strcmp(argv[i], "--help") == 0) {
                        fputs(cli_init_usage, stdout);
                        return 0;
                } else if (argv[i][0] != '-' && !tmpl)
                        tmpl = argv[i];
                else {
                        say_safe(stderr, "agentbox: init: unknown argument "
                                        "%s; see agentbox init --help\n",
                                argv[i]);
                        return EXIT_AGENTBOX;
                }
        }
        char real[PATH_MAX];
        if (!realpath(ws, real)) {
                say_safe(stderr, "agentbox: init: %s: %s\n", ws,
                        strerror(errno));
                return EXIT_AGENTBOX;
        }
        const char *kind = tmpl ? tmpl : detect(real);
        size_t t = 0;
        while (t < ARRAY_SIZE(templates) && strcmp(templates[t], kind) != 0)
                t++;
        if (t == ARRAY_SIZE(templates)) {
                say_safe(stderr, "agentbox: init: no template \"%s\"; use "
                                "node, python, go, ruby, rust, java, git or "
                                "minimal\n",
                        kind);
                return EXIT_AGENTBOX;
        }
        char path[PATH_MAX + 16];
        snprintf(path, sizeof(path), "%s/%s", real, POLICY_PROJECT_FILE);
        struct out o = {0};
        if (strcmp(kind, "node") == 0)
                node(&o);
        else if (strcmp(kind, "python") == 0)
                python(&o);
        else if (strcmp(kind, "go") == 0)
                go(&o);
        else if (strcmp(kind, "ruby") == 0)
                ruby(&o);
        else if (strcmp(kind, "rust") == 0 || strcmp(kind, "java") == 0)
                add_note(&o, strcmp(kind, "rust") == 0
                                     ? "cargo's registry cannot be read from "
                                       "cargo itself here: add it (and its "
                                       "index host) to network.allow"
                                     : "maven's and gradle's repositories "
                                       "are not read from them here: add "
                                       "yours to network.allow");
        if (has(real, ".git"))
                git_remote(&o, real);
        int fd = open(path,
                      O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
                              (force ? O_TRUNC : O_EXCL),
                      0644);
        if (fd < 0) {
                say_safe(stderr,
                        "agentbox: init: %s: %s%s\n", path, strerror(errno),
                        errno == EEXIST ? " (agentbox init --force replaces "
                                          "it)"
                                        : "");
                return EXIT_AGENTBOX;
        }
        /* made in memory first: what is trusted is what was written */
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f) {
                close(fd);
                return EXIT_AGENTBOX;
        }
        write_file(f, &o, kind);
        fclose(f);
        char hash[65];
        policy_sha256_hex(text, len, hash);
        int w = fileio_write_all(fd, text, len);
        free(text);
        if (close(fd) < 0 || w < 0) {
                say_safe(stderr, "agentbox: init: writing %s: %s\n", path,
                         strerror(w < 0 ? -w : errno));
                return EXIT_AGENTBOX;
        }
        say_safe(stdout, "wrote %s (%s)\n", path, kind);
        for (size_t i = 0; i < o.n_allow; i++)
                say_safe(stdout, "  allows %s: %s\n", o.allow[i], o.comment[i]);
        for (size_t i = 0; i < o.n_notes; i++)
                say_safe(stdout, "  note: %s\n", o.notes[i]);
        /* what the user asked agentbox to write is theirs: trusted */
        int r = cli_trust_written(real, hash);
        if (r == 0)
                say_safe(stdout, "next: agentbox run -- <command> (agentbox check "
                       "shows the whole policy)\n");
        return r;
}
