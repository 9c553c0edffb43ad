/*
 * check_esmtp.c - unit tests of lib/esmtp.c (sw_esmtp.h): ESMTP
 * parameters split on the first "=" only, the address inside a MAIL or
 * RCPT path (RFC 5321 section 4.1.2), and its domain.
 *
 * The field case C11 (several parameters on MAIL and RCPT) is replayed
 * as libmilter hands the arguments over: argv[0] the path, then one
 * element per parameter.
 *
 * DIAGNOSTICS: failures read "got X, want Y".
 * BUGS: none known.
 */

#include "config.h"
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "sw_esmtp.h"
#include "testutil.h"

#define NELEM(a)	(sizeof (a) / sizeof (a)[0])

/* One expected split: keyword and value (NULL for none). */
struct want_param {
	const char	*wp_keyword;
	const char	*wp_value;
};

/* check_split - arg splits into the wanted keyword and value */

static void
check_split(const char *arg, const char *keyword, const char *value)
{
	struct sw_esmtp_param p;
	int	 rc = sw_esmtp_param_split(arg, &p);

	ck_assert_msg(rc == 0, "split \"%s\": got %d, want 0", arg, rc);
	ck_assert_msg(p.ep_keyword == arg, "split \"%s\": keyword got %p, "
	    "want %p (the argument itself)", arg, (const void *)p.ep_keyword,
	    (const void *)arg);
	TU_MEM_EQ(p.ep_keyword, p.ep_keyword_len, keyword, strlen(keyword));
	if (value == NULL) {
		ck_assert_msg(p.ep_value == NULL, "split \"%s\": value got "
		    "\"%.*s\", want none", arg, (int)p.ep_value_len,
		    p.ep_value);
		TU_UINT_EQ(p.ep_value_len, 0);
	} else {
		ck_assert_msg(p.ep_value != NULL, "split \"%s\": value got "
		    "none, want \"%s\"", arg, value);
		TU_MEM_EQ(p.ep_value, p.ep_value_len, value, strlen(value));
	}
}

/* check_path - path gives the wanted address and null-path verdict */

static void
check_path(const char *path, const char *want, int want_null)
{
	const char *addr = NULL;
	size_t	 len = 0;
	int	 rc = sw_esmtp_path_address(path, &addr, &len);

	ck_assert_msg(rc == want_null, "path \"%s\": got %d, want %d", path,
	    rc, want_null);
	ck_assert_msg(addr != NULL && addr >= path &&
	    addr + len <= path + strlen(path), "path \"%s\": address got "
	    "outside the path, want a pointer into it", path);
	TU_MEM_EQ(addr, len, want, strlen(want));
}

/* check_domain - addr gives the wanted domain, or NULL */

static void
check_domain(const char *addr, const char *want)
{
	size_t	 domlen = 0;
	const char *dom = sw_esmtp_domain(addr, strlen(addr), &domlen);

	if (want == NULL) {
		ck_assert_msg(dom == NULL, "domain \"%s\": got \"%.*s\", "
		    "want none", addr, (int)domlen, dom ? dom : "");
		return;
	}
	ck_assert_msg(dom != NULL, "domain \"%s\": got none, want \"%s\"",
	    addr, want);
	TU_MEM_EQ(dom, domlen, want, strlen(want));
}

/* test_split_orcpt - ORCPT holds ";" and "@": only the first "=" separates. */
START_TEST(test_split_orcpt)
{
	check_split("ORCPT=rfc822;user@example.net", "ORCPT",
	    "rfc822;user@example.net");
}
END_TEST

/* test_split_notify_list - a comma-separated value is one value */
START_TEST(test_split_notify_list)
{
	check_split("NOTIFY=SUCCESS,FAILURE", "NOTIFY", "SUCCESS,FAILURE");
}
END_TEST

/* test_split_body - the plain KEYWORD=VALUE case */
START_TEST(test_split_body)
{
	check_split("BODY=8BITMIME", "BODY", "8BITMIME");
}
END_TEST

/*
 * test_split_second_equals - a later "=" belongs to the value (xtext kept raw,
 * "+3D" too).
 */
START_TEST(test_split_second_equals)
{
	check_split("ENVID=a=b=c", "ENVID", "a=b=c");
	check_split("ENVID=QQ+3D314159", "ENVID", "QQ+3D314159");
}
END_TEST

/* test_split_keyword_only - a keyword without "=" has no value at all ... */
START_TEST(test_split_keyword_only)
{
	check_split("SMTPUTF8", "SMTPUTF8", NULL);
}
END_TEST

