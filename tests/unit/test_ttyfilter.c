/* The terminal output filter: what reaches the caller's terminal of what
 * the box writes, whole and split at every byte. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "session/ttyfilter.h"

/* in, filtered in one go and byte by byte: both must give want */
static void check(const char *in, const char *want)
{
        size_t n = strlen(in);
        unsigned char *out = malloc(n + TTY_FILTER_SLACK);
        struct tty_filter *f = malloc(sizeof(*f));
        tty_filter_init(f, false);
        size_t o = tty_filter_feed(f, (const unsigned char *)in, n, out);
        cr_expect(o == strlen(want) && memcmp(out, want, o) == 0,
                  "in %s: got %.*s, want %s", in, (int)o, out, want);
        tty_filter_init(f, false);
        size_t total = 0;
        unsigned char *acc = malloc(n + TTY_FILTER_SLACK);
        for (size_t i = 0; i < n; i++) {
                size_t k = tty_filter_feed(f, (const unsigned char *)in + i,
                                           1, out);
                memcpy(acc + total, out, k);
                total += k;
        }
        cr_expect(total == strlen(want) && memcmp(acc, want, total) == 0,
                  "in %s byte by byte: got %.*s", in, (int)total, acc);
        free(acc);
        free(out);
        free(f);
}

Test(ttyfilter, text_and_colours_pass)
{
        check("hello\r\n", "hello\r\n");
        check("\x1b[1;31mred\x1b[0m", "\x1b[1;31mred\x1b[0m");
        check("\x1b[38;2;1;2;3mx", "\x1b[38;2;1;2;3mx");
        check("caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93");
        check("\x1b[?1049h\x1b[H\x1b[2J\x1b[?1049l",
              "\x1b[?1049h\x1b[H\x1b[2J\x1b[?1049l");
        check("\x1b[?2004h\x1b[?1000h\x1b[?1006h",
              "\x1b[?2004h\x1b[?1000h\x1b[?1006h");
        check("\x1b(B\x1b)0\x1b#8\x1b" "7\x1b" "8\x1b=\x1b>",
              "\x1b(B\x1b)0\x1b#8\x1b" "7\x1b" "8\x1b=\x1b>");
        check("\x1b[6n\x1b[c\x1b[>c\x1b[?2026$p", "\x1b[6n\x1b[c\x1b[>c\x1b[?2026$p");
}

Test(ttyfilter, titles_links_and_colour_queries_pass)
{
        check("\x1b]0;my title\a", "\x1b]0;my title\a");
        check("\x1b]2;t\xc3\xa9\x1b\\", "\x1b]2;t\xc3\xa9\x1b\\");
        check("\x1b]8;;https://example.com/\x1b\\link\x1b]8;;\x1b\\",
              "\x1b]8;;https://example.com/\x1b\\link\x1b]8;;\x1b\\");
        check("\x1b]11;?\a\x1b]4;1;?\a\x1b]104\a", "\x1b]11;?\a\x1b]4;1;?\a\x1b]104\a");
        check("\x1b[14t\x1b[18t\x1b[22;0t\x1b[23;0t", "\x1b[14t\x1b[18t\x1b[22;0t\x1b[23;0t");
}

Test(ttyfilter, clipboard_and_terminal_commands_are_removed)
{
        check("a\x1b]52;c;aGVsbG8=\ab", "ab");
        check("a\x1b]52;c;?\x1b\\b", "ab");
        check("a\x1b]1337;File=name=eA==;inline=0:AAAA\ab", "ab");
        check("a\x1b]1337;SetUserVar=x=eQ==\ab", "ab");
        check("a\x1b]5113;ac=send\ab", "ab");
        check("a\x1b]9;notify\a\x1b]777;notify;x;y\ab", "ab");
        check("a\x1b]7;file:///etc\ab", "ab");
        check("a\x1b]11;rgb:0000/0000/0000\ab", "ab"); /* sets, not asks */
        check("a\x1b]50;?\ab", "ab");                  /* font query */
        check("a\x1b]633;E;rm -rf ~\ab", "ab");
}

