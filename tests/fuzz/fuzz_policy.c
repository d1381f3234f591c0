/* libFuzzer target: the policy file parser (agentbox.yaml(5)), as each
 * layer reads it.  Every input must end in a clean 0 or -EINVAL with at
 * least one message naming a line, never a crash, a leak or a stall. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        /* the first byte picks the layer, the rest is the file */
        static const enum policy_layer layers[] = {
                POLICY_LAYER_MANAGED, POLICY_LAYER_USER, POLICY_LAYER_PROJECT};
        enum policy_layer layer = layers[data[0] % 3];
        struct policy p;
        policy_init(&p);
        struct policy_errors errs = {0};
        int r = policy_file_parse("F", (const char *)data + 1, size - 1,
                                  layer, &p, &errs);
        if ((r == 0) != (errs.n == 0))
                abort();
        for (size_t i = 0; i < errs.n; i++)
                if (strncmp(errs.v[i], "F:", 2) != 0)
                        abort(); /* every error names the file and line */
        policy_errors_free(&errs);
        policy_free(&p);
        return 0;
}
