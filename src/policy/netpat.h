/* Network patterns (--allow / --deny, network.allow / network.deny):
 *   example.com          that name
 *   *.example.com        its subdomains only
 *   example.com:443      that name, that port only (any form takes :PORT)
 *   192.0.2.7, 10.0.0.0/8, [2001:db8::1]:443, fd00::/8   an upstream address
 * A public suffix (com, co.uk, github.io, ...) or a bare "*" is refused. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/err.h"
#include "policy/src.h"

enum netpat_kind {
        NETPAT_NAME,   /* exactly name */
        NETPAT_SUFFIX, /* any subdomain of name */
        NETPAT_ADDR,   /* an address range */
};

struct netpat {
        enum netpat_kind kind;
        char name[254];   /* lower case, no trailing dot (NAME, SUFFIX) */
        int family;       /* AF_INET or AF_INET6 (ADDR) */
        uint8_t addr[16]; /* network byte order */
        unsigned prefix;  /* bits */
        uint16_t port;    /* 0: any */
        bool shared_suffix; /* *.X where X is a privately run shared suffix */
        char text[300];   /* as written, for messages */
        struct policy_src src; /* which layer and line */
};

struct netpat_list {
        struct netpat *v;
        size_t n;
};

#define NETPAT_MAX 1024u

/* Parse one pattern; what names the flag or key for messages. */
int netpat_parse(const char *s, struct netpat *out, const char *what,
                 struct ab_err *err);
int netpat_list_add(struct netpat_list *l, const char *s, const char *what,
                    struct ab_err *err);
void netpat_list_free(struct netpat_list *l);

/* Normalise a host name from a request (lower case, trailing dot dropped,
 * syntax checked).  0 or -EINVAL. */
int netpat_host_normalise(const char *in, char *out, size_t outlen);

/* Does a name pattern match host:port?  host already normalised.  Port 0
 * asks about the name alone: only patterns without a port match. */
const struct netpat *netpat_match_name(const struct netpat_list *l,
                                       const char *host, uint16_t port);
/* Does a name pattern match host on some port? */
const struct netpat *netpat_match_name_any(const struct netpat_list *l,
                                           const char *host);
/* Does an address pattern cover sa (port from sa, 0 = any)? */
const struct netpat *netpat_match_addr(const struct netpat_list *l,
                                       const struct sockaddr *sa);

/* Loopback, private, link-local (cloud metadata), CGNAT, unique-local,
 * multicast, unspecified, documentation and the like, and the host's own
 * (netpat_internal_add_host): never dialled unless named. */
bool netpat_addr_is_internal(const struct sockaddr *sa);

/* Set this host's own addresses, the networks its interfaces are on and
 * the gateways of its routes as internal too, IPv4 and IPv6, as they are
 * now (again: afresh); how many ranges that is.  If the interfaces cannot
 * be read, the last read stands; if none ever could, every address is
 * internal until one can. */
size_t netpat_internal_add_host(void);
struct ifaddrs;
/* getifaddrs, unless a test puts its own */
extern int (*netpat_getifaddrs)(struct ifaddrs **);
