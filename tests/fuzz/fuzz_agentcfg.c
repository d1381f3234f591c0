/* libFuzzer target: Gemini CLI's settings.json as the box may have left
 * it in agentbox's state directory, merged with agentbox's keys
 * (src/cli/agentcfg.c).  Every input ends in 0 with a JSON object that
 * has usage statistics off, or -EINVAL, never a crash, a leak or a
 * stall. */
#include <errno.h>
#include <json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/agentcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        /* the first byte: a base URL set or not */
        char *out = NULL;
        struct ab_err err = {0};
        int r = agentcfg_gemini((const char *)data + 1, size - 1, (data[0] & 0xd) | AGENTCFG_QUIET,
                                &out, &err);
        if (r == 0) {
                json_object *o = json_tokener_parse(out);
                json_object *p, *u;
                if (!json_object_is_type(o, json_type_object) ||
                    !json_object_object_get_ex(o, "privacy", &p) ||
                    !json_object_object_get_ex(p, "usageStatisticsEnabled",
                                               &u) ||
                    json_object_get_boolean(u))
                        abort();
                json_object_put(o);
        } else if (r != -EINVAL || !err.msg[0])
                abort();
        free(out);
        return 0;
}
