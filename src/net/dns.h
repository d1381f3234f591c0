/* The box's DNS stub: reading one query and writing its answer.  The stub
 * never forwards a query anywhere; it answers from the policy alone (an
 * allowed name gets a mapped loopback address, a denied one NXDOMAIN), so
 * nothing the box puts in a name leaves the machine by DNS.
 *
 * Written here rather than taken from libevent: libevent 2.1's DNS server
 * serves UDP only, and the stub must give UDP and TCP the same answers
 * from the same reader. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define DNS_MSG_MAX 1232  /* bytes of query read (UDP or TCP) */
#define DNS_REPLY_MAX 512 /* every reply fits: one question, one A */
#define DNS_TTL 30

enum dns_rcode {
        DNS_NOERROR = 0,
        DNS_FORMERR = 1,
        DNS_SERVFAIL = 2,
        DNS_NXDOMAIN = 3,
        DNS_NOTIMP = 4,
        DNS_REFUSED = 5,
};

enum { DNS_TYPE_A = 1, DNS_TYPE_AAAA = 28, DNS_CLASS_IN = 1 };

struct dns_query {
        uint16_t id;
        uint16_t flags;       /* as sent */
        char name[254];       /* lower case, dotted, no trailing dot */
        uint16_t qtype, qclass;
        size_t question_end;  /* offset just past the question */
        int rcode;            /* if the query itself is refused: why */
};

/* Read a query.  0: q is filled and q->rcode is DNS_NOERROR, or a
 * refusal code to answer with (the question may be absent then, with
 * question_end 0).  -1: nothing to answer (too short to hold a header, or
 * a response rather than a query); drop it. */
int dns_parse_query(const uint8_t *msg, size_t len, struct dns_query *q);

/* Write the answer to q into out (at least DNS_REPLY_MAX bytes): rcode,
 * and an A record for addr (network order) when addr is not NULL.
 * Returns its length. */
size_t dns_build_reply(const uint8_t *msg, const struct dns_query *q,
                       int rcode, const uint8_t *addr, uint8_t *out);
