/* The one options struct.  Today the command line fills it; the policy file
 * (DESIGN.md §3) will fill the same struct, layer by layer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "policy/netpat.h"
#include "policy/protect.h"

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
};

/* memory_max: 0 is the default (half the host's memory, agentbox(1)),
 * POLICY_MEMORY_UNLIMITED none at all. */
#define POLICY_MEMORY_UNLIMITED UINT64_MAX
#define POLICY_MEMORY_MIN (32ull << 20)
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
};

void policy_init(struct policy *p);
void policy_free(struct policy *p);

/* Add an --env rule ("NAME" or "NAME=VALUE"); a later rule for the same name
 * replaces an earlier one.  0 or -EINVAL with err filled. */
int policy_env_add(struct policy *p, const char *spec, struct ab_err *err);

/* Parse "off" | "filtered" | "open". */
int policy_net_parse(const char *s, enum policy_net *out, struct ab_err *err);
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

/* Parse a --cpus value: how many CPUs' worth of time, e.g. "2" or "0.5"
 * (thousandths at most), from 0.01 to POLICY_CPUS_MAX; into thousandths. */
int policy_cpus_parse(const char *s, unsigned *out, struct ab_err *err);

/* Parse a --pids value (1..POLICY_PIDS_MAX). */
int policy_pids_parse(const char *s, unsigned *out, struct ab_err *err);

/* Check a resolved workspace path can be a workspace: a directory path
 * that is not /, not in a system directory or root's state (/var/lib, /srv), does not cover the box's home,
 * and is not home or an ancestor of it (home may be NULL). */
int policy_check_workspace(const char *ws, const char *home,
                           struct ab_err *err);
