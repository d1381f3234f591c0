#include "audit.h"

#include <errno.h>
#include <stdio.h>
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

/* A refusal recently written, to count the same one again within a
 * second instead of writing it (a flood of one denial is one line a
 * second and a count). */
#define AGG_SLOTS 256
struct agg {
        uint64_t key; /* 0: empty */
        struct timespec first;
        uint64_t again;
        char proto[16], host[256], verdict[8], reason[32];
        uint16_t port;
};

struct audit {
        FILE *f;
        int dir;          /* the log's directory, for rotating */
        char *name;       /* the log's name in it */
        long size;        /* of the current file */
        long refusals;    /* bytes of refusals' lines this run */
        int rotations;    /* made this run: their files are kept */
        bool capped;      /* refusals no longer logged */
        struct agg agg[AGG_SLOTS];
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

static int open_log(struct audit *a)
{
        int fd = openat(a->dir, a->name,
                        O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
                        0600);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                int e = fd < 0 ? errno : EINVAL;
                if (fd >= 0)
                        close(fd);
                return -e;
        }
        a->f = fdopen(fd, "a");
        if (!a->f) {
                close(fd);
                return -errno;
        }
        setvbuf(a->f, NULL, _IOLBF, 0);
        a->size = (long)st.st_size;
        return 0;
}

/* name.KEEP goes, name.N becomes name.N+1, name name.1, and a new name is
 * begun.  Names, in the directory opened at the start. */
static int rotate(struct audit *a)
{
        if (a->f)
                fclose(a->f);
        a->f = NULL;
        char from[PATH_MAX], to[PATH_MAX];
        /* the files of earlier runs go; this run's are kept, so that a
         * box cannot push what it was allowed out of the log by making
         * more, up to NET_AUDIT_RUN_FILES of them */
        int keep = NET_AUDIT_KEEP + (a->rotations < NET_AUDIT_RUN_FILES
                                             ? a->rotations
                                             : NET_AUDIT_RUN_FILES);
        if (++a->rotations == NET_AUDIT_RUN_FILES + 1)
                say("agentbox: the audit log has rotated %d times in this "
                    "run; from now on its oldest files of this run go as "
                    "new ones are begun",
                    NET_AUDIT_RUN_FILES);
        for (int i = keep; i >= 1; i--) {
                snprintf(to, sizeof(to), "%s.%d", a->name, i);
                if (i > 1)
                        snprintf(from, sizeof(from), "%s.%d", a->name, i - 1);
                else
                        snprintf(from, sizeof(from), "%s", a->name);
                if (renameat(a->dir, from, a->dir, to) < 0 && errno != ENOENT)
                        return -errno;
        }
        return open_log(a);
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
                char *slash = strrchr(dup, '/');
                const char *dirname = slash == dup ? "/" : slash ? dup : ".";
                if (slash)
                        *slash = 0;
                a->name = strdup(slash ? slash + 1 : path);
                a->dir = open(dirname, O_PATH | O_DIRECTORY | O_CLOEXEC);
                int r = a->dir < 0 || !a->name ? -errno : open_log(a);
                if (r == 0 && a->size >= NET_AUDIT_ROTATE)
                        r = rotate(a);
                a->rotations = 0; /* that one was an earlier run's */
                if (r < 0) {
                        audit_free(a);
                        return err_setx(err, r ? r : -ENOMEM,
                                        "audit log %s: cannot open it (use "
                                        "--audit FILE elsewhere)",
                                        path);
                }
        } else {
                a->dir = -1;
        }
        *out = a;
        return 0;
}

static void write_rec(struct audit *a, const struct audit_rec *r,
                      uint64_t again);

/* The counts of refusals repeated since their line. */
static void flush_agg(struct audit *a, struct agg *g)
{
        if (!g->key || !g->again)
                return;
        char msg[128];
        snprintf(msg, sizeof(msg),
                 "%llu more of the same within a second of the line before",
                 (unsigned long long)g->again);
        struct audit_rec r = {.proto = g->proto, .host = g->host,
                              .port = g->port, .verdict = g->verdict,
                              .reason = g->reason, .message = msg};
        write_rec(a, &r, g->again);
        g->again = 0;
}

