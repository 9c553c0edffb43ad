/*
 * check_escape.c - unit tests of lib/escape.c (sw_escape.h): the
 * reversible escape kept in TEXT columns, its inverse, and the bounded
 * ASCII copy used in log lines.
 *
 * The UTF-8 rules are checked against an independent table of
 * well-formed sequences (Unicode 15, table 3-7) less the C1 controls,
 * for every lead byte and every second byte.
 *
 * DIAGNOSTICS: failures read "got X, want Y".
 * BUGS: none known.
 */

#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "sw_escape.h"
#include "testutil.h"

#define NELEM(a)	(sizeof (a) / sizeof (a)[0])

/* Round trips of pseudo-random data: how many, and how long at most. */
#define RANDOM_ROUNDS	300
#define RANDOM_MAXLEN	4096

/* The largest buffer the sw_printable() size sweep tries. */
#define SWEEP_MAX	96

static uint32_t	rng_state;

/* rng_next - xorshift32: the same sequence on every run */

static uint32_t
rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/*
 * utf8_valid_len - length of the well-formed UTF-8 sequence at p of two
 * or more bytes, or 0; written from the table of byte ranges, not from
 * code points, so it does not share the library's reasoning.
 */
static size_t
utf8_valid_len(const unsigned char *p, size_t left)
{
	static const struct {
		unsigned char	lead_lo, lead_hi, second_lo, second_hi;
		size_t		len;
	} table[] = {
		{ 0xc2, 0xc2, 0xa0, 0xbf, 2 },	/* C1 controls left out */
		{ 0xc3, 0xdf, 0x80, 0xbf, 2 },
		{ 0xe0, 0xe0, 0xa0, 0xbf, 3 },
		{ 0xe1, 0xec, 0x80, 0xbf, 3 },
		{ 0xed, 0xed, 0x80, 0x9f, 3 },	/* no surrogates */
		{ 0xee, 0xef, 0x80, 0xbf, 3 },
		{ 0xf0, 0xf0, 0x90, 0xbf, 4 },
		{ 0xf1, 0xf3, 0x80, 0xbf, 4 },
		{ 0xf4, 0xf4, 0x80, 0x8f, 4 },	/* up to U+10FFFF */
	};
	size_t	 i, k;

	for (i = 0; i < NELEM(table); i++) {
		if (p[0] < table[i].lead_lo || p[0] > table[i].lead_hi)
			continue;
		if (left < table[i].len || p[1] < table[i].second_lo ||
		    p[1] > table[i].second_hi)
			return 0;
		for (k = 2; k < table[i].len; k++)
			if (p[k] < 0x80 || p[k] > 0xbf)
				return 0;
		return table[i].len;
	}
	return 0;
}

/* is_hex - a lowercase or uppercase hex digit? */

static int
is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/*
 * check_clean - escaped text holds only printable ASCII, well-formed
 * escapes and well-formed UTF-8: no control byte, no DEL, no ESC.
 */
static void
check_clean(const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t	 i, n;

	ck_assert_msg(text[len] == '\0', "escaped: got byte 0x%02x after the "
	    "end, want NUL", (unsigned char)text[len]);
	for (i = 0; i < len; i++) {
		if (p[i] == '\\') {
			ck_assert_msg(i + 1 < len && (strchr("\\trn", p[i + 1])
			    != NULL || (p[i + 1] == 'x' && i + 3 < len &&
			    is_hex(p[i + 2]) && is_hex(p[i + 3]))),
			    "escaped: got a bad escape at %zu, want \\\\, "
			    "\\t, \\r, \\n or \\xNN", i);
			i += p[i + 1] == 'x' ? 3 : 1;
		} else if (p[i] >= 0x80) {
			n = utf8_valid_len(p + i, len - i);
			ck_assert_msg(n > 0, "escaped: got raw byte 0x%02x at "
			    "%zu, want only well-formed UTF-8", p[i], i);
			i += n - 1;
		} else
			ck_assert_msg(p[i] >= 0x20 && p[i] < 0x7f,
			    "escaped: got control byte 0x%02x at %zu, want "
			    "none", p[i], i);
	}
}

/* round_trip - escape, check the text is clean, unescape, compare */

