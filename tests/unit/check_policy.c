/*
 * check_policy.c - unit tests of the milter's policy engine
 * (milter/policy.h, milter/policy_int.h): the rules parser and the
 * exact position of every error it reports, each field and operator,
 * CIDR matching, rate windows, verdicts (first terminal action wins,
 * shadow and monitor), reply template expansion, and the reference
 * counts that keep an old rule set alive across a reload.
 *
 * Each test writes its rules, and any list or map file, into a scratch
 * directory that the fixture makes and removes, and evaluates them
 * against a hand-built struct conn_facts and struct txn_facts.  The
 * rate tests drive rates_add() and rates_count() with their own clock.
 *
 * DIAGNOSTICS: failures read "got X, want Y" and quote the condition
 * or the rules text concerned.
 * BUGS: rules that call rate() read the real monotonic clock; only the
 * tests that call the rates module directly control time.
 */

#include "config.h"
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "policy_int.h"
#include "testutil.h"

/* Room for the errors of one failed load (policy_load caps at 50). */
#define ERRSIZE		8192

/* Longest rules text a test builds. */
#define TEXTSIZE	8192

/* Microseconds in a second, for the rate windows. */
#define SEC		INT64_C(1000000)

static char	*tmpdir;		/* this test's scratch directory */
static char	 rules_path[PATH_MAX];	/* tmpdir/rules */
static char	 err[ERRSIZE];		/* errors of the latest load */
static struct conn_facts conn;
static struct txn_facts txn;
static const struct pol_facts facts = { &conn, &txn };
static struct pol_ruleset *rs;		/* released by teardown */
static const char *decls;		/* statements before a cond's rule */

/* Fixture and files. */
static void	setup(void);
static void	teardown(void);
static void	write_at(const char *name, const char *text);
static struct pol_ruleset *load(const char *text);
static void	load_ok(const char *text);
static void	want_errors(const char *text, ...);
static char	*subst_dir(const char *line, char *buf, size_t bufsize);

/* Evaluation. */
static size_t	evaluate(enum pol_stage stage, struct pol_verdict *v);
static int	cond_holds(enum pol_stage stage, const char *cond);
static const struct pol_rule *rule_named(const char *name);

/* A condition must hold (or not) at a stage with the current facts. */
#define WANT_COND(stage, cond, want) do {				\
	int	 wc_g_ = cond_holds((stage), (cond));			\
									\
	ck_assert_msg(wc_g_ == (want), "\"%s\" at %s: got %s, want %s",	\
	    (cond), policy_stage_name(stage), wc_g_ ? "true" : "false",	\
	    (want) ? "true" : "false");					\
} while (0)
#define WANT_TRUE(stage, cond)	WANT_COND((stage), (cond), 1)
#define WANT_FALSE(stage, cond)	WANT_COND((stage), (cond), 0)

/* ---------------------------------------------------------------- */
/* Fixture and helpers                                              */
/* ---------------------------------------------------------------- */

/* setup - a scratch directory, empty facts, no counters */

static void
setup(void)
{
	tmpdir = tu_tmpdir();
	snprintf(rules_path, sizeof rules_path, "%s/rules", tmpdir);
	memset(&conn, 0, sizeof conn);
	memset(&txn, 0, sizeof txn);
	conn.cf_port = -1;	/* as session_new() leaves it: unknown */
	rs = NULL;
	decls = "";
	err[0] = '\0';
	rates_reset();
}

/* teardown - drop the rule sets and the scratch directory */

static void
teardown(void)
{
	policy_release(rs);
	rs = NULL;
	policy_install(NULL);
	rates_reset();
	tu_rmtree(tmpdir);
	free(tmpdir);
	tmpdir = NULL;
}

/* write_at - a file named name in the scratch directory */

static void
write_at(const char *name, const char *text)
{
	char	 path[PATH_MAX];
	FILE	*fp;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	ck_assert_msg((fp = fopen(path, "w")) != NULL, "cannot write %s",
	    path);
	ck_assert_msg(fputs(text, fp) >= 0 && fclose(fp) == 0,
	    "cannot write %s", path);
}

/* load - write text as the rules file and load it */

static struct pol_ruleset *
load(const char *text)
{
	write_at("rules", text);
	return policy_load(rules_path, err, sizeof err);
}

/* load_ok - load text into rs, which must succeed */

static void
load_ok(const char *text)
{
	policy_release(rs);
	rs = load(text);
	ck_assert_msg(rs != NULL, "rules \"%s\": got errors \"%s\", want "
	    "none", text, err);
	TU_STR_EQ(err, "");
}

/*
 * subst_dir - line with each "$D" replaced by the scratch directory;
 * a line that does not start with "$D" is one of the rules file's and
 * gets its path in front.
 */
static char *
subst_dir(const char *line, char *buf, size_t bufsize)
{
	size_t	 o = 0;
	const char *c;

	if (strncmp(line, "$D", 2) != 0)
		o = (size_t)snprintf(buf, bufsize, "%s:", rules_path);
	for (c = line; *c != '\0' && o + 1 < bufsize; c++) {
		if (c[0] == '$' && c[1] == 'D') {
			o += (size_t)snprintf(buf + o, bufsize - o, "%s",
			    tmpdir);
			c++;
		} else
			buf[o++] = *c;
	}
	buf[o < bufsize ? o : bufsize - 1] = '\0';
	return buf;
}

/*
 * want_errors - loading text must fail with exactly these errors, in
 * this order: each "LINE:COLUMN: reason" of the rules file, or a whole
 * "$D/name:LINE:COLUMN: reason" of a list or map file.  NULL ends.
 */
static void
want_errors(const char *text, ...)
{
	struct pol_ruleset *r;
	char	 want[ERRSIZE], line[1024];
	const char *l;
	size_t	 o = 0;
	va_list	 ap;

	want[0] = '\0';
	va_start(ap, text);
	while ((l = va_arg(ap, const char *)) != NULL && o < sizeof want)
		o += (size_t)snprintf(want + o, sizeof want - o, "%s\n",
		    subst_dir(l, line, sizeof line));
	va_end(ap);

	r = load(text);
	if (r != NULL)
		policy_release(r);
	ck_assert_msg(r == NULL, "rules \"%s\": got a rule set, want errors "
	    "\"%s\"", text, want);
	ck_assert_msg(strcmp(err, want) == 0, "rules \"%s\": got errors "
	    "\"%s\", want \"%s\"", text, err, want);
}

/* evaluate - the rules of stage in rs against the current facts */

static size_t
evaluate(enum pol_stage stage, struct pol_verdict *v)
{
	return policy_evaluate(rs, stage, &facts, v);
}

/* cond_holds - does a rule "decls; rule t STAGE cond" hit? */

static int
cond_holds(enum pol_stage stage, const char *cond)
{
	struct pol_verdict v;
	char	 text[TEXTSIZE];

	snprintf(text, sizeof text, "%s\nrule t %s %s -> tag \"hit\"\n",
	    decls, policy_stage_name(stage), cond);
	load_ok(text);
	return evaluate(stage, &v) > 0;
}

/* rule_named - a rule of rs by name */

static const struct pol_rule *
rule_named(const char *name)
{
	size_t	 i;

	for (i = 0; i < rs->rs_nrules; i++)
		if (strcmp(rs->rs_rules[i].pr_name, name) == 0)
			return &rs->rs_rules[i];
	ck_abort_msg("rule %s: got none, want one", name);
	return NULL;
}

/* ---------------------------------------------------------------- */
/* Parser: files that load                                          */
/* ---------------------------------------------------------------- */

/* The rules of the manual's examples, laid out over several lines. */
static const char example_rules[] =
    "# Rules as smtpwarden.rules(5) shows them.\n"
    "mode = enforce\n"
    "list trusted = { \"192.0.2.0/24\", \"2001:db8::/32\" }  # inline\n"
    "map login_map = file \"logins\"\n"
    "rule helo-literal   helo  helo.is_address and not client.addr in "
    "@trusted\n"
    "                    -> reject 550 5.7.1 \"HELO must name a host\"\n"
    "rule own-sender     mail  auth.user and not sender in "
    "login_map[auth.user]\n"
    "                    -> reject 553 5.7.1 \"%{sender} is not yours, "
    "%{auth.user}\"\n"
    "rule rcpt-cap       rcpt  txn.rcpt_count > 100 -> tempfail 452 "
    "4.5.3 \"Too many recipients\"\n"
    "rule user-burst     mail  rate(auth.user, 1h) > 500 -> tempfail 451 "
    "4.7.1 \"Slow down\"\n";

START_TEST(test_parse_example)
{
	const struct pol_rule *r;

	write_at("logins", "alice alice@example.com @alice.example\n");
	load_ok(example_rules);
	TU_UINT_EQ(rs->rs_nrules, 4);
	TU_INT_EQ(rs->rs_monitor, 0);
	TU_INT_EQ(rs->rs_uses_headers, 0);
	TU_STR_EQ(rs->rs_file, rules_path);

	/* Ordered by stage, file order within one. */
	TU_UINT_EQ(rs->rs_stage_count[PS_HELO], 1);
	TU_UINT_EQ(rs->rs_stage_count[PS_MAIL], 2);
	TU_UINT_EQ(rs->rs_stage_count[PS_RCPT], 1);
	TU_UINT_EQ(rs->rs_stage_count[PS_CONNECT], 0);
	TU_STR_EQ(rs->rs_rules[rs->rs_stage_first[PS_MAIL]].pr_name,
	    "own-sender");
	TU_STR_EQ(rs->rs_rules[rs->rs_stage_first[PS_MAIL] + 1].pr_name,
	    "user-burst");

	r = rule_named("own-sender");
	TU_INT_EQ(r->pr_line, 7);
	TU_INT_EQ(r->pr_stage, PS_MAIL);
	TU_INT_EQ(r->pr_action.pa_type, PA_REJECT);
	TU_STR_EQ(r->pr_action.pa_code, "553");
	TU_STR_EQ(r->pr_action.pa_ecode, "5.7.1");
	TU_STR_EQ(r->pr_action.pa_text, "%{sender} is not yours, "
	    "%{auth.user}");
	TU_INT_EQ(r->pr_shadow, 0);
	r = rule_named("rcpt-cap");
	TU_INT_EQ(r->pr_action.pa_type, PA_TEMPFAIL);
	TU_STR_EQ(r->pr_action.pa_code, "452");
	TU_STR_EQ(r->pr_action.pa_ecode, "4.5.3");

	/* One rate: auth.user over an hour, counting messages. */
	TU_UINT_EQ(rs->rs_nrates, 1);
	TU_INT_EQ(rs->rs_rates[0]->pr_key, RK_AUTH_USER);
	TU_INT_EQ(rs->rs_rates[0]->pr_window_us, 3600 * SEC);
	TU_INT_EQ(rs->rs_rates[0]->pr_recipients, 0);
}
END_TEST

