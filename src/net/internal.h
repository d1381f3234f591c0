/* Shared between the files of src/net/. */
#pragma once

#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/listener.h>

#include "audit.h"
#include "net.h"
#include "policy/netpat.h"

struct net {
        struct event_base *base;
        struct evdns_base *dns;
        const struct policy *policy;
        struct audit *audit;
        struct evconnlistener *listeners[NET_LISTEN_COUNT];
        unsigned nconns;
        bool overload_reported;
};

/* Decide host:port before dialling.  0 allow (rule set to the deciding
 * pattern's text, or NULL in open mode), -1 deny with reason and a
 * sentence for the person.  scheme is for the sentence ("https", "http"
 * or NULL). */
int net_decide(struct net *n, const char *host, uint16_t port, bool ip,
               const char *scheme, const char **rule, const char **reason,
               char *sentence, size_t len);

void net_note_overload(struct net *n);

/* Resolve (as the host does) and connect, refusing internal addresses that
 * no pattern names.  cb runs later from the loop, never from inside
 * upstream_dial: with up set on success, or NULL with an HTTP-ish status,
 * reason and sentence. */
typedef void (*upstream_cb)(void *arg, struct bufferevent *up,
                            const char *addr, int status, const char *reason,
                            const char *sentence);
struct upstream;
struct upstream *upstream_dial(struct net *n, const char *host,
                               uint16_t port, bool ip, upstream_cb cb,
                               void *arg);
void upstream_cancel(struct upstream *u);

struct evconnlistener *proxy_listen(struct net *n, int fd, bool socks);
