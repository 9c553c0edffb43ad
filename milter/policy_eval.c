/*
 * policy_eval.c - evaluating rules against the facts of a session:
 * fields, comparisons, lists (exact, domain, glob, regular expression,
 * CIDR), reply templates, and the life cycle of rule sets (reference
 * counts and the atomic swap on reload).
 *
 * Semantics, as smtpwarden.rules(5) states them: a field the stage does
 * not know, or the MTA did not provide, is "missing"; every comparison
 * with a missing value is false, so "not" of it is true.  String
 * equality ignores ASCII case.  Ordering compares numbers only.
 *
 * DIAGNOSTICS: none; evaluation cannot fail (a regular expression that
 * errors at match time counts as no match).
 * BUGS: none known.
 */

#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy_int.h"
#include "sw_util.h"

#define ALL_STAGES	((1u << PS_MAX) - 1)
#define FROM_HELO	(ALL_STAGES & ~(1u << PS_CONNECT))
#define IN_TXN		((1u << PS_MAIL) | (1u << PS_RCPT) | (1u << PS_DATA) | \
			    (1u << PS_HEADER) | (1u << PS_EOH) | \
			    (1u << PS_EOM) | (1u << PS_UNKNOWN))
#define AFTER_MAIL	(IN_TXN & ~(1u << PS_UNKNOWN))
#define AT(s)		(1u << (s))

static const struct {
	const char	*name;
	unsigned	 stages;
} field_table[F_MAX] = {
	[F_CLIENT_ADDR] = { "client.addr", ALL_STAGES },
	[F_CLIENT_NET] = { "client.net", ALL_STAGES },
	[F_CLIENT_NAME] = { "client.name", ALL_STAGES },
	[F_CLIENT_PTR] = { "client.ptr", ALL_STAGES },
	[F_CLIENT_PORT] = { "client.port", ALL_STAGES },
	[F_CLIENT_FAMILY] = { "client.family", ALL_STAGES },
	[F_CLIENT_RESOLVED] = { "client.resolved", ALL_STAGES },
	[F_MTA_NAME] = { "mta.name", ALL_STAGES },
	[F_HELO] = { "helo", FROM_HELO },
	[F_HELO_IS_ADDRESS] = { "helo.is_address", FROM_HELO },
	[F_HELO_IS_FQDN] = { "helo.is_fqdn", FROM_HELO },
	[F_HELO_IS_OURS] = { "helo.is_ours", FROM_HELO },
	[F_HELO_COUNT] = { "session.helo_count", ALL_STAGES },
	[F_TLS] = { "tls", FROM_HELO },
	[F_TLS_VERSION] = { "tls.version", FROM_HELO },
	[F_TLS_CIPHER] = { "tls.cipher", FROM_HELO },
	[F_TLS_BITS] = { "tls.bits", FROM_HELO },
	[F_TLS_VERIFIED] = { "tls.verified", FROM_HELO },
	[F_TLS_SUBJECT] = { "tls.subject", FROM_HELO },
	[F_TLS_ISSUER] = { "tls.issuer", FROM_HELO },
	[F_AUTH] = { "auth", AFTER_MAIL },
	[F_AUTH_MECH] = { "auth.mech", AFTER_MAIL },
	[F_AUTH_USER] = { "auth.user", AFTER_MAIL },
	[F_SENDER] = { "sender", IN_TXN },
	[F_SENDER_DOMAIN] = { "sender.domain", IN_TXN },
	[F_SENDER_NULL] = { "sender.null", IN_TXN },
	[F_RCPT] = { "rcpt", AT(PS_RCPT) },
	[F_RCPT_DOMAIN] = { "rcpt.domain", AT(PS_RCPT) },
	[F_TXN_RCPT_COUNT] = { "txn.rcpt_count", AFTER_MAIL },
	[F_SESSION_MSG_COUNT] = { "session.msg_count", ALL_STAGES },
	[F_SESSION_UNKNOWN_COUNT] = { "session.unknown_count", ALL_STAGES },
	[F_HEADER_NAME] = { "header.name", AT(PS_HEADER) },
	[F_HEADER_VALUE] = { "header.value", AT(PS_HEADER) },
	[F_BODY_SIZE] = { "body.size", AT(PS_EOM) },
	[F_UNKNOWN_COMMAND] = { "unknown.command", AT(PS_UNKNOWN) },
};

/* Value of an expression. */
enum val_type {
	V_MISSING,
	V_BOOL,
	V_NUM,
	V_STR
};

