/* The box's terminal, host side (tty.h).  Every descriptor here is one of
 * our own, non-blocking: the caller's terminal is opened afresh (a new
 * open file, so O_NONBLOCK is never set on the one the caller's shell
 * shares), and what waits for a terminal that takes nothing is held in a
 * capped buffer, the box's side held back meanwhile.  The box can fill
 * its own terminal; it can never make agentbox wait. */
#include "tty.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/say.h"
#include "common/util.h"
#include "ttyfilter.h"

/* What may wait for the caller's terminal (the box's side is not read
 * beyond it), and for the box's (the caller's keys are not read beyond
 * it).  Messages of agentbox's own get a little more, then are dropped
 * (they are in the audit log). */
#define OUT_MAX (1u << 20)
#define IN_MAX (64u << 10)
#define SAY_SLACK (64u << 10)
#define FINISH_MS 1000      /* the terminal taking nothing, at the end */
#define FINISH_MAX_MS 10000 /* and taking it slowly */
#define HELD_MAX 64 /* different messages held while the box has the
                     * screen; more are counted */
#define CHUNK 16384

struct tty_relay {
        struct tty_caller tc;
        struct bufferevent *m;   /* the box's terminal: its output, our keys */
        struct bufferevent *in;  /* the caller's keys, or NULL */
        struct bufferevent *out; /* the caller's terminal, or NULL */
        int shared_fd[2];        /* a caller's stream (0, 1, 2) we could
                                  * not open afresh, made non-blocking: */
        int shared_fl[2];        /* its flags, to put back */
        bool raw;                /* the caller's terminal is raw now */
        bool out_dead;           /* the caller's terminal takes nothing */
        bool m_held, in_held;    /* not read: the other side is full */
        char last;               /* the last byte shown: a message starts on
                                  * a line of its own */
        size_t dropped;          /* messages not shown */
        size_t lost;             /* bytes of the box's last output not
                                  * shown: the terminal took nothing */
        struct tty_filter *filter; /* NULL: --tty-passthrough */
        bool alt_back;           /* stopped in the TUI's alternate screen */
        int slave;               /* ours, to see the box's terminal mode */
        char *held[HELD_MAX];    /* messages held, each once */
        size_t n_held, held_total;
};

/* The one relay whose terminal an exit must set back (atexit). */
static struct tty_relay *current;

/* What the caller's terminal was, for a signal handler: set only while the
 * relay has it raw. */
static volatile sig_atomic_t fatal_ctl = -1;
static struct termios fatal_saved;

bool tty_probe(struct tty_caller *tc)
{
        *tc = (struct tty_caller){.ctl = -1};
        for (int fd = 0; fd < 3; fd++) {
                tc->tty[fd] = isatty(fd) == 1;
                if (tc->tty[fd] && tc->ctl < 0 &&
                    tcgetattr(fd, &tc->saved) == 0)
                        tc->ctl = fd;
        }
        if (tc->ctl < 0)
                return false;
        if (ioctl(tc->ctl, TIOCGWINSZ, &tc->ws) < 0)
                tc->ws = (struct winsize){.ws_row = 24, .ws_col = 80};
        return true;
}

static void set_back(struct tty_relay *r)
{
        if (r->raw)
                tcsetattr(r->tc.ctl, TCSANOW, &r->tc.saved);
        r->raw = false;
        fatal_ctl = -1;
}

static void set_back_at_exit(void)
{
        if (current)
                set_back(current);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

/* A signal that would end agentbox (one it does not forward, or a crash):
 * the terminal set back first, then the signal's own effect. */
static void set_back_and_die(int sig)
{
        if (fatal_ctl >= 0)
                tcsetattr(fatal_ctl, TCSANOW, &fatal_saved);
        signal(sig, SIG_DFL);
        raise(sig);
}

static void catch_fatal(void)
{
        static const int sigs[] = {
                SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGPWR,
                SIGSTKFLT, SIGIO, SIGABRT,
#ifndef UNDER_SANITIZER
                /* under a sanitizer its own handler reports these */
                SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS,
#endif
        };
        struct sigaction sa = {.sa_handler = set_back_and_die};
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
                struct sigaction old;
                /* one the caller ignored stays ignored */
                if (sigaction(sigs[i], NULL, &old) == 0 &&
                    old.sa_handler == SIG_DFL)
                        sigaction(sigs[i], &sa, NULL);
        }
}

