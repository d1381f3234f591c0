#include "policy.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/path.h"
#include "common/say.h"
#include "common/util.h"

void policy_init(struct policy *p)
{
        *p = (struct policy){
                .isolation = POLICY_ISOLATION_PROCESS,
                .net = POLICY_NET_FILTERED,
                .pids_max = POLICY_PIDS_DEFAULT,
                .ws_fd = -1,
        };
}

void policy_free(struct policy *p)
{
        for (size_t i = 0; i < p->n_env; i++) {
                free(p->env[i].name);
                free(p->env[i].value);
        }
        free(p->env);
        free(p->workspace);
        free(p->audit_path);
        free(p->agent_name);
        free(p->agent_path);
        for (size_t i = 0; i < p->n_box_files; i++) {
                free(p->box_files[i].name);
                free(p->box_files[i].text);
        }
        free(p->box_files);
        netpat_list_free(&p->allow);
        netpat_list_free(&p->deny);
        protect_rules_free(&p->protect);
        for (size_t i = 0; i < p->n_mounts; i++) {
                free(p->mounts[i].source);
                free(p->mounts[i].target);
        }
        free(p->mounts);
        for (size_t i = 0; i < p->n_secrets; i++) {
                free(p->secrets[i].name);
                free(p->secrets[i].from);
        }
        free(p->secrets);
        for (size_t i = 0; i < p->n_deny_mounts; i++)
                free(p->deny_mounts[i].path);
        free(p->deny_mounts);
        for (size_t i = 0; i < p->n_trust; i++)
                free(p->trust[i].path);
        free(p->trust);
        for (size_t i = 0; i < POLICY_LAYER_N; i++)
                free(p->layer_file[i]);
        if (p->ws_fd >= 0)
                close(p->ws_fd);
        *p = (struct policy){.ws_fd = -1};
}

void policy_rule_describe(const struct policy *p, const struct netpat *r,
                          bool deny, char *buf, size_t size)
{
        static const char *const layer[POLICY_LAYER_N] = {
                [POLICY_LAYER_DEFAULT] = "built-in",
                [POLICY_LAYER_MANAGED] = "managed",
                [POLICY_LAYER_USER] = "user",
                [POLICY_LAYER_AGENT] = "agent profile",
                [POLICY_LAYER_PROJECT] = "project",
                [POLICY_LAYER_FLAGS] = "command line"};
        unsigned l = r->src.layer < POLICY_LAYER_N ? r->src.layer : 0;
        if (l == POLICY_LAYER_AGENT)
                snprintf(buf, size, "network.%s %s (the %s agent profile)",
                         deny ? "deny" : "allow", r->text,
                         p->layer_file[l] ? p->layer_file[l] : "?");
        else if (l == POLICY_LAYER_FLAGS || l == POLICY_LAYER_DEFAULT ||
                 !p->layer_file[l])
                snprintf(buf, size, "--%s %s", deny ? "deny" : "allow",
                         r->text);
        else
                snprintf(buf, size, "network.%s %s (%s %s:%u:%u)",
                         deny ? "deny" : "allow", r->text, layer[l],
                         p->layer_file[l], r->src.line, r->src.col);
}

bool policy_env_name_valid(const char *s, size_t len)
{
        if (len == 0 || len > 255 || isdigit((unsigned char)s[0]))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isalnum((unsigned char)s[i]) && s[i] != '_')
                        return false;
        return true;
}

/* Names the box sets itself and a rule may not change. */
static const char *const env_reserved[] = {"AGENT_SANDBOX", "IS_SANDBOX"};

int policy_env_add(struct policy *p, const char *spec, struct ab_err *err)
{
        return policy_env_add_as(p, spec, "--env",
                                 (struct policy_src){POLICY_LAYER_FLAGS, 0, 0},
                                 err);
}

int policy_env_add_as(struct policy *p, const char *spec, const char *what,
                      struct policy_src src, struct ab_err *err)
{
        const char *eq = strchr(spec, '=');
        size_t len = eq ? (size_t)(eq - spec) : strlen(spec);

        if (!policy_env_name_valid(spec, len))
                return err_set(err, -EINVAL,
                               "%s %s: \"%.*s\" is not a variable name; use "
                               "NAME or NAME=VALUE with letters, digits and _",
                               what, spec, (int)(len > 64 ? 64 : len), spec);
        for (size_t i = 0; i < ARRAY_SIZE(env_reserved); i++)
                if (strlen(env_reserved[i]) == len &&
                    strncmp(env_reserved[i], spec, len) == 0)
                        return err_set(err, -EINVAL,
                                       "%s %.*s: the box always sets %s=1; "
                                       "it cannot be changed",
                                       what, (int)len, spec, env_reserved[i]);

