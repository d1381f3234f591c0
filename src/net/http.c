#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/netpat.h"

static struct http_req *req_of(http_parser *p) { return p->data; }

static int fail(struct http_req *r, int status, const char *fmt, const char *a)
{
        r->status = status;
        snprintf(r->err, sizeof(r->err), fmt, a ? a : "");
        return -1;
}

/* Append to a malloc'd string (callbacks may deliver a span in pieces). */
static int append(char **s, size_t *len, const char *at, size_t n)
{
        size_t old = *len;
        if (old + n + 1 > HTTP_HEAD_MAX)
                return -1;
        char *v = realloc(*s, old + n + 1);
        if (!v)
                return -1;
        memcpy(v + old, at, n);
        v[old + n] = 0;
        *s = v;
        *len = old + n;
        return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
        struct http_req *r = req_of(p);
        return append(&r->url, &r->url_len, at, n);
}

static int on_field(http_parser *p, const char *at, size_t n)
{
        struct http_req *r = req_of(p);
        if (r->in_value || r->nh == 0) {
                if (r->nh >= HTTP_HEADERS_MAX)
                        return fail(r, 431, "more than %s headers", "100");
                r->nh++;
                r->in_value = false;
        }
        struct http_header *h = &r->h[r->nh - 1];
        size_t len = h->name ? strlen(h->name) : 0;
        return append(&h->name, &len, at, n);
}

static int on_value(http_parser *p, const char *at, size_t n)
{
        struct http_req *r = req_of(p);
        if (r->nh == 0)
                return -1;
        r->in_value = true;
        struct http_header *h = &r->h[r->nh - 1];
        size_t len = h->value ? strlen(h->value) : 0;
        return append(&h->value, &len, at, n);
}

static const char *header(const struct http_req *r, const char *name)
{
        for (size_t i = 0; i < r->nh; i++)
                if (r->h[i].name && strcasecmp(r->h[i].name, name) == 0)
                        return r->h[i].value ? r->h[i].value : "";
        return NULL;
}

static int set_host(struct http_req *r, const char *h, size_t n)
{
        char buf[256];
        if (n == 0 || n >= sizeof(buf))
                return fail(r, 400, "bad host in the request target%s", NULL);
        memcpy(buf, h, n);
        buf[n] = 0;
        unsigned char tmp[16];
        if (inet_pton(AF_INET, buf, tmp) == 1 ||
            inet_pton(AF_INET6, buf, tmp) == 1) {
                r->ip_literal = true;
                for (size_t i = 0; i <= n; i++)
                        r->host[i] = (char)tolower((unsigned char)buf[i]);
                return 0;
        }
        if (netpat_host_normalise(buf, r->host, sizeof(r->host)) < 0)
                return fail(r, 400, "\"%s\" is not a valid host name", buf);
        return 0;
}

/* Does a Host header name the same authority as the target? */
static bool host_matches(const struct http_req *r, const char *hv)
{
        char buf[300];
        snprintf(buf, sizeof(buf), "%s", hv);
        char *port = NULL;
        char *h = buf;
        if (buf[0] == '[') {
                /* an IPv6 literal only: nginx takes "[name]" for one too,
                 * and serves it from its default server */
                char *close = strchr(buf, ']');
                if (!close || !r->ip_literal)
                        return false;
                *close = 0;
                h = buf + 1;
                struct in6_addr a6;
                if (inet_pton(AF_INET6, h, &a6) != 1)
                        return false;
                if (close[1] == ':')
                        port = close + 2;
                else if (close[1])
                        return false;
        } else if ((port = strrchr(buf, ':'))) {
                *port++ = 0;
        }
        if (strlen(hv) >= sizeof(buf) - 1 || strpbrk(hv, " \t\r\n"))
                return false; /* folded, padded inside or cut short */
        if (port && (!*port || strspn(port, "0123456789") != strlen(port) ||
                     strlen(port) > 5))
                return false;
        unsigned p = port ? (unsigned)strtoul(port, NULL, 10) : 80;
        char norm[300];
        if (r->ip_literal) {
                for (size_t i = 0; h[i] && i < sizeof(norm) - 1; i++)
                        h[i] = (char)tolower((unsigned char)h[i]);
                snprintf(norm, sizeof(norm), "%s", h);
        } else if (netpat_host_normalise(h, norm, sizeof(norm)) < 0) {
                return false;
        }
        return strcmp(norm, r->host) == 0 && p == r->port;
}

