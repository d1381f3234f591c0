/* The box's ways out, all served here: the HTTP proxy at 127.0.0.1:3128
 * (CONNECT tunnels and absolute-URI forwarding, with keep-alive), SOCKS5
 * at 127.0.0.1:1080, and the transparent listeners, which take connections
 * to the DNS stub's addresses and learn the name from getsockname().  Each
 * request is decided against the policy before anything is dialled; a
 * denial is answered with 403 (or the protocol's refusal) and a sentence
 * saying how to allow it.  In a tunnel to a name, a TLS ClientHello must
 * ask for that name, and plain HTTP must name it in Host. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <time.h>

#include "http.h"
#include "internal.h"
#include "socks.h"
#include "tls.h"

/* ST_THEAD: a tunnel to a name, dialled, carrying HTTP whose next request
 * head is still being read. */
enum conn_state { ST_HEAD, ST_DIAL, ST_TUNNEL, ST_THEAD, ST_FORWARD, ST_DONE };

struct conn {
        struct net *n;
        struct conn *prev, *next; /* n->conns */
        struct bufferevent *down; /* the box's side */
        struct bufferevent *up;   /* upstream */
        struct upstream *dial;
        struct http_req req;
        struct http_resp resp;    /* the upstream's answer to req */
        bool resp_raw;            /* unreadable answer: passed on to EOF */
        /* the upstream kept open between requests, and what it reaches */
        char up_host[256];
        char up_addr[80];
        uint16_t up_port;
        bool up_ip;
        unsigned served;          /* requests answered on this connection */
        enum conn_state st;
        struct timespec start, last;
        uint64_t bytes_up, bytes_down;
        char upstream[80];
        const char *rule;
        bool logged;
        bool connected; /* upstream dialled: logged as allowed at the end */
        enum proxy_kind kind;
        bool down_eof;  /* the box shut its sending side */
        bool hello;     /* a tunnel: its first bytes are not checked yet */
        struct timespec relay_start; /* when the tunnel or forward began */
        const char *proto;  /* for the audit log, fixed when decided */
        /* a refusal held until the request is read, so that the answer
         * is not lost to a reset (transparent port 80) */
        char *refusal;
        int refusal_status;
        const char *refusal_reason;
        struct socks_req sreq;
};

static double ms_since(const struct timespec *t)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)(now.tv_sec - t->tv_sec) * 1e3 +
               (double)(now.tv_nsec - t->tv_nsec) / 1e6;
}

/* The audit log's name for how the connection came. */
static const char *proto_of(const struct conn *c)
{
        return c->kind == PROXY_TRANSPARENT ? "transparent"
               : c->kind == PROXY_SOCKS     ? "socks5"
               : c->req.connect             ? "connect"
                                            : "http";
}

static void log_conn(struct conn *c, const char *verdict, const char *reason,
                     const char *message)
{
        if (c->logged || (!c->req.head_done && !c->req.transparent &&
                          c->kind != PROXY_TRANSPARENT))
                return;
        c->logged = true;
        struct audit_rec r = {
                .proto = c->proto ? c->proto : proto_of(c),
                .host = c->req.host,
                .port = c->req.port,
                .verdict = verdict,
                .reason = reason,
                .rule = c->rule,
                .upstream = c->upstream[0] ? c->upstream : NULL,
                .bytes_up = c->bytes_up,
                .bytes_down = c->bytes_down,
                .ms = ms_since(&c->start),
                .message = message,
        };
        audit_log(c->n->audit, &r);
}

/* A connection the policy let through has opened: a line now, so that
 * even an agentbox killed with SIGKILL leaves a trace of it (its line
 * with the bytes follows when it ends). */
static void log_open(struct conn *c)
{
        struct audit_rec r = {
                .event = "open",
                .proto = c->proto ? c->proto : proto_of(c),
                .host = c->req.host,
                .port = c->req.port,
                .verdict = "allow",
                .reason = "allowed",
                .rule = c->rule,
                .upstream = c->upstream[0] ? c->upstream : NULL,
                .ms = ms_since(&c->start),
        };
        audit_log(c->n->audit, &r);
}

static void conn_free(struct conn *c)
{
        if (c->connected)
                log_conn(c, "allow", "allowed", NULL);
        if (c->dial)
                upstream_cancel(c->dial);
        if (c->down)
                bufferevent_free(c->down);
        if (c->up)
                bufferevent_free(c->up);
        http_req_free(&c->req);
        free(c->refusal);
        c->n->nconns--;
        if (c->prev)
                c->prev->next = c->next;
        else
                c->n->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        free(c);
}

/* Close once what is queued for the box has been written.  (libevent
 * also runs a write callback when the socket merely became writable, which
 * may have been queued before the answer was: check.) */
static void close_when_flushed(struct bufferevent *bev, void *arg)
{
        if (evbuffer_get_length(bufferevent_get_output(bev)))
                return;
        conn_free(arg);
}

static void on_closing_event(struct bufferevent *bev, short what, void *arg)
{
        (void)bev;
        (void)what; /* an error, a reset or the write timeout */
        conn_free(arg);
}