struct val {
	enum val_type	 t;
	double		 n;		/* V_BOOL (0/1) and V_NUM */
	const char	*s;		/* V_STR; may point into buf */
	char		 buf[512];
};

struct eval_ctx {
	const struct pol_ruleset *rs;
	const struct pol_facts *f;
	int64_t		 now_us;
};

static void	eval(const struct eval_ctx *, const struct pol_node *,
		    struct val *);

/* ---------------------------------------------------------------- */
/* Field names                                                      */
/* ---------------------------------------------------------------- */

int
pol_field_lookup(const char *name, enum pol_field *out)
{
	int	 i;

	for (i = 0; i < F_MAX; i++)
		if (strcmp(field_table[i].name, name) == 0) {
			*out = (enum pol_field)i;
			return 0;
		}
	return -1;
}

unsigned
pol_field_stages(enum pol_field f)
{
	return f < F_MAX ? field_table[f].stages : 0;
}

const char *
pol_field_name(enum pol_field f)
{
	return f < F_MAX ? field_table[f].name : "invalid";
}

/* policy_field_names - every field and function, for the manual check */

const char *const *
policy_field_names(void)
{
	static const char *names[F_MAX + 12];
	size_t	 i, n = 0;

	for (i = 0; i < F_MAX; i++)
		names[n++] = field_table[i].name;
	names[n++] = "header[";
	names[n++] = "param[";
	names[n++] = "rcpt.param[";
	names[n++] = "has_header(";
	names[n++] = "addr(";
	names[n++] = "len(";
	names[n++] = "rate(";
	names[n++] = "rate_rcpt(";
	names[n] = NULL;
	return names;
}

/* ---------------------------------------------------------------- */
/* Addresses and lists                                              */
/* ---------------------------------------------------------------- */

/*
 * pol_parse_address - an IPv4 or IPv6 address as IPv6 (IPv4 mapped).
 * Accepts the forms MTAs use: "[192.0.2.1]", "IPv6:2001:db8::1",
 * "[IPv6:2001:db8::1]".
 */