/* The proxy's view: the target names the host (absolute-form http:// URI,
 * or CONNECT host:port).  1 for CONNECT (nothing more to read), 0 for a
 * request to forward, -1 refused. */
static int proxy_target(struct http_req *r, const struct http_parser_url *up)
{
        struct http_parser_url u = *up;
        if (!(u.field_set & (1 << UF_HOST)))
                return fail(r, 400,
                            "this is a proxy: send CONNECT host:port or an "
                            "absolute http:// URI%s",
                            NULL);
        if (set_host(r, r->url + u.field_data[UF_HOST].off,
                     u.field_data[UF_HOST].len) < 0)
                return -1;
        if (r->connect) {
                r->port = u.port;
                return r->port ? 1 : fail(r, 400, "CONNECT needs a port%s",
                                          NULL);
        }
        const char *scheme = r->url + u.field_data[UF_SCHEMA].off;
        if (!(u.field_set & (1 << UF_SCHEMA)) ||
            u.field_data[UF_SCHEMA].len != 4 || strncasecmp(scheme, "http", 4))
                return fail(r, 400,
                            "only http:// URIs are forwarded; use CONNECT "
                            "for https%s",
                            NULL);
        if (u.field_set & (1 << UF_USERINFO))
                return fail(r, 400, "user:password@ in the URI is refused%s",
                            NULL);
        r->port = (u.field_set & (1 << UF_PORT)) ? u.port : 80;
        if (r->port == 0)
                return fail(r, 400, "bad port%s", NULL);
        return 0;
}

static bool named_by_connection(const struct http_req *r, const char *name);

static int on_headers_complete(http_parser *p)
{
        struct http_req *r = req_of(p);
        r->head_done = true;
        snprintf(r->method, sizeof(r->method), "%s",
                 http_method_str((enum http_method)p->method));
        r->connect = p->method == HTTP_CONNECT;
        /* A chunked body is passed on as it came, and servers differ on
         * where its chunks end (extensions, bare LF); and a server that
         * does not read a body (many do not, for GET; Python's
         * http.server handlers need not, for any method) takes it for the
         * next request, one the proxy never saw.  So after any body,
         * nothing more goes on that upstream connection. */
        r->keep_alive = !r->connect && http_should_keep_alive(p) &&
                        !(p->flags & F_CHUNKED) &&
                        !(p->content_length > 0 &&
                          p->content_length != ULLONG_MAX);
        for (size_t i = 0; i < r->nh; i++) {
                const char *nm = r->h[i].name ? r->h[i].name : "";
                bool token = *nm != 0;
                for (const char *q = nm; *q && token; q++)
                        token = http_tchar((unsigned char)*q);
                if (!token)
                        return fail(r, 400, "a header name that is not a "
                                            "token%s", NULL);
        }
        if (!r->url)
                return fail(r, 400, "empty request target%s", NULL);
        struct http_parser_url u;
        http_parser_url_init(&u);
        if (http_parser_parse_url(r->url, r->url_len, r->connect, &u) != 0)
                return fail(r, 400, "cannot parse the request target%s", NULL);
        if (r->transparent) {
                if (r->connect)
                        return fail(r, 400, "CONNECT is for the proxy at "
                                            "127.0.0.1:3128%s", NULL);
                if (u.field_set & (1 << UF_HOST)) {
                        /* absolute-form to a server: it must name the
                         * host the box dialled */
                        char shown[300];
                        snprintf(shown, sizeof(shown), "%.*s",
                                 (int)u.field_data[UF_HOST].len,
                                 r->url + u.field_data[UF_HOST].off);
                        uint16_t port = (u.field_set & (1 << UF_PORT))
                                                ? u.port
                                                : 80;
                        if (!host_matches(r, shown) || port != r->port)
                                return fail(r, 403,
                                            "the request names \"%s\", not "
                                            "the host it was sent to",
                                            shown);
                } else if (r->url[0] != '/') {
                        return fail(r, 400, "bad request target%s", NULL);
                }
        } else {
                int t = proxy_target(r, &u);
                if (t != 0)
                        return t < 0 ? -1 : 0; /* CONNECT: done */
        }
        /* origin-form: the path (and query) as sent, "/" when empty */
        size_t off = u.field_set & (1 << UF_PATH) ? u.field_data[UF_PATH].off
                                                  : r->url_len;
        size_t end = r->url_len;
        if (u.field_set & (1 << UF_FRAGMENT))
                end = (size_t)u.field_data[UF_FRAGMENT].off - 1;
        size_t n = end > off ? end - off : 0;
        r->target = malloc(n + 2);
        if (!r->target)
                return -1;
        if (n == 0 || r->url[off] != '/') {
                r->target[0] = '/';
                memcpy(r->target + 1, r->url + off, n);
                r->target[n + 1] = 0;
        } else {
                memcpy(r->target, r->url + off, n);
                r->target[n] = 0;
        }
        /* the proxy drops the headers Connection names: never these,
         * which say where the request goes and where it ends */
        static const char *const framing[] = {"host", "content-length",
                                              "transfer-encoding"};
        for (size_t i = 0; i < sizeof(framing) / sizeof(framing[0]); i++)
                if (named_by_connection(r, framing[i]))
                        return fail(r, 400, "a Connection header naming "
                                            "%s is refused", framing[i]);
        size_t nhost = 0;
        for (size_t i = 0; i < r->nh; i++)
                nhost += r->h[i].name && strcasecmp(r->h[i].name, "Host") == 0;
        if (nhost > 1)
                return fail(r, 400, "more than one Host header%s", NULL);
        const char *hv = header(r, "Host");
        if (!hv && r->transparent && (p->http_major > 1 || p->http_minor > 0))
                return fail(r, 400, "an HTTP/1.1 request without a Host "
                                    "header%s", NULL);
        if (hv && !host_matches(r, hv)) {
                /* the value goes into a message for a terminal: printable
                 * ASCII only */
                char shown[128];
                size_t i = 0;
                for (; hv[i] && i < sizeof(shown) - 1; i++)
                        shown[i] = hv[i] >= 0x20 && hv[i] < 0x7f ? hv[i] : '?';
                shown[i] = 0;
                return fail(r, 403,
                            "the Host header \"%s\" does not match the "
                            "request's target",
                            shown);
        }
        return 0;
}