static void finish(struct conn *c)
{
        c->st = ST_DONE;
        if (c->up) {
                bufferevent_free(c->up);
                c->up = NULL;
        }
        if (c->down && evbuffer_get_length(bufferevent_get_output(c->down))) {
                /* a box that resets or stops reading must not keep the
                 * connection (and its slot) forever */
                struct timeval t = {NET_HEAD_TIMEOUT_S, 0};
                bufferevent_disable(c->down, EV_READ);
                bufferevent_set_timeouts(c->down, NULL, &t);
                bufferevent_setcb(c->down, NULL, close_when_flushed,
                                  on_closing_event, c);
                bufferevent_enable(c->down, EV_WRITE);
                return;
        }
        conn_free(c);
}

static void respond(struct conn *c, int status, const char *reason,
                    const char *body)
{
        evbuffer_add_printf(bufferevent_get_output(c->down),
                            "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
                            "Content-Length: %zu\r\nConnection: close\r\n"
                            "\r\n%s\n",
                            status, reason, strlen(body) + 1, body);
}

static const char *status_text(int s)
{
        switch (s) {
        case 400: return "Bad Request";
        case 403: return "Forbidden";
        case 431: return "Request Header Fields Too Large";
        case 502: return "Bad Gateway";
        case 504: return "Gateway Timeout";
        default: return "Error";
        }
}

static int socks_code(int status)
{
        switch (status) {
        case 403: return SOCKS_NOT_ALLOWED;
        case 504: return SOCKS_TTL;
        case 502: return SOCKS_HOST_UNREACH;
        default: return SOCKS_GENERAL;
        }
}

static void reject(struct conn *c, int status, const char *reason,
                   const char *sentence);
static void on_head_event(struct bufferevent *bev, short what, void *arg);

/* Read (and drop) the head of the request a refusal answers. */
static void on_refused_head(struct bufferevent *bev, void *arg)
{
        struct conn *c = arg;
        struct evbuffer *in = bufferevent_get_input(bev);
        size_t len = evbuffer_get_length(in);
        size_t look = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
        if (!http_head_length((const char *)evbuffer_pullup(in, (ssize_t)look),
                              look) &&
            len < HTTP_HEAD_MAX)
                return;
        evbuffer_drain(in, len);
        reject(c, c->refusal_status, c->refusal_reason, c->refusal);
}

static void reject(struct conn *c, int status, const char *reason,
                   const char *sentence)
{
        if (c->kind == PROXY_TRANSPARENT && c->req.port == 80 &&
            c->st == ST_HEAD && !c->refusal) {
                c->refusal = strdup(sentence);
                c->refusal_status = status;
                c->refusal_reason = reason;
                if (c->refusal) {
                        bufferevent_setcb(c->down, on_refused_head, NULL,
                                          on_head_event, c);
                        bufferevent_enable(c->down, EV_READ);
                        return;
                }
        }
        if (c->st == ST_THEAD) {
                respond(c, status, status_text(status), sentence);
        } else if (c->st == ST_TUNNEL) {
                /* a tunnel already: there is no way to say why but closing */
        } else if (c->kind == PROXY_SOCKS) {
                uint8_t rep[10];
                socks_reply(rep, socks_code(status));
                bufferevent_write(c->down, rep, sizeof(rep));
        } else if (c->kind == PROXY_HTTP || c->req.port == 80) {
                respond(c, status, status_text(status), sentence);
        }
        if (status == 403)
                audit_report_denial(c->n->audit, sentence);
        log_conn(c, status == 403 ? "deny" : "error", reason, sentence);
        finish(c);
}

/* ---- splicing --------------------------------------------------------- */

static void touch(struct conn *c) { clock_gettime(CLOCK_MONOTONIC, &c->last); }

/* Back-pressure: stop reading from one side while the other has more than
 * NET_BUF_MAX queued; on_drained resumes it. */
static void pressure(struct bufferevent *from, struct bufferevent *to)
{
        if (evbuffer_get_length(bufferevent_get_output(to)) >= NET_BUF_MAX) {
                bufferevent_disable(from, EV_READ);
                bufferevent_setwatermark(to, EV_WRITE, NET_BUF_MAX / 2, 0);
        }
}

/* Read one request head from the start of in into c->req and drain it.
 * true when it is read; false when more is needed or it was refused (and
 * c may be gone). */
static bool read_head(struct conn *c, struct evbuffer *in)
{
        size_t avail = evbuffer_get_length(in);
        size_t look = avail < HTTP_HEAD_MAX ? avail : HTTP_HEAD_MAX;
        const char *p = (const char *)evbuffer_pullup(in, (ssize_t)look);
        size_t head = http_head_length(p, look);
        if (!head) {
                if (avail >= HTTP_HEAD_MAX)
                        reject(c, 431, "head-too-large",
                               "agentbox: request head larger than 16 KiB");
                return false;
        }
        ssize_t n = http_req_feed(&c->req, p, head);
        evbuffer_drain(in, head);
        if (n >= 0 && (size_t)n != head) { /* the parser saw another end */
                c->req.status = 400;
                snprintf(c->req.err, sizeof(c->req.err),
                         "the request head's end is ambiguous");
                n = -1;
        }
        if (n < 0) {
                char msg[1024];
                snprintf(msg, sizeof(msg), "agentbox: %s", c->req.err);
                if (c->req.status == 403)
                        snprintf(msg, sizeof(msg),
                                 "agentbox: blocked http://%s:%u (%s; domain "
                                 "fronting is refused)",
                                 c->req.host, c->req.port, c->req.err);
                reject(c, c->req.status, "bad-request", msg);
                return false;
        }
        return true;
}

