#include "audit.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/say.h"
#include "common/fileio.h"
#include "common/statedir.h"
#include "common/util.h"
#include "net.h"

struct audit {
        FILE *f;
        long written;
        bool capped;
        char *seen[NET_DENIALS_REPORTED];
        size_t nseen;
        bool seen_full;
};

static int mkdir_parents(char *path)
{
        for (char *p = path + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                int r = mkdir(path, 0700);
                *p = '/';
                if (r < 0 && errno != EEXIST)
                        return -errno;
        }
        return 0;
}

char *audit_default_path(void)
{
        /* made and checked without following anyone's links, in root's own
         * home under root (sudo -E keeps a user's HOME) */
        struct ab_err err = {0};
        _cleanup_close_ int fd = statedir_open(NULL, &err);
        if (fd < 0)
                return NULL;
        char dir[PATH_MAX];
        if (fileio_fd_path(fd, dir, sizeof(dir)) < 0)
                return NULL;
        char *out = NULL;
        if (asprintf(&out, "%s/audit.jsonl", dir) < 0)
                return NULL;
        return out;
}

int audit_new(const char *path, struct audit **out, struct ab_err *err)
{
        struct audit *a = calloc(1, sizeof(*a));
        if (!a)
                return err_set(err, -ENOMEM, "out of memory");
        if (path) {
                _cleanup_free_ char *dup = strdup(path);
                if (!dup || mkdir_parents(dup) < 0) {
                        free(a);
                        return err_setx(err, dup ? -errno : -ENOMEM,
                                        "audit log %s: cannot create its "
                                        "directory",
                                        path);
                }
                int fd = open(path,
                              O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
                                      O_NOFOLLOW,
                              0600);
                a->f = fd >= 0 ? fdopen(fd, "a") : NULL;
                if (!a->f) {
                        int e = errno;
                        if (fd >= 0)
                                close(fd);
                        free(a);
                        return err_setx(err, -e,
                                        "audit log %s: cannot open it (use "
                                        "--audit FILE elsewhere)",
                                        path);
                }
                setvbuf(a->f, NULL, _IOLBF, 0);
        }
        *out = a;
        return 0;
}

void audit_free(struct audit *a)
{
        if (!a)
                return;
        if (a->f)
                fclose(a->f);
        for (size_t i = 0; i < a->nseen; i++)
                free(a->seen[i]);
        free(a);
}

static void add_str(json_object *o, const char *k, const char *v)
{
        if (v)
                json_object_object_add(o, k, json_object_new_string(v));
}

void audit_log(struct audit *a, const struct audit_rec *r)
{
        if (!a || !a->f || a->capped)
                return;
        char ts[40];
        struct timespec now;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", now.tv_nsec / 1000000);

        json_object *o = json_object_new_object();
        if (!o)
                return;
        add_str(o, "time", ts);
        add_str(o, "proto", r->proto);
        add_str(o, "host", r->host);
        json_object_object_add(o, "port", json_object_new_int(r->port));
        add_str(o, "verdict", r->verdict);
        add_str(o, "reason", r->reason);
        add_str(o, "rule", r->rule);
        add_str(o, "upstream", r->upstream);
        json_object_object_add(o, "bytes_up",
                               json_object_new_int64((int64_t)r->bytes_up));
        json_object_object_add(o, "bytes_down",
                               json_object_new_int64((int64_t)r->bytes_down));
        char ms[32];
        snprintf(ms, sizeof(ms), "%.3f", r->ms);
        json_object_object_add(o, "ms", json_object_new_double_s(r->ms, ms));
        add_str(o, "message", r->message);
        const char *s = json_object_to_json_string_ext(
                o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        size_t len = strlen(s);
        if (a->written + (long)len + 1 > NET_AUDIT_MAX) {
                a->capped = true;
                say("agentbox: the audit log reached its cap of %ld bytes "
                    "for this run; further decisions are not logged",
                    NET_AUDIT_MAX);
        } else if (fprintf(a->f, "%s\n", s) > 0) {
                a->written += (long)len + 1;
        }
        json_object_put(o);
}

void audit_report_denial(struct audit *a, const char *sentence)
{
        for (size_t i = 0; i < a->nseen; i++)
                if (strcmp(a->seen[i], sentence) == 0)
                        return;
        if (a->nseen < NET_DENIALS_REPORTED) {
                char *d = strdup(sentence);
                if (d)
                        a->seen[a->nseen++] = d;
        } else if (!a->seen_full) {
                a->seen_full = true;
                say("agentbox: more than %d different network denials; see "
                    "the audit log for the rest",
                    NET_DENIALS_REPORTED);
                return;
        } else {
                return;
        }
        say("%s", sentence);
}
