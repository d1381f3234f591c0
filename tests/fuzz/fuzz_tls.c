/* libFuzzer target: the ClientHello reader, on the first bytes a client in
 * the box sends through a tunnel. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > TLS_RECORD_MAX)
                return 0;
        char sni[254], err[160];
        err[0] = 0;
        int r = tls_client_hello_sni(data, size, sni, sizeof(sni), err,
                                     sizeof(err));
        if (r > 0 && ((size_t)r > size || strlen(sni) > 253))
                abort();
        if (r == TLS_BAD && !err[0])
                abort();
        if (r < TLS_BAD)
                abort();
        return 0;
}
