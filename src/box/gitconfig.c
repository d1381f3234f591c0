#include "gitconfig.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#define NAME_MAX_LEN 256
#define SUB_MAX_LEN 4096 /* git takes long subsections (onbranch:...) */
#define VALUE_MAX_LEN 4096

struct rd {
        const char *p, *end;
};

static int peek(const struct rd *r) { return r->p < r->end ? *r->p : -1; }
static int next(struct rd *r) { return r->p < r->end ? *r->p++ : -1; }

static void skip_line(struct rd *r)
{
        while (r->p < r->end && *r->p != '\n')
                r->p++;
}

static void skip_blank(struct rd *r)
{
        while (r->p < r->end && (*r->p == ' ' || *r->p == '\t'))
                r->p++;
}

/* "[name]", "[name "sub"]" or "[name.sub]"; false when malformed (the
 * rest of the line is skipped and variables count for no section). */
static bool section(struct rd *r, char *name, char *sub, bool *has_sub)
{
        size_t n = 0;
        *has_sub = false;
        r->p++; /* [ */
        for (int c; (c = peek(r)) != -1;) {
                if (isalnum(c) || c == '-' || c == '.') {
                        if (n + 1 >= NAME_MAX_LEN)
                                return false;
                        name[n++] = (char)tolower(c);
                        r->p++;
                        continue;
                }
                break;
        }
        name[n] = 0;
        char *dot = strchr(name, '.');
        if (dot) { /* old syntax: [section.subsection] */
                *dot = 0;
                memmove(sub, dot + 1, strlen(dot + 1) + 1);
                *has_sub = true;
        }
        skip_blank(r);
        if (peek(r) == '"') {
                r->p++;
                size_t s = 0;
                for (int c; (c = next(r)) != '"';) {
                        if (c == -1 || c == '\n' || s + 1 >= SUB_MAX_LEN)
                                return false;
                        if (c == '\\' && (c = next(r)) == -1)
                                return false;
                        sub[s++] = (char)c;
                }
                sub[s] = 0;
                *has_sub = true;
        }
        return next(r) == ']' && name[0]; /* "[.x]" names no section */
}

/* The value after '=', to the end of its (possibly continued) line, as
 * git reads it: outside quotes each whitespace character (CR included)
 * becomes a space, and leading and trailing ones are dropped. */
static bool value(struct rd *r, char *out)
{
        size_t n = 0, spaces = 0;
        bool quoted = false;
        for (;;) {
                int c = next(r);
                if (c == -1 || c == '\n')
                        break;
                if (!quoted && (c == '#' || c == ';')) {
                        skip_line(r);
                        break;
                }
                if (!quoted && isspace(c)) {
                        if (n)
                                spaces++;
                        continue;
                }
                for (; spaces; spaces--) {
                        if (n + 1 >= VALUE_MAX_LEN)
                                return false;
                        out[n++] = ' ';
                }
                if (c == '"') {
                        quoted = !quoted;
                        continue;
                }
                if (c == '\\') {
                        c = next(r);
                        if (c == '\r' && peek(r) == '\n')
                                c = next(r);
                        if (c == '\n')
                                continue; /* continued line */
                        c = c == 'n' ? '\n' : c == 't' ? '\t'
                          : c == 'b' ? '\b' : c;
                        if (c == -1)
                                return false;
                }
                if (n + 1 >= VALUE_MAX_LEN)
                        return false;
                out[n++] = (char)c;
        }
        out[n] = 0;
        return !quoted;
}

int gitconfig_each(const char *buf, size_t len,
                   int (*fn)(void *arg, const char *section,
                             const char *sub, const char *key,
                             const char *value),
                   void *arg)
{
        struct rd r = {buf, buf + len};
        if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
                r.p += 3; /* a UTF-8 byte-order mark, as git skips it */
        char sec[NAME_MAX_LEN] = "", sub[SUB_MAX_LEN] = "";
        char key[NAME_MAX_LEN], val[VALUE_MAX_LEN];
        bool has_sub = false, in_section = false;
        while (r.p < r.end) {
                skip_blank(&r);
                int c = peek(&r);
                if (c == '\n' || c == '\r') {
                        r.p++;
                        continue;
                }
                if (c == '#' || c == ';' || c == -1) {
                        skip_line(&r);
                        continue;
                }
                if (c == '[') {
                        in_section = section(&r, sec, sub, &has_sub);
                        if (!in_section)
                                skip_line(&r);
                        continue;
                }
                if (!isalpha(c)) {
                        skip_line(&r);
                        continue;
                }
                size_t n = 0;
                while ((c = peek(&r)) != -1 && (isalnum(c) || c == '-') &&
                       n + 1 < sizeof(key)) {
                        key[n++] = (char)tolower(c);
                        r.p++;
                }
                key[n] = 0;
                skip_blank(&r);
                c = peek(&r);
                const char *v = NULL;
                if (c == '=') {
                        r.p++;
                        if (!value(&r, val)) {
                                skip_line(&r);
                                continue;
                        }
                        v = val;
                } else if (c == '\n' || c == -1 || c == '#' || c == ';' ||
                           c == '\r') {
                        skip_line(&r);
                } else {
                        skip_line(&r);
                        continue;
                }
                if (!in_section)
                        continue;
                int rc = fn(arg, sec, has_sub ? sub : NULL, key, v);
                if (rc)
                        return rc;
        }
        return 0;
}
