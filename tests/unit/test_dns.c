/* The DNS stub's reader and writer: what the box may send, and what it is
 * answered. */
#include <criterion/criterion.h>
#include <string.h>

#include "net/dns.h"

/* A query for name (dotted) of type t, with flags RD. */
static size_t query(uint8_t *b, const char *name, uint16_t t)
{
        uint8_t hdr[12] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
        memcpy(b, hdr, 12);
        size_t o = 12;
        const char *p = name;
        while (*p) {
                size_t l = strcspn(p, ".");
                b[o++] = (uint8_t)l;
                memcpy(b + o, p, l);
                o += l;
                p += l;
                if (*p == '.')
                        p++;
        }
        b[o++] = 0;
        b[o++] = (uint8_t)(t >> 8);
        b[o++] = (uint8_t)t;
        b[o++] = 0;
        b[o++] = 1;
        return o;
}

Test(dns, parses_a_query)
{
        uint8_t b[512];
        size_t n = query(b, "Api.Example.COM", DNS_TYPE_A);
        struct dns_query q;
        cr_assert_eq(dns_parse_query(b, n, &q), 0);
        cr_assert_eq(q.rcode, DNS_NOERROR);
        cr_assert_str_eq(q.name, "api.example.com");
        cr_assert_eq(q.qtype, DNS_TYPE_A);
        cr_assert_eq(q.id, 0x1234);
        cr_assert_eq(q.question_end, n);
}

Test(dns, answers_a_with_the_mapped_address)
{
        uint8_t b[512], out[DNS_REPLY_MAX];
        size_t n = query(b, "example.com", DNS_TYPE_A);
        struct dns_query q;
        cr_assert_eq(dns_parse_query(b, n, &q), 0);
        uint8_t addr[4] = {127, 100, 0, 1};
        size_t r = dns_build_reply(b, &q, DNS_NOERROR, addr, out);
        cr_assert_eq(r, n + 16);
        cr_assert_eq(out[0], 0x12);
        cr_assert_eq(out[2] & 0x80, 0x80, "QR set");
        cr_assert_eq(out[2] & 0x01, 0x01, "RD echoed");
        cr_assert_eq(out[3] & 0x0f, 0, "NOERROR");
        cr_assert_eq(out[7], 1, "one answer");
        cr_assert_eq(memcmp(out + 12, b + 12, n - 12), 0, "question echoed");
        cr_assert_eq(memcmp(out + n + 12, addr, 4), 0);
        /* and the reply is not itself taken as a query */
        cr_assert_eq(dns_parse_query(out, r, &q), -1);
}

Test(dns, aaaa_gets_an_empty_answer_and_denied_nxdomain)
{
        uint8_t b[512], out[DNS_REPLY_MAX];
        size_t n = query(b, "example.com", DNS_TYPE_AAAA);
        struct dns_query q;
        cr_assert_eq(dns_parse_query(b, n, &q), 0);
        size_t r = dns_build_reply(b, &q, DNS_NOERROR, NULL, out);
        cr_assert_eq(r, n);
        cr_assert_eq(out[7], 0);
        r = dns_build_reply(b, &q, DNS_NXDOMAIN, NULL, out);
        cr_assert_eq(out[3] & 0x0f, DNS_NXDOMAIN);
}

Test(dns, refuses_what_cannot_name_a_host)
{
        uint8_t b[512];
        struct dns_query q;
        size_t n = query(b, "ex ample.com", DNS_TYPE_A);
        cr_assert_eq(dns_parse_query(b, n, &q), 0);
        cr_assert_eq(q.rcode, DNS_NXDOMAIN);
        /* a compression pointer in the question */
        n = query(b, "example.com", DNS_TYPE_A);
        b[12] = 0xc0;
        cr_assert_eq(dns_parse_query(b, n, &q), 0);
        cr_assert_neq(q.rcode, DNS_NOERROR);
        /* a label that runs past the end */
        n = query(b, "example.com", DNS_TYPE_A);
        b[12] = 60;
        cr_assert_eq(dns_parse_query(b, n, &q), 0);
        cr_assert_neq(q.rcode, DNS_NOERROR);
        /* two questions */
        n = query(b, "example.com", DNS_TYPE_A);
        b[5] = 2;
        cr_assert_eq(dns_parse_query(b, n, &q), 0);
        cr_assert_eq(q.rcode, DNS_FORMERR);
        /* not a QUERY */
        n = query(b, "example.com", DNS_TYPE_A);
        b[2] = 0x28; /* opcode 5, UPDATE */
        cr_assert_eq(dns_parse_query(b, n, &q), 0);
        cr_assert_eq(q.rcode, DNS_NOTIMP);
        /* class CH */
        n = query(b, "example.com", DNS_TYPE_A);
        b[n - 1] = 3;
        cr_assert_eq(dns_parse_query(b, n, &q), 0);
        cr_assert_eq(q.rcode, DNS_REFUSED);
        /* too short for a header: dropped */
        cr_assert_eq(dns_parse_query(b, 11, &q), -1);
}

Test(dns, a_name_over_253_characters_is_refused)
{
        uint8_t b[600];
        char name[300];
        memset(name, 'a', sizeof(name));
        for (int i = 63; i < 299; i += 64)
                name[i] = '.';
        name[299] = 0;
        size_t n = query(b, name, DNS_TYPE_A);
        struct dns_query q;
        cr_assert_eq(dns_parse_query(b, n, &q), 0);
        cr_assert_neq(q.rcode, DNS_NOERROR);
}

Test(dns, an_error_reply_without_a_question_is_a_header)
{
        uint8_t b[512], out[DNS_REPLY_MAX];
        size_t n = query(b, "example.com", DNS_TYPE_A);
        b[5] = 0; /* no question */
        struct dns_query q;
        cr_assert_eq(dns_parse_query(b, n, &q), 0);
        size_t r = dns_build_reply(b, &q, q.rcode, NULL, out);
        cr_assert_eq(r, 12);
        cr_assert_eq(out[3] & 0x0f, DNS_FORMERR);
        cr_assert_eq(out[5], 0);
}