static void
round_trip(const void *data, size_t len)
{
	char	*text;
	unsigned char *back;
	size_t	 tlen = 0, blen = 0;

	text = sw_escape(data, len, &tlen);
	ck_assert_msg(text != NULL, "sw_escape: got NULL, want text");
	TU_UINT_EQ(strlen(text), tlen);
	check_clean(text, tlen);
	back = sw_unescape(text, tlen, &blen);
	ck_assert_msg(back != NULL, "sw_unescape(\"%s\"): got NULL, want "
	    "%zu bytes", text, len);
	TU_MEM_EQ(back, blen, data, len);
	free(text);
	free(back);
}

/* expect_escape - data escapes to exactly want */

static void
expect_escape(const void *data, size_t len, const char *want)
{
	size_t	 tlen = 0;
	char	*text = sw_escape(data, len, &tlen);

	ck_assert_msg(text != NULL, "sw_escape: got NULL, want \"%s\"",
	    want);
	TU_STR_EQ(text, want);
	TU_UINT_EQ(tlen, strlen(want));
	free(text);
	round_trip(data, len);
}

/* test_round_trip_each_byte - every byte value alone comes back as itself. */
START_TEST(test_round_trip_each_byte)
{
	unsigned char b = (unsigned char)_i;

	round_trip(&b, 1);
}
END_TEST

/*
 * test_round_trip_all_bytes - all 256 values in one buffer, ascending and
 * descending.
 */
START_TEST(test_round_trip_all_bytes)
{
	unsigned char up[256], down[256];
	int	 i;

	for (i = 0; i < 256; i++) {
		up[i] = (unsigned char)i;
		down[i] = (unsigned char)(255 - i);
	}
	round_trip(up, sizeof up);
	round_trip(down, sizeof down);
}
END_TEST

/*
 * test_round_trip_all_pairs - every pair of bytes: all two-byte UTF-8 forms,
 * good and bad.
 */
START_TEST(test_round_trip_all_pairs)
{
	unsigned char pair[2];
	int	 a, b;

	for (a = 0; a < 256; a++)
		for (b = 0; b < 256; b++) {
			pair[0] = (unsigned char)a;
			pair[1] = (unsigned char)b;
			round_trip(pair, 2);
		}
}
END_TEST

/*
 * test_round_trip_random - pseudo-random buffers, sometimes seeded with valid
 * UTF-8.
 */
START_TEST(test_round_trip_random)
{
	static const char *const utf8[] = {
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc2\xa0",
		"\xf4\x8f\xbf\xbf", "\xef\xbf\xbd",
	};
	unsigned char *buf;
	size_t	 len, i, n;
	int	 round;

	if ((buf = malloc(RANDOM_MAXLEN)) == NULL)
		ck_abort_msg("malloc: out of memory");
	rng_state = 0x5eed1234u;
	for (round = 0; round < RANDOM_ROUNDS; round++) {
		len = rng_next() % RANDOM_MAXLEN;
		for (i = 0; i < len; i++) {
			if (rng_next() % 8 == 0) {
				const char *u = utf8[rng_next() % NELEM(utf8)];

				n = strlen(u);
				if (i + n <= len) {
					memcpy(buf + i, u, n);
					i += n - 1;
					continue;
				}
			}
			buf[i] = (unsigned char)rng_next();
		}
		round_trip(buf, len);
	}
	free(buf);
}
END_TEST

/* test_empty - nothing escapes to an empty string and back */
START_TEST(test_empty)
{
	size_t	 len = 99;
	char	*text = sw_escape("", 0, &len);
	unsigned char *back;

	ck_assert_msg(text != NULL, "sw_escape of nothing: got NULL, "
	    "want \"\"");
	TU_STR_EQ(text, "");
	TU_UINT_EQ(len, 0);
	len = 99;
	back = sw_unescape(text, 0, &len);
	ck_assert_msg(back != NULL, "sw_unescape of \"\": got NULL, want "
	    "0 bytes");
	TU_UINT_EQ(len, 0);
	free(text);
	free(back);
}
END_TEST

/* test_outlen_optional - the length pointer may be left out. */
START_TEST(test_outlen_optional)
{
	char	*text = sw_escape("a\n", 2, NULL);
	unsigned char *back;

	TU_STR_EQ(text, "a\\n");
	back = sw_unescape(text, strlen(text), NULL);
	ck_assert_msg(back != NULL && memcmp(back, "a\n", 3) == 0,
	    "sw_unescape without outlen: got %s, want \"a\\n\"",
	    back ? "other bytes" : "NULL");
	free(text);
	free(back);
}
END_TEST

