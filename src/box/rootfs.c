/* The box's root: a fresh tmpfs holding read-only views of the system, a
 * minimal /dev, a fresh /proc, private tmpfs scratch space and home, and the
 * workspace.  Sources are cloned (open_tree) before anything is mounted, so
 * a workspace under /tmp is unaffected by the new root living there. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/util.h"
#include "internal.h"

#define NEWROOT "/tmp"
#define STAGE "/.agentbox-stage"

enum src_kind { SRC_RO, SRC_RW, SRC_DEV, SRC_BIND };

struct src {
        const char *host; /* static strings, the workspace or the repo */
        const char *box;
        enum src_kind kind;
        bool optional;
        int fd;
        struct box_spec *spec;
        bool repo; /* SRC_RW: the linked worktree's repository */
        const struct box_mount *bind; /* SRC_BIND: filesystem.mounts */
};

#define MAX_SRCS (24 + BOX_MOUNTS_MAX)

struct plan {
        struct src s[MAX_SRCS];
        size_t n;
};

static void plan_add(struct plan *p, const char *host, const char *box,
                     enum src_kind kind, bool optional)
{
        if (p->n >= MAX_SRCS)
                box_die("too many mounts");
        struct src *s = &p->s[p->n++];
        s->host = host;
        s->box = box;
        s->kind = kind;
        s->optional = optional;
        s->fd = -1;
}

/* A filesystem.mounts source as a detached mount: the object the
 * supervisor checked (no link on the way, the same dev and inode), not
 * recursive (a mount below the source, a credential store bound there, is
 * not the source's and stays out), nosuid, nodev, read-only unless rw.
 * The fd, or -errno (-ESTALE: it changed). */
int box_bind_clone(const struct box_mount *m)
{
        _cleanup_close_ int at = fileio_open_nolinks(
                AT_FDCWD, m->host, O_PATH | O_CLOEXEC, true);
        struct stat st;
        if (at < 0 || fstat(at, &st) < 0 || st.st_dev != m->dev ||
            st.st_ino != m->ino)
                return -ESTALE;
        int fd = open_tree(at, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                                           AT_EMPTY_PATH);
        if (fd < 0)
                return -errno;
        struct mount_attr a = {.attr_set = MOUNT_ATTR_NOSUID |
                                           MOUNT_ATTR_NODEV};
        if (!m->rw)
                a.attr_set |= MOUNT_ATTR_RDONLY;
        if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a,
                          sizeof(a)) < 0) {
                int e = errno;
                close(fd);
                return -e;
        }
        return fd;
}

static void clone_bind(struct src *s)
{
        int fd = box_bind_clone(s->bind);
        if (fd == -ESTALE)
                box_die("filesystem.mounts %s changed or vanished while the "
                        "box started",
                        s->bind->host);
        if (fd < 0)
                box_die_errno(-fd, "cannot bind %s into the box",
                              s->bind->host);
        s->fd = fd;
}

/* Clone one source as a detached mount tree and set its flags. */
static void clone_src(struct src *s)
{
        if (s->kind == SRC_RW && s->spec->id.idmapped)
                return; /* the supervisor prepares it; see place_src */
        int fd;
        if (s->kind == SRC_BIND) {
                /* under root the supervisor makes it (see place_src) */
                if (!s->spec->id.invoker_root)
                        clone_bind(s);
                return;
        }
        if (s->kind == SRC_RW) {
                /* the workspace (or its repository): make sure it is the
                 * one that was checked */
                const struct box_spec *sp = s->spec;
                _cleanup_close_ int dir =
                        s->repo ? box_dir_open(sp->repo_path, sp->repo_dev,
                                               sp->repo_ino)
                                : box_dir_open(sp->policy->workspace,
                                               sp->ws_dev, sp->ws_ino);
                if (dir < 0)
                        box_die_errno(-dir, "workspace %s changed or vanished "
                                      "while the box started", s->host);
                fd = open_tree(dir, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                                                AT_RECURSIVE | AT_EMPTY_PATH);
        } else {
                fd = open_tree(AT_FDCWD, s->host,
                               OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                                       AT_RECURSIVE);
        }
        if (fd < 0) {
                if (s->optional && errno == ENOENT)
                        return;
                box_die_errno(errno, "cannot bind %s into the box", s->host);
        }
        struct mount_attr a = {.attr_set = MOUNT_ATTR_NOSUID};
        if (s->kind == SRC_RO)
                a.attr_set |= MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV;
        else if (s->kind == SRC_RW)
                a.attr_set |= MOUNT_ATTR_NODEV;
        else /* device nodes: usable, but their modes and times fixed */
                a.attr_set |= MOUNT_ATTR_NOEXEC | MOUNT_ATTR_RDONLY;
        if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a,
                          sizeof(a)) < 0)
                box_die_errno(errno, "cannot make %s %s", s->host,
                              s->kind == SRC_RO ? "read-only" : "nosuid");
        s->fd = fd;
}

