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

static int tcp_listener(uint16_t port)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                box_die_errno(errno, "socket for the proxy");
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in sa = {
                .sin_family = AF_INET,
                .sin_port = htons(port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
        };
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                box_die_errno(errno, "binding 127.0.0.1:%u in the box", port);
        if (listen(fd, 128) < 0)
                box_die_errno(errno, "listen on 127.0.0.1:%u", port);
        return fd;
}

void box_net_handoff(int sock)
{
        struct handoff_msg m = {.magic = HANDOFF_MAGIC};
        int fds[HANDOFF_MAX];
        fds[m.count] = tcp_listener(HANDOFF_HTTP_PORT);
        m.kinds[m.count++] = HANDOFF_HTTP;
        fds[m.count] = tcp_listener(HANDOFF_SOCKS_PORT);
        m.kinds[m.count++] = HANDOFF_SOCKS;
        int r = handoff_send(sock, &m, fds);
        if (r < 0)
                box_die_errno(-r, "handing the box's listeners to agentbox");
        for (uint32_t i = 0; i < m.count; i++)
                close(fds[i]);
        close(sock);
}
