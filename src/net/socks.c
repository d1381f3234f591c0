#include "socks.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "policy/netpat.h"

static ssize_t fail(struct socks_req *r, int reply, const char *why)
{
        r->reply = reply;
        snprintf(r->err, sizeof(r->err), "%s", why);
        return -1;
}

static ssize_t greeting(struct socks_req *r, const uint8_t *b, size_t len,
                        uint8_t answer[2])
{
        if (len < 2)
                return 0;
        if (b[0] != 5)
                return fail(r, SOCKS_GENERAL, "not SOCKS version 5");
        size_t need = 2 + (size_t)b[1];
        if (len < need)
                return 0;
        answer[0] = 5;
        answer[1] = 0xff;
        for (size_t i = 2; i < need; i++)
                if (b[i] == 0)
                        answer[1] = 0; /* no authentication */
        r->greeted = true;
        if (answer[1] == 0xff)
                return fail(r, SOCKS_GENERAL,
                            "the client offers no method without "
                            "authentication");
        return (ssize_t)need;
}

static ssize_t request(struct socks_req *r, const uint8_t *b, size_t len)
{
        if (len < 4)
                return 0;
        if (b[0] != 5 || b[2] != 0)
                return fail(r, SOCKS_GENERAL, "malformed SOCKS5 request");
        if (b[1] != 1)
                return fail(r, SOCKS_CMD_UNSUPPORTED,
                            "only SOCKS5 CONNECT is served (no BIND, no UDP)");
        size_t need;
        switch (b[3]) {
        case 1:
                need = 4 + 4 + 2;
                if (len < need)
                        return 0;
                inet_ntop(AF_INET, b + 4, r->host, sizeof(r->host));
                r->ip = true;
                break;
        case 4:
                need = 4 + 16 + 2;
                if (len < need)
                        return 0;
                inet_ntop(AF_INET6, b + 4, r->host, sizeof(r->host));
                r->ip = true;
                break;
        case 3: {
                if (len < 5)
                        return 0;
                size_t n = b[4];
                need = 5 + n + 2;
                if (len < need)
                        return 0;
                char name[256];
                memcpy(name, b + 5, n);
                name[n] = 0;
                if (n == 0 || memchr(name, 0, n))
                        return fail(r, SOCKS_GENERAL, "bad host name");
                uint8_t tmp[16];
                if (inet_pton(AF_INET, name, tmp) == 1 ||
                    inet_pton(AF_INET6, name, tmp) == 1) {
                        /* an address sent as a name is still an address */
                        memcpy(r->host, name, n + 1);
                        r->ip = true;
                } else if (netpat_host_normalise(name, r->host,
                                                 sizeof(r->host)) < 0) {
                        return fail(r, SOCKS_GENERAL,
                                    "not a valid host name");
                }
                break;
        }
        default:
                return fail(r, SOCKS_ATYP_UNSUPPORTED,
                            "unknown SOCKS5 address type");
        }
        r->port = (uint16_t)(b[need - 2] << 8 | b[need - 1]);
        if (r->port == 0)
                return fail(r, SOCKS_GENERAL, "port 0");
        r->done = true;
        return (ssize_t)need;
}

ssize_t socks_feed(struct socks_req *r, const uint8_t *buf, size_t len,
                   uint8_t answer[2])
{
        if (!r->greeted)
                return greeting(r, buf, len, answer);
        if (!r->done)
                return request(r, buf, len);
        return 0;
}

void socks_reply(uint8_t out[10], int code)
{
        memset(out, 0, 10);
        out[0] = 5;
        out[1] = (uint8_t)code;
        out[3] = 1;
}
