#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/util.h>

#include "common/say.h"
#include "internal.h"

int net_new(struct event_base *base, const struct policy *p, struct net **out,
            struct ab_err *err)
{
        struct net *n = calloc(1, sizeof(*n));
        if (!n)
                return err_set(err, -ENOMEM, "out of memory");
        n->base = base;
        n->policy = p;
        /* The host's own addresses and networks are internal too: read
         * when a decision first needs them (net_host_ranges_fresh), not
         * at the start, since a box that never connects needs none (a
         * quarter of a millisecond of netlink and /proc/net here); then
         * again at most once a second.  -1 is no second of the clock. */
        n->host_ranges_at = -1;
        if (p->verbose) {
                size_t host = netpat_internal_add_host();
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
                n->host_ranges_at = now.tv_sec;
                fprintf(stderr,
                        "agentbox: network: %zu of this host's own address "
                        "ranges (its interfaces' addresses and networks, its "
                        "gateways) are internal\n",
                        host);
        }
        n->pipe[0] = n->pipe[1] = -1;
        n->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                              EVDNS_BASE_DISABLE_WHEN_INACTIVE);
        if (!n->dns) {
                /* no resolv.conf nameservers: /etc/hosts still answers */
                n->dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
        }
        if (!n->dns) {
                free(n);
                return err_set(err, -ENOMEM, "cannot set up the resolver");
        }
        evdns_base_load_hosts(n->dns, NULL);
        /* Names are resolved as given: a search domain would turn an
         * allowed or denied name into another one after the decision. */
        evdns_base_search_clear(n->dns);
        int r = policy_transparent_ports(p, n->tports, err);
        if (r >= 0) {
                n->ntports = r;
                r = stub_premap(n);
                if (r < 0)
                        err_set(err, r, "out of memory");
        }
        if (r >= 0)
                r = audit_new(p->audit_path, &n->audit, err);
        if (r < 0) {
                evdns_base_free(n->dns, 0);
                free(n->names);
                free(n->head);
                free(n);
                return r;
        }
        *out = n;
        return 0;
}

void net_free(struct net *n)
{
        if (!n)
                return;
        if (n->http)
                evconnlistener_free(n->http);
        if (n->socks)
                evconnlistener_free(n->socks);
        for (int i = 0; i < n->ntports; i++)
                if (n->transparent[i])
                        evconnlistener_free(n->transparent[i]);
        proxy_free_all(n);
        stub_free(n);
        if (n->pipe[0] >= 0) {
                close(n->pipe[0]);
                close(n->pipe[1]);
        }
        /* every lookup left was cancelled with its connection: let their
         * callbacks run, which free them */
        evdns_base_free(n->dns, 1);
        audit_free(n->audit);
        free(n);
}

/* The box set these sockets up; check they are what we asked for before
 * serving them. */
static int check_socket(int fd, int type, uint32_t addr, unsigned port)
{
        int v = 0;
        socklen_t len = sizeof(v);
        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 ||
            v != AF_INET)
                return -EPROTOTYPE;
        len = sizeof(v);
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0 || v != type)
                return -EPROTOTYPE;
        len = sizeof(v);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0 ||
            v != (type == SOCK_STREAM))
                return -EINVAL;
        struct sockaddr_in sa;
        len = sizeof(sa);
        if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
            len != sizeof(sa) || sa.sin_addr.s_addr != htonl(addr) ||
            ntohs(sa.sin_port) != port)
                return -EADDRNOTAVAIL;
        return 0;
}

static int serve(struct net *n, unsigned kind, unsigned port, int fd)
{
        switch (kind) {
        case HANDOFF_HTTP:
        case HANDOFF_SOCKS: {
                bool socks = kind == HANDOFF_SOCKS;
                struct evconnlistener **l = socks ? &n->socks : &n->http;
                if (*l || port != (socks ? HANDOFF_SOCKS_PORT
                                         : HANDOFF_HTTP_PORT))
                        return -EINVAL;
                int r = check_socket(fd, SOCK_STREAM, INADDR_LOOPBACK, port);
                if (r < 0)
                        return r;
                *l = proxy_listen(n, fd);
                return *l ? 0 : -ENOMEM;
        }
        case HANDOFF_DNS_UDP: {
                if (n->dns_udp || port != HANDOFF_DNS_PORT)
                        return -EINVAL;
                int r = check_socket(fd, SOCK_DGRAM, INADDR_LOOPBACK, port);
                return r < 0 ? r : stub_serve_udp(n, fd);
        }
        case HANDOFF_DNS_TCP: {
                if (n->dns_tcp || port != HANDOFF_DNS_PORT)
                        return -EINVAL;
                int r = check_socket(fd, SOCK_STREAM, INADDR_LOOPBACK, port);
                if (r < 0)
                        return r;
                n->dns_tcp = stub_listen_tcp(n, fd);
                return n->dns_tcp ? 0 : -ENOMEM;
        }
        case HANDOFF_TRANSPARENT:
                for (int i = 0; i < n->ntports; i++) {
                        if (n->tports[i] != port)
                                continue;
                        if (n->transparent[i])
                                return -EINVAL;
                        int r = check_socket(fd, SOCK_STREAM, INADDR_ANY, port);
                        if (r < 0)
                                return r;
                        n->transparent[i] = proxy_listen(n, fd);
                        return n->transparent[i] ? 0 : -ENOMEM;
                }
                return -EINVAL;
        default:
                return -EINVAL;
        }
}

