/* Shared between the files of src/net/. */
#pragma once

#include <time.h>

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
        struct evconnlistener *http, *socks, *dns_tcp;
        struct event *dns_udp;
        /* transparent listeners, one per port the policy names */
        uint16_t tports[POLICY_TRANSPARENT_MAX];
        struct evconnlistener *transparent[POLICY_TRANSPARENT_MAX];
        int ntports;
        unsigned nconns, ndns, dns_denials;
        struct conn *conns;  /* every proxied connection (proxy.c) */
        struct bufferevent *dns_clients[NET_DNS_TCP_CONNS];
        int pipe[2];  /* shared by every relay for splice(2); empty between
                       * calls (-1 until first needed, or if unavailable) */
        bool overload_reported, names_full_reported;
        time_t host_ranges_at; /* when the host's addresses were read */
        /* the DNS stub's answers: names[i] is at NET_DNS_BASE + 1 + i;
         * found by a hash of the name (head[], next) */
        struct mapped {
                char name[254];
                bool asked;  /* looked up (and logged) at least once */
                bool pinned; /* listed in the box's /etc/hosts: kept */
                int32_t next; /* the hash chain, -1: end */
                time_t used;  /* last looked up or connected to */
        } *names;
        int32_t *head; /* NET_DNS_HASH chains */
        size_t nnames;
};

/* The host's own addresses read again, if not within the last second:
 * before every decision that may dial. */
void net_host_ranges_fresh(struct net *n);

/* The name the DNS stub gave addr (IPv4, network order), or NULL; a use
 * of it (it is kept the longer). */
const char *net_mapped_name(struct net *n, uint32_t addr);

/* Serve DNS on the box's UDP socket / TCP listener (stub.c). */
int stub_serve_udp(struct net *n, int fd);
struct evconnlistener *stub_listen_tcp(struct net *n, int fd);
void stub_free(struct net *n);
/* Give the names the box's /etc/hosts lists their addresses, first. */
int stub_premap(struct net *n);

/* Decide host:port before dialling.  0 allow (rule set to the deciding
 * pattern's text, or NULL in open mode), -1 deny with reason and a
 * sentence for the person.  scheme is for the sentence ("https", "http"
 * or NULL). */
int net_decide(struct net *n, const char *host, uint16_t port, bool ip,
               const char *scheme, const char **rule, const char **reason,
               char *sentence, size_t len);

void net_note_overload(struct net *n);

/* Decide a DNS lookup of host: allowed if a pattern allows it on some port
 * (or in open mode) and no port-less --deny covers it.  As net_decide. */
int net_decide_lookup(struct net *n, const char *host, const char **rule,
                      const char **reason, char *sentence, size_t len);

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

enum proxy_kind { PROXY_HTTP, PROXY_SOCKS, PROXY_TRANSPARENT };
struct evconnlistener *proxy_listen(struct net *n, int fd);
/* Close every connection still open (at the end of the run). */
void proxy_free_all(struct net *n);