void audit_free(struct audit *a)
{
        if (!a)
                return;
        for (size_t i = 0; i < AGG_SLOTS; i++)
                flush_agg(a, &a->agg[i]);
        if (a->f)
                fclose(a->f);
        if (a->dir >= 0)
                close(a->dir);
        free(a->name);
        for (size_t i = 0; i < a->nseen; i++)
                free(a->seen[i]);
        free(a);
}

static void add_str(json_object *o, const char *k, const char *v)
{
        if (v)
                json_object_object_add(o, k, json_object_new_string(v));
}

static uint64_t rec_key(const struct audit_rec *r)
{
        /* FNV-1a over what makes two refusals the same */
        uint64_t h = 1469598103934665603ull;
        const char *parts[] = {r->proto, r->host, r->verdict, r->reason};
        for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
                for (const char *p = parts[i] ? parts[i] : ""; *p; p++)
                        h = (h ^ (unsigned char)*p) * 1099511628211ull;
                h = (h ^ 0xff) * 1099511628211ull;
        }
        h = (h ^ r->port) * 1099511628211ull;
        return h ? h : 1;
}

static double secs_between(const struct timespec *a, const struct timespec *b)
{
        return (double)(b->tv_sec - a->tv_sec) +
               (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void write_rec(struct audit *a, const struct audit_rec *r,
                      uint64_t again)
{
        bool allowed = r->verdict && strcmp(r->verdict, "allow") == 0;
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
        add_str(o, "event", r->event);
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
        if (again)
                json_object_object_add(o, "repeated",
                                       json_object_new_int64((int64_t)again));
        add_str(o, "message", r->message);
        const char *s = json_object_to_json_string_ext(
                o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        long len = (long)strlen(s) + 1;
        if (!allowed && a->refusals + len > NET_AUDIT_MAX) {
                /* refusals have a share of their own: what allows is
                 * always written, whatever the box floods */
                a->capped = true;
                json_object_put(o);
                static const char m[] =
                        "agentbox: the audit log reached its share for "
                        "refusals this run; further refusals are not logged "
                        "(what is allowed still is)";
                struct audit_rec c = {.proto = "audit", .host = "*",
                                      .verdict = "error",
                                      .reason = "denials-capped",
                                      .message = m};
                a->refusals = 0; /* room for this one line */
                write_rec(a, &c, 0);
                a->refusals = NET_AUDIT_MAX;
                say("%s", m);
                return;
        }
        if (a->size + len > NET_AUDIT_ROTATE && rotate(a) < 0) {
                json_object_put(o);
                return;
        }
        if (a->f && fprintf(a->f, "%s\n", s) > 0) {
                a->size += len;
                if (!allowed)
                        a->refusals += len;
        }
        json_object_put(o);
}

void audit_log(struct audit *a, const struct audit_rec *r)
{
        if (!a || !a->f)
                return;
        bool allowed = r->verdict && strcmp(r->verdict, "allow") == 0;
        if (!allowed) {
                if (a->capped)
                        return;
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                uint64_t key = rec_key(r);
                struct agg *g = &a->agg[key % AGG_SLOTS];
                if (g->key == key && secs_between(&g->first, &now) < 1.0) {
                        g->again++;
                        return;
                }
                flush_agg(a, g);
                *g = (struct agg){.key = key, .first = now, .port = r->port};
                snprintf(g->proto, sizeof(g->proto), "%s",
                         r->proto ? r->proto : "");
                snprintf(g->host, sizeof(g->host), "%s",
                         r->host ? r->host : "");
                snprintf(g->verdict, sizeof(g->verdict), "%s",
                         r->verdict ? r->verdict : "");
                snprintf(g->reason, sizeof(g->reason), "%s",
                         r->reason ? r->reason : "");
        }
        write_rec(a, r, 0);
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
