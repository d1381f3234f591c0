#include "handoff.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int handoff_send(int sock, const struct handoff_msg *m, const int *fds)
{
        if (m->count > HANDOFF_MAX)
                return -EINVAL;
        union {
                char buf[CMSG_SPACE(sizeof(int) * HANDOFF_MAX)];
                struct cmsghdr align;
        } u;
        memset(&u, 0, sizeof(u));
        struct iovec iov = {.iov_base = (void *)m, .iov_len = sizeof(*m)};
        struct msghdr msg = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = u.buf,
                .msg_controllen = CMSG_SPACE(sizeof(int) * m->count),
        };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * m->count);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * m->count);
        ssize_t n;
        do
                n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        return n == (ssize_t)sizeof(*m) ? 0 : -EIO;
}

int handoff_recv(int sock, struct handoff_msg *m, int *fds)
{
        union {
                char buf[CMSG_SPACE(sizeof(int) * HANDOFF_MAX)];
                struct cmsghdr align;
        } u;
        struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
        struct msghdr msg = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = u.buf,
                .msg_controllen = sizeof(u.buf),
        };
        memset(m, 0, sizeof(*m));
        ssize_t n;
        do
                n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        int got = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c;
             c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
                        if (got < HANDOFF_MAX)
                                fds[got++] = fd;
                        else
                                close(fd);
                }
        }
        if (n != (ssize_t)sizeof(*m) || (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) ||
            m->magic != HANDOFF_MAGIC || m->count > HANDOFF_MAX ||
            (int)m->count != got) {
                for (int i = 0; i < got; i++)
                        close(fds[i]);
                return n == 0 ? -ECONNRESET : -EBADMSG;
        }
        return 0;
}
