/* The supervisor's few messages to the box's setup code, over a
 * SOCK_SEQPACKET pair: "G" (ids mapped, go), then "C" (with the prepared
 * workspace mount when there is one), then, once the host is ready (the
 * box in its cgroups, the protected paths held), "P" and the plan of
 * protected paths: the last word before the command runs.  The box's
 * setup code sends "T" (its terminal's master); its init, at the end,
 * "X" (nothing of the box runs any more).  Trusted both ways: it is our
 * own code on each end (init keeps its end from the command). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

int box_sync_send(int sock, char tag, int fd)
{
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        memset(&u, 0, sizeof(u));
        struct iovec iov = {.iov_base = &tag, .iov_len = 1};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        if (fd >= 0) {
                msg.msg_control = u.buf;
                msg.msg_controllen = sizeof(u.buf);
                struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        ssize_t n;
        do
                n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        return n == 1 ? 0 : n < 0 ? -errno : -EIO;
}

int box_sync_recv(int sock, char *tag, int *fd)
{
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct iovec iov = {.iov_base = tag, .iov_len = 1};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = u.buf,
                             .msg_controllen = sizeof(u.buf)};
        *fd = -1;
        ssize_t n;
        do
                n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                return n < 0 ? -errno : -ECONNRESET;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len == CMSG_LEN(sizeof(int)))
                memcpy(fd, CMSG_DATA(c), sizeof(int));
        return 0;
}

int box_sync_send_data(int sock, char tag, const char *buf, size_t len)
{
        if (len > BOX_SYNC_DATA_MAX)
                return -E2BIG;
        char *msg = malloc(len + 1);
        if (!msg)
                return -ENOMEM;
        msg[0] = tag;
        if (len)
                memcpy(msg + 1, buf, len);
        ssize_t n;
        do
                n = send(sock, msg, len + 1, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        free(msg);
        return n == (ssize_t)(len + 1) ? 0 : n < 0 ? -errno : -EIO;
}

int box_sync_recv_data(int sock, char *tag, char **buf)
{
        char *msg = malloc(BOX_SYNC_DATA_MAX + 2);
        if (!msg)
                return -ENOMEM;
        ssize_t n;
        do
                n = recv(sock, msg, BOX_SYNC_DATA_MAX + 2, MSG_TRUNC);
        while (n < 0 && errno == EINTR);
        if (n < 1 || n > BOX_SYNC_DATA_MAX + 1) {
                free(msg);
                return n < 0 ? -errno : n == 0 ? -ECONNRESET : -E2BIG;
        }
        *tag = msg[0];
        memmove(msg, msg + 1, (size_t)n - 1);
        msg[n - 1] = 0;
        *buf = msg;
        return 0;
}