START_TEST(test_parse_example_decides)
{
	struct pol_verdict v;

	write_at("logins", "alice alice@example.com @alice.example\n");
	load_ok(example_rules);

	/* An address literal from outside the trusted networks. */
	conn.cf_addr = "203.0.113.5";
	conn.cf_helo = "[203.0.113.5]";
	TU_UINT_EQ(evaluate(PS_HELO, &v), 1);
	TU_INT_EQ(v.pv_action, PA_REJECT);
	TU_STR_EQ(v.pv_reply, "HELO must name a host");
	conn.cf_addr = "192.0.2.5";
	TU_UINT_EQ(evaluate(PS_HELO, &v), 0);
	TU_INT_EQ(v.pv_action, PA_NONE);

	/* A sender the login may use, one it may not, and no login. */
	conn.cf_auth_mech = "PLAIN";
	conn.cf_auth_user = "alice";
	txn.tf_sender = "alice@example.com";
	TU_UINT_EQ(evaluate(PS_MAIL, &v), 0);
	txn.tf_sender = "news@alice.example";
	TU_UINT_EQ(evaluate(PS_MAIL, &v), 0);
	txn.tf_sender = "mallory@example.net";
	TU_UINT_EQ(evaluate(PS_MAIL, &v), 1);
	TU_INT_EQ(v.pv_action, PA_REJECT);
	TU_STR_EQ(v.pv_rule->pr_name, "own-sender");
	TU_STR_EQ(v.pv_reply, "mallory@example.net is not yours, alice");
	conn.cf_auth_mech = conn.cf_auth_user = NULL;
	TU_UINT_EQ(evaluate(PS_MAIL, &v), 0);

	/* The 101st recipient. */
	txn.tf_rcpt = "x@example.org";
	txn.tf_rcpt_count = 100;
	TU_UINT_EQ(evaluate(PS_RCPT, &v), 0);
	txn.tf_rcpt_count = 101;
	TU_UINT_EQ(evaluate(PS_RCPT, &v), 1);
	TU_INT_EQ(v.pv_action, PA_TEMPFAIL);
	TU_STR_EQ(v.pv_reply, "Too many recipients");
}
END_TEST

START_TEST(test_parse_layout)
{
	const struct pol_rule *r;

	/* Newlines, comments and tabs anywhere between tokens. */
	load_ok("rule\n"
	    "  multi   # the name follows\n"
	    "\thelo\n"
	    "  helo ==   # condition\n"
	    "  \"x\"\n"
	    "  ->\n"
	    "  tag\n"
	    "  \"#1 is not a comment\"  # this is\n"
	    "rule 10 connect true -> accept\n"
	    "rule esc helo true -> tag \"a\\\"b\\\\c\\td\\ne\"\n"
	    "# mode = monitor\n");
	TU_UINT_EQ(rs->rs_nrules, 3);
	r = rule_named("multi");
	TU_INT_EQ(r->pr_line, 2);
	TU_STR_EQ(r->pr_action.pa_text, "#1 is not a comment");
	TU_INT_EQ(rule_named("10")->pr_action.pa_type, PA_ACCEPT);
	TU_STR_EQ(rule_named("esc")->pr_action.pa_text, "a\"b\\c\td\ne");
	TU_INT_EQ(rs->rs_monitor, 0);

	/* An empty file, and one of comments only, are no rules. */
	load_ok("");
	TU_UINT_EQ(rs->rs_nrules, 0);
	load_ok("# nothing\n\n   # at all\n");
	TU_UINT_EQ(rs->rs_nrules, 0);
}
END_TEST

START_TEST(test_parse_actions)
{
	const struct pol_rule *r;

	load_ok("mode = monitor\n"
	    "rule c helo true -> continue\n"
	    "rule a helo true -> accept\n"
	    "rule r helo true -> reject 554 5.7.1 \"no\"\n"
	    "rule t helo true -> tempfail 421 4.3.2 \"later\" shadow\n"
	    "rule d eom true -> discard\n"
	    "rule q eom true -> quarantine \"held for %{helo}\"\n"
	    "rule h eom true -> add-header X-Warden \"seen\"\n"
	    "rule h2 eom true -> add-header \"X-Quoted\" \"v\"\n"
	    "rule g eom has_header(\"From\") -> tag \"tagged\"\n");
	TU_INT_EQ(rs->rs_monitor, 1);
	TU_INT_EQ(rs->rs_uses_headers, 1);
	TU_INT_EQ(rule_named("c")->pr_action.pa_type, PA_CONTINUE);
	TU_INT_EQ(rule_named("a")->pr_action.pa_type, PA_ACCEPT);
	TU_INT_EQ(rule_named("r")->pr_action.pa_type, PA_REJECT);
	r = rule_named("t");
	TU_INT_EQ(r->pr_action.pa_type, PA_TEMPFAIL);
	TU_INT_EQ(r->pr_shadow, 1);
	TU_INT_EQ(rule_named("r")->pr_shadow, 0);
	TU_INT_EQ(rule_named("d")->pr_action.pa_type, PA_DISCARD);
	r = rule_named("q");
	TU_INT_EQ(r->pr_action.pa_type, PA_QUARANTINE);
	TU_STR_EQ(r->pr_action.pa_text, "held for %{helo}");
	r = rule_named("h");
	TU_INT_EQ(r->pr_action.pa_type, PA_ADD_HEADER);
	TU_STR_EQ(r->pr_action.pa_name, "X-Warden");
	TU_STR_EQ(r->pr_action.pa_text, "seen");
	TU_STR_EQ(rule_named("h2")->pr_action.pa_name, "X-Quoted");
	TU_INT_EQ(rule_named("g")->pr_action.pa_type, PA_TAG);
}
END_TEST

START_TEST(test_parse_list_files)
{
	char	 text[TEXTSIZE];

	/* Comments, blank lines and CRLF endings in a list file. */
	write_at("names.txt", "# our names\r\nmx.example.com\r\n\r\n"
	    "  *.example.net   # any host there\n192.0.2.0/24\n");
	write_at("abs.txt", "exact.example\n");
	snprintf(text, sizeof text, "list names = file \"names.txt\"\n"
	    "list abs = file \"%s/abs.txt\"\n", tmpdir);
	load_ok(text);
	TU_UINT_EQ(rs->rs_store->ps_nlists, 2);
	TU_UINT_EQ(rs->rs_store->ps_lists[0]->pl_nitems, 3);
	TU_UINT_EQ(rs->rs_store->ps_lists[1]->pl_nitems, 1);
	ck_assert(pol_list_match(rs->rs_store->ps_lists[0], "MX.example.com"));
	ck_assert(pol_list_match(rs->rs_store->ps_lists[0], "a.example.net"));
	ck_assert(pol_list_match(rs->rs_store->ps_lists[0], "192.0.2.77"));
	ck_assert(!pol_list_match(rs->rs_store->ps_lists[0], "example.org"));
	ck_assert(pol_list_match(rs->rs_store->ps_lists[1], "exact.example"));
}
END_TEST

/* ---------------------------------------------------------------- */
/* Parser: errors and their positions                               */
/* ---------------------------------------------------------------- */

START_TEST(test_err_unknown_field)
{
	want_errors("rule r1 connect foo == 1 -> accept\n"
	    "rule r2 helo\n"
	    "\tnot client.nope -> accept\n",
	    "1:17: unknown field \"foo\"",
	    "3:6: unknown field \"client.nope\"", NULL);
}
END_TEST

START_TEST(test_err_field_stage)
{
	want_errors("rule a mail rcpt == \"x\" -> accept\n"
	    "rule b helo auth.user -> accept\n"
	    "rule c eoh body.size > 0 -> accept\n"
	    "rule d connect helo -> accept\n"
	    "rule e mail header.name == \"x\" -> accept\n"
	    "rule f helo rcpt.param[\"NOTIFY\"] -> accept\n"
	    "rule g rcpt has_header(\"From\") -> accept\n"
	    "rule h connect rate(sender, 1h) > 1 -> accept\n"
	    "rule i unknown auth.user -> accept\n"
	    "rule j connect param[\"SIZE\"] -> accept\n",
	    "1:13: field rcpt is not known at stage mail",
	    "2:13: field auth.user is not known at stage helo",
	    "3:12: field body.size is not known at stage eoh",
	    "4:16: field helo is not known at stage connect",
	    "5:13: field header.name is not known at stage mail",
	    "6:13: field rcpt is not known at stage helo",
	    "7:13: headers are not known at stage rcpt",
	    "8:21: sender is not known at stage connect",
	    "9:16: field auth.user is not known at stage unknown",
	    "10:16: field sender is not known at stage connect", NULL);
}
END_TEST

START_TEST(test_err_unknown_stage)
{
	want_errors("rule r1 bogus true -> accept\n"
	    "rule r2 HELO true -> accept\n"
	    "rule r3\n",
	    "1:9: expected a stage (connect, helo, mail, rcpt, data, header, "
	    "eoh, eom, unknown)",
	    "2:9: expected a stage (connect, helo, mail, rcpt, data, header, "
	    "eoh, eom, unknown)",
	    "4:1: expected a stage (connect, helo, mail, rcpt, data, header, "
	    "eoh, eom, unknown)", NULL);
}
END_TEST

START_TEST(test_err_reply_class)
{
	want_errors("rule r1 helo true -> reject 450 4.7.1 \"x\"\n"
	    "rule r2 helo true -> tempfail 550 5.7.1 \"x\"\n"
	    "rule r3 helo true -> reject 55 5.7.1 \"x\"\n"
	    "rule r4 helo true -> reject \"x\"\n"
	    "rule r5 helo true -> reject 5x0 5.7.1 \"x\"\n",
	    "1:29: expected a 5xx reply code",
	    "2:31: expected a 4xx reply code",
	    "3:29: expected a 5xx reply code",
	    "4:29: expected a 5xx reply code",
	    "5:29: expected a 5xx reply code", NULL);
}
END_TEST

START_TEST(test_err_enhanced_code)
{
	want_errors("rule r1 helo true -> reject 550 4.7.1 \"x\"\n"
	    "rule r2 helo true -> reject 550 5.7 \"x\"\n"
	    "rule r3 helo true -> reject 550 5..1 \"x\"\n"
	    "rule r4 helo true -> reject 550 5.7.1x \"x\"\n"
	    "rule r5 helo true -> reject 550 5.7.1. \"x\"\n"
	    "rule r6 helo true -> tempfail 451 4.7.1\n",
	    "1:33: expected an enhanced status code 5.X.Y",
	    "2:33: \"5.7\" is not an enhanced status code (RFC 3463: 5.X.Y)",
	    "3:33: \"5..1\" is not an enhanced status code (RFC 3463: 5.X.Y)",
	    "4:33: \"5.7.1x\" is not an enhanced status code (RFC 3463: "
	    "5.X.Y)",
	    "5:33: \"5.7.1.\" is not an enhanced status code (RFC 3463: "
	    "5.X.Y)",
	    "7:1: expected the quoted reply text", NULL);
}
END_TEST

START_TEST(test_err_unterminated_string)
{
	/* One error each: the lexer's, not a second one at the same spot. */
	want_errors("rule r1 helo helo == \"abc\n"
	    "rule r2 helo true -> accept\n"
	    "rule r3 helo true -> reject 550 5.7.1 \"oops\n"
	    "rule r4 helo true -> tag \"never closed",
	    "1:22: unterminated string",
	    "3:39: unterminated string",
	    "4:26: unterminated string", NULL);
}
END_TEST