/* test_printable_ascii_kept - printable ASCII is kept as it is */
START_TEST(test_printable_ascii_kept)
{
	expect_escape("Subject: hello, world ~!", 24,
	    "Subject: hello, world ~!");
}
END_TEST

/* test_nul - NUL bytes become \x00 */
START_TEST(test_nul)
{
	expect_escape("a\0b\0", 4, "a\\x00b\\x00");
	expect_escape("\0\0\0", 3, "\\x00\\x00\\x00");
}
END_TEST

/* test_backslash - a backslash is doubled, so "\x41" stays text */
START_TEST(test_backslash)
{
	expect_escape("a\\b", 3, "a\\\\b");
	expect_escape("\\\\", 2, "\\\\\\\\");
	expect_escape("\\x41", 4, "\\\\x41");
}
END_TEST

/* test_tab_cr_lf - TAB, CR and LF get their short escapes */
START_TEST(test_tab_cr_lf)
{
	expect_escape("\t\r\n", 3, "\\t\\r\\n");
	expect_escape("a\r\n\tb", 5, "a\\r\\n\\tb");
}
END_TEST

/* test_del_and_controls - DEL and the other C0 controls become \xNN */
START_TEST(test_del_and_controls)
{
	expect_escape("\x7f", 1, "\\x7f");
	expect_escape("\x01\x08\x0b\x0c\x1f", 5,
	    "\\x01\\x08\\x0b\\x0c\\x1f");
}
END_TEST

/* test_utf8_kept - é, € and 😀 stay as they are. */
START_TEST(test_utf8_kept)
{
	expect_escape("caf\xc3\xa9", 5, "caf\xc3\xa9");
	expect_escape("\xe2\x82\xac" "5", 4, "\xe2\x82\xac" "5");
	expect_escape("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80");
	expect_escape("\xc2\xa0", 2, "\xc2\xa0");		/* U+00A0 */
	expect_escape("\xf4\x8f\xbf\xbf", 4, "\xf4\x8f\xbf\xbf");
}
END_TEST

/*
 * test_utf8_overlong - overlong forms: C0 80 (a NUL in disguise), E0 80 80, F0
 * 80 80 80.
 */
START_TEST(test_utf8_overlong)
{
	expect_escape("\xc0\x80", 2, "\\xc0\\x80");
	expect_escape("\xc1\xbf", 2, "\\xc1\\xbf");
	expect_escape("\xe0\x80\x80", 3, "\\xe0\\x80\\x80");
	expect_escape("\xe0\x9f\xbf", 3, "\\xe0\\x9f\\xbf");
	expect_escape("\xf0\x80\x80\x80", 4, "\\xf0\\x80\\x80\\x80");
	expect_escape("\xf0\x8f\xbf\xbf", 4, "\\xf0\\x8f\\xbf\\xbf");
}
END_TEST

/* test_utf8_lone_continuation - a continuation byte without its lead */
START_TEST(test_utf8_lone_continuation)
{
	expect_escape("\x80", 1, "\\x80");
	expect_escape("a\xbf" "b", 3, "a\\xbfb");
	expect_escape("\xc3\xa9\xa9", 3, "\xc3\xa9\\xa9");
}
END_TEST

/* test_utf8_surrogate - U+D800 and U+DFFF are surrogates, not characters. */
START_TEST(test_utf8_surrogate)
{
	expect_escape("\xed\xa0\x80", 3, "\\xed\\xa0\\x80");
	expect_escape("\xed\xbf\xbf", 3, "\\xed\\xbf\\xbf");
	expect_escape("\xed\x9f\xbf", 3, "\xed\x9f\xbf");	/* U+D7FF */
}
END_TEST

/*
 * test_utf8_truncated - a sequence cut short, at the end or by an ASCII byte.
 */
START_TEST(test_utf8_truncated)
{
	expect_escape("\xe2\x82", 2, "\\xe2\\x82");
	expect_escape("\xe2\x82" "A", 3, "\\xe2\\x82A");
	expect_escape("\xf0\x9f\x98", 3, "\\xf0\\x9f\\x98");
	expect_escape("\xc3", 1, "\\xc3");
}
END_TEST