/* Send the request's head upstream, to be followed by its body and
 * answered.  false when refused (c may be gone). */
static bool send_head(struct conn *c)
{
        size_t len = 0;
        char *head = http_req_render(&c->req, &len);
        if (!head) {
                reject(c, 502, "internal", "agentbox: out of memory");
                return false;
        }
        evbuffer_add(bufferevent_get_output(c->up), head, len);
        c->bytes_up += len;
        free(head);
        c->st = ST_FORWARD;
        c->connected = true; /* logged as allowed when answered or closed */
        c->resp_raw = false;
        http_resp_init(&c->resp, strcmp(c->req.method, "HEAD") == 0);
        return true;
}

/* HTTP in a tunnel to a name: read its next request as a server for that
 * name would (ST_THEAD). */
static void expect_http(struct conn *c)
{
        char host[256];
        uint16_t port = c->req.port;
        snprintf(host, sizeof(host), "%s", c->req.host);
        http_req_free(&c->req);
        http_req_init_transparent(&c->req, host, port);
        c->st = ST_THEAD;
}

/* An HTTP request in a tunnel to a name: its Host must be that name, and
 * it is forwarded as the proxy forwards (hop-by-hop headers dropped).  true
 * when the head has gone upstream. */
static bool transparent_head(struct conn *c, struct evbuffer *in)
{
        return read_head(c, in) && send_head(c);
}

/* A tunnel's first bytes.  In a tunnel to a name, a TLS ClientHello must
 * ask for that name, and whatever an HTTP server might take for a request
 * (http_classify_first) is read as HTTP, each request of it, and must name
 * that host.  Anything else goes through as it is on the ports a pattern
 * names, and is refused on 80 and 443, the HTTP ports, where a server may
 * read what no classifier knows.  true when the bytes in the buffer may
 * go on. */
static bool check_first(struct conn *c, struct evbuffer *in, size_t len)
{
        char sni[254], why[160], sentence[1024];
        if (ms_since(&c->relay_start) >= NET_HEAD_TIMEOUT_S * 1e3) {
                reject(c, 400, "head-timeout",
                       "agentbox: no complete first message within 30 s");
                return false;
        }
        if (c->st == ST_THEAD)
                return transparent_head(c, in);
        size_t look = len < TLS_RECORD_MAX ? len : TLS_RECORD_MAX;
        const uint8_t *p = evbuffer_pullup(in, (ssize_t)look);
        if (!c->req.ip_literal) {
                /* plain HTTP in any tunnel to a name (transparent, CONNECT,
                 * SOCKS5) must name that host */
                enum http_first h = http_classify_first(
                        (const char *)p, look, HTTP_HEAD_MAX);
                if (h == HTTP_MORE)
                        return false;
                if (h == HTTP_YES) {
                        c->hello = false;
                        expect_http(c);
                        return transparent_head(c, in);
                }
        }
        int r = tls_client_hello_sni(p, look, sni, sizeof(sni), why,
                                     sizeof(why));
        if (r == TLS_MORE)
                return false; /* wait (TLS_RECORD_MAX bounds the wait) */
        c->hello = false;
        if (r == TLS_NOT_TLS && !c->req.ip_literal &&
            (c->req.port == 80 || c->req.port == 443)) {
                snprintf(sentence, sizeof(sentence),
                         "agentbox: blocked a connection to %s:%u: its first "
                         "bytes are neither HTTP nor TLS, and on ports 80 "
                         "and 443 agentbox relays nothing else (see "
                         "agentbox(1), Network)",
                         c->req.host, c->req.port);
                reject(c, 403, "not-http-or-tls", sentence);
                return false;
        }
        if (r == TLS_NOT_TLS || c->req.ip_literal)
                return true;
        if (r == TLS_BAD) {
                snprintf(sentence, sizeof(sentence),
                         "agentbox: blocked a TLS connection to %s:%u (%s)",
                         c->req.host, c->req.port, why);
                reject(c, 403, "bad-client-hello", sentence);
                return false;
        }
        if (sni[0] && strcmp(sni, c->req.host) != 0) {
                snprintf(sentence, sizeof(sentence),
                         "agentbox: blocked %s%s:%u: the TLS server name "
                         "is %s, not the host the connection was allowed "
                         "for (domain fronting is refused)",
                         c->req.port == 443 ? "https://" : "", c->req.host,
                         c->req.port, sni);
                reject(c, 403, "sni-mismatch", sentence);
                return false;
        }
        return true;
}

static void response_done(struct conn *c);

