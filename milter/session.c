/*
 * session.c - life cycle of session and transaction state, and the one
 * place where records are numbered, encoded and handed to the shipper.
 *
 * DIAGNOSTICS: allocation failures return NULL or -1 to the callback,
 * which then answers "continue" and logs the loss.
 * BUGS: none known.
 */

#include "config.h"
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "session.h"
#include "shipper.h"
#include "sw_log.h"
#include "sw_util.h"

/* Unused room a queued record may keep (bytes); above it, shrink. */
#define SESSION_RECORD_SLACK	256

uint64_t	session_instance;
long		session_max_header_bytes = 65536;

/* session_new - a fresh session with a new random id */

struct session *
session_new(void)
{
	struct session *s;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->s_id = sw_random_id();
	s->s_start_us = sw_now_us();
	s->s_start_mono = sw_mono_us();
	s->s_conn.cf_port = -1;
	sw_record_init(&s->s_rec);
	/* The rule set in force now stays with the session to its end. */
	s->s_rules = policy_current();
	return s;
}

/* session_free - release everything, open transaction included */

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	session_txn_end(s);
	free(s->s_tls_key);
	free(s->s_auth_key);
	sw_record_free(&s->s_rec);
	facts_conn_clear(&s->s_conn);
	policy_release(s->s_rules);
	free(s);
}

/* session_record - the scratch record, headed for this stage */

struct sw_record *
session_record(struct session *s, int stage)
{
	struct sw_record *r = &s->s_rec;

	sw_record_clear(r);
	r->r_instance = session_instance;
	r->r_session = s->s_id;
	r->r_seq = ++s->s_seq;
	r->r_time_us = sw_now_us();
	r->r_stage = stage;
	r->r_txn = s->s_txn.t_open ? s->s_txn.t_no : 0;
	s->s_last_stage = stage;
	if (s->s_txn.t_open)
		s->s_txn.t_last_stage = stage;
	s->s_pending = 1;
	return r;
}

/* session_emit - encode the scratch record and queue it */

int
session_emit(struct session *s)
{
	msgpack_sbuffer sb;

	s->s_pending = 0;
	msgpack_sbuffer_init(&sb);
	if (sw_record_pack(&s->s_rec, &sb) < 0) {
		msgpack_sbuffer_destroy(&sb);
		sw_err(s->s_id, "record-lost stage=%s reason=\"out of memory\"",
		    sw_stage_name(s->s_rec.r_stage));
		return -1;
	}
	/*
	 * msgpack-c starts every buffer at 8 KiB; a record is a few
	 * hundred bytes and may wait in the queue for a while (20,000 of
	 * them before spooling starts).  Give the rest back first.
	 */
	if (sb.alloc > sb.size + SESSION_RECORD_SLACK) {
		char	*fit = realloc(sb.data, sb.size);

		if (fit != NULL)
			sb.data = fit;
	}
	/* The shipper takes over the buffer. */
	return shipper_enqueue(s->s_id, sb.data, sb.size);
}

/* session_txn_begin - open transaction number ntxn + 1 */

int
session_txn_begin(struct session *s)
{
	struct txn *t = &s->s_txn;

	session_txn_end(s);
	memset(t, 0, sizeof *t);
	if ((t->t_body_sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(t->t_body_sha, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(t->t_body_sha);
		t->t_body_sha = NULL;
		return -1;
	}
	t->t_no = ++s->s_ntxn;
	t->t_open = 1;
	return 0;
}

/* session_txn_end - forget the transaction; nothing of it leaks on */

void
session_txn_end(struct session *s)
{
	struct txn *t = &s->s_txn;
	size_t	 i;

	EVP_MD_CTX_free(t->t_body_sha);
	memset(t, 0, sizeof *t);
	facts_txn_clear(&s->s_tf);
	/* Pending changes and verdicts die with their transaction. */
	for (i = 0; i < s->s_nchanges; i++) {
		free(s->s_changes[i].ec_name);
		free(s->s_changes[i].ec_value);
		free(s->s_changes[i].ec_rule);
	}
	s->s_nchanges = 0;
	s->s_txn_accepted = 0;
	s->s_txn_discard = 0;
	s->s_deferred_rule = NULL;
}
