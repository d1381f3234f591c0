/* libFuzzer target: the DNS stub's query reader and reply writer, on
 * whatever bytes the box sends to 127.0.0.1:53. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > DNS_MSG_MAX)
                return 0;
        struct dns_query q;
        if (dns_parse_query(data, size, &q) < 0)
                return 0;
        if (q.question_end > size || strlen(q.name) > 253)
                abort();
        if (q.rcode == DNS_NOERROR && (!q.name[0] || !q.question_end))
                abort();
        uint8_t out[DNS_REPLY_MAX];
        static const uint8_t addr[4] = {127, 100, 0, 1};
        size_t n = dns_build_reply(data, &q, q.rcode, q.rcode ? NULL : addr,
                                   out);
        if (n < 12 || n > DNS_REPLY_MAX)
                abort();
        /* a reply is never read back as a query */
        struct dns_query again;
        if (dns_parse_query(out, n, &again) != -1)
                abort();
        return 0;
}
