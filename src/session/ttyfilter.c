/* The output filter (ttyfilter.h).  A VT parser in the manner of every
 * terminal's: text passes; an escape sequence is held until it is whole,
 * then passed or dropped whole, so the caller's terminal is never left
 * inside a sequence the box began (what follows a dropped introducer
 * reaches the terminal as text, or as sequences judged on their own).
 * Strings (DCS, APC, PM, SOS) are dropped as they come, unheld.
 *
 * Removed: OSC but titles (0-2), links (8), colour queries (4, 10-19 with
 * "?") and resets (104, 110-119); the strings (DCS: DECRQSS, XTGETTCAP,
 * sixel, tmux passthrough; APC: kitty graphics, which reads host files;
 * PM, SOS); CSI t but the size and title-stack reports (14, 16, 18, 19,
 * 22, 23: numbers back, no text); CSI i (media copy: a printer, which
 * xterm may pipe to a command); ENQ (the answerback string, typed back);
 * C1 controls as raw bytes outside UTF-8 characters; titles and links
 * with control characters in them. */
#include "ttyfilter.h"

#include <string.h>

enum {
        GROUND,
        ESCAPE,
        ESC_INT, /* ESC and intermediates: ESC ( B, ESC # 8 */
        CSI,
        OSC,
        OSC_ESC, /* ESC seen in an OSC: ST, or an abort */
        STR,     /* DCS, APC, PM, SOS: dropped */
        STR_ESC,
};

#define ESC 0x1b
#define CAN 0x18
#define SUB 0x1a
#define BEL 0x07
#define ENQ 0x05
#define SO 0x0e

void tty_filter_init(struct tty_filter *f, bool eight_bit)
{
        memset(f, 0, sizeof(*f));
        f->eight_bit = eight_bit;
}

static void put(unsigned char *out, size_t *o, const void *p, size_t n)
{
        memcpy(out + *o, p, n);
        *o += n;
}

static void hold(struct tty_filter *f, unsigned char b, size_t cap)
{
        if (f->len < cap)
                f->seq[f->len++] = b;
        else
                f->drop = true; /* too long for any terminal's good */
}

static void begin(struct tty_filter *f)
{
        f->state = ESCAPE;
        f->seq[0] = ESC;
        f->len = 1;
        f->drop = false;
}

static void drop_seq(struct tty_filter *f)
{
        f->stripped++;
        f->state = GROUND;
        f->len = 0;
}

/* ---- decisions ---------------------------------------------------------- */

/* The numbers of a CSI's parameters (seq[2..]), up to max of them;
 * *private: it began with one of < = > ?.  Returns -1 for a form
 * terminals read differently from one another, or that would wrap:
 * more than max parameters, one past 65535, a marker after the first
 * byte; and a colon, but in SGR (m), whose colours use them. */
static int csi_params(const struct tty_filter *f, unsigned char fin,
                      unsigned *v, size_t max, char *private)
{
        size_t i = 2, n = 0;
        *private = 0;
        if (i < f->len && f->seq[i] >= 0x3c && f->seq[i] <= 0x3f)
                *private = (char)f->seq[i++];
        unsigned cur = 0;
        bool any = false;
        for (; i < f->len && f->seq[i] >= 0x30 && f->seq[i] <= 0x3f; i++) {
                unsigned char c = f->seq[i];
                if (c >= '0' && c <= '9') {
                        cur = cur * 10 + (unsigned)(c - '0');
                        if (cur > 65535)
                                return -1;
                        any = true;
                } else if (c == ';' || (c == ':' && fin == 'm')) {
                        if (n == max)
                                return -1;
                        v[n++] = cur;
                        cur = 0;
                        any = false;
                } else {
                        return -1; /* a colon, or a marker past the start */
                }
        }
        if (any || n) {
                if (n == max)
                        return -1;
                v[n++] = cur;
        }
        return (int)n;
}

static bool has_intermediate(const struct tty_filter *f)
{
        for (size_t i = 2; i < f->len; i++)
                if (f->seq[i] >= 0x20 && f->seq[i] <= 0x2f)
                        return true;
        return false;
}

/* The modes a TUI may set and reset (h, l): DEC private ones with "?",
 * ANSI ones without.  Not: VT52 mode (?2), 132 columns (?3), left and
 * right margins (?69), backspace sending BS (?67), keyboard lock (2),
 * local echo (12), showing controls (3). */