/*
 * test_split_empty_value - ... which is not the same as an empty value after
 * "=".
 */
START_TEST(test_split_empty_value)
{
	check_split("AUTH=", "AUTH", "");
}
END_TEST

/* test_split_auth_null - "AUTH=<>" keeps its angle brackets. */
START_TEST(test_split_auth_null)
{
	check_split("AUTH=<>", "AUTH", "<>");
}
END_TEST

/*
 * test_split_case_kept - case is kept as sent; comparing is the caller's
 * business.
 */
START_TEST(test_split_case_kept)
{
	check_split("body=8bitmime", "body", "8bitmime");
}
END_TEST

/*
 * test_split_empty_keyword - an empty keyword is refused, with or without a
 * value.
 */
START_TEST(test_split_empty_keyword)
{
	static const char *const bad[] = { "", "=", "=value", "==" };
	struct sw_esmtp_param p;
	size_t	 i;
	int	 rc;

	for (i = 0; i < NELEM(bad); i++) {
		rc = sw_esmtp_param_split(bad[i], &p);
		ck_assert_msg(rc == -1, "split \"%s\": got %d, want -1",
		    bad[i], rc);
		TU_UINT_EQ(p.ep_keyword_len, 0);
	}
}
END_TEST

/* test_path_brackets - the address inside angle brackets */
START_TEST(test_path_brackets)
{
	check_path("<a@b>", "a@b", 0);
	check_path("<sender@example.com>", "sender@example.com", 0);
}
END_TEST

/* test_path_null - "<>" is the null reverse-path: empty address, and 1. */
START_TEST(test_path_null)
{
	check_path("<>", "", 1);
}
END_TEST

/* test_path_no_brackets - without brackets the path is taken whole. */
START_TEST(test_path_no_brackets)
{
	check_path("a@b", "a@b", 0);
	check_path("postmaster", "postmaster", 0);
}
END_TEST

/* test_path_unbalanced - only a matching pair is stripped. */
START_TEST(test_path_unbalanced)
{
	check_path("<a@b", "<a@b", 0);
	check_path("a@b>", "a@b>", 0);
	check_path("<", "<", 0);
	check_path(">", ">", 0);
}
END_TEST

/* test_path_inner - inner brackets and a source route stay in the address. */
START_TEST(test_path_inner)
{
	check_path("<<a@b>>", "<a@b>", 0);
	check_path("<@relay.example:a@b>", "@relay.example:a@b", 0);
}
END_TEST

/* test_domain_simple - the part after the "@" */
START_TEST(test_domain_simple)
{
	check_domain("user@example.com", "example.com");
}
END_TEST

/*
 * test_domain_last_at - the last "@" counts: a quoted local part may hold one.
 */
START_TEST(test_domain_last_at)
{
	check_domain("\"a@b\"@example.org", "example.org");
	check_domain("a@b@c", "c");
}
END_TEST

/* test_domain_none - no "@" at all, or nothing at all: no domain */
START_TEST(test_domain_none)
{
	check_domain("postmaster", NULL);
	check_domain("", NULL);
}
END_TEST

/* test_domain_empty - nothing after the "@": no domain */
START_TEST(test_domain_empty)
{
	check_domain("user@", NULL);
	check_domain("@", NULL);
}
END_TEST

/*
 * test_domain_bounded - only addrlen bytes are looked at, not the rest of the
 * string.
 */
START_TEST(test_domain_bounded)
{
	const char *s = "user@example.com@later.example";
	size_t	 domlen = 0;
	const char *dom = sw_esmtp_domain(s, strlen("user@example.com"),
	    &domlen);

	ck_assert_msg(dom != NULL, "domain: got none, want example.com");
	TU_MEM_EQ(dom, domlen, "example.com", 11);
	dom = sw_esmtp_domain(s, 4, &domlen);
	ck_assert_msg(dom == NULL, "domain of \"user\": got \"%.*s\", "
	    "want none", (int)domlen, dom ? dom : "");
}
END_TEST

/*
 * test_null_path_has_no_domain - the path and domain of a "<>" sender: no
 * domain at all.
 */
START_TEST(test_null_path_has_no_domain)
{
	const char *addr;
	size_t	 len, domlen;

	TU_INT_EQ(sw_esmtp_path_address("<>", &addr, &len), 1);
	ck_assert_msg(sw_esmtp_domain(addr, len, &domlen) == NULL,
	    "domain of <>: got one, want none");
}
END_TEST

/* check_argv - every parameter of an argv, in order, split as wanted */

