#include "urlpat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/netpat.h"

int policy_url_patterns(const char *url,
                        void (*fn)(void *arg, const char *pattern,
                                   bool internal),
                        void *arg)
{
        const char *h = strstr(url, "://");
        if (!h || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)))
                return -EINVAL;
        h += 3;
        /* a backslash is a slash to a WHATWG parser (node's): where the
         * agent goes must be what is allowed, so none, nor blanks */
        for (const char *c = url; *c; c++)
                if (*c == '\\' || (unsigned char)*c <= ' ' || *c == 0x7f)
                        return -EINVAL;
        const char *at = strpbrk(h, "@/");
        if (at && *at == '@') /* user:password@: never written */
                h = at + 1;
        char host[256];
        size_t n = strcspn(h, "/?#");
        if (n == 0 || n >= sizeof(host))
                return -EINVAL;
        memcpy(host, h, n);
        host[n] = 0;
        char *colon = host[0] == '[' ? strstr(host, "]:") : strrchr(host, ':');
        /* the port the URL names, or its scheme's: never every port */
        unsigned port = url[4] == 's' ? 443 : 80;
        if (colon) {
                char *c = host[0] == '[' ? colon + 1 : colon;
                char *end = NULL;
                unsigned long v = strtoul(c + 1, &end, 10);
                if (!c[1] || *end || v == 0 || v > 65535 || c[1] == '+' ||
                    c[1] == '-' || c[1] == ' ')
                        return -EINVAL;
                port = (unsigned)v;
                *c = 0;
        }
        /* one host: a wildcard is no URL's */
        if (strchr(host, '*') || !host[0])
                return -EINVAL;
        char bare[256];
        snprintf(bare, sizeof(bare), "%s", host);
        if (bare[0] == '[') {
                memmove(bare, bare + 1, strlen(bare));
                bare[strcspn(bare, "]")] = 0;
        }
        char pat[300];
        snprintf(pat, sizeof(pat), "%s:%u", host, port);
        struct netpat np;
        struct ab_err err = {0};
        if (netpat_parse(pat, &np, "allow", &err) < 0)
                return -EINVAL;
        fn(arg, pat, false);
        if (np.kind == NETPAT_ADDR)
                return 0;
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
        if (getaddrinfo(bare, NULL, &hints, &ai) != 0)
                return 0;
        for (struct addrinfo *a = ai; a; a = a->ai_next) {
                if (!netpat_addr_is_internal(a->ai_addr))
                        continue;
                char ip[INET6_ADDRSTRLEN];
                const void *src =
                        a->ai_family == AF_INET
                                ? (const void *)&((struct sockaddr_in *)
                                                          a->ai_addr)
                                          ->sin_addr
                                : (const void *)&((struct sockaddr_in6 *)
                                                          a->ai_addr)
                                          ->sin6_addr;
                if (!inet_ntop(a->ai_family, src, ip, sizeof(ip)))
                        continue;
                char ap[320];
                if (a->ai_family == AF_INET6)
                        snprintf(ap, sizeof(ap), "[%s]:%u", ip, port);
                else
                        snprintf(ap, sizeof(ap), "%s:%u", ip, port);
                fn(arg, ap, true);
        }
        freeaddrinfo(ai);
        return 0;
}