/*
 * test_utf8_out_of_range - beyond U+10FFFF, and bytes that never occur in
 * UTF-8.
 */
START_TEST(test_utf8_out_of_range)
{
	expect_escape("\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80");
	expect_escape("\xf5\x80\x80\x80", 4, "\\xf5\\x80\\x80\\x80");
	expect_escape("\xfe\xff", 2, "\\xfe\\xff");
}
END_TEST

/*
 * test_c1_controls - C1 controls (U+0080..U+009F) are escaped although
 * well-formed.
 */
START_TEST(test_c1_controls)
{
	expect_escape("\xc2\x85", 2, "\\xc2\\x85");		/* NEL */
	expect_escape("\xc2\x80", 2, "\\xc2\\x80");
	expect_escape("\xc2\x9b" "31m", 5, "\\xc2\\x9b31m");	/* CSI */
	expect_escape("\xc2\x9f", 2, "\\xc2\\x9f");
}
END_TEST

/* test_ansi_escape - terminal escape sequences lose their ESC. */
START_TEST(test_ansi_escape)
{
	static const char in[] = "\x1b[31mred\x1b[0m \x1b]0;title\x07";
	size_t	 len;
	char	*text = sw_escape(in, sizeof in - 1, &len);

	TU_STR_EQ(text, "\\x1b[31mred\\x1b[0m \\x1b]0;title\\x07");
	ck_assert_msg(memchr(text, 0x1b, len) == NULL,
	    "escaped: got a raw ESC, want none");
	free(text);
	round_trip(in, sizeof in - 1);
}
END_TEST

/*
 * test_utf8_against_table - every lead byte with every second byte (and edge
 * values after it): kept verbatim exactly when the table calls it well-formed.
 */
START_TEST(test_utf8_against_table)
{
	static const unsigned char tails[] = { 0x7f, 0x80, 0xbf, 0xc0 };
	unsigned char seq[4];
	size_t	 len, want, code, ncodes;
	char	*text;

	/* One counter walks lead 0xc0..0xff x second x third x fourth. */
	ncodes = 64 * 256 * NELEM(tails) * NELEM(tails);
	for (code = 0; code < ncodes; code++) {
		seq[0] = (unsigned char)(0xc0 + code / (256 * 16));
		seq[1] = (unsigned char)(code / 16 % 256);
		seq[2] = tails[code / 4 % 4];
		seq[3] = tails[code % 4];
		want = utf8_valid_len(seq, sizeof seq);
		text = sw_escape(seq, sizeof seq, &len);
		ck_assert_msg(text != NULL, "sw_escape: got NULL, want text");
		ck_assert_msg(want == 0 ? text[0] == '\\' :
		    memcmp(text, seq, want) == 0,
		    "%02x %02x %02x %02x: got \"%s\", want the first %zu "
		    "bytes %s", seq[0], seq[1], seq[2], seq[3], text,
		    want ? want : 1, want ? "verbatim" : "escaped");
		free(text);
	}
}
END_TEST

/* expect_unescape_fails - text is not a valid escape */

static void
expect_unescape_fails(const char *text)
{
	size_t	 len = 0;
	unsigned char *back = sw_unescape(text, strlen(text), &len);

	ck_assert_msg(back == NULL, "sw_unescape(\"%s\"): got %zu bytes, "
	    "want NULL", text, len);
}

/* test_unescape_rejects - malformed escapes give NULL */
START_TEST(test_unescape_rejects)
{
	expect_unescape_fails("\\q");
	expect_unescape_fails("abc\\");
	expect_unescape_fails("\\");
	expect_unescape_fails("\\x4");
	expect_unescape_fails("\\x");
	expect_unescape_fails("a\\xg0");
	expect_unescape_fails("\\x0g");
	expect_unescape_fails("\\0");
	expect_unescape_fails("\\X41");
	expect_unescape_fails("ok\\n then \\e");
}
END_TEST

/*
 * test_unescape_bounded - a short escape at the very end of a longer buffer is
 * still refused.
 */
