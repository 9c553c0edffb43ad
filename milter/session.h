/*
 * session.h - connection and transaction state of one SMTP session as
 * the milter sees it, and the transcript records made from it.
 *
 * A session lives from connect to close.  A transaction lives from MAIL
 * to end of message or abort; a session may hold many, one at a time.
 * An abort with no open transaction changes nothing.  One milter
 * connection may carry several sessions (QUIT_NC): state that belongs to
 * the milter connection is not kept here.
 *
 * DIAGNOSTICS: functions that can run out of memory return -1.
 * BUGS: none known.
 */
#ifndef SESSION_H
#define SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "facts.h"
#include "policy.h"
#include "sw_record.h"

#define SESSION_MAX_CHANGES	16	/* header adds and quarantine, per message */

/* A change decided before end of message and applied there. */
struct eom_change {
	enum pol_action	 ec_type;	/* PA_ADD_HEADER or PA_QUARANTINE */
	char		*ec_name;	/* header name */
	char		*ec_value;	/* header value or quarantine reason */
	char		*ec_rule;
};

struct txn {
	uint32_t	 t_no;		/* 1, 2, ... within the session */
	int		 t_open;
	int		 t_last_stage;	/* enum sw_stage */
	uint32_t	 t_nrcpt;
	uint32_t	 t_nheaders;
	EVP_MD_CTX	*t_body_sha;
	uint64_t	 t_body_size;
	uint32_t	 t_body_chunks;
};

struct session {
	uint64_t	 s_id;
	uint32_t	 s_seq;		/* last sequence number used */
	int64_t		 s_start_us;
	int64_t		 s_start_mono;
	int		 s_last_stage;
	uint32_t	 s_ntxn;
	uint32_t	 s_nmsg;	/* transactions that reached EOM */
	uint32_t	 s_nrcpt;
	uint32_t	 s_nunknown;
	uint32_t	 s_nhelo;
	int		 s_lost_in_data; /* an abort came after DATA */
	char		*s_tls_key;	/* TLS macros last recorded */
	char		*s_auth_key;	/* AUTH macros last recorded */
	struct txn	 s_txn;
	struct sw_record s_rec;		/* scratch, reused per event */
	int		 s_pending;	/* s_rec waits for its decision */
	/* What rules may look at, and the rules this session started with. */
	struct conn_facts s_conn;
	struct txn_facts s_tf;
	struct pol_ruleset *s_rules;
	int		 s_session_accepted;	/* "accept" before MAIL */
	int		 s_txn_accepted;	/* "accept" in this transaction */
	int		 s_txn_discard;
	/* A refusal decided at a header or end of headers, given at EOM. */
	const struct pol_rule *s_deferred_rule;
	char		 s_deferred_reply[POL_REPLY_MAX];
	int		 s_rcpt_mta_rejected;	/* the RCPT being decided */
	unsigned long	 s_nr;		/* SMFIP_NR_* of the milter link */
	size_t		 s_nchanges;
	struct eom_change s_changes[SESSION_MAX_CHANGES];
};

/* The process-wide instance id, made at start-up. */
extern uint64_t	session_instance;
extern long	session_max_header_bytes;

struct session *session_new(void);
void	session_free(struct session *);

/* Start a record of this stage for the current transaction. */
struct sw_record *session_record(struct session *, int stage);
/* Encode and queue the record; -1 if it was lost. */
int	session_emit(struct session *);

/* Transactions. */
int	session_txn_begin(struct session *);
void	session_txn_end(struct session *);

#endif /* SESSION_H */