static int on_message_complete(http_parser *p)
{
        struct http_req *r = req_of(p);
        r->msg_done = true;
        http_parser_pause(p, 1); /* one request per connection */
        return 0;
}

static const http_parser_settings settings = {
        .on_url = on_url,
        .on_header_field = on_field,
        .on_header_value = on_value,
        .on_headers_complete = on_headers_complete,
        .on_message_complete = on_message_complete,
};

void http_req_init(struct http_req *r)
{
        memset(r, 0, sizeof(*r));
        http_parser_init(&r->parser, HTTP_REQUEST);
        r->parser.data = r;
}

void http_req_init_transparent(struct http_req *r, const char *host,
                               uint16_t port)
{
        http_req_init(r);
        r->transparent = true;
        snprintf(r->host, sizeof(r->host), "%s", host);
        r->port = port;
}

void http_req_free(struct http_req *r)
{
        for (size_t i = 0; i < r->nh; i++) {
                free(r->h[i].name);
                free(r->h[i].value);
        }
        free(r->url);
        free(r->target);
        memset(r, 0, sizeof(*r));
}

bool http_tchar(unsigned char ch)
{
        return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
               (ch >= 'A' && ch <= 'Z') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Whitespace to Python's str.split() on a Latin-1 decoded line (the most
 * lenient of the servers); LF ends the line. */
static bool lenient_space(unsigned char ch)
{
        return ch == ' ' || ch == '\t' || ch == '\v' || ch == '\f' ||
               ch == '\r' || (ch >= 0x1c && ch <= 0x1f) || ch == 0x85 ||
               ch == 0xa0;
}

static bool is_git_service(const char *w, size_t n)
{
        static const char *const services[] = {
                "git-upload-pack", "git-receive-pack", "git-upload-archive"};
        for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
                if (n == strlen(services[i]) && !memcmp(w, services[i], n))
                        return true;
        return false;
}

