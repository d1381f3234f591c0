/* An agent's settings file in agentbox's state directory for it. */
#include "agentcfg.h"

#include <errno.h>
#include <fcntl.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/util.h"

/* obj[key], made an object when it is not one */
static json_object *child(json_object *obj, const char *key)
{
        json_object *c = NULL;
        if (json_object_object_get_ex(obj, key, &c) &&
            json_object_is_type(c, json_type_object))
                return c;
        c = json_object_new_object();
        if (!c || json_object_object_add(obj, key, c) < 0) {
                json_object_put(c);
                return NULL;
        }
        return c;
}

static int set(json_object *root, const char *a, const char *b,
               json_object *v)
{
        json_object *o = child(root, a);
        if (!o || !v || json_object_object_add(o, b, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

int agentcfg_gemini(const char *in, size_t len, unsigned flags, char **out,
                    struct ab_err *err)
{
        json_object *root = NULL;
        if (in && len) {
                json_tokener *t = json_tokener_new_ex(64);
                if (!t)
                        return err_set(err, -ENOMEM, "out of memory");
                root = json_tokener_parse_ex(t, in, (int)len);
                enum json_tokener_error e = json_tokener_get_error(t);
                size_t used = json_tokener_get_parse_end(t);
                json_tokener_free(t);
                /* the whole text, one object (gemini allows comments,
                 * as json-c does) */
                bool rest = false;
                for (size_t i = used; i < len; i++)
                        rest |= !strchr(" \t\r\n", in[i]);
                if (e != json_tokener_success || rest ||
                    !json_object_is_type(root, json_type_object)) {
                        json_object_put(root);
                        return err_set(err, -EINVAL,
                                       "not a JSON object%s%s",
                                       e != json_tokener_success ? ": " : "",
                                       e != json_tokener_success
                                               ? json_tokener_error_desc(e)
                                               : "");
                }
        } else
                root = json_object_new_object();
        if (!root)
                return err_set(err, -ENOMEM, "out of memory");
        int r = 0;
        /* nonessential traffic: usage statistics (play.googleapis.com),
         * telemetry, update checks and self-updates (npm) */
        bool quiet = flags & AGENTCFG_QUIET,
             api_key_auth = flags & AGENTCFG_KEY_AUTH;
        /* what would run a command in every later box, of any project */
        if (flags & AGENTCFG_NO_CODE) {
                json_object_object_del(root, "mcpServers");
                json_object_object_del(root, "hooks");
                json_object_object_del(root, "hooksConfig");
                json_object *t = NULL;
                if (json_object_object_get_ex(root, "tools", &t) &&
                    json_object_is_type(t, json_type_object)) {
                        json_object_object_del(t, "discoveryCommand");
                        json_object_object_del(t, "callCommand");
                }
        }
        if (flags & AGENTCFG_ASK) {
                json_object *t = NULL;
                if (json_object_object_get_ex(root, "tools", &t) &&
                    json_object_is_type(t, json_type_object))
                        json_object_object_del(t, "allowed");
        }
        if (quiet) {
                r |= set(root, "privacy", "usageStatisticsEnabled",
                         json_object_new_boolean(0));
                r |= set(root, "telemetry", "enabled",
                         json_object_new_boolean(0));
                r |= set(root, "general", "enableAutoUpdate",
                         json_object_new_boolean(0));
                r |= set(root, "general", "enableAutoUpdateNotification",
                         json_object_new_boolean(0));
        }
        /* the API key stays out of its tools' environment */
        json_object *sec = child(root, "security");
        if (!sec)
                r = -ENOMEM;
        else
                r |= set(sec, "environmentVariableRedaction", "enabled",
                         json_object_new_boolean(1));
        /* with GOOGLE_GEMINI_BASE_URL it would pick an auth type its own
         * validator refuses */
        if (api_key_auth && sec)
                r |= set(sec, "auth", "selectedType",
                         json_object_new_string("gemini-api-key"));
        /* compact: pretty, a deep file the box left would grow by its
         * indentation at each start */
        size_t n = 0;
        const char *s = r ? NULL
                          : json_object_to_json_string_length(
                                    root, JSON_C_TO_STRING_PLAIN |
                                                  JSON_C_TO_STRING_NOSLASHESCAPE,
                                    &n);
        if (s && n > AGENTCFG_MAX) {
                json_object_put(root);
                return err_set(err, -EFBIG, "over 1 MiB once rewritten");
        }
        *out = s ? strdup(s) : NULL;
        json_object_put(root);
        return *out ? 0 : err_set(err, -ENOMEM, "out of memory");
}

int agentcfg_read(int dir_fd, const char *name, char **out, size_t *len)
{
        struct stat st;
        *out = NULL;
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        *out = fileio_read_small(dir_fd, name, true, AGENTCFG_MAX, len);
        return *out ? 0 : -EINVAL;
}

int agentcfg_update(int dir_fd, const char *name, const char *shown,
                    int (*fn)(const char *in, size_t len, void *arg,
                              char **out, struct ab_err *err),
                    void *arg, struct ab_err *err)
{
        size_t len = 0;
        _cleanup_free_ char *in = NULL;
        int rr = agentcfg_read(dir_fd, name, &in, &len);
        if (rr == -EINVAL)
                return err_set(err, -EINVAL,
                               "%s: not a regular file of at most 1 MiB; "
                               "remove it",
                               shown);
        if (rr < 0)
                return err_setx(err, rr, "%s", shown);
        _cleanup_free_ char *out = NULL;
        int r = fn(in, len, arg, &out, err);
        if (r < 0) {
                char why[sizeof(err->msg)];
                snprintf(why, sizeof(why), "%s", err->msg);
                return err_set(err, r, "%s: %s; remove it, or fix it", shown,
                               why);
        }
        return agentcfg_put(dir_fd, NULL, name, out, shown, err);
}

int agentcfg_put(int dir_fd, const char *sub, const char *name,
                 const char *text, const char *shown, struct ab_err *err)
{
        int d = dir_fd;
        if (sub) {
                if (mkdirat(dir_fd, sub, 0700) < 0 && errno != EEXIST)
                        return err_setx(err, -errno, "%s", shown);
                d = fileio_open_subdir(dir_fd, sub);
                if (d < 0)
                        return err_setx(err, -errno,
                                        "%s (remove what is there)", shown);
        }
        char tmp[64];
        snprintf(tmp, sizeof(tmp), ".%s.agentbox-new", name);
        (void)unlinkat(d, tmp, 0);
        int fd = openat(d, tmp,
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        0600);
        int r = fd < 0 ? -errno : fileio_write_all(fd, text, strlen(text));
        if (fd >= 0 && close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && renameat(d, tmp, d, name) < 0)
                r = -errno;
        if (r < 0)
                (void)unlinkat(d, tmp, 0);
        if (sub)
                close(d);
        return r < 0 ? err_setx(err, r, "%s", shown) : 0;
}
