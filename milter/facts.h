/*
 * facts.h - what the policy rules may look at: the facts of a session
 * and of its current transaction, kept as the callbacks record them.
 *
 * Macro values and callback arguments live only for one callback, so
 * every fact is a private copy.  Header values are kept only when the
 * loaded rules look at headers, and then bounded by max_header_bytes
 * each and FACTS_MAX_HEADERS in all.
 *
 * DIAGNOSTICS: setters return -1 when memory runs out; the fact then
 * reads as missing.
 * BUGS: none known.
 */
#ifndef FACTS_H
#define FACTS_H

#include <stddef.h>
#include <stdint.h>

#define FACTS_MAX_HEADERS	1000	/* kept for rules; all are recorded */
#define FACTS_MAX_PARAMS	64

struct fact_param {
	char	*fp_key;
	char	*fp_value;		/* NULL: keyword without "=" */
};

struct fact_header {
	char	*fh_name;
	char	*fh_value;		/* unfolded, leading space removed */
};

/* Facts of the connection: they survive RSET and abort. */
struct conn_facts {
	char	*cf_addr;		/* NULL when unknown */
	char	*cf_family;
	char	*cf_name;		/* {client_name}, "unknown" if none */
	char	*cf_ptr;
	char	*cf_host;		/* libmilter's host argument */
	long	 cf_port;
	char	*cf_mta_name;		/* j */
	char	*cf_helo;
	char	*cf_tls_version;
	char	*cf_tls_cipher;
	long	 cf_tls_bits;
	char	*cf_tls_verify;
	char	*cf_tls_subject;
	char	*cf_tls_issuer;
	char	*cf_auth_mech;
	char	*cf_auth_user;
	char	*cf_unknown_command;	/* the latest one */
	uint32_t cf_helo_count;
	uint32_t cf_msg_count;		/* messages that reached EOM */
	uint32_t cf_unknown_count;
};

/* Facts of the transaction: reset at MAIL, end of message and abort. */
struct txn_facts {
	char	*tf_sender;		/* address without <>; "" for <> */
	int	 tf_null_sender;
	size_t	 tf_nparams;
	struct fact_param tf_params[FACTS_MAX_PARAMS];	/* of MAIL */
	char	*tf_rcpt;		/* the recipient being decided */
	size_t	 tf_rcpt_nparams;
	struct fact_param tf_rcpt_params[FACTS_MAX_PARAMS];
	uint32_t tf_rcpt_count;		/* recipients accepted so far */
	size_t	 tf_nheaders;
	struct fact_header *tf_headers;
	const char *tf_header_name;	/* the header being decided */
	const char *tf_header_value;
	uint64_t tf_body_size;
};

int	facts_set(char **slot, const char *value);
void	facts_conn_clear(struct conn_facts *);
void	facts_txn_clear(struct txn_facts *);
int	facts_params_set(struct fact_param *, size_t *n, char **argv);
int	facts_header_add(struct txn_facts *, const char *name,
	    const char *value, size_t maxlen);

#endif /* FACTS_H */
