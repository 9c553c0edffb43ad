/*
 * check_decode.c - unit tests of milter/decode.c: the MTA spellings of
 * macro values (Sendmail's xtext certificate names, "IPv6:" addresses,
 * "0" for no client address, angle brackets around {auth_author}) and
 * the header value's leading space.
 *
 * Expected values are the ones measured from Postfix 3.7 and Sendmail
 * 8.17 (see MTA-NOTES); xtext is checked against an encoder written
 * here from RFC 3461, section 4.
 *
 * DIAGNOSTICS: failures read "got X, want Y".
 * BUGS: none known.
 */

#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <libmilter/mfapi.h>

#include "decode.h"
#include "testutil.h"

/* Round trips of pseudo-random names, and their longest length. */
#define RANDOM_ROUNDS	500
#define RANDOM_MAXLEN	300

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
 * xtext_encode - RFC 3461: every byte outside "!" to "~", and "+" and
 * "=", as "+XX" in upper-case hex.  out needs 3 * len + 1 bytes.
 */
static void
xtext_encode(const unsigned char *in, size_t len, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t	 i, o = 0;

	for (i = 0; i < len; i++) {
		if (in[i] < '!' || in[i] > '~' || in[i] == '+' ||
		    in[i] == '=') {
			out[o++] = '+';
			out[o++] = hex[in[i] >> 4];
			out[o++] = hex[in[i] & 0xf];
		} else
			out[o++] = (char)in[i];
	}
	out[o] = '\0';
}

/* teardown - the test's decoded copies go, for the leak checker */

static void
teardown(void)
{
	decode_release();
}

START_TEST(mta_kind)
{
	TU_INT_EQ(decode_mta_kind("Postfix 3.7.11"), DECODE_MTA_POSTFIX);
	TU_INT_EQ(decode_mta_kind("8.17.1.9"), DECODE_MTA_SENDMAIL);
	TU_INT_EQ(decode_mta_kind("8.14.4"), DECODE_MTA_SENDMAIL);
	TU_INT_EQ(decode_mta_kind(NULL), DECODE_MTA_UNKNOWN);
	TU_INT_EQ(decode_mta_kind(""), DECODE_MTA_UNKNOWN);
	TU_INT_EQ(decode_mta_kind("8"), DECODE_MTA_UNKNOWN);
	TU_INT_EQ(decode_mta_kind("8.17.1.9/Debian"), DECODE_MTA_UNKNOWN);
	TU_INT_EQ(decode_mta_kind(".17"), DECODE_MTA_UNKNOWN);
}
END_TEST

START_TEST(xtext_measured)
{
	/* {cert_subject} as Sendmail 8.17 sent it for a test certificate. */
	const char *in = "/O=Example+20Org/OU=R+5C+2BD/CN=Test+20Client";
	char	 out[64];

	TU_UINT_EQ(decode_xtext(in, out), strlen("/O=Example Org/OU=R\\+D/"
	    "CN=Test Client"));
	TU_STR_EQ(out, "/O=Example Org/OU=R\\+D/CN=Test Client");
}
END_TEST

START_TEST(xtext_malformed_kept)
{
	static const struct {
		const char	*in, *want;
	} cases[] = {
		{ "", "" },
		{ "plain", "plain" },
		{ "a+", "a+" },
		{ "a+2", "a+2" },
		{ "+2g", "+2g" },
		{ "+2b", "+2b" },		/* hexchar is upper case */
		{ "+g2", "+g2" },
		{ "+00", "+00" },		/* a NUL would cut the value */
		{ "++41", "+A" },
		{ "+2B41", "+41" },		/* decoded once, not twice */
		{ "+41+42+", "AB+" },
		{ "+7E+7F", "~\x7f" },
	};
	char	 out[16];
	size_t	 i, n;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		n = decode_xtext(cases[i].in, out);
		ck_assert_msg(strcmp(out, cases[i].want) == 0 &&
		    n == strlen(cases[i].want), "decode_xtext(\"%s\"): got "
		    "\"%s\" (%zu), want \"%s\"", cases[i].in, out, n,
		    cases[i].want);
	}
}
END_TEST

START_TEST(xtext_every_byte)
{
	char	 in[4], out[4];
	int	 b;

	for (b = 1; b < 256; b++) {
		snprintf(in, sizeof in, "+%02X", b);
		TU_UINT_EQ(decode_xtext(in, out), 1);
		ck_assert_msg((unsigned char)out[0] == b,
		    "decode_xtext(\"%s\"): got 0x%02x, want 0x%02x", in,
		    (unsigned char)out[0], b);
	}
}
END_TEST

START_TEST(xtext_round_trip)
{
	unsigned char raw[RANDOM_MAXLEN];
	char	 enc[3 * RANDOM_MAXLEN + 1], dec[3 * RANDOM_MAXLEN + 1];
	size_t	 len, i, n;
	int	 round;

	rng_state = 0x5eed1234u;
	for (round = 0; round < RANDOM_ROUNDS; round++) {
		len = rng_next() % RANDOM_MAXLEN;
		for (i = 0; i < len; i++)
			raw[i] = (unsigned char)(1 + rng_next() % 255);
		xtext_encode(raw, len, enc);
		n = decode_xtext(enc, dec);
		TU_MEM_EQ(dec, n, raw, len);
	}
}
END_TEST