/* libevent 2.1 reads a socket 4 KiB at a time, one read per wake-up, which
 * caps a relay at a small fraction of what loopback carries.  Read what
 * else is waiting straight into the bufferevent's input in large pieces
 * (up to the relay's buffer cap); EOF and errors are left for libevent's
 * own next read to report. */
#define SLURP_PIECE (256 * 1024)
/* One readv of (at least) want bytes from fd onto the end of buf; what
 * readv returned, or -1 when no room could be made. */
static ssize_t read_into(struct evbuffer *buf, int fd, size_t want)
{
        struct evbuffer_iovec v[2];
        int nv = evbuffer_reserve_space(buf, (ev_ssize_t)want, v, 2);
        if (nv <= 0)
                return -1;
        struct iovec iov[2];
        for (int i = 0; i < nv; i++) {
                iov[i].iov_base = v[i].iov_base;
                iov[i].iov_len = v[i].iov_len;
        }
        ssize_t n = readv(fd, iov, nv);
        if (n <= 0) {
                evbuffer_commit_space(buf, v, 0);
                return n;
        }
        size_t left = (size_t)n;
        for (int i = 0; i < nv; i++) {
                size_t k = left < v[i].iov_len ? left : v[i].iov_len;
                v[i].iov_len = k;
                left -= k;
        }
        evbuffer_commit_space(buf, v, nv);
        return n;
}

/* ---- zero-copy relay -------------------------------------------------------
 * Where the bytes need no reading (a tunnel once its first bytes are
 * checked, a response body of known length), they go from one socket to
 * the other through a pipe with splice(2): no copy through the
 * supervisor's memory.  The pipe is shared and left empty: whatever the
 * receiver cannot take now is read out of it into the bufferevent's output,
 * which then drains as usual. */
#define PUMP_BUDGET (4u << 20) /* bytes per wake-up, to stay fair */

