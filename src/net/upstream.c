/* Upstream dialling: resolve the name as the host does (/etc/hosts, then
 * resolv.conf, through evdns), refuse loopback, private, link-local and
 * other internal addresses unless a pattern names them (so an allowed name
 * cannot be pointed at the host), then connect. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct upstream {
        struct net *n;
        char host[256];
        uint16_t port;
        struct evdns_getaddrinfo_request *dns;
        struct evutil_addrinfo *ai, *next; /* resolved; the next to try */
        struct bufferevent *bev;
        struct event *done;
        upstream_cb cb;
        void *arg;
        bool cancelled;
        /* the outcome, delivered from the loop */
        int status;
        const char *reason;
        char sentence[1024];
        char addr[80];
};

/* The bare address (what --allow takes) and its port. */
static uint16_t fmt_ip(const struct sockaddr *sa, char ip[INET6_ADDRSTRLEN])
{
        strcpy(ip, "?");
        if (sa->sa_family == AF_INET) {
                const struct sockaddr_in *in = (const void *)sa;
                inet_ntop(AF_INET, &in->sin_addr, ip, INET6_ADDRSTRLEN);
                return ntohs(in->sin_port);
        }
        const struct sockaddr_in6 *in6 = (const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, INET6_ADDRSTRLEN);
        return ntohs(in6->sin6_port);
}

static void fmt_addr(const struct sockaddr *sa, char *out, size_t len)
{
        char ip[INET6_ADDRSTRLEN];
        uint16_t port = fmt_ip(sa, ip);
        bool v6 = sa->sa_family == AF_INET6;
        snprintf(out, len, "%s%s%s:%u", v6 ? "[" : "", ip, v6 ? "]" : "",
                 port);
}

static void upstream_free(struct upstream *u)
{
        if (u->ai)
                evutil_freeaddrinfo(u->ai);
        if (u->bev)
                bufferevent_free(u->bev);
        if (u->done)
                event_free(u->done);
        free(u);
}

static void fire(evutil_socket_t fd, short what, void *arg)
{
        (void)fd;
        (void)what;
        struct upstream *u = arg;
        struct bufferevent *bev = u->status ? NULL : u->bev;
        if (bev) {
                bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
                u->bev = NULL;
        }
        u->cb(u->arg, bev, u->addr, u->status, u->reason, u->sentence);
        upstream_free(u);
}

static void finish(struct upstream *u, int status, const char *reason)
{
        u->status = status;
        u->reason = reason;
        event_active(u->done, EV_TIMEOUT, 1);
}

static void try_next(struct upstream *u);

static void on_connect_event(struct bufferevent *bev, short what, void *arg)
{
        (void)bev;
        struct upstream *u = arg;
        if (what & BEV_EVENT_CONNECTED) {
                finish(u, 0, "connected");
                return;
        }
        int e = EVUTIL_SOCKET_ERROR();
        snprintf(u->sentence, sizeof(u->sentence),
                 "agentbox: cannot connect to %s (%s): %s", u->host, u->addr,
                 (what & BEV_EVENT_TIMEOUT) ? "timed out" : strerror(e));
        u->status = (what & BEV_EVENT_TIMEOUT) ? 504 : 502;
        bufferevent_free(u->bev);
        u->bev = NULL;
        try_next(u); /* the next address, if the name has another */
}

/* Is this address one we may dial?  0, or -1 with the sentence set. */
static int check_addr(struct upstream *u, const struct sockaddr *sa)
{
        const struct policy *p = u->n->policy;
        net_host_ranges_fresh(u->n);
        const struct netpat *d = netpat_match_addr(&p->deny, sa);
        if (d) {
                char rule_text[1400];
                policy_rule_describe(p, d, true, rule_text, sizeof(rule_text));
                if (snprintf(u->sentence, sizeof(u->sentence),
                         "agentbox: blocked %s:%u: it resolves to %s, which "
                         "matches %s",
                         u->host, u->port, u->addr, rule_text) < 0)
                        u->sentence[0] = 0;
                return -1;
        }
        if (netpat_addr_is_internal(sa) && !netpat_match_addr(&p->allow, sa)) {
                char bare[INET6_ADDRSTRLEN];
                fmt_ip(sa, bare);
                snprintf(u->sentence, sizeof(u->sentence),
                         "agentbox: blocked %s:%u: it resolves to %s, an "
                         "internal address (loopback, private, link-local or this host's own) "
                         "the box may not reach by name; allow it with "
                         "--allow %s",
                         u->host, u->port, bare, bare);
                return -1;
        }
        return 0;
}

