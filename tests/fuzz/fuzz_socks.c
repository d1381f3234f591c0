/* libFuzzer target: the SOCKS5 reader, fed in small pieces as a client
 * might send them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/socks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 2048 || size == 0)
                return 0;
        /* first byte: how many bytes arrive per read */
        size_t step = (size_t)(data[0] % 16) + 1;
        data++;
        size--;
        struct socks_req r = {0};
        uint8_t ans[2];
        size_t off = 0, have = 0;
        while (off < size && !r.done) {
                have = have + step < size - off ? have + step : size - off;
                ssize_t n = socks_feed(&r, data + off, have, ans);
                if (n < 0) {
                        if (!r.err[0])
                                abort();
                        break;
                }
                if ((size_t)n > have)
                        abort();
                if (n > 0) {
                        off += (size_t)n;
                        have = 0;
                } else if (have == size - off) {
                        break;
                }
        }
        if (r.done && (!r.host[0] || !r.port || strlen(r.host) > 253))
                abort();
        return 0;
}
