/* Reading the server name (SNI) from a TLS ClientHello, to compare it with
 * the name a tunnel was allowed for: a client that connects to an allowed
 * name and then asks the server for another one (domain fronting) is
 * refused.  Only the first record is read; nothing is decrypted. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define TLS_RECORD_MAX (5 + 16384)

enum {
        TLS_MORE = 0,     /* the ClientHello is not complete yet */
        TLS_NOT_TLS = -1, /* the client does not start with a handshake */
        TLS_BAD = -2,     /* a malformed ClientHello; err says how */
};

/* buf holds the first len bytes the client sent.  Returns the length of
 * the record holding the ClientHello, with sni set to its server name
 * (normalised: lower case, no trailing dot) or "" when it sends none; or
 * one of the codes above.  err (at least 128 bytes) says why for TLS_BAD. */
int tls_client_hello_sni(const uint8_t *buf, size_t len, char *sni,
                         size_t snilen, char *err, size_t errlen);
