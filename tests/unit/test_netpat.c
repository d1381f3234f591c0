#include <criterion/criterion.h>
#include <ifaddrs.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "policy/netpat.h"
#include "policy/policy.h"

static struct netpat_list list(const char *const *pats)
{
        struct netpat_list l = {0};
        struct ab_err err = {0};
        for (; *pats; pats++)
                cr_assert_eq(netpat_list_add(&l, *pats, "--allow", &err), 0,
                             "%s: %s", *pats, err.msg);
        return l;
}

Test(netpat, names_and_suffixes)
{
        const char *pats[] = {"example.com", "*.githubusercontent.com",
                              "pypi.org:443", "Upper.Example.NET.", NULL};
        struct netpat_list l = list(pats);
        cr_assert(netpat_match_name(&l, "example.com", 443));
        cr_assert_null(netpat_match_name(&l, "www.example.com", 443));
        cr_assert_null(netpat_match_name(&l, "badexample.com", 443));
        cr_assert(netpat_match_name(&l, "raw.githubusercontent.com", 443));
        cr_assert(netpat_match_name(&l, "a.b.githubusercontent.com", 80));
        cr_assert_null(netpat_match_name(&l, "githubusercontent.com", 443));
        cr_assert_null(netpat_match_name(&l, "evilgithubusercontent.com", 443));
        cr_assert(netpat_match_name(&l, "pypi.org", 443));
        cr_assert_null(netpat_match_name(&l, "pypi.org", 80));
        cr_assert(netpat_match_name(&l, "upper.example.net", 1));
        netpat_list_free(&l);
}

Test(netpat, refuses_broad_and_bad)
{
        const char *bad[] = {"*",          "*.com",       "com",
                             "*.co.uk",    "co.uk",       "-a.com", "a-.com",
                             "exa*mple.com", "*.*.example.com", "a..b",
                             "example.com:0", "example.com:65536",
                             "example.com:x", "10.0.0.0/33", "::1/129",
                             "[::1", "bad host", "", "-",
                             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
                             NULL};
        for (const char *const *b = bad; *b; b++) {
                struct netpat p;
                struct ab_err err = {0};
                cr_assert_lt(netpat_parse(*b, &p, "--allow", &err), 0, "%s",
                             *b);
                cr_assert(strstr(err.msg, "--allow"), "%s: %s", *b, err.msg);
        }
        struct netpat p;
        struct ab_err err = {0};
        netpat_parse("*.com", &p, "--allow", &err);
        cr_assert(strstr(err.msg, "public suffix"), "%s", err.msg);
        /* a privately run shared suffix: allowed, flagged */
        cr_assert_eq(netpat_parse("*.githubusercontent.com", &p, "--allow", &err), 0);
        cr_assert(p.shared_suffix);
        cr_assert_eq(netpat_parse("*.example.com", &p, "--allow", &err), 0);
        cr_assert_not(p.shared_suffix);
        /* unknown TLDs are private names, not public suffixes */
        cr_assert_eq(netpat_parse("localhost", &p, "--allow", &err), 0);
        cr_assert_eq(netpat_parse("*.corp.internal", &p, "--allow", &err), 0);
}

static struct sockaddr_storage sa(const char *ip, uint16_t port)
{
        struct sockaddr_storage ss = {0};
        struct sockaddr_in *in = (void *)&ss;
        struct sockaddr_in6 *in6 = (void *)&ss;
        if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
                in->sin_family = AF_INET;
                in->sin_port = htons(port);
        } else {
                cr_assert_eq(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons(port);
        }
        return ss;
}

Test(netpat, addresses)
{
        const char *pats[] = {"127.0.0.1", "10.1.0.0/16", "[::1]:8080",
                              "2001:db8::/32", NULL};
        struct netpat_list l = list(pats);
        struct sockaddr_storage a;
        a = sa("127.0.0.1", 80);
        cr_assert(netpat_match_addr(&l, (void *)&a));
        a = sa("127.0.0.2", 80);
        cr_assert_null(netpat_match_addr(&l, (void *)&a));
        a = sa("10.1.200.3", 1);
        cr_assert(netpat_match_addr(&l, (void *)&a));
        a = sa("10.2.0.1", 1);
        cr_assert_null(netpat_match_addr(&l, (void *)&a));
        a = sa("::ffff:10.1.0.9", 1); /* v4-mapped counts as v4 */
        cr_assert(netpat_match_addr(&l, (void *)&a));
        a = sa("::1", 8080);
        cr_assert(netpat_match_addr(&l, (void *)&a));
        a = sa("::1", 8081);
        cr_assert_null(netpat_match_addr(&l, (void *)&a));
        a = sa("2001:db8:1::5", 443);
        cr_assert(netpat_match_addr(&l, (void *)&a));
        netpat_list_free(&l);
}

