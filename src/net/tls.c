#include "tls.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "policy/netpat.h"

/* A bounds-checked reader over one span. */
struct rd {
        const uint8_t *p;
        size_t left;
        bool bad;
};

static const uint8_t *take(struct rd *r, size_t n)
{
        if (r->bad || n > r->left) {
                r->bad = true;
                return NULL;
        }
        const uint8_t *p = r->p;
        r->p += n;
        r->left -= n;
        return p;
}

static size_t num(struct rd *r, size_t bytes)
{
        const uint8_t *p = take(r, bytes);
        size_t v = 0;
        for (size_t i = 0; p && i < bytes; i++)
                v = v << 8 | p[i];
        return v;
}

/* A sub-reader over the next n bytes (a length-prefixed vector). */
static struct rd sub(struct rd *r, size_t n)
{
        const uint8_t *p = take(r, n);
        return (struct rd){.p = p, .left = p ? n : 0, .bad = !p};
}

static int bad(char *err, size_t errlen, const char *why)
{
        snprintf(err, errlen, "%s", why);
        return TLS_BAD;
}

static int read_sni(struct rd ext, char *sni, size_t snilen, char *err,
                    size_t errlen)
{
        struct rd list = sub(&ext, num(&ext, 2));
        if (ext.bad || ext.left)
                return bad(err, errlen, "a malformed server_name extension");
        bool seen = false;
        while (list.left && !list.bad) {
                size_t type = num(&list, 1);
                struct rd name = sub(&list, num(&list, 2));
                if (list.bad)
                        break;
                if (type != 0)
                        continue; /* not host_name */
                if (seen)
                        return bad(err, errlen, "more than one server name");
                seen = true;
                char text[256];
                if (name.left == 0 || name.left >= sizeof(text) ||
                    memchr(name.p, 0, name.left))
                        return bad(err, errlen, "a malformed server name");
                memcpy(text, name.p, name.left);
                text[name.left] = 0;
                if (netpat_host_normalise(text, sni, snilen) < 0)
                        return bad(err, errlen, "a server name that is not a "
                                                "host name");
        }
        if (list.bad)
                return bad(err, errlen, "a malformed server_name list");
        return 0;
}

int tls_client_hello_sni(const uint8_t *buf, size_t len, char *sni,
                         size_t snilen, char *err, size_t errlen)
{
        sni[0] = 0;
        if (len == 0)
                return TLS_MORE;
        if (buf[0] != 0x16)
                return TLS_NOT_TLS;
        if (len < 5)
                return TLS_MORE;
        if (buf[1] != 3)
                return TLS_NOT_TLS;
        size_t rlen = (size_t)buf[3] << 8 | buf[4];
        if (rlen == 0 || 5 + rlen > TLS_RECORD_MAX)
                return bad(err, errlen, "a TLS record of a bad length");
        if (len < 5 + rlen)
                return TLS_MORE;
        struct rd rec = {.p = buf + 5, .left = rlen};
        if (num(&rec, 1) != 1)
                return bad(err, errlen, "a TLS handshake that does not start "
                                        "with a ClientHello");
        size_t hlen = num(&rec, 3);
        if (rec.bad || hlen > rec.left)
                return bad(err, errlen, "a ClientHello split over more than "
                                        "one TLS record");
        struct rd h = sub(&rec, hlen);
        take(&h, 2 + 32);                 /* version, random */
        sub(&h, num(&h, 1));              /* session id */
        sub(&h, num(&h, 2));              /* cipher suites */
        sub(&h, num(&h, 1));              /* compression methods */
        if (h.bad)
                return bad(err, errlen, "a truncated ClientHello");
        if (h.left == 0)
                return (int)(5 + rlen); /* no extensions: no name */
        struct rd exts = sub(&h, num(&h, 2));
        if (h.bad || h.left)
                return bad(err, errlen, "a malformed ClientHello");
        bool seen = false;
        while (exts.left) {
                size_t type = num(&exts, 2);
                struct rd ext = sub(&exts, num(&exts, 2));
                if (exts.bad)
                        return bad(err, errlen, "a malformed TLS extension");
                if (type != 0)
                        continue;
                if (seen)
                        return bad(err, errlen,
                                   "two server_name extensions");
                seen = true;
                if (read_sni(ext, sni, snilen, err, errlen) < 0)
                        return TLS_BAD;
        }
        return (int)(5 + rlen);
}