Test(ttyfilter, queries_that_answer_with_text_are_removed)
{
        check("a\x1b[21tb\x1b[20tc", "abc");      /* title reports */
        check("a\x1bP$qm\x1b\\b", "ab");          /* DECRQSS */
        check("a\x1bP+q544e\x1b\\b", "ab");       /* XTGETTCAP */
        check("a\x05" "b", "ab");                  /* ENQ: answerback */
        check("a\x1b[>0;1tb", "ab");              /* title modes */
}

Test(ttyfilter, strings_and_window_operations_are_removed)
{
        check("a\x1bPtmux;\x1b\x1b]52;c;eA==\a\x1b\\b", "ab");
        check("a\x1b_Ga=T,t=f;L2V0Yy9zaGFkb3c=\x1b\\b", "ab");
        check("a\x1b^pm\x1b\\b\x1bXsos\x1b\\c", "abc");
        check("a\x1bPq#0;2;0;0;0#0~~@@vv\x1b\\b", "ab"); /* sixel */
        check("a\x1b[3;0;0tb\x1b[8;1;1tc\x1b[9;1td\x1b[2te", "abcde");
        check("a\x1b[5ib\x1b[4ic", "abc"); /* printer */
}

Test(ttyfilter, what_a_terminal_would_read_as_control_is_judged_as_such)
{
        /* C1 controls as bytes outside UTF-8 characters */
        check("a\x9d" "52;c;eA==\x07" "b", "a52;c;eA==\ab");
        check("a\x9b" "21tb", "a21tb");
        /* but inside a character they are its bytes */
        check("\xe2\x80\x9d", "\xe2\x80\x9d");
        /* a title with controls in it */
        check("a\x1b]2;x\ry\ab", "ab");
        check("a\x1b]2;x\xc2\x9d" "52\ab", "ab");
        /* an OSC cut short by another sequence: both judged on their own */
        check("a\x1b]2;t\x1b]52;c;eA==\ab", "ab");
        check("a\x1b]2;t\x1b[31mb", "a\x1b[31mb");
        /* CAN and SUB end a sequence */
        check("a\x1b]52;c;eA==\x18" "b", "ab");
        check("a\x1b[2\x1a" "1tb", "a1tb");
        /* a C0 inside a sequence is executed where it stands */
        check("\x1b[1\n;31m", "\n\x1b[1;31m");
}

Test(ttyfilter, over_long_sequences_are_dropped_whole)
{
        enum { N = TTY_OSC_MAX * 3 };
        static char in[N + 16];
        size_t n = N;
        strcpy(in, "a\x1b]2;");
        memset(in + 5, 'x', n - 10);
        strcpy(in + n - 5, "\ab");
        check(in, "ab");
        strcpy(in, "a\x1b[");
        memset(in + 3, '1', 200);
        strcpy(in + 203, "mb");
        check(in, "ab");
}

Test(ttyfilter, modes_left_on_are_turned_off)
{
        struct tty_filter f;
        tty_filter_init(&f, false);
        unsigned char out[TTY_RESET_MAX + 1];
        /* text only: nothing to undo */
        tty_filter_feed(&f, (const unsigned char *)"plain", 5, out);
        cr_expect(tty_filter_reset(&f, out) == 0);
        const char *in = "\x1b[?1049h\x1b[?25l\x1b[?1000;1006h\x1b[?2004h";
        tty_filter_feed(&f, (const unsigned char *)in, strlen(in), out);
        size_t n = tty_filter_reset(&f, out);
        out[n] = 0;
        cr_expect(strstr((char *)out, "\x1b[?1049l") != NULL);
        cr_expect(strstr((char *)out, "\x1b[?1000l") != NULL);
        cr_expect(strstr((char *)out, "\x1b[?2004l") != NULL);
        cr_expect(strstr((char *)out, "\x1b[?25h") != NULL);
        /* left the alternate screen itself: not left again (that would
         * move the cursor), the rest still turned off */
        in = "\x1b[?1049l";
        tty_filter_feed(&f, (const unsigned char *)in, strlen(in), out);
        n = tty_filter_reset(&f, out);
        out[n] = 0;
        cr_expect(strstr((char *)out, "\x1b[?1049l") == NULL);
        cr_expect(strstr((char *)out, "\x1b[?1000l") != NULL);
}