enum http_first http_classify_first(const char *p, size_t len, size_t max)
{
        const unsigned char *u = (const unsigned char *)p;
        size_t i = 0;
        /* blank lines and leading whitespace */
        while (i < len && (u[i] == '\n' || lenient_space(u[i])))
                i++;
        size_t method = i;
        while (i < len && u[i] != '\n' && !lenient_space(u[i])) {
                if (!http_tchar(u[i]))
                        return HTTP_NOT; /* no method any server serves */
                i++;
        }
        if (i == len)
                return len >= max ? HTTP_YES : HTTP_MORE;
        size_t mlen = i - method;
        /* git's own protocol: a pkt-line, four hex digits of length and
         * the service as the "method", then a NUL before any line end.
         * Python's http.server would not serve that method (no do_ of
         * it), and every other server refuses a NUL in a request line */
        bool git = mlen > 4 && strspn(p + method, "0123456789abcdef") >= 4 &&
                   is_git_service(p + method + 4, mlen - 4);
        /* the rest of the line: count the words, keep the last */
        size_t words = 1, last = method, last_len = mlen;
        while (i < len && u[i] != '\n') {
                while (i < len && lenient_space(u[i]))
                        i++;
                if (i == len || u[i] == '\n')
                        break;
                size_t w = i;
                while (i < len && u[i] != '\n' && !lenient_space(u[i])) {
                        if (git && !u[i])
                                return HTTP_NOT;
                        i++;
                }
                words++;
                last = w;
                last_len = i - w;
        }
        if (i == len)
                return len >= max ? HTTP_YES : HTTP_MORE;
        if (words < 2)
                return HTTP_NOT;
        if (last_len >= 5 && strncasecmp(p + last, "HTTP/", 5) == 0)
                return HTTP_YES;
        if (mlen == 3 && strncasecmp(p + method, "GET", 3) == 0)
                return HTTP_YES; /* HTTP/0.9, spaces in its target too */
        return HTTP_NOT;
}

size_t http_head_length(const char *buf, size_t len)
{
        for (size_t i = 3; i < len; i++)
                if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' &&
                    buf[i - 3] == '\r')
                        return i + 1;
        return 0;
}

ssize_t http_req_feed(struct http_req *r, const char *buf, size_t len)
{
        if (r->msg_done || (r->connect && r->head_done))
                return 0;
        bool was_head = r->head_done;
        if (!was_head) {
                /* the caller found the head's end at the first CRLF CRLF;
                 * http-parser also ends lines at a bare LF, and would take
                 * body bytes for head (and they would be lost) */
                for (size_t i = 0; i < len; i++)
                        if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r')) {
                                r->status = 400;
                                snprintf(r->err, sizeof(r->err),
                                         "a line of the request head ends "
                                         "without CR");
                                return -1;
                        }
        }
        size_t n = http_parser_execute(&r->parser, &settings, buf, len);
        enum http_errno e = HTTP_PARSER_ERRNO(&r->parser);
        if (r->status)
                return -1;
        if (e != HPE_OK && e != HPE_PAUSED) {
                r->status = 400;
                snprintf(r->err, sizeof(r->err), "malformed request: %s",
                         http_errno_description(e));
                return -1;
        }
        if (!was_head) {
                if (!r->head_done) {
                        r->status = 400;
                        snprintf(r->err, sizeof(r->err),
                                 "incomplete request head");
                        return -1;
                }
                r->head_bytes = n;
        }
        return (ssize_t)n;
}

/* Is name listed in the request's Connection header (RFC 9110 7.6.1)? */
static bool named_by_connection(const struct http_req *r, const char *name)
{
        const char *conn = header(r, "Connection");
        size_t n = strlen(name);
        for (const char *p = conn; p && *p;) {
                while (*p == ' ' || *p == '\t' || *p == ',')
                        p++;
                size_t k = strcspn(p, " \t,");
                if (k == n && strncasecmp(p, name, n) == 0)
                        return true;
                p += k;
        }
        return false;
}

static bool hop_by_hop(const char *name)
{
        if (strncasecmp(name, "proxy-", 6) == 0)
                return true;
        static const char *const drop[] = {
                "connection",          "proxy-connection", "keep-alive",
                "proxy-authorization", "proxy-authenticate", "upgrade",
                "te",                  "trailer",
        };
        for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
                if (strcasecmp(name, drop[i]) == 0)
                        return true;
        return false;
}

