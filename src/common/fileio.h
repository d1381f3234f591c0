#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Write the whole string to path (O_WRONLY, no create); 0 or -errno. */
int fileio_write_str(const char *path, const char *s);

/* write(2) until done or error; 0 or -errno. */
int fileio_write_all(int fd, const void *buf, size_t len);

/* Call fn(arg, name, d_type) for each entry of the open directory fd but
 * "." and "..", reading with getdents64 into the stack.  Stops at the
 * first non-zero return of fn and returns it; 0 at the end, or -errno. */
int fileio_dir_each(int fd, int (*fn)(void *arg, const char *name,
                                      unsigned char type),
                    void *arg);

/* openat(dirfd, path, flags), or, when no_symlinks, openat2 with
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS (no link followed anywhere
 * on the way: ELOOP).  Returns the fd or -1 with errno set. */
int fileio_open_nolinks(int dirfd, const char *path, int flags,
                        bool no_symlinks);

/* The kernel's name for what fd is (readlink of /proc/self/fd/N), into
 * buf; its length, or -1 with errno set (ENAMETOOLONG when cut). */
ssize_t fileio_fd_path(int fd, char *buf, size_t size);

/* The directory name below dirfd, opened to read, following no link (a
 * link there fails with ELOOP or ENOTDIR).  The fd, or -1 with errno. */
int fileio_open_subdir(int dirfd, const char *name);

/* A small regular file (path below dirfd; no_links: following no link on
 * the way), whole and NUL-terminated, malloc'd; *len its length.  NULL
 * when it cannot be opened, is no regular file (a FIFO must not hang the
 * reader) or is over max bytes. */
char *fileio_read_small(int dirfd, const char *path, bool no_links,
                        size_t max, size_t *len);
/* The same, from an open fd (read from where it stands). */
char *fileio_read_fd(int fd, size_t max, size_t *len);

/* mkdir -p path, each directory made with mode (existing ones are left as
 * they are).  0, or -errno for the last component. */
int fileio_mkdirs(const char *path, mode_t mode);