Test(ttyfilter, c1_controls_as_utf8_and_in_titles_are_removed)
{
        /* U+009D (OSC) and U+009C (ST) as UTF-8: C1 for some terminals */
        check("a\xc2\x9d" "52;c;eA==\xc2\x9c" "b", "a52;c;eA==b");
        check("\xc2\x90$q\"p\xc2\x9c", "$q\"p");
        check("\xc2\xa9 \xc2", "\xc2\xa9 "); /* a lone lead at the end: held */
        check("\xc2" "A", "A"); /* a lead cut short goes */
        /* invalid UTF-8 whose bytes 80-9F a decoder would leave behind:
         * WezTerm's reads the 9D of E0 80 9D as OSC */
        check("A\xe0\x80\x9d" "52;c;eA==\a", "A52;c;eA==\a");
        check("\xf0\x80\x80\x90$q\xe0\x80\x9c \xed\xa0\x9b" "2h", "$q 2h");
        check("\xf4\x90\x80\x80x", "x");
        /* raw C1 bytes inside a title: the title goes */
        check("a\x1b]0;x\x9c\x9d" "52;c;eA==\ab", "ab");
        check("a\x1b]0;x\xc2\x9c" "y\ab", "ab");
        /* valid UTF-8 whose bytes include 80-9F stays */
        check("\x1b]0;\xe2\x9c\xb3 Claude\a", "\x1b]0;\xe2\x9c\xb3 Claude\a");
        /* invalid UTF-8 in a title: the title goes */
        check("a\x1b]0;\xe2\x9c\ab", "ab");
        check("a\x1b]0;\xc0\xaf\ab", "ab");
}

Test(ttyfilter, keyboard_lock_and_local_echo_are_removed)
{
        check("a\x1b[2hb\x1b[12lc\x1b[4;12hd", "abcd");
        check("\x1b[?12l\x1b[4h", "\x1b[?12l\x1b[4h"); /* cursor blink, insert */
}

Test(ttyfilter, a_reset_with_intermediates_is_no_reset)
{
        struct tty_filter f;
        tty_filter_init(&f, false);
        unsigned char out[256];
        const char *in = "\x1b[?1049h\x1b[?1000h\x1b[?1;1049;1000$l";
        tty_filter_feed(&f, (const unsigned char *)in, strlen(in), out);
        cr_expect(f.modes & TTY_MODE_ALT);
        cr_expect(f.modes & TTY_MODE_MOUSE);
}

Test(ttyfilter, every_mode_left_on_is_turned_off)
{
        struct tty_filter f;
        tty_filter_init(&f, false);
        unsigned char out[TTY_RESET_MAX + 1];
        const char *in = "\x1b[4h\x1b[?7l\x1b[5;10r\x1b[?6h\x1b(0\x1b[8m"
                         "\x1b[>4;2m\x1b[>1u\x1b[?5h\x1b[20h\x0e";
        tty_filter_feed(&f, (const unsigned char *)in, strlen(in), out);
        size_t n = tty_filter_reset(&f, out);
        cr_assert(n <= TTY_RESET_MAX);
        out[n] = 0;
        const char *want[] = {"\x1b[>4m", "\x1b[<99u", "\x1b[=0;1u",
                              "\x1b" "7\x1b[r\x1b" "8", "\x1b[?6l", "\x1b[?7h",
                              "\x1b[4l", "\x1b[20l", "\x1b[?5l",
                              "\x0f\x1b(B\x1b)B", "\x1b[0m", "\x1b[?9l",
                              "\x1b[?1001l"};
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
                cr_expect(strstr((char *)out, want[i]) != NULL, "%zu", i);
}

