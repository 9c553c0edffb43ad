/*
 * check_config.c - unit tests of lib/config.c, the smtpwarden.conf
 * reader (sw_config.h): defaults, every key, bounds, and errors that
 * name FILE:LINE and the reason.
 *
 * Each test writes its configuration into a scratch directory that the
 * fixture makes and removes, so the tests never read a system file.
 *
 * DIAGNOSTICS: failures read "got X, want Y".
 * BUGS: a libconfuse error found at end of file (an unterminated
 * string) is reported on the last line, not where the string began;
 * the test only asserts that some line is named.  libconfuse 3.3
 * miscounts lines after comments; the "lines" tests guard the
 * workaround in lib/config.c.
 */

#include "config.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <check.h>

#include "sw_config.h"
#include "testutil.h"

#ifndef SW_TOP_SRCDIR
#define SW_TOP_SRCDIR	"../.."
#endif

/* Room for the reasons of one failed load. */
#define ERRSIZE		1024

/*
 * The keys smtpwarden.conf has had from the start.  Keys added later
 * are held to the shipped example instead: each key listed must be
 * shown there, and each key shown there must be listed.
 */
#define NCORE_KEYS	17

static const char *const core_keys[NCORE_KEYS] = {
	"milter_socket", "milter_socket_mode", "daemon_socket",
	"daemon_socket_mode", "database", "spool_dir", "user", "group",
	"log_level", "max_header_bytes", "queue_max_records",
	"batch_max_records", "batch_max_delay_ms", "commit_max_records",
	"commit_interval_ms", "busy_timeout_ms", "shutdown_timeout_ms",
};

/* The keys whose value is a plain string that must not be empty. */
static const char *const string_keys[] = {
	"milter_socket", "daemon_socket", "database", "spool_dir", "user",
	"group",
};

#define NELEM(a)	(sizeof (a) / sizeof (a)[0])

static char	*tmpdir;
static char	*conf;		/* the file the current test wrote */

/* setup - a scratch directory for this test's files */

static void
setup(void)
{
	tmpdir = tu_tmpdir();
	conf = NULL;
}

/* teardown - remove the scratch directory */

static void
teardown(void)
{
	tu_rmtree(tmpdir);
	free(tmpdir);
	free(conf);
	tmpdir = conf = NULL;
}

/* load - write text as a configuration file and read it back */

static int
load(const char *text, struct sw_config *cfg, char *err, size_t errsize)
{
	free(conf);
	conf = tu_write_file(tmpdir, text, strlen(text));
	return sw_config_load(cfg, conf, err, errsize);
}

/* load_ok - load text, failing the test if it is refused */

static void
load_ok(const char *text, struct sw_config *cfg)
{
	char	 err[ERRSIZE];
	int	 rc = load(text, cfg, err, sizeof err);

	ck_assert_msg(rc == 0, "load: got %d (%s), want 0", rc, err);
	TU_STR_EQ(err, "");
}

/*
 * expect_error - text must be refused with "FILE:LINE: " first and the
 * reason after it.  exact says whether the reason is the whole line
 * (our own messages) or only part of it (libconfuse's wording).
 */
static void
expect_error(const char *text, int line, const char *reason, int exact)
{
	struct sw_config cfg;
	char	 err[ERRSIZE], want[ERRSIZE];
	int	 rc = load(text, &cfg, err, sizeof err);

	ck_assert_msg(rc == -1, "load \"%s\": got %d, want -1", text, rc);
	snprintf(want, sizeof want, "%s:%d: ", conf, line);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
	    "err: got \"%s\", want it to start \"%s\"", err, want);
	if (exact) {
		snprintf(want, sizeof want, "%s:%d: %s\n", conf, line,
		    reason);
		TU_STR_EQ(err, want);
	} else
		TU_STR_HAS(err, reason);

	/* A refused file leaves nothing to free, and freeing is safe. */
	TU_STR_EQ(cfg.c_file, NULL);
	sw_config_free(&cfg);
}

