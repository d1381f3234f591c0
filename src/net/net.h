/* The supervisor's network side (DESIGN.md §2): listeners created inside
 * the box's network namespace and handed out, served here from the host
 * namespace.  Everything runs on the supervisor's libevent loop. */
#pragma once

#include <event2/dns.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"
#include "common/handoff.h"
#include "policy/policy.h"

/* Caps (documented in agentbox(1)); a misbehaving box hits these, not the
 * supervisor's memory. */
#define NET_MAX_CONNS 256           /* concurrent proxied connections */
#define NET_HEAD_TIMEOUT_S 30       /* to send a complete request head */
#define NET_CONNECT_TIMEOUT_S 30    /* upstream connect */
#define NET_IDLE_TIMEOUT_S 600      /* a tunnel with no traffic either way */
#define NET_BUF_MAX (256 * 1024)    /* per direction before reading pauses */
#define NET_DENIALS_REPORTED 64     /* distinct denials printed on stderr */
#define NET_AUDIT_MAX (48L << 20)   /* bytes of refusals' lines per run */
#define NET_AUDIT_ROTATE (64L << 20) /* an audit log file at most */
#define NET_AUDIT_KEEP 3             /* rotated audit logs of earlier runs */
#define NET_AUDIT_RUN_FILES 16       /* and of this run, at most (1 GiB) */
/* The DNS stub */
#define NET_DNS_NAMES 4096          /* names holding an address at once */
#define NET_DNS_HASH 8192           /* chains of the name table */
/* a name unused this long gives its address to a new one when all are
 * taken (twice the answers' time to live, dns.h) */
#define NET_DNS_IDLE_S 60
#define NET_DNS_BASE POLICY_MAPPED_BASE /* 127.100.0.0: mapped from .0.1 */
#define NET_DNS_TCP_CONNS 32        /* concurrent DNS-over-TCP clients */
#define NET_DNS_TCP_IDLE_S 10       /* a DNS-over-TCP client that is quiet */
#define NET_DNS_UDP_BATCH 64        /* datagrams read per wake-up */
#define NET_DNS_DENIALS_LOGGED 10000 /* denied lookups in the audit log: a
                                      * box cannot fill it with them */

struct net;

/* Set up the network side for policy p on base.  audit_path may be NULL
 * (no audit log). */
int net_new(struct event_base *base, const struct policy *p,
            struct net **out, struct ab_err *err);
void net_free(struct net *n);

/* Serve a socket received from the box (enum handoff_kind, and its port);
 * takes the fd.  It is checked (family, type, address, port, listening)
 * against what the policy asked for before use; each is served once. */
int net_serve(struct net *n, unsigned kind, unsigned port, int fd,
              struct ab_err *err);
