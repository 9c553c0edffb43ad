/*
 * check_manpage.c - smtpwarden.conf(5) documents every key that
 * lib/config.c accepts, and no key it does not.
 *
 * The key list comes from the program (sw_config_keys()), so a key
 * added to the table without a manual entry fails here.  The page is
 * read as written, lib/smtpwarden.conf.5.in under the source tree: a
 * key is documented when its KEYS section has an ".It Ic KEY" entry
 * whose text states the default.
 *
 * DIAGNOSTICS: failures read "got X, want Y" and name the key.
 * BUGS: bounds are not compared with the table, which sw_config_keys()
 * does not expose.
 */

#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "sw_config.h"
#include "testutil.h"

#ifndef SW_TOP_SRCDIR
#define SW_TOP_SRCDIR	"../.."
#endif

#define PAGE		SW_TOP_SRCDIR "/lib/smtpwarden.conf.5.in"

/* Largest page read; the real one is about ten kilobytes. */
#define PAGE_MAX_BYTES	(1024 * 1024)

/* Longest key name compared. */
#define KEY_MAX		128

static char	*page;		/* the whole page, NUL-terminated */
static char	*keys;		/* its KEYS section, cut out of page */

/* setup - read the page and find its KEYS section */

static void
setup(void)
{
	FILE	*fp;
	size_t	 n;
	char	*end;

	ck_assert_msg((fp = fopen(PAGE, "r")) != NULL, "cannot open %s",
	    PAGE);
	ck_assert_msg((page = malloc(PAGE_MAX_BYTES + 1)) != NULL,
	    "out of memory");
	n = fread(page, 1, PAGE_MAX_BYTES + 1, fp);
	fclose(fp);
	ck_assert_msg(n <= PAGE_MAX_BYTES, "%s: larger than %d bytes", PAGE,
	    PAGE_MAX_BYTES);
	page[n] = '\0';

	keys = strstr(page, "\n.Sh KEYS\n");
	ck_assert_msg(keys != NULL, "%s: got no \".Sh KEYS\" section, want "
	    "one", PAGE);
	keys++;
	if ((end = strstr(keys + 1, "\n.Sh ")) != NULL)
		end[1] = '\0';
}

/* teardown - free the page */

static void
teardown(void)
{
	free(page);
	page = keys = NULL;
}

/*
 * entry - the text of the ".It Ic name" entry in the KEYS section, up
 * to the next entry or list end; NULL if the page has none.  The name
 * must be followed by a space or the end of the line.
 */
static char *
entry(const char *name, size_t *len)
{
	const char *p, *end;
	size_t	 nlen = strlen(name);

	for (p = keys; (p = strstr(p, "\n.It Ic ")) != NULL; p++) {
		p += strlen("\n.It Ic ");
		if (strncmp(p, name, nlen) != 0 ||
		    (p[nlen] != ' ' && p[nlen] != '\n'))
			continue;
		end = strstr(p, "\n.It ");
		if (end == NULL || (strstr(p, "\n.El") != NULL &&
		    strstr(p, "\n.El") < end))
			end = strstr(p, "\n.El");
		if (end == NULL)
			end = p + strlen(p);
		*len = (size_t)(end - p);
		return (char *)p;
	}
	return NULL;
}

/* is_key - does the program accept this key? */

static int
is_key(const char *name)
{
	const char *const *k;

	for (k = sw_config_keys(); *k != NULL; k++)
		if (strcmp(*k, name) == 0)
			return 1;
	return 0;
}

/* test_every_key_documented - an entry for each key the parser takes */

START_TEST(test_every_key_documented)
{
	const char *const *k;
	size_t	 len, nkeys = 0;

	for (k = sw_config_keys(); *k != NULL; k++) {
		nkeys++;
		ck_assert_msg(entry(*k, &len) != NULL, "key %s: got no "
		    "\".It Ic %s\" entry in %s, want one", *k, *k, PAGE);
	}
	ck_assert_msg(nkeys > 0, "sw_config_keys(): got no keys, want some");
}
END_TEST

/* test_every_default_stated - each entry says what the default is */

START_TEST(test_every_default_stated)
{
	const char *const *k;
	char	*text;
	size_t	 len;

	for (k = sw_config_keys(); *k != NULL; k++) {
		if ((text = entry(*k, &len)) == NULL)
			continue;	/* test_every_key_documented says so */
		text = strndup(text, len);
		ck_assert_msg(text != NULL, "out of memory");
		ck_assert_msg(strstr(text, "Default") != NULL, "key %s: got "
		    "an entry without \"Default\", want its default stated",
		    *k);
		free(text);
	}
}
END_TEST

/* test_no_unknown_key_documented - no entry for a key that is gone */

START_TEST(test_no_unknown_key_documented)
{
	const char *p, *e;
	char	 name[KEY_MAX];
	size_t	 n;

	for (p = keys; (p = strstr(p, "\n.It Ic ")) != NULL; p++) {
		p += strlen("\n.It Ic ");
		for (e = p; *e != ' ' && *e != '\n' && *e != '\0'; e++)
			continue;
		n = (size_t)(e - p);
		ck_assert_msg(n > 0 && n < sizeof name, "%s: an entry name "
		    "of %zu bytes", PAGE, n);
		memcpy(name, p, n);
		name[n] = '\0';
		ck_assert_msg(is_key(name), "%s documents key %s: got a key "
		    "the program does not accept, want none", PAGE, name);
	}
}
END_TEST

/* test_keys_documented_once - one entry per key, not two */

START_TEST(test_keys_documented_once)
{
	const char *const *k;
	const char *first;
	size_t	 len;

	for (k = sw_config_keys(); *k != NULL; k++) {
		char	*saved = keys;

		if ((first = entry(*k, &len)) == NULL)
			continue;
		keys = (char *)first;
		ck_assert_msg(entry(*k, &len) == NULL, "key %s: got two "
		    "entries, want one", *k);
		keys = saved;
	}
}
END_TEST

/* manpage_suite - the tests, with the page read fresh for each */

static Suite *
manpage_suite(void)
{
	Suite	*s = suite_create("manpage");
	TCase	*tc = tcase_create("smtpwarden.conf.5");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_every_key_documented);
	tcase_add_test(tc, test_every_default_stated);
	tcase_add_test(tc, test_no_unknown_key_documented);
	tcase_add_test(tc, test_keys_documented_once);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite; the exit status tells make check the result */

int
main(void)
{
	SRunner	*sr = srunner_create(manpage_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
