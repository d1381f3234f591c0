/* The one message the box's setup code sends the supervisor: its
 * listening sockets, as SCM_RIGHTS, with their kinds.  The supervisor
 * trusts nothing in it: counts are capped, truncated control data is
 * refused, and each socket is checked before it is served. */
#pragma once

#include <stdint.h>

#define HANDOFF_MAGIC 0x61627831u /* "abx1" */
#define HANDOFF_MAX 24
#define HANDOFF_HTTP_PORT 3128
#define HANDOFF_SOCKS_PORT 1080
#define HANDOFF_DNS_PORT 53

enum handoff_kind {
        HANDOFF_HTTP = 0,        /* TCP 127.0.0.1:3128 */
        HANDOFF_SOCKS = 1,       /* TCP 127.0.0.1:1080 */
        HANDOFF_DNS_UDP = 2,     /* UDP 127.0.0.1:53 (bound, not listening) */
        HANDOFF_DNS_TCP = 3,     /* TCP 127.0.0.1:53 */
        HANDOFF_TRANSPARENT = 4, /* TCP 0.0.0.0:ports[i] */
};

struct handoff_msg {
        uint32_t magic;
        uint32_t count;
        uint32_t kinds[HANDOFF_MAX];
        uint16_t ports[HANDOFF_MAX];
};

/* 0 or -errno. */
int handoff_send(int sock, const struct handoff_msg *m, const int *fds);
/* Receive into m and fds (all received fds are CLOEXEC; on error none are
 * left open).  0 or -errno; -EBADMSG for anything malformed. */
int handoff_recv(int sock, struct handoff_msg *m, int *fds);