/* Raw, but for the suspend key: Ctrl-Z is the caller's shell's, to stop
 * agentbox with the box; every other key, Ctrl-C included, goes to the
 * box's own terminal, whose line discipline makes of it what the box's
 * settings say. */
static void make_raw(struct tty_relay *r)
{
        struct termios t = r->tc.saved;
        cfmakeraw(&t);
        t.c_lflag |= ISIG;
        t.c_cc[VINTR] = _POSIX_VDISABLE;
        t.c_cc[VQUIT] = _POSIX_VDISABLE;
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        fatal_saved = r->tc.saved;
        fatal_ctl = r->tc.ctl;
        if (tcsetattr(r->tc.ctl, TCSANOW, &t) == 0)
                r->raw = true;
        else
                fatal_ctl = -1;
}

/* Keys are read only while agentbox has the caller's terminal: a
 * background job that read it would be stopped (SIGTTIN), and the keys
 * are the foreground job's. */
static void take_foreground(struct tty_relay *r)
{
        bool fg = tcgetpgrp(r->tc.ctl) == getpgrp();
        /* in the background the terminal's answers would go to the
         * foreground job, not the box: no questions asked meanwhile */
        if (r->filter)
                r->filter->no_queries = !fg;
        if (fg && r->in)
                make_raw(r);
        if (r->in && fg && !r->in_held)
                bufferevent_enable(r->in, EV_READ);
        else if (r->in)
                bufferevent_disable(r->in, EV_READ);
}

/* The caller's stream fd, opened afresh (own open file: non-blocking
 * without touching the caller's); if that fails, a duplicate, made
 * non-blocking until tty_relay_finish puts its flags back. */