int net_serve(struct net *n, unsigned kind, unsigned port, int fd,
              struct ab_err *err)
{
        evutil_make_socket_nonblocking(fd); /* libevent needs it */
        int r = serve(n, kind, port, fd);
        if (r < 0) {
                close(fd);
                return err_setx(err, r, "the box's network socket %u (port "
                                        "%u) is not what was asked for",
                                kind, port);
        }
        return 0;
}

const char *net_mapped_name(struct net *n, uint32_t addr)
{
        uint32_t a = ntohl(addr);
        if (a <= NET_DNS_BASE || a - NET_DNS_BASE - 1 >= n->nnames)
                return NULL;
        struct mapped *m = &n->names[a - NET_DNS_BASE - 1];
        if (!m->name[0])
                return NULL;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
        m->used = now.tv_sec;
        return m->name;
}

void net_note_overload(struct net *n)
{
        if (n->overload_reported)
                return;
        n->overload_reported = true;
        say("agentbox: the box has %d proxied connections open, the most "
            "allowed; further ones are refused until some close",
            NET_MAX_CONNS);
}

static void target(char *out, size_t len, const char *scheme,
                   const char *host, uint16_t port)
{
        bool v6 = strchr(host, ':') != NULL;
        snprintf(out, len, "%s%s%s%s%s:%u", scheme ? scheme : "",
                 scheme ? "://" : "", v6 ? "[" : "", host, v6 ? "]" : "",
                 port);
}

/* A name against the patterns: refused by a --deny for it (on port, or
 * port-less), allowed by an --allow for it on port (any_port: on some
 * port) or by open mode, else refused.  what names it in the sentence. */
static int decide_name(const struct policy *p, const char *host,
                       uint16_t port, bool any_port, const char *what,
                       const char **rule, const char **reason,
                       char *sentence, size_t len)
{
        const struct netpat *d = netpat_match_name(&p->deny, host, port);
        if (d) {
                char rule_text[1400];
                policy_rule_describe(p, d, true, rule_text, sizeof(rule_text));
                *reason = "denied";
                snprintf(sentence, len,
                         "agentbox: blocked %s (matches %s); remove "
                         "that rule to allow it",
                         what, rule_text);
                return -1;
        }
        const struct netpat *a = any_port
                                         ? netpat_match_name_any(&p->allow, host)
                                         : netpat_match_name(&p->allow, host,
                                                             port);
        if (a || p->net == POLICY_NET_OPEN) {
                *rule = a ? a->text : NULL;
                return 0;
        }
        *reason = "not-allowed";
        snprintf(sentence, len,
                 "agentbox: blocked %s (not in network.allow); allow it with "
                 "--allow %s, or network.allow in agentbox.yaml",
                 what, host);
        return -1;
}

void net_host_ranges_fresh(struct net *n)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
        if (now.tv_sec == n->host_ranges_at)
                return;
        n->host_ranges_at = now.tv_sec;
        (void)netpat_internal_add_host();
}

int net_decide(struct net *n, const char *host, uint16_t port, bool ip,
               const char *scheme, const char **rule, const char **reason,
               char *sentence, size_t len)
{
        const struct policy *p = n->policy;
        net_host_ranges_fresh(n);
        char what[300];
        target(what, sizeof(what), scheme, host, port);
        *rule = NULL;
        if (ip) {
                struct sockaddr_storage ss = {0};
                struct sockaddr_in *in = (void *)&ss;
                struct sockaddr_in6 *in6 = (void *)&ss;
                if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
                        in->sin_family = AF_INET;
                        in->sin_port = htons(port);
                } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
                        in6->sin6_family = AF_INET6;
                        in6->sin6_port = htons(port);
                }
                const struct netpat *d = netpat_match_addr(&p->deny, (void *)&ss);
                const struct netpat *a = netpat_match_addr(&p->allow, (void *)&ss);
                if (d) {
                        char rule_text[1400];
                        policy_rule_describe(p, d, true, rule_text,
                                             sizeof(rule_text));
                        *reason = "denied";
                        if (snprintf(sentence, len,
                                 "agentbox: blocked %s (matches %s)", what,
                                 rule_text) < 0)
                        sentence[0] = 0;
                        return -1;
                }
                if (a || (p->net == POLICY_NET_OPEN &&
                          !netpat_addr_is_internal((void *)&ss))) {
                        *rule = a ? a->text : NULL;
                        return 0;
                }
                *reason = "address-not-allowed";
                if (p->net == POLICY_NET_OPEN)
                        snprintf(sentence, len,
                                 "agentbox: blocked %s (an internal address: "
                                 "loopback, private, link-local or this host's own); allow it "
                                 "with --allow %s",
                                 what, host);
                else
                        snprintf(sentence, len,
                                 "agentbox: blocked %s (a raw address is not "
                                 "in network.allow; the box reaches hosts by "
                                 "name); allow it with --allow %s",
                                 what, host);
                return -1;
        }
        return decide_name(p, host, port, false, what, rule, reason,
                           sentence, len);
}

int net_decide_lookup(struct net *n, const char *host, const char **rule,
                      const char **reason, char *sentence, size_t len)
{
        char what[300];
        snprintf(what, sizeof(what), "a DNS lookup of %s", host);
        *rule = NULL;
        /* port 0: only a port-less --deny refuses the name itself */
        return decide_name(n->policy, host, 0, true, what, rule, reason,
                           sentence, len);
}
