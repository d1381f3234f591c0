/* probe: runs inside a box in the end-to-end tests and tries one escape.
 * It prints "ESCAPED <what>" and exits 0 when the attempt worked, or
 * "BLOCKED <what>: <errno>" and exits 1 when the box stopped it.  Some
 * subcommands just report facts ("OK ..."). */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int result(int rc, const char *what)
{
        if (rc >= 0) {
                printf("ESCAPED %s\n", what);
                return 0;
        }
        printf("BLOCKED %s: %s\n", what, strerror(errno));
        return 1;
}

static int do_read(const char *path)
{
        int fd = open(path, O_RDONLY);
        if (fd < 0)
                return result(-1, path);
        char buf[64];
        ssize_t n = read(fd, buf, sizeof(buf));
        return result(n > 0 ? 0 : -1, path);
}

static int do_write(const char *path)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
                return result(-1, path);
        return result(write(fd, "x\n", 2) == 2 ? 0 : -1, path);
}

static int do_unix(const char *path, int abstract)
{
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        socklen_t len;
        if (abstract) {
                a.sun_path[0] = 0;
                strncpy(a.sun_path + 1, path, sizeof(a.sun_path) - 2);
                len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
                                  strlen(path));
        } else {
                strncpy(a.sun_path, path, sizeof(a.sun_path) - 1);
                len = sizeof(a);
        }
        return result(connect(s, (struct sockaddr *)&a, len), path);
}

static int do_tcp(const char *ip, const char *port)
{
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)atoi(port))};
        inet_pton(AF_INET, ip, &a.sin_addr);
        return result(connect(s, (struct sockaddr *)&a, sizeof(a)), ip);
}

static int do_udp(const char *ip, const char *port)
{
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)atoi(port))};
        inet_pton(AF_INET, ip, &a.sin_addr);
        ssize_t n = sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof(a));
        return result(n == 1 ? 0 : -1, ip);
}

static int do_ifaces(void)
{
        struct if_nameindex *ifs = if_nameindex();
        for (struct if_nameindex *i = ifs; i && i->if_name; i++)
                printf("IFACE %s\n", i->if_name);
        return 0;
}

static int do_tiocsti(void)
{
        char c = 'X';
        return result(ioctl(0, TIOCSTI, &c), "TIOCSTI");
}

static int do_forks(int n)
{
        static pid_t kids[4096];
        int ok = 0;
        for (int i = 0; i < n && i < 4096; i++) {
                pid_t p = fork();
                if (p < 0)
                        break;
                if (p == 0) {
                        pause();
                        _exit(0);
                }
                kids[ok++] = p;
        }
        printf("FORKED %d\n", ok);
        for (int i = 0; i < ok; i++)
                kill(kids[i], SIGKILL);
        while (wait(NULL) > 0)
                ;
        return 0;
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: probe TEST [ARGS]\n");
                return 2;
        }
        const char *t = argv[1];
        const char *a = argc > 2 ? argv[2] : "";
        const char *b = argc > 3 ? argv[3] : "";
        if (!strcmp(t, "read"))
                return do_read(a);
        if (!strcmp(t, "write"))
                return do_write(a);
        if (!strcmp(t, "ls"))
                return result(open(a, O_RDONLY | O_DIRECTORY), a);
        if (!strcmp(t, "unix"))
                return do_unix(a, 0);
        if (!strcmp(t, "abstract"))
                return do_unix(a, 1);
        if (!strcmp(t, "tcp"))
                return do_tcp(a, b);
        if (!strcmp(t, "udp"))
                return do_udp(a, b);
        if (!strcmp(t, "ifaces"))
                return do_ifaces();
        if (!strcmp(t, "kill"))
                return result(kill(atoi(a), 0), "kill");
        if (!strcmp(t, "ptrace"))
                return result(ptrace(PTRACE_ATTACH, atoi(a), 0, 0), "ptrace");
        if (!strcmp(t, "tiocsti"))
                return do_tiocsti();
        if (!strcmp(t, "mount"))
                return result(mount("none", "/tmp", "tmpfs", 0, NULL), "mount");
        if (!strcmp(t, "unshare-user"))
                return result(unshare(CLONE_NEWUSER), "unshare(NEWUSER)");
        if (!strcmp(t, "unshare-mnt"))
                return result(unshare(CLONE_NEWNS), "unshare(NEWNS)");
        if (!strcmp(t, "clone-user"))
                return result((int)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD,
                                           0, 0, 0, 0) == 0
                                      ? (_exit(0), 0)
                                      : -1,
                              "clone(NEWUSER)");
        if (!strcmp(t, "personality"))
                return result(personality(ADDR_NO_RANDOMIZE), "personality");
        if (!strcmp(t, "bpf"))
                return result((int)syscall(SYS_bpf, 0, 0, 0), "bpf");
        if (!strcmp(t, "keyctl"))
                return result((int)syscall(SYS_keyctl, 0, 0, 0), "keyctl");
        if (!strcmp(t, "socket"))
                return result(socket(atoi(a), SOCK_STREAM, 0), "socket");
        if (!strcmp(t, "forks"))
                return do_forks(atoi(a));
        if (!strcmp(t, "readat0"))
                return result(openat(0, a, O_RDONLY), a);
        if (!strcmp(t, "fds")) {
                /* every descriptor above 2 except the one opendir uses */
                int n = 0;
                for (int fd = 3; fd < 1024; fd++)
                        if (fcntl(fd, F_GETFD) >= 0) {
                                char l[64], p[256] = "";
                                snprintf(l, sizeof(l), "/proc/self/fd/%d", fd);
                                ssize_t k = readlink(l, p, sizeof(p) - 1);
                                p[k > 0 ? k : 0] = 0;
                                printf("FD %d %s\n", fd, p);
                                n++;
                        }
                printf("FDS %d\n", n);
                return 0;
        }
        /* Host side too: swap two paths until killed (RENAME_EXCHANGE),
         * to race agentbox's workspace checks. */
        if (!strcmp(t, "swap") && argc > 3) {
                for (;;)
                        syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, argv[3],
                                2 /* RENAME_EXCHANGE */);
        }
        if (!strcmp(t, "mkfifo"))
                return result(mknod(a, S_IFIFO | 0644, 0), a);
        if (!strcmp(t, "mksock")) {
                int s = socket(AF_UNIX, SOCK_STREAM, 0);
                struct sockaddr_un u = {.sun_family = AF_UNIX};
                snprintf(u.sun_path, sizeof(u.sun_path), "%s", a);
                return result(bind(s, (struct sockaddr *)&u, sizeof(u)), a);
        }
        if (!strcmp(t, "mkchar"))
                return result(mknod(a, S_IFCHR | 0644, 0), a);
        if (!strcmp(t, "link") && argc > 3)
                return result(link(a, argv[3]), argv[3]);
        if (!strcmp(t, "symlink") && argc > 3)
                return result(symlink(a, argv[3]), argv[3]);
        if (!strcmp(t, "rename") && argc > 3)
                return result(rename(a, argv[3]), a);
        if (!strcmp(t, "mkdir"))
                return result(mkdir(a, 0755), a);
        if (!strcmp(t, "rmdir"))
                return result(rmdir(a), a);
        if (!strcmp(t, "unlink"))
                return result(unlink(a), a);
        if (!strcmp(t, "env")) {
                const char *v = getenv(a);
                printf("%s=%s\n", a, v ? v : "(unset)");
                return v ? 0 : 1;
        }
        fprintf(stderr, "probe: unknown test %s\n", t);
        return 2;
}
