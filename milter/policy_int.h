/*
 * policy_int.h - the inside of the policy engine, shared by its parser
 * (policy_parse.c), evaluator (policy_eval.c), rate counters (rates.c)
 * and the unit tests: expression nodes, fields, lists and rates.
 *
 * DIAGNOSTICS: none here.
 * BUGS: none known.
 */
#ifndef POLICY_INT_H
#define POLICY_INT_H

#include <netinet/in.h>

#include "policy.h"

/* Fields a condition can name; see field_table in policy_eval.c. */
enum pol_field {
	F_CLIENT_ADDR,
	F_CLIENT_NET,
	F_CLIENT_NAME,
	F_CLIENT_PTR,
	F_CLIENT_PORT,
	F_CLIENT_FAMILY,
	F_CLIENT_RESOLVED,
	F_MTA_NAME,
	F_HELO,
	F_HELO_IS_ADDRESS,
	F_HELO_IS_FQDN,
	F_HELO_IS_OURS,
	F_HELO_COUNT,
	F_TLS,
	F_TLS_VERSION,
	F_TLS_CIPHER,
	F_TLS_BITS,
	F_TLS_VERIFIED,
	F_TLS_SUBJECT,
	F_TLS_ISSUER,
	F_AUTH,
	F_AUTH_MECH,
	F_AUTH_USER,
	F_SENDER,
	F_SENDER_DOMAIN,
	F_SENDER_NULL,
	F_RCPT,
	F_RCPT_DOMAIN,
	F_TXN_RCPT_COUNT,
	F_SESSION_MSG_COUNT,
	F_SESSION_UNKNOWN_COUNT,
	F_HEADER_NAME,
	F_HEADER_VALUE,
	F_BODY_SIZE,
	F_UNKNOWN_COMMAND,
	F_MAX
};

enum pol_node_type {
	N_TRUE,
	N_FALSE,
	N_NUMBER,
	N_STRING,
	N_FIELD,
	N_PARAM,		/* param["SIZE"] of MAIL, rcpt.param[...] */
	N_RCPT_PARAM,
	N_HEADER,		/* header["From"] */
	N_LIST,			/* @name or { ... } */
	N_MAP,			/* name[expr] */
	N_NOT,
	N_AND,
	N_OR,
	N_CMP,			/* == != < <= > >= */
	N_IN,
	N_MATCH,		/* =~ */
	N_NOMATCH,		/* !~ */
	N_LIKE,
	N_RATE,			/* rate(key, window), rate_rcpt(...) */
	N_ADDR,			/* addr(expr): the address in a header */
	N_HAS_HEADER,		/* has_header("Name") */
	N_LEN			/* len(expr) */
};

enum pol_cmp {
	C_EQ,
	C_NE,
	C_LT,
	C_LE,
	C_GT,
	C_GE
};

struct pol_node {
	enum pol_node_type pn_type;
	int		 pn_op;		/* enum pol_cmp for N_CMP */
	struct pol_node	*pn_a;
	struct pol_node	*pn_b;
	double		 pn_num;
	char		*pn_str;
	enum pol_field	 pn_field;
	pcre2_code	*pn_re;
	struct pol_list	*pn_list;	/* N_LIST (not owned) */
	struct pol_map	*pn_map;	/* N_MAP (not owned) */
	struct pol_rate	*pn_rate;	/* N_RATE (not owned) */
};

/* List items: how one entry matches a value. */
enum pol_item_type {
	I_EXACT,		/* case-insensitive string */
	I_DOMAIN,		/* "@example.com": the address's domain */
	I_GLOB,			/* "*.example.com", case-insensitive */
	I_REGEX,		/* "/pattern/" */
	I_CIDR			/* "192.0.2.0/24", "2001:db8::/32", an address */
};

struct pol_item {
	enum pol_item_type pi_type;
	char		*pi_text;
	pcre2_code	*pi_re;
	int		 pi_family;	/* AF_INET6 for all CIDRs (mapped v4) */
	struct in6_addr	 pi_addr;
	int		 pi_prefix;	/* 0..128 */
};

struct pol_list {
	char		*pl_name;	/* NULL for an inline list */
	size_t		 pl_nitems;
	struct pol_item	*pl_items;
};

struct pol_map_entry {
	char		*pme_key;	/* lowercased */
	struct pol_list	*pme_list;
};

struct pol_map {
	char		*pm_name;
	size_t		 pm_nentries;
	struct pol_map_entry *pm_entries;	/* sorted by key */
};

enum pol_rate_key {
	RK_CLIENT_ADDR,
	RK_CLIENT_NET,		/* the /24 of IPv4, the /64 of IPv6 */
	RK_AUTH_USER,
	RK_SENDER
};

struct pol_rate {
	enum pol_rate_key pr_key;
	int64_t		 pr_window_us;
	int		 pr_recipients;	/* count recipients, not messages */
};

/* Parsed-out pieces a rule set owns besides its rules. */
struct pol_store {
	size_t		 ps_nlists;
	struct pol_list	**ps_lists;
	size_t		 ps_nmaps;
	struct pol_map	**ps_maps;
};

/* Evaluator helpers also used by the parser and the tests. */
int	pol_field_lookup(const char *name, enum pol_field *);
unsigned pol_field_stages(enum pol_field);	/* bit per enum pol_stage */
const char *pol_field_name(enum pol_field);
int	pol_parse_address(const char *text, struct in6_addr *out);
int	pol_cidr_match(const struct pol_item *, const struct in6_addr *);
int	pol_list_match(const struct pol_list *, const char *value);
void	pol_node_free(struct pol_node *);
void	pol_list_free(struct pol_list *);
void	pol_map_free(struct pol_map *);
struct pol_list *pol_map_find(const struct pol_map *, const char *key);

/* Rates (rates.c): counts over a sliding window, shared process-wide. */
uint64_t rates_count(const struct pol_rate *, const char *key, int64_t now_us);
void	rates_add(const struct pol_rate *, const char *key, int64_t now_us,
	    uint64_t n);
void	rates_reset(void);	/* tests only */
int	pol_rate_key_value(const struct pol_rate *, const struct pol_facts *,
	    char *buf, size_t bufsize);

#endif /* POLICY_INT_H */