static void connect_to(struct upstream *u, const struct sockaddr *sa,
                       socklen_t len)
{
        u->bev = bufferevent_socket_new(u->n->base, -1,
                                        BEV_OPT_CLOSE_ON_FREE |
                                                BEV_OPT_DEFER_CALLBACKS);
        if (!u->bev) {
                snprintf(u->sentence, sizeof(u->sentence),
                         "agentbox: out of memory");
                finish(u, 502, "internal");
                return;
        }
        struct timeval t = {NET_CONNECT_TIMEOUT_S, 0};
        bufferevent_set_timeouts(u->bev, &t, &t);
        bufferevent_setcb(u->bev, NULL, NULL, on_connect_event, u);
        if (bufferevent_socket_connect(u->bev, sa, (int)len) < 0) {
                on_connect_event(u->bev, BEV_EVENT_ERROR, u);
                return;
        }
        int one = 1; /* relayed pieces go on at once, not after an ACK */
        (void)setsockopt(bufferevent_getfd(u->bev), IPPROTO_TCP, TCP_NODELAY,
                         &one, sizeof(one));
}

/* Dial the next resolved address the policy lets us dial.  When none is
 * left: the last connect failure, or (if none could be tried) the first
 * refusal, names why. */
static void try_next(struct upstream *u)
{
        char refused[1024] = "";
        bool tried = u->status != 0;
        while (u->next) {
                struct evutil_addrinfo *a = u->next;
                u->next = a->ai_next;
                fmt_addr(a->ai_addr, u->addr, sizeof(u->addr));
                char last[1024];
                memcpy(last, u->sentence, sizeof(last));
                if (check_addr(u, a->ai_addr) == 0) {
                        connect_to(u, a->ai_addr, a->ai_addrlen);
                        return;
                }
                if (!refused[0])
                        memcpy(refused, u->sentence, sizeof(refused));
                memcpy(u->sentence, last, sizeof(last)); /* keep the failure */
        }
        if (tried) {
                finish(u, u->status, "connect-failed");
        } else {
                memcpy(u->sentence, refused, sizeof(refused));
                finish(u, 403, "internal-address");
        }
}

static void on_resolved(int result, struct evutil_addrinfo *ai, void *arg)
{
        struct upstream *u = arg;
        u->dns = NULL;
        if (u->cancelled) {
                if (ai)
                        evutil_freeaddrinfo(ai);
                upstream_free(u);
                return;
        }
        if (result != 0 || !ai) {
                snprintf(u->sentence, sizeof(u->sentence),
                         "agentbox: cannot resolve %s: %s", u->host,
                         evutil_gai_strerror(result));
                finish(u, 502, "resolve-failed");
                return;
        }
        u->ai = u->next = ai;
        try_next(u);
}

struct upstream *upstream_dial(struct net *n, const char *host,
                               uint16_t port, bool ip, upstream_cb cb,
                               void *arg)
{
        struct upstream *u = calloc(1, sizeof(*u));
        if (!u)
                return NULL;
        u->n = n;
        u->port = port;
        u->cb = cb;
        u->arg = arg;
        snprintf(u->host, sizeof(u->host), "%s", host);
        u->done = event_new(n->base, -1, 0, fire, u);
        if (!u->done) {
                free(u);
                return NULL;
        }
        struct evutil_addrinfo hints = {
                .ai_family = AF_UNSPEC,
                .ai_socktype = SOCK_STREAM,
                .ai_protocol = IPPROTO_TCP,
                .ai_flags = EVUTIL_AI_ADDRCONFIG | (ip ? EVUTIL_AI_NUMERICHOST : 0),
        };
        char portstr[8];
        snprintf(portstr, sizeof(portstr), "%u", port);
        /* the callback may run before this returns; it only records and
         * schedules, so that is fine */
        u->dns = evdns_getaddrinfo(n->dns, host, portstr, &hints, on_resolved,
                                   u);
        return u;
}

void upstream_cancel(struct upstream *u)
{
        if (!u)
                return;
        if (u->dns) {
                u->cancelled = true;
                evdns_getaddrinfo_cancel(u->dns); /* on_resolved frees u */
                return;
        }
        event_del(u->done); /* also takes it off the active queue */
        upstream_free(u);
}