static void mkdir_p(const char *path, mode_t mode)
{
        char buf[PATH_MAX];
        snprintf(buf, sizeof(buf), "%s", path);
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(buf, mode) < 0 && errno != EEXIST)
                        box_die_errno(errno, "mkdir %s", buf);
                *p = '/';
        }
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                box_die_errno(errno, "mkdir %s", buf);
}

static void touch(const char *path, mode_t mode)
{
        int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                box_die_errno(errno, "create %s", path);
        close(fd);
}

static void place_src(struct src *s)
{
        char dst[PATH_MAX];
        if (s->kind == SRC_RW && s->spec->id.idmapped) {
                /* the idmapped mount, prepared meanwhile by the supervisor */
                box_child_ready(s->spec);
                s->fd = s->repo ? s->spec->repo_mount_fd
                                : s->spec->workspace_fd;
        }
        if (s->kind == SRC_BIND && s->spec->id.invoker_root) {
                box_child_ready(s->spec);
                s->fd = s->bind->fd;
        }
        if (s->fd < 0)
                return;
        if (snprintf(dst, sizeof(dst), NEWROOT "%s", s->box) >=
            (int)sizeof(dst))
                box_die("path too long: %s", s->box);
        struct stat st;
        if (fstat(s->fd, &st) < 0)
                box_die_errno(errno, "stat %s", s->host);
        if (S_ISDIR(st.st_mode))
                mkdir_p(dst, 0755);
        else
                touch(dst, 0644);
        if (move_mount(s->fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                box_die_errno(errno, "cannot mount %s at %s", s->host, s->box);
        close(s->fd);
        s->fd = -1;
}

/* The box's own pseudo-terminals: enough for any tmux or expect in it,
 * far from the host's kernel.pty.max, which all instances share. */
#define BOX_PTYS_MAX "128"

static void mount_tmpfs(const char *box, const char *opts, unsigned long fl)
{
        char dst[PATH_MAX];
        snprintf(dst, sizeof(dst), NEWROOT "%s", box);
        mkdir_p(dst, 0755);
        if (mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV | fl, opts) < 0)
                box_die_errno(errno, "cannot mount a tmpfs at %s", box);
}

static void plan_system(struct plan *p, struct box_spec *spec)
{
        plan_add(p, "/usr", "/usr", SRC_RO, false);
        plan_add(p, "/etc", "/etc", SRC_RO, false);
        plan_add(p, "/opt", "/opt", SRC_RO, true);
        /* usr-merge: links stay links, real directories are bound. */
        static const char *const top[] = {"/bin",   "/sbin",  "/lib",
                                          "/lib32", "/lib64", "/libx32"};
        for (size_t i = 0; i < ARRAY_SIZE(top); i++) {
                struct stat st;
                if (lstat(top[i], &st) == 0 && S_ISDIR(st.st_mode))
                        plan_add(p, top[i], top[i], SRC_RO, false);
        }
        static const char *const devs[] = {"/dev/null",   "/dev/zero",
                                           "/dev/full",   "/dev/random",
                                           "/dev/urandom", "/dev/tty"};
        for (size_t i = 0; i < ARRAY_SIZE(devs); i++)
                plan_add(p, devs[i], devs[i], SRC_DEV, false);
        /* the repository before the workspace: one may hold the other's
         * path, and a mount placed later would cover the earlier */
        if (spec->repo_path) {
                plan_add(p, spec->repo_path, spec->repo_path, SRC_RW, false);
                p->s[p->n - 1].spec = spec;
                p->s[p->n - 1].repo = true;
        }
        plan_add(p, spec->policy->workspace, spec->policy->workspace, SRC_RW,
                 false);
        p->s[p->n - 1].spec = spec;
        /* the policy's own mounts last: in the home or scratch space,
         * never over the workspace or the system (session/mounts.c) */
        for (size_t i = 0; i < spec->n_mounts; i++) {
                plan_add(p, spec->mounts[i].host, spec->mounts[i].box,
                         SRC_BIND, false);
                p->s[p->n - 1].bind = &spec->mounts[i];
                p->s[p->n - 1].spec = spec;
        }
}

static void make_links(void)
{
        static const char *const top[] = {"bin",   "sbin",  "lib",
                                          "lib32", "lib64", "libx32"};
        for (size_t i = 0; i < ARRAY_SIZE(top); i++) {
                char host[64], target[PATH_MAX], dst[PATH_MAX];
                snprintf(host, sizeof(host), "/%s", top[i]);
                ssize_t n = readlink(host, target, sizeof(target) - 1);
                if (n < 0)
                        continue;
                target[n] = 0;
                snprintf(dst, sizeof(dst), NEWROOT "/%s", top[i]);
                if (symlink(target, dst) < 0)
                        box_die_errno(errno, "symlink %s", dst);
        }
        static const char *const devlinks[][2] = {
                {"/proc/self/fd", "/dev/fd"},
                {"/proc/self/fd/0", "/dev/stdin"},
                {"/proc/self/fd/1", "/dev/stdout"},
                {"/proc/self/fd/2", "/dev/stderr"},
                {"pts/ptmx", "/dev/ptmx"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(devlinks); i++) {
                char dst[PATH_MAX];
                snprintf(dst, sizeof(dst), NEWROOT "%s", devlinks[i][1]);
                if (symlink(devlinks[i][0], dst) < 0)
                        box_die_errno(errno, "symlink %s", dst);
        }
}

static void write_stage_file(const char *name, const char *content,
                             mode_t mode)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), NEWROOT STAGE "/%s", name);
        int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
        if (fd < 0)
                box_die_errno(errno, "create %s", path);
        if (fileio_write_all(fd, content, strlen(content)) < 0)
                box_die_errno(errno, "write %s", path);
        close(fd);
}

