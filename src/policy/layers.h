/* The policy's layers (DESIGN.md §3, agentbox.yaml(5)): the managed file
 * (an administrator's ceiling), the user's file, the project's file and
 * the command line, merged into one effective policy that remembers
 * where each value came from.  What the managed file denies no other
 * layer can allow; a lower layer that asks for more is an error naming
 * both places, never a silent clamp.  The project file comes with the
 * repository and may always narrow, but widens only once the user has
 * trusted that exact content (agentbox trust). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/file.h"
#include "policy/policy.h"

#define POLICY_MANAGED_PATH "/etc/agentbox/managed.yaml"
#define POLICY_PROJECT_FILE "agentbox.yaml"

/* Test builds only (tests/meson.build, the unit tests): another managed
 * file, owned by this uid instead of root, and another user file. */
extern const char *policy_managed_path_override;
extern uid_t policy_managed_owner;
extern const char *policy_user_path_override;

struct policy_stack {
        struct policy layer[POLICY_LAYER_N]; /* [DEFAULT] unused */
        bool present[POLICY_LAYER_N];
        char *path[POLICY_LAYER_N];
        char *workspace;     /* where the project file was looked for */
        char project_hash[65]; /* SHA-256 of its content, hex */
        bool project_trusted;
        char *trusted_by;    /* "agentbox trust" or the user's trust line */
        /* what the project file widens, one phrase each (untrusted) */
        struct policy_errors widens;
        struct policy effective;
        /* the agent the box is for (the command's, else agent.name), and
         * whether the policy chose it */
        char *agent;
        bool agent_by_policy;
};

/* An agent's profile layer, made once the files are read: conf holds the
 * agent: keys as all the layers together set them (name is the agent
 * run), and build fills out (the profile's mounts, hosts, environment).
 * 0, or -errno with errs added. */
struct policy_agent_hook {
        const char *name; /* NULL: the policy's agent.name */
        int (*build)(void *arg, const struct policy_stack *s,
                     const struct policy *conf, struct policy *out,
                     struct policy_errors *errs);
        void *arg;
};

/* Load every layer.  flags is the command line's layer (its "given" bits
 * and sources set by the CLI); it is moved into the stack.  agent (NULL:
 * none) makes the agent profile's layer, between the user's and the
 * project's.  0, or -EINVAL
 * with every problem in errs (bad files, ceilings, locks, a managed file
 * with unsafe ownership).  An untrusted project file that widens is not
 * an error here: s->widens lists it, and policy_stack_refuse says it. */
int policy_stack_load(struct policy_stack *s, struct policy *flags,
                      const struct policy_agent_hook *agent,
                      struct policy_errors *errs);
void policy_stack_free(struct policy_stack *s);

/* Allow pattern too (an agent's base URL), from src, within the managed
 * ceiling like every other allow.  0, or -errno with errs filled. */
int policy_stack_allow(struct policy_stack *s, const char *pattern,
                       struct policy_src src, struct policy_errors *errs);

/* 0 when the box may start under s; else -EPERM with the sentences that
 * say why and how to approve (an untrusted project file that widens). */
int policy_stack_refuse(const struct policy_stack *s,
                        struct policy_errors *errs);

/* Record the project file of workspace dir as trusted by this user: its
 * content's hash, which must still be expect (hex) when given. */
int policy_trust_project(const char *dir, const char *expect,
                         struct ab_err *err);

/* Remember dir (canonical) as a box's workspace, in the state directory:
 * a project file below it is one that box could have written, and no
 * trust: tree vouches for it (only agentbox trust does). */
int policy_record_workspace(const char *dir);

/* "managed /etc/agentbox/managed.yaml:3:5", "flag 4", "built-in". */
void policy_src_describe(const struct policy_stack *s, struct policy_src src,
                         char *buf, size_t size);
const char *policy_layer_name(enum policy_layer l);

/* A size as "4G" (whole GiB) or "512M". */
void policy_size_words(uint64_t v, char *buf, size_t size);

/* SHA-256 of buf, in hex. */
void policy_sha256_hex(const char *buf, size_t len, char out[65]);

/* "~/x" as the user's home (root's own under root); malloc'ed. */
char *policy_expand_home(const char *path);

/* The entry of the built-in list of credential stores, or of p's
 * deny_mounts, that the host path real lies in or holds (its source in
 * *src; layer DEFAULT for the built-in list), or NULL. */
const char *policy_mount_denied(const struct policy *p, const char *real,
                                struct policy_src *src);

/* Read each secret's value (from the host's environment or a file) into
 * the box's environment.  Never prints a value. */
int policy_resolve_secrets(struct policy *p, struct ab_err *err);

/* The effective checks the command line alone also needs (proxy
 * variables with a network, --allow with --net off, too many ports). */
int policy_check_effective(const struct policy *p, struct ab_err *err);
