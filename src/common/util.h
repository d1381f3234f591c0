/* Small helpers shared by every module: cleanup attributes, ownership
 * hand-off, array sizes. */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))

/* Hand ownership out of a cleanup-managed variable. */
static inline void *steal_ptr_impl(void **p)
{
        void *v = *p;
        *p = NULL;
        return v;
}
#define steal_ptr(pp) steal_ptr_impl((void **)(pp))

static inline int steal_fd(int *fd)
{
        int v = *fd;
        *fd = -1;
        return v;
}

/* Exit statuses (DESIGN.md §5). */
enum {
        EXIT_AGENTBOX = 125,
        EXIT_NOEXEC = 126,
        EXIT_NOTFOUND = 127,
};
