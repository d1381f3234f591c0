/* agentbox for the end-to-end tests of the policy layers (built only here,
 * never installed): AGENTBOX_TEST_MANAGED names the managed file instead
 * of /etc/agentbox/managed.yaml (owned by the tests' user instead of
 * root), AGENTBOX_TEST_USER_CONFIG the user's file and AGENTBOX_TEST_STATE
 * the state directory's base, so that no test touches /etc or root's
 * own files. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "box/box.h"
#include "cli/cli.h"
#include "common/statedir.h"
#include "policy/layers.h"

int main(int argc, char **argv)
{
        const char *m = getenv("AGENTBOX_TEST_MANAGED");
        if (m && *m) {
                /* the test's own file: owned by whoever runs the tests */
                policy_managed_path_override = m;
                policy_managed_owner = geteuid();
        }
        const char *u = getenv("AGENTBOX_TEST_USER_CONFIG");
        if (u && *u)
                policy_user_path_override = u;
        const char *br = getenv("AGENTBOX_TEST_BREAK");
        if (br && *br)
                box_test_break = strdup(br); /* a wall left out (the box
                                              * wipes its environment) */
        const char *st = getenv("AGENTBOX_TEST_STATE");
        if (st && st[0] == '/')
                statedir_base_override = st;
        return cli_main(argc, argv);
}