/* check_defaults - cfg holds the compiled-in value of every key */

static void
check_defaults(const struct sw_config *cfg)
{
	TU_STR_HAS(cfg->c_milter_socket, "unix:");
	TU_STR_ENDS(cfg->c_milter_socket, "/smtpwarden/milter.sock");
	TU_OCT_EQ(cfg->c_milter_socket_mode, 0660);
	TU_STR_ENDS(cfg->c_daemon_socket, "/smtpwarden/smtpwardend.sock");
	TU_OCT_EQ(cfg->c_daemon_socket_mode, 0660);
	TU_STR_ENDS(cfg->c_database, "/smtpwarden/smtpwarden.db");
	TU_STR_ENDS(cfg->c_spool_dir, "/spool/smtpwarden");
	TU_STR_EQ(cfg->c_user, "smtpwarden");
	TU_STR_EQ(cfg->c_group, "smtpwarden");
	TU_INT_EQ(cfg->c_log_level, LOG_INFO);
	TU_INT_EQ(cfg->c_max_header_bytes, 65536);
	TU_INT_EQ(cfg->c_queue_max_records, 200000);
	TU_INT_EQ(cfg->c_batch_max_records, 1000);
	TU_INT_EQ(cfg->c_batch_max_delay_ms, 20);
	TU_INT_EQ(cfg->c_commit_max_records, 5000);
	TU_INT_EQ(cfg->c_commit_interval_ms, 50);
	TU_INT_EQ(cfg->c_busy_timeout_ms, 5000);
	TU_INT_EQ(cfg->c_shutdown_timeout_ms, 10000);
}

/*
 * test_defaults_empty - an empty file gives every default, and remembers its
 * own name.
 */
START_TEST(test_defaults_empty)
{
	struct sw_config cfg;

	load_ok("", &cfg);
	check_defaults(&cfg);
	TU_STR_EQ(cfg.c_file, conf);
	sw_config_free(&cfg);
	TU_STR_EQ(cfg.c_database, NULL);
}
END_TEST

/* test_defaults_comments - comments and blank lines change nothing. */
START_TEST(test_defaults_comments)
{
	struct sw_config cfg;

	load_ok("# smtpwarden.conf\n\n   \n\t# indented comment\n", &cfg);
	check_defaults(&cfg);
	sw_config_free(&cfg);
}
END_TEST

/*
 * test_default_file - the compiled-in file name is smtpwarden.conf somewhere.
 */
START_TEST(test_default_file)
{
	TU_STR_ENDS(sw_config_default_file(), "/smtpwarden.conf");
}
END_TEST

/* test_every_key - every key is read, with a value other than its default. */
START_TEST(test_every_key)
{
	struct sw_config cfg;

	load_ok("milter_socket = \"inet:8890@localhost\"\n"
	    "milter_socket_mode = \"0600\"\n"
	    "daemon_socket = \"run/d.sock\"\n"
	    "daemon_socket_mode = \"0640\"\n"
	    "database = \"state/t.db\"\n"
	    "spool_dir = \"spool\"  # trailing comment\n"
	    "user = \"nobody\"\n"
	    "group = nogroup\n"
	    "log_level = \"debug\"\n"
	    "max_header_bytes = 4096\n"
	    "queue_max_records = 300000\n"
	    "batch_max_records = 10\n"
	    "batch_max_delay_ms = 0\n"
	    "commit_max_records = 7\n"
	    "commit_interval_ms = 60000\n"
	    "busy_timeout_ms = 1\n"
	    "shutdown_timeout_ms = 600000\n", &cfg);
	TU_STR_EQ(cfg.c_milter_socket, "inet:8890@localhost");
	TU_OCT_EQ(cfg.c_milter_socket_mode, 0600);
	TU_STR_EQ(cfg.c_daemon_socket, "run/d.sock");
	TU_OCT_EQ(cfg.c_daemon_socket_mode, 0640);
	TU_STR_EQ(cfg.c_database, "state/t.db");
	TU_STR_EQ(cfg.c_spool_dir, "spool");
	TU_STR_EQ(cfg.c_user, "nobody");
	TU_STR_EQ(cfg.c_group, "nogroup");
	TU_INT_EQ(cfg.c_log_level, LOG_DEBUG);
	TU_INT_EQ(cfg.c_max_header_bytes, 4096);
	TU_INT_EQ(cfg.c_queue_max_records, 300000);
	TU_INT_EQ(cfg.c_batch_max_records, 10);
	TU_INT_EQ(cfg.c_batch_max_delay_ms, 0);
	TU_INT_EQ(cfg.c_commit_max_records, 7);
	TU_INT_EQ(cfg.c_commit_interval_ms, 60000);
	TU_INT_EQ(cfg.c_busy_timeout_ms, 1);
	TU_INT_EQ(cfg.c_shutdown_timeout_ms, 600000);
	sw_config_free(&cfg);
}
END_TEST