Test(ttyfilter, forms_terminals_read_differently_are_removed)
{
        /* a 17th parameter, one that would wrap, a colon, a late marker */
        check("a\x1b[;;;;;;;;;;;;;;;;2hb", "ab");
        check("a\x1b[4294967298hb", "ab");
        check("a\x1b[?1049:0lb\x1b[?1049;?lc\x1b[??1049ld\x1b[4:0le",
              "abcde");
        /* modes outside the list: VT52, 132 columns, left/right margins */
        check("a\x1b[?2lb\x1b[?3hc\x1b[?69hd\x1b[?67he", "abcde");
        /* saving and restoring modes behind the filter's back */
        check("a\x1b[?1000;1049sb\x1b[?1000;1049rc", "abc");
        /* ESC sequences outside the list */
        check("a\x1b Gb\x1b%@c\x1b.Ad\x1bne\x1b(%5f\x1bHg\x1bZh",
              "abcdefgh");
        check("\x1b" "7\x1b" "8\x1b(0\x1b(B\x1b#8\x1bM",
              "\x1b" "7\x1b" "8\x1b(0\x1b(B\x1b#8\x1bM");
        /* tab stops, conformance level (8-bit controls) */
        check("a\x1b[3gb\x1b[62;0\"pc", "abc");
        /* SGR keeps its colons */
        check("\x1b[4:3m\x1b[38:2::1:2:3m", "\x1b[4:3m\x1b[38:2::1:2:3m");
}

Test(ttyfilter, a_terminal_not_in_utf8_gets_no_byte_of_80_to_9f)
{
        struct tty_filter f;
        tty_filter_init(&f, true);
        unsigned char out[64];
        const char *in = "caf\xe9 \xe2\x80\x9d" "52;c;eA==\a";
        size_t n = tty_filter_feed(&f, (const unsigned char *)in, strlen(in), out);
        cr_expect(n == strlen("caf\xe9 \xe2" "52;c;eA==\a"));
        cr_expect(memchr(out, 0x9d, n) == NULL && memchr(out, 0x80, n) == NULL);
}

Test(ttyfilter, in_the_background_no_question_is_asked)
{
        struct tty_filter f;
        tty_filter_init(&f, false);
        f.no_queries = true;
        unsigned char out[64];
        const char *in = "a\x1b[6n\x1b[c\x1b]11;?\a\x1b[18tb\x1b[1mc";
        size_t n = tty_filter_feed(&f, (const unsigned char *)in, strlen(in), out);
        cr_expect(n == 7 && memcmp(out, "ab\x1b[1mc", 7) == 0);
}

Test(ttyfilter, a_third_pass)
{
        /* 8-bit: a title's UTF-8 carrying 9C (ST) and 9B (CSI) */
        struct tty_filter f;
        tty_filter_init(&f, true);
        unsigned char out[128];
        const char *in = "a\x1b]0;\xe2\x9c\x9b" "2h\ab";
        size_t n = tty_filter_feed(&f, (const unsigned char *)in, strlen(in), out);
        cr_expect(n == 2 && !memcmp(out, "ab", 2));
        /* reading the screen back, the status line, the locator, colour
         * reports, graphics attributes, the pointer mode */
        check("a\x1b[1;0;1;1;1;1*yb\x1b[1#yc\x1b[2$~d\x1b[1$}e\x1b[1'zf"
              "\x1b[1'{g\x1b[#Rh\x1b[?1;1Si\x1b[>2pj",
              "abcdefghij");
        /* kept with intermediates: cursor style, mode reports, soft reset */
        check("\x1b[2 q\x1b[?25$p\x1b[!p", "\x1b[2 q\x1b[?25$p\x1b[!p");
        /* a key-modifier query counts as a question */
        tty_filter_init(&f, false);
        tty_filter_feed(&f, (const unsigned char *)"\x1b[?4m", 5, out);
        cr_expect(f.queried);
        /* and what outlived the box is turned off */
        unsigned char big[TTY_RESET_MAX + 1];
        size_t k = tty_filter_reset(&f, big);
        cr_assert(k <= TTY_RESET_MAX);
        big[k] = 0;
        cr_expect(strstr((char *)big, "\x1b[?2048l") && strstr((char *)big, "\x1b[?2031l") &&
                  strstr((char *)big, "\x1b[>1m") && strstr((char *)big, "\x1b[?8h"));
}