static void
check_argv(char **argv, const char *addr, const struct want_param *want,
    size_t nwant)
{
	size_t	 i, n;

	check_path(argv[0], addr, 0);
	for (n = 0; argv[n + 1] != NULL; n++)
		continue;
	TU_UINT_EQ(n, nwant);
	for (i = 0; i < n; i++)
		check_split(argv[i + 1], want[i].wp_keyword,
		    want[i].wp_value);
}

/* test_c11_mail - C11: MAIL with five parameters, all kept, in order. */
START_TEST(test_c11_mail)
{
	char	*argv[] = {
		"<sender@example.com>", "SIZE=2048", "BODY=8BITMIME",
		"RET=HDRS", "ENVID=QQ314159", "AUTH=<>", NULL
	};
	static const struct want_param want[] = {
		{ "SIZE", "2048" }, { "BODY", "8BITMIME" },
		{ "RET", "HDRS" }, { "ENVID", "QQ314159" },
		{ "AUTH", "<>" },
	};

	check_argv(argv, "sender@example.com", want, NELEM(want));
	check_domain("sender@example.com", "example.com");
}
END_TEST

/*
 * test_c11_rcpt - C11: RCPT with two parameters; ORCPT's value holds ";" and
 * "@".
 */
START_TEST(test_c11_rcpt)
{
	char	*argv[] = {
		"<user@example.com>", "NOTIFY=SUCCESS,FAILURE",
		"ORCPT=rfc822;user@example.net", NULL
	};
	static const struct want_param want[] = {
		{ "NOTIFY", "SUCCESS,FAILURE" },
		{ "ORCPT", "rfc822;user@example.net" },
	};

	check_argv(argv, "user@example.com", want, NELEM(want));
}
END_TEST

/*
 * test_c11_rcpt_wire - C11 from the wire: R("<path>\0P1\0P2\0") cut into argv
 * at the NULs.
 */
START_TEST(test_c11_rcpt_wire)
{
	static const char wire[] = "<user@example.com>\0"
	    "NOTIFY=SUCCESS,FAILURE\0ORCPT=rfc822;user@example.net\0";
	static const struct want_param want[] = {
		{ "NOTIFY", "SUCCESS,FAILURE" },
		{ "ORCPT", "rfc822;user@example.net" },
	};
	char	*argv[8];
	const char *p;
	size_t	 n = 0;

	/* sizeof counts the literal's own NUL after the last one. */
	for (p = wire; p < wire + sizeof wire - 1; p += strlen(p) + 1)
		argv[n++] = (char *)p;
	argv[n] = NULL;
	TU_UINT_EQ(n, 3);
	check_argv(argv, "user@example.com", want, NELEM(want));
}
END_TEST

/* esmtp_suite - the esmtp module's tests, grouped by function */

static Suite *
esmtp_suite(void)
{
	Suite	*s = suite_create("esmtp");
	TCase	*tc;

	tc = tcase_create("param");
	tcase_add_test(tc, test_split_orcpt);
	tcase_add_test(tc, test_split_notify_list);
	tcase_add_test(tc, test_split_body);
	tcase_add_test(tc, test_split_second_equals);
	tcase_add_test(tc, test_split_keyword_only);
	tcase_add_test(tc, test_split_empty_value);
	tcase_add_test(tc, test_split_auth_null);
	tcase_add_test(tc, test_split_case_kept);
	tcase_add_test(tc, test_split_empty_keyword);
	suite_add_tcase(s, tc);

	tc = tcase_create("path");
	tcase_add_test(tc, test_path_brackets);
	tcase_add_test(tc, test_path_null);
	tcase_add_test(tc, test_path_no_brackets);
	tcase_add_test(tc, test_path_unbalanced);
	tcase_add_test(tc, test_path_inner);
	suite_add_tcase(s, tc);

	tc = tcase_create("domain");
	tcase_add_test(tc, test_domain_simple);
	tcase_add_test(tc, test_domain_last_at);
	tcase_add_test(tc, test_domain_none);
	tcase_add_test(tc, test_domain_empty);
	tcase_add_test(tc, test_domain_bounded);
	tcase_add_test(tc, test_null_path_has_no_domain);
	suite_add_tcase(s, tc);

	tc = tcase_create("c11");
	tcase_add_test(tc, test_c11_mail);
	tcase_add_test(tc, test_c11_rcpt);
	tcase_add_test(tc, test_c11_rcpt_wire);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite; the exit status tells make check the result */

int
main(void)
{
	SRunner	*sr = srunner_create(esmtp_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
