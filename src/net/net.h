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

/* The listeners the box creates, in the order it sends them. */
enum net_listener_kind {
        NET_LISTEN_HTTP = HANDOFF_HTTP,   /* 127.0.0.1:3128 */
        NET_LISTEN_SOCKS = HANDOFF_SOCKS, /* 127.0.0.1:1080 */
        NET_LISTEN_COUNT,
};

/* Caps (documented in agentbox(1)); a misbehaving box hits these, not the
 * supervisor's memory. */
#define NET_MAX_CONNS 256           /* concurrent proxied connections */
#define NET_HEAD_TIMEOUT_S 30       /* to send a complete request head */
#define NET_CONNECT_TIMEOUT_S 30    /* upstream connect */
#define NET_IDLE_TIMEOUT_S 600      /* a tunnel with no traffic either way */
#define NET_BUF_MAX (256 * 1024)    /* per direction before reading pauses */
#define NET_DENIALS_REPORTED 64     /* distinct denials printed on stderr */
#define NET_AUDIT_MAX (64L << 20)   /* bytes of audit log per run */

struct net;

/* Set up the network side for policy p on base.  audit_path may be NULL
 * (no audit log). */
int net_new(struct event_base *base, const struct policy *p,
            struct net **out, struct ab_err *err);
void net_free(struct net *n);

/* Serve a listening socket received from the box; takes the fd.  The fd is
 * checked (a listening TCP socket on the expected port) before use. */
int net_serve(struct net *n, enum net_listener_kind kind, int fd,
              struct ab_err *err);
