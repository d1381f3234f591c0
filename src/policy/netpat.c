#include "netpat.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libpsl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <ifaddrs.h>
#include <string.h>

int netpat_host_normalise(const char *in, char *out, size_t outlen)
{
        size_t n = strlen(in);
        if (n > 0 && in[n - 1] == '.')
                n--;
        if (n == 0 || n > 253 || n >= outlen)
                return -EINVAL;
        size_t label = 0;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)in[i];
                if (c == '.') {
                        if (label == 0)
                                return -EINVAL;
                        label = 0;
                } else if (isalnum(c) || c == '_' ||
                           (c == '-' && label > 0 && i + 1 < n &&
                            in[i + 1] != '.')) {
                        if (++label > 63)
                                return -EINVAL;
                } else {
                        return -EINVAL;
                }
                out[i] = (char)tolower(c);
        }
        if (label == 0)
                return -EINVAL;
        out[n] = 0;
        return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (!isdigit((unsigned char)*s) || *end || errno || v < 1 || v > 65535)
                return -EINVAL;
        *port = (uint16_t)v;
        return 0;
}

/* Split "host:port", "[v6]:port", "v6", "cidr" into host and port. */
static int split_port(const char *s, char *host, size_t hl, uint16_t *port)
{
        const char *colon = strrchr(s, ':');
        *port = 0;
        if (s[0] == '[') {
                const char *close = strchr(s, ']');
                if (!close || (size_t)(close - s - 1) >= hl)
                        return -EINVAL;
                memcpy(host, s + 1, (size_t)(close - s - 1));
                host[close - s - 1] = 0;
                if (close[1] == 0)
                        return 0;
                return close[1] == ':' ? parse_port(close + 2, port) : -EINVAL;
        }
        /* more than one colon and no brackets: a bare IPv6 address */
        if (colon && strchr(s, ':') != colon)
                colon = NULL;
        size_t n = colon ? (size_t)(colon - s) : strlen(s);
        if (n >= hl)
                return -EINVAL;
        memcpy(host, s, n);
        host[n] = 0;
        return colon ? parse_port(colon + 1, port) : 0;
}

static int parse_addr(const char *host, struct netpat *p)
{
        char buf[64];
        const char *slash = strchr(host, '/');
        size_t n = slash ? (size_t)(slash - host) : strlen(host);
        if (n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, host, n);
        buf[n] = 0;
        if (inet_pton(AF_INET, buf, p->addr) == 1)
                p->family = AF_INET;
        else if (inet_pton(AF_INET6, buf, p->addr) == 1)
                p->family = AF_INET6;
        else
                return -ENOENT; /* not an address: maybe a name */
        unsigned max = p->family == AF_INET ? 32 : 128;
        p->prefix = max;
        if (slash) {
                char *end;
                errno = 0;
                unsigned long v = strtoul(slash + 1, &end, 10);
                if (!isdigit((unsigned char)slash[1]) || *end || errno ||
                    v > max)
                        return -EINVAL;
                p->prefix = (unsigned)v;
        }
        p->kind = NETPAT_ADDR;
        return 0;
}

static const psl_ctx_t *psl(void)
{
        static const psl_ctx_t *ctx;
        if (!ctx)
                ctx = psl_latest(NULL);
        if (!ctx)
                ctx = psl_builtin();
        return ctx;
}