/* test_later_value_wins - a key given twice keeps the later value. */
START_TEST(test_later_value_wins)
{
	struct sw_config cfg;

	load_ok("max_header_bytes = 100\nmax_header_bytes = 200\n", &cfg);
	TU_INT_EQ(cfg.c_max_header_bytes, 200);
	sw_config_free(&cfg);
}
END_TEST

/* test_int_bounds_inclusive - the bounds themselves are allowed. */
START_TEST(test_int_bounds_inclusive)
{
	struct sw_config cfg;

	load_ok("max_header_bytes = 64\n", &cfg);
	TU_INT_EQ(cfg.c_max_header_bytes, 64);
	sw_config_free(&cfg);
	load_ok("max_header_bytes = 1048576\n", &cfg);
	TU_INT_EQ(cfg.c_max_header_bytes, 1048576);
	sw_config_free(&cfg);
}
END_TEST

/* test_int_below_min - a value under the minimum names its line and bounds */
START_TEST(test_int_below_min)
{
	expect_error("user = \"a\"\n\nmax_header_bytes = 10\n", 3,
	    "max_header_bytes = 10 is out of range 64..1048576", 1);
}
END_TEST

/* test_int_below_min_by_one - one under the minimum is already refused */
START_TEST(test_int_below_min_by_one)
{
	expect_error("max_header_bytes = 63\n", 1,
	    "max_header_bytes = 63 is out of range 64..1048576", 1);
}
END_TEST

/* test_int_above_max - one over the maximum is refused */
START_TEST(test_int_above_max)
{
	expect_error("# busy\nbusy_timeout_ms = 600001\n", 2,
	    "busy_timeout_ms = 600001 is out of range 0..600000", 1);
}
END_TEST

/* test_int_negative - a negative value where the minimum is 0 */
START_TEST(test_int_negative)
{
	expect_error("\n\n\n\nbatch_max_delay_ms = -5\n", 5,
	    "batch_max_delay_ms = -5 is out of range 0..10000", 1);
}
END_TEST

/*
 * test_int_overflow - a value too wide for a long is refused, not wrapped into
 * range.
 */
START_TEST(test_int_overflow)
{
	expect_error("user = \"a\"\nmax_header_bytes = "
	    "99999999999999999999\n", 2, "out of range", 0);
}
END_TEST

/*
 * test_int_wraps_not - wider than int but within long: still checked against
 * the bounds.
 */
START_TEST(test_int_wraps_not)
{
	expect_error("max_header_bytes = 4294967360\n", 1,
	    "max_header_bytes = 4294967360 is out of range 64..1048576", 1);
}
END_TEST

/* test_int_not_a_number - a word where a number belongs */
START_TEST(test_int_not_a_number)
{
	expect_error("max_header_bytes = 64\nqueue_max_records = lots\n", 2,
	    "invalid integer value for option 'queue_max_records'", 0);
}
END_TEST