START_TEST(ipv6_prefix)
{
	const char *v = "IPv6:2001:db8::1";

	TU_STR_EQ(decode_strip_ipv6("IPv6:::1"), "::1");
	TU_STR_EQ(decode_strip_ipv6("ipv6:::1"), "::1");
	ck_assert_ptr_eq(decode_strip_ipv6(v), v + 5);
	TU_STR_EQ(decode_strip_ipv6("127.0.0.1"), "127.0.0.1");
	TU_STR_EQ(decode_strip_ipv6("IPv6"), "IPv6");
	ck_assert_ptr_null(decode_strip_ipv6(NULL));
}
END_TEST

START_TEST(addresses)
{
	enum decode_mta sm = DECODE_MTA_SENDMAIL, pf = DECODE_MTA_POSTFIX;

	TU_STR_EQ(decode_value(sm, "{client_addr}", "IPv6:::1"), "::1");
	TU_STR_EQ(decode_value(pf, "{client_addr}", "::1"), "::1");
	TU_STR_EQ(decode_value(sm, "{client_addr}", "127.0.0.1"),
	    "127.0.0.1");
	/* sendmail -bs: no peer, {client_addr} "0": not provided. */
	ck_assert_ptr_null(decode_value(sm, "{client_addr}", "0"));
	ck_assert_ptr_null(decode_value(sm, "{client_addr}", ""));
	ck_assert_ptr_null(decode_value(sm, "{client_addr}", "IPv6:"));
	TU_STR_EQ(decode_value(sm, "{daemon_addr}", "IPv6:::1"), "::1");
	/* Sendmail 8.17 as measured: the long form, upper case hex. */
	TU_STR_EQ(decode_value(sm, "{daemon_addr}", "IPv6:0:0:0:0:0:0:0:1"),
	    "::1");
	TU_STR_EQ(decode_value(sm, "{client_addr}",
	    "IPv6:2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
	TU_STR_EQ(decode_value(pf, "{client_addr}", "2001:db8::1"),
	    "2001:db8::1");
	TU_STR_EQ(decode_value(sm, "{client_addr}", "IPv6:::ffff:192.0.2.1"),
	    "::ffff:192.0.2.1");
	/* Not an address after the prefix: kept as sent. */
	TU_STR_EQ(decode_value(sm, "{daemon_addr}", "IPv6:zz::1"), "zz::1");
	TU_STR_EQ(decode_value(sm, "{if_addr}", "IPv6:fe80::1"), "fe80::1");
	/* Only "0" means none; other odd values are kept as sent. */
	TU_STR_EQ(decode_value(sm, "{client_addr}", "unknown"), "unknown");
	TU_STR_EQ(decode_value(sm, "{daemon_addr}", "0"), "0");
}
END_TEST

START_TEST(author_brackets)
{
	const char *plain = "alice@example.com", *odd = "<alice";
	enum decode_mta sm = DECODE_MTA_SENDMAIL;

	TU_STR_EQ(decode_value(sm, "{auth_author}", "<alice@example.com>"),
	    "alice@example.com");
	TU_STR_EQ(decode_value(DECODE_MTA_POSTFIX, "{auth_author}",
	    "<alice@example.com>"), "alice@example.com");
	TU_STR_EQ(decode_value(sm, "{auth_author}", "<>"), "");
	TU_STR_EQ(decode_value(sm, "{auth_author}", "<<a@b>>"), "<a@b>");
	ck_assert_ptr_eq(decode_value(sm, "{auth_author}", plain), plain);
	ck_assert_ptr_eq(decode_value(sm, "{auth_author}", odd), odd);
	TU_STR_EQ(decode_value(sm, "{auth_author}", ">x<"), ">x<");
	/* xtext in the parameter is left as the client wrote it. */
	TU_STR_EQ(decode_value(sm, "{auth_author}", "<a+2Bb@example.com>"),
	    "a+2Bb@example.com");
}
END_TEST

START_TEST(cert_names_by_mta)
{
	const char *sub = "/O=Example+20Org/CN=Test+20CA";
	const char *cn = "Test+41 CA";

	TU_STR_EQ(decode_value(DECODE_MTA_SENDMAIL, "{cert_subject}", sub),
	    "/O=Example Org/CN=Test CA");
	TU_STR_EQ(decode_value(DECODE_MTA_SENDMAIL, "{cert_issuer}", sub),
	    "/O=Example Org/CN=Test CA");
	/* Postfix passes the common name unencoded: a "+41" is literal. */
	ck_assert_ptr_eq(decode_value(DECODE_MTA_POSTFIX, "{cert_subject}",
	    cn), cn);
	ck_assert_ptr_eq(decode_value(DECODE_MTA_UNKNOWN, "{cert_issuer}",
	    sub), sub);
	/* Other macros are never touched. */
	ck_assert_ptr_eq(decode_value(DECODE_MTA_SENDMAIL, "{cipher}", sub),
	    sub);
	ck_assert_ptr_null(decode_value(DECODE_MTA_SENDMAIL,
	    "{cert_subject}", NULL));
}
END_TEST

START_TEST(copies_stay_valid)
{
	enum decode_mta sm = DECODE_MTA_SENDMAIL;
	const char *a, *b, *s, *i;

	/* Subject and issuer of one TLS record live side by side. */
	s = decode_value(sm, "{cert_subject}", "/CN=Sub+20One");
	i = decode_value(sm, "{cert_issuer}", "/CN=Iss+20Two");
	TU_STR_EQ(s, "/CN=Sub One");
	TU_STR_EQ(i, "/CN=Iss Two");
	/* The same value decoded again for a second record: same copy. */
	a = decode_value(sm, "{auth_author}", "<alice@example.com>");
	b = decode_value(sm, "{auth_author}", "<alice@example.com>");
	ck_assert_ptr_eq(a, b);
	TU_STR_EQ(a, "alice@example.com");
	TU_STR_EQ(s, "/CN=Sub One");
	/* Client and daemon address of one connect record. */
	a = decode_value(sm, "{client_addr}", "IPv6:0:0:0:0:0:0:0:2");
	b = decode_value(sm, "{daemon_addr}", "IPv6:0:0:0:0:0:0:0:1");
	TU_STR_EQ(a, "::2");
	TU_STR_EQ(b, "::1");
}
END_TEST

START_TEST(header_leading_space)
{
	const char *v = " value", *e = "";

	ck_assert_ptr_eq(decode_header_value_with(v, 1), v);
	TU_STR_EQ(decode_header_value_with("value", 0), " value");
	TU_STR_EQ(decode_header_value_with("  two", 0), "   two");
	/* An empty value stays empty: the MTA cannot tell us more. */
	ck_assert_ptr_eq(decode_header_value_with(e, 0), e);
	ck_assert_ptr_null(decode_header_value_with(NULL, 0));
	TU_STR_EQ(decode_header_value_with("caf\xc3\xa9 \xff", 0),
	    " caf\xc3\xa9 \xff");

	decode_note_steps(SMFIP_HDR_LEADSPC | SMFIP_RCPT_REJ);
	ck_assert_ptr_eq(decode_header_value(v), v);
	decode_note_steps(SMFIP_RCPT_REJ);
	TU_STR_EQ(decode_header_value("x"), " x");
	decode_note_steps(SMFIP_HDR_LEADSPC);
}
END_TEST

/* The two threads of per_thread_copies, and where they meet. */
static pthread_barrier_t meet;

/* decode_in_thread - decode, wait for the other thread's, check ours */

static void *
decode_in_thread(void *arg)
{
	const char *name = arg, *got;
	char	 in[64], want[64];
	int	 ok;

	snprintf(in, sizeof in, "/CN=%s+20thread", name);
	snprintf(want, sizeof want, "/CN=%s thread", name);
	got = decode_value(DECODE_MTA_SENDMAIL, "{cert_subject}", in);
	(void)pthread_barrier_wait(&meet);
	ok = strcmp(got, want) == 0;
	return ok ? arg : NULL;
}

START_TEST(per_thread_copies)
{
	pthread_t t1, t2;
	void	*r1, *r2;

	ck_assert_int_eq(pthread_barrier_init(&meet, NULL, 2), 0);
	ck_assert_int_eq(pthread_create(&t1, NULL, decode_in_thread, "one"),
	    0);
	ck_assert_int_eq(pthread_create(&t2, NULL, decode_in_thread, "two"),
	    0);
	ck_assert_int_eq(pthread_join(t1, &r1), 0);
	ck_assert_int_eq(pthread_join(t2, &r2), 0);
	(void)pthread_barrier_destroy(&meet);
	ck_assert_msg(r1 != NULL && r2 != NULL, "a thread's decoded copy "
	    "was overwritten by the other thread: got %s/%s, want one/two",
	    r1 ? "ok" : "bad", r2 ? "ok" : "bad");
}
END_TEST

/* decode_suite - one suite, one case per kind of value */

static Suite *
decode_suite(void)
{
	Suite	*s = suite_create("decode");
	TCase	*tc = tcase_create("decode");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, mta_kind);
	tcase_add_test(tc, xtext_measured);
	tcase_add_test(tc, xtext_malformed_kept);
	tcase_add_test(tc, xtext_every_byte);
	tcase_add_test(tc, xtext_round_trip);
	tcase_add_test(tc, ipv6_prefix);
	tcase_add_test(tc, addresses);
	tcase_add_test(tc, author_brackets);
	tcase_add_test(tc, cert_names_by_mta);
	tcase_add_test(tc, copies_stay_valid);
	tcase_add_test(tc, header_leading_space);
	tcase_add_test(tc, per_thread_copies);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite; the exit status tells make check the result */

int
main(void)
{
	SRunner	*sr = srunner_create(decode_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