        _cleanup_free_ char *name = strndup(spec, len);
        _cleanup_free_ char *value = eq ? strdup(eq + 1) : NULL;
        if (!name || (eq && !value))
                return err_set(err, -ENOMEM, "out of memory");

        for (size_t i = 0; i < p->n_env; i++) {
                if (strcmp(p->env[i].name, name) == 0) {
                        free(p->env[i].value);
                        p->env[i].value = steal_ptr(&value);
                        p->env[i].src = src;
                        return 0;
                }
        }
        if (p->n_env >= POLICY_ENV_MAX)
                return err_set(err, -E2BIG, "%s: more than %u variables",
                               what, POLICY_ENV_MAX);
        struct policy_env *n =
                realloc(p->env, (p->n_env + 1) * sizeof(*p->env));
        if (!n)
                return err_set(err, -ENOMEM, "out of memory");
        p->env = n;
        p->env[p->n_env++] = (struct policy_env){
                .name = steal_ptr(&name),
                .value = steal_ptr(&value),
                .src = src,
        };
        return 0;
}

static const char *const key_names[POLICY_K_ALL] = {
        [POLICY_K_ISOLATION] = "isolation",
        [POLICY_K_WORKSPACE] = "workspace",
        [POLICY_K_NET] = "network.mode",
        [POLICY_K_PIDS] = "resources.pids",
        [POLICY_K_MEMORY] = "resources.memory",
        [POLICY_K_CPUS] = "resources.cpus",
        [POLICY_K_TMP] = "resources.tmp",
        [POLICY_K_AGENT] = "agent.name",
        [POLICY_K_PROFILE] = "agent.profile",
        [POLICY_K_AGENT_PATH] = "agent.path",
        [POLICY_K_AGENT_STATE] = "agent.state",
        [POLICY_K_TELEMETRY] = "agent.telemetry",
        [POLICY_K_ALLOW] = "network.allow",
        [POLICY_K_DENY] = "network.deny",
        [POLICY_K_PROTECT] = "filesystem.protect",
        [POLICY_K_MOUNTS] = "filesystem.mounts",
        [POLICY_K_ENV] = "env",
        [POLICY_K_SECRETS] = "secrets",
};

static const char *const profile_names[] = {
        [POLICY_PROFILE_AUTONOMOUS] = "autonomous",
        [POLICY_PROFILE_CI] = "ci",
        [POLICY_PROFILE_INTERACTIVE] = "interactive",
};

int policy_profile_parse_as(const char *s, enum policy_profile *out,
                            const char *what, struct ab_err *err)
{
        for (size_t i = 0; i < ARRAY_SIZE(profile_names); i++)
                if (strcmp(s, profile_names[i]) == 0) {
                        *out = (enum policy_profile)i;
                        return 0;
                }
        _cleanup_free_ char *e = say_escape(s);
        return err_set(err, -EINVAL,
                       "%s: unknown profile \"%.64s\"; expected autonomous "
                       "(the default: the agent's own prompts off, in the "
                       "box), ci (the same, with machine-readable output) or "
                       "interactive (the agent's defaults)",
                       what, e ? e : "?");
}

const char *policy_profile_name(enum policy_profile p)
{
        return (size_t)p < ARRAY_SIZE(profile_names) ? profile_names[p] : "?";
}

bool policy_agent_known(const char *name)
{
        return strcmp(name, "claude") == 0 || strcmp(name, "codex") == 0 ||
               strcmp(name, "gemini") == 0;
}

const char *policy_key_name(enum policy_key k)
{
        return (size_t)k < ARRAY_SIZE(key_names) && key_names[k]
                       ? key_names[k]
                       : "?";
}

static const char *const net_names[] = {
        [POLICY_NET_OFF] = "off",
        [POLICY_NET_FILTERED] = "filtered",
        [POLICY_NET_OPEN] = "open",
};

const char *policy_net_name(enum policy_net n)
{
        return (size_t)n < ARRAY_SIZE(net_names) ? net_names[n] : "?";
}

int policy_net_parse(const char *s, enum policy_net *out, struct ab_err *err)
{
        return policy_net_parse_as(s, out, "--net", err);
}

