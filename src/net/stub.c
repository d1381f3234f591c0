/* The DNS stub at 127.0.0.1:53 in the box (UDP and TCP).  It answers from
 * the policy alone and never forwards a query: an allowed name gets an
 * address of its own in 127.100.0.0/16, which the transparent listeners
 * map back to the name; a denied name gets NXDOMAIN; AAAA and every other
 * type of an allowed name get an empty answer, so clients use the A. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns.h"
#include "common/say.h"
#include "internal.h"

static void log_lookup(struct net *n, const char *host, const char *verdict,
                       const char *reason, const char *rule,
                       const char *upstream, const char *message)
{
        struct audit_rec r = {
                .proto = "dns",
                .host = host,
                .verdict = verdict,
                .reason = reason,
                .rule = rule,
                .upstream = upstream,
                .message = message,
        };
        audit_log(n->audit, &r);
}

static uint32_t name_hash(const char *s)
{
        uint32_t h = 2166136261u; /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 16777619u;
        return h % NET_DNS_HASH;
}

static void unchain(struct net *n, int32_t i)
{
        int32_t *p = &n->head[name_hash(n->names[i].name)];
        while (*p >= 0 && *p != i)
                p = &n->names[*p].next;
        if (*p == i)
                *p = n->names[i].next;
}

/* When every address is taken: the name unused longest, if unused for
 * NET_DNS_IDLE_S (a client may still hold its address from an answer
 * before), and not one the box's /etc/hosts lists; or -1. */
static int32_t evictable(struct net *n, time_t now)
{
        int32_t best = -1;
        for (size_t i = 0; i < n->nnames; i++) {
                const struct mapped *m = &n->names[i];
                if (m->pinned || now - m->used < NET_DNS_IDLE_S)
                        continue;
                if (best < 0 || m->used < n->names[best].used)
                        best = (int32_t)i;
        }
        return best;
}

/* The address for name, giving it one the first time (the address of a
 * name long unused when all are taken).  Its index, or -ENOSPC. */
