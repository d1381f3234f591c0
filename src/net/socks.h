/* SOCKS5 (RFC 1928) request reader for the proxy at 127.0.0.1:1080: no
 * authentication, CONNECT only, with IPv4, IPv6 or domain-name targets
 * (socks5h: the name is resolved by the supervisor, never in the box). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum socks_reply {
        SOCKS_OK = 0,
        SOCKS_GENERAL = 1,
        SOCKS_NOT_ALLOWED = 2,
        SOCKS_NET_UNREACH = 3,
        SOCKS_HOST_UNREACH = 4,
        SOCKS_REFUSED = 5,
        SOCKS_TTL = 6,
        SOCKS_CMD_UNSUPPORTED = 7,
        SOCKS_ATYP_UNSUPPORTED = 8,
};

struct socks_req {
        bool greeted;      /* method negotiation done */
        bool done;         /* request parsed */
        char host[256];    /* normalised name, or an address literal */
        bool ip;
        uint16_t port;
        int reply;         /* on error: the reply code to send */
        char err[160];     /* on error: why */
};

/* Feed what the client has sent so far (from the start of the
 * connection).  Returns the bytes used once a step completes, 0 when more
 * are needed, -1 on error.  After the greeting, *answer holds the 2-byte
 * method choice to send (0xff: no acceptable method, then close). */
ssize_t socks_feed(struct socks_req *r, const uint8_t *buf, size_t len,
                   uint8_t answer[2]);

/* The 10-byte reply (bound address 0.0.0.0:0). */
void socks_reply(uint8_t out[10], int code);