char *http_req_render(const struct http_req *r, size_t *len)
{
        char *out = NULL;
        size_t cap = 0;
        FILE *f = open_memstream(&out, &cap);
        if (!f)
                return NULL;
        fprintf(f, "%s %s HTTP/%u.%u\r\n", r->method, r->target,
                r->parser.http_major, r->parser.http_minor);
        /* the host as checked, never the box's spelling of it (a server
         * may route "VM" or "vm." elsewhere than the name allowed) */
        bool v6 = strchr(r->host, ':') != NULL;
        fprintf(f, "Host: %s%s%s", v6 ? "[" : "", r->host, v6 ? "]" : "");
        if (r->port != 80)
                fprintf(f, ":%u", r->port);
        fputs("\r\n", f);
        for (size_t i = 0; i < r->nh; i++)
                if (r->h[i].name && strcasecmp(r->h[i].name, "Host") != 0 &&
                    !hop_by_hop(r->h[i].name) &&
                    !named_by_connection(r, r->h[i].name))
                        fprintf(f, "%s: %s\r\n", r->h[i].name,
                                r->h[i].value ? r->h[i].value : "");
        if (!r->keep_alive)
                fputs("Connection: close\r\n", f);
        else if (r->parser.http_major == 1 && r->parser.http_minor == 0)
                fputs("Connection: keep-alive\r\n", f);
        fputs("\r\n", f);
        if (fclose(f) != 0) {
                free(out);
                return NULL;
        }
        *len = cap;
        return out;
}

/* ---- responses ----------------------------------------------------------- */

static int resp_headers_complete(http_parser *p)
{
        struct http_resp *r = p->data;
        r->status = p->status_code;
        unsigned st = p->status_code;
        /* no body, whatever the headers say (RFC 9112 6.3) */
        bool skip = (r->head_request && st / 100 != 1) || st == 204 ||
                    st == 304 || (st / 100 == 1 && st != 101);
        r->sized = !skip && !(p->flags & F_CHUNKED) &&
                   p->content_length != ULLONG_MAX && p->content_length > 0;
        return skip ? 1 : 0;
}

static int resp_message_complete(http_parser *p)
{
        struct http_resp *r = p->data;
        r->msg_done = true;
        r->keep_alive = http_should_keep_alive(p) && p->status_code != 101;
        http_parser_pause(p, 1);
        return 0;
}

static const http_parser_settings resp_settings = {
        .on_headers_complete = resp_headers_complete,
        .on_message_complete = resp_message_complete,
};

void http_resp_init(struct http_resp *r, bool head_request)
{
        memset(r, 0, sizeof(*r));
        http_parser_init(&r->parser, HTTP_RESPONSE);
        r->parser.data = r;
        r->head_request = head_request;
}

ssize_t http_resp_feed(struct http_resp *r, const char *buf, size_t len)
{
        size_t used = 0;
        for (;;) {
                if (r->msg_done)
                        return (ssize_t)used;
                size_t n = http_parser_execute(&r->parser, &resp_settings,
                                               buf + used, len - used);
                enum http_errno e = HTTP_PARSER_ERRNO(&r->parser);
                if (e != HPE_OK && e != HPE_PAUSED)
                        return -1;
                used += n;
                if (r->msg_done && r->status / 100 == 1 && r->status != 101) {
                        /* an interim answer (100 Continue): the real one
                         * follows */
                        bool head = r->head_request;
                        http_resp_init(r, head);
                        if (used == len)
                                return (ssize_t)used;
                        continue;
                }
                return (ssize_t)used;
        }
}

uint64_t http_resp_body_left(const struct http_resp *r)
{
        return r->sized && !r->msg_done ? r->parser.content_length : 0;
}

void http_resp_skip(struct http_resp *r, uint64_t n)
{
        if (!r->sized || r->msg_done || n > r->parser.content_length)
                return;
        r->parser.content_length -= n;
        if (r->parser.content_length == 0) {
                r->msg_done = true;
                r->keep_alive = http_should_keep_alive(&r->parser);
        }
}