START_TEST(test_err_unknown_action)
{
	want_errors("rule r1 helo true -> bounce\n"
	    "rule r2 helo true -> 550\n"
	    "rule r3 helo true -> quarantine\n"
	    "rule r4 helo true -> add-header \"Bad Name\" \"v\"\n"
	    "rule r5 helo true -> add-header X-Ok\n",
	    "1:22: unknown action \"bounce\" (continue, accept, reject, "
	    "tempfail, discard, quarantine, add-header, tag)",
	    "2:22: expected an action",
	    "4:1: expected a quoted reason",
	    "4:33: \"Bad Name\" is not a header name",
	    "6:1: expected the quoted header value", NULL);
}
END_TEST

START_TEST(test_err_missing_arrow)
{
	want_errors("rule r1 helo helo == \"x\" reject 550 5.7.1 \"no\"\n"
	    "rule r2 helo true accept\n"
	    "rule r3 helo true\n",
	    "1:26: expected '->' before the action",
	    "2:19: expected '->' before the action",
	    "4:1: expected '->' before the action", NULL);
}
END_TEST

START_TEST(test_err_duplicate_rule)
{
	want_errors("rule same helo true -> accept\n"
	    "# a comment\n"
	    "rule same mail true -> accept\n"
	    "rule other mail true -> accept\n"
	    "  rule other rcpt true -> accept\n",
	    "3:6: rule \"same\" is already defined (line 1)",
	    "5:8: rule \"other\" is already defined (line 4)", NULL);
}
END_TEST

START_TEST(test_err_unknown_list)
{
	want_errors("rule r1 connect client.addr in @nowhere -> accept\n"
	    "rule r2 connect client.addr in @late -> accept\n"
	    "list late = { \"192.0.2.1\" }\n"
	    "rule r3 connect client.addr in \"x\" -> accept\n"
	    "rule r4 connect client.addr in @ -> accept\n",
	    "1:33: unknown list \"nowhere\"",
	    "2:33: unknown list \"late\"",
	    "4:32: the right side of 'in' must be a list (@name, { ... }) or "
	    "a map lookup",
	    "5:34: expected a list name after '@'", NULL);
}
END_TEST

START_TEST(test_err_unknown_map)
{
	write_at("m", "k v\n");
	want_errors("rule r1 mail sender in nomap[auth.user] -> accept\n"
	    "map m = file \"m\"\n"
	    "map m = file \"m\"\n"
	    "rule r2 mail sender in m[auth.user -> accept\n",
	    "1:24: unknown map \"nomap\"",
	    "3:5: map \"m\" is already defined",
	    "4:36: expected ']' after the map key", NULL);
}
END_TEST

START_TEST(test_err_bad_regex)
{
	/* The column points into the pattern, past the opening quote. */
	want_errors("rule r1 helo helo =~ \"ab(c\" -> accept\n"
	    "rule r2 helo helo !~ \"x)\" -> accept\n"
	    "list l = { \"/a(/\" }\n"
	    "rule r3 helo helo =~ helo -> accept\n",
	    "1:27: bad regular expression: missing closing parenthesis",
	    "2:24: bad regular expression: unmatched closing parenthesis",
	    "3:12: bad regular expression at offset 2: missing closing "
	    "parenthesis",
	    "4:22: expected a quoted pattern", NULL);
}
END_TEST

START_TEST(test_err_bad_prefix)
{
	want_errors("list a = { \"192.0.2.0/33\" }\n"
	    "list b = { \"2001:db8::/129\" }\n"
	    "list c = { \"2001:db8::/x\" }\n"
	    "list d = { \"2001:db8::/-1\" }\n"
	    "list e = { \"192.0.2.0/\" }\n"
	    "list f = { \"192.0.2.300\" }\n"
	    "list g = { \"2001:db8::/+8\" }\n"
	    "list h = { \"\" }\n",
	    "1:12: prefix /33 is longer than 32 in \"192.0.2.0/33\"",
	    "2:12: prefix /129 is longer than 128 in \"2001:db8::/129\"",
	    "3:12: bad prefix length in \"2001:db8::/x\"",
	    "4:12: bad prefix length in \"2001:db8::/-1\"",
	    "5:12: bad prefix length in \"192.0.2.0/\"",
	    "6:12: \"192.0.2.300\" is not an IPv4 or IPv6 address or network",
	    "7:12: bad prefix length in \"2001:db8::/+8\"",
	    "8:12: empty list entry", NULL);
}
END_TEST

START_TEST(test_err_list_file_missing)
{
	want_errors("list l = file \"missing.txt\"\n"
	    "map m = file \"nomap\"\n"
	    "list k = file missing.txt\n",
	    "1:15: cannot open $D/missing.txt: No such file or directory",
	    "2:14: cannot open $D/nomap: No such file or directory",
	    "3:15: expected the quoted path of the list file", NULL);
}
END_TEST

START_TEST(test_err_list_file_bad_line)
{
	/* Named by the list or map file and its line, column 1. */
	write_at("names.txt", "# our names\nmx.example.com\n\n"
	    "two words here\n10.0.0.0/40 # too long\n");
	write_at("logins", "alice alice@example.com\nbob\n"
	    "carol carol@example.com 2001:db8::/200\n");
	want_errors("list our_names = file \"names.txt\"\n"
	    "map logins = file \"logins\"\n"
	    "rule r1 nope -> accept\n",
	    "$D/names.txt:4:1: one entry per line, found 3",
	    "$D/names.txt:5:1: prefix /40 is longer than 32 in "
	    "\"10.0.0.0/40\"",
	    "$D/logins:2:1: a map line needs a key and at least one entry",
	    "$D/logins:3:1: prefix /200 is longer than 128 in "
	    "\"2001:db8::/200\"",
	    "3:9: expected a stage (connect, helo, mail, rcpt, data, header, "
	    "eoh, eom, unknown)", NULL);
}
END_TEST

START_TEST(test_err_template)
{
	want_errors("rule r1 helo true -> reject 550 5.7.1 \"bad %{nope}\"\n"
	    "rule r2 mail true -> tag \"for %{rcpt}\"\n"
	    "rule r3 helo true -> tag \"x %{helo\"\n"
	    "rule r4 helo true -> tag \"%{helo.is_ours}\"\n"
	    "rule r5 helo true -> tag \"100%% %{helo} %%{nope}\"\n"
	    "rule r6 eom true -> add-header X-A \"%{unknown.command}\"\n",
	    "1:39: unknown field \"nope\" in %{...}",
	    "2:26: field rcpt is not known at stage mail",
	    "3:26: unterminated %{ in text",
	    "4:26: unknown field \"helo.is_ours\" in %{...}",
	    "6:36: field unknown.command is not known at stage eom", NULL);
}
END_TEST

START_TEST(test_err_misc)
{
	want_errors("mode = sometimes\n"
	    "rule r1 helo helo == $x -> accept\n"
	    "rule r2 helo rate(helo, 1h) > 1 -> accept\n"
	    "rule r3 helo rate(client.addr, 90d) > 1 -> accept\n"
	    "rule r4 helo rate(client.addr, 100) > 1 -> accept\n"
	    "rule r5 helo helo like @x -> accept\n"
	    "rule ok helo true -> accept frobnicate\n"
	    "rule r6 helo helo == \"a\\q\" -> accept\n"
	    "list dup = { \"a\" }\n"
	    "list dup = { \"b\" }\n"
	    "rule r7 eom body.size > 10X -> accept\n"
	    "rule r8 helo (true -> accept\n"
	    "mode enforce\n"
	    "list l = { \"a\" \"b\" }\n",
	    "1:8: mode must be enforce or monitor",
	    "2:22: unexpected character '$'",
	    "3:19: rate key must be client.addr, client.net, auth.user or "
	    "sender",
	    "4:32: rate window must be a duration such as 30s, 10m, 1h or 1d "
	    "(at most 31d)",
	    "5:32: rate window must be a duration such as 30s, 10m, 1h or 1d "
	    "(at most 31d)",
	    "6:24: expected a quoted pattern",
	    "7:29: expected rule, list, map or mode",
	    "8:25: unknown escape \"\\q\" in string",
	    "10:6: list \"dup\" is already defined",
	    "11:25: bad number \"10X\"",
	    "12:20: expected ')'",
	    "13:6: expected '=' after mode",
	    "14:16: expected ',' or '}' in list", NULL);
}
END_TEST

START_TEST(test_err_many)
{
	char	 text[TEXTSIZE], *nl;
	size_t	 o = 0, lines = 0;
	int	 i;

	/* Sixty bad rules: 49 errors, then the cap says it stopped. */
	for (i = 0; i < 60; i++)
		o += (size_t)snprintf(text + o, sizeof text - o,
		    "rule r%02d helo nope -> accept\n", i);
	ck_assert_msg(load(text) == NULL, "60 bad rules: got a rule set, "
	    "want errors");
	for (nl = err; (nl = strchr(nl, '\n')) != NULL; nl++)
		lines++;
	TU_UINT_EQ(lines, 50);
	ck_assert_msg(strncmp(err, rules_path, strlen(rules_path)) == 0 &&
	    strncmp(err + strlen(rules_path), ":1:15: unknown field \"nope\"\n",
	    28) == 0, "first error: got \"%.60s\", want line 1, column 15",
	    err);
	TU_STR_ENDS(err, ":50:15: too many errors, stopping\n");
}
END_TEST

START_TEST(test_err_no_file)
{
	char	 want[2 * PATH_MAX + 128];

	ck_assert(policy_load(rules_path, err, sizeof err) == NULL);
	snprintf(want, sizeof want, "%s:0:0: cannot open %s: No such file "
	    "or directory\n", rules_path, rules_path);
	TU_STR_EQ(err, want);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Evaluator: fields                                                */
/* ---------------------------------------------------------------- */

START_TEST(test_client_fields)
{
	conn.cf_addr = "192.0.2.10";
	conn.cf_family = "inet";
	conn.cf_name = "mx.example.net";
	conn.cf_ptr = "mx.example.net";
	conn.cf_port = 40000;
	conn.cf_mta_name = "mail.example.com";
	WANT_TRUE(PS_CONNECT, "client.addr == \"192.0.2.10\"");
	WANT_TRUE(PS_CONNECT, "client.net == \"192.0.2.0/24\"");
	WANT_TRUE(PS_CONNECT, "client.name == \"MX.Example.NET\"");
	WANT_TRUE(PS_CONNECT, "client.ptr != \"other.example\"");
	WANT_TRUE(PS_CONNECT, "client.port == 40000");
	WANT_TRUE(PS_CONNECT, "client.port > 1024");
	WANT_TRUE(PS_CONNECT, "client.family == \"inet\"");
	WANT_TRUE(PS_CONNECT, "mta.name == \"mail.example.com\"");
	WANT_TRUE(PS_EOM, "client.addr == \"192.0.2.10\"");

	/* IPv6 networks are the /64, in both spellings of the address. */
	conn.cf_addr = "2001:db8:1:2:3:4:5:6";
	WANT_TRUE(PS_CONNECT, "client.net == \"2001:db8:1:2::/64\"");
	conn.cf_addr = "IPv6:2001:db8::1";
	WANT_TRUE(PS_CONNECT, "client.net == \"2001:db8::/64\"");

	/* Unknown address and port. */
	conn.cf_addr = NULL;
	conn.cf_port = -1;
	WANT_FALSE(PS_CONNECT, "client.net == \"\"");
	WANT_FALSE(PS_CONNECT, "client.port >= 0");
	WANT_TRUE(PS_CONNECT, "not client.addr");
}
END_TEST

START_TEST(test_client_resolved)
{
	conn.cf_name = "mx.example.net";
	WANT_TRUE(PS_CONNECT, "client.resolved");
	conn.cf_name = "unknown";
	WANT_FALSE(PS_CONNECT, "client.resolved");
	WANT_TRUE(PS_CONNECT, "not client.resolved");
	conn.cf_name = "[192.0.2.1]";
	WANT_FALSE(PS_CONNECT, "client.resolved");
	conn.cf_name = "";
	WANT_FALSE(PS_CONNECT, "client.resolved");
	conn.cf_name = NULL;
	WANT_FALSE(PS_CONNECT, "client.resolved");
}
END_TEST

START_TEST(test_helo_is_address)
{
	static const char *const yes[] = { "[192.0.2.1]",
	    "[IPv6:2001:db8::1]", "192.0.2.1", "2001:db8::1",
	    "IPv6:2001:db8::1" };
	static const char *const no[] = { "mx.example.com", "localhost",
	    "192.0.2", "" };
	size_t	 i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		conn.cf_helo = (char *)yes[i];
		ck_assert_msg(cond_holds(PS_HELO, "helo.is_address"),
		    "helo %s: got helo.is_address false, want true", yes[i]);
	}
	for (i = 0; i < sizeof no / sizeof no[0]; i++) {
		conn.cf_helo = (char *)no[i];
		ck_assert_msg(!cond_holds(PS_HELO, "helo.is_address"),
		    "helo %s: got helo.is_address true, want false", no[i]);
	}
	conn.cf_helo = NULL;
	WANT_FALSE(PS_HELO, "helo.is_address");
	WANT_FALSE(PS_HELO, "helo.is_address == false");
}
END_TEST

