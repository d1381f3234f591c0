#pragma once

#include <stddef.h>

/* Write the whole string to path (O_WRONLY, no create); 0 or -errno. */
int fileio_write_str(const char *path, const char *s);

/* write(2) until done or error; 0 or -errno. */
int fileio_write_all(int fd, const void *buf, size_t len);
