/* The one options struct.  Today the command line fills it; the policy file
 * (DESIGN.md §3) will fill the same struct, layer by layer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "policy/netpat.h"
#include "policy/protect.h"
#include "policy/src.h"

enum policy_isolation {
        POLICY_ISOLATION_PROCESS,
};

enum policy_net {
        POLICY_NET_OFF,
        POLICY_NET_FILTERED,
        POLICY_NET_OPEN,
};

/* One --env rule: value NULL means "pass the host's value". */
struct policy_env {
        char *name;
        char *value;
        struct policy_src src;
};

/* filesystem.mounts: a host path shown in the box. */
struct policy_mount {
        char *source; /* as written (~ allowed) */
        char *target; /* in the box; NULL: see agentbox.yaml(5) */
        bool rw;
        struct policy_src src;
};

/* secrets: NAME in the box's environment, its value read on the host
 * from "env:VAR" or "file:PATH" when the box starts; never printed. */
struct policy_secret {
        char *name;
        char *from;
        struct policy_src src;
};

/* A path that no layer may mount (filesystem.deny_mounts, and the
 * built-in list of credential stores). */
struct policy_path {
        char *path;
        struct policy_src src;
};

/* The single-valued keys, for provenance, "given" and "lock". */
enum policy_key {
        POLICY_K_ISOLATION,
        POLICY_K_WORKSPACE,
        POLICY_K_NET,
        POLICY_K_PIDS,
        POLICY_K_MEMORY,
        POLICY_K_CPUS,
        POLICY_K_TMP,
        POLICY_K_AGENT,         /* agent.name */
        POLICY_K_PROFILE,       /* agent.profile */
        POLICY_K_AGENT_PATH,    /* agent.path */
        POLICY_K_AGENT_STATE,   /* agent.state */
        POLICY_K_TELEMETRY,     /* agent.telemetry */
        POLICY_K_N,
        /* lockable lists (managed "lock") */
        POLICY_K_ALLOW = POLICY_K_N,
        POLICY_K_DENY,
        POLICY_K_PROTECT,
        POLICY_K_MOUNTS,
        POLICY_K_ENV,
        POLICY_K_SECRETS,
        POLICY_K_ALL,
};
/* "network.mode", "resources.memory", ... */
const char *policy_key_name(enum policy_key k);

/* An agent's profile (agentbox(1)): its vendor's bypass flags in the box
 * (autonomous), the same with machine-readable output (ci), or the
 * vendor's defaults, prompts and all (interactive). */
enum policy_profile {
        POLICY_PROFILE_AUTONOMOUS,
        POLICY_PROFILE_CI,
        POLICY_PROFILE_INTERACTIVE,
};
int policy_profile_parse_as(const char *s, enum policy_profile *out,
                            const char *what, struct ab_err *err);
const char *policy_profile_name(enum policy_profile p);
/* The agents agentbox has a profile for: claude, codex, gemini. */
bool policy_agent_known(const char *name);

/* memory_max: 0 is the default (half the host's memory, agentbox(1)),
 * POLICY_MEMORY_UNLIMITED none at all. */
#define POLICY_MEMORY_UNLIMITED UINT64_MAX
#define POLICY_MEMORY_MIN (32ull << 20)
#define POLICY_TMP_DEFAULT (2ull << 30) /* /tmp, /var/tmp, home each */
#define POLICY_CPUS_MAX 4096u
#define POLICY_PIDS_DEFAULT 2048u
#define POLICY_PIDS_MAX 4194304u
#define POLICY_ENV_MAX 256u

struct policy {
        enum policy_isolation isolation;
        char *workspace;        /* as given; resolved by policy_resolve */
        enum policy_net net;
        unsigned pids_max;
        uint64_t memory_max;    /* resources.memory / --memory (bytes) */
        bool memory_given;      /* said by the user, not the default */
        unsigned cpus_milli;    /* resources.cpus / --cpus; 0: no cap */
        struct policy_env *env;
        size_t n_env;
        struct netpat_list allow; /* network.allow / --allow */
        struct netpat_list deny;  /* network.deny / --deny; wins over allow */
        char *audit_path;         /* --audit; NULL: the default location */
        struct protect_rules protect; /* filesystem.protect / --protect */
        bool tty_passthrough;   /* --tty-passthrough: no output filter */
        bool verbose;
        uint64_t tmp_max;       /* resources.tmp: /tmp, /var/tmp, home; 0:
                                 * the default */
        struct policy_mount *mounts;
        size_t n_mounts;
        struct policy_secret *secrets;
        size_t n_secrets;
        /* agent: the one agentbox starts with no command word, its
         * profile, its binary instead of PATH's, and whether its state is
         * per project (else per user) */
        char *agent_name;
        enum policy_profile profile;
        char *agent_path;
        bool agent_state_project;
        bool agent_telemetry; /* the vendor's nonessential traffic on */
        /* files the box shows read-only in /etc/agentbox beside its
         * README (an agent's deny list); set on the effective policy */
        struct policy_boxfile {
                char *name; /* one component */
                char *text;
        } *box_files;
        size_t n_box_files;
        /* where each single value came from, and which this layer set */
        struct policy_src src[POLICY_K_N];
        unsigned given;         /* 1 << enum policy_key */
        /* the managed layer only */
        struct policy_path *deny_mounts;
        size_t n_deny_mounts;
        unsigned locked;        /* 1 << enum policy_key */
        struct policy_src lock_src[POLICY_K_ALL];
        /* the user layer only: trees whose project files are trusted */
        struct policy_path *trust;
        size_t n_trust;
        /* the file behind each layer (for messages), or NULL */
        char *layer_file[POLICY_LAYER_N];
        bool trust_trees; /* the user's file has trust: trees */
        int selftest;     /* the box's self-test (box.h BOX_SELFTEST_*) */
        /* the workspace as the layers pinned it (policy_stack_load): the
         * supervisor takes it from here, never resolving it again; -1 */
        int ws_fd;
};