/* The box's /etc/hosts: its own names, and the allowed names the DNS
 * stub will answer the same way (policy_premapped_names). */
static char *hosts_file(const struct policy *p)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        if (!f)
                box_die_errno(errno, "building the box's /etc/hosts");
        fputs("127.0.0.1\tlocalhost " BOX_HOSTNAME "\n"
              "::1\tlocalhost ip6-localhost ip6-loopback\n",
              f);
        const char *names[POLICY_PREMAPPED_MAX];
        size_t n = policy_premapped_names(p, names);
        for (size_t i = 0; i < n; i++) {
                uint32_t a = POLICY_MAPPED_BASE + 1 + (uint32_t)i;
                fprintf(f, "%u.%u.%u.%u\t%s\n", a >> 24, (a >> 16) & 0xff,
                        (a >> 8) & 0xff, a & 0xff, names[i]);
        }
        if (fclose(f) != 0)
                box_die_errno(errno, "building the box's /etc/hosts");
        return out;
}

static void stage_files(const char *shell, const struct policy *p)
{
        char passwd[512];
        snprintf(passwd, sizeof(passwd),
                 "root:x:0:0:root:/root:/usr/sbin/nologin\n"
                 "%s:x:%d:%d:agentbox agent:%s:%s\n"
                 "nobody:x:65534:65534:nobody:/nonexistent:"
                 "/usr/sbin/nologin\n",
                 BOX_USER, BOX_UID, BOX_GID, BOX_HOME, shell);
        char group[256];
        snprintf(group, sizeof(group),
                 "root:x:0:\n%s:x:%d:\nnogroup:x:65534:\n", BOX_USER, BOX_GID);
        mkdir_p(NEWROOT STAGE, 0755);
        write_stage_file("passwd", passwd, 0644);
        write_stage_file("group", group, 0644);
        write_stage_file("hostname", BOX_HOSTNAME "\n", 0644);
        char *hosts = hosts_file(p);
        write_stage_file("hosts", hosts, 0644);
        free(hosts);
        /* The box's DNS is the supervisor's stub (DESIGN.md §2); with
         * --net off nothing answers there, and lookups fail at once. */
        write_stage_file("resolv.conf", "nameserver 127.0.0.1\n", 0644);
        write_stage_file("masked", "", 0);
        /* ids of the box's own, not the host's: what ties a box's output
         * to one machine and one boot */
        unsigned char rnd[32];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                box_die_errno(errno, "getrandom");
        char id[64];
        for (int i = 0; i < 16; i++)
                snprintf(id + 2 * i, 3, "%02x", rnd[i]);
        id[32] = '\n';
        id[33] = 0;
        write_stage_file("machine-id", id, 0444);
        rnd[22] = (unsigned char)((rnd[22] & 0x0f) | 0x40); /* v4 */
        rnd[24] = (unsigned char)((rnd[24] & 0x3f) | 0x80);
        snprintf(id, sizeof(id),
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                 "%02x%02x%02x%02x%02x%02x\n",
                 rnd[16], rnd[17], rnd[18], rnd[19], rnd[20], rnd[21],
                 rnd[22], rnd[23], rnd[24], rnd[25], rnd[26], rnd[27],
                 rnd[28], rnd[29], rnd[30], rnd[31]);
        write_stage_file("boot_id", id, 0444);
        write_stage_file("cmdline", "\n", 0444);
        if (mkdir(NEWROOT STAGE "/masked.d", 0) < 0)
                box_die_errno(errno, "mkdir masked.d");
}

