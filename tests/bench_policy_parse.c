/* How long one policy file takes to parse: bench/policy.sh runs it on a
 * typical file.  Usage: bench-policy-parse FILE [N] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "policy/file.h"

int main(int argc, char **argv)
{
        if (argc < 2)
                return 2;
        long n = argc > 2 ? atol(argv[2]) : 20000;
        FILE *f = fopen(argv[1], "rb");
        if (!f)
                return 2;
        static char buf[1 << 20];
        size_t len = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (long i = 0; i < n; i++) {
                struct policy p;
                policy_init(&p);
                struct policy_errors errs = {0};
                if (policy_file_parse(argv[1], buf, len, POLICY_LAYER_PROJECT,
                                      &p, &errs) < 0) {
                        fprintf(stderr, "%s\n", errs.v[0]);
                        return 1;
                }
                policy_errors_free(&errs);
                policy_free(&p);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
                     (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3 / (double)n;
        printf("%zu bytes parsed in %.1f us (mean of %ld)\n", len, us, n);
        return 0;
}