void policy_init(struct policy *p);

/* A pattern as a denial names it: "--deny X" from the command line, else
 * "network.deny X (user FILE:LINE:COL)". */
void policy_rule_describe(const struct policy *p, const struct netpat *r,
                          bool deny, char *buf, size_t size);
/* Letters, digits and _, not starting with a digit, 1 to 255 bytes. */
bool policy_env_name_valid(const char *s, size_t len);
void policy_free(struct policy *p);

/* Add an --env rule ("NAME" or "NAME=VALUE"); a later rule for the same name
 * replaces an earlier one.  0 or -EINVAL with err filled. */
int policy_env_add(struct policy *p, const char *spec, struct ab_err *err);
/* The same for a key of a file (what names it in messages). */
int policy_env_add_as(struct policy *p, const char *spec, const char *what,
                      struct policy_src src, struct ab_err *err);

/* Parse "off" | "filtered" | "open". */
int policy_net_parse(const char *s, enum policy_net *out, struct ab_err *err);
int policy_net_parse_as(const char *s, enum policy_net *out, const char *what,
                        struct ab_err *err);
const char *policy_net_name(enum policy_net n);

/* The ports the box's transparent listeners take (DESIGN.md §2): 80 and
 * 443, and every port a name pattern in network.allow names, except the
 * proxy's own (53, 1080, 3128).  None with --net off.  Fills out (sorted,
 * at most POLICY_TRANSPARENT_MAX) and returns the count, or -E2BIG with
 * err filled when the allowlist names too many ports. */
#define POLICY_TRANSPARENT_MAX 16
int policy_transparent_ports(const struct policy *p, uint16_t *out,
                             struct ab_err *err);

/* The box's names for allowed hosts (DESIGN.md §2): the DNS stub answers
 * an allowed name with POLICY_MAPPED_BASE + 1 + i, the i-th name it was
 * asked.  The exact names network.allow lists (no wildcard, no address;
 * once each, in order; none a port-less deny covers) take the first
 * numbers, and the box's /etc/hosts lists them, so a lookup of one costs
 * what it does on the host.  Fills out (at most POLICY_PREMAPPED_MAX),
 * returns the count. */
#define POLICY_MAPPED_BASE 0x7f640000u /* 127.100.0.0 */
#define POLICY_PREMAPPED_MAX 256
size_t policy_premapped_names(const struct policy *p, const char **out);

/* Parse a --memory value: a size in bytes with an optional K, M, G or T
 * (binary: KiB ...; "MiB" and "MB" are read alike), at least
 * POLICY_MEMORY_MIN, or "unlimited". */
int policy_memory_parse(const char *s, uint64_t *out, struct ab_err *err);
int policy_memory_parse_as(const char *s, uint64_t *out, const char *what,
                           struct ab_err *err);

/* Parse a --cpus value: how many CPUs' worth of time, e.g. "2" or "0.5"
 * (thousandths at most), from 0.01 to POLICY_CPUS_MAX; into thousandths. */
int policy_cpus_parse(const char *s, unsigned *out, struct ab_err *err);
int policy_cpus_parse_as(const char *s, unsigned *out, const char *what,
                         struct ab_err *err);

/* Parse a --pids value (1..POLICY_PIDS_MAX). */
int policy_pids_parse(const char *s, unsigned *out, struct ab_err *err);
int policy_pids_parse_as(const char *s, unsigned *out, const char *what,
                         struct ab_err *err);

/* Check a resolved workspace path can be a workspace: a directory path
 * that is not /, not in a system directory or root's state (/var/lib, /srv), does not cover the box's home,
 * and is not home or an ancestor of it (home may be NULL). */
int policy_check_workspace(const char *ws, const char *home,
                           struct ab_err *err);
