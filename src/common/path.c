#include "path.h"

#include <string.h>

static int put(char *out, size_t size, size_t *o, const char *q, size_t n)
{
        if (*o + n + 2 > size)
                return -1;
        if (*o)
                out[(*o)++] = '/';
        memcpy(out + *o, q, n);
        *o += n;
        return 0;
}

static int walk(const char *q, char *out, size_t size, size_t *o)
{
        while (*q) {
                size_t n = strcspn(q, "/");
                if (n == 2 && q[0] == '.' && q[1] == '.') {
                        if (*o == 0)
                                return -1; /* climbs out */
                        while (*o > 0 && out[*o - 1] != '/')
                                (*o)--;
                        if (*o > 0)
                                (*o)--;
                } else if (n && !(n == 1 && q[0] == '.') &&
                           put(out, size, o, q, n) < 0) {
                        return -1;
                }
                q += n;
                while (*q == '/')
                        q++;
        }
        return 0;
}

int path_normalise(const char *base, const char *p, char *out, size_t size)
{
        size_t o = 0;
        if (size == 0 || walk(base, out, size, &o) < 0 ||
            walk(p, out, size, &o) < 0)
                return -1;
        out[o] = 0;
        return (int)o;
}

bool path_is_under(const char *path, const char *dir)
{
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/')
                n--;
        if (n == 1 && dir[0] == '/')
                return path[0] == '/';
        return strncmp(path, dir, n) == 0 && (path[n] == '/' || !path[n]);
}