START_TEST(test_helo_is_fqdn)
{
	static const char *const yes[] = { "mx.example.com",
	    "mx.example.com.", "mail-1.example", "bad_name.example" };
	static const char *const no[] = { "localhost", "[192.0.2.1]",
	    "192.0.2.1", "a..b", ".example.com", "exa mple.com",
	    "mx.example.com..", "" };
	size_t	 i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		conn.cf_helo = (char *)yes[i];
		ck_assert_msg(cond_holds(PS_HELO, "helo.is_fqdn"),
		    "helo \"%s\": got helo.is_fqdn false, want true", yes[i]);
	}
	for (i = 0; i < sizeof no / sizeof no[0]; i++) {
		conn.cf_helo = (char *)no[i];
		ck_assert_msg(!cond_holds(PS_HELO, "helo.is_fqdn"),
		    "helo \"%s\": got helo.is_fqdn true, want false", no[i]);
	}
}
END_TEST

START_TEST(test_helo_is_ours)
{
	/* Without a list our_names: the MTA's own name. */
	conn.cf_mta_name = "mail.example.com";
	conn.cf_helo = "MAIL.example.com";
	WANT_TRUE(PS_HELO, "helo.is_ours");
	conn.cf_helo = "other.example";
	WANT_FALSE(PS_HELO, "helo.is_ours");
	conn.cf_mta_name = NULL;
	conn.cf_helo = "mail.example.com";
	WANT_FALSE(PS_HELO, "helo.is_ours");

	/* With one, the list alone decides. */
	decls = "list our_names = { \"mail.example.com\", \"*.example.com\" }";
	conn.cf_mta_name = "relay.example.org";
	conn.cf_helo = "mx1.example.com";
	WANT_TRUE(PS_HELO, "helo.is_ours");
	conn.cf_helo = "relay.example.org";
	WANT_FALSE(PS_HELO, "helo.is_ours");
	conn.cf_helo = NULL;
	WANT_FALSE(PS_HELO, "helo.is_ours");
}
END_TEST

START_TEST(test_session_counts)
{
	WANT_TRUE(PS_CONNECT, "session.helo_count == 0");
	WANT_TRUE(PS_CONNECT, "session.msg_count == 0");
	WANT_TRUE(PS_CONNECT, "session.unknown_count == 0");
	conn.cf_helo_count = 2;
	conn.cf_msg_count = 5;
	conn.cf_unknown_count = 3;
	conn.cf_unknown_command = "XFOO bar";
	WANT_TRUE(PS_HELO, "session.helo_count > 1");
	WANT_TRUE(PS_MAIL, "session.msg_count >= 5");
	WANT_TRUE(PS_UNKNOWN, "session.unknown_count == 3");
	WANT_TRUE(PS_UNKNOWN, "unknown.command like \"xfoo *\"");
	WANT_TRUE(PS_UNKNOWN, "unknown.command == \"XFOO bar\"");
}
END_TEST

START_TEST(test_tls_fields)
{
	WANT_FALSE(PS_HELO, "tls");
	WANT_TRUE(PS_HELO, "not tls");
	WANT_FALSE(PS_HELO, "tls.bits >= 0");
	WANT_FALSE(PS_HELO, "tls.verified");
	WANT_FALSE(PS_HELO, "tls.version == \"\"");

	conn.cf_tls_version = "TLSv1.3";
	conn.cf_tls_cipher = "TLS_AES_256_GCM_SHA384";
	conn.cf_tls_bits = 256;
	conn.cf_tls_verify = "OK";
	conn.cf_tls_subject = "CN=mx.example.net";
	conn.cf_tls_issuer = "CN=Example CA";
	WANT_TRUE(PS_HELO, "tls");
	WANT_TRUE(PS_MAIL, "tls.version == \"tlsv1.3\"");
	WANT_TRUE(PS_MAIL, "tls.cipher like \"*_GCM_*\"");
	WANT_TRUE(PS_MAIL, "tls.bits >= 256");
	WANT_FALSE(PS_MAIL, "tls.bits > 256");
	WANT_TRUE(PS_MAIL, "tls.verified");
	WANT_TRUE(PS_MAIL, "tls.subject == \"CN=mx.example.net\"");
	WANT_TRUE(PS_MAIL, "tls.issuer =~ \"Example\"");
	conn.cf_tls_verify = "FAIL";
	WANT_FALSE(PS_MAIL, "tls.verified");
	conn.cf_tls_verify = "NO";
	WANT_FALSE(PS_MAIL, "tls.verified");
	conn.cf_tls_verify = NULL;
	WANT_FALSE(PS_MAIL, "tls.verified");
}
END_TEST

START_TEST(test_auth_fields)
{
	WANT_FALSE(PS_MAIL, "auth");
	WANT_FALSE(PS_MAIL, "auth.user == \"alice\"");
	WANT_FALSE(PS_MAIL, "auth.user != \"alice\"");
	WANT_TRUE(PS_MAIL, "not auth.user");
	conn.cf_auth_mech = "PLAIN";
	conn.cf_auth_user = "alice";
	WANT_TRUE(PS_MAIL, "auth");
	WANT_TRUE(PS_RCPT, "auth.mech == \"plain\"");
	WANT_TRUE(PS_EOM, "auth.user == \"ALICE\"");
}
END_TEST

START_TEST(test_sender_fields)
{
	txn.tf_sender = "bob@Example.COM";
	WANT_TRUE(PS_MAIL, "sender == \"bob@example.com\"");
	WANT_TRUE(PS_MAIL, "sender.domain == \"example.com\"");
	WANT_FALSE(PS_MAIL, "sender.null");
	WANT_TRUE(PS_EOM, "sender.domain != \"example.org\"");

	/* The null sender: "" with no domain at all (case C03). */
	txn.tf_sender = "";
	txn.tf_null_sender = 1;
	WANT_TRUE(PS_MAIL, "sender.null");
	WANT_TRUE(PS_MAIL, "sender == \"\"");
	WANT_FALSE(PS_MAIL, "sender");
	WANT_FALSE(PS_MAIL, "sender.domain == \"\"");
	WANT_FALSE(PS_MAIL, "sender.domain != \"example.com\"");
	WANT_TRUE(PS_MAIL, "not sender.domain");
	WANT_TRUE(PS_MAIL, "len(sender) == 0");

	/* Outside a transaction (an unknown command before MAIL). */
	txn.tf_sender = NULL;
	txn.tf_null_sender = 0;
	WANT_FALSE(PS_UNKNOWN, "sender.null");
	WANT_FALSE(PS_UNKNOWN, "sender.null == false");
	WANT_TRUE(PS_UNKNOWN, "not sender");
}
END_TEST

START_TEST(test_rcpt_fields)
{
	txn.tf_sender = "bob@example.com";
	txn.tf_rcpt = "carol@Example.ORG";
	txn.tf_rcpt_count = 3;
	txn.tf_rcpt_params[0].fp_key = "NOTIFY";
	txn.tf_rcpt_params[0].fp_value = "SUCCESS,FAILURE";
	txn.tf_rcpt_nparams = 1;
	WANT_TRUE(PS_RCPT, "rcpt == \"carol@example.org\"");
	WANT_TRUE(PS_RCPT, "rcpt.domain == \"example.org\"");
	WANT_TRUE(PS_RCPT, "txn.rcpt_count == 3");
	WANT_TRUE(PS_EOM, "txn.rcpt_count > 2");
	WANT_TRUE(PS_RCPT, "rcpt.param[\"NOTIFY\"] == \"success,failure\"");
	WANT_TRUE(PS_RCPT, "rcpt.param[\"notify\"]");
	WANT_FALSE(PS_RCPT, "rcpt.param[\"ORCPT\"]");
	WANT_FALSE(PS_RCPT, "rcpt.param[\"ORCPT\"] != \"x\"");

	/* Without a sender no transaction is open: no count. */
	txn.tf_sender = NULL;
	WANT_FALSE(PS_RCPT, "txn.rcpt_count >= 0");
}
END_TEST

START_TEST(test_mail_params)
{
	txn.tf_sender = "bob@example.com";
	txn.tf_params[0].fp_key = "SIZE";
	txn.tf_params[0].fp_value = "12345";
	txn.tf_params[1].fp_key = "SMTPUTF8";
	txn.tf_params[1].fp_value = NULL;
	txn.tf_params[2].fp_key = "BODY";
	txn.tf_params[2].fp_value = "8BITMIME";
	txn.tf_nparams = 3;
	WANT_TRUE(PS_MAIL, "param[\"SIZE\"] > 10000");
	WANT_FALSE(PS_MAIL, "param[\"SIZE\"] < 10000");
	WANT_TRUE(PS_MAIL, "param[\"SIZE\"] == 12345");
	WANT_TRUE(PS_MAIL, "param[\"size\"] >= 12k");
	WANT_FALSE(PS_MAIL, "param[\"SIZE\"] > 1M");
	WANT_TRUE(PS_MAIL, "param[\"SMTPUTF8\"]");
	WANT_TRUE(PS_MAIL, "param[\"SMTPUTF8\"] == true");
	WANT_TRUE(PS_MAIL, "param[\"BODY\"] == \"8bitmime\"");
	WANT_FALSE(PS_MAIL, "param[\"REQUIRETLS\"]");
	WANT_FALSE(PS_MAIL, "param[\"REQUIRETLS\"] == \"x\"");
	WANT_TRUE(PS_MAIL, "not param[\"REQUIRETLS\"]");
	WANT_TRUE(PS_RCPT, "param[\"SIZE\"] == 12345");
}
END_TEST