int netpat_parse(const char *s, struct netpat *out, const char *what,
                 struct ab_err *err)
{
        struct netpat p = {0};
        char host[300];
        size_t slen = strlen(s);
        if (slen >= sizeof(p.text))
                return err_set(err, -EINVAL, "%s: pattern too long", what);
        memcpy(p.text, s, slen + 1);
        if (split_port(s, host, sizeof(host), &p.port) < 0)
                return err_set(err, -EINVAL,
                               "%s %s: expected NAME, *.NAME, an address or "
                               "CIDR, optionally with :PORT (1-65535)",
                               what, s);
        int r = parse_addr(host, &p);
        if (r == -EINVAL)
                return err_set(err, -EINVAL,
                               "%s %s: bad address or prefix length", what, s);
        if (r == 0) {
                *out = p;
                return 0;
        }
        const char *name = host;
        p.kind = NETPAT_NAME;
        if (strncmp(host, "*.", 2) == 0) {
                p.kind = NETPAT_SUFFIX;
                name += 2;
        }
        if (strcmp(host, "*") == 0 || strchr(name, '*'))
                return err_set(err, -EINVAL,
                               "%s %s: too broad; a wildcard may only stand "
                               "as \"*.\" before a registrable domain, e.g. "
                               "*.example.com (use --net open to allow every "
                               "public host)",
                               what, s);
        if (netpat_host_normalise(name, p.name, sizeof(p.name)) < 0)
                return err_set(err, -EINVAL,
                               "%s %s: \"%s\" is not a valid host name", what,
                               s, name);
        /* Without the implicit "*" rule an unknown TLD (localhost, corp)
         * is a private name.  ICANN suffixes (com, co.uk) are refused
         * outright; a wildcard over a privately registered shared suffix
         * (githubusercontent.com, github.io) is allowed but flagged, since
         * its subdomains may belong to different owners. */
        const psl_ctx_t *ctx = psl();
        if (ctx && psl_is_public_suffix2(ctx, p.name,
                                         PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE))
                return err_set(err, -EINVAL,
                               "%s %s: \"%s\" is a public suffix, shared by "
                               "unrelated owners; name a domain under it",
                               what, s, p.name);
        if (ctx && p.kind == NETPAT_SUFFIX &&
            psl_is_public_suffix2(ctx, p.name,
                                  PSL_TYPE_PRIVATE | PSL_TYPE_NO_STAR_RULE))
                p.shared_suffix = true;
        *out = p;
        return 0;
}

int netpat_list_add(struct netpat_list *l, const char *s, const char *what,
                    struct ab_err *err)
{
        if (l->n >= NETPAT_MAX)
                return err_set(err, -E2BIG, "%s: more than %u patterns", what,
                               NETPAT_MAX);
        struct netpat p;
        int r = netpat_parse(s, &p, what, err);
        if (r < 0)
                return r;
        struct netpat *v = realloc(l->v, (l->n + 1) * sizeof(*v));
        if (!v)
                return err_set(err, -ENOMEM, "out of memory");
        l->v = v;
        l->v[l->n++] = p;
        return 0;
}

void netpat_list_free(struct netpat_list *l)
{
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

static bool name_matches(const struct netpat *p, const char *host)
{
        if (p->kind == NETPAT_NAME)
                return strcmp(p->name, host) == 0;
        size_t hn = strlen(host), pn = strlen(p->name);
        return hn > pn + 1 && host[hn - pn - 1] == '.' &&
               strcmp(host + hn - pn, p->name) == 0;
}

const struct netpat *netpat_match_name(const struct netpat_list *l,
                                       const char *host, uint16_t port)
{
        for (size_t i = 0; i < l->n; i++) {
                const struct netpat *p = &l->v[i];
                if (p->kind == NETPAT_ADDR || (p->port && p->port != port))
                        continue;
                if (name_matches(p, host))
                        return p;
        }
        return NULL;
}

const struct netpat *netpat_match_name_any(const struct netpat_list *l,
                                           const char *host)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i].kind != NETPAT_ADDR && name_matches(&l->v[i], host))
                        return &l->v[i];
        return NULL;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
        unsigned full = bits / 8, rest = bits % 8;
        if (memcmp(a, b, full) != 0)
                return false;
        if (!rest)
                return true;
        uint8_t mask = (uint8_t)(0xff << (8 - rest));
        return (a[full] & mask) == (b[full] & mask);
}

/* The address and port of sa; an IPv4-mapped IPv6 address counts as IPv4. */
static int sa_parts(const struct sockaddr *sa, uint8_t addr[16],
                    uint16_t *port)
{
        if (sa->sa_family == AF_INET) {
                const struct sockaddr_in *in = (const void *)sa;
                memcpy(addr, &in->sin_addr, 4);
                *port = ntohs(in->sin_port);
                return AF_INET;
        }
        if (sa->sa_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const void *)sa;
                *port = ntohs(in6->sin6_port);
                if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
                        memcpy(addr, in6->sin6_addr.s6_addr + 12, 4);
                        return AF_INET;
                }
                memcpy(addr, &in6->sin6_addr, 16);
                return AF_INET6;
        }
        return -1;
}

