/* Box side of the network: create the listening sockets inside the box's
 * network namespace and hand them to the supervisor (SCM_RIGHTS), which
 * serves them from the host's namespace.  No bridge process, no socket
 * file visible in the box. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "common/handoff.h"

static int bound(int type, uint32_t addr, uint16_t port)
{
        int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                box_die_errno(errno, "socket for the box's network");
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in sa = {
                .sin_family = AF_INET,
                .sin_port = htons(port),
                .sin_addr.s_addr = htonl(addr),
        };
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                box_die_errno(errno, "binding %s:%u in the box",
                              addr ? "127.0.0.1" : "0.0.0.0", port);
        if (type == SOCK_STREAM && listen(fd, 128) < 0)
                box_die_errno(errno, "listen on port %u in the box", port);
        return fd;
}

static void add(struct handoff_msg *m, int *fds, enum handoff_kind kind,
                int type, uint32_t addr, uint16_t port)
{
        fds[m->count] = bound(type, addr, port);
        m->ports[m->count] = port;
        m->kinds[m->count++] = kind;
}

void box_net_handoff(int sock, const struct policy *p)
{
        struct handoff_msg m = {.magic = HANDOFF_MAGIC};
        int fds[HANDOFF_MAX];
        add(&m, fds, HANDOFF_HTTP, SOCK_STREAM, INADDR_LOOPBACK,
            HANDOFF_HTTP_PORT);
        add(&m, fds, HANDOFF_SOCKS, SOCK_STREAM, INADDR_LOOPBACK,
            HANDOFF_SOCKS_PORT);
        add(&m, fds, HANDOFF_DNS_UDP, SOCK_DGRAM, INADDR_LOOPBACK,
            HANDOFF_DNS_PORT);
        add(&m, fds, HANDOFF_DNS_TCP, SOCK_STREAM, INADDR_LOOPBACK,
            HANDOFF_DNS_PORT);
        /* Any address: the DNS stub's answers are all over 127.0.0.0/8,
         * and the supervisor tells them apart with getsockname(). */
        uint16_t ports[POLICY_TRANSPARENT_MAX];
        struct ab_err err = {0};
        int n = policy_transparent_ports(p, ports, &err);
        if (n < 0)
                box_die_errno(-n, "%s", err.msg);
        for (int i = 0; i < n; i++)
                add(&m, fds, HANDOFF_TRANSPARENT, SOCK_STREAM, INADDR_ANY,
                    ports[i]);
        int r = handoff_send(sock, &m, fds);
        if (r < 0)
                box_die_errno(-r, "handing the box's listeners to agentbox");
        for (uint32_t i = 0; i < m.count; i++)
                close(fds[i]);
        close(sock);
}