int policy_net_parse_as(const char *s, enum policy_net *out, const char *what,
                        struct ab_err *err)
{
        for (size_t i = 0; i < ARRAY_SIZE(net_names); i++) {
                if (strcmp(s, net_names[i]) == 0) {
                        *out = (enum policy_net)i;
                        return 0;
                }
        }
        return err_set(err, -EINVAL,
                       "%s %s: unknown mode; use off, filtered or open", what,
                       s);
}

static bool proxy_port(uint16_t port)
{
        return port == 53 || port == 1080 || port == 3128;
}

int policy_transparent_ports(const struct policy *p, uint16_t *out,
                             struct ab_err *err)
{
        if (p->net == POLICY_NET_OFF)
                return 0;
        size_t n = 0;
        out[n++] = 80;
        out[n++] = 443;
        for (size_t i = 0; i < p->allow.n; i++) {
                const struct netpat *a = &p->allow.v[i];
                if (a->kind == NETPAT_ADDR || !a->port || proxy_port(a->port))
                        continue;
                size_t j = 0;
                while (j < n && out[j] != a->port)
                        j++;
                if (j < n)
                        continue;
                if (n == POLICY_TRANSPARENT_MAX)
                        return err_set(err, -E2BIG,
                                       "network.allow names more than %d "
                                       "ports (counting 80 and 443); reach "
                                       "the rest through the proxy",
                                       POLICY_TRANSPARENT_MAX);
                out[n++] = a->port;
        }
        for (size_t i = 1; i < n; i++) /* sorted, for messages and tests */
                for (size_t j = i; j > 0 && out[j - 1] > out[j]; j--) {
                        uint16_t t = out[j];
                        out[j] = out[j - 1];
                        out[j - 1] = t;
                }
        return (int)n;
}

size_t policy_premapped_names(const struct policy *p, const char **out)
{
        size_t n = 0;
        if (p->net == POLICY_NET_OFF)
                return 0;
        for (size_t i = 0; i < p->allow.n && n < POLICY_PREMAPPED_MAX; i++) {
                const struct netpat *a = &p->allow.v[i];
                if (a->kind != NETPAT_NAME ||
                    netpat_match_name(&p->deny, a->name, 0))
                        continue;
                size_t j = 0;
                while (j < n && strcmp(out[j], a->name) != 0)
                        j++;
                if (j == n)
                        out[n++] = a->name;
        }
        return n;
}

int policy_pids_parse(const char *s, unsigned *out, struct ab_err *err)
{
        return policy_pids_parse_as(s, out, "--pids", err);
}

int policy_pids_parse_as(const char *s, unsigned *out, const char *what,
                         struct ab_err *err)
{
        char *end = NULL;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (!*s || *end || errno || v < 1 || v > POLICY_PIDS_MAX ||
            s[0] == '-' || s[0] == '+' || isspace((unsigned char)s[0]))
                return err_set(err, -EINVAL,
                               "%s %s: expected a whole number from 1 to %u",
                               what, s, POLICY_PIDS_MAX);
        *out = (unsigned)v;
        return 0;
}

int policy_memory_parse(const char *s, uint64_t *out, struct ab_err *err)
{
        return policy_memory_parse_as(s, out, "--memory", err);
}

int policy_memory_parse_as(const char *s, uint64_t *out, const char *what,
                           struct ab_err *err)
{
        if (strcmp(s, "unlimited") == 0) {
                *out = POLICY_MEMORY_UNLIMITED;
                return 0;
        }
        char *end = NULL;
        errno = 0;
        unsigned long long v = isdigit((unsigned char)s[0])
                                       ? strtoull(s, &end, 10)
                                       : 0;
        unsigned shift = 0;
        if (end && *end) {
                const char *units = "KMGT";
                const char *u = strchr(units, toupper((unsigned char)*end));
                if (u && *u) {
                        shift = 10 * (unsigned)(u - units + 1);
                        end++;
                        if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0 ||
                            strcmp(end, "ib") == 0 || strcmp(end, "b") == 0)
                                end += strlen(end);
                }
        }
        if (!end || *end || errno || v == 0 || (v << shift >> shift) != v ||
            (v << shift) < POLICY_MEMORY_MIN ||
            (v << shift) == POLICY_MEMORY_UNLIMITED)
                return err_set(err, -EINVAL,
                               "%s %s: expected a size of at least "
                               "32M, such as 512M, 4G or 1T (K, M, G and T "
                               "are powers of 1024), or \"unlimited\"",
                               what, s);
        *out = (uint64_t)v << shift;
        return 0;
}

int policy_cpus_parse(const char *s, unsigned *out, struct ab_err *err)
{
        return policy_cpus_parse_as(s, out, "--cpus", err);
}