static int map_name(struct net *n, const char *name, uint8_t addr[4],
                    bool pin)
{
        if (!n->names) {
                n->names = calloc(NET_DNS_NAMES, sizeof(*n->names));
                n->head = malloc(NET_DNS_HASH * sizeof(*n->head));
                if (!n->names || !n->head)
                        return -ENOSPC;
                for (size_t k = 0; k < NET_DNS_HASH; k++)
                        n->head[k] = -1;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
        uint32_t h = name_hash(name);
        int32_t i = n->head[h];
        while (i >= 0 && strcmp(n->names[i].name, name) != 0)
                i = n->names[i].next;
        if (i < 0) {
                if (n->nnames < NET_DNS_NAMES) {
                        i = (int32_t)n->nnames++;
                } else {
                        i = evictable(n, now.tv_sec);
                        if (i < 0)
                                return -ENOSPC;
                        unchain(n, i);
                }
                struct mapped *m = &n->names[i];
                *m = (struct mapped){.next = n->head[h]};
                snprintf(m->name, sizeof(m->name), "%s", name);
                n->head[h] = i;
        }
        n->names[i].used = now.tv_sec;
        n->names[i].pinned |= pin;
        uint32_t a = htonl(NET_DNS_BASE + 1 + (uint32_t)i);
        memcpy(addr, &a, 4);
        return (int)i;
}

int stub_premap(struct net *n)
{
        const char *names[POLICY_PREMAPPED_MAX];
        size_t k = policy_premapped_names(n->policy, names);
        for (size_t i = 0; i < k; i++) {
                uint8_t addr[4];
                if (map_name(n, names[i], addr, true) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Answer one query; the length of the reply in out, 0 to drop it. */
static size_t answer(struct net *n, const uint8_t *msg, size_t len,
                     uint8_t *out)
{
        struct dns_query q;
        if (dns_parse_query(msg, len, &q) < 0)
                return 0;
        if (q.rcode != DNS_NOERROR)
                return dns_build_reply(msg, &q, q.rcode, NULL, out);
        const char *rule, *reason;
        char sentence[1024];
        if (net_decide_lookup(n, q.name, &rule, &reason, sentence,
                              sizeof(sentence)) < 0) {
                audit_report_denial(n->audit, sentence);
                if (n->dns_denials < NET_DNS_DENIALS_LOGGED)
                        log_lookup(n, q.name, "deny", reason, NULL, NULL,
                                   sentence);
                else if (n->dns_denials == NET_DNS_DENIALS_LOGGED)
                        log_lookup(n, "*", "deny", "denials-capped", NULL,
                                   NULL,
                                   "agentbox: further denied DNS lookups "
                                   "are answered NXDOMAIN and not logged");
                n->dns_denials += n->dns_denials <= NET_DNS_DENIALS_LOGGED;
                return dns_build_reply(msg, &q, DNS_NXDOMAIN, NULL, out);
        }
        uint8_t addr[4];
        int i = map_name(n, q.name, addr, false);
        if (i < 0) {
                if (!n->names_full_reported) {
                        n->names_full_reported = true;
                        say("agentbox: the box's DNS holds addresses for "
                            "%d names, the most it holds, all used within "
                            "%d s; lookups of further new names fail "
                            "(SERVFAIL) until some go unused",
                            NET_DNS_NAMES, NET_DNS_IDLE_S);
                }
                log_lookup(n, q.name, "error", "names-full", rule, NULL, NULL);
                return dns_build_reply(msg, &q, DNS_SERVFAIL, NULL, out);
        }
        if (!n->names[i].asked) {
                n->names[i].asked = true;
                char shown[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, addr, shown, sizeof(shown));
                log_lookup(n, q.name, "allow", "allowed", rule, shown, NULL);
        }
        return dns_build_reply(msg, &q, DNS_NOERROR,
                               q.qtype == DNS_TYPE_A ? addr : NULL, out);
}

/* ---- UDP --------------------------------------------------------------- */

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
        (void)what;
        struct net *n = arg;
        for (int i = 0; i < NET_DNS_UDP_BATCH; i++) {
                uint8_t msg[DNS_MSG_MAX], out[DNS_REPLY_MAX];
                struct sockaddr_storage from;
                socklen_t flen = sizeof(from);
                ssize_t len = recvfrom(fd, msg, sizeof(msg), MSG_TRUNC,
                                       (struct sockaddr *)&from, &flen);
                if (len < 0)
                        return; /* EAGAIN, or an error the next read shows */
                if ((size_t)len > sizeof(msg))
                        len = 0; /* larger than any real query: dropped */
                size_t r = answer(n, msg, (size_t)len, out);
                if (r)
                        (void)sendto(fd, out, r, MSG_DONTWAIT,
                                     (struct sockaddr *)&from, flen);
        }
}

int stub_serve_udp(struct net *n, int fd)
{
        n->dns_udp = event_new(n->base, fd, EV_READ | EV_PERSIST, on_udp, n);
        if (!n->dns_udp || event_add(n->dns_udp, NULL) < 0)
                return -ENOMEM;
        return 0;
}

/* ---- TCP: two-byte length, then the message (RFC 1035 4.2.2) ------------ */

static void tcp_close(struct bufferevent *bev, void *arg)
{
        struct net *n = arg;
        for (size_t i = 0; i < NET_DNS_TCP_CONNS; i++)
                if (n->dns_clients[i] == bev)
                        n->dns_clients[i] = NULL;
        bufferevent_free(bev);
        n->ndns--;
}

static void on_tcp_event(struct bufferevent *bev, short what, void *arg)
{
        (void)what;
        tcp_close(bev, arg);
}

static void on_tcp_read(struct bufferevent *bev, void *arg)
{
        struct net *n = arg;
        struct evbuffer *in = bufferevent_get_input(bev);
        for (;;) {
                uint8_t hdr[2];
                if (evbuffer_copyout(in, hdr, 2) < 2)
                        return;
                size_t len = (size_t)hdr[0] << 8 | hdr[1];
                if (len > DNS_MSG_MAX) {
                        tcp_close(bev, n);
                        return;
                }
                if (evbuffer_get_length(in) < 2 + len)
                        return;
                uint8_t msg[DNS_MSG_MAX], out[2 + DNS_REPLY_MAX];
                evbuffer_drain(in, 2);
                evbuffer_remove(in, msg, len);
                size_t r = answer(n, msg, len, out + 2);
                if (!r) {
                        tcp_close(bev, n);
                        return;
                }
                out[0] = (uint8_t)(r >> 8);
                out[1] = (uint8_t)r;
                bufferevent_write(bev, out, 2 + r);
                if (evbuffer_get_length(bufferevent_get_output(bev)) >
                    64 * 1024) {
                        /* a client that asks without reading */
                        tcp_close(bev, n);
                        return;
                }
        }
}

static void on_tcp_accept(struct evconnlistener *l, evutil_socket_t fd,
                          struct sockaddr *sa, int salen, void *arg)
{
        (void)l;
        (void)sa;
        (void)salen;
        struct net *n = arg;
        if (n->ndns >= NET_DNS_TCP_CONNS) {
                evutil_closesocket(fd);
                return;
        }
        struct bufferevent *bev = bufferevent_socket_new(
                n->base, fd, BEV_OPT_CLOSE_ON_FREE);
        if (!bev) {
                evutil_closesocket(fd);
                return;
        }
        n->ndns++;
        for (size_t i = 0; i < NET_DNS_TCP_CONNS; i++)
                if (!n->dns_clients[i]) {
                        n->dns_clients[i] = bev;
                        break;
                }
        struct timeval idle = {NET_DNS_TCP_IDLE_S, 0};
        bufferevent_set_timeouts(bev, &idle, &idle);
        bufferevent_setcb(bev, on_tcp_read, NULL, on_tcp_event, n);
        bufferevent_enable(bev, EV_READ | EV_WRITE);
}

struct evconnlistener *stub_listen_tcp(struct net *n, int fd)
{
        return evconnlistener_new(n->base, on_tcp_accept, n,
                                  LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                                  -1, fd);
}

void stub_free(struct net *n)
{
        for (size_t i = 0; i < NET_DNS_TCP_CONNS; i++)
                if (n->dns_clients[i])
                        tcp_close(n->dns_clients[i], n);
        if (n->dns_udp) {
                close(event_get_fd(n->dns_udp));
                event_free(n->dns_udp);
        }
        if (n->dns_tcp)
                evconnlistener_free(n->dns_tcp);
        free(n->names);
        free(n->head);
        n->names = NULL;
        n->head = NULL;
}