START_TEST(test_headers)
{
	struct fact_header h[3] = {
		{ "From", "Alice <alice@example.com>" },
		{ "Subject", "" },
		{ "X-Mailer", "Foo 1.0" },
	};

	txn.tf_headers = h;
	txn.tf_nheaders = 3;

	/* An empty Subject is present but false (case C06). */
	WANT_TRUE(PS_EOM, "has_header(\"Subject\")");
	WANT_TRUE(PS_EOM, "header[\"Subject\"] == \"\"");
	WANT_FALSE(PS_EOM, "header[\"Subject\"]");
	WANT_TRUE(PS_EOM, "not header[\"Subject\"]");
	WANT_FALSE(PS_EOM, "has_header(\"Date\")");
	WANT_FALSE(PS_EOM, "header[\"Date\"] == \"\"");
	WANT_FALSE(PS_EOM, "header[\"date\"] != \"x\"");
	WANT_TRUE(PS_EOM, "has_header(\"subject\")");
	WANT_TRUE(PS_EOH, "header[\"x-mailer\"] =~ \"^Foo\"");
	WANT_TRUE(PS_EOM, "header[\"X-Mailer\"] like \"foo *\"");

	/* The header being decided, at stage header. */
	txn.tf_header_name = "Received";
	txn.tf_header_value = "from mx.example.net";
	WANT_TRUE(PS_HEADER, "header.name == \"received\"");
	WANT_TRUE(PS_HEADER, "header.value like \"from *\"");
	WANT_TRUE(PS_HEADER, "header[\"From\"] like \"*alice*\"");
}
END_TEST

START_TEST(test_addr_vs_auth)
{
	struct fact_header h[1] = { { "From", "Alice <alice@example.com>" } };

	txn.tf_headers = h;
	txn.tf_nheaders = 1;
	conn.cf_auth_mech = "PLAIN";
	conn.cf_auth_user = "Alice@Example.com";
	WANT_TRUE(PS_EOM, "addr(header[\"From\"]) == auth.user");
	WANT_FALSE(PS_EOM, "addr(header[\"From\"]) != auth.user");
	h[0].fh_value = "\"Mallory\" <mallory@example.net>";
	WANT_TRUE(PS_EOM, "addr(header[\"From\"]) != auth.user");
	h[0].fh_value = "  alice@example.com\t";
	WANT_TRUE(PS_EOM, "addr(header[\"From\"]) == auth.user");
	WANT_TRUE(PS_EOM, "addr(\"<x@y>\") == \"x@y\"");

	/* No From header: neither equal nor different. */
	txn.tf_nheaders = 0;
	WANT_FALSE(PS_EOM, "addr(header[\"From\"]) == auth.user");
	WANT_FALSE(PS_EOM, "addr(header[\"From\"]) != auth.user");
}
END_TEST

START_TEST(test_body_size)
{
	txn.tf_body_size = 2048;
	WANT_TRUE(PS_EOM, "body.size == 2k");
	WANT_TRUE(PS_EOM, "body.size > 2047");
	WANT_TRUE(PS_EOM, "body.size < 1M");
	WANT_FALSE(PS_EOM, "body.size > 1G");
}
END_TEST

/* ---------------------------------------------------------------- */
/* Evaluator: operators                                             */
/* ---------------------------------------------------------------- */

START_TEST(test_string_ops)
{
	conn.cf_helo = "Mx.Example.COM";
	WANT_TRUE(PS_HELO, "helo == \"mx.example.com\"");
	WANT_FALSE(PS_HELO, "helo != \"MX.EXAMPLE.COM\"");
	WANT_TRUE(PS_HELO, "helo != \"other\"");
	WANT_FALSE(PS_HELO, "helo < \"z\"");
	WANT_FALSE(PS_HELO, "helo >= \"a\"");
	WANT_TRUE(PS_HELO, "helo");
	WANT_TRUE(PS_HELO, "\"x\" == \"X\"");
	WANT_FALSE(PS_HELO, "\"\"");
}
END_TEST

START_TEST(test_numeric_ops)
{
	conn.cf_port = 25;
	WANT_TRUE(PS_CONNECT, "client.port < 26");
	WANT_FALSE(PS_CONNECT, "client.port < 25");
	WANT_TRUE(PS_CONNECT, "client.port <= 25");
	WANT_FALSE(PS_CONNECT, "client.port <= 24");
	WANT_TRUE(PS_CONNECT, "client.port > 24");
	WANT_FALSE(PS_CONNECT, "client.port > 25");
	WANT_TRUE(PS_CONNECT, "client.port >= 25");
	WANT_FALSE(PS_CONNECT, "client.port >= 26");
	WANT_TRUE(PS_CONNECT, "client.port == 25");
	WANT_FALSE(PS_CONNECT, "client.port != 25");
	WANT_TRUE(PS_CONNECT, "client.port == \"25\"");
	WANT_TRUE(PS_CONNECT, "client.port == 25.0");
	WANT_FALSE(PS_CONNECT, "client.port == \"twenty-five\"");
	WANT_TRUE(PS_CONNECT, "1m == 60 and 1h == 3600 and 1d == 86400");
	WANT_TRUE(PS_CONNECT, "1k == 1024 and 1K == 1024 and 1M == 1048576");
	WANT_TRUE(PS_CONNECT, "1G == 1073741824 and 30s == 30");
	WANT_TRUE(PS_CONNECT, "true and not false");
}
END_TEST

START_TEST(test_in_lists)
{
	decls = "list l = { \"exact.example\", \"@example.org\", "
	    "\"*.example.net\", \"/^mx[0-9]+\\\\.example\\\\.com$/\" }";
	conn.cf_helo = "EXACT.example";
	WANT_TRUE(PS_HELO, "helo in @l");
	conn.cf_helo = "user@EXAMPLE.org";
	WANT_TRUE(PS_HELO, "helo in @l");
	conn.cf_helo = "example.org";
	WANT_TRUE(PS_HELO, "helo in @l");
	conn.cf_helo = "sub.example.org";
	WANT_FALSE(PS_HELO, "helo in @l");
	conn.cf_helo = "a.b.Example.NET";
	WANT_TRUE(PS_HELO, "helo in @l");
	conn.cf_helo = "example.net";
	WANT_FALSE(PS_HELO, "helo in @l");
	conn.cf_helo = "MX12.example.com";
	WANT_TRUE(PS_HELO, "helo in @l");
	conn.cf_helo = "mx.example.com";
	WANT_FALSE(PS_HELO, "helo in @l");
	WANT_TRUE(PS_HELO, "not helo in @l");
	WANT_TRUE(PS_HELO, "helo in { \"a\", \"MX.example.com\" }");
	WANT_TRUE(PS_HELO, "helo in { \"a\", \"mx.example.com\", }");
	WANT_FALSE(PS_HELO, "helo in { }");

	/* Entries of digits alone are exact, not addresses. */
	decls = "";
	conn.cf_port = 587;
	WANT_TRUE(PS_CONNECT, "client.port in { \"25\", \"587\" }");
	conn.cf_port = 2525;
	WANT_FALSE(PS_CONNECT, "client.port in { \"25\", \"587\" }");
}
END_TEST

START_TEST(test_in_map)
{
	write_at("logins", "# login  senders it may use\n"
	    "Alice alice@example.com @alice.example\n"
	    "bob bob@example.com\n"
	    "alice /^postmaster@/\n");
	decls = "map login_map = file \"logins\"";
	conn.cf_auth_mech = "PLAIN";
	conn.cf_auth_user = "ALICE";
	txn.tf_sender = "alice@example.com";
	WANT_TRUE(PS_MAIL, "sender in login_map[auth.user]");
	txn.tf_sender = "x@alice.example";
	WANT_TRUE(PS_MAIL, "sender in login_map[auth.user]");
	/* A key on two lines has the entries of both. */
	txn.tf_sender = "postmaster@example.com";
	WANT_TRUE(PS_MAIL, "sender in login_map[auth.user]");
	txn.tf_sender = "bob@example.com";
	WANT_FALSE(PS_MAIL, "sender in login_map[auth.user]");
	WANT_TRUE(PS_MAIL, "sender in login_map[\"bob\"]");
	conn.cf_auth_user = "carol";
	WANT_FALSE(PS_MAIL, "sender in login_map[auth.user]");
	conn.cf_auth_user = NULL;
	WANT_FALSE(PS_MAIL, "sender in login_map[auth.user]");
	WANT_TRUE(PS_MAIL, "not sender in login_map[auth.user]");
}
END_TEST

START_TEST(test_regex_ops)
{
	conn.cf_helo = "mx.Example.com";
	WANT_FALSE(PS_HELO, "helo =~ \"example\"");
	WANT_TRUE(PS_HELO, "helo =~ \"(?i)example\"");
	WANT_TRUE(PS_HELO, "helo !~ \"example\"");
	WANT_FALSE(PS_HELO, "helo !~ \"Example\"");
	WANT_TRUE(PS_HELO, "helo =~ \"^mx\\\\.\"");
	WANT_TRUE(PS_HELO, "helo like \"MX.*\"");
	WANT_TRUE(PS_HELO, "helo like \"*.com\"");
	WANT_TRUE(PS_HELO, "helo like \"mx.?xample.[a-z]om\"");
	WANT_FALSE(PS_HELO, "helo like \"mx\"");
	WANT_TRUE(PS_HELO, "len(helo) == 14");
	WANT_TRUE(PS_HELO, "len(\"\") == 0");
}
END_TEST

START_TEST(test_precedence)
{
	/* not a in @l and b  is  (not (a in l)) and b. */
	decls = "list l = { \"192.0.2.1\" }";
	conn.cf_addr = "192.0.2.1";
	conn.cf_tls_version = NULL;
	WANT_FALSE(PS_HELO, "not client.addr in @l and tls");
	WANT_TRUE(PS_HELO, "not (client.addr in @l and tls)");
	conn.cf_tls_version = "TLSv1.3";
	WANT_FALSE(PS_HELO, "not client.addr in @l and tls");
	conn.cf_addr = "192.0.2.2";
	WANT_TRUE(PS_HELO, "not client.addr in @l and tls");
	conn.cf_tls_version = NULL;
	WANT_FALSE(PS_HELO, "not client.addr in @l and tls");

	/* and binds tighter than or; not not is the value itself. */
	WANT_TRUE(PS_HELO, "true or false and false");
	WANT_FALSE(PS_HELO, "(true or false) and false");
	WANT_TRUE(PS_HELO, "false and false or true");
	WANT_TRUE(PS_HELO, "not not true");
	WANT_FALSE(PS_HELO, "not true or false");
}
END_TEST

START_TEST(test_missing_values)
{
	static const char *const conds[] = {
		"helo == \"x\"", "helo != \"x\"", "helo < 1", "helo >= 0",
		"helo in { \"x\", \"*\" }", "helo =~ \".*\"",
		"helo !~ \"x\"", "helo like \"*\"", "len(helo) == 0",
		"len(helo) != 0", "addr(helo) == \"\"", "helo == helo",
		"client.port == 0", "client.port != 0", "tls.bits < 1",
		"client.addr in { \"::/0\" }", "helo.is_fqdn == false",
		"client.net != \"x\"", "helo",
	};
	size_t	 i;

	/* Nothing known: every comparison is false, not only ==. */
	for (i = 0; i < sizeof conds / sizeof conds[0]; i++) {
		WANT_FALSE(PS_HELO, conds[i]);
	}
	WANT_TRUE(PS_HELO, "not helo");
	WANT_TRUE(PS_HELO, "not (helo != \"x\")");
}
END_TEST