/* test_mode_values - modes are octal strings from 0000 to 0777. */
START_TEST(test_mode_values)
{
	struct sw_config cfg;

	load_ok("milter_socket_mode = \"0000\"\n"
	    "daemon_socket_mode = \"777\"\n", &cfg);
	TU_OCT_EQ(cfg.c_milter_socket_mode, 0);
	TU_OCT_EQ(cfg.c_daemon_socket_mode, 0777);
	sw_config_free(&cfg);
}
END_TEST

/* test_mode_bad_digit - "0999" is not octal */
START_TEST(test_mode_bad_digit)
{
	expect_error("user = \"a\"\nmilter_socket_mode = \"0999\"\n", 2,
	    "milter_socket_mode = \"0999\" is not an octal mode "
	    "(0000..0777)", 1);
}
END_TEST

/* test_mode_too_wide - modes stop at 0777 */
START_TEST(test_mode_too_wide)
{
	expect_error("daemon_socket_mode = \"1000\"\n", 1,
	    "daemon_socket_mode = \"1000\" is not an octal mode "
	    "(0000..0777)", 1);
}
END_TEST

/* test_mode_not_octal - a symbolic mode is not accepted */
START_TEST(test_mode_not_octal)
{
	expect_error("\ndaemon_socket_mode = \"rw-rw----\"\n", 2,
	    "daemon_socket_mode = \"rw-rw----\" is not an octal mode "
	    "(0000..0777)", 1);
}
END_TEST

/* test_mode_negative - a negative mode is refused */
START_TEST(test_mode_negative)
{
	expect_error("milter_socket_mode = \"-1\"\n", 1,
	    "milter_socket_mode = \"-1\" is not an octal mode "
	    "(0000..0777)", 1);
}
END_TEST

/* test_mode_empty - an empty mode is refused */
START_TEST(test_mode_empty)
{
	expect_error("\n\nmilter_socket_mode = \"\"\n", 3,
	    "milter_socket_mode = \"\" is not an octal mode (0000..0777)", 1);
}
END_TEST

/* test_log_level_names - level names map to syslog levels, in any case. */
START_TEST(test_log_level_names)
{
	static const struct {
		const char	*name;
		int		 level;
	} levels[] = {
		{ "debug", LOG_DEBUG }, { "info", LOG_INFO },
		{ "notice", LOG_NOTICE }, { "warning", LOG_WARNING },
		{ "err", LOG_ERR }, { "error", LOG_ERR },
		{ "WARNING", LOG_WARNING }, { "Debug", LOG_DEBUG },
	};
	struct sw_config cfg;
	char	 text[128];
	size_t	 i;

	for (i = 0; i < NELEM(levels); i++) {
		snprintf(text, sizeof text, "log_level = \"%s\"\n",
		    levels[i].name);
		load_ok(text, &cfg);
		ck_assert_msg(cfg.c_log_level == levels[i].level,
		    "log_level %s: got %d, want %d", levels[i].name,
		    cfg.c_log_level, levels[i].level);
		sw_config_free(&cfg);
	}
}
END_TEST

/*
 * test_log_level_bad - an unknown level name is refused with the names allowed
 */
START_TEST(test_log_level_bad)
{
	expect_error("user = \"a\"\ngroup = \"b\"\nlog_level = loud\n", 3,
	    "log_level = \"loud\" is not one of debug, info, notice, "
	    "warning, err", 1);
}
END_TEST

/*
 * test_empty_string - every string key refuses "" on the line where it is set.
 */
START_TEST(test_empty_string)
{
	const char *key = string_keys[_i];
	char	 text[256], reason[128];

	snprintf(text, sizeof text, "# first\nlog_level = info\n\n"
	    "%s = \"\"\n", key);
	snprintf(reason, sizeof reason, "%s must not be empty", key);
	expect_error(text, 4, reason, 1);
}
END_TEST

/* test_unknown_key - a key not in the table is refused on its line */
START_TEST(test_unknown_key)
{
	expect_error("user = \"a\"\nno_such_key = 1\n", 2,
	    "no such option 'no_such_key'", 0);
}
END_TEST

