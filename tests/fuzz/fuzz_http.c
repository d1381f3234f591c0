/* libFuzzer target: the proxy's request reader.  The input is split in
 * two at its first byte's value, like bytes arriving in two reads: the
 * head (up to the blank line) and then body bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 65536)
                return 0;
        struct http_req r;
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
