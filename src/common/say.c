#include "say.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define SAY_MAX 4096

static void (*say_sink)(void *, const char *, size_t);
static void *say_arg;

void say_set_sink(void (*sink)(void *arg, const char *line, size_t len),
                  void *arg)
{
        say_sink = sink;
        say_arg = arg;
}

void say(const char *fmt, ...)
{
        char line[SAY_MAX];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
        while (len && line[len - 1] == '\n')
                line[--len] = 0;
        if (say_sink)
                say_sink(say_arg, line, len);
        else
                fprintf(stderr, "%s\n", line);
}

void say_safe(FILE *f, const char *fmt, ...)
{
        char *s = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
                if ((*c < 0x20 && *c != '\n' && *c != '\t') || *c == 0x7f)
                        fprintf(f, "\\x%02x", *c);
                else if (*c == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f)
                        fprintf(f, "\\u00%02x", *++c);
                else
                        fputc(*c, f);
        }
        free(s);
}

char *say_escape(const char *s)
{
        size_t n = strlen(s);
        char *out = malloc(n * 6 + 1), *o = out;
        if (!out)
                return NULL;
        for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
                if (*c < 0x20 || *c == 0x7f)
                        o += sprintf(o, "\\x%02x", *c);
                else if (*c == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f)
                        o += sprintf(o, "\\u00%02x", *++c);
                else
                        *o++ = (char)*c;
        }
        *o = 0;
        return out;
}