/* A read-only, nosuid, nodev clone of src (a path inside the box), not
 * yet attached anywhere: the fd. */
static int ro_clone(const char *src)
{
        int m = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (m < 0)
                box_die_errno(errno, "cannot bind %s", src);
        struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY |
                                           MOUNT_ATTR_NOSUID |
                                           MOUNT_ATTR_NODEV};
        if (mount_setattr(m, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
                box_die_errno(errno, "cannot make %s read-only", src);
        return m;
}

/* Attach the detached mount m over dst, following a link at dst as
 * mount(2) would: 0, or -errno (-ENOENT: nothing there). */
static int attach(int m, const char *dst)
{
        return move_mount(m, "", AT_FDCWD, dst,
                          MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) < 0
                       ? -errno
                       : 0;
}

/* Bind src over dst (paths inside the box), read-only: a clone made
 * read-only before it is attached (three system calls; a bind and a
 * remount by path cost twice as much). */
static int bind_ro(const char *src, const char *dst)
{
        _cleanup_close_ int m = ro_clone(src);
        return attach(m, dst);
}

/* The two stand-ins of what is hidden: the first mask of each kind is a
 * read-only clone of it, and each later one a clone of that mount, once
 * attached (a detached mount cannot be cloned before Linux 6.15);
 * mask_etc closes them. */
static int masked_src[2] = {-1, -1};

static void mask(const char *path)
{
        struct stat st;
        if (stat(path, &st) < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return; /* nothing there to hide */
                box_die_errno(errno, "stat %s", path);
        }
        bool dir = S_ISDIR(st.st_mode);
        int *src = &masked_src[dir];
        bool first = *src < 0;
        _cleanup_close_ int m =
                first ? ro_clone(dir ? STAGE "/masked.d" : STAGE "/masked")
                      : open_tree(*src, "",
                                  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                                          AT_EMPTY_PATH);
        int r = m < 0 ? -errno : attach(m, path);
        if (r < 0)
                box_die_errno(-r, "cannot hide %s", path);
        if (first && (*src = fcntl(m, F_DUPFD_CLOEXEC, 3)) < 0)
                box_die_errno(errno, "cannot hide %s", path);
}

/* Secrets every host may keep in /etc.  Mode bits hide them from the
 * agent already (it is never host root); this is the second layer. */
static const char *const etc_secrets[] = {
        "/etc/shadow",           "/etc/shadow-",
        "/etc/gshadow",          "/etc/gshadow-",
        "/etc/security/opasswd", "/etc/sudoers",
        "/etc/sudoers.d",        "/etc/ssl/private",
        "/etc/krb5.keytab",      "/etc/ipsec.secrets",
        "/etc/ppp/chap-secrets", "/etc/ppp/pap-secrets",
        "/etc/NetworkManager/system-connections",
        "/etc/wpa_supplicant",   "/etc/credstore",
        "/etc/credstore.encrypted",
        /* root-only secrets real hosts keep in /etc: VPNs, certificates'
         * keys, package-repository and database credentials, clusters' */
        "/etc/netplan",          "/etc/wireguard",
        "/etc/openvpn",          "/etc/letsencrypt",
        "/etc/pki/tls/private",  "/etc/pki/CA/private",
        "/etc/pki/private",      "/etc/apt/auth.conf",
        "/etc/apt/auth.conf.d",  "/etc/mysql/debian.cnf",
        "/etc/kubernetes",       "/etc/rancher",
        "/etc/docker/key.json",  "/etc/libvirt/secrets",
        "/etc/samba/private",    "/etc/ssl/certs/ssl-cert-snakeoil.key",
        "/etc/strongswan.d",     "/etc/swanctl",
        "/etc/ceph",             "/etc/restic",
        "/etc/nebula",           "/etc/tailscale",
};

static void mask_etc(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(etc_secrets); i++)
                mask(etc_secrets[i]);
        _cleanup_close_ int d = open("/etc/ssh", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *dir = d >= 0 ? fdopendir(steal_fd(&d)) : NULL;
        for (struct dirent *e; dir && (e = readdir(dir));) {
                size_t n = strlen(e->d_name);
                if (strncmp(e->d_name, "ssh_host_", 9) == 0 &&
                    !(n > 4 && strcmp(e->d_name + n - 4, ".pub") == 0)) {
                        char path[PATH_MAX];
                        snprintf(path, sizeof(path), "/etc/ssh/%s", e->d_name);
                        mask(path);
                }
        }
        if (dir)
                closedir(dir);
        for (size_t i = 0; i < ARRAY_SIZE(masked_src); i++)
                if (masked_src[i] >= 0) {
                        close(masked_src[i]);
                        masked_src[i] = -1;
                }
}

static void replace_etc(const char *name)
{
        char src[PATH_MAX], dst[PATH_MAX];
        snprintf(src, sizeof(src), STAGE "/%s", name);
        snprintf(dst, sizeof(dst), "/etc/%s", name);
        int r = bind_ro(src, dst);
        if (r < 0 && r != -ENOENT)
                box_die_errno(-r, "cannot replace %s", dst);
}

/* /etc/resolv.conf is often a symlink into /run (systemd-resolved,
 * resolvconf), which the box does not have: make its target in the box's
 * own root (still writable here, inside the box) and bind over that.  If
 * even that cannot be done the link dangles, and a resolver with no
 * resolv.conf asks 127.0.0.1, the stub, anyway. */
static void replace_resolv_conf(void)
{
        int r = bind_ro(STAGE "/resolv.conf", "/etc/resolv.conf");
        if (r == 0)
                return;
        if (r != -ENOENT) /* never leave the host's in place */
                box_die_errno(-r, "cannot point the box's /etc/resolv.conf "
                                  "at its DNS stub");
        char target[PATH_MAX - 8], path[PATH_MAX];
        ssize_t n = readlink("/etc/resolv.conf", target, sizeof(target) - 1);
        if (n <= 0)
                return; /* no file at all */
        target[n] = 0;
        snprintf(path, sizeof(path), "%s%s", target[0] == '/' ? "" : "/etc/",
                 target);
        for (char *p = path + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                (void)mkdir(path, 0755);
                *p = '/';
        }
        int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return;
        close(fd);
        r = bind_ro(STAGE "/resolv.conf", "/etc/resolv.conf");
        if (r < 0)
                box_die_errno(-r, "cannot point the box's /etc/resolv.conf "
                                  "at its DNS stub");
}

static void remount_ro_tmpfs(const char *path);

/* /etc/agentbox/README: what the box protects and why, for an agent
 * whose write to a protected path failed.  Where the host has
 * /etc/agentbox (agentbox's own configuration directory; installing
 * agentbox makes it), a small read-only tmpfs over it holds the note;
 * the host's files there are not the box's business. */
bool box_etc_shown(void)
{
        struct stat st;
        return stat("/etc/agentbox", &st) == 0 && S_ISDIR(st.st_mode);
}

static void write_readme(const struct policy *p)
{
        if (!box_etc_shown())
                return;
        if (mount("tmpfs", "/etc/agentbox", "tmpfs",
                  MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k") < 0)
                box_die_errno(errno, "cannot mount /etc/agentbox");
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                box_die("out of memory");
        fprintf(f,
                "This is an agentbox box.  The workspace %s is shared with "
                "the host\n"
                "read-write, except its protected paths: files that the "
                "host user's own\n"
                "tools run later without being asked (git's hooks and "
                "config, agents' and\n"
                "editors' project settings).  In the box each is read-only "
                "and can be\n"
                "neither created, removed, renamed nor replaced, nor can a "
                "directory above\n"
                "it: writes fail with EROFS, renames and removals with "
                "EBUSY, and a missing\n"
                "one is held by a socket node (ENXIO, ENOTDIR below it).  "
                "git works, but\n"
                "git config, git remote add and git init at the root do "
                "not.\n\n"
                "Protected here:\n",
                p->workspace);
        for (size_t i = 0; i < protect_defaults_n; i++)
                if (protect_default_active(&p->protect, i))
                        fprintf(f, "  %-24s %s\n", protect_defaults[i].path,
                                protect_defaults[i].why);
        for (size_t i = 0; i < p->protect.n_add; i++)
                fprintf(f, "  %-24s (added with --protect)\n",
                        p->protect.add[i]);
        fprintf(f, "\nWhoever runs agentbox can change this: "
                   "--unprotect PATH removes a path\n"
                   "(and what is below it), --protect PATH adds one.  See "
                   "agentbox(1),\n"
                   "\"Protected paths\".  FIFOs, sockets and device nodes "
                   "cannot be made in the\n"
                   "workspace at all.\n");
        if (fclose(f) != 0)
                box_die("out of memory");
        int fd = open("/etc/agentbox/README",
                      O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0444);
        if (fd < 0 || fileio_write_all(fd, text, len) < 0)
                box_die_errno(errno, "writing /etc/agentbox/README");
        close(fd);
        free(text);
        for (size_t i = 0; i < p->n_box_files; i++) {
                const struct policy_boxfile *b = &p->box_files[i];
                if (!b->name[0] || strchr(b->name, '/') ||
                    strcmp(b->name, "README") == 0 || b->name[0] == '.')
                        box_die("box file name \"%s\"", b->name);
                char path[PATH_MAX];
                snprintf(path, sizeof(path), "/etc/agentbox/%s", b->name);
                fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0444);
                if (fd < 0 || fileio_write_all(fd, b->text, strlen(b->text)) < 0)
                        box_die_errno(errno, "writing %s", path);
                close(fd);
        }
        remount_ro_tmpfs("/etc/agentbox");
}

static void unstage(void)
{
        static const char *const names[] = {
                "passwd",  "group",      "hostname", "hosts",
                "resolv.conf", "masked", "machine-id", "boot_id",
                "cmdline"};
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                char path[PATH_MAX];
                snprintf(path, sizeof(path), STAGE "/%s", names[i]);
                if (unlink(path) < 0)
                        box_die_errno(errno, "unlink %s", path);
        }
        if (rmdir(STAGE "/masked.d") < 0 || rmdir(STAGE) < 0)
                box_die_errno(errno, "rmdir " STAGE);
}

static void pivot(void)
{
        if (chdir(NEWROOT) < 0)
                box_die_errno(errno, "chdir " NEWROOT);
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                box_die_errno(errno, "pivot_root");
        if (umount2(".", MNT_DETACH) < 0)
                box_die_errno(errno, "detaching the host's root");
        if (chdir("/") < 0)
                box_die_errno(errno, "chdir /");
}

static void remount_ro_tmpfs(const char *path)
{
        if (mount(NULL, path, NULL,
                  MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  NULL) < 0)
                box_die_errno(errno, "cannot make %s read-only", path);
}

static void remount_ro(const char *path, unsigned long extra)
{
        if (mount(NULL, path, NULL,
                  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV |
                          extra,
                  NULL) < 0)
                box_die_errno(errno, "cannot make %s read-only", path);
}

void box_rootfs_setup(struct box_spec *spec)
{
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                box_die_errno(errno, "making mounts private");

        struct plan plan = {0};
        plan_system(&plan, spec);
        for (size_t i = 0; i < plan.n; i++)
                clone_src(&plan.s[i]);

        if (mount("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV,
                  "mode=0755,size=1m,nr_inodes=4096") < 0)
                box_die_errno(errno, "cannot mount the box's root tmpfs");
        mount_tmpfs("/dev", "mode=0755,size=64k,nr_inodes=1024", MS_NOEXEC);
        /* Capped, in bytes and in inodes: the box's scratch space is
         * memory, and a box must not be able to fill the host's.  The
         * sizes follow the memory budget (box_memory_plan). */
        const struct box_memory *m = &spec->mem;
        char tmp[96], home[128], shm[96];
        snprintf(tmp, sizeof(tmp), "mode=1777,size=%llu,nr_inodes=%llu",
                 (unsigned long long)m->tmp_size,
                 (unsigned long long)m->tmp_inodes);
        snprintf(home, sizeof(home),
                 "mode=0700,uid=1000,gid=1000,size=%llu,nr_inodes=%llu",
                 (unsigned long long)m->tmp_size,
                 (unsigned long long)m->tmp_inodes);
        snprintf(shm, sizeof(shm), "mode=1777,size=%llu,nr_inodes=%llu",
                 (unsigned long long)m->shm_size,
                 (unsigned long long)m->shm_inodes);
        mount_tmpfs("/tmp", tmp, 0);
        mount_tmpfs("/var/tmp", tmp, 0);
        mount_tmpfs(BOX_HOME, home, 0);
        mount_tmpfs("/dev/shm", shm, MS_NOEXEC);

        mkdir_p(NEWROOT "/dev/pts", 0755);
        if (mount("devpts", NEWROOT "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                  "newinstance,ptmxmode=0666,mode=0620,max=" BOX_PTYS_MAX) < 0)
                box_die_errno(errno, "cannot mount /dev/pts");
        mkdir_p(NEWROOT "/proc", 0555);
        if (mount("proc", NEWROOT "/proc", "proc",
                  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                box_die_errno(errno, "cannot mount /proc for the box");

        /* The workspace goes last: it may live under /tmp or /home. */
        for (size_t i = 0; i < plan.n; i++)
                place_src(&plan.s[i]);
        make_links();
        stage_files(spec->shell, spec->policy);

        pivot();
        mask_etc();
        static const char *const etc_files[] = {"passwd", "group", "hostname",
                                                "hosts", "machine-id"};
        for (size_t i = 0; i < ARRAY_SIZE(etc_files); i++)
                replace_etc(etc_files[i]);
        replace_resolv_conf();
        /* the host's boot line (its root device, its options) and boot */
        int r = bind_ro(STAGE "/cmdline", "/proc/cmdline");
        if (r == 0)
                r = bind_ro(STAGE "/boot_id",
                            "/proc/sys/kernel/random/boot_id");
        if (r < 0 && r != -ENOENT)
                box_die_errno(-r, "cannot replace the box's boot_id");
        write_readme(spec->policy);
        unstage();
        remount_ro("/dev", MS_NOEXEC);
        remount_ro("/", 0);
        if (chdir(spec->policy->workspace) < 0)
                box_die_errno(errno, "chdir %s", spec->policy->workspace);
}