int
pol_parse_address(const char *text, struct in6_addr *out)
{
	char	 buf[INET6_ADDRSTRLEN + 16];
	struct in_addr v4;
	size_t	 len = strlen(text);
	const char *s = text;

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len >= 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		s += 5;
		len -= 5;
	}
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &v4) == 1) {
		memset(out, 0, sizeof *out);
		out->s6_addr[10] = 0xff;
		out->s6_addr[11] = 0xff;
		memcpy(&out->s6_addr[12], &v4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

/* pol_cidr_match - is addr inside the item's network? */

int
pol_cidr_match(const struct pol_item *it, const struct in6_addr *addr)
{
	int	 full = it->pi_prefix / 8, rest = it->pi_prefix % 8;

	if (memcmp(it->pi_addr.s6_addr, addr->s6_addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((it->pi_addr.s6_addr[full] ^ addr->s6_addr[full]) &
	    (0xff << (8 - rest))) == 0;
}

/* domain_of - the part after the last "@", or NULL */

static const char *
domain_of(const char *s)
{
	const char *at = strrchr(s, '@');

	return at != NULL && at[1] != '\0' ? at + 1 : NULL;
}

/*
 * One match block per thread, made on first use and freed when the
 * thread ends: libmilter runs a thread per milter connection, so a
 * block kept in a plain thread-local would leak with each of them.
 */
static pthread_key_t match_key;
static pthread_once_t match_once = PTHREAD_ONCE_INIT;

static void
match_free(void *md)
{
	pcre2_match_data_free(md);
}

static void
match_key_make(void)
{
	(void)pthread_key_create(&match_key, match_free);
}

/* regex_match - does the compiled pattern match s? */

static int
regex_match(const pcre2_code *re, const char *s)
{
	pcre2_match_data *md;

	(void)pthread_once(&match_once, match_key_make);
	if ((md = pthread_getspecific(match_key)) == NULL) {
		if ((md = pcre2_match_data_create(1, NULL)) == NULL)
			return 0;
		(void)pthread_setspecific(match_key, md);
	}
	return pcre2_match(re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, md,
	    NULL) >= 0;
}

/*
 * item_match - does one list entry match value?  *addr_state caches the
 * value parsed as an address: 0 not tried, 1 parsed, -1 not an address.
 */
static int
item_match(const struct pol_item *it, const char *value,
    struct in6_addr *addr, int *addr_state)
{
	const char *dom;

	switch (it->pi_type) {
	case I_EXACT:
		return strcasecmp(it->pi_text, value) == 0;
	case I_DOMAIN:
		dom = domain_of(value);
		return strcasecmp(it->pi_text + 1, dom ? dom : value) == 0;
	case I_GLOB:
		return fnmatch(it->pi_text, value, FNM_CASEFOLD) == 0;
	case I_REGEX:
		return regex_match(it->pi_re, value);
	case I_CIDR:
		if (*addr_state == 0)
			*addr_state = pol_parse_address(value, addr) == 0 ?
			    1 : -1;
		return *addr_state > 0 && pol_cidr_match(it, addr);
	}
	return 0;
}

/* pol_list_match - does any entry match? */

int
pol_list_match(const struct pol_list *l, const char *value)
{
	struct in6_addr addr;
	int	 addr_state = 0;
	size_t	 i;

	for (i = 0; i < l->pl_nitems; i++)
		if (item_match(&l->pl_items[i], value, &addr, &addr_state))
			return 1;
	return 0;
}

static int
map_key_cmp(const void *key, const void *entry)
{
	return strcmp(key, ((const struct pol_map_entry *)entry)->pme_key);
}

/* pol_map_find - the list stored under key (ASCII case ignored) */

struct pol_list *
pol_map_find(const struct pol_map *m, const char *key)
{
	char	 lower[512];
	size_t	 i;
	const struct pol_map_entry *e;

	for (i = 0; key[i] != '\0' && i + 1 < sizeof lower; i++)
		lower[i] = (char)tolower((unsigned char)key[i]);
	lower[i] = '\0';
	if (m->pm_nentries == 0)
		return NULL;
	e = bsearch(lower, m->pm_entries, m->pm_nentries, sizeof *e,
	    map_key_cmp);
	return e != NULL ? e->pme_list : NULL;
}

/* ---------------------------------------------------------------- */
/* Fields                                                           */
/* ---------------------------------------------------------------- */

static void
set_str(struct val *v, const char *s)
{
	if (s == NULL) {
		v->t = V_MISSING;
	} else {
		v->t = V_STR;
		v->s = s;
	}
}

static void
set_num(struct val *v, double n)
{
	v->t = V_NUM;
	v->n = n;
}

static void
set_bool(struct val *v, int b)
{
	v->t = V_BOOL;
	v->n = b != 0;
}

/* client_net - "192.0.2.0/24" or "2001:db8:1:2::/64" of the client */

static const char *
client_net(const char *addr, char *buf, size_t bufsize)
{
	struct in6_addr a;
	char	 text[INET6_ADDRSTRLEN];

	if (addr == NULL || pol_parse_address(addr, &a) < 0)
		return NULL;
	if (IN6_IS_ADDR_V4MAPPED(&a)) {
		a.s6_addr[15] = 0;
		inet_ntop(AF_INET, &a.s6_addr[12], text, sizeof text);
		snprintf(buf, bufsize, "%s/24", text);
	} else {
		memset(&a.s6_addr[8], 0, 8);
		inet_ntop(AF_INET6, &a, text, sizeof text);
		snprintf(buf, bufsize, "%s/64", text);
	}
	return buf;
}

/* helo_is_address - "[192.0.2.1]", "[IPv6:...]" or a bare address */

static int
helo_is_address(const char *helo)
{
	struct in6_addr a;

	return helo != NULL && (helo[0] == '[' ||
	    pol_parse_address(helo, &a) == 0);
}

/* helo_is_fqdn - a dotted name of letters, digits and hyphens */

static int
helo_is_fqdn(const char *helo)
{
	const char *c;
	int	 dots = 0, label = 0;

	if (helo == NULL || helo_is_address(helo))
		return 0;
	for (c = helo; *c; c++) {
		if (*c == '.') {
			if (label == 0)
				return 0;
			dots++;
			label = 0;
		} else if (isalnum((unsigned char)*c) || *c == '-' ||
		    *c == '_') {
			label++;
		} else
			return 0;
	}
	/* A trailing dot is allowed; the last label must not be empty. */
	return dots > 0 && (label > 0 || c[-1] == '.');
}

/* helo_is_ours - one of our names: list our_names, or the MTA's name */

static int
helo_is_ours(const struct eval_ctx *cx, const char *helo)
{
	const struct pol_store *st = cx->rs->rs_store;
	const char *ours = cx->f->pf_conn->cf_mta_name;
	size_t	 i;

	if (helo == NULL)
		return 0;
	for (i = 0; i < st->ps_nlists; i++)
		if (st->ps_lists[i]->pl_name != NULL &&
		    strcmp(st->ps_lists[i]->pl_name, "our_names") == 0)
			return pol_list_match(st->ps_lists[i], helo);
	return ours != NULL && strcasecmp(helo, ours) == 0;
}

/* eval_field - the value of one named field */

static void
eval_field(const struct eval_ctx *cx, enum pol_field f, struct val *v)
{
	const struct conn_facts *c = cx->f->pf_conn;
	const struct txn_facts *t = cx->f->pf_txn;

	v->t = V_MISSING;
	switch (f) {
	case F_CLIENT_ADDR:
		set_str(v, c->cf_addr);
		break;
	case F_CLIENT_NET:
		set_str(v, client_net(c->cf_addr, v->buf, sizeof v->buf));
		break;
	case F_CLIENT_NAME:
		set_str(v, c->cf_name);
		break;
	case F_CLIENT_PTR:
		set_str(v, c->cf_ptr);
		break;
	case F_CLIENT_PORT:
		if (c->cf_port >= 0)
			set_num(v, c->cf_port);
		break;
	case F_CLIENT_FAMILY:
		set_str(v, c->cf_family);
		break;
	case F_CLIENT_RESOLVED:
		set_bool(v, c->cf_name != NULL && *c->cf_name != '\0' &&
		    strcmp(c->cf_name, "unknown") != 0 &&
		    c->cf_name[0] != '[');
		break;
	case F_MTA_NAME:
		set_str(v, c->cf_mta_name);
		break;
	case F_HELO:
		set_str(v, c->cf_helo);
		break;
	case F_HELO_IS_ADDRESS:
		if (c->cf_helo != NULL)
			set_bool(v, helo_is_address(c->cf_helo));
		break;
	case F_HELO_IS_FQDN:
		if (c->cf_helo != NULL)
			set_bool(v, helo_is_fqdn(c->cf_helo));
		break;
	case F_HELO_IS_OURS:
		if (c->cf_helo != NULL)
			set_bool(v, helo_is_ours(cx, c->cf_helo));
		break;
	case F_HELO_COUNT:
		set_num(v, c->cf_helo_count);
		break;
	case F_TLS:
		set_bool(v, c->cf_tls_version != NULL);
		break;
	case F_TLS_VERSION:
		set_str(v, c->cf_tls_version);
		break;
	case F_TLS_CIPHER:
		set_str(v, c->cf_tls_cipher);
		break;
	case F_TLS_BITS:
		if (c->cf_tls_version != NULL)
			set_num(v, c->cf_tls_bits);
		break;
	case F_TLS_VERIFIED:
		set_bool(v, c->cf_tls_verify != NULL &&
		    strcmp(c->cf_tls_verify, "OK") == 0);
		break;
	case F_TLS_SUBJECT:
		set_str(v, c->cf_tls_subject);
		break;
	case F_TLS_ISSUER:
		set_str(v, c->cf_tls_issuer);
		break;
	case F_AUTH:
		set_bool(v, c->cf_auth_mech != NULL);
		break;
	case F_AUTH_MECH:
		set_str(v, c->cf_auth_mech);
		break;
	case F_AUTH_USER:
		set_str(v, c->cf_auth_user);
		break;
	case F_SENDER:
		set_str(v, t->tf_sender);
		break;
	case F_SENDER_DOMAIN:
		/* The null sender has no domain (case C03). */
		if (t->tf_sender != NULL)
			set_str(v, domain_of(t->tf_sender));
		break;
	case F_SENDER_NULL:
		if (t->tf_sender != NULL)
			set_bool(v, t->tf_null_sender);
		break;
	case F_RCPT:
		set_str(v, t->tf_rcpt);
		break;
	case F_RCPT_DOMAIN:
		if (t->tf_rcpt != NULL)
			set_str(v, domain_of(t->tf_rcpt));
		break;
	case F_TXN_RCPT_COUNT:
		if (t->tf_sender != NULL)
			set_num(v, t->tf_rcpt_count);
		break;
	case F_SESSION_MSG_COUNT:
		set_num(v, c->cf_msg_count);
		break;
	case F_SESSION_UNKNOWN_COUNT:
		set_num(v, c->cf_unknown_count);
		break;
	case F_HEADER_NAME:
		set_str(v, t->tf_header_name);
		break;
	case F_HEADER_VALUE:
		set_str(v, t->tf_header_value);
		break;
	case F_BODY_SIZE:
		set_num(v, (double)t->tf_body_size);
		break;
	case F_UNKNOWN_COMMAND:
		set_str(v, c->cf_unknown_command);
		break;
	case F_MAX:
		break;
	}
}

/* ---------------------------------------------------------------- */
/* Expressions                                                      */
/* ---------------------------------------------------------------- */

/* truth - a value used as a condition */

static int
truth(const struct val *v)
{
	switch (v->t) {
	case V_BOOL:
	case V_NUM:
		return v->n != 0;
	case V_STR:
		return v->s[0] != '\0';
	default:
		return 0;
	}
}

/* as_number - a number, or a string that holds one */

static int
as_number(const struct val *v, double *out)
{
	char	*end;

	if (v->t == V_NUM || v->t == V_BOOL) {
		*out = v->n;
		return 0;
	}
	if (v->t == V_STR && v->s[0] != '\0') {
		*out = strtod(v->s, &end);
		return *end == '\0' ? 0 : -1;
	}
	return -1;
}

/* as_string - a value as text (numbers formatted into buf) */

static const char *
as_string(struct val *v)
{
	switch (v->t) {
	case V_STR:
		return v->s;
	case V_NUM:
		snprintf(v->buf, sizeof v->buf, "%.15g", v->n);
		return v->buf;
	case V_BOOL:
		return v->n ? "true" : "false";
	default:
		return NULL;
	}
}

/* compare - == != < <= > >= */

static int
compare(struct val *a, struct val *b, int op)
{
	double	 x, y;
	int	 numeric;

	if (a->t == V_MISSING || b->t == V_MISSING)
		return 0;
	numeric = (a->t == V_NUM || b->t == V_NUM || a->t == V_BOOL ||
	    b->t == V_BOOL) && as_number(a, &x) == 0 &&
	    as_number(b, &y) == 0;
	if (!numeric) {
		const char *s = as_string(a), *t = as_string(b);
		int	 eq = strcasecmp(s, t) == 0;

		if (op == C_EQ)
			return eq;
		if (op == C_NE)
			return !eq;
		return 0;	/* ordering compares numbers only */
	}
	switch (op) {
	case C_EQ:
		return x == y;
	case C_NE:
		return x != y;
	case C_LT:
		return x < y;
	case C_LE:
		return x <= y;
	case C_GT:
		return x > y;
	case C_GE:
		return x >= y;
	}
	return 0;
}

/* find_header - first header of this name (ASCII case ignored) */

static const char *
find_header(const struct txn_facts *t, const char *name)
{
	size_t	 i;

	for (i = 0; i < t->tf_nheaders; i++)
		if (strcasecmp(t->tf_headers[i].fh_name, name) == 0)
			return t->tf_headers[i].fh_value;
	return NULL;
}

/* find_param - an ESMTP parameter: its value, or true if it has none */

static void
find_param(const struct fact_param *p, size_t n, const char *key,
    struct val *v)
{
	size_t	 i;

	v->t = V_MISSING;
	for (i = 0; i < n; i++)
		if (strcasecmp(p[i].fp_key, key) == 0) {
			if (p[i].fp_value != NULL)
				set_str(v, p[i].fp_value);
			else
				set_bool(v, 1);
			return;
		}
}

/* extract_addr - the address in "Name <a@b>" or a bare address */

static const char *
extract_addr(const char *s, char *buf, size_t bufsize)
{
	const char *lt = strrchr(s, '<'), *gt;
	size_t	 len;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL) {
		s = lt + 1;
		len = gt - s;
	} else {
		while (*s == ' ' || *s == '\t')
			s++;
		len = strlen(s);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
	}
	if (len >= bufsize)
		len = bufsize - 1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return buf;
}

/* pol_rate_key_value - the key a rate counts under, for these facts */

int
pol_rate_key_value(const struct pol_rate *r, const struct pol_facts *f,
    char *buf, size_t bufsize)
{
	const char *k = NULL;

	switch (r->pr_key) {
	case RK_CLIENT_ADDR:
		k = f->pf_conn->cf_addr;
		break;
	case RK_CLIENT_NET:
		k = client_net(f->pf_conn->cf_addr, buf, bufsize);
		break;
	case RK_AUTH_USER:
		k = f->pf_conn->cf_auth_user;
		break;
	case RK_SENDER:
		k = f->pf_txn->tf_sender;
		break;
	}
	if (k == NULL)
		return -1;
	if (k != buf)
		snprintf(buf, bufsize, "%s", k);
	return 0;
}

/* eval - the value of an expression node */

static void
eval(const struct eval_ctx *cx, const struct pol_node *n, struct val *v)
{
	struct val a, b;
	const char *s;

	v->t = V_MISSING;
	switch (n->pn_type) {
	case N_TRUE:
	case N_FALSE:
		set_bool(v, n->pn_type == N_TRUE);
		break;
	case N_NUMBER:
		set_num(v, n->pn_num);
		break;
	case N_STRING:
		set_str(v, n->pn_str);
		break;
	case N_FIELD:
		eval_field(cx, n->pn_field, v);
		break;
	case N_PARAM:
		find_param(cx->f->pf_txn->tf_params,
		    cx->f->pf_txn->tf_nparams, n->pn_str, v);
		break;
	case N_RCPT_PARAM:
		find_param(cx->f->pf_txn->tf_rcpt_params,
		    cx->f->pf_txn->tf_rcpt_nparams, n->pn_str, v);
		break;
	case N_HEADER:
		set_str(v, find_header(cx->f->pf_txn, n->pn_str));
		break;
	case N_HAS_HEADER:
		set_bool(v, find_header(cx->f->pf_txn, n->pn_str) != NULL);
		break;
	case N_NOT:
		eval(cx, n->pn_a, &a);
		set_bool(v, !truth(&a));
		break;
	case N_AND:
		eval(cx, n->pn_a, &a);
		if (!truth(&a)) {
			set_bool(v, 0);
			break;
		}
		eval(cx, n->pn_b, &b);
		set_bool(v, truth(&b));
		break;
	case N_OR:
		eval(cx, n->pn_a, &a);
		if (truth(&a)) {
			set_bool(v, 1);
			break;
		}
		eval(cx, n->pn_b, &b);
		set_bool(v, truth(&b));
		break;
	case N_CMP:
		eval(cx, n->pn_a, &a);
		eval(cx, n->pn_b, &b);
		set_bool(v, compare(&a, &b, n->pn_op));
		break;
	case N_IN: {
		const struct pol_list *l = n->pn_b->pn_list;

		eval(cx, n->pn_a, &a);
		if ((s = as_string(&a)) == NULL) {
			set_bool(v, 0);
			break;
		}
		if (n->pn_b->pn_type == N_MAP) {
			eval(cx, n->pn_b->pn_a, &b);
			l = as_string(&b) ? pol_map_find(n->pn_b->pn_map,
			    as_string(&b)) : NULL;
		}
		set_bool(v, l != NULL && pol_list_match(l, s));
		break;
	}
	case N_MATCH:
	case N_NOMATCH:
		eval(cx, n->pn_a, &a);
		if ((s = as_string(&a)) == NULL) {
			set_bool(v, 0);
			break;
		}
		set_bool(v, regex_match(n->pn_re, s) ==
		    (n->pn_type == N_MATCH));
		break;
	case N_LIKE:
		eval(cx, n->pn_a, &a);
		s = as_string(&a);
		set_bool(v, s != NULL && fnmatch(n->pn_b->pn_str, s,
		    FNM_CASEFOLD) == 0);
		break;
	case N_ADDR:
		eval(cx, n->pn_a, &a);
		if ((s = as_string(&a)) != NULL)
			set_str(v, extract_addr(s, v->buf, sizeof v->buf));
		break;
	case N_LEN:
		eval(cx, n->pn_a, &a);
		if ((s = as_string(&a)) != NULL)
			set_num(v, (double)strlen(s));
		break;
	case N_RATE: {
		char	 key[512];

		if (pol_rate_key_value(n->pn_rate, cx->f, key,
		    sizeof key) == 0)
			set_num(v, (double)rates_count(n->pn_rate, key,
			    cx->now_us));
		break;
	}
	case N_LIST:
	case N_MAP:
		/* Only meaningful on the right of "in". */
		break;
	}
}

/* ---------------------------------------------------------------- */
/* Templates and verdicts                                           */
/* ---------------------------------------------------------------- */

/* policy_expand - fill %{field} from the facts, bounded and sanitised */

void
policy_expand(const char *tmpl, const struct pol_facts *f, char *out,
    size_t outsize)
{
	struct eval_ctx cx = { NULL, f, 0 };
	size_t	 o = 0;
	const char *c;

	if (outsize == 0)
		return;
	for (c = tmpl; *c != '\0' && o + 1 < outsize; c++) {
		const char *end;
		char	 name[64];
		enum pol_field fid;
		struct val v;
		const char *s;
		size_t	 i, len;

		if (c[0] == '%' && c[1] == '%') {
			out[o++] = '%';
			c++;
			continue;
		}
		if (!(c[0] == '%' && c[1] == '{') ||
		    (end = strchr(c + 2, '}')) == NULL ||
		    (size_t)(end - c - 2) >= sizeof name) {
			out[o++] = *c;
			continue;
		}
		memcpy(name, c + 2, end - c - 2);
		name[end - c - 2] = '\0';
		c = end;
		if (pol_field_lookup(name, &fid) < 0)
			continue;
		/* helo.is_ours needs the rule set; fields here do not. */
		if (fid == F_HELO_IS_OURS)
			continue;
		eval_field(&cx, fid, &v);
		if ((s = as_string(&v)) == NULL)
			s = "";
		/*
		 * Client data goes into an SMTP reply: no control bytes (a
		 * CRLF would end the reply), nothing outside ASCII, and at
		 * most 200 bytes of it.  It is copied, never used as a format.
		 */
		len = strlen(s);
		for (i = 0; i < len && i < 200 && o + 1 < outsize; i++) {
			unsigned char ch = (unsigned char)s[i];

			out[o++] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
		}
	}
	out[o] = '\0';
}

static int
is_terminal(enum pol_action a)
{
	return a == PA_CONTINUE || a == PA_ACCEPT || a == PA_REJECT ||
	    a == PA_TEMPFAIL || a == PA_DISCARD;
}

/* policy_evaluate - the rules of a stage, in order, first terminal wins */

size_t
policy_evaluate(const struct pol_ruleset *rs, enum pol_stage stage,
    const struct pol_facts *f, struct pol_verdict *vd)
{
	struct eval_ctx cx = { rs, f, sw_mono_us() };
	size_t	 i, first, count;

	vd->pv_action = PA_NONE;
	vd->pv_rule = NULL;
	vd->pv_reply[0] = '\0';
	vd->pv_nhits = 0;
	if (rs == NULL || stage >= PS_MAX)
		return 0;
	first = rs->rs_stage_first[stage];
	count = rs->rs_stage_count[stage];
	for (i = first; i < first + count; i++) {
		struct pol_rule *r = &rs->rs_rules[i];
		struct pol_hit *h;
		struct val v;

		eval(&cx, r->pr_cond, &v);
		if (!truth(&v))
			continue;
		__atomic_add_fetch(&r->pr_hits, 1, __ATOMIC_RELAXED);
		/*
		 * The last slot is kept for the terminal hit: however many
		 * tags came first, the decision is taken and recorded.
		 */
		if (vd->pv_nhits >= POL_MAX_HITS - 1 && (r->pr_shadow ||
		    !is_terminal(r->pr_action.pa_type)))
			continue;
		h = &vd->pv_hits[vd->pv_nhits++];
		h->ph_rule = r;
		h->ph_mode = r->pr_shadow ? PM_SHADOW :
		    rs->rs_monitor ? PM_MONITOR : PM_ENFORCED;
		h->ph_reply[0] = '\0';
		if (r->pr_action.pa_text != NULL)
			policy_expand(r->pr_action.pa_text, f, h->ph_reply,
			    sizeof h->ph_reply);
		if (h->ph_mode == PM_SHADOW || !is_terminal(r->pr_action.pa_type))
			continue;
		if (h->ph_mode == PM_ENFORCED) {
			vd->pv_action = r->pr_action.pa_type;
			vd->pv_rule = r;
			memcpy(vd->pv_reply, h->ph_reply, sizeof vd->pv_reply);
		}
		break;
	}
	return vd->pv_nhits;
}

/* policy_stage_may_reply - could this stage answer other than continue? */

int
policy_stage_may_reply(const struct pol_ruleset *rs, enum pol_stage stage)
{
	size_t	 i, first, count;

	if (rs == NULL || rs->rs_monitor || stage >= PS_MAX)
		return 0;
	/* Refusals at headers and end of headers are given at EOM. */
	if (stage == PS_HEADER || stage == PS_EOH)
		return 0;
	first = rs->rs_stage_first[stage];
	count = rs->rs_stage_count[stage];
	for (i = first; i < first + count; i++) {
		enum pol_action a = rs->rs_rules[i].pr_action.pa_type;

		if (!rs->rs_rules[i].pr_shadow &&
		    (a == PA_REJECT || a == PA_TEMPFAIL))
			return 1;
	}
	return 0;
}

/* policy_count_message - an accepted message counts in every rate */

void
policy_count_message(const struct pol_ruleset *rs,
    const struct pol_facts *f, uint32_t accepted_rcpts)
{
	int64_t	 now = sw_mono_us();
	size_t	 i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->rs_nrates; i++) {
		const struct pol_rate *r = rs->rs_rates[i];
		char	 key[512];

		if (pol_rate_key_value(r, f, key, sizeof key) == 0)
			rates_add(r, key, now, r->pr_recipients ?
			    accepted_rcpts : 1);
	}
}

const char *
policy_action_name(enum pol_action a)
{
	static const char *const names[] = {
		[PA_NONE] = "none", [PA_CONTINUE] = "continue",
		[PA_ACCEPT] = "accept", [PA_REJECT] = "reject",
		[PA_TEMPFAIL] = "tempfail", [PA_DISCARD] = "discard",
		[PA_QUARANTINE] = "quarantine",
		[PA_ADD_HEADER] = "add-header", [PA_TAG] = "tag",
	};

	return a <= PA_TAG ? names[a] : "invalid";
}

const char *
policy_mode_name(enum pol_mode m)
{
	return m == PM_ENFORCED ? "enforced" : m == PM_MONITOR ? "monitor" :
	    "shadow";
}

/* ---------------------------------------------------------------- */
/* Rule set life cycle                                              */
/* ---------------------------------------------------------------- */

static pthread_mutex_t policy_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pol_ruleset *policy_active;

void
pol_node_free(struct pol_node *n)
{
	if (n == NULL)
		return;
	pol_node_free(n->pn_a);
	pol_node_free(n->pn_b);
	free(n->pn_str);
	if (n->pn_re != NULL)
		pcre2_code_free(n->pn_re);
	free(n);
}

void
pol_list_free(struct pol_list *l)
{
	size_t	 i;

	if (l == NULL)
		return;
	for (i = 0; i < l->pl_nitems; i++) {
		free(l->pl_items[i].pi_text);
		if (l->pl_items[i].pi_re != NULL)
			pcre2_code_free(l->pl_items[i].pi_re);
	}
	free(l->pl_items);
	free(l->pl_name);
	free(l);
}

void
pol_map_free(struct pol_map *m)
{
	size_t	 i;

	if (m == NULL)
		return;
	for (i = 0; i < m->pm_nentries; i++) {
		free(m->pm_entries[i].pme_key);
		pol_list_free(m->pm_entries[i].pme_list);
	}
	free(m->pm_entries);
	free(m->pm_name);
	free(m);
}

/* ruleset_free - everything a rule set owns */

static void
ruleset_free(struct pol_ruleset *rs)
{
	size_t	 i;

	for (i = 0; i < rs->rs_nrules; i++) {
		free(rs->rs_rules[i].pr_name);
		pol_node_free(rs->rs_rules[i].pr_cond);
		free(rs->rs_rules[i].pr_action.pa_text);
		free(rs->rs_rules[i].pr_action.pa_name);
	}
	free(rs->rs_rules);
	for (i = 0; i < rs->rs_nrates; i++)
		free(rs->rs_rates[i]);
	free(rs->rs_rates);
	if (rs->rs_store != NULL) {
		for (i = 0; i < rs->rs_store->ps_nlists; i++)
			pol_list_free(rs->rs_store->ps_lists[i]);
		free(rs->rs_store->ps_lists);
		for (i = 0; i < rs->rs_store->ps_nmaps; i++)
			pol_map_free(rs->rs_store->ps_maps[i]);
		free(rs->rs_store->ps_maps);
		free(rs->rs_store);
	}
	free(rs->rs_file);
	free(rs);
}

/* policy_release - drop a reference; the last one frees the set */

void
policy_release(struct pol_ruleset *rs)
{
	int	 last;

	if (rs == NULL)
		return;
	pthread_mutex_lock(&policy_lock);
	last = --rs->rs_refs == 0;
	pthread_mutex_unlock(&policy_lock);
	if (last)
		ruleset_free(rs);
}

/* policy_current - the active rule set, with a reference for the caller */

struct pol_ruleset *
policy_current(void)
{
	struct pol_ruleset *rs;

	pthread_mutex_lock(&policy_lock);
	if ((rs = policy_active) != NULL)
		rs->rs_refs++;
	pthread_mutex_unlock(&policy_lock);
	return rs;
}

/* policy_install - make rs active (its reference moves to us) */

void
policy_install(struct pol_ruleset *rs)
{
	struct pol_ruleset *old;

	pthread_mutex_lock(&policy_lock);
	old = policy_active;
	policy_active = rs;
	pthread_mutex_unlock(&policy_lock);
	policy_release(old);
}
