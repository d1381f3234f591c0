/* The proxy's HTTP/1.x request reader: the head (request line and headers,
 * at most HTTP_HEAD_MAX bytes and HTTP_HEADERS_MAX headers) and then the
 * body's extent, so exactly one request is forwarded per connection.
 * Parsing is done by http-parser; this file keeps what the proxy needs. */
#pragma once

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_HEAD_MAX 16384
#define HTTP_HEADERS_MAX 100

struct http_header {
        char *name;
        char *value;
};

struct http_req {
        http_parser parser;
        bool head_done;
        bool msg_done;
        bool connect;       /* CONNECT host:port */
        bool ip_literal;    /* host is an address, not a name */
        bool keep_alive;    /* the client will send another request on
                             * this connection (forward proxy only) */
        bool transparent;   /* a server's view: host and port are preset
                             * (the name the box dialled), the target is
                             * origin-form and Host must name them */
        char method[24];
        char host[256];     /* normalised: lower case, no brackets */
        uint16_t port;
        char *target;       /* origin-form path+query for forwarding */
        char *url;          /* request-target as sent */
        size_t url_len;
        struct http_header h[HTTP_HEADERS_MAX];
        size_t nh;
        bool in_value;
        size_t head_bytes;
        int status;         /* on error: the status to answer with */
        char err[512];      /* on error: why, as a sentence */
};

void http_req_init(struct http_req *r);
/* For a transparent connection to host:port (host normalised). */
void http_req_init_transparent(struct http_req *r, const char *host,
                               uint16_t port);
void http_req_free(struct http_req *r);

/* Feed bytes.  Before head_done, buf must hold the whole head (through the
 * blank line); afterwards, body bytes.  Returns how many bytes belong to
 * this request (the caller forwards exactly those), or -1 with status and
 * err set.  Sets head_done and msg_done as they happen. */
ssize_t http_req_feed(struct http_req *r, const char *buf, size_t len);

/* The head to send upstream (origin-form target, hop-by-hop and proxy
 * headers dropped, "Connection: close" unless keep_alive), malloc'd; NULL
 * if out of memory. */
char *http_req_render(const struct http_req *r, size_t *len);

/* The first bytes of a tunnel to a name: might an HTTP/1 server take
 * them for a request?  Decided as the most lenient real servers parse a
 * request line (docs/internals/tunnels.md has the cases): leading blank
 * lines and whitespace skipped; words split on runs of any byte Python's
 * str.split() takes for whitespace in Latin-1 (space, tab, VT, FF, CR,
 * 0x1c-0x1f, 0x85, 0xa0); the first word a token (a method some server
 * would serve); then, at the line's LF, HTTP when the last of two or more
 * words starts with "HTTP/" (any case; nginx takes spaces inside the
 * target) or the first is GET (HTTP/0.9).  A first word with any other
 * byte is no request a server would serve: not HTTP at once, without
 * waiting for a line end (binary protocols); so is a git pkt-line (four
 * hex digits and git's service, then a NUL: Python's http.server would
 * serve no such method, every other server refuses the NUL).  Any other
 * byte later in the line, a NUL included, is the line's (Python's
 * http.server takes a NUL in the target).  HTTP_MORE: too few bytes to
 * tell (a line longer than max bytes is HTTP: the caller's parser then
 * refuses it). */
enum http_first { HTTP_NOT, HTTP_YES, HTTP_MORE };
enum http_first http_classify_first(const char *p, size_t len, size_t max);

/* Is ch one of an HTTP token's characters (RFC 9110 5.6.2)? */
bool http_tchar(unsigned char ch);

/* Length of the head at the start of buf (through "\r\n\r\n"), 0 if not
 * complete yet. */
size_t http_head_length(const char *buf, size_t len);

/* The upstream's response, read only for where it ends, so that the next
 * request on a kept-alive connection starts in the right place.  Bytes are
 * passed on as they are. */
struct http_resp {
        http_parser parser;
        bool head_request; /* answers a HEAD: no body whatever it says */
        bool msg_done;
        bool keep_alive;   /* the upstream will take another request */
        bool sized;        /* a Content-Length body, not chunked */
        unsigned status;
};

void http_resp_init(struct http_resp *r, bool head_request);
/* Feed bytes from upstream; len 0 means the upstream closed.  Returns how
 * many belong to this response (1xx interim answers are passed over), or
 * -1 when it is malformed. */
ssize_t http_resp_feed(struct http_resp *r, const char *buf, size_t len);
/* Bytes of a Content-Length body still to come (0 when unknown or none):
 * they may be passed on unread, then counted with http_resp_skip. */
uint64_t http_resp_body_left(const struct http_resp *r);
void http_resp_skip(struct http_resp *r, uint64_t n);
