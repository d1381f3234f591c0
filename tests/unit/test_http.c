/* Data-driven cases for the proxy's request reader: tests/data/http/NAME.req
 * holds the bytes the box sends, NAME.expect the verdict, target, how much
 * body belongs to the request, and the exact head sent upstream. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http.h"

#ifndef DATA_DIR
#error DATA_DIR must be set
#endif

static char *slurp(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        cr_assert(f, "%s", path);
        char *buf = malloc(1 << 20);
        *len = fread(buf, 1, (1 << 20) - 1, f);
        buf[*len] = 0;
        fclose(f);
        return buf;
}

/* The .expect format writes \r and \n as escapes. */
static void escape(const char *in, size_t n, char *out, size_t cap)
{
        size_t o = 0;
        for (size_t i = 0; i < n && o + 3 < cap; i++) {
                if (in[i] == '\r') {
                        out[o++] = '\\';
                        out[o++] = 'r';
                } else if (in[i] == '\n') {
                        out[o++] = '\\';
                        out[o++] = 'n';
                } else {
                        out[o++] = in[i];
                }
        }
        out[o] = 0;
}

static void run_case(const char *name)
{
        char path[512];
        size_t len, elen;
        snprintf(path, sizeof(path), "%s/%s.req", DATA_DIR, name);
        char *req = slurp(path, &len);
        snprintf(path, sizeof(path), "%s/%s.expect", DATA_DIR, name);
        char *expect = slurp(path, &elen);

        /* transparent-*: what a server for example.com:80 in the box's DNS
         * receives, rather than the proxy */
        struct http_req r;
        if (strncmp(name, "transparent-", 12) == 0)
                http_req_init_transparent(&r, "example.com", 80);
        else
                http_req_init(&r);
        char got[8192];
        size_t g = 0;
        size_t head = http_head_length(req, len);
        ssize_t n = head ? http_req_feed(&r, req, head) : -1;
        if (n < 0) {
                g += (size_t)snprintf(got + g, sizeof(got) - g,
                                      "verdict=error\nstatus=%d\n",
                                      head ? r.status : 400);
        } else {
                g += (size_t)snprintf(got + g, sizeof(got) - g,
                                      "verdict=%s\nhost=%s\nport=%u\n",
                                      r.connect ? "connect" : "forward",
                                      r.host, r.port);
                if (r.ip_literal)
                        g += (size_t)snprintf(got + g, sizeof(got) - g,
                                              "ip=1\n");
                if (r.keep_alive)
                        g += (size_t)snprintf(got + g, sizeof(got) - g,
                                              "keep-alive=1\n");
                if (!r.connect) {
                        ssize_t b = head < len ? http_req_feed(&r, req + head,
                                                              len - head)
                                               : 0;
                        if (b > 0)
                                g += (size_t)snprintf(got + g, sizeof(got) - g,
                                                      "body=%zd\n", b);
                        size_t hl = 0;
                        char *out = http_req_render(&r, &hl);
                        char esc[4096];
                        escape(out, hl, esc, sizeof(esc));
                        g += (size_t)snprintf(got + g, sizeof(got) - g,
                                              "upstream=%s\n", esc);
                        free(out);
                }
        }
        if (getenv("AGENTBOX_WRITE_CASES")) { /* regenerate, then review */
                snprintf(path, sizeof(path), "%s/%s.expect", DATA_DIR, name);
                FILE *f = fopen(path, "w");
                cr_assert(f);
                fputs(got, f);
                fclose(f);
        }
        cr_expect_str_eq(got, expect, "case %s:\n%s", name, got);
        if (n < 0 && head)
                cr_expect(r.err[0], "case %s: no reason given", name);
        http_req_free(&r);
        free(req);
        free(expect);
}

Test(http, data_cases)
{
        DIR *d = opendir(DATA_DIR);
        cr_assert(d, "%s", DATA_DIR);
        int n = 0;
        for (struct dirent *e; (e = readdir(d));) {
                size_t l = strlen(e->d_name);
                if (l < 5 || strcmp(e->d_name + l - 4, ".req"))
                        continue;
                char name[256];
                snprintf(name, sizeof(name), "%.*s", (int)(l - 4), e->d_name);
                run_case(name);
                n++;
        }
        closedir(d);
        cr_assert_geq(n, 16, "only %d cases found", n);
}

/* The response reader: where each answer ends. */
static ssize_t resp(const char *bytes, bool head, struct http_resp *r)
{
        http_resp_init(r, head);
        return http_resp_feed(r, bytes, strlen(bytes));
}

Test(http, response_ends)
{
        struct http_resp r;
        const char *cl = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA";
        cr_assert_eq(resp(cl, false, &r), (ssize_t)strlen(cl) - 5);
        cr_assert(r.msg_done && r.keep_alive);
        const char *chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                              "\r\n5\r\nhello\r\n0\r\n\r\n";
        cr_assert_eq(resp(chunked, false, &r), (ssize_t)strlen(chunked));
        cr_assert(r.msg_done && r.keep_alive);
        /* HEAD: no body, whatever Content-Length says */
        const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n";
        cr_assert_eq(resp(head, true, &r), (ssize_t)strlen(head));
        cr_assert(r.msg_done);
        /* 100 Continue is passed over to the real answer */
        const char *cont = "HTTP/1.1 100 Continue\r\n\r\n"
                           "HTTP/1.1 204 No Content\r\n\r\n";
        cr_assert_eq(resp(cont, false, &r), (ssize_t)strlen(cont));
        cr_assert(r.msg_done);
        cr_assert_eq(r.status, 204);
        /* the upstream closing ends a body without a length */
        const char *eof = "HTTP/1.1 200 OK\r\n\r\nall of it";
        cr_assert_eq(resp(eof, false, &r), (ssize_t)strlen(eof));
        cr_assert_not(r.msg_done);
        cr_assert_eq(http_resp_feed(&r, "", 0), 0);
        cr_assert(r.msg_done);
        cr_assert_not(r.keep_alive);
        /* Connection: close and HTTP/1.0 end the connection */
        cr_assert_geq(resp("HTTP/1.1 200 OK\r\nConnection: close\r\n"
                           "Content-Length: 0\r\n\r\n", false, &r), 0);
        cr_assert(r.msg_done && !r.keep_alive);
        cr_assert_geq(resp("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
                           false, &r), 0);
        cr_assert(r.msg_done && !r.keep_alive);
        /* 304 and 204 have no body, whatever their headers say */
        const char *nm = "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n";
        cr_assert_eq(resp(nm, false, &r), (ssize_t)strlen(nm));
        cr_assert(r.msg_done && r.keep_alive);
        /* garbage */
        cr_assert_eq(resp("SSH-2.0-x\r\n", false, &r), -1);
        cr_assert_eq(resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
                          "Content-Length: 2\r\n\r\n", false, &r), -1);
}
