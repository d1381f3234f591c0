#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/util.h>

#include "internal.h"

int net_new(struct event_base *base, const struct policy *p, struct net **out,
            struct ab_err *err)
{
        struct net *n = calloc(1, sizeof(*n));
        if (!n)
                return err_set(err, -ENOMEM, "out of memory");
        n->base = base;
        n->policy = p;
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
        int r = audit_new(p->audit_path, &n->audit, err);
        if (r < 0) {
                evdns_base_free(n->dns, 0);
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
        for (size_t i = 0; i < NET_LISTEN_COUNT; i++)
                if (n->listeners[i])
                        evconnlistener_free(n->listeners[i]);
        evdns_base_free(n->dns, 0);
        audit_free(n->audit);
        free(n);
}

static const uint16_t expected_port[NET_LISTEN_COUNT] = {
        [NET_LISTEN_HTTP] = HANDOFF_HTTP_PORT,
        [NET_LISTEN_SOCKS] = HANDOFF_SOCKS_PORT,
};

/* The box set these sockets up; check they are what we asked for before
 * serving them: listening TCP on 127.0.0.1 at the expected port. */
static int check_listener(int fd, enum net_listener_kind kind)
{
        int v = 0;
        socklen_t len = sizeof(v);
        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 ||
            v != AF_INET)
                return -EPROTOTYPE;
        len = sizeof(v);
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0 ||
            v != SOCK_STREAM)
                return -EPROTOTYPE;
        len = sizeof(v);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0 || !v)
                return -EINVAL;
        struct sockaddr_in sa;
        len = sizeof(sa);
        if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
            sa.sin_addr.s_addr != htonl(INADDR_LOOPBACK) ||
            ntohs(sa.sin_port) != expected_port[kind])
                return -EADDRNOTAVAIL;
        return 0;
}

int net_serve(struct net *n, enum net_listener_kind kind, int fd,
              struct ab_err *err)
{
        if ((unsigned)kind >= NET_LISTEN_COUNT || n->listeners[kind]) {
                close(fd);
                return err_set(err, -EINVAL, "unexpected listener from the box");
        }
        int r = check_listener(fd, kind);
        if (r < 0) {
                close(fd);
                return err_setx(err, r, "the box's listener %d is not what "
                                        "was asked for", (int)kind);
        }
        evutil_make_socket_nonblocking(fd); /* evconnlistener needs it */
        n->listeners[kind] = proxy_listen(n, fd, kind == NET_LISTEN_SOCKS);
        if (!n->listeners[kind]) {
                close(fd);
                return err_set(err, -ENOMEM, "cannot serve the box's proxy");
        }
        return 0;
}

void net_note_overload(struct net *n)
{
        if (n->overload_reported)
                return;
        n->overload_reported = true;
        fprintf(stderr,
                "agentbox: the box has %d proxied connections open, the most "
                "allowed; further ones are refused until some close\n",
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

int net_decide(struct net *n, const char *host, uint16_t port, bool ip,
               const char *scheme, const char **rule, const char **reason,
               char *sentence, size_t len)
{
        const struct policy *p = n->policy;
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
                        *reason = "denied";
                        snprintf(sentence, len,
                                 "agentbox: blocked %s (matches --deny %s)",
                                 what, d->text);
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
                                 "loopback, private or link-local); allow it "
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
        const struct netpat *d = netpat_match_name(&p->deny, host, port);
        if (d) {
                *reason = "denied";
                snprintf(sentence, len,
                         "agentbox: blocked %s (matches --deny %s); remove "
                         "that rule to allow it",
                         what, d->text);
                return -1;
        }
        const struct netpat *a = netpat_match_name(&p->allow, host, port);
        if (a || p->net == POLICY_NET_OPEN) {
                *rule = a ? a->text : NULL;
                return 0;
        }
        *reason = "not-allowed";
        snprintf(sentence, len,
                 "agentbox: blocked %s (not in network.allow); allow it with "
                 "--allow %s",
                 what, host);
        return -1;
}
