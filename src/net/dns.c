#include "dns.h"

#include <ctype.h>
#include <string.h>

#include "policy/netpat.h"

#define QR 0x8000u
#define OPCODE(f) (((f) >> 11) & 0xfu)
#define RD 0x0100u
#define RA 0x0080u

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void put16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)(v >> 8);
        p[1] = (uint8_t)v;
}

/* The question's name as dotted text.  Compression pointers, labels with
 * bytes a host name cannot hold, and names over 253 characters are
 * refused: none can match a pattern. */
static int read_name(const uint8_t *msg, size_t len, size_t *off,
                     char *out, size_t outlen)
{
        size_t o = *off, n = 0;
        char text[256];
        for (;;) {
                if (o >= len)
                        return -1;
                uint8_t l = msg[o++];
                if (l == 0)
                        break;
                if (l > 63 || o + l > len || n + l + 1 > 253 + 1)
                        return -1;
                if (n)
                        text[n++] = '.';
                for (uint8_t i = 0; i < l; i++) {
                        unsigned char c = msg[o + i];
                        if (!isalnum(c) && c != '-' && c != '_')
                                return -1;
                        text[n++] = (char)c;
                }
                o += l;
        }
        text[n] = 0;
        *off = o;
        if (n == 0 || netpat_host_normalise(text, out, outlen) < 0)
                return -1;
        return 0;
}

int dns_parse_query(const uint8_t *msg, size_t len, struct dns_query *q)
{
        memset(q, 0, sizeof(*q));
        if (len < 12)
                return -1;
        q->id = get16(msg);
        q->flags = get16(msg + 2);
        if (q->flags & QR)
                return -1; /* a response: answering it could loop */
        if (OPCODE(q->flags) != 0) {
                q->rcode = DNS_NOTIMP;
                return 0;
        }
        /* exactly one question, no answers; additional may hold EDNS */
        if (get16(msg + 4) != 1 || get16(msg + 6) || get16(msg + 8)) {
                q->rcode = DNS_FORMERR;
                return 0;
        }
        size_t off = 12;
        if (read_name(msg, len, &off, q->name, sizeof(q->name)) < 0 ||
            off + 4 > len) {
                /* the question cannot be echoed, or names nothing */
                q->rcode = off + 4 > len ? DNS_FORMERR : DNS_NXDOMAIN;
                q->name[0] = 0;
                return 0;
        }
        q->qtype = get16(msg + off);
        q->qclass = get16(msg + off + 2);
        q->question_end = off + 4;
        if (q->qclass != DNS_CLASS_IN)
                q->rcode = DNS_REFUSED;
        return 0;
}

size_t dns_build_reply(const uint8_t *msg, const struct dns_query *q,
                       int rcode, const uint8_t *addr, uint8_t *out)
{
        size_t qlen = q->question_end; /* header + question, echoed */
        if (qlen > DNS_REPLY_MAX - 16)
                qlen = 0;
        if (qlen)
                memcpy(out, msg, qlen);
        else
                memset(out, 0, 12);
        put16(out, q->id);
        put16(out + 2, (uint16_t)(QR | (q->flags & (0xfu << 11)) |
                                  (q->flags & RD) | RA | (rcode & 0xf)));
        put16(out + 4, qlen ? 1 : 0);
        put16(out + 6, 0);
        put16(out + 8, 0);
        put16(out + 10, 0); /* EDNS is not echoed; replies are small */
        size_t n = qlen ? qlen : 12;
        if (addr && qlen && rcode == DNS_NOERROR) {
                put16(out + 6, 1);
                put16(out + n, 0xc00c); /* the question's name */
                put16(out + n + 2, DNS_TYPE_A);
                put16(out + n + 4, DNS_CLASS_IN);
                put16(out + n + 6, 0);
                put16(out + n + 8, DNS_TTL);
                put16(out + n + 10, 4);
                memcpy(out + n + 12, addr, 4);
                n += 16;
        }
        return n;
}
