/* libFuzzer target: the terminal output filter (what the box writes to
 * its terminal).  The input is cut at a point its first two bytes give,
 * as reads would cut it.  What comes out is never more than went in, and
 * never holds a clipboard write, a string (DCS, APC, PM, SOS), ENQ or a
 * title report. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session/ttyfilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool has(const unsigned char *p, size_t n, const char *s)
{
        size_t k = strlen(s);
        for (size_t i = 0; i + k <= n; i++)
                if (!memcmp(p + i, s, k))
                        return true;
        return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 2)
                return 0;
        size_t cut = ((size_t)data[0] << 8 | data[1]) % size;
        data += 2;
        size -= 2;
        if (cut > size)
                cut = size;
        static struct tty_filter f;
        tty_filter_init(&f, false);
        unsigned char *out =
                malloc(2 * size + 2 * TTY_FILTER_SLACK + TTY_RESET_MAX);
        if (!out)
                return 0;
        size_t o = tty_filter_feed(&f, data, cut, out);
        o += tty_filter_feed(&f, data + cut, size - cut, out + o);
        if (o > size)
                abort(); /* nothing is made up */
        if (has(out, o, "\x1b]52") || has(out, o, "\x1bP") ||
            has(out, o, "\x1b_") || has(out, o, "\x1b^") ||
            has(out, o, "\x1bX") || has(out, o, "\x1b[21t") ||
            has(out, o, "\x1b[20t") || memchr(out, 0x05, o))
                abort();
        size_t r = tty_filter_reset(&f, out + o);
        if (r > TTY_RESET_MAX)
                abort();
        free(out);
        return 0;
}
