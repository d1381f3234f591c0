/* What the self-test must miss, planted on the host just before the box
 * starts and removed when it ends (canary.c). */
#pragma once

#include "box/box.h"
#include "common/err.h"

struct canaries {
        char *file, *sock, *abstract;
        int sock_fd, abstract_fd;
};

/* Plant them and point spec at them.  0, or -errno with err filled. */
int canaries_plant(struct canaries *c, struct box_spec *spec,
                   struct ab_err *err);
void canaries_remove(struct canaries *c);