int policy_cpus_parse_as(const char *s, unsigned *out, const char *what,
                         struct ab_err *err)
{
        unsigned long whole = 0, milli = 0;
        const char *c = s;
        size_t digits = 0;
        for (; isdigit((unsigned char)*c) && whole <= POLICY_CPUS_MAX; c++)
                whole = whole * 10 + (unsigned long)(*c - '0'), digits++;
        if (*c == '.' && isdigit((unsigned char)c[1])) {
                unsigned scale = 100;
                for (c++; isdigit((unsigned char)*c); c++, scale /= 10) {
                        if (!scale)
                                break; /* more than thousandths */
                        milli += (unsigned long)(*c - '0') * scale;
                }
        }
        unsigned long total = whole * 1000 + milli;
        if (!digits || *c || whole > POLICY_CPUS_MAX || total < 10 ||
            total > POLICY_CPUS_MAX * 1000ul)
                return err_set(err, -EINVAL,
                               "%s %s: expected a number of CPUs from "
                               "0.01 to %u, such as 2 or 0.5 (thousandths "
                               "at most)",
                               what, s, POLICY_CPUS_MAX);
        *out = (unsigned)total;
        return 0;
}

/* Where the box puts its own system view; a workspace there would be
 * hidden by or would hide the system directories. */
static const char *const system_dirs[] = {
        "/usr", "/etc",  "/proc", "/sys",   "/dev",  "/bin", "/sbin",
        "/lib", "/lib32", "/lib64", "/libx32", "/opt", "/boot", "/run",
};

/* Where root's own tools keep state they run or serve (package managers'
 * scripts, services' data): a root-invoked box there would let the agent
 * plant what root runs next.  Refused for everyone, however reached. */
static const char *const root_state_dirs[] = {
        "/var/lib", "/var/cache", "/var/spool", "/var/backups", "/var/opt",
        "/var/log", "/var/mail", "/srv",
};

/* Shared by other users and services: a workspace may live below them,
 * but must not be one of them or above them. */
static const char *const shared_dirs[] = {
        "/tmp", "/var/tmp", "/var", "/mnt", "/media", "/home",
};


int policy_check_workspace(const char *buf, const char *home,
                           struct ab_err *err)
{
        if (strcmp(buf, "/") == 0)
                return err_set(err, -EINVAL,
                               "workspace /: the whole filesystem cannot be "
                               "the workspace; cd into a project or use "
                               "--workspace DIR");
        for (size_t i = 0; i < ARRAY_SIZE(system_dirs); i++)
                if (path_is_under(buf, system_dirs[i]))
                        return err_set(err, -EINVAL,
                                       "workspace %s: inside the system "
                                       "directory %s, which the box mounts "
                                       "read-only; use a project directory",
                                       buf, system_dirs[i]);
        for (size_t i = 0; i < ARRAY_SIZE(root_state_dirs); i++)
                if (path_is_under(buf, root_state_dirs[i]))
                        return err_set(err, -EINVAL,
                                       "workspace %s: inside %s, where the "
                                       "system keeps what root's own tools "
                                       "run or serve; use a project "
                                       "directory",
                                       buf, root_state_dirs[i]);
        if (path_is_under("/home/agent", buf))
                return err_set(err, -EINVAL,
                               "workspace %s: would cover the box's own home "
                               "/home/agent; use a project directory",
                               buf);
        for (size_t i = 0; i < ARRAY_SIZE(shared_dirs); i++)
                if (path_is_under(shared_dirs[i], buf))
                        return err_set(err, -EINVAL,
                                       "workspace %s: holds %s, which other "
                                       "users and services share; use a "
                                       "project directory",
                                       buf, shared_dirs[i]);
        char hbuf[PATH_MAX];
        if (!home || !*home || !realpath(home, hbuf))
                return 0;
        if (path_is_under(hbuf, buf))
                return err_set(err, -EINVAL,
                               "workspace %s: contains the home directory "
                               "%s, which would put ~/.ssh, ~/.aws and every "
                               "other secret there inside the box; cd into a "
                               "project directory or use --workspace DIR",
                               buf, hbuf);
        size_t hn = strlen(hbuf);
        if (path_is_under(buf, hbuf) && buf[hn] == '/' && buf[hn + 1] == '.')
                return err_set(err, -EINVAL,
                               "workspace %s: inside a hidden directory of "
                               "the home %s (where keys and credentials "
                               "live); use a project directory",
                               buf, hbuf);
        return 0;
}