START_TEST(test_rate_in_rule)
{
	struct pol_verdict v;

	/* Counted only by policy_count_message, at end of message. */
	conn.cf_addr = "192.0.2.7";
	load_ok("rule burst connect rate(client.addr, 1h) >= 3 -> accept\n"
	    "rule net connect rate(client.net, 1h) >= 4 -> accept\n"
	    "rule rcpts connect rate_rcpt(client.addr, 1h) >= 10 -> accept\n");
	TU_UINT_EQ(rs->rs_nrates, 3);
	TU_UINT_EQ(evaluate(PS_CONNECT, &v), 0);
	policy_count_message(rs, &facts, 4);
	policy_count_message(rs, &facts, 4);
	TU_UINT_EQ(evaluate(PS_CONNECT, &v), 0);
	policy_count_message(rs, &facts, 4);
	TU_UINT_EQ(evaluate(PS_CONNECT, &v), 1);
	TU_STR_EQ(v.pv_rule->pr_name, "burst");

	/* Counters outlive the rule set that made them (a reload). */
	WANT_TRUE(PS_CONNECT, "rate_rcpt(client.addr, 1h) == 12");
	WANT_TRUE(PS_CONNECT, "rate(client.addr, 3600s) == 3");
	WANT_TRUE(PS_CONNECT, "rate(client.addr, 2h) == 0");

	/* The /24 is shared; another address is not. */
	conn.cf_addr = "192.0.2.8";
	WANT_TRUE(PS_CONNECT, "rate(client.addr, 1h) == 0");
	WANT_TRUE(PS_CONNECT, "rate(client.net, 1h) == 3");

	/* No key, no count: the rate is missing. */
	WANT_FALSE(PS_MAIL, "rate(auth.user, 1h) >= 0");
}
END_TEST

/* ---------------------------------------------------------------- */
/* CIDR                                                             */
/* ---------------------------------------------------------------- */

static const char cidr_lists[] =
    "list v4 = { \"192.0.2.0/24\" }\n"
    "list v6 = { \"2001:db8::/32\" }\n"
    "list all4 = { \"0.0.0.0/0\" }\n"
    "list all6 = { \"::/0\" }\n"
    "list host4 = { \"192.0.2.1/32\" }\n"
    "list host6 = { \"2001:db8::1/128\" }\n"
    "list bare = { \"198.51.100.7\", \"2001:db8::7\" }\n"
    "list odd = { \"192.0.2.128/25\", \"2001:db8:0:ff00::/56\" }\n"
    "list mapped = { \"::ffff:192.0.2.0/120\" }\n";

/* in_list - is addr in the named list of cidr_lists? */

static int
in_list(const char *addr, const char *list)
{
	char	 cond[128];

	decls = cidr_lists;
	conn.cf_addr = (char *)addr;
	snprintf(cond, sizeof cond, "client.addr in @%s", list);
	return cond_holds(PS_CONNECT, cond);
}

#define WANT_IN(addr, list, want)					\
	ck_assert_msg(in_list((addr), (list)) == (want), "%s in @%s: got "\
	    "%s, want %s", (addr), (list), (want) ? "false" : "true",	\
	    (want) ? "true" : "false")

START_TEST(test_cidr_mapped)
{
	WANT_IN("::ffff:192.0.2.1", "v4", 1);
	WANT_IN("::FFFF:192.0.2.1", "v4", 1);
	WANT_IN("192.0.2.1", "v4", 1);
	WANT_IN("192.0.3.1", "v4", 0);
	WANT_IN("::ffff:192.0.3.1", "v4", 0);
	WANT_IN("192.0.2.1", "mapped", 1);
	WANT_IN("::ffff:192.0.2.200", "mapped", 1);
	WANT_IN("192.0.3.1", "mapped", 0);
}
END_TEST

START_TEST(test_cidr_zero)
{
	WANT_IN("203.0.113.9", "all4", 1);
	WANT_IN("::ffff:10.1.2.3", "all4", 1);
	WANT_IN("2001:db8::1", "all4", 0);
	WANT_IN("2001:db8::1", "all6", 1);
	WANT_IN("fe80::1", "all6", 1);
	WANT_IN("192.0.2.1", "all6", 1);
}
END_TEST

START_TEST(test_cidr_exact)
{
	WANT_IN("192.0.2.1", "host4", 1);
	WANT_IN("192.0.2.2", "host4", 0);
	WANT_IN("2001:db8::1", "host6", 1);
	WANT_IN("2001:db8:0:0:0:0:0:1", "host6", 1);
	WANT_IN("2001:db8::2", "host6", 0);
	WANT_IN("198.51.100.7", "bare", 1);
	WANT_IN("198.51.100.8", "bare", 0);
	WANT_IN("2001:DB8::7", "bare", 1);
	WANT_IN("2001:db8::7:0", "bare", 0);
}
END_TEST

START_TEST(test_cidr_prefix_bits)
{
	WANT_IN("192.0.2.200", "odd", 1);
	WANT_IN("192.0.2.128", "odd", 1);
	WANT_IN("192.0.2.127", "odd", 0);
	WANT_IN("2001:db8:0:ffab::1", "odd", 1);
	WANT_IN("2001:db8:0:feff::1", "odd", 0);
	WANT_IN("2001:db8:ffff::1", "v6", 1);
	WANT_IN("2001:db9::1", "v6", 0);
}
END_TEST

START_TEST(test_cidr_value_forms)
{
	WANT_IN("[192.0.2.1]", "v4", 1);
	WANT_IN("IPv6:2001:db8::5", "v6", 1);
	WANT_IN("ipv6:2001:db8::5", "v6", 1);
	WANT_IN("[IPv6:2001:db8::5]", "v6", 1);
	WANT_IN("[IPv6:::ffff:192.0.2.9]", "v4", 1);

	/* An address literal HELO, through the same lists. */
	decls = cidr_lists;
	conn.cf_helo = "[192.0.2.5]";
	WANT_TRUE(PS_HELO, "helo in @v4");
}
END_TEST

START_TEST(test_cidr_non_address)
{
	static const char *const values[] = { "mx.example.com", "",
	    "192.0.2", "192.0.2.1/24", "unknown", "[]", "IPv6:",
	    "192.0.2.1 ", "2001:db8::1%eth0" };
	size_t	 i;

	for (i = 0; i < sizeof values / sizeof values[0]; i++) {
		WANT_IN(values[i], "all6", 0);
		WANT_IN(values[i], "all4", 0);
	}
}
END_TEST

/* ---------------------------------------------------------------- */
/* Rates                                                            */
/* ---------------------------------------------------------------- */

/*
 * count_after - add one event at t and count it at t + delta, on a
 * fresh table.
 */
static uint64_t
count_after(const struct pol_rate *r, int64_t t, int64_t delta)
{
	rates_reset();
	rates_add(r, "k", t, 1);
	return rates_count(r, "k", t + delta);
}

START_TEST(test_rate_window_edges)
{
	static const int64_t windows[] = { 60 * SEC, 3600 * SEC, 30 * SEC };
	size_t	 i, j;

	for (i = 0; i < sizeof windows / sizeof windows[0]; i++) {
		struct pol_rate r = { RK_CLIENT_ADDR, windows[i], 0 };
		int64_t	 w = windows[i], slot = w / 60;
		/* At a slot's start, within it, and at its last tick. */
		int64_t	 at[] = { 0, 10 * slot, 10 * slot + slot / 2,
		    11 * slot - 1, 1000 * w + 7 };

		for (j = 0; j < sizeof at / sizeof at[0]; j++) {
			int64_t	 t = at[j];

			ck_assert_msg(count_after(&r, t, 0) == 1, "window %jd, "
			    "event at %jd: got no count at once, want 1",
			    (intmax_t)w, (intmax_t)t);
			/* Still counted 59/60 of a window later. */
			ck_assert_msg(count_after(&r, t, w - slot) == 1,
			    "window %jd, event at %jd: got 0 at +%jd, want 1",
			    (intmax_t)w, (intmax_t)t, (intmax_t)(w - slot));
			/* Forgotten a whole window later. */
			ck_assert_msg(count_after(&r, t, w) == 0, "window "
			    "%jd, event at %jd: got 1 at +%jd, want 0",
			    (intmax_t)w, (intmax_t)t, (intmax_t)w);
		}
	}
}
END_TEST

START_TEST(test_rate_slot_boundary)
{
	struct pol_rate r = { RK_CLIENT_ADDR, 60 * SEC, 0 };

	/* An event at a slot's start lasts the whole window. */
	TU_UINT_EQ(count_after(&r, 0, 60 * SEC - 1), 1);
	TU_UINT_EQ(count_after(&r, 0, 60 * SEC), 0);
	/* One at a slot's last tick goes 59/60 of a window and a tick on. */
	TU_UINT_EQ(count_after(&r, SEC - 1, 59 * SEC), 1);
	TU_UINT_EQ(count_after(&r, SEC - 1, 59 * SEC + 1), 0);
}
END_TEST

START_TEST(test_rate_sum_and_expiry)
{
	struct pol_rate r = { RK_AUTH_USER, 60 * SEC, 0 };

	rates_add(&r, "alice", 0, 1);
	rates_add(&r, "alice", 30 * SEC, 2);
	rates_add(&r, "alice", 59 * SEC, 4);
	TU_UINT_EQ(rates_count(&r, "alice", 59 * SEC), 7);
	TU_UINT_EQ(rates_count(&r, "alice", 60 * SEC - 1), 7);
	TU_UINT_EQ(rates_count(&r, "alice", 60 * SEC), 6);
	TU_UINT_EQ(rates_count(&r, "alice", 90 * SEC - 1), 6);
	TU_UINT_EQ(rates_count(&r, "alice", 90 * SEC), 4);
	TU_UINT_EQ(rates_count(&r, "alice", 119 * SEC - 1), 4);
	TU_UINT_EQ(rates_count(&r, "alice", 119 * SEC), 0);

	/* After a gap longer than the window, only what came since. */
	rates_add(&r, "alice", 500 * SEC, 5);
	rates_add(&r, "alice", 2000 * SEC, 1);
	TU_UINT_EQ(rates_count(&r, "alice", 2000 * SEC), 1);
	rates_add(&r, "alice", 2010 * SEC, 0);	/* adds nothing */
	TU_UINT_EQ(rates_count(&r, "alice", 2010 * SEC), 1);
}
END_TEST

