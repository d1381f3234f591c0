#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

int fileio_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int fileio_write_str(const char *path, const char *s)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fileio_write_all(fd, s, strlen(s));
}

int fileio_dir_each(int fd, int (*fn)(void *arg, const char *name,
                                      unsigned char type),
                    void *arg)
{
        char buf[8192] __attribute__((aligned(8)));
        for (;;) {
                long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return 0;
                for (long off = 0; off < n;) {
                        struct {
                                uint64_t ino;
                                int64_t off;
                                unsigned short reclen;
                                unsigned char type;
                                char name[];
                        } *e = (void *)(buf + off);
                        off += e->reclen;
                        if (e->name[0] == '.' &&
                            (!e->name[1] ||
                             (e->name[1] == '.' && !e->name[2])))
                                continue;
                        int r = fn(arg, e->name, e->type);
                        if (r)
                                return r;
                }
        }
}

int fileio_open_nolinks(int dirfd, const char *path, int flags,
                        bool no_symlinks)
{
        if (!no_symlinks)
                return openat(dirfd, path, flags);
        struct open_how how = {
                .flags = (uint64_t)flags,
                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

ssize_t fileio_fd_path(int fd, char *buf, size_t size)
{
        char link[64];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, buf, size - 1);
        if (n < 0)
                return -1;
        if ((size_t)n == size - 1) {
                errno = ENAMETOOLONG;
                return -1;
        }
        buf[n] = 0;
        return n;
}

int fileio_open_subdir(int dirfd, const char *name)
{
        return openat(dirfd, name,
                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

char *fileio_read_fd(int fd, size_t max, size_t *len)
{
        struct stat st;
        char *buf = NULL;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            st.st_size <= (off_t)max &&
            (buf = malloc((size_t)st.st_size + 1))) {
                ssize_t n = read(fd, buf, (size_t)st.st_size);
                if (n < 0) {
                        free(buf);
                        buf = NULL;
                } else {
                        buf[n] = 0;
                        *len = (size_t)n;
                }
        }
        return buf;
}

char *fileio_read_small(int dirfd, const char *path, bool no_links,
                        size_t max, size_t *len)
{
        int fd = fileio_open_nolinks(dirfd, path,
                                     O_RDONLY | O_NONBLOCK | O_CLOEXEC,
                                     no_links);
        char *buf = fd >= 0 ? fileio_read_fd(fd, max, len) : NULL;
        if (fd >= 0)
                close(fd);
        return buf;
}

int fileio_mkdirs(const char *path, mode_t mode)
{
        char made[PATH_MAX];
        if (snprintf(made, sizeof(made), "%s", path) >= (int)sizeof(made))
                return -ENAMETOOLONG;
        for (char *p = made + 1; *p; p++)
                if (*p == '/') {
                        *p = 0;
                        (void)mkdir(made, mode);
                        *p = '/';
                }
        return mkdir(made, mode) < 0 && errno != EEXIST ? -errno : 0;
}
