/*
 * check_rules_manpage.c - smtpwarden.rules(5) documents every field
 * and function the rules parser knows, every stage and every action.
 *
 * The names come from the program (policy_field_names(),
 * policy_stage_name(), policy_action_name()), so a field added to the
 * table in milter/policy_eval.c without a manual entry fails here.  The
 * page is read as written, milter/smtpwarden.rules.5.in under the
 * source tree.  A plain field must have an ".It Ic NAME" entry; a
 * function or index (a name ending in "(" or "[") must appear as a
 * word; stages and actions must have ".It Ic NAME" entries.
 *
 * DIAGNOSTICS: failures read "got X, want Y" and name what is missing.
 * BUGS: the test cannot tell whether an entry says the right thing.
 */

#include "config.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "policy.h"
#include "testutil.h"

#ifndef SW_TOP_SRCDIR
#define SW_TOP_SRCDIR	"../.."
#endif

#define PAGE		SW_TOP_SRCDIR "/milter/smtpwarden.rules.5.in"

/* Largest page read; the real one is some tens of kilobytes. */
#define PAGE_MAX_BYTES	(1024 * 1024)

static char	*page;		/* the whole page, NUL-terminated */

/* setup - read the page */

static void
setup(void)
{
	FILE	*fp;
	size_t	 n;

	ck_assert_msg((fp = fopen(PAGE, "r")) != NULL, "cannot open %s",
	    PAGE);
	ck_assert_msg((page = malloc(PAGE_MAX_BYTES + 1)) != NULL,
	    "out of memory");
	n = fread(page, 1, PAGE_MAX_BYTES + 1, fp);
	fclose(fp);
	ck_assert_msg(n <= PAGE_MAX_BYTES, "%s: larger than %d bytes", PAGE,
	    PAGE_MAX_BYTES);
	page[n] = '\0';
}

/* teardown - free the page */

static void
teardown(void)
{
	free(page);
	page = NULL;
}

/* is_name_char - can c be part of a field name? */

static int
is_name_char(int c)
{
	return isalnum(c) || c == '_' || c == '.';
}

/*
 * mentioned - does name appear as a word: not inside a longer name
 * such as "tls" in "tls.version"?  A name ending in "(" or "[" only
 * needs its start checked.
 */
static int
mentioned(const char *name)
{
	size_t	 len = strlen(name);
	const char *p;
	int	 open = len > 0 && (name[len - 1] == '(' ||
	    name[len - 1] == '[');

	for (p = page; (p = strstr(p, name)) != NULL; p++) {
		const char *e = p + len;

		if (p > page && is_name_char((unsigned char)p[-1]))
			continue;
		if (open)
			return 1;
		/* A full stop after the name ends a sentence, not a name. */
		if (is_name_char((unsigned char)*e) && !(*e == '.' &&
		    !is_name_char((unsigned char)e[1])))
			continue;
		return 1;
	}
	return 0;
}

/* has_entry - an ".It Ic NAME" line, NAME followed by space or EOL */

static int
has_entry(const char *name)
{
	size_t	 len = strlen(name);
	const char *p;

	for (p = page; (p = strstr(p, "\n.It Ic ")) != NULL; p++) {
		const char *n = p + strlen("\n.It Ic ");

		if (strncmp(n, name, len) == 0 && (n[len] == ' ' ||
		    n[len] == '\n'))
			return 1;
	}
	return 0;
}

START_TEST(test_every_field_mentioned)
{
	const char *const *f;
	size_t	 n = 0;

	for (f = policy_field_names(); *f != NULL; f++, n++)
		ck_assert_msg(mentioned(*f), "%s: got no mention of \"%s\", "
		    "want one", PAGE, *f);
	ck_assert_msg(n > 30, "policy_field_names(): got %zu names, want "
	    "more than 30", n);
}
END_TEST

START_TEST(test_every_field_has_entry)
{
	const char *const *f;
	size_t	 len;

	for (f = policy_field_names(); *f != NULL; f++) {
		len = strlen(*f);
		if ((*f)[len - 1] == '(' || (*f)[len - 1] == '[')
			continue;	/* functions: mentioned is enough */
		ck_assert_msg(has_entry(*f), "field %s: got no \".It Ic %s\" "
		    "entry in %s, want one", *f, *f, PAGE);
	}
}
END_TEST

START_TEST(test_every_stage_documented)
{
	int	 st;

	for (st = 0; st < PS_MAX; st++) {
		const char *name = policy_stage_name((enum pol_stage)st);

		ck_assert_msg(has_entry(name), "stage %s: got no \".It Ic %s\" "
		    "entry in %s, want one", name, name, PAGE);
	}
}
END_TEST

START_TEST(test_every_action_documented)
{
	int	 a;

	for (a = PA_CONTINUE; a <= PA_TAG; a++) {
		const char *name = policy_action_name((enum pol_action)a);

		ck_assert_msg(has_entry(name), "action %s: got no \".It Ic "
		    "%s\" entry in %s, want one", name, name, PAGE);
	}
}
END_TEST

START_TEST(test_statements_documented)
{
	static const char *const words[] = { "mode", "list", "map", "rule",
	    "shadow", "monitor", "enforce", "SIGHUP", "-n", "like", "in",
	    "not", "and", "or", "=~", "!~", "%{", "%%" };
	size_t	 i;

	for (i = 0; i < sizeof words / sizeof words[0]; i++)
		ck_assert_msg(strstr(page, words[i]) != NULL, "%s: got no "
		    "\"%s\", want it documented", PAGE, words[i]);
}
END_TEST

static Suite *
rules_manpage_suite(void)
{
	Suite	*s = suite_create("rules_manpage");
	TCase	*tc = tcase_create("smtpwarden.rules.5");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_every_field_mentioned);
	tcase_add_test(tc, test_every_field_has_entry);
	tcase_add_test(tc, test_every_stage_documented);
	tcase_add_test(tc, test_every_action_documented);
	tcase_add_test(tc, test_statements_documented);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite; the exit status tells make check the result */

int
main(void)
{
	SRunner	*sr = srunner_create(rules_manpage_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