static bool pipe_ready(struct net *n)
{
        if (n->pipe[0] >= 0)
                return true;
        if (pipe2(n->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
                n->pipe[0] = n->pipe[1] = -1;
                return false;
        }
        (void)fcntl(n->pipe[0], F_SETPIPE_SZ, 1 << 20); /* may be refused */
        return true;
}

/* Move what is left in the pipe (len bytes) into out. */
static void unpipe(struct net *n, struct evbuffer *out, size_t len)
{
        while (len) {
                ssize_t r = read_into(out, n->pipe[0], len);
                if (r <= 0)
                        break;
                len -= (size_t)r < len ? (size_t)r : len;
        }
        if (len) { /* cannot happen short of memory; never leave it full */
                char sink[4096];
                while (read(n->pipe[0], sink, sizeof(sink)) > 0)
                        ;
        }
}

/* Splice up to max bytes from from's socket to to's; the bytes moved.  Only
 * when nothing is waiting in to's output (order must be kept). */
static uint64_t pump(struct net *n, struct bufferevent *from,
                     struct bufferevent *to, uint64_t max)
{
        struct evbuffer *out = bufferevent_get_output(to);
        if (evbuffer_get_length(bufferevent_get_input(from)) || !pipe_ready(n))
                return 0;
        if (evbuffer_get_length(out)) {
                evbuffer_unfreeze(out, 1);
                (void)evbuffer_write_atmost(out, bufferevent_getfd(to), -1);
                evbuffer_freeze(out, 1);
                if (evbuffer_get_length(out))
                        return 0;
        }
        int in_fd = bufferevent_getfd(from), out_fd = bufferevent_getfd(to);
        uint64_t moved = 0;
        if (max > PUMP_BUDGET)
                max = PUMP_BUDGET;
        while (moved < max) {
                ssize_t got = splice(in_fd, NULL, n->pipe[1], NULL,
                                     (size_t)(max - moved),
                                     SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                if (got <= 0)
                        break; /* EOF and errors: libevent's read sees them */
                moved += (uint64_t)got;
                size_t left = (size_t)got;
                while (left) {
                        ssize_t put = splice(n->pipe[0], NULL, out_fd, NULL,
                                             left,
                                             SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                        if (put <= 0)
                                break;
                        left -= (size_t)put;
                }
                if (left) { /* the receiver is full: queue the rest */
                        unpipe(n, out, left);
                        break;
                }
        }
        return moved;
}

static void slurp(struct bufferevent *bev)
{
        /* a bufferevent keeps the end of its input frozen between its own
         * reads; this is one of them */
        struct evbuffer *in = bufferevent_get_input(bev);
        evutil_socket_t fd = bufferevent_getfd(bev);
        evbuffer_unfreeze(in, 0);
        while (evbuffer_get_length(in) < NET_BUF_MAX) {
                int waiting = 0; /* reserve no more than is there */
                if (ioctl(fd, FIONREAD, &waiting) < 0 || waiting <= 0)
                        break;
                size_t want = (size_t)waiting < SLURP_PIECE ? (size_t)waiting
                                                            : SLURP_PIECE;
                if (read_into(in, fd, want) < (ssize_t)want)
                        break; /* EOF or an error, for libevent to see */
        }
        evbuffer_freeze(in, 0);
}

/* Move n bytes from in to out.  Small pieces are copied into out's last
 * chain: moving a chain per read would let a box that sends a byte at a
 * time make each byte under the NET_BUF_MAX cap cost a chain of 1 KiB+. */
static void move_bytes(struct evbuffer *in, struct evbuffer *out, size_t n)
{
        if (n < 16384) {
                unsigned char *p = evbuffer_pullup(in, (ssize_t)n);
                if (p && evbuffer_add(out, p, n) == 0) {
                        evbuffer_drain(in, n);
                        return;
                }
        }
        evbuffer_remove_buffer(in, out, n);
}

/* Move what arrived on from to to.  false when c may be gone (closed, or
 * on to its next request): the caller must not touch it then. */
static bool relay(struct conn *c, struct bufferevent *from,
                  struct bufferevent *to)
{
        struct evbuffer *in = bufferevent_get_input(from);
        bool opaque = (c->st == ST_TUNNEL && !c->hello) ||
                      (c->st == ST_FORWARD && from == c->up && !c->resp_raw &&
                       http_resp_body_left(&c->resp));
        /* libevent's read came back full: more is likely waiting (an
         * opaque stream is spliced below instead) */
        if (!opaque && evbuffer_get_length(in) >= 4096 &&
            (bufferevent_get_enabled(from) & EV_READ))
                slurp(from);
        size_t len = evbuffer_get_length(in);
        if (!len)
                return true;
        touch(c);
        if ((c->hello || c->st == ST_THEAD) && from == c->down) {
                if (!check_first(c, in, len))
                        return false;
                len = evbuffer_get_length(in);
                if (c->st == ST_FORWARD)
                        return relay(c, from, to); /* the body, if any */
        }
        if (c->st == ST_FORWARD && from == c->down) {
                /* only this request's body goes up; what follows is the
                 * next request, read once this one is answered */
                if (c->req.msg_done) {
                        bufferevent_disable(from, EV_READ);
                        return true;
                }
                unsigned char *p = evbuffer_pullup(in, (ssize_t)len);
                ssize_t n = http_req_feed(&c->req, (const char *)p, len);
                if (n < 0) {
                        finish(c);
                        return false;
                }
                move_bytes(in, bufferevent_get_output(to), (size_t)n);
                c->bytes_up += (uint64_t)n;
                if (c->req.msg_done)
                        bufferevent_disable(from, EV_READ);
                pressure(from, to);
                return true;
        }
        if (c->st == ST_FORWARD && from == c->up && !c->resp_raw) {
                unsigned char *p = evbuffer_pullup(in, (ssize_t)len);
                ssize_t n = http_resp_feed(&c->resp, (const char *)p, len);
                if (n < 0) {
                        /* not HTTP we can follow: pass it all on, and let
                         * the upstream's close end the connection */
                        c->resp_raw = true;
                        c->req.keep_alive = false;
                        n = (ssize_t)len;
                }
                move_bytes(in, bufferevent_get_output(to), (size_t)n);
                c->bytes_down += (uint64_t)n;
                uint64_t body = http_resp_body_left(&c->resp);
                if (body && !c->resp_raw) {
                        uint64_t moved = pump(c->n, from, to, body);
                        c->bytes_down += moved;
                        http_resp_skip(&c->resp, moved);
                }
                if (c->resp.msg_done) {
                        response_done(c);
                        return false;
                }
                pressure(from, to);
                return true;
        }
        if (c->st == ST_THEAD && from == c->up) {
                /* HTTP in a tunnel, between requests: an upstream that
                 * speaks unasked is no HTTP server, and what it sends
                 * would go to the box outside any record */
                c->bytes_down = len;
                c->bytes_up = 0;
                c->logged = false;
                log_conn(c, "error", "upstream-unasked",
                         "agentbox: the server sent data with no request "
                         "outstanding; the connection was closed");
                finish(c);
                return false;
        }
        if (from == c->down)
                c->bytes_up += len;
        else
                c->bytes_down += len;
        move_bytes(in, bufferevent_get_output(to), len);
        if (c->st == ST_TUNNEL && !c->hello) {
                uint64_t moved = pump(c->n, from, to, UINT64_MAX);
                if (from == c->down)
                        c->bytes_up += moved;
                else
                        c->bytes_down += moved;
        }
        pressure(from, to);
        return true;
}

static void on_up_read(struct bufferevent *bev, void *arg)
{
        struct conn *c = arg;
        (void)relay(c, bev, c->down);
}

static void on_down_read_spliced(struct bufferevent *bev, void *arg)
{
        struct conn *c = arg;
        (void)relay(c, bev, c->up);
}

/* The box shut its sending side: pass the shutdown on once what it sent
 * has gone out, and keep the answer coming back. */
static void shut_up_when_drained(struct conn *c)
{
        if (c->up && !evbuffer_get_length(bufferevent_get_output(c->up)))
                shutdown(bufferevent_getfd(c->up), SHUT_WR);
}

static void on_drained(struct bufferevent *bev, void *arg)
{
        struct conn *c = arg;
        struct bufferevent *other = bev == c->up ? c->down : c->up;
        bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
        if (bev == c->up && c->down_eof) {
                shut_up_when_drained(c);
                return;
        }
        if (other)
                bufferevent_enable(other, EV_READ);
}

static void on_spliced_event(struct bufferevent *bev, short what, void *arg)
{
        struct conn *c = arg;
        if ((what & BEV_EVENT_TIMEOUT) && bev == c->down &&
            (c->hello || c->st == ST_THEAD) &&
            evbuffer_get_length(bufferevent_get_input(bev)) &&
            ms_since(&c->relay_start) >= NET_HEAD_TIMEOUT_S * 1e3) {
                /* a first message begun and never finished (a client that
                 * sends nothing may wait for the server as long as it
                 * likes) */
                reject(c, 400, "head-timeout",
                       "agentbox: no complete first message within 30 s");
                return;
        }
        if (what & BEV_EVENT_TIMEOUT) {
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (now.tv_sec - c->last.tv_sec < NET_IDLE_TIMEOUT_S) {
                        bufferevent_enable(bev, EV_READ); /* other side busy */
                        return;
                }
        }
        if (bev == c->down && what == (BEV_EVENT_READING | BEV_EVENT_EOF) &&
            c->up) {
                /* (its last bytes went through on_down_read_spliced) */
                c->down_eof = true;
                shut_up_when_drained(c);
                return;
        }
        if (bev == c->up && (what & BEV_EVENT_EOF) &&
            !relay(c, c->up, c->down)) /* the last of the response */
                return;
        finish(c);
}

static void start_relay(struct conn *c)
{
        struct timeval idle = {NET_IDLE_TIMEOUT_S, 0};
        struct timeval first = {NET_HEAD_TIMEOUT_S, 0};
        touch(c);
        clock_gettime(CLOCK_MONOTONIC, &c->relay_start);
        bufferevent_setcb(c->up, on_up_read, on_drained, on_spliced_event, c);
        bufferevent_setcb(c->down, on_down_read_spliced, on_drained,
                          on_spliced_event, c);
        bufferevent_set_timeouts(c->up, &idle, NULL);
        bufferevent_set_timeouts(c->down, c->hello ? &first : &idle, NULL);
        bufferevent_set_max_single_write(c->up, NET_BUF_MAX);
        bufferevent_set_max_single_write(c->down, NET_BUF_MAX);
        bufferevent_enable(c->up, EV_READ | EV_WRITE);
        bufferevent_enable(c->down, EV_READ | EV_WRITE);
        /* bytes the box sent after the head */
        (void)relay(c, c->down, c->up);
}

/* ---- dialling ---------------------------------------------------------- */

/* Send the request's head upstream and relay its body and the answer. */
static void start_forward(struct conn *c)
{
        if (send_head(c))
                start_relay(c);
}

/* ---- keep-alive ---------------------------------------------------------- */

static void drop_parked(struct conn *c)
{
        bufferevent_free(c->up);
        c->up = NULL;
}

/* The upstream between requests: anything from it (data, close, error,
 * idle timeout) ends it; the box's connection stays. */
static void on_parked_read(struct bufferevent *bev, void *arg)
{
        (void)bev;
        drop_parked(arg);
}

static void on_parked_event(struct bufferevent *bev, short what, void *arg)
{
        (void)bev;
        (void)what;
        drop_parked(arg);
}

static void on_head(struct bufferevent *bev, void *arg);
static void on_head_event(struct bufferevent *bev, short what, void *arg);

/* An answer has gone back.  If both sides keep the connection, read the
 * box's next request (maybe already here); else close once flushed. */
static void response_done(struct conn *c)
{
        log_conn(c, "allow", "allowed", NULL);
        c->connected = false;
        c->served++;
        struct evbuffer *rest = bufferevent_get_input(c->up);
        char stray;
        if (!(c->req.keep_alive && c->req.msg_done && c->resp.keep_alive &&
              !c->down_eof && evbuffer_get_length(rest) == 0 &&
              /* nothing more from the upstream than its answer */
              recv(bufferevent_getfd(c->up), &stray, 1,
                   MSG_PEEK | MSG_DONTWAIT) < 0)) {
                finish(c);
                return;
        }
        c->logged = false;
        if (!c->req.transparent)
                c->rule = NULL; /* (a tunnel keeps the rule it was let in by) */
        c->bytes_up = c->bytes_down = 0;
        clock_gettime(CLOCK_MONOTONIC, &c->start);
        if (c->req.transparent) {
                /* HTTP in a tunnel to one name: the next request goes the
                 * same way, and must name the same host */
                expect_http(c);
                clock_gettime(CLOCK_MONOTONIC, &c->relay_start);
                bufferevent_enable(c->down, EV_READ);
                (void)relay(c, c->down, c->up); /* a pipelined request */
                return;
        }
        http_req_free(&c->req);
        http_req_init(&c->req);
        c->upstream[0] = 0; /* until the next request is dialled */
        c->st = ST_HEAD;
        bufferevent_setcb(c->up, on_parked_read, NULL, on_parked_event, c);
        bufferevent_setwatermark(c->up, EV_WRITE, 0, 0);
        bufferevent_enable(c->up, EV_READ);
        struct timeval t = {NET_HEAD_TIMEOUT_S, 0};
        bufferevent_setwatermark(c->down, EV_WRITE, 0, 0);
        bufferevent_set_timeouts(c->down, &t, NULL);
        bufferevent_setcb(c->down, on_head, NULL, on_head_event, c);
        bufferevent_enable(c->down, EV_READ | EV_WRITE);
        if (evbuffer_get_length(bufferevent_get_input(c->down)))
                on_head(c->down, c); /* a pipelined request */
}

static void on_dialled(void *arg, struct bufferevent *up, const char *addr,
                       int status, const char *reason, const char *sentence)
{
        struct conn *c = arg;
        c->dial = NULL;
        if (!up) {
                reject(c, status, reason, sentence);
                return;
        }
        c->up = up;
        c->connected = true;
        snprintf(c->upstream, sizeof(c->upstream), "%s", addr);
        log_open(c);
        if (c->kind == PROXY_SOCKS) {
                uint8_t rep[10];
                socks_reply(rep, SOCKS_OK);
                bufferevent_write(c->down, rep, sizeof(rep));
                c->st = ST_TUNNEL;
        } else if (c->req.connect && c->kind == PROXY_TRANSPARENT) {
                c->st = ST_TUNNEL;
        } else if (c->req.connect) {
                evbuffer_add_printf(bufferevent_get_output(c->down),
                                    "HTTP/1.1 200 Connection established\r\n"
                                    "\r\n");
                c->st = ST_TUNNEL;
        } else {
                snprintf(c->up_host, sizeof(c->up_host), "%s", c->req.host);
                snprintf(c->up_addr, sizeof(c->up_addr), "%s", addr);
                c->up_port = c->req.port;
                c->up_ip = c->req.ip_literal;
                start_forward(c);
                return;
        }
        c->hello = true;
        /* kept: HTTP in the tunnel re-reads c->req */
        c->proto = proto_of(c);
        start_relay(c);
}

static void decide(struct conn *c)
{
        struct http_req *r = &c->req;
        struct in_addr a4;
        const char *mapped = NULL;
        if (r->ip_literal && inet_pton(AF_INET, r->host, &a4) == 1 &&
            (mapped = net_mapped_name(c->n, a4.s_addr))) {
                /* an address the box's DNS gave out (a client that resolved
                 * the name itself, as socks5:// clients do): it stands for
                 * its name, never for the host's own 127.100.x.y */
                snprintf(r->host, sizeof(r->host), "%s", mapped);
                r->ip_literal = false;
        }
        char sentence[1024];
        const char *reason = NULL;
        const char *scheme = r->port == 443 ? "https"
                             : r->port == 80 ? "http"
                                             : NULL;
        int v = net_decide(c->n, r->host, r->port, r->ip_literal,
                           r->connect ? scheme : "http",
                           &c->rule, &reason, sentence, sizeof(sentence));
        if (v < 0) {
                reject(c, 403, reason, sentence);
                return;
        }
        if (c->up && !r->connect && strcmp(c->up_host, r->host) == 0 &&
            c->up_port == r->port && c->up_ip == r->ip_literal) {
                c->connected = true; /* the same upstream, kept alive */
                snprintf(c->upstream, sizeof(c->upstream), "%s", c->up_addr);
                start_forward(c);
                return;
        }
        if (c->up)
                drop_parked(c);
        c->st = ST_DIAL;
        bufferevent_disable(c->down, EV_READ);
        c->dial = upstream_dial(c->n, r->host, r->port, r->ip_literal,
                                on_dialled, c);
        if (!c->dial)
                reject(c, 502, "internal", "agentbox: out of memory");
}

/* The head (or SOCKS request) must be complete within NET_HEAD_TIMEOUT_S
 * of the connection's start, however slowly it trickles in. */
static bool head_deadline(struct conn *c)
{
        double left = NET_HEAD_TIMEOUT_S * 1e3 - ms_since(&c->start);
        if (left <= 0) {
                reject(c, 400, "head-timeout",
                       "agentbox: no complete request within 30 s");
                return false;
        }
        struct timeval t = {(time_t)(left / 1e3),
                            (suseconds_t)((long)left % 1000) * 1000};
        bufferevent_set_timeouts(c->down, &t, NULL);
        return true;
}

static void on_head(struct bufferevent *bev, void *arg)
{
        struct conn *c = arg;
        if (!head_deadline(c))
                return;
        if (!read_head(c, bufferevent_get_input(bev)))
                return;
        /* A request with a body: what followed the head in this read is
         * body, fed through the parser once the upstream is there. */
        decide(c);
}

/* SOCKS5: greeting, then one CONNECT request; the rest is tunnel. */
static void on_socks(struct bufferevent *bev, void *arg)
{
        struct conn *c = arg;
        if (!head_deadline(c))
                return;
        struct evbuffer *in = bufferevent_get_input(bev);
        for (;;) {
                size_t avail = evbuffer_get_length(in);
                if (avail > 1024) { /* far more than any greeting or request */
                        reject(c, 400, "bad-request",
                               "agentbox: oversized SOCKS5 message");
                        return;
                }
                uint8_t answer[2] = {5, 0xff};
                bool greeted = c->sreq.greeted;
                ssize_t n = socks_feed(&c->sreq, evbuffer_pullup(in, -1),
                                       avail, answer);
                if (n < 0 && !greeted) {
                        bufferevent_write(bev, answer, 2); /* no method */
                        log_conn(c, "error", "bad-request", c->sreq.err);
                        finish(c);
                        return;
                }
                if (n < 0) {
                        uint8_t rep[10];
                        socks_reply(rep, c->sreq.reply);
                        bufferevent_write(bev, rep, sizeof(rep));
                        finish(c);
                        return;
                }
                if (n == 0)
                        return;
                evbuffer_drain(in, (size_t)n);
                if (!greeted) {
                        bufferevent_write(bev, answer, 2);
                        continue;
                }
                struct http_req *r = &c->req;
                snprintf(r->host, sizeof(r->host), "%s", c->sreq.host);
                r->port = c->sreq.port;
                r->ip_literal = c->sreq.ip;
                r->connect = true;
                r->head_done = true;
                decide(c);
                return;
        }
}

static void on_head_event(struct bufferevent *bev, short what, void *arg)
{
        (void)bev;
        struct conn *c = arg;
        if (c->refusal) { /* the request never came whole: say it anyway */
                reject(c, c->refusal_status, c->refusal_reason, c->refusal);
                return;
        }
        if ((what & BEV_EVENT_TIMEOUT) &&
            !(c->served && !evbuffer_get_length(bufferevent_get_input(bev)))) {
                reject(c, 400, "head-timeout",
                       "agentbox: no complete request within 30 s");
                return;
        }
        finish(c); /* closed, or a kept-alive connection left idle */
}

/* A transparent connection: the address the box dialled is one the DNS
 * stub gave out, and names the host. */
static void accept_transparent(struct conn *c, evutil_socket_t fd)
{
        struct sockaddr_in sa;
        socklen_t len = sizeof(sa);
        const char *name = NULL;
        uint16_t port = 0;
        if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 &&
            sa.sin_family == AF_INET) {
                name = net_mapped_name(c->n, sa.sin_addr.s_addr);
                port = ntohs(sa.sin_port);
        }
        struct http_req *r = &c->req;
        r->port = port;
        r->connect = true;
        r->head_done = true;
        if (!name) {
                char ip[INET_ADDRSTRLEN] = "?";
                inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
                snprintf(r->host, sizeof(r->host), "%s", ip);
                char sentence[512];
                snprintf(sentence, sizeof(sentence),
                         "agentbox: blocked a connection to %s:%u (not an "
                         "address the box's DNS gave out: the box reaches "
                         "hosts by name)",
                         ip, port);
                reject(c, 403, "address-not-mapped", sentence);
                return;
        }
        snprintf(r->host, sizeof(r->host), "%s", name);
        decide(c);
}

static void accept_conn(struct net *n, evutil_socket_t fd,
                        enum proxy_kind kind)
{
        if (n->nconns >= NET_MAX_CONNS) {
                net_note_overload(n);
                evutil_closesocket(fd);
                return;
        }
        struct conn *c = calloc(1, sizeof(*c));
        if (!c) {
                evutil_closesocket(fd);
                return;
        }
        int one = 1; /* relayed pieces go on at once, not after an ACK */
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->n = n;
        c->kind = kind;
        n->nconns++;
        c->next = n->conns;
        if (n->conns)
                n->conns->prev = c;
        n->conns = c;
        http_req_init(&c->req);
        clock_gettime(CLOCK_MONOTONIC, &c->start);
        c->down = bufferevent_socket_new(n->base, fd,
                                         BEV_OPT_CLOSE_ON_FREE |
                                                 BEV_OPT_DEFER_CALLBACKS);
        if (!c->down) {
                evutil_closesocket(fd);
                conn_free(c);
                return;
        }
        struct timeval t = {NET_HEAD_TIMEOUT_S, 0};
        bufferevent_set_timeouts(c->down, &t, NULL);
        bufferevent_setcb(c->down, kind == PROXY_SOCKS ? on_socks : on_head,
                          NULL,
                          on_head_event, c);
        bufferevent_enable(c->down, EV_READ | EV_WRITE);
        if (kind == PROXY_TRANSPARENT)
                accept_transparent(c, fd);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
                      struct sockaddr *sa, int salen, void *arg)
{
        (void)sa;
        (void)salen;
        struct net *n = arg;
        enum proxy_kind kind = PROXY_TRANSPARENT; /* told apart by listener */
        if (l == n->http)
                kind = PROXY_HTTP;
        else if (l == n->socks)
                kind = PROXY_SOCKS;
        accept_conn(n, fd, kind);
}

struct evconnlistener *proxy_listen(struct net *n, int fd)
{
        return evconnlistener_new(n->base, on_accept, n,
                                  LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                                  -1, fd);
}

void proxy_free_all(struct net *n)
{
        /* the box has ended: what was still open is logged with its bytes
         * so far */
        while (n->conns) {
                if (n->conns->connected)
                        log_conn(n->conns, "allow", "box-exited", NULL);
                conn_free(n->conns);
        }
}
