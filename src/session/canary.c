/* The self-test's canaries on the host side: a file in the invoker's home
 * (a secret the box must not read), a unix socket listening on the host
 * and an abstract one in the host's network namespace (ways back the box
 * must not find).  Random names, made just before the start, removed at
 * the end. */
#include "canary.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"
#include "policy/layers.h"

static int listen_on(const char *name, bool abstract)
{
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return -errno;
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        size_t l = strlen(name);
        if (l + 2 > sizeof(a.sun_path)) {
                close(s);
                return -ENAMETOOLONG;
        }
        memcpy(a.sun_path + abstract, name, l);
        socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
                                    l + abstract);
        if (bind(s, (struct sockaddr *)&a, len) < 0 || listen(s, 1) < 0) {
                int e = errno;
                close(s);
                return -e;
        }
        return s;
}

int canaries_plant(struct canaries *c, struct box_spec *spec,
                   struct ab_err *err)
{
        *c = (struct canaries){.sock_fd = -1, .abstract_fd = -1};
        unsigned char rnd[8];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                return err_setx(err, -errno, "self-test: getrandom");
        char tag[40];
        snprintf(tag, sizeof(tag), "%d-%02x%02x%02x%02x%02x%02x%02x%02x",
                 (int)getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4],
                 rnd[5], rnd[6], rnd[7]);
        _cleanup_free_ char *home = policy_expand_home("~");
        if (!home || asprintf(&c->file, "%s/.agentbox-canary-%s", home, tag) < 0 ||
            asprintf(&c->sock, "/tmp/.agentbox-canary-%s.sock", tag) < 0 ||
            asprintf(&c->abstract, "agentbox-canary-%s", tag) < 0)
                return err_set(err, -ENOMEM, "out of memory");
        int fd = open(c->file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                       O_CLOEXEC,
                      0600);
        if (fd < 0) {
                free(c->file);
                c->file = NULL;
                return err_setx(err, -errno,
                                "self-test: cannot plant a canary in %s",
                                home);
        }
        (void)!write(fd, "agentbox self-test canary\n", 26);
        close(fd);
        c->sock_fd = listen_on(c->sock, false);
        c->abstract_fd = listen_on(c->abstract, true);
        if (c->sock_fd < 0 || c->abstract_fd < 0)
                return err_setx(err, c->sock_fd < 0 ? c->sock_fd
                                                    : c->abstract_fd,
                                "self-test: cannot listen on a canary "
                                "socket");
        spec->canary_file = c->file;
        spec->canary_sock = c->sock;
        spec->canary_abstract = c->abstract;
        return 0;
}

void canaries_remove(struct canaries *c)
{
        if (c->file)
                unlink(c->file);
        if (c->sock_fd >= 0) {
                close(c->sock_fd);
                unlink(c->sock);
        }
        if (c->abstract_fd >= 0)
                close(c->abstract_fd);
        free(c->file);
        free(c->sock);
        free(c->abstract);
        *c = (struct canaries){.sock_fd = -1, .abstract_fd = -1};
}