START_TEST(test_unescape_bounded)
{
	const char *text = "\\x41\\x4";
	size_t	 len = 0;
	unsigned char *back = sw_unescape(text, strlen(text), &len);

	ck_assert_msg(back == NULL, "sw_unescape(\"%s\"): got %zu bytes, "
	    "want NULL", text, len);

	/* Only len bytes count: "\x41" cut after "\x4" is refused too. */
	back = sw_unescape("\\x41", 3, &len);
	ck_assert_msg(back == NULL, "sw_unescape(\"\\x4\" of \"\\x41\"): "
	    "got %zu bytes, want NULL", len);
}
END_TEST

/*
 * test_unescape_values - hex digits in either case, NUL and raw UTF-8 come back
 */
START_TEST(test_unescape_values)
{
	size_t	 len = 0;
	unsigned char *back;

	back = sw_unescape("\\x4A\\x4a\\x00\\xff", 16, &len);
	ck_assert_msg(back != NULL, "sw_unescape: got NULL, want 4 bytes");
	TU_MEM_EQ(back, len, "JJ\0\xff", 4);
	free(back);
	back = sw_unescape("caf\xc3\xa9\\\\", 7, &len);
	ck_assert_msg(back != NULL, "sw_unescape: got NULL, want 6 bytes");
	TU_MEM_EQ(back, len, "caf\xc3\xa9\\", 6);
	free(back);
}
END_TEST

/* check_printable_ascii - log text: printable ASCII only, within size */

static void
check_printable_ascii(const char *buf, size_t bufsize)
{
	size_t	 i, n = strlen(buf);

	ck_assert_msg(n < bufsize, "printable: got %zu bytes, want under %zu",
	    n, bufsize);
	for (i = 0; i < n; i++)
		ck_assert_msg((unsigned char)buf[i] >= 0x20 &&
		    (unsigned char)buf[i] < 0x7f, "printable: got byte 0x%02x "
		    "at %zu, want printable ASCII", (unsigned char)buf[i], i);
}

/* test_printable_forms - the log form of escapes, 8-bit bytes and controls */
START_TEST(test_printable_forms)
{
	char	 buf[128];

	TU_STR_EQ(sw_printable(buf, sizeof buf, "plain", 5), "plain");
	TU_STR_EQ(sw_printable(buf, sizeof buf, "a\\b", 3), "a\\\\b");
	TU_STR_EQ(sw_printable(buf, sizeof buf, "\t\r\n\0", 4),
	    "\\x09\\x0d\\x0a\\x00");
	TU_STR_EQ(sw_printable(buf, sizeof buf, "caf\xc3\xa9", 5),
	    "caf\\xc3\\xa9");
	TU_STR_EQ(sw_printable(buf, sizeof buf, "\x1b[2J", 4), "\\x1b[2J");
	TU_STR_EQ(sw_printable(buf, sizeof buf, "", 0), "");
}
END_TEST

/* test_printable_returns_buf - the buffer passed in is what comes back */
START_TEST(test_printable_returns_buf)
{
	char	 buf[16];

	ck_assert_msg(sw_printable(buf, sizeof buf, "x", 1) == buf,
	    "sw_printable: got another pointer, want buf");
}
END_TEST

/* test_printable_cut - cut output ends in "..." and stays inside the buffer. */
START_TEST(test_printable_cut)
{
	char	 buf[12];

	TU_STR_EQ(sw_printable(buf, sizeof buf, "abcdefghijklmnop", 16),
	    "abcdefgh...");
	TU_STR_EQ(sw_printable(buf, sizeof buf, "\x1b\x1b\x1b\x1b", 4),
	    "\\x1b\\x1b...");
}
END_TEST

/*
 * test_printable_exact_fit - input whose printable form fits exactly is not
 * cut.
 */
START_TEST(test_printable_exact_fit)
{
	char	 buf[6];

	TU_STR_EQ(sw_printable(buf, sizeof buf, "abcde", 5), "abcde");
	TU_STR_EQ(sw_printable(buf, 5, "\x1b", 1), "\\x1b");
	TU_STR_EQ(sw_printable(buf, 3, "ab", 2), "ab");
	TU_STR_EQ(sw_printable(buf, 4, "a\\", 2), "a\\\\");
	TU_STR_EQ(sw_printable(buf, 3, "a\\", 2), "");
}
END_TEST

/*
 * test_printable_tiny - buffers too small even for "...": cut to nothing, still
 * NUL-ended.
 */
