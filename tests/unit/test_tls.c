/* The ClientHello reader: real hellos captured from openssl s_client
 * (tests/data/tls/), cut short, and damaged. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/tls.h"

#ifndef TLS_DIR
#error TLS_DIR must be set
#endif

static uint8_t *load(const char *name, size_t *len)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", TLS_DIR, name);
        FILE *f = fopen(path, "rb");
        cr_assert(f, "%s", path);
        uint8_t *b = malloc(TLS_RECORD_MAX);
        *len = fread(b, 1, TLS_RECORD_MAX, f);
        fclose(f);
        return b;
}

static int sni_of(const uint8_t *b, size_t len, char *sni)
{
        char err[160];
        return tls_client_hello_sni(b, len, sni, 254, err, sizeof(err));
}

Test(tls, reads_the_server_name)
{
        size_t len;
        uint8_t *b = load("sni-example.bin", &len);
        char sni[254];
        cr_assert_eq(sni_of(b, len, sni), (int)len);
        cr_assert_str_eq(sni, "example.com");
        free(b);
        b = load("tls12-sni.bin", &len);
        cr_assert_eq(sni_of(b, len, sni), (int)len);
        cr_assert_str_eq(sni, "example.com", "normalised to lower case");
        free(b);
}

Test(tls, no_server_name_is_empty)
{
        size_t len;
        uint8_t *b = load("no-sni.bin", &len);
        char sni[254];
        cr_assert_eq(sni_of(b, len, sni), (int)len);
        cr_assert_str_eq(sni, "");
        free(b);
}

Test(tls, waits_for_the_whole_record)
{
        size_t len;
        uint8_t *b = load("sni-example.bin", &len);
        char sni[254];
        for (size_t i = 0; i < len; i++)
                cr_assert_eq(sni_of(b, i, sni), TLS_MORE, "at %zu", i);
        free(b);
}

Test(tls, other_protocols_are_not_tls)
{
        char sni[254];
        cr_assert_eq(sni_of((const uint8_t *)"SSH-2.0-x\r\n", 11, sni),
                     TLS_NOT_TLS);
        cr_assert_eq(sni_of((const uint8_t *)"GET / HTTP/1.1\r\n", 16, sni),
                     TLS_NOT_TLS);
}

Test(tls, damage_is_refused)
{
        size_t len;
        uint8_t *b = load("sni-example.bin", &len);
        char sni[254];
        /* the handshake says it is longer than its record: split hello */
        uint8_t *c = malloc(len);
        memcpy(c, b, len);
        c[7] = (uint8_t)(c[7] + 1);
        cr_assert_eq(sni_of(c, len, sni), TLS_BAD);
        /* not a ClientHello */
        memcpy(c, b, len);
        c[5] = 2;
        cr_assert_eq(sni_of(c, len, sni), TLS_BAD);
        /* a record over 16 KiB */
        memcpy(c, b, len);
        c[3] = 0x48;
        cr_assert_eq(sni_of(c, len, sni), TLS_BAD);
        /* every truncation of the hello inside its record, with the
         * lengths made to agree, is refused or read, never overrun */
        for (size_t cut = 9; cut < len; cut++) {
                memcpy(c, b, len);
                size_t rl = cut - 5, hl = cut - 9;
                c[3] = (uint8_t)(rl >> 8);
                c[4] = (uint8_t)rl;
                c[6] = 0;
                c[7] = (uint8_t)(hl >> 8);
                c[8] = (uint8_t)hl;
                int r = sni_of(c, cut, sni);
                cr_assert(r == TLS_BAD || r == (int)cut, "cut %zu: %d", cut, r);
        }
        free(c);
        free(b);
}