/* test_unknown_key_case - keys are case sensitive: "User" is not "user". */
START_TEST(test_unknown_key_case)
{
	expect_error("\n\n\nUser = \"a\"\n", 4, "no such option 'User'", 0);
}
END_TEST

/* test_syntax_stray_equals - a line that starts with "=" */
START_TEST(test_syntax_stray_equals)
{
	expect_error("user = \"a\"\n= 5\n", 2, "unexpected token '='", 0);
}
END_TEST

/* test_syntax_missing_equals - a key followed by a brace instead of "=" */
START_TEST(test_syntax_missing_equals)
{
	expect_error("# x\n\nuser {\n", 3,
	    "missing equal sign after option 'user'", 0);
}
END_TEST

/*
 * test_syntax_unquoted_space - two bare words: the second is taken as an
 * unknown key.
 */
START_TEST(test_syntax_unquoted_space)
{
	expect_error("user = some one\n", 1, "no such option 'one'", 0);
}
END_TEST

/*
 * test_syntax_unterminated - an unterminated string: some line is named, and
 * why.
 */
START_TEST(test_syntax_unterminated)
{
	struct sw_config cfg;
	char	 err[ERRSIZE], want[ERRSIZE];
	const char *p;
	int	 rc = load("user = \"abc\n", &cfg, err, sizeof err);

	TU_INT_EQ(rc, -1);
	snprintf(want, sizeof want, "%s:", conf);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
	    "err: got \"%s\", want it to start \"%s\"", err, want);
	p = err + strlen(want);
	ck_assert_msg(isdigit((unsigned char)*p),
	    "err: got \"%s\", want a line number after \"%s\"", err, want);
	TU_STR_HAS(err, "premature end of file");
}
END_TEST

/*
 * test_line_after_hash_comments - "#" comments, whole-line and trailing, count
 * one line each.
 */
START_TEST(test_line_after_hash_comments)
{
	expect_error("# one\n#two\n### three\nuser = \"a\" # four\n"
	    "\n# six\nmax_header_bytes = 10\n", 7,
	    "max_header_bytes = 10 is out of range 64..1048576", 1);
}
END_TEST

/*
 * test_line_after_other_comments - so do "//" comments and C comments that span
 * lines.
 */
START_TEST(test_line_after_other_comments)
{
	expect_error("// one\n/* two\n   three */\nuser = x // four\n"
	    "/* five */ group = y\nbatch_max_records = 0\n", 6,
	    "batch_max_records = 0 is out of range 1..100000", 1);
}
END_TEST

/*
 * test_comment_chars_in_strings - a "#" or "//" inside quotes is part of the
 * value.
 */
START_TEST(test_comment_chars_in_strings)
{
	struct sw_config cfg;

	load_ok("user = \"a#b\" # comment\n"
	    "group = 'c # d'\n"
	    "database = \"e\\\"#f\"\n"
	    "milter_socket = \"unix://g#h\"\n"
	    "daemon_socket = i//j\n", &cfg);
	TU_STR_EQ(cfg.c_user, "a#b");
	TU_STR_EQ(cfg.c_group, "c # d");
	TU_STR_EQ(cfg.c_database, "e\"#f");
	TU_STR_EQ(cfg.c_milter_socket, "unix://g#h");
	TU_STR_EQ(cfg.c_daemon_socket, "i//j");
	sw_config_free(&cfg);
}
END_TEST

/*
 * test_line_after_multiline_string - a string spanning lines keeps the count
 * right after it.
 */
START_TEST(test_line_after_multiline_string)
{
	expect_error("user = \"a\nb # not a comment\nc\"\n"
	    "no_such = 1\n", 4, "no such option 'no_such'", 0);
}
END_TEST

/*
 * test_file_too_large - a file larger than any real configuration is refused
 * unread.
 */