static const unsigned dec_modes[] = {
        1,    5,    6,    7,    8,    9,    12,   25,   47,   66,
        1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1015, 1016,
        1047, 1048, 1049, 2004, 2026, 2027, 2031, 2048,
};

static bool mode_allowed(unsigned v, char private)
{
        if (!private)
                return v == 4 || v == 20;
        if (private != '?')
                return false;
        for (size_t i = 0; i < sizeof(dec_modes) / sizeof(dec_modes[0]); i++)
                if (dec_modes[i] == v)
                        return true;
        return false;
}

/* Which TTY_MODE_ a set or reset is, if one followed. */
static unsigned mode_of(unsigned v, char private)
{
        if (private != '?')
                return 0;
        if (v == 1049 || v == 1047 || v == 47)
                return TTY_MODE_ALT;
        if (v == 9 || (v >= 1000 && v <= 1003) || v == 1005 || v == 1006 ||
            v == 1015 || v == 1016)
                return TTY_MODE_MOUSE;
        return 0;
}

static bool csi_allowed(struct tty_filter *f, unsigned char fin)
{
        unsigned v[16];
        char private;
        int n = csi_params(f, fin, v, 16, &private);
        bool inter = has_intermediate(f);
        if (n < 0 || fin == 'i' || fin == 'g')
                return false; /* odd forms; media copy; tab stops */
        if ((fin == 's' || fin == 'r') && private)
                return false; /* XTSAVE, XTRESTORE: modes back behind us */
        if (inter) {
                /* with an intermediate, only: DECSCUSR (SP q), DECRQM
                 * ($ p), DECSTR (! p), DECSCA (" q).  Not: reading the
                 * screen back (DECRQCRA * y, XTCHECKSUM # y), the status
                 * line ($ ~, $ }), the locator (' z, ' {), page sizes,
                 * the conformance level, reports of colours (# R) */
                char i1 = (char)f->seq[f->len - 1];
                if (!((fin == 'q' && (i1 == ' ' || i1 == '"')) ||
                      (fin == 'p' && (i1 == '$' || i1 == '!'))))
                        return false;
        }
        if ((fin == 'p' && private == '>') || (fin == 'S' && private))
                return false; /* the pointer's mode; graphics attributes */
        if ((fin == 'h' || fin == 'l') && !inter) {
                if (n == 0)
                        return false;
                for (int i = 0; i < n; i++)
                        if (!mode_allowed(v[i], private))
                                return false;
                for (int i = 0; i < n; i++) {
                        unsigned m = mode_of(v[i], private);
                        if (fin == 'h')
                                f->modes |= m;
                        else
                                f->modes &= ~m;
                }
        } else if (fin == 'h' || fin == 'l') {
                return false;
        }
        bool query = fin == 'n' || fin == 'c' || fin == 'x' ||
                     (fin == 'p' && inter) ||
                     (fin == 'u' && private == '?') ||
                     (fin == 'q' && private == '>') ||
                     (fin == 'm' && private == '?') ||
                     (fin == 't' && n && v[0] >= 14 && v[0] <= 19);
        if (query && f->no_queries)
                return false;
        if (fin == 'c' && !private && !inter)
                f->asked_da = true;
        f->queried |= query;
        if (fin != 't')
                return true;
        if (private || inter)
                return false; /* xterm's title modes and the like */
        unsigned op = n ? v[0] : 0;
        return op == 14 || op == 16 || op == 18 || op == 19 || op == 22 ||
               op == 23;
}

/* A title's or link's text: valid UTF-8 with no control in it, C0 or C1
 * (a raw byte 80 to 9F ends or begins a string for some terminals,
 * WezTerm's among them; C2 80 to C2 9F is C1 for them too). */
static bool clean_text(const unsigned char *p, size_t n, bool eight_bit)
{
        /* 8-bit: any byte 80-9F, whatever it is part of, is C1 there
         * (9C ends the string, 9B begins a CSI) */
        for (size_t i = 0; eight_bit && i < n; i++)
                if (p[i] >= 0x80 && p[i] <= 0x9f)
                        return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char b = p[i];
                if (b < 0x20 || b == 0x7f)
                        return false;
                if (b < 0x80)
                        continue;
                size_t k = b >= 0xc2 && b <= 0xdf   ? 1
                           : b >= 0xe0 && b <= 0xef ? 2
                           : b >= 0xf0 && b <= 0xf4 ? 3
                                                    : 0;
                if (!k || i + k >= n)
                        return false; /* not a lead byte, or cut short */
                unsigned char c = p[i + 1];
                if ((b == 0xc2 && c <= 0x9f) || (b == 0xe0 && c < 0xa0) ||
                    (b == 0xed && c > 0x9f) || (b == 0xf0 && c < 0x90) ||
                    (b == 0xf4 && c > 0x8f))
                        return false; /* C1, overlong, surrogate, too big */
                for (size_t j = 1; j <= k; j++)
                        if ((p[i + j] & 0xc0) != 0x80)
                                return false;
                i += k;
        }
        return true;
}

