/* Decisions of the network side: a JSON line each in the audit log, and
 * each distinct denial once on stderr as a sentence a person can act on. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"

struct audit;

struct audit_rec {
        const char *proto;   /* "http", "connect" */
        const char *host;
        uint16_t port;
        const char *verdict; /* "allow", "deny" (policy) or "error" */
        const char *reason;  /* short machine-readable reason */
        const char *rule;    /* the pattern that decided, or NULL */
        const char *upstream; /* "ip:port" dialled, or NULL */
        uint64_t bytes_up, bytes_down;
        double ms;
        const char *message; /* for denials: the sentence shown */
        const char *event;   /* "open" when a connection opens; NULL: a
                              * decision or the end of one */
};

/* path NULL: no log file, only stderr reporting.  The log rotates at
 * NET_AUDIT_ROTATE bytes (path.1 .. path.NET_AUDIT_KEEP); records that
 * allow are always written, the others up to a share of NET_AUDIT_MAX a
 * run, and the same refusal again within a second is counted, not
 * repeated (a line with its count follows). */
int audit_new(const char *path, struct audit **out, struct ab_err *err);
void audit_free(struct audit *a);
void audit_log(struct audit *a, const struct audit_rec *r);
/* Print the denial sentence on stderr, once per distinct sentence. */
void audit_report_denial(struct audit *a, const char *sentence);
/* The default log path: $XDG_STATE_HOME/agentbox/audit.jsonl, else
 * ~/.local/state/agentbox/audit.jsonl; malloc'd, NULL when no home. */
char *audit_default_path(void);