START_TEST(test_file_too_large)
{
	struct sw_config cfg;
	char	 err[ERRSIZE], want[ERRSIZE];
	size_t	 size = 1024 * 1024 + 1;
	char	*text;

	if ((text = malloc(size)) == NULL)
		ck_abort_msg("malloc: out of memory");
	memset(text, '\n', size);
	free(conf);
	conf = tu_write_file(tmpdir, text, size);
	free(text);
	TU_INT_EQ(sw_config_load(&cfg, conf, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: cannot read: File too large\n",
	    conf);
	TU_STR_EQ(err, want);
}
END_TEST

/*
 * test_first_error_named - loading stops at the first bad line and names that
 * one.
 */
START_TEST(test_first_error_named)
{
	expect_error("user = \"a\"\nmax_header_bytes = 10\nbogus = 1\n", 2,
	    "max_header_bytes = 10 is out of range 64..1048576", 1);
}
END_TEST

/*
 * test_missing_file - a file that is not there: the path and the system's
 * reason
 */
START_TEST(test_missing_file)
{
	struct sw_config cfg;
	char	 err[ERRSIZE], path[1024], want[2048];

	snprintf(path, sizeof path, "%s/no-such.conf", tmpdir);
	TU_INT_EQ(sw_config_load(&cfg, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: cannot read: No such file or "
	    "directory\n", path);
	TU_STR_EQ(err, want);
	TU_STR_EQ(cfg.c_file, NULL);
}
END_TEST

/*
 * test_error_buffer_bounded - a small error buffer is filled and terminated,
 * never overrun.
 */
START_TEST(test_error_buffer_bounded)
{
	static const size_t sizes[] = { 1, 2, 8, 20 };
	struct sw_config cfg;
	char	 buf[64];
	size_t	 i, j;

	for (i = 0; i < NELEM(sizes); i++) {
		memset(buf, 'Z', sizeof buf);
		free(conf);
		conf = tu_write_file(tmpdir, "max_header_bytes = 10\n", 22);
		TU_INT_EQ(sw_config_load(&cfg, conf, buf, sizes[i]), -1);
		ck_assert_msg(strlen(buf) < sizes[i],
		    "errsize %zu: got length %zu, want under %zu", sizes[i],
		    strlen(buf), sizes[i]);
		for (j = sizes[i]; j < sizeof buf; j++)
			ck_assert_msg(buf[j] == 'Z', "errsize %zu: byte %zu: "
			    "got 0x%02x, want 'Z' (untouched)", sizes[i], j,
			    (unsigned char)buf[j]);
	}
}
END_TEST

/* test_reload_after_error - a refused load can be followed by a good one. */
START_TEST(test_reload_after_error)
{
	struct sw_config cfg;
	char	 err[ERRSIZE];

	TU_INT_EQ(load("log_level = loud\n", &cfg, err, sizeof err), -1);
	sw_config_free(&cfg);
	load_ok("log_level = notice\n", &cfg);
	TU_INT_EQ(cfg.c_log_level, LOG_NOTICE);
	sw_config_free(&cfg);
}
END_TEST

/*
 * test_keys_list - sw_config_keys() names every key once, those of the
 * first schema included.
 */
START_TEST(test_keys_list)
{
	const char *const *keys = sw_config_keys();
	size_t	 n, i, j;

	for (n = 0; keys[n] != NULL; n++)
		ck_assert_msg(n < 100, "keys: got no NULL in 100, want one");
	ck_assert_msg(n >= NCORE_KEYS, "keys: got %zu, want at least %d", n,
	    NCORE_KEYS);
	for (i = 0; i < NCORE_KEYS; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(keys[j], core_keys[i]) == 0)
				break;
		ck_assert_msg(j < n, "keys: got no \"%s\", want it listed",
		    core_keys[i]);
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			ck_assert_msg(strcmp(keys[i], keys[j]) != 0,
			    "keys: got \"%s\" twice, want it once", keys[i]);
}
END_TEST

/* read_example - contrib/smtpwarden.conf.example, NUL-terminated */

static char *
read_example(void)
{
	const char *path = SW_TOP_SRCDIR "/contrib/smtpwarden.conf.example";
	FILE	*fp;
	char	*text;
	long	 size;

	if ((fp = fopen(path, "r")) == NULL)
		ck_abort_msg("open %s: got failure, want the example", path);
	ck_assert_msg(fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) > 0,
	    "%s: got no size, want some", path);
	rewind(fp);
	if ((text = calloc(1, (size_t)size + 1)) == NULL)
		ck_abort_msg("calloc: out of memory");
	ck_assert_msg(fread(text, 1, (size_t)size, fp) == (size_t)size,
	    "%s: got a short read, want %ld bytes", path, size);
	fclose(fp);
	return text;
}

/*
 * example_value - the value the example shows for key ("#key = value"),
 * copied into buf; NULL when the example does not show the key.
 */
static char *
example_value(const char *text, const char *key, char *buf, size_t bufsize)
{
	char	 want[128];
	const char *p;
	size_t	 n;

	snprintf(want, sizeof want, "\n#%s = ", key);
	if ((p = strstr(text, want)) == NULL)
		return NULL;
	p += strlen(want);
	n = strcspn(p, "\n");
	snprintf(buf, bufsize, "%.*s", (int)n, p);
	return buf;
}

/*
 * test_keys_accepted - every listed key is accepted by the parser, with
 * the value the example shows for it.
 */
START_TEST(test_keys_accepted)
{
	const char *const *keys = sw_config_keys();
	struct sw_config cfg;
	char	 text[512], value[256], err[ERRSIZE];
	char	*example = read_example();
	size_t	 i;

	for (i = 0; keys[i] != NULL; i++) {
		ck_assert_msg(example_value(example, keys[i], value,
		    sizeof value) != NULL, "example: got no value for %s, "
		    "want one", keys[i]);
		snprintf(text, sizeof text, "%s = %s\n", keys[i], value);
		ck_assert_msg(load(text, &cfg, err, sizeof err) == 0,
		    "key %s: got \"%s\", want it accepted", keys[i], err);
		sw_config_free(&cfg);
	}
	free(example);
}
END_TEST

/*
 * test_example_keys_known - each "#key = " line of the example names a
 * key that sw_config_keys() lists.
 */
START_TEST(test_example_keys_known)
{
	const char *const *keys = sw_config_keys();
	char	*text = read_example(), name[128];
	const char *p;
	size_t	 i, n;

	for (p = text; (p = strstr(p, "\n#")) != NULL; p++) {
		n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz_");
		if (n == 0 || strncmp(p + 2 + n, " = ", 3) != 0)
			continue;
		snprintf(name, sizeof name, "%.*s", (int)n, p + 2);
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(keys[i], name) == 0)
				break;
		ck_assert_msg(keys[i] != NULL, "example: got \"#%s = \", "
		    "want only keys sw_config_keys() lists", name);
	}
	free(text);
}
END_TEST