static int own_fd(struct tty_relay *r, int fd, int acc, int slot)
{
        char p[32];
        snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
        int n = open(p, acc | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (n >= 0)
                return n;
        n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        int fl = n < 0 ? -1 : fcntl(n, F_GETFL);
        /* stdin and stdout are often the one open file: its flags as the
         * caller had them, before the first of us changed them */
        for (int i = 0; i < slot; i++)
                if (r->shared_fd[i] >= 0 && fl >= 0 &&
                    fcntl(r->shared_fd[i], F_GETFL) == fl)
                        fl = r->shared_fl[i];
        if (fl < 0 || fcntl(n, F_SETFL, fl | O_NONBLOCK) < 0) {
                if (n >= 0)
                        close(n);
                return -1;
        }
        r->shared_fd[slot] = fd;
        r->shared_fl[slot] = fl;
        return n;
}

/* The caller's own open files (when shared), blocking as they were while
 * agentbox lets the caller have them (stopped, ended); non-blocking
 * again when it takes them back. */
static void shared_flags(struct tty_relay *r, bool ours)
{
        for (int i = 1; i >= 0; i--)
                if (r->shared_fd[i] >= 0)
                        fcntl(r->shared_fd[i], F_SETFL,
                              r->shared_fl[i] | (ours ? O_NONBLOCK : 0));
}

/* The box's program has the screen: the alternate screen, or its
 * terminal out of line mode (raw, cbreak: a TUI's). */
static bool box_has_screen(struct tty_relay *r)
{
        struct termios t;
        return (r->filter && (r->filter->modes & TTY_MODE_ALT)) ||
               (r->slave >= 0 && tcgetattr(r->slave, &t) == 0 &&
                !(t.c_lflag & ICANON));
}

/* n bytes of the box's output, filtered, to the caller's terminal. */
static void show(struct tty_relay *r, const unsigned char *p, size_t n)
{
        struct evbuffer *dst = bufferevent_get_output(r->out);
        if (!r->filter) {
                evbuffer_add(dst, p, n);
                r->last = (char)p[n - 1];
                return;
        }
        static unsigned char f[CHUNK + TTY_FILTER_SLACK];
        for (size_t i = 0; i < n; i += CHUNK) {
                size_t k = n - i < CHUNK ? n - i : CHUNK;
                size_t o = tty_filter_feed(r->filter, p + i, k, f);
                if (o) {
                        evbuffer_add(dst, f, o);
                        r->last = (char)f[o - 1];
                }
        }
}

static void say_now(struct tty_relay *r, const char *line, size_t len);

/* The messages held while the box had the screen, each once. */
static void show_held(struct tty_relay *r)
{
        for (size_t i = 0; i < r->n_held; i++) {
                say_now(r, r->held[i], strlen(r->held[i]));
                free(r->held[i]);
        }
        r->n_held = 0;
}

static void on_box_output(struct bufferevent *bev, void *arg)
{
        struct tty_relay *r = arg;
        struct evbuffer *src = bufferevent_get_input(bev);
        if (!r->out || r->out_dead) {
                evbuffer_drain(src, evbuffer_get_length(src));
                return;
        }
        struct evbuffer *dst = bufferevent_get_output(r->out);
        unsigned char buf[CHUNK];
        int n;
        while ((n = evbuffer_remove(src, buf, sizeof(buf))) > 0)
                show(r, buf, (size_t)n);
        if (evbuffer_get_length(dst) >= OUT_MAX) {
                bufferevent_disable(bev, EV_READ);
                r->m_held = true;
        }
        if (r->n_held && !box_has_screen(r))
                show_held(r);
}

/* The caller's terminal took some: read the box's side again. */
static void on_out_drained(struct bufferevent *bev, void *arg)
{
        (void)bev;
        struct tty_relay *r = arg;
        if (r->m_held) {
                r->m_held = false;
                bufferevent_enable(r->m, EV_READ);
        }
}

static void on_out_event(struct bufferevent *bev, short what, void *arg)
{
        (void)what;
        struct tty_relay *r = arg;
        /* hung up, or gone: nothing more is shown, the box goes on */
        r->out_dead = true;
        bufferevent_disable(bev, EV_WRITE);
        struct evbuffer *o = bufferevent_get_output(bev);
        evbuffer_drain(o, evbuffer_get_length(o));
        on_out_drained(bev, r);
}

static void on_keys(struct bufferevent *bev, void *arg)
{
        struct tty_relay *r = arg;
        struct evbuffer *dst = bufferevent_get_output(r->m);
        evbuffer_add_buffer(dst, bufferevent_get_input(bev));
        if (evbuffer_get_length(dst) >= IN_MAX) {
                bufferevent_disable(bev, EV_READ);
                r->in_held = true;
        }
}

/* The box read some keys: read the caller's again. */
static void on_box_drained(struct bufferevent *bev, void *arg)
{
        (void)bev;
        struct tty_relay *r = arg;
        if (r->in_held) {
                r->in_held = false;
                take_foreground(r);
        }
}

static void on_keys_event(struct bufferevent *bev, short what, void *arg)
{
        (void)what;
        (void)arg;
        bufferevent_disable(bev, EV_READ); /* the caller's terminal hung up */
}

static void on_box_event(struct bufferevent *bev, short what, void *arg)
{
        (void)what;
        (void)arg;
        /* every end of the box's terminal closed (EIO): it is ending */
        bufferevent_disable(bev, EV_READ | EV_WRITE);
}

/* agentbox's own line, on a line of its own, through the same buffer as
 * the box's output (raw: the line end is ours to write). */
static void say_now(struct tty_relay *r, const char *line, size_t len)
{
        if (r->out_dead) {
                r->dropped++;
                return;
        }
        struct evbuffer *o = bufferevent_get_output(r->out);
        if (evbuffer_get_length(o) + len + 4 > OUT_MAX + SAY_SLACK) {
                r->dropped++;
                return;
        }
        if (r->last && r->last != '\n')
                evbuffer_add(o, "\r\n", 2);
        /* in plain text: whatever colours, conceal or character set the
         * box left on would hide or garble it */
        if (r->filter && (r->filter->modes & TTY_MODE_CHARSET))
                evbuffer_add(o, "\x0f\x1b(B", 4);
        evbuffer_add(o, "\x1b[0m", 4);
        evbuffer_add(o, line, len);
        evbuffer_add(o, "\r\n", 2);
        r->last = '\n';
}

/* Now, or held while the box's program has the screen (they would land
 * in the middle of its drawing; they are in the audit log meanwhile). */
static void relay_say(void *arg, const char *line, size_t len)
{
        struct tty_relay *r = arg;
        if (!box_has_screen(r)) {
                if (r->n_held)
                        show_held(r);
                say_now(r, line, len);
                return;
        }
        r->held_total++;
        for (size_t i = 0; i < r->n_held; i++)
                if (!strcmp(r->held[i], line))
                        return;
        char *d = r->n_held < HELD_MAX ? strndup(line, len) : NULL;
        if (d)
                r->held[r->n_held++] = d;
        else
                r->dropped++;
}

static struct bufferevent *relay_bev(struct event_base *base, int fd)
{
        struct bufferevent *b =
                bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
        if (!b)
                close(fd);
        return b;
}

/* Is the caller's locale UTF-8 (so, most likely, its terminal)?  Asked
 * of a locale object, never setting agentbox's own. */
static bool utf8_locale(void)
{
        locale_t l = newlocale(LC_CTYPE_MASK, "", (locale_t)0);
        if (l == (locale_t)0)
                return false;
        const char *cs = nl_langinfo_l(CODESET, l);
        bool u = cs && (!strcasecmp(cs, "UTF-8") || !strcasecmp(cs, "utf8"));
        freelocale(l);
        return u;
}

int tty_relay_start(struct event_base *base, const struct tty_caller *tc,
                    int master, bool passthrough, struct tty_relay **out,
                    struct ab_err *err)
{
        struct tty_relay *r = calloc(1, sizeof(*r));
        if (r && !passthrough && !(r->filter = malloc(sizeof(*r->filter)))) {
                free(r);
                r = NULL;
        }
        if (!r) {
                close(master);
                return err_set(err, -ENOMEM, "out of memory");
        }
        if (r->filter)
                tty_filter_init(r->filter, !utf8_locale());
        r->tc = *tc;
        r->shared_fd[0] = r->shared_fd[1] = -1;
        /* the box's end, to see its mode; never the box's to use */
        r->slave = ioctl(master, TIOCGPTPEER, O_RDONLY | O_NOCTTY | O_CLOEXEC);
        int fl = fcntl(master, F_GETFL);
        if (fl < 0 || fcntl(master, F_SETFL, fl | O_NONBLOCK) < 0) {
                int e = errno;
                close(master);
                tty_relay_finish(r);
                return err_setx(err, -e, "the box's terminal");
        }
        r->m = relay_bev(base, master);
        /* the box's output goes to stdout's terminal, else stderr's */
        int ofd = tc->tty[1] ? 1 : tc->tty[2] ? 2 : -1;
        if (ofd >= 0) {
                int fd = own_fd(r, ofd, O_WRONLY, 0);
                r->out = fd < 0 ? NULL : relay_bev(base, fd);
                if (!r->out)
                        r->out_dead = true;
        } else {
                r->out_dead = true;
        }
        if (tc->tty[0]) {
                int fd = own_fd(r, 0, O_RDONLY, 1);
                r->in = fd < 0 ? NULL : relay_bev(base, fd);
        }
        if (!r->m || (ofd >= 0 && !r->out) || (tc->tty[0] && !r->in)) {
                int e = errno;
                tty_relay_finish(r);
                return err_setx(err, e ? -e : -ENOMEM,
                                "cannot relay the box's terminal");
        }
        bufferevent_setcb(r->m, on_box_output, on_box_drained, on_box_event,
                          r);
        bufferevent_setwatermark(r->m, EV_WRITE, IN_MAX / 2, 0);
        bufferevent_enable(r->m, EV_READ | EV_WRITE);
        if (r->out) {
                bufferevent_setcb(r->out, NULL, on_out_drained, on_out_event,
                                  r);
                bufferevent_setwatermark(r->out, EV_WRITE, OUT_MAX / 2, 0);
                bufferevent_enable(r->out, EV_WRITE);
        }
        if (r->in)
                bufferevent_setcb(r->in, on_keys, NULL, on_keys_event, r);
        static bool registered;
        if (!registered && atexit(set_back_at_exit) == 0) {
                registered = true;
                catch_fatal();
        }
        current = r;
        take_foreground(r);
        tty_relay_resize(r);
        if (tc->tty[2] && r->out)
                say_set_sink(relay_say, r);
        *out = r;
        return 0;
}

void tty_relay_resize(struct tty_relay *r)
{
        struct winsize ws;
        if (ioctl(r->tc.ctl, TIOCGWINSZ, &ws) == 0)
                ioctl(bufferevent_getfd(r->m), TIOCSWINSZ, &ws);
}

static long ms_since(const struct timespec *t0)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (now.tv_sec - t0->tv_sec) * 1000 +
               (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A few bytes to the caller's terminal now, ahead of nothing else that
 * waits (the box's output waiting stays for later): 100 ms at most. */
static void write_now(struct tty_relay *r, const unsigned char *p, size_t n)
{
        if (!r->out || r->out_dead)
                return;
        int fd = bufferevent_getfd(r->out);
        struct evbuffer *o = bufferevent_get_output(r->out);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        evbuffer_unfreeze(o, 1);
        /* what the box wrote before the key goes first */
        while (evbuffer_get_length(o) && ms_since(&t0) < 100) {
                struct pollfd pf = {.fd = fd, .events = POLLOUT};
                if (poll(&pf, 1, 20) > 0 && evbuffer_write(o, fd) < 0 &&
                    errno != EAGAIN)
                        break;
        }
        evbuffer_freeze(o, 1);
        while (n && ms_since(&t0) < 100) {
                ssize_t w = write(fd, p, n);
                if (w > 0) {
                        p += w;
                        n -= (size_t)w;
                } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                        break;
                } else {
                        struct pollfd pf = {.fd = fd, .events = POLLOUT};
                        poll(&pf, 1, 20);
                }
        }
}

void tty_relay_suspend(struct tty_relay *r)
{
        if (r->in)
                bufferevent_disable(r->in, EV_READ);
        /* the shell gets its terminal as agentbox found it: out of the
         * TUI's modes (the TUI itself is stopped, it cannot) */
        if (r->filter) {
                unsigned char reset[TTY_RESET_MAX];
                write_now(r, reset, tty_filter_reset(r->filter, reset));
                r->alt_back = r->filter->modes & TTY_MODE_ALT;
        }
        set_back(r);
        shared_flags(r, false);
        raise(SIGSTOP);
        tty_relay_resume(r);
}

void tty_relay_resume(struct tty_relay *r)
{
        /* continued, by fg or bg: the keys only in the foreground */
        shared_flags(r, true);
        take_foreground(r);
        tty_relay_resize(r);
        if (r->alt_back && r->raw) {
                /* the TUI's screen again; it redraws on SIGWINCH */
                static const unsigned char alt[] = "\x1b[?1049h";
                write_now(r, alt, sizeof(alt) - 1);
                r->alt_back = false;
        }
}


/* What the box wrote last, and what waits for the caller's terminal:
 * out, while the terminal takes some at least every FINISH_MS (and for
 * FINISH_MAX_MS in all). */
static void flush_out(struct tty_relay *r)
{
        if (!r->m)
                return;
        struct timespec t0, last;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        last = t0;
        int mfd = bufferevent_getfd(r->m);
        on_box_output(r->m, r);
        if (!r->out || r->out_dead)
                return;
        /* written here from now on, not by the event loop (which keeps a
         * bufferevent's output to itself: frozen at its start) */
        bufferevent_disable(r->out, EV_WRITE);
        evbuffer_unfreeze(bufferevent_get_output(r->out), 1);
        bool more = true, ended = false;
        for (;;) {
                struct evbuffer *o = bufferevent_get_output(r->out);
                if (evbuffer_get_length(o) < OUT_MAX) {
                        unsigned char buf[CHUNK];
                        ssize_t n = read(mfd, buf, sizeof(buf));
                        if (n > 0) {
                                show(r, buf, (size_t)n);
                                continue;
                        }
                        more = false;
                }
                if (!more && !ended) {
                        /* all the box wrote is in: what its program left on
                         * goes off, then the messages it had held back */
                        ended = true;
                        unsigned char reset[TTY_RESET_MAX];
                        size_t k = r->filter ? tty_filter_reset(r->filter,
                                                                reset)
                                             : 0;
                        evbuffer_add(o, reset, k);
                        if (r->filter)
                                r->filter->modes = 0;
                        show_held(r);
                }
                long left = FINISH_MS - ms_since(&last);
                if (FINISH_MAX_MS - ms_since(&t0) < left)
                        left = FINISH_MAX_MS - ms_since(&t0);
                size_t pending = evbuffer_get_length(o);
                if (pending == 0)
                        return;
                int ofd = bufferevent_getfd(r->out);
                struct pollfd p = {.fd = ofd, .events = POLLOUT};
                int w = 0;
                if (left <= 0 || poll(&p, 1, (int)left) <= 0 ||
                    (p.revents & (POLLERR | POLLHUP | POLLNVAL)) ||
                    ((w = evbuffer_write(o, ofd)) < 0 && errno != EAGAIN &&
                     errno != EINTR)) {
                        r->lost = evbuffer_get_length(o);
                        return;
                }
                if (w > 0)
                        clock_gettime(CLOCK_MONOTONIC, &last);
        }
}

/* The box asked the terminal something (a cursor position, its colours)
 * and ended before the answer came: typed into the caller's shell, it
 * would be garbage at the prompt.  Ask the terminal for its attributes
 * too; the answers come in order, so all up to that one's are the box's,
 * read and dropped (for SWALLOW_MS at most, if the terminal says
 * nothing). */
/* Our question's answer is in acc: ESC [ ? digits c (device
 * attributes), or want then digits then "$y" (a mode report). */
static bool answered(const char *acc, size_t len, bool da, const char *want)
{
        for (size_t i = 0; i + 3 <= len; i++) {
                if (memcmp(acc + i, "\x1b[?", 3) != 0)
                        continue;
                size_t j = i + 3;
                if (!da) {
                        size_t w = strlen(want);
                        if (len - i < w || memcmp(acc + i, want, w) != 0)
                                continue;
                        j = i + w;
                }
                while (j < len && ((acc[j] >= '0' && acc[j] <= '9') ||
                                   acc[j] == ';'))
                        j++;
                if (da ? (j < len && acc[j] == 'c')
                       : (j + 1 < len && acc[j] == '$' && acc[j + 1] == 'y'))
                        return true;
        }
        return false;
}

#define SWALLOW_MS 300
static void swallow_answers(struct tty_relay *r)
{
        if (!r->in || !r->out || r->out_dead || !r->raw || !r->filter ||
            !r->filter->queried ||
            evbuffer_get_length(bufferevent_get_output(r->out)))
                return;
        struct stat a, b;
        int in = bufferevent_getfd(r->in), out = bufferevent_getfd(r->out);
        if (fstat(in, &a) < 0 || fstat(out, &b) < 0 || a.st_rdev != b.st_rdev)
                return; /* the answer would come elsewhere */
        /* a question the box did not ask, so no late answer of the box's
         * is taken for ours: device attributes, or else a report of a
         * mode whose number the box could not know (random) */
        bool da = !r->filter->asked_da;
        unsigned mode = 0;
        char q[32], want[24] = "";
        if (da) {
                snprintf(q, sizeof(q), "\x1b[c");
        } else {
                if (getrandom(&mode, sizeof(mode), 0) != sizeof(mode))
                        return;
                mode = 40000 + mode % 20000;
                snprintf(q, sizeof(q), "\x1b[?%u$p", mode);
                snprintf(want, sizeof(want), "\x1b[?%u;", mode);
        }
        if (write(out, q, strlen(q)) != (ssize_t)strlen(q))
                return;
        struct evbuffer *held = bufferevent_get_input(r->in);
        evbuffer_drain(held, evbuffer_get_length(held));
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        char acc[1024];
        size_t len = 0;
        for (long left; (left = SWALLOW_MS - ms_since(&t0)) > 0;) {
                struct pollfd p = {.fd = in, .events = POLLIN};
                char buf[256];
                ssize_t n;
                if (poll(&p, 1, (int)left) <= 0 ||
                    (n = read(in, buf, sizeof(buf))) <= 0)
                        return;
                if (len + (size_t)n > sizeof(acc)) { /* keep the tail */
                        size_t keep = sizeof(acc) / 2;
                        memmove(acc, acc + len - keep, keep);
                        len = keep;
                }
                memcpy(acc + len, buf, (size_t)n);
                len += (size_t)n;
                if (answered(acc, len, da, want))
                        return; /* ours: the last answer */
        }
}

void tty_relay_finish(struct tty_relay *r)
{
        if (!r)
                return;
        say_set_sink(NULL, NULL);
        flush_out(r);
        swallow_answers(r);
        set_back(r);
        if (current == r)
                current = NULL;
        if (r->m)
                bufferevent_free(r->m);
        if (r->in)
                bufferevent_free(r->in);
        if (r->out)
                bufferevent_free(r->out);
        /* the caller's own open file, as it was */
        shared_flags(r, false);
        if (r->held_total)
                fprintf(stderr,
                        "agentbox: %zu message%s held while the box's "
                        "program had the screen (shown above, each once; "
                        "all are in the audit log)\n",
                        r->held_total, r->held_total == 1 ? " was" : "s were");
        for (size_t i = 0; i < r->n_held; i++)
                free(r->held[i]);
        if (r->slave >= 0)
                close(r->slave);
        free(r->filter);
        if (r->lost)
                fprintf(stderr,
                        "agentbox: the last %zu bytes the box wrote were not "
                        "shown: the terminal took nothing for %d s\n",
                        r->lost, FINISH_MS / 1000);
        if (r->dropped)
                fprintf(stderr,
                        "agentbox: %zu message%s of agentbox's were not shown "
                        "(the terminal took no output); they are in the "
                        "audit log\n",
                        r->dropped, r->dropped == 1 ? "" : "s");
        free(r);
}
