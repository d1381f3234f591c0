/* libFuzzer target: `agentbox run` argument parsing.  The input is split at
 * NUL bytes into argv; every outcome must be a clean 0/1/-errno with a
 * message, never a crash or a leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 4096)
                return 0;
        char *buf = malloc(size + 1);
        if (!buf)
                return 0;
        memcpy(buf, data, size);
        buf[size] = 0;
        char *argv[65] = {"run"};
        int argc = 1;
        for (size_t i = 0; i <= size && argc < 64;) {
                argv[argc++] = buf + i;
                i += strlen(buf + i) + 1;
        }
        argv[argc] = NULL;
        struct policy p;
        struct ab_err err = {0};
        char **cmd = NULL;
        policy_init(&p);
        int r = cli_run_parse(argc, argv, &p, &cmd, &err);
        if (r < 0 && err.msg[0] == 0)
                abort(); /* every error says what failed */
        /* nothing after the options is the caller's to say (NULL) */
        if (r == 0 && cmd && (!cmd[0] || !cmd[0][0]))
                abort();
        policy_free(&p);
        free(buf);
        return 0;
}