/*
 * test_example_lists_keys - the shipped example shows every key, commented out.
 */
START_TEST(test_example_lists_keys)
{
	const char *const *keys = sw_config_keys();
	char	*text = read_example();
	char	 want[128];
	size_t	 i;

	for (i = 0; keys[i] != NULL; i++) {
		snprintf(want, sizeof want, "\n#%s = ", keys[i]);
		ck_assert_msg(strstr(text, want) != NULL,
		    "example: got no \"#%s = \" line, want one", keys[i]);
	}
	free(text);
}
END_TEST

/*
 * test_example_error_line - an error after the shipped example's comments names
 * its own line.
 */
START_TEST(test_example_error_line)
{
	char	*text = read_example(), *all;
	const char *p;
	size_t	 len = strlen(text);
	int	 lines = 0;

	for (p = text; *p != '\0'; p++)
		if (*p == '\n')
			lines++;
	if ((all = malloc(len + 64)) == NULL)
		ck_abort_msg("malloc: out of memory");
	snprintf(all, len + 64, "%smax_header_bytes = 10\n", text);
	expect_error(all, lines + 1,
	    "max_header_bytes = 10 is out of range 64..1048576", 1);
	free(all);
	free(text);
}
END_TEST

/*
 * test_example_values - the example, uncommented, parses; its numbers are the
 * defaults.
 */
