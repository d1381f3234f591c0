/* Box side of the network: create the listening sockets inside the box's
 * network namespace and hand them to the supervisor (SCM_RIGHTS), which
 * serves them from the host's namespace.  No bridge process, no socket
 * file visible in the box.  box_net_listen runs in the helper that makes
 * the namespace (child.c), beside the box's own thread of setup: it only
 * makes system calls, never allocates, never exits, and says what failed
 * in the listeners for the box to report. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "common/handoff.h"

/* A socket of type bound to addr:port (listening, if a stream), or
 * -errno with what failed in *why. */
static int bound(int type, uint32_t addr, uint16_t port, const char **why)
{
        int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                *why = "socket for the box's network";
                return box_helper_errno();
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in sa = {
                .sin_family = AF_INET,
                .sin_port = htons(port),
                .sin_addr.s_addr = htonl(addr),
        };
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                *why = addr ? "binding 127.0.0.1 in the box"
                            : "binding 0.0.0.0 in the box";
                int e = box_helper_errno();
                close(fd);
                return e;
        }
        if (type == SOCK_STREAM && listen(fd, 128) < 0) {
                *why = "listen in the box";
                int e = box_helper_errno();
                close(fd);
                return e;
        }
        return fd;
}

static int add(struct box_listeners *l, enum handoff_kind kind, int type,
               uint32_t addr, uint16_t port)
{
        int fd = bound(type, addr, port, &l->why);
        if (fd < 0) {
                l->port = port;
                return fd;
        }
        l->fds[l->msg.count] = fd;
        l->msg.ports[l->msg.count] = port;
        l->msg.kinds[l->msg.count++] = kind;
        return 0;
}

int box_net_listen(struct box_listeners *l)
{
        l->msg.magic = HANDOFF_MAGIC;
        l->msg.count = 0;
        int r = add(l, HANDOFF_HTTP, SOCK_STREAM, INADDR_LOOPBACK,
                    HANDOFF_HTTP_PORT);
        if (r == 0)
                r = add(l, HANDOFF_SOCKS, SOCK_STREAM, INADDR_LOOPBACK,
                        HANDOFF_SOCKS_PORT);
        if (r == 0)
                r = add(l, HANDOFF_DNS_UDP, SOCK_DGRAM, INADDR_LOOPBACK,
                        HANDOFF_DNS_PORT);
        if (r == 0)
                r = add(l, HANDOFF_DNS_TCP, SOCK_STREAM, INADDR_LOOPBACK,
                        HANDOFF_DNS_PORT);
        /* Any address: the DNS stub's answers are all over 127.0.0.0/8,
         * and the supervisor tells them apart with getsockname(). */
        for (int i = 0; r == 0 && i < l->ntports; i++)
                r = add(l, HANDOFF_TRANSPARENT, SOCK_STREAM, INADDR_ANY,
                        l->tports[i]);
        if (r < 0)
                for (uint32_t i = 0; i < l->msg.count; i++)
                        close(l->fds[i]);
        return r;
}

void box_net_handoff(int sock, struct box_listeners *l)
{
        int r = handoff_send(sock, &l->msg, l->fds);
        if (r < 0)
                box_die_errno(-r, "handing the box's listeners to agentbox");
        for (uint32_t i = 0; i < l->msg.count; i++)
                close(l->fds[i]);
        close(sock);
}
