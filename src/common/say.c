#include "say.h"

#include <stdarg.h>
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