START_TEST(test_printable_tiny)
{
	char	 buf[8];

	memset(buf, 'Z', sizeof buf);
	sw_printable(buf, 0, "abc", 3);
	ck_assert_msg(buf[0] == 'Z', "bufsize 0: got byte 0x%02x written, "
	    "want none", (unsigned char)buf[0]);
	TU_STR_EQ(sw_printable(buf, 1, "abc", 3), "");
	TU_STR_EQ(sw_printable(buf, 2, "a", 1), "a");
	TU_STR_EQ(sw_printable(buf, 3, "abc", 3), "");
	TU_STR_EQ(sw_printable(buf, 4, "abcd", 4), "...");
}
END_TEST

/*
 * test_printable_sweep - every size from 1 to SWEEP_MAX over all 256 byte
 * values: never past the size, only printable ASCII, a prefix of the full form,
 * and "..." exactly when something was left out.
 */
START_TEST(test_printable_sweep)
{
	unsigned char data[256];
	char	 full[256 * 4 + 1], buf[SWEEP_MAX + 8];
	size_t	 size, n, flen, j;
	int	 i;

	for (i = 0; i < 256; i++)
		data[i] = (unsigned char)i;
	sw_printable(full, sizeof full, data, sizeof data);
	flen = strlen(full);
	check_printable_ascii(full, sizeof full);
	ck_assert_msg(flen > 3 && strcmp(full + flen - 3, "...") != 0,
	    "full form: got a cut, want all %zu bytes", sizeof data);

	for (size = 1; size <= SWEEP_MAX; size++) {
		memset(buf, 'Z', sizeof buf);
		sw_printable(buf, size, data, sizeof data);
		for (j = size; j < sizeof buf; j++)
			ck_assert_msg(buf[j] == 'Z', "size %zu: got byte %zu "
			    "written, want it untouched", size, j);
		check_printable_ascii(buf, size);
		n = strlen(buf);
		if (size >= 4) {
			ck_assert_msg(n >= 3 && strcmp(buf + n - 3, "...") == 0,
			    "size %zu: got \"%s\", want it to end in \"...\"",
			    size, buf);
			n -= 3;
		}
		ck_assert_msg(strncmp(buf, full, n) == 0, "size %zu: got "
		    "\"%s\", want a prefix of the full form", size, buf);
	}
}
END_TEST

/* escape_suite - the escape module's tests, grouped by function */

static Suite *
escape_suite(void)
{
	Suite	*s = suite_create("escape");
	TCase	*tc;

	tc = tcase_create("round_trip");
	tcase_add_loop_test(tc, test_round_trip_each_byte, 0, 256);
	tcase_add_test(tc, test_round_trip_all_bytes);
	tcase_add_test(tc, test_round_trip_all_pairs);
	tcase_add_test(tc, test_round_trip_random);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_outlen_optional);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("escape");
	tcase_add_test(tc, test_printable_ascii_kept);
	tcase_add_test(tc, test_nul);
	tcase_add_test(tc, test_backslash);
	tcase_add_test(tc, test_tab_cr_lf);
	tcase_add_test(tc, test_del_and_controls);
	tcase_add_test(tc, test_ansi_escape);
	tcase_add_test(tc, test_c1_controls);
	suite_add_tcase(s, tc);

	tc = tcase_create("utf8");
	tcase_add_test(tc, test_utf8_kept);
	tcase_add_test(tc, test_utf8_overlong);
	tcase_add_test(tc, test_utf8_lone_continuation);
	tcase_add_test(tc, test_utf8_surrogate);
	tcase_add_test(tc, test_utf8_truncated);
	tcase_add_test(tc, test_utf8_out_of_range);
	tcase_add_test(tc, test_utf8_against_table);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("unescape");
	tcase_add_test(tc, test_unescape_rejects);
	tcase_add_test(tc, test_unescape_bounded);
	tcase_add_test(tc, test_unescape_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("printable");
	tcase_add_test(tc, test_printable_forms);
	tcase_add_test(tc, test_printable_returns_buf);
	tcase_add_test(tc, test_printable_cut);
	tcase_add_test(tc, test_printable_exact_fit);
	tcase_add_test(tc, test_printable_tiny);
	tcase_add_test(tc, test_printable_sweep);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite; the exit status tells make check the result */

int
main(void)
{
	SRunner	*sr = srunner_create(escape_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