const struct netpat *netpat_match_addr(const struct netpat_list *l,
                                       const struct sockaddr *sa)
{
        uint8_t a[16] = {0};
        uint16_t port = 0;
        int fam = sa_parts(sa, a, &port);
        for (size_t i = 0; i < l->n; i++) {
                const struct netpat *p = &l->v[i];
                if (p->kind != NETPAT_ADDR || p->family != fam ||
                    (p->port && port && p->port != port))
                        continue;
                if (prefix_match(p->addr, a, p->prefix))
                        return p;
        }
        return NULL;
}

struct range {
        int family;
        uint8_t addr[16];
        unsigned prefix;
};

static const struct range internal[] = {
        {AF_INET, {0}, 8},                     /* "this network" */
        {AF_INET, {10}, 8},                    /* private */
        {AF_INET, {100, 64}, 10},              /* CGNAT */
        {AF_INET, {127}, 8},                   /* loopback */
        {AF_INET, {169, 254}, 16},             /* link-local, cloud metadata */
        {AF_INET, {172, 16}, 12},              /* private */
        {AF_INET, {192, 0, 0}, 24},            /* IETF protocol assignments */
        {AF_INET, {192, 0, 2}, 24},            /* documentation (TEST-NET-1) */
        {AF_INET, {198, 51, 100}, 24},         /* documentation (TEST-NET-2) */
        {AF_INET, {203, 0, 113}, 24},          /* documentation (TEST-NET-3) */
        {AF_INET, {192, 168}, 16},             /* private */
        {AF_INET, {198, 18}, 15},              /* benchmarking */
        {AF_INET, {224}, 4},                   /* multicast */
        {AF_INET, {240}, 4},                   /* reserved, broadcast */
        {AF_INET6, {0}, 96},                   /* ::, ::1, IPv4-compatible */
        {AF_INET6, {0x00, 0x64, 0xff, 0x9b}, 96}, /* NAT64 (embeds IPv4) */
        {AF_INET6, {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48}, /* local NAT64 */
        {AF_INET6, {0x20, 0x01, 0x0d, 0xb8}, 32}, /* documentation */
        {AF_INET6, {0x01, 0x00}, 64},          /* discard-only */
        {AF_INET6, {0xfc}, 7},                 /* unique-local */
        {AF_INET6, {0xfe, 0x80}, 10},          /* link-local */
        {AF_INET6, {0xfe, 0xc0}, 10},          /* site-local (deprecated) */
        {AF_INET6, {0xff}, 8},                 /* multicast */
        {AF_INET6, {0x20, 0x02}, 16},          /* 6to4 (embeds IPv4) */
};

/* The host's own (netpat_internal_add_host).  Never read (its first
 * read failed): every address is internal, until a read succeeds. */
#define HOST_RANGES 256
static struct range host_ranges[HOST_RANGES];
static size_t n_host_ranges;
static bool host_read, host_unknown;

int (*netpat_getifaddrs)(struct ifaddrs **) = getifaddrs;

bool netpat_addr_is_internal(const struct sockaddr *sa)
{
        uint8_t a[16] = {0};
        uint16_t port = 0;
        int fam = sa_parts(sa, a, &port);
        if (fam < 0 || host_unknown)
                return true;
        for (size_t i = 0; i < sizeof(internal) / sizeof(internal[0]); i++)
                if (internal[i].family == fam &&
                    prefix_match(internal[i].addr, a, internal[i].prefix))
                        return true;
        for (size_t i = 0; i < n_host_ranges; i++)
                if (host_ranges[i].family == fam &&
                    prefix_match(host_ranges[i].addr, a,
                                 host_ranges[i].prefix))
                        return true;
        return false;
}

static void add_host_range(int fam, const uint8_t *addr, unsigned prefix)
{
        if (n_host_ranges == HOST_RANGES)
                return;
        struct range *r = &host_ranges[n_host_ranges];
        *r = (struct range){.family = fam, .prefix = prefix};
        memcpy(r->addr, addr, fam == AF_INET ? 4 : 16);
        /* the network: the address with the host bits cleared */
        unsigned bytes = fam == AF_INET ? 4 : 16;
        for (unsigned b = 0; b < bytes; b++) {
                unsigned keep = prefix >= 8 * (b + 1) ? 8
                                : prefix > 8 * b      ? prefix - 8 * b
                                                      : 0;
                r->addr[b] &= (uint8_t)(0xff << (8 - keep));
        }
        for (size_t i = 0; i < n_host_ranges; i++)
                if (host_ranges[i].family == fam &&
                    host_ranges[i].prefix == prefix &&
                    !memcmp(host_ranges[i].addr, r->addr, bytes))
                        return; /* already there */
        n_host_ranges++;
}

static unsigned mask_prefix(const uint8_t *m, unsigned bytes)
{
        unsigned n = 0;
        for (unsigned b = 0; b < bytes; b++)
                for (int bit = 7; bit >= 0 && (m[b] >> bit) & 1; bit--)
                        n++;
        return n;
}

/* Gateways from /proc/net/route (IPv4, hex in host order) and
 * /proc/net/ipv6_route (hex). */
static void add_gateways(void)
{
        char line[512];
        FILE *f = fopen("/proc/net/route", "re");
        while (f && fgets(line, sizeof(line), f)) {
                char ifname[64];
                unsigned dst, gw, flags;
                if (sscanf(line, "%63s %x %x %x", ifname, &dst, &gw,
                           &flags) == 4 && gw && (flags & 0x2)) {
                        uint8_t a[4];
                        memcpy(a, &gw, 4); /* the file has network order */
                        add_host_range(AF_INET, a, 32);
                }
        }
        if (f)
                fclose(f);
        f = fopen("/proc/net/ipv6_route", "re");
        while (f && fgets(line, sizeof(line), f)) {
                char hex[5][40];
                if (sscanf(line, "%39s %39s %39s %39s %39s", hex[0], hex[1],
                           hex[2], hex[3], hex[4]) != 5 ||
                    strlen(hex[4]) != 32 || !strcmp(hex[4], "00000000000000000000000000000000"))
                        continue;
                uint8_t a[16];
                for (int b = 0; b < 16; b++) {
                        unsigned v;
                        if (sscanf(hex[4] + 2 * b, "%2x", &v) != 1)
                                goto next;
                        a[b] = (uint8_t)v;
                }
                add_host_range(AF_INET6, a, 128);
        next:;
        }
        if (f)
                fclose(f);
}

size_t netpat_internal_add_host(void)
{
        /* afresh each time: the host's addresses as they are now; when
         * they cannot be read, what was read before stands, and before
         * any read, everything is internal (fail closed) */
        struct ifaddrs *ifs = NULL;
        if (netpat_getifaddrs(&ifs) < 0) {
                host_unknown = !host_read;
                return n_host_ranges;
        }
        n_host_ranges = 0;
        host_read = true;
        host_unknown = false;
        for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
                if (!i->ifa_addr)
                        continue;
                int fam = i->ifa_addr->sa_family;
                if (fam == AF_INET) {
                        const struct sockaddr_in *a =
                                (const void *)i->ifa_addr;
                        const struct sockaddr_in *m =
                                (const void *)i->ifa_netmask;
                        uint8_t ad[4], mk[4] = {255, 255, 255, 255};
                        memcpy(ad, &a->sin_addr, 4);
                        if (m)
                                memcpy(mk, &m->sin_addr, 4);
                        add_host_range(AF_INET, ad, 32);
                        add_host_range(AF_INET, ad,
                                       mask_prefix(mk, 4));
                } else if (fam == AF_INET6) {
                        const struct sockaddr_in6 *a =
                                (const void *)i->ifa_addr;
                        const struct sockaddr_in6 *m =
                                (const void *)i->ifa_netmask;
                        uint8_t mk[16];
                        memset(mk, 0xff, sizeof(mk));
                        if (m)
                                memcpy(mk, &m->sin6_addr, 16);
                        add_host_range(AF_INET6,
                                       a->sin6_addr.s6_addr, 128);
                        add_host_range(AF_INET6,
                                       a->sin6_addr.s6_addr,
                                       mask_prefix(mk, 16));
                }
        }
        freeifaddrs(ifs);
        add_gateways();
        return n_host_ranges;
}