Test(netpat, internal_ranges)
{
        const char *internal[] = {"127.0.0.1", "127.9.9.9", "10.0.0.1",
                                  "172.16.0.1", "172.31.255.255",
                                  "192.168.1.1", "169.254.169.254",
                                  "100.64.0.1", "0.0.0.0", "224.0.0.1",
                                  "255.255.255.255", "::1", "::", "fd00::1",
                                  "fe80::1", "::ffff:127.0.0.1",
                                  "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe",
                                  "2002:7f00:1::", "::7f00:1", "::a9fe:a9fe",
                                  "64:ff9b:1::a00:1", "192.0.2.2",
                                  "198.51.100.7", "203.0.113.9",
                                  "2001:db8::1", "100::1", NULL};
        for (const char *const *i = internal; *i; i++) {
                struct sockaddr_storage a = sa(*i, 80);
                cr_assert(netpat_addr_is_internal((void *)&a), "%s", *i);
        }
        const char *external[] = {"93.184.216.34", "172.32.0.1", "1.1.1.1",
                                  "2606:4700::1111", "8.8.8.8",
                                  "64:ff9b:2::1", "192.0.3.1", NULL};
        for (const char *const *e = external; *e; e++) {
                struct sockaddr_storage a = sa(*e, 80);
                cr_assert_not(netpat_addr_is_internal((void *)&a), "%s", *e);
        }
}

Test(netpat, host_normalise)
{
        char out[256];
        cr_assert_eq(netpat_host_normalise("WWW.Example.COM.", out, sizeof(out)), 0);
        cr_assert_str_eq(out, "www.example.com");
        cr_assert_eq(netpat_host_normalise("a b", out, sizeof(out)), -EINVAL);
        cr_assert_eq(netpat_host_normalise("a..b", out, sizeof(out)), -EINVAL);
        cr_assert_eq(netpat_host_normalise(".", out, sizeof(out)), -EINVAL);
        cr_assert_eq(netpat_host_normalise("x%00y", out, sizeof(out)), -EINVAL);
}

Test(netpat, lookups_ask_about_any_port_and_port_less_denials)
{
        const char *pats[] = {"pypi.org:443", "*.example.com", NULL};
        struct netpat_list l = list(pats);
        /* the DNS stub answers a name allowed on some port */
        cr_assert(netpat_match_name_any(&l, "pypi.org"));
        cr_assert(netpat_match_name_any(&l, "a.example.com"));
        cr_assert_null(netpat_match_name_any(&l, "example.com"));
        /* port 0: only a pattern without a port covers the name itself */
        cr_assert_null(netpat_match_name(&l, "pypi.org", 0));
        cr_assert(netpat_match_name(&l, "a.example.com", 0));
        netpat_list_free(&l);
}

Test(netpat, transparent_ports)
{
        struct policy p;
        policy_init(&p);
        struct ab_err err = {0};
        uint16_t ports[POLICY_TRANSPARENT_MAX];
        cr_assert_eq(netpat_list_add(&p.allow, "a.example:22", "--allow", &err), 0);
        cr_assert_eq(netpat_list_add(&p.allow, "b.example:22", "--allow", &err), 0);
        cr_assert_eq(netpat_list_add(&p.allow, "c.example:3128", "--allow", &err), 0);
        cr_assert_eq(netpat_list_add(&p.allow, "10.0.0.1:5432", "--allow", &err), 0);
        cr_assert_eq(policy_transparent_ports(&p, ports, &err), 3);
        cr_assert_eq(ports[0], 22);
        cr_assert_eq(ports[1], 80);
        cr_assert_eq(ports[2], 443);
        for (int i = 0; i < 20; i++) {
                char s[64];
                snprintf(s, sizeof(s), "x.example:%d", 2000 + i);
                cr_assert_eq(netpat_list_add(&p.allow, s, "--allow", &err), 0);
        }
        cr_assert_eq(policy_transparent_ports(&p, ports, &err), -E2BIG);
        cr_assert(strstr(err.msg, "more than 16 ports"), "%s", err.msg);
        p.net = POLICY_NET_OFF;
        cr_assert_eq(policy_transparent_ports(&p, ports, &err), 0);
        policy_free(&p);
}

Test(netpat, premapped_names)
{
        struct policy p;
        policy_init(&p);
        struct ab_err err = {0};
        const char *allow[] = {"a.example", "*.b.example", "a.example:443",
                               "c.example", "10.0.0.1", "d.example:22", NULL};
        for (int i = 0; allow[i]; i++)
                cr_assert_eq(netpat_list_add(&p.allow, allow[i], "--allow", &err), 0);
        cr_assert_eq(netpat_list_add(&p.deny, "c.example", "--deny", &err), 0);
        const char *names[POLICY_PREMAPPED_MAX];
        cr_assert_eq(policy_premapped_names(&p, names), 2);
        cr_assert_str_eq(names[0], "a.example");
        cr_assert_str_eq(names[1], "d.example");
        p.net = POLICY_NET_OFF;
        cr_assert_eq(policy_premapped_names(&p, names), 0);
        policy_free(&p);
}

static int no_ifaddrs(struct ifaddrs **out)
{
        (void)out;
        errno = EMFILE;
        return -1;
}

/* The host's own addresses read when they cannot be: before any read,
 * every address counts as internal (nothing is dialled that the policy
 * does not name); after one, that read stands. */
Test(netpat, host_ranges_that_cannot_be_read_fail_closed)
{
        struct sockaddr_storage out = sa("8.8.8.8", 443);
        netpat_getifaddrs = no_ifaddrs;
        netpat_internal_add_host();
        cr_assert(netpat_addr_is_internal((void *)&out));
        netpat_getifaddrs = getifaddrs;
        netpat_internal_add_host();
        cr_assert_not(netpat_addr_is_internal((void *)&out));
        /* a later failure keeps the last read: 8.8.8.8 stays outside */
        netpat_getifaddrs = no_ifaddrs;
        netpat_internal_add_host();
        cr_assert_not(netpat_addr_is_internal((void *)&out));
        netpat_getifaddrs = getifaddrs;
}