/* "?" queries only: after the number, each field is "?" (10-19) or a
 * colour number then "?" (4). */
static bool only_queries(const unsigned char *p, size_t n, bool numbered)
{
        size_t i = 0;
        bool any = false;
        while (i < n) {
                if (p[i++] != ';')
                        return false;
                if (numbered) {
                        size_t d = i;
                        while (i < n && p[i] >= '0' && p[i] <= '9')
                                i++;
                        if (i == d || i >= n || p[i++] != ';')
                                return false;
                }
                if (i >= n || p[i++] != '?')
                        return false;
                any = true;
        }
        return any;
}

static bool osc_allowed(struct tty_filter *f)
{
        const unsigned char *p = f->seq + 2;
        size_t n = f->len - 2, i = 0;
        unsigned num = 0;
        while (i < n && i < 5 && p[i] >= '0' && p[i] <= '9')
                num = num * 10 + (unsigned)(p[i++] - '0');
        if (i == 0 || (i < n && p[i] != ';'))
                return false;
        if (num <= 2 || num == 8)
                return clean_text(p + i, n - i, f->eight_bit);
        bool query = num == 4 || (num >= 10 && num <= 19);
        if (query && f->no_queries)
                return false;
        f->queried |= query;
        if (num == 4)
                return only_queries(p + i, n - i, true);
        if (num >= 10 && num <= 19)
                return only_queries(p + i, n - i, false);
        if (num == 104 || (num >= 110 && num <= 119))
                return i == n || clean_text(p + i, n - i, f->eight_bit);
        return false;
}

/* ---- states --------------------------------------------------------------- */

/* A C0 control inside a sequence: executed now, as terminals do; the
 * sequence goes on.  ESC, CAN, SUB end it: the caller's business. */
static void c0_inside(struct tty_filter *f, unsigned char b,
                      unsigned char *out, size_t *o)
{
        if (b == SO)
                f->modes |= TTY_MODE_CHARSET;
        if (b != ENQ)
                put(out, o, &b, 1);
}

/* The bytes a UTF-8 character's second byte may be, after lead b (RFC
 * 3629: no overlong forms, surrogates or code points past U+10FFFF); 0
 * for a byte that leads nothing. */
static unsigned utf8_len(unsigned char b, unsigned char *lo, unsigned char *hi)
{
        *lo = 0x80;
        *hi = 0xbf;
        if (b >= 0xc2 && b <= 0xdf)
                return 2;
        if (b >= 0xe0 && b <= 0xef) {
                if (b == 0xe0)
                        *lo = 0xa0;
                else if (b == 0xed)
                        *hi = 0x9f;
                return 3;
        }
        if (b >= 0xf0 && b <= 0xf4) {
                if (b == 0xf0)
                        *lo = 0x90;
                else if (b == 0xf4)
                        *hi = 0x8f;
                return 4;
        }
        return 0;
}

/* Text of 128 or more, in UTF-8: each character held until whole and
 * shown only if valid and not a C1 control (U+0080-U+009F, which
 * WezTerm, among others, obeys); anything else goes.  An invalid byte
 * ends the character and is looked at again on its own. */
static void utf8(struct tty_filter *f, unsigned char b, unsigned char *out,
                 size_t *o)
{
        unsigned char lo, hi;
        if (f->need) {
                unsigned total = utf8_len(f->uchar[0], &lo, &hi);
                if (f->ulen > 1)
                        lo = 0x80, hi = 0xbf;
                if (b >= lo && b <= hi) {
                        f->uchar[f->ulen++] = b;
                        if (--f->need == 0) {
                                if (!(f->uchar[0] == 0xc2 &&
                                      f->uchar[1] <= 0x9f))
                                        put(out, o, f->uchar, total);
                                else
                                        f->stripped++;
                                f->ulen = 0;
                        }
                        return;
                }
                f->need = f->ulen = 0;
                f->stripped++; /* cut short: it goes */
                if (b < 0x80)
                        return; /* the caller looks at b again */
        }
        unsigned n = utf8_len(b, &lo, &hi);
        if (n) {
                f->uchar[0] = b;
                f->ulen = 1;
                f->need = (uint8_t)(n - 1);
        } else {
                f->stripped++; /* a stray continuation, C0/C1 leads, F5+ */
        }
}

