/* libFuzzer target: the proxy's request reader (the head up to the blank
 * line, then body bytes in small reads), in the proxy's and in a
 * transparent listener's view; and the same bytes as an upstream's answer
 * to the response reader, whose skipped-body accounting must agree with
 * what it was fed. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void response(const uint8_t *data, size_t size, bool head)
{
        struct http_resp r;
        http_resp_init(&r, head);
        size_t off = 0;
        while (off < size && !r.msg_done) {
                size_t chunk = (size - off) < 13 ? size - off : 13;
                ssize_t m = http_resp_feed(&r, (const char *)data + off, chunk);
                if (m < 0)
                        return;
                if ((size_t)m > chunk)
                        abort();
                off += (size_t)m;
                uint64_t left = http_resp_body_left(&r);
                if (left && off < size) { /* pretend some went by splice */
                        uint64_t skip = left < 5 ? left : 5;
                        http_resp_skip(&r, skip);
                        off += (size_t)(skip < size - off ? skip : size - off);
                }
                if ((size_t)m < chunk && !r.msg_done)
                        return;
        }
        if (!r.msg_done)
                (void)http_resp_feed(&r, "", 0); /* the upstream closed */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 65536 || size == 0)
                return 0;
        response(data, size, data[0] & 1);
        /* the tunnel classifier: a verdict for every prefix, and never
         * "not HTTP" for a prefix of what it calls HTTP */
        enum http_first all = http_classify_first((const char *)data, size,
                                                  HTTP_HEAD_MAX);
        for (size_t k = 0; all == HTTP_YES && k < size && k < 512; k++)
                if (http_classify_first((const char *)data, k,
                                        HTTP_HEAD_MAX) == HTTP_NOT)
                        abort();
        bool transparent = data[0] & 2;
        struct http_req r;
        if (transparent)
                http_req_init_transparent(&r, "example.com", 80);
        else
                http_req_init(&r);
        size_t head = http_head_length((const char *)data,
                                       size < HTTP_HEAD_MAX ? size
                                                            : HTTP_HEAD_MAX);
        if (head) {
                ssize_t n = http_req_feed(&r, (const char *)data, head);
                if (n < 0 && (r.status < 400 || !r.err[0]))
                        abort(); /* every refusal has a status and reason */
                if (n >= 0 && r.head_done) {
                        if (!r.host[0] || !r.port)
                                abort();
                        if (!r.connect) {
                                size_t len = 0;
                                char *out = http_req_render(&r, &len);
                                /* the rendered head ends the request */
                                if (out && (len < 4 ||
                                            memcmp(out + len - 4, "\r\n\r\n", 4)))
                                        abort();
                                free(out);
                        }
                        size_t off = head;
                        while (off < size && !r.msg_done) {
                                size_t chunk = (size - off) < 7 ? size - off : 7;
                                ssize_t m = http_req_feed(
                                        &r, (const char *)data + off, chunk);
                                if (m < 0)
                                        break;
                                if ((size_t)m > chunk)
                                        abort();
                                off += chunk;
                        }
                }
        }
        http_req_free(&r);
        return 0;
}
