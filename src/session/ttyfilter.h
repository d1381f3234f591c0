/* What the box writes to its terminal, on its way to the caller's: the
 * control sequences a program could use to act on the user's machine
 * through the terminal (set the clipboard, make the terminal type an
 * answer back as input, move the window, transfer files, run the
 * terminal's own commands) are removed; what agent TUIs need stays
 * (colours, cursor, alternate screen, mouse, bracketed paste, titles,
 * OSC 8 links, the queries whose answers are numbers).  agentbox(1),
 * "The terminal", has the list.  A parser of box input: every state is
 * bounded, a sequence longer than its cap is dropped whole. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TTY_OSC_MAX 4096 /* an OSC's payload (titles, links) */
#define TTY_CSI_MAX 64   /* a CSI or ESC sequence's bytes */
/* Output never exceeds input, but a call may give back what earlier
 * calls held (a sequence not yet finished): room for n + this. */
#define TTY_FILTER_SLACK (TTY_OSC_MAX + 16)

/* What the filter follows of the terminal's state: the box's program has
 * the screen (the alternate screen: kept on by tty_filter_reset, held
 * messages), takes mouse reports, or has put another character set in
 * (agentbox's own lines switch back first).  The rest is turned off at
 * the end whether seen or not (tty_filter_reset). */
enum {
        TTY_MODE_ALT = 1u << 0,     /* alternate screen (1049, 1047, 47) */
        TTY_MODE_MOUSE = 1u << 1,   /* mouse reports (9, 1000-1006, 1015) */
        TTY_MODE_CHARSET = 1u << 2, /* another character set (ESC ( x, SO) */
};

struct tty_filter {
        uint8_t state;
        bool drop;       /* this sequence goes nowhere */
        bool eight_bit;  /* the terminal is not UTF-8: 80-9F are C1 */
        uint8_t need;    /* UTF-8: continuation bytes still to come */
        uint8_t ulen;    /* of uchar, the character being read */
        unsigned char uchar[4];
        bool any;        /* a sequence was passed: modes may be on */
        bool queried;    /* it asked the terminal something: an answer
                          * may come after the box is gone */
        bool asked_da;   /* primary device attributes (CSI c) among it */
        bool no_queries; /* set by the caller: agentbox is in the
                          * background, where an answer would be typed
                          * into the foreground job: queries go too */
        unsigned modes;  /* TTY_MODE_* on now */
        size_t len;      /* of seq */
        size_t stripped; /* sequences removed, in all */
        unsigned char seq[TTY_OSC_MAX + 8];
};

/* eight_bit: the caller's locale is not UTF-8, so its terminal most
 * likely takes bytes 80-9F as C1 controls: they go, whatever they are
 * part of.  Otherwise a byte of 80 or more passes only as part of a valid
 * UTF-8 character that is not itself a C1 control. */
void tty_filter_init(struct tty_filter *f, bool eight_bit);

/* Filter n bytes of the box's output into out (room for n +
 * TTY_FILTER_SLACK); returns how many bytes out holds. */
size_t tty_filter_feed(struct tty_filter *f, const unsigned char *in,
                       size_t n, unsigned char *out);

/* When the box wrote any sequence, those that turn every mode a TUI may
 * leave on off (the alternate screen only if f->modes says it is in it),
 * into out (room for TTY_RESET_MAX); returns their length.  For a box
 * that ended inside its TUI, or left the terminal in modes of its own. */
#define TTY_RESET_MAX 384
size_t tty_filter_reset(const struct tty_filter *f, unsigned char *out);