static void ground(struct tty_filter *f, unsigned char b, unsigned char *out,
                   size_t *o)
{
        if (f->need || (b >= 0x80 && !f->eight_bit)) {
                utf8(f, b, out, o);
                if (b >= 0x80 || f->need)
                        return;
        }
        if (b == ESC) {
                begin(f);
        } else if (b == ENQ || (b >= 0x80 && b <= 0x9f)) {
                f->stripped++; /* answerback; a C1 control as a byte */
        } else {
                if (b == SO)
                        f->modes |= TTY_MODE_CHARSET;
                put(out, o, &b, 1);
        }
}

/* ESC, CAN, SUB, a C0 or a byte of 128 or more in the middle of a
 * sequence: true when b was dealt with (the sequence is then over or
 * goes on); false when b is the sequence's own. */
static bool interrupts(struct tty_filter *f, unsigned char b,
                       unsigned char *out, size_t *o)
{
        if (b == ESC) {
                f->stripped++; /* unfinished: dropped, a new one begins */
                begin(f);
        } else if (b == CAN || b == SUB) {
                drop_seq(f);
        } else if (b < 0x20) {
                c0_inside(f, b, out, o);
        } else if (b == 0x7f) {
                /* ignored inside sequences */
        } else if (b >= 0x80) {
                drop_seq(f);
                ground(f, b, out, o);
        } else {
                return false;
        }
        return true;
}

/* ESC sequences a TUI uses, and nothing else: save and restore the
 * cursor, keypad modes, full reset, index, next line, reverse index; the
 * ASCII, line-drawing and UK sets as G0 and G1; line sizes and the
 * alignment test.  Not: 8-bit controls (ESC SP G), leaving UTF-8
 * (ESC % @), G2 and G3 and the shifts to them, tab stops, DECID. */
static bool esc_allowed(const struct tty_filter *f)
{
        unsigned char a = f->seq[1], b = f->seq[f->len - 1];
        if (f->len == 2)
                return strchr("78=>cDEM", a) != NULL;
        if (f->len == 3 && (a == '(' || a == ')'))
                return b == 'B' || b == '0' || b == 'A';
        if (f->len == 3 && a == '#')
                return (b >= '3' && b <= '6') || b == '8';
        return false;
}

static void escape(struct tty_filter *f, unsigned char b, unsigned char *out,
                   size_t *o)
{
        if (interrupts(f, b, out, o))
                return;
        hold(f, b, TTY_CSI_MAX);
        if (f->state == ESCAPE && b == '[') {
                f->state = CSI;
        } else if (f->state == ESCAPE && b == ']') {
                f->state = OSC;
        } else if (f->state == ESCAPE &&
                   (b == 'P' || b == '_' || b == '^' || b == 'X')) {
                f->stripped++;
                f->state = STR;
                f->len = 0;
        } else if (b >= 0x20 && b <= 0x2f) {
                f->state = ESC_INT;
        } else { /* a final byte */
                if (f->len == 3 && (f->seq[1] == '(' || f->seq[1] == ')') &&
                    b != 'B')
                        f->modes |= TTY_MODE_CHARSET; /* G0, G1 not ASCII */
                if (f->len == 2 && b == '\\')
                        ; /* ST with no string open: nothing to say */
                else if (f->drop || !esc_allowed(f))
                        f->stripped++;
                else {
                        put(out, o, f->seq, f->len);
                        f->any = true;
                }
                f->state = GROUND;
                f->len = 0;
        }
}

static void csi(struct tty_filter *f, unsigned char b, unsigned char *out,
                size_t *o)
{
        if (interrupts(f, b, out, o))
                return;
        if (b < 0x40) { /* parameters and intermediates */
                hold(f, b, TTY_CSI_MAX);
                return;
        }
        if (!f->drop && csi_allowed(f, b)) {
                put(out, o, f->seq, f->len);
                put(out, o, &b, 1);
                f->any = true;
        } else {
                f->stripped++;
        }
        f->state = GROUND;
        f->len = 0;
}