START_TEST(test_example_values)
{
	struct sw_config cfg;
	char	*text = read_example(), *p;

	for (p = text; (p = strstr(p, "\n#")) != NULL; p++)
		if (islower((unsigned char)p[2]))
			p[1] = ' ';
	load_ok(text, &cfg);
	free(text);
	TU_OCT_EQ(cfg.c_milter_socket_mode, 0660);
	TU_OCT_EQ(cfg.c_daemon_socket_mode, 0660);
	TU_STR_EQ(cfg.c_user, "smtpwarden");
	TU_STR_EQ(cfg.c_group, "smtpwarden");
	TU_INT_EQ(cfg.c_log_level, LOG_INFO);
	TU_INT_EQ(cfg.c_max_header_bytes, 65536);
	TU_INT_EQ(cfg.c_queue_max_records, 200000);
	TU_INT_EQ(cfg.c_batch_max_records, 1000);
	TU_INT_EQ(cfg.c_batch_max_delay_ms, 20);
	TU_INT_EQ(cfg.c_commit_max_records, 5000);
	TU_INT_EQ(cfg.c_commit_interval_ms, 50);
	TU_INT_EQ(cfg.c_busy_timeout_ms, 5000);
	TU_INT_EQ(cfg.c_shutdown_timeout_ms, 10000);
	sw_config_free(&cfg);
}
END_TEST

/* config_suite - the config module's tests, grouped by concern */

static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc;

	tc = tcase_create("defaults");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults_empty);
	tcase_add_test(tc, test_defaults_comments);
	tcase_add_test(tc, test_default_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_every_key);
	tcase_add_test(tc, test_later_value_wins);
	tcase_add_test(tc, test_int_bounds_inclusive);
	tcase_add_test(tc, test_mode_values);
	tcase_add_test(tc, test_log_level_names);
	tcase_add_test(tc, test_reload_after_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_int_below_min);
	tcase_add_test(tc, test_int_below_min_by_one);
	tcase_add_test(tc, test_int_above_max);
	tcase_add_test(tc, test_int_negative);
	tcase_add_test(tc, test_int_overflow);
	tcase_add_test(tc, test_int_wraps_not);
	tcase_add_test(tc, test_int_not_a_number);
	tcase_add_test(tc, test_mode_bad_digit);
	tcase_add_test(tc, test_mode_too_wide);
	tcase_add_test(tc, test_mode_not_octal);
	tcase_add_test(tc, test_mode_negative);
	tcase_add_test(tc, test_mode_empty);
	tcase_add_test(tc, test_log_level_bad);
	tcase_add_loop_test(tc, test_empty_string, 0, NELEM(string_keys));
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_unknown_key_case);
	tcase_add_test(tc, test_syntax_stray_equals);
	tcase_add_test(tc, test_syntax_missing_equals);
	tcase_add_test(tc, test_syntax_unquoted_space);
	tcase_add_test(tc, test_syntax_unterminated);
	tcase_add_test(tc, test_first_error_named);
	tcase_add_test(tc, test_file_too_large);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_error_buffer_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("lines");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_line_after_hash_comments);
	tcase_add_test(tc, test_line_after_other_comments);
	tcase_add_test(tc, test_comment_chars_in_strings);
	tcase_add_test(tc, test_line_after_multiline_string);
	tcase_add_test(tc, test_example_error_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_keys_list);
	tcase_add_test(tc, test_keys_accepted);
	tcase_add_test(tc, test_example_lists_keys);
	tcase_add_test(tc, test_example_keys_known);
	tcase_add_test(tc, test_example_values);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite; the exit status tells make check the result */

int
main(void)
{
	SRunner	*sr = srunner_create(config_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