START_TEST(test_rate_separate)
{
	struct pol_rate msgs = { RK_CLIENT_ADDR, 60 * SEC, 0 };
	struct pol_rate rcpts = { RK_CLIENT_ADDR, 60 * SEC, 1 };
	struct pol_rate hour = { RK_CLIENT_ADDR, 3600 * SEC, 0 };
	struct pol_rate sender = { RK_SENDER, 60 * SEC, 0 };
	int64_t	 t = 100 * SEC;

	rates_add(&msgs, "a", t, 1);
	rates_add(&msgs, "b", t, 10);
	rates_add(&rcpts, "a", t, 100);
	rates_add(&hour, "a", t, 1000);
	rates_add(&sender, "a", t, 10000);
	TU_UINT_EQ(rates_count(&msgs, "a", t), 1);
	TU_UINT_EQ(rates_count(&msgs, "b", t), 10);
	TU_UINT_EQ(rates_count(&msgs, "c", t), 0);
	TU_UINT_EQ(rates_count(&rcpts, "a", t), 100);
	TU_UINT_EQ(rates_count(&hour, "a", t), 1000);
	TU_UINT_EQ(rates_count(&sender, "a", t), 10000);

	/* The hour outlives the minute. */
	TU_UINT_EQ(rates_count(&msgs, "a", t + 120 * SEC), 0);
	TU_UINT_EQ(rates_count(&hour, "a", t + 120 * SEC), 1000);

	rates_reset();
	TU_UINT_EQ(rates_count(&hour, "a", t), 0);
	TU_UINT_EQ(rates_count(&sender, "a", t), 0);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Verdicts                                                         */
/* ---------------------------------------------------------------- */

START_TEST(test_first_terminal_wins)
{
	struct pol_verdict v;

	load_ok("rule f connect false -> reject 550 5.7.1 \"never\"\n"
	    "rule t1 connect true -> tag \"first\"\n"
	    "rule r1 connect true -> reject 554 5.7.1 \"go away\"\n"
	    "rule r2 connect true -> tempfail 421 4.3.2 \"later\"\n"
	    "rule h helo true -> reject 550 5.7.1 \"other stage\"\n");
	TU_UINT_EQ(evaluate(PS_CONNECT, &v), 2);
	TU_UINT_EQ(v.pv_nhits, 2);
	TU_STR_EQ(v.pv_hits[0].ph_rule->pr_name, "t1");
	TU_INT_EQ(v.pv_hits[0].ph_mode, PM_ENFORCED);
	TU_STR_EQ(v.pv_hits[0].ph_reply, "first");
	TU_STR_EQ(v.pv_hits[1].ph_rule->pr_name, "r1");
	TU_INT_EQ(v.pv_action, PA_REJECT);
	TU_STR_EQ(v.pv_rule->pr_name, "r1");
	TU_STR_EQ(v.pv_reply, "go away");
	TU_UINT_EQ(rule_named("t1")->pr_hits, 1);
	TU_UINT_EQ(rule_named("r1")->pr_hits, 1);
	TU_UINT_EQ(rule_named("r2")->pr_hits, 0);
	TU_UINT_EQ(rule_named("f")->pr_hits, 0);
	TU_UINT_EQ(rule_named("h")->pr_hits, 0);

	/* Each evaluation counts again. */
	(void)evaluate(PS_CONNECT, &v);
	TU_UINT_EQ(rule_named("r1")->pr_hits, 2);
}
END_TEST

START_TEST(test_terminal_actions)
{
	static const struct {
		const char	*action;
		enum pol_action	 want;
	} cases[] = {
		{ "continue", PA_CONTINUE },
		{ "accept", PA_ACCEPT },
		{ "discard", PA_DISCARD },
		{ "reject 550 5.7.1 \"r\"", PA_REJECT },
		{ "tempfail 451 4.7.1 \"t\"", PA_TEMPFAIL },
	};
	struct pol_verdict v;
	char	 text[TEXTSIZE];
	size_t	 i;

	/* Each stops the stage: the reject after it is never reached. */
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, "rule a eom true -> %s\n"
		    "rule b eom true -> reject 554 5.7.1 \"after\"\n",
		    cases[i].action);
		load_ok(text);
		TU_UINT_EQ(evaluate(PS_EOM, &v), 1);
		ck_assert_msg(v.pv_action == cases[i].want, "%s: got action "
		    "%s, want %s", cases[i].action,
		    policy_action_name(v.pv_action),
		    policy_action_name(cases[i].want));
		TU_STR_EQ(v.pv_rule->pr_name, "a");
	}
}
END_TEST

START_TEST(test_nonterminal_recorded)
{
	struct pol_verdict v;

	conn.cf_helo = "mx.example.net";
	load_ok("rule t eom true -> tag \"spammy\"\n"
	    "rule h eom true -> add-header X-Warden \"seen %{helo}\"\n"
	    "rule q eom true -> quarantine \"held\"\n");
	TU_UINT_EQ(evaluate(PS_EOM, &v), 3);
	TU_INT_EQ(v.pv_action, PA_NONE);
	ck_assert(v.pv_rule == NULL);
	TU_STR_EQ(v.pv_reply, "");
	TU_STR_EQ(v.pv_hits[0].ph_rule->pr_name, "t");
	TU_STR_EQ(v.pv_hits[1].ph_rule->pr_name, "h");
	TU_STR_EQ(v.pv_hits[1].ph_reply, "seen mx.example.net");
	TU_STR_EQ(v.pv_hits[2].ph_rule->pr_name, "q");
	TU_STR_EQ(v.pv_hits[2].ph_reply, "held");
	TU_INT_EQ(v.pv_hits[2].ph_mode, PM_ENFORCED);
}
END_TEST

START_TEST(test_many_hits)
{
	struct pol_verdict v;
	char	 text[TEXTSIZE];
	size_t	 o = 0;
	int	 i;

	/* More tags than a verdict records: the reject still decides. */
	for (i = 0; i < 2 * POL_MAX_HITS; i++)
		o += (size_t)snprintf(text + o, sizeof text - o,
		    "rule t%02d helo true -> tag \"t\"\n", i);
	snprintf(text + o, sizeof text - o,
	    "rule last helo true -> reject 550 5.7.1 \"no\"\n");
	load_ok(text);
	TU_UINT_EQ(evaluate(PS_HELO, &v), POL_MAX_HITS);
	TU_INT_EQ(v.pv_action, PA_REJECT);
	TU_STR_EQ(v.pv_rule->pr_name, "last");
	TU_STR_EQ(v.pv_hits[POL_MAX_HITS - 1].ph_rule->pr_name, "last");
	TU_STR_EQ(v.pv_hits[POL_MAX_HITS - 2].ph_rule->pr_name, "t14");
	/* Unrecorded hits still count. */
	TU_UINT_EQ(rule_named("t31")->pr_hits, 1);
}
END_TEST

START_TEST(test_shadow)
{
	struct pol_verdict v;

	load_ok("rule s mail true -> reject 550 5.7.1 \"shadowed\" shadow\n"
	    "rule t mail true -> tag \"t\"\n"
	    "rule r mail true -> tempfail 451 4.7.1 \"real\"\n"
	    "rule only rcpt true -> reject 550 5.7.1 \"x\" shadow\n");
	TU_UINT_EQ(evaluate(PS_MAIL, &v), 3);
	TU_STR_EQ(v.pv_hits[0].ph_rule->pr_name, "s");
	TU_INT_EQ(v.pv_hits[0].ph_mode, PM_SHADOW);
	TU_STR_EQ(v.pv_hits[0].ph_reply, "shadowed");
	TU_INT_EQ(v.pv_hits[1].ph_mode, PM_ENFORCED);
	TU_INT_EQ(v.pv_hits[2].ph_mode, PM_ENFORCED);
	TU_INT_EQ(v.pv_action, PA_TEMPFAIL);
	TU_STR_EQ(v.pv_rule->pr_name, "r");
	TU_STR_EQ(v.pv_reply, "real");

	TU_UINT_EQ(evaluate(PS_RCPT, &v), 1);
	TU_INT_EQ(v.pv_hits[0].ph_mode, PM_SHADOW);
	TU_INT_EQ(v.pv_action, PA_NONE);
	ck_assert(v.pv_rule == NULL);
	TU_STR_EQ(policy_mode_name(PM_SHADOW), "shadow");
	TU_STR_EQ(policy_mode_name(PM_ENFORCED), "enforced");
}
END_TEST

START_TEST(test_monitor)
{
	struct pol_verdict v;

	load_ok("mode = monitor\n"
	    "rule t helo true -> tag \"t\"\n"
	    "rule s helo true -> reject 550 5.7.1 \"s\" shadow\n"
	    "rule r helo true -> reject 550 5.7.1 \"would\"\n"
	    "rule r2 helo true -> tempfail 451 4.7.1 \"x\"\n");
	TU_UINT_EQ(evaluate(PS_HELO, &v), 3);
	TU_INT_EQ(v.pv_hits[0].ph_mode, PM_MONITOR);
	TU_INT_EQ(v.pv_hits[1].ph_mode, PM_SHADOW);
	TU_INT_EQ(v.pv_hits[2].ph_mode, PM_MONITOR);
	TU_STR_EQ(v.pv_hits[2].ph_rule->pr_name, "r");
	TU_STR_EQ(v.pv_hits[2].ph_reply, "would");
	TU_INT_EQ(v.pv_action, PA_NONE);
	ck_assert(v.pv_rule == NULL);
	TU_STR_EQ(v.pv_reply, "");
	/* The first terminal rule still ends the stage. */
	TU_UINT_EQ(rule_named("r2")->pr_hits, 0);
	TU_STR_EQ(policy_mode_name(PM_MONITOR), "monitor");
}
END_TEST

START_TEST(test_stage_may_reply)
{
	load_ok("rule c connect true -> reject 550 5.7.1 \"x\"\n"
	    "rule h helo true -> tag \"x\"\n"
	    "rule m mail true -> reject 550 5.7.1 \"x\" shadow\n"
	    "rule r rcpt true -> accept\n"
	    "rule d data true -> tempfail 451 4.7.1 \"x\"\n"
	    "rule e eom true -> discard\n"
	    "rule e2 eom true -> quarantine \"q\"\n");
	TU_INT_EQ(policy_stage_may_reply(rs, PS_CONNECT), 1);
	TU_INT_EQ(policy_stage_may_reply(rs, PS_HELO), 0);
	TU_INT_EQ(policy_stage_may_reply(rs, PS_MAIL), 0);
	TU_INT_EQ(policy_stage_may_reply(rs, PS_RCPT), 0);
	TU_INT_EQ(policy_stage_may_reply(rs, PS_DATA), 1);
	TU_INT_EQ(policy_stage_may_reply(rs, PS_HEADER), 0);
	TU_INT_EQ(policy_stage_may_reply(rs, PS_EOM), 0);
	TU_INT_EQ(policy_stage_may_reply(rs, PS_MAX), 0);
	TU_INT_EQ(policy_stage_may_reply(NULL, PS_CONNECT), 0);
	load_ok("mode = monitor\n"
	    "rule c connect true -> reject 550 5.7.1 \"x\"\n");
	TU_INT_EQ(policy_stage_may_reply(rs, PS_CONNECT), 0);
}
END_TEST

START_TEST(test_evaluate_edges)
{
	struct pol_verdict v;

	memset(&v, 0x55, sizeof v);
	TU_UINT_EQ(policy_evaluate(NULL, PS_HELO, &facts, &v), 0);
	TU_INT_EQ(v.pv_action, PA_NONE);
	TU_UINT_EQ(v.pv_nhits, 0);
	load_ok("rule a helo true -> accept\n");
	TU_UINT_EQ(policy_evaluate(rs, PS_MAX, &facts, &v), 0);
	TU_UINT_EQ(evaluate(PS_MAIL, &v), 0);
}
END_TEST