/* An OSC ended by BEL (term 1 byte) or ST (2). */
static void osc_end(struct tty_filter *f, const char *term, size_t tlen,
                    unsigned char *out, size_t *o)
{
        if (!f->drop && osc_allowed(f)) {
                put(out, o, f->seq, f->len);
                put(out, o, term, tlen);
                f->any = true;
        } else {
                f->stripped++;
        }
        f->state = GROUND;
        f->len = 0;
}

static void osc(struct tty_filter *f, unsigned char b, unsigned char *out,
                size_t *o)
{
        if (f->state == OSC_ESC) {
                if (b == '\\') {
                        osc_end(f, "\x1b\\", 2, out, o);
                        return;
                }
                f->stripped++; /* ESC began another sequence */
                begin(f);
                escape(f, b, out, o);
                return;
        }
        if (b == BEL) {
                osc_end(f, "\a", 1, out, o);
        } else if (b == ESC) {
                f->state = OSC_ESC;
        } else if (b == CAN || b == SUB) {
                drop_seq(f);
        } else if (b < 0x20 || b == 0x7f) {
                f->drop = true; /* no control belongs in a title or link */
        } else {
                hold(f, b, TTY_OSC_MAX);
        }
}

/* DCS, APC, PM, SOS: to ST, or what aborts them; BEL does not end them
 * here (it does in no terminal that matters, and ending early would pass
 * what a terminal still reads as the string). */
static void str(struct tty_filter *f, unsigned char b, unsigned char *out,
                size_t *o)
{
        if (f->state == STR_ESC) {
                if (b == '\\') {
                        f->state = GROUND;
                } else if (b != ESC) {
                        begin(f);
                        escape(f, b, out, o);
                }
                return;
        }
        if (b == ESC)
                f->state = STR_ESC;
        else if (b == CAN || b == SUB)
                f->state = GROUND;
}

size_t tty_filter_feed(struct tty_filter *f, const unsigned char *in,
                       size_t n, unsigned char *out)
{
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
                if (f->state == GROUND) {
                        /* plain text, the common case, in one copy */
                        size_t j = i;
                        if (!f->need)
                                while (j < n && in[j] >= 0x20 && in[j] < 0x7f)
                                        j++;
                        if (j > i) {
                                put(out, &o, in + i, j - i);
                                i = j - 1;
                                continue;
                        }
                        ground(f, in[i], out, &o);
                        continue;
                }
                switch (f->state) {
                case ESCAPE:
                case ESC_INT:
                        escape(f, in[i], out, &o);
                        break;
                case CSI:
                        csi(f, in[i], out, &o);
                        break;
                case OSC:
                case OSC_ESC:
                        osc(f, in[i], out, &o);
                        break;
                default:
                        str(f, in[i], out, &o);
                        break;
                }
        }
        return o;
}

size_t tty_filter_reset(const struct tty_filter *f, unsigned char *out)
{
        /* A box that wrote any sequence may have set any mode, and a
         * terminal may track some that this does not (VTE: each mouse
         * mode apart): each of these is off whether or not it was seen
         * on; they do nothing to a terminal where it already is.  The
         * alternate screen only if on: leaving it when not in it moves
         * the cursor.  kitty keeps a keyboard stack for each screen. */
        static const char keys[] = "\x1b[=0;1u\x1b[<99u";
        static const char all[] =
                "\x1b[?1006l\x1b[?1015l\x1b[?1016l\x1b[?1005l\x1b[?1003l"
                "\x1b[?1002l\x1b[?1001l\x1b[?1000l\x1b[?9l\x1b[?2004l"
                "\x1b[?1004l\x1b[?1l\x1b[?66l\x1b>\x1b[>0m\x1b[>1m"
                "\x1b[>2m\x1b[>4m\x1b[?2048l\x1b[?2031l\x1b[?2026l"
                "\x1b[?1007l\x1b[?8h\x1b[0 q";
        static const char after[] =
                "\x1b" "7\x1b[r\x1b" "8\x1b[?6l\x1b[?7h\x1b[4l\x1b[20l\x1b[?5l"
                "\x0f\x1b(B\x1b)B\x1b[0m\x1b[?25h";
        size_t o = 0;
        if (!f->any)
                return 0;
        put(out, &o, all, strlen(all));
        put(out, &o, keys, strlen(keys));
        if (f->modes & TTY_MODE_ALT) {
                put(out, &o, "\x1b[?1049l", 8);
                put(out, &o, keys, strlen(keys));
        }
        put(out, &o, after, strlen(after));
        return o;
}