START_TEST(test_names)
{
	static const char *const stages[PS_MAX] = { "connect", "helo",
	    "mail", "rcpt", "data", "header", "eoh", "eom", "unknown" };
	int	 i;

	for (i = 0; i < PS_MAX; i++)
		TU_STR_EQ(policy_stage_name((enum pol_stage)i), stages[i]);
	TU_STR_EQ(policy_stage_name(PS_MAX), "invalid");
	TU_STR_EQ(policy_action_name(PA_NONE), "none");
	TU_STR_EQ(policy_action_name(PA_ADD_HEADER), "add-header");
	TU_STR_EQ(policy_action_name(PA_TAG), "tag");
}
END_TEST

/* ---------------------------------------------------------------- */
/* Reply templates                                                  */
/* ---------------------------------------------------------------- */

/* expand - policy_expand into a buffer of outsize bytes */

static const char *
expand(const char *tmpl, size_t outsize)
{
	static char out[2048];

	ck_assert(outsize <= sizeof out);
	memset(out, 'Z', sizeof out);
	policy_expand(tmpl, &facts, out, outsize);
	return out;
}

START_TEST(test_expand_format_literal)
{
	/* Client text is copied, never used as a format. */
	txn.tf_sender = "%s%n%x@example.com";
	TU_STR_EQ(expand("<%{sender}> refused", 1024),
	    "<%s%n%x@example.com> refused");
	TU_STR_EQ(expand("%s and %d stay", 1024), "%s and %d stay");
}
END_TEST

START_TEST(test_expand_sanitised)
{
	/* CR, LF, other controls and 8-bit bytes become '?'. */
	conn.cf_helo = "a\r\nb\tc\x7f" "d\xc3\xa9" "e\x01";
	TU_STR_EQ(expand("[%{helo}]", 1024), "[a??b?c?d??e?]");
}
END_TEST

START_TEST(test_expand_percent)
{
	conn.cf_helo = "mx";
	TU_STR_EQ(expand("100%% sure", 1024), "100% sure");
	TU_STR_EQ(expand("%%{helo} is %{helo}", 1024), "%{helo} is mx");
	TU_STR_EQ(expand("%x %", 1024), "%x %");
	TU_STR_EQ(expand("%{helo", 1024), "%{helo");
	TU_STR_EQ(expand("%%%%", 1024), "%%");
	/* Names the parser would refuse expand to nothing. */
	TU_STR_EQ(expand("<%{nope}><%{helo.is_ours}>", 1024), "<><>");
}
END_TEST

START_TEST(test_expand_values)
{
	conn.cf_port = 25;
	conn.cf_helo_count = 2;
	TU_STR_EQ(expand("%{client.port} %{tls} %{session.helo_count}", 1024),
	    "25 false 2");
	/* A missing value is empty. */
	TU_STR_EQ(expand("[%{client.addr}][%{sender.domain}]", 1024), "[][]");
	txn.tf_sender = "";
	txn.tf_null_sender = 1;
	TU_STR_EQ(expand("<%{sender}> %{sender.null}", 1024), "<> true");
}
END_TEST

START_TEST(test_expand_bounded)
{
	char	 helo[301], want[203];
	const char *got;

	/* At most 200 bytes of one value. */
	memset(helo, 'a', 300);
	helo[300] = '\0';
	conn.cf_helo = helo;
	want[0] = '<';
	memset(want + 1, 'a', 200);
	want[201] = '>';
	want[202] = '\0';
	TU_STR_EQ(expand("<%{helo}>", 1024), want);

	/* And never more than outsize, terminator included. */
	conn.cf_helo = "abcdefghijkl";
	TU_STR_EQ(expand("%{helo}", 8), "abcdefg");
	TU_STR_EQ(expand("xyz%{helo}", 5), "xyza");
	TU_STR_EQ(expand("literal text", 4), "lit");
	TU_STR_EQ(expand("%%%%", 2), "%");
	TU_STR_EQ(expand("%{helo}", 1), "");
	got = expand("%{helo}", 0);
	ck_assert_msg(got[0] == 'Z', "outsize 0: got byte 0x%02x written, "
	    "want the buffer untouched", (unsigned char)got[0]);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Reload                                                           */
/* ---------------------------------------------------------------- */

START_TEST(test_reload_refcounts)
{
	struct pol_ruleset *a, *b, *held, *cur;
	struct pol_verdict v;

	ck_assert(policy_current() == NULL);
	a = load("rule a connect true -> tag \"A\"\n");
	ck_assert_msg(a != NULL, "rules A: got errors \"%s\", want none", err);
	TU_INT_EQ(a->rs_refs, 1);
	policy_install(a);		/* the load's reference moves */
	TU_INT_EQ(a->rs_refs, 1);

	/* A session starts: it holds A. */
	held = policy_current();
	ck_assert(held == a);
	TU_INT_EQ(a->rs_refs, 2);

	/* A reload installs B; the session keeps a valid A. */
	b = load("rule b connect true -> tag \"B\"\n");
	ck_assert_msg(b != NULL, "rules B: got errors \"%s\", want none", err);
	ck_assert_msg(b->rs_generation > a->rs_generation, "generation: got "
	    "%ju after %ju, want it larger", (uintmax_t)b->rs_generation,
	    (uintmax_t)a->rs_generation);
	policy_install(b);
	TU_INT_EQ(a->rs_refs, 1);
	TU_UINT_EQ(policy_evaluate(held, PS_CONNECT, &facts, &v), 1);
	TU_STR_EQ(v.pv_hits[0].ph_reply, "A");

	/* A new session gets B. */
	cur = policy_current();
	ck_assert(cur == b);
	TU_INT_EQ(b->rs_refs, 2);
	TU_UINT_EQ(policy_evaluate(cur, PS_CONNECT, &facts, &v), 1);
	TU_STR_EQ(v.pv_hits[0].ph_reply, "B");
	policy_release(cur);
	TU_INT_EQ(b->rs_refs, 1);

	/* A broken file is never installed: B stays. */
	ck_assert(load("rule c connect nope -> accept\n") == NULL);
	cur = policy_current();
	ck_assert(cur == b);
	policy_release(cur);

	/* The old session ends (A is freed); rules are switched off. */
	policy_release(held);
	policy_install(NULL);
	ck_assert(policy_current() == NULL);
	policy_release(NULL);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Suite                                                            */
/* ---------------------------------------------------------------- */

/* tcase - a test case with the scratch-directory fixture */

static TCase *
tcase(const char *name)
{
	TCase	*tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	return tc;
}

static Suite *
policy_suite(void)
{
	Suite	*s = suite_create("policy");
	TCase	*tc;

	tc = tcase("parse");
	tcase_add_test(tc, test_parse_example);
	tcase_add_test(tc, test_parse_example_decides);
	tcase_add_test(tc, test_parse_layout);
	tcase_add_test(tc, test_parse_actions);
	tcase_add_test(tc, test_parse_list_files);
	suite_add_tcase(s, tc);

	tc = tcase("errors");
	tcase_add_test(tc, test_err_unknown_field);
	tcase_add_test(tc, test_err_field_stage);
	tcase_add_test(tc, test_err_unknown_stage);
	tcase_add_test(tc, test_err_reply_class);
	tcase_add_test(tc, test_err_enhanced_code);
	tcase_add_test(tc, test_err_unterminated_string);
	tcase_add_test(tc, test_err_unknown_action);
	tcase_add_test(tc, test_err_missing_arrow);
	tcase_add_test(tc, test_err_duplicate_rule);
	tcase_add_test(tc, test_err_unknown_list);
	tcase_add_test(tc, test_err_unknown_map);
	tcase_add_test(tc, test_err_bad_regex);
	tcase_add_test(tc, test_err_bad_prefix);
	tcase_add_test(tc, test_err_list_file_missing);
	tcase_add_test(tc, test_err_list_file_bad_line);
	tcase_add_test(tc, test_err_template);
	tcase_add_test(tc, test_err_misc);
	tcase_add_test(tc, test_err_many);
	tcase_add_test(tc, test_err_no_file);
	suite_add_tcase(s, tc);

	tc = tcase("fields");
	tcase_add_test(tc, test_client_fields);
	tcase_add_test(tc, test_client_resolved);
	tcase_add_test(tc, test_helo_is_address);
	tcase_add_test(tc, test_helo_is_fqdn);
	tcase_add_test(tc, test_helo_is_ours);
	tcase_add_test(tc, test_session_counts);
	tcase_add_test(tc, test_tls_fields);
	tcase_add_test(tc, test_auth_fields);
	tcase_add_test(tc, test_sender_fields);
	tcase_add_test(tc, test_rcpt_fields);
	tcase_add_test(tc, test_mail_params);
	tcase_add_test(tc, test_headers);
	tcase_add_test(tc, test_addr_vs_auth);
	tcase_add_test(tc, test_body_size);
	suite_add_tcase(s, tc);

	tc = tcase("operators");
	tcase_add_test(tc, test_string_ops);
	tcase_add_test(tc, test_numeric_ops);
	tcase_add_test(tc, test_in_lists);
	tcase_add_test(tc, test_in_map);
	tcase_add_test(tc, test_regex_ops);
	tcase_add_test(tc, test_precedence);
	tcase_add_test(tc, test_missing_values);
	tcase_add_test(tc, test_rate_in_rule);
	suite_add_tcase(s, tc);

	tc = tcase("cidr");
	tcase_add_test(tc, test_cidr_mapped);
	tcase_add_test(tc, test_cidr_zero);
	tcase_add_test(tc, test_cidr_exact);
	tcase_add_test(tc, test_cidr_prefix_bits);
	tcase_add_test(tc, test_cidr_value_forms);
	tcase_add_test(tc, test_cidr_non_address);
	suite_add_tcase(s, tc);

	tc = tcase("rates");
	tcase_add_test(tc, test_rate_window_edges);
	tcase_add_test(tc, test_rate_slot_boundary);
	tcase_add_test(tc, test_rate_sum_and_expiry);
	tcase_add_test(tc, test_rate_separate);
	suite_add_tcase(s, tc);

	tc = tcase("verdicts");
	tcase_add_test(tc, test_first_terminal_wins);
	tcase_add_test(tc, test_terminal_actions);
	tcase_add_test(tc, test_nonterminal_recorded);
	tcase_add_test(tc, test_many_hits);
	tcase_add_test(tc, test_shadow);
	tcase_add_test(tc, test_monitor);
	tcase_add_test(tc, test_stage_may_reply);
	tcase_add_test(tc, test_evaluate_edges);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);

	tc = tcase("expand");
	tcase_add_test(tc, test_expand_format_literal);
	tcase_add_test(tc, test_expand_sanitised);
	tcase_add_test(tc, test_expand_percent);
	tcase_add_test(tc, test_expand_values);
	tcase_add_test(tc, test_expand_bounded);
	suite_add_tcase(s, tc);

	tc = tcase("reload");
	tcase_add_test(tc, test_reload_refcounts);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite; the exit status tells make check the result */

int
main(void)
{
	SRunner	*sr = srunner_create(policy_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
