/*
 * store.c - writing transcript records into SQLite.
 *
 * Every record becomes one row of events (the ordered transcript) and,
 * by its stage, updates the session, transaction, recipient, header,
 * AUTH and TLS tables.  All statements are prepared once at open and
 * bound per record; nothing client-supplied is ever spliced into SQL.
 *
 * Exactly once: the events row is inserted with OR IGNORE on its key
 * (instance, session, sequence); when that inserts nothing the record
 * was stored before and the derived tables are left alone.  Sessions
 * and transactions are created on first sight by any of their records,
 * so a record whose predecessors were lost still finds its parents.
 *
 * DIAGNOSTICS: -1 with sqlite3_errmsg() kept in the handle.
 * BUGS: none known.
 */

#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "sw_escape.h"
#include "sw_esmtp.h"
#include "sw_util.h"

extern const char store_schema_sql[];
extern const char store_views_sql[];

enum stmt_id {
	ST_EVENT,
	ST_SESSION_ENSURE,
	ST_CONNECT,
	ST_HELO,
	ST_TLS,
	ST_SESSION_TLS,
	ST_AUTH,
	ST_SESSION_AUTH,
	ST_TXN_ENSURE,
	ST_MAIL,
	ST_PARAM,
	ST_RCPT,
	ST_TXN_RCPT,
	ST_TXN_STAGE,
	ST_HEADER,
	ST_TXN_HEADER,
	ST_BODY,
	ST_EOM,
	ST_ABORT,
	ST_CLOSE,
	ST_DECISION,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_MAX
};

static const char *const stmt_sql[ST_MAX] = {
	[ST_EVENT] = "INSERT OR IGNORE INTO events (instance_id, session_id,"
	    " seq, time_us, time_utc, stage, txn_no, arg, text,"
	    " missing_macros, decision, rule) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
	    " ?7, ?8, ?9, ?10, ?11, ?12)",
	[ST_SESSION_ENSURE] = "INSERT OR IGNORE INTO sessions (session_id,"
	    " instance_id, started_us, started_utc) VALUES (?1, ?2, ?3, ?4)",
	[ST_CONNECT] = "UPDATE sessions SET started_us = ?2, started_utc = ?3,"
	    " client_host = ?4, client_family = ?5, client_addr = ?6,"
	    " client_port = ?7, client_name = ?8, client_ptr = ?9,"
	    " name_status = ?10, daemon_name = ?11, daemon_addr = ?12,"
	    " mta_name = ?13, mta_version = ?14, connect_missing = ?15"
	    " WHERE session_id = ?1",
	[ST_HELO] = "UPDATE sessions SET helo = ?2,"
	    " helo_count = helo_count + 1 WHERE session_id = ?1",
	[ST_TLS] = "INSERT OR REPLACE INTO tls_results (session_id, seq,"
	    " time_us, version, cipher, cipher_bits, cert_subject,"
	    " cert_issuer, verify) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_SESSION_TLS] = "UPDATE sessions SET tls_version = ?2"
	    " WHERE session_id = ?1",
	[ST_AUTH] = "INSERT OR REPLACE INTO auth_results (session_id, seq,"
	    " time_us, mechanism, authen, author, ssf)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_SESSION_AUTH] = "UPDATE sessions SET auth_type = ?2,"
	    " auth_user = ?3 WHERE session_id = ?1",
	[ST_TXN_ENSURE] = "INSERT OR IGNORE INTO transactions (session_id,"
	    " txn_no, started_us, started_utc) VALUES (?1, ?2, ?3, ?4)",
	[ST_MAIL] = "UPDATE transactions SET started_us = ?3,"
	    " started_utc = ?4, sender_path = ?5, sender = ?6,"
	    " sender_domain = ?7, is_null_sender = ?8, auth_type = ?9,"
	    " auth_user = ?10, auth_author = ?11,"
	    " queue_id = coalesce(queue_id, ?12), last_stage = 'mail'"
	    " WHERE session_id = ?1 AND txn_no = ?2",
	[ST_PARAM] = "INSERT OR REPLACE INTO esmtp_params (session_id, txn_no,"
	    " rcpt_no, position, keyword, value, value_text)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_RCPT] = "INSERT OR REPLACE INTO recipients (session_id, txn_no,"
	    " rcpt_no, time_us, path, recipient, accepted, mta_status,"
	    " mta_reply, rcpt_mailer, rcpt_host, rcpt_addr)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[ST_TXN_RCPT] = "UPDATE transactions SET"
	    " n_recipients = n_recipients + 1, n_rejected = n_rejected + ?3,"
	    " queue_id = coalesce(queue_id, ?4), last_stage = 'rcpt'"
	    " WHERE session_id = ?1 AND txn_no = ?2",
	[ST_TXN_STAGE] = "UPDATE transactions SET last_stage = ?3,"
	    " queue_id = coalesce(queue_id, ?4)"
	    " WHERE session_id = ?1 AND txn_no = ?2",
	[ST_HEADER] = "INSERT OR REPLACE INTO headers (session_id, txn_no,"
	    " position, name, value, name_text, value_text, value_len, cut)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_TXN_HEADER] = "UPDATE transactions SET n_headers = n_headers + 1,"
	    " last_stage = 'header' WHERE session_id = ?1 AND txn_no = ?2",
	[ST_BODY] = "UPDATE transactions SET body_size = ?3,"
	    " body_sha256 = ?4, body_chunks = ?5, last_stage = 'body'"
	    " WHERE session_id = ?1 AND txn_no = ?2",
	[ST_EOM] = "UPDATE transactions SET state = 'completed',"
	    " ended_us = ?3, ended_utc = ?4, last_stage = 'eom',"
	    " queue_id = coalesce(queue_id, ?5)"
	    " WHERE session_id = ?1 AND txn_no = ?2",
	[ST_ABORT] = "UPDATE transactions SET state = 'aborted',"
	    " ended_us = ?3, ended_utc = ?4, abort_reason = ?5"
	    " WHERE session_id = ?1 AND txn_no = ?2",
	[ST_CLOSE] = "UPDATE sessions SET ended_us = ?2, ended_utc = ?3,"
	    " duration_us = ?4, close_reason = ?5, n_transactions = ?6,"
	    " n_messages = ?7, n_recipients = ?8, n_unknown = ?9"
	    " WHERE session_id = ?1",
	[ST_DECISION] = "INSERT OR REPLACE INTO decisions (session_id, seq,"
	    " position, time_us, time_utc, stage, txn_no, rule, action, mode,"
	    " reply) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
};

/*
 * Sessions and transactions whose rows are known to exist, so that
 * their later records skip the INSERT OR IGNORE that makes sure of it
 * (a B-tree probe and a statement each, on nearly every record).
 * Direct-mapped by session id: a collision costs only that probe again.
 * Forgotten whenever a transaction does not commit, since the rows it
 * made are gone.  A row deleted behind our back (a live session
 * pruned) makes a later insert fail its foreign key; that group is
 * rolled back and retried, and the table starts over.
 */
#define KNOWN_SLOTS	4096

struct known {
	uint64_t	 kn_session;	/* 0: empty slot */
	uint32_t	 kn_txn;	/* its transaction row, 0 if none */
};

struct store {
	sqlite3		*db;
	sqlite3_stmt	*stmt[ST_MAX];
	int		 last_rc;
	char		 errmsg[512];
	struct known	 known[KNOWN_SLOTS];
	int		 known_unsure;	/* a transaction has not committed */
	/* Per-record scratch. */
	char		 session_hex[17];
	char		 instance_hex[17];
	char		 utc[32];
};

/* A growable text buffer for event text and raw arguments. */
struct buf {
	char	*b_data;
	size_t	 b_len;
	size_t	 b_cap;
	int	 b_failed;
};

static void
buf_add(struct buf *b, const void *data, size_t len)
{
	if (b->b_failed)
		return;
	if (b->b_len + len + 1 > b->b_cap) {
		size_t	 ncap = b->b_cap ? b->b_cap : 256;
		char	*n;

		while (ncap < b->b_len + len + 1)
			ncap *= 2;
		if ((n = realloc(b->b_data, ncap)) == NULL) {
			b->b_failed = 1;
			return;
		}
		b->b_data = n;
		b->b_cap = ncap;
	}
	memcpy(b->b_data + b->b_len, data, len);
	b->b_len += len;
	b->b_data[b->b_len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* buf_escaped - append client bytes in their readable form */

static void
buf_escaped(struct buf *b, const void *data, size_t len)
{
	size_t	 n;
	char	*e = sw_escape(data, len, &n);

	if (e == NULL) {
		b->b_failed = 1;
		return;
	}
	buf_add(b, e, n);
	free(e);
}

static void	buf_printf(struct buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
	char	 tmp[256];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n :
		    sizeof tmp - 1);
}

/* buf_field - append a field's value escaped, or "-" when absent */

static void
buf_field(struct buf *b, const struct sw_field *f)
{
	if (f == NULL || f->f_type == SW_V_NIL)
		buf_str(b, "-");
	else if (f->f_type == SW_V_INT)
		buf_printf(b, "%lld", (long long)f->f_int);
	else
		buf_escaped(b, f->f_data, f->f_len);
}

/* set_error - keep the SQLite reason on the handle */

static int
set_error(struct store *st, int rc, const char *what)
{
	st->last_rc = rc;
	snprintf(st->errmsg, sizeof st->errmsg, "%s: %s", what,
	    sqlite3_errmsg(st->db));
	return -1;
}

/* step - run a bound statement to completion and reset it */

static int
step(struct store *st, enum stmt_id id)
{
	sqlite3_stmt *s = st->stmt[id];
	int	 rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return set_error(st, rc, stmt_sql[id]);
	return 0;
}

/* Binding helpers; SQLite copies (SQLITE_TRANSIENT) what it keeps. */

static void
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

/* bind_field_text - a field as escaped text; NULL when absent or nil */

static int
bind_field_text(sqlite3_stmt *s, int i, const struct sw_field *f)
{
	char	*e;
	size_t	 n;

	if (f == NULL || f->f_type == SW_V_NIL)
		return sqlite3_bind_null(s, i);
	if (f->f_type == SW_V_INT)
		return sqlite3_bind_int64(s, i, f->f_int);
	if ((e = sw_escape(f->f_data, f->f_len, &n)) == NULL)
		return SQLITE_NOMEM;
	return sqlite3_bind_text(s, i, e, (int)n, free);
}

/* bind_field_blob - a field's raw bytes */

static int
bind_field_blob(sqlite3_stmt *s, int i, const struct sw_field *f)
{
	if (f == NULL || f->f_type != SW_V_BYTES)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_blob(s, i, f->f_len ? f->f_data : "", (int)f->f_len,
	    SQLITE_TRANSIENT);
}

/* bind_field_int - a field as an integer (text digits parsed) */

static int
bind_field_int(sqlite3_stmt *s, int i, const struct sw_field *f)
{
	char	 tmp[32];

	if (f == NULL || f->f_type == SW_V_NIL)
		return sqlite3_bind_null(s, i);
	if (f->f_type == SW_V_INT)
		return sqlite3_bind_int64(s, i, f->f_int);
	if (f->f_len == 0 || f->f_len >= sizeof tmp)
		return sqlite3_bind_null(s, i);
	memcpy(tmp, f->f_data, f->f_len);
	tmp[f->f_len] = '\0';
	return sqlite3_bind_int64(s, i, strtoll(tmp, NULL, 10));
}

/* field_cstr - a bytes field as a NUL-terminated copy in tmp */

static const char *
field_cstr(const struct sw_field *f, char *tmp, size_t tmpsize)
{
	size_t	 n;

	if (f == NULL || f->f_type != SW_V_BYTES)
		return NULL;
	n = f->f_len < tmpsize - 1 ? f->f_len : tmpsize - 1;
	memcpy(tmp, f->f_data, n);
	tmp[n] = '\0';
	return tmp;
}

#define FIND(r, k)	sw_record_find((r), (k))

/* field_is - is a bytes field exactly this string? */

static int
field_is(const struct sw_field *f, const char *s)
{
	return f != NULL && f->f_type == SW_V_BYTES &&
	    f->f_len == strlen(s) && memcmp(f->f_data, s, f->f_len) == 0;
}

/* store_open - open or create the database and prepare everything */

struct store *
store_open(const char *path, long busy_timeout_ms, char *err,
    size_t errsize)
{
	struct store *st;
	sqlite3_stmt *q;
	char	*emsg = NULL;
	int	 version = -1, i, rc;

	if ((st = calloc(1, sizeof *st)) == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errsize, "%s: %s", path, st->db ?
		    sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(st->db, (int)busy_timeout_ms);
	sqlite3_extended_result_codes(st->db, 1);

	/* WAL lets auditors read while we write; FULL makes an ack durable. */
	if (sqlite3_exec(st->db, "PRAGMA journal_mode = WAL;"
	    "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
	    NULL, NULL, &emsg) != SQLITE_OK)
		goto exec_fail;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q,
	    NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (version < 0) {
		snprintf(err, errsize, "%s: cannot read schema version: %s",
		    path, sqlite3_errmsg(st->db));
		goto fail;
	}
	if (version > STORE_SCHEMA_VERSION) {
		snprintf(err, errsize, "%s: schema version %d is newer than "
		    "this smtpwardend (%d)", path, version,
		    STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (version < 1 && sqlite3_exec(st->db, store_schema_sql, NULL,
	    NULL, &emsg) != SQLITE_OK)
		goto exec_fail;
	if (sqlite3_exec(st->db, store_views_sql, NULL, NULL, &emsg) !=
	    SQLITE_OK)
		goto exec_fail;

	for (i = 0; i < ST_MAX; i++)
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) !=
		    SQLITE_OK) {
			snprintf(err, errsize, "%s: prepare \"%s\": %s", path,
			    stmt_sql[i], sqlite3_errmsg(st->db));
			goto fail;
		}
	return st;

exec_fail:
	snprintf(err, errsize, "%s: %s", path, emsg ? emsg : "error");
	sqlite3_free(emsg);
fail:
	store_close(st);
	return NULL;
}

/* store_close - finalize and close; a WAL checkpoint happens here */

void
store_close(struct store *st)
{
	int	 i;

	if (st == NULL)
		return;
	for (i = 0; i < ST_MAX; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

const char *
store_errmsg(struct store *st)
{
	return st->errmsg;
}

int
store_busy(struct store *st)
{
	int	 primary = st->last_rc & 0xff;

	return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

/* known_forget - the rows of an uncommitted transaction are gone */

static void
known_forget(struct store *st)
{
	memset(st->known, 0, sizeof st->known);
	st->known_unsure = 0;
}

/* known_slot - where a session's rows are remembered */

static struct known *
known_slot(struct store *st, uint64_t session)
{
	return &st->known[(session ^ (session >> 29)) % KNOWN_SLOTS];
}

int
store_begin(struct store *st)
{
	/* Also after a failed commit or one SQLite rolled back itself. */
	if (st->known_unsure)
		known_forget(st);
	if (step(st, ST_BEGIN) < 0)
		return -1;
	st->known_unsure = 1;
	return 0;
}

int
store_commit(struct store *st)
{
	if (step(st, ST_COMMIT) < 0)
		return -1;
	st->known_unsure = 0;
	return 0;
}

void
store_rollback(struct store *st)
{
	known_forget(st);
	if (!sqlite3_get_autocommit(st->db))
		(void)step(st, ST_ROLLBACK);
}

/* missing_list - the "missing" fields joined by spaces, or NULL */

static char *
missing_list(const struct sw_record *r)
{
	struct buf b = { 0 };
	size_t	 i;

	for (i = 0; i < r->r_nfields; i++) {
		const struct sw_field *f = &r->r_fields[i];

		if (f->f_key != SW_K_MISSING_MACRO || f->f_type != SW_V_BYTES)
			continue;
		if (b.b_len > 0)
			buf_str(&b, " ");
		buf_escaped(&b, f->f_data, f->f_len);
	}
	if (b.b_failed) {
		free(b.b_data);
		return NULL;
	}
	return b.b_data;
}

/* add_params_text - " KEY=VALUE ..." for text and raw argument */

static void
add_params_text(const struct sw_record *r, struct buf *text,
    struct buf *raw)
{
	size_t	 i;

	for (i = 0; i < r->r_nfields; i++) {
		const struct sw_field *f = &r->r_fields[i];

		if (f->f_key == SW_K_PARAM_KEY && f->f_type == SW_V_BYTES) {
			buf_str(text, " ");
			buf_escaped(text, f->f_data, f->f_len);
			buf_str(raw, " ");
			buf_add(raw, f->f_data, f->f_len);
		} else if (f->f_key == SW_K_PARAM_VALUE &&
		    f->f_type == SW_V_BYTES) {
			buf_str(text, "=");
			buf_escaped(text, f->f_data, f->f_len);
			buf_str(raw, "=");
			buf_add(raw, f->f_data, f->f_len);
		}
	}
}

/* event_text - the readable line and the raw argument of an event */

static void
event_text(const struct sw_record *r, struct buf *text, struct buf *raw)
{
	const struct sw_field *f;

	switch (r->r_stage) {
	case SW_STAGE_CONNECT:
		buf_str(text, "connect from ");
		buf_field(text, FIND(r, SW_K_CLIENT_HOST));
		buf_str(text, "[");
		buf_field(text, FIND(r, SW_K_CLIENT_ADDR));
		buf_str(text, "]:");
		buf_field(text, FIND(r, SW_K_CLIENT_PORT));
		buf_str(text, " family=");
		buf_field(text, FIND(r, SW_K_CLIENT_FAMILY));
		buf_str(text, " ptr=");
		buf_field(text, FIND(r, SW_K_CLIENT_PTR));
		buf_str(text, " daemon=");
		buf_field(text, FIND(r, SW_K_DAEMON_NAME));
		if ((f = FIND(r, SW_K_CLIENT_HOST)) && f->f_type == SW_V_BYTES)
			buf_add(raw, f->f_data, f->f_len);
		break;
	case SW_STAGE_HELO:
		buf_str(text, "HELO ");
		buf_field(text, FIND(r, SW_K_HELO));
		if ((f = FIND(r, SW_K_HELO)) && f->f_type == SW_V_BYTES)
			buf_add(raw, f->f_data, f->f_len);
		break;
	case SW_STAGE_TLS:
		buf_str(text, "TLS version=");
		buf_field(text, FIND(r, SW_K_TLS_VERSION));
		buf_str(text, " cipher=");
		buf_field(text, FIND(r, SW_K_TLS_CIPHER));
		buf_str(text, " bits=");
		buf_field(text, FIND(r, SW_K_TLS_BITS));
		buf_str(text, " verify=");
		buf_field(text, FIND(r, SW_K_TLS_VERIFY));
		buf_str(text, " subject=");
		buf_field(text, FIND(r, SW_K_TLS_SUBJECT));
		break;
	case SW_STAGE_AUTH:
		buf_str(text, "AUTH mechanism=");
		buf_field(text, FIND(r, SW_K_AUTH_TYPE));
		buf_str(text, " user=");
		buf_field(text, FIND(r, SW_K_AUTH_AUTHEN));
		break;
	case SW_STAGE_MAIL:
	case SW_STAGE_RCPT:
		buf_str(text, r->r_stage == SW_STAGE_MAIL ? "MAIL FROM:" :
		    "RCPT TO:");
		buf_field(text, FIND(r, SW_K_PATH));
		if ((f = FIND(r, SW_K_PATH)) && f->f_type == SW_V_BYTES)
			buf_add(raw, f->f_data, f->f_len);
		add_params_text(r, text, raw);
		if (r->r_stage == SW_STAGE_RCPT &&
		    (f = FIND(r, SW_K_RCPT_ACCEPTED)) && f->f_int == 0) {
			buf_str(text, " -- rejected by the MTA: ");
			buf_field(text, FIND(r, SW_K_RCPT_HOST));
			buf_str(text, " ");
			buf_field(text, FIND(r, SW_K_RCPT_ADDR));
		}
		break;
	case SW_STAGE_DATA:
		buf_str(text, "DATA");
		break;
	case SW_STAGE_HEADER:
		if ((f = FIND(r, SW_K_HEADER_NAME)) && f->f_type == SW_V_BYTES)
			buf_add(raw, f->f_data, f->f_len);
		buf_field(text, f);
		buf_str(text, ":");
		buf_str(raw, ":");
		if ((f = FIND(r, SW_K_HEADER_VALUE)) &&
		    f->f_type == SW_V_BYTES) {
			buf_escaped(text, f->f_data, f->f_len);
			buf_add(raw, f->f_data, f->f_len);
		}
		/* The length may be missing from a record of another writer. */
		if ((f = FIND(r, SW_K_HEADER_CUT)) && f->f_int) {
			if ((f = FIND(r, SW_K_HEADER_LEN)) &&
			    f->f_type == SW_V_INT)
				buf_printf(text, " [cut, %lld bytes in all]",
				    (long long)f->f_int);
			else
				buf_str(text, " [cut]");
		}
		break;
	case SW_STAGE_EOH:
		buf_str(text, "end of headers");
		break;
	case SW_STAGE_BODY:
		buf_str(text, "body size=");
		buf_field(text, FIND(r, SW_K_BODY_SIZE));
		buf_str(text, " sha256=");
		buf_field(text, FIND(r, SW_K_BODY_SHA256));
		buf_str(text, " chunks=");
		buf_field(text, FIND(r, SW_K_BODY_CHUNKS));
		break;
	case SW_STAGE_EOM:
		buf_str(text, "end of message queue_id=");
		buf_field(text, FIND(r, SW_K_QUEUE_ID));
		break;
	case SW_STAGE_ABORT:
		buf_str(text, "abort: ");
		buf_field(text, FIND(r, SW_K_REASON));
		break;
	case SW_STAGE_UNKNOWN:
		buf_str(text, "unknown command: ");
		buf_field(text, FIND(r, SW_K_COMMAND));
		if ((f = FIND(r, SW_K_COMMAND)) && f->f_type == SW_V_BYTES)
			buf_add(raw, f->f_data, f->f_len);
		break;
	case SW_STAGE_CLOSE:
		buf_str(text, "close: ");
		buf_field(text, FIND(r, SW_K_REASON));
		buf_str(text, " transactions=");
		buf_field(text, FIND(r, SW_K_N_TXN));
		buf_str(text, " messages=");
		buf_field(text, FIND(r, SW_K_N_MSG));
		buf_str(text, " recipients=");
		buf_field(text, FIND(r, SW_K_N_RCPT));
		break;
	default:
		buf_str(text, sw_stage_name(r->r_stage));
		break;
	}
}

/*
 * decision_at - the i-th decision of a record: its rule, action, mode
 * and reply fields, which come in that order.  Returns the index after
 * it, or 0 when there is none.
 */
static size_t
decision_at(const struct sw_record *r, size_t from,
    const struct sw_field *d[4])
{
	size_t	 i;

	for (i = from; i < r->r_nfields; i++) {
		if (r->r_fields[i].f_key != SW_K_RULE)
			continue;
		d[0] = &r->r_fields[i];
		d[1] = d[2] = d[3] = NULL;
		if (i + 1 < r->r_nfields &&
		    r->r_fields[i + 1].f_key == SW_K_ACTION)
			d[1] = &r->r_fields[i + 1];
		if (i + 2 < r->r_nfields && r->r_fields[i + 2].f_key == SW_K_MODE)
			d[2] = &r->r_fields[i + 2];
		if (i + 3 < r->r_nfields &&
		    r->r_fields[i + 3].f_key == SW_K_REPLY)
			d[3] = &r->r_fields[i + 3];
		return i + 1;
	}
	return 0;
}

/* bind_enforced - events.decision and .rule: the enforced answer */

static void
bind_enforced(sqlite3_stmt *s, const struct sw_record *r)
{
	static const char *const terminal[] = { "reject", "tempfail",
	    "discard", "accept", "continue", NULL };
	const struct sw_field *d[4];
	size_t	 next = 0;
	int	 i;

	while ((next = decision_at(r, next, d)) != 0) {
		if (d[1] == NULL || !field_is(d[2], "enforced"))
			continue;
		for (i = 0; terminal[i] != NULL; i++)
			if (field_is(d[1], terminal[i]))
				break;
		if (terminal[i] == NULL)
			continue;
		bind_field_text(s, 11, d[1]);
		bind_field_text(s, 12, d[0]);
		return;
	}
}

/* put_decisions - one row per decision the record carries */

static int
put_decisions(struct store *st, const struct sw_record *r)
{
	sqlite3_stmt *s = st->stmt[ST_DECISION];
	const struct sw_field *d[4];
	size_t	 next = 0;
	int	 pos = 0;

	while ((next = decision_at(r, next, d)) != 0) {
		if (d[1] == NULL || d[2] == NULL)
			continue;
		bind_text(s, 1, st->session_hex);
		sqlite3_bind_int64(s, 2, r->r_seq);
		sqlite3_bind_int(s, 3, ++pos);
		sqlite3_bind_int64(s, 4, r->r_time_us);
		bind_text(s, 5, st->utc);
		bind_text(s, 6, sw_stage_name(r->r_stage));
		if (r->r_txn > 0)
			sqlite3_bind_int64(s, 7, r->r_txn);
		bind_field_text(s, 8, d[0]);
		bind_field_text(s, 9, d[1]);
		bind_field_text(s, 10, d[2]);
		bind_field_text(s, 11, d[3]);
		if (step(st, ST_DECISION) < 0)
			return -1;
	}
	return 0;
}

/* put_event - the transcript row; 1 if it was already there */

static int
put_event(struct store *st, const struct sw_record *r)
{
	sqlite3_stmt *s = st->stmt[ST_EVENT];
	struct buf text = { 0 }, raw = { 0 };
	char	*missing;
	int	 rc;

	event_text(r, &text, &raw);
	missing = missing_list(r);
	if (text.b_failed || raw.b_failed) {
		free(text.b_data);
		free(raw.b_data);
		free(missing);
		snprintf(st->errmsg, sizeof st->errmsg, "out of memory");
		st->last_rc = SQLITE_NOMEM;
		return -1;
	}
	bind_text(s, 1, st->instance_hex);
	bind_text(s, 2, st->session_hex);
	sqlite3_bind_int64(s, 3, r->r_seq);
	sqlite3_bind_int64(s, 4, r->r_time_us);
	bind_text(s, 5, st->utc);
	bind_text(s, 6, sw_stage_name(r->r_stage));
	if (r->r_txn > 0)
		sqlite3_bind_int64(s, 7, r->r_txn);
	else
		sqlite3_bind_null(s, 7);
	if (raw.b_data != NULL)
		sqlite3_bind_blob(s, 8, raw.b_data, (int)raw.b_len,
		    SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 8);
	bind_text(s, 9, text.b_data ? text.b_data : "");
	bind_text(s, 10, missing);
	bind_enforced(s, r);
	rc = step(st, ST_EVENT);
	free(text.b_data);
	free(raw.b_data);
	free(missing);
	if (rc < 0)
		return -1;
	return sqlite3_changes(st->db) == 0 ? 1 : 0;
}

/* ensure_session - the session row exists, whatever came first */

static int
ensure_session(struct store *st, const struct sw_record *r)
{
	sqlite3_stmt *s = st->stmt[ST_SESSION_ENSURE];
	struct known *k = known_slot(st, r->r_session);

	/* Id 0 marks an empty slot: such a session is never remembered. */
	if (r->r_session != 0 && k->kn_session == r->r_session)
		return 0;
	bind_text(s, 1, st->session_hex);
	bind_text(s, 2, st->instance_hex);
	sqlite3_bind_int64(s, 3, r->r_time_us);
	bind_text(s, 4, st->utc);
	if (step(st, ST_SESSION_ENSURE) < 0)
		return -1;
	k->kn_session = r->r_session;
	k->kn_txn = 0;
	return 0;
}

/* ensure_txn - the transaction row exists */

static int
ensure_txn(struct store *st, const struct sw_record *r)
{
	sqlite3_stmt *s = st->stmt[ST_TXN_ENSURE];
	struct known *k = known_slot(st, r->r_session);

	/* ensure_session() has just claimed the slot for this session. */
	if (r->r_session != 0 && k->kn_session == r->r_session &&
	    k->kn_txn == r->r_txn)
		return 0;
	bind_text(s, 1, st->session_hex);
	sqlite3_bind_int64(s, 2, r->r_txn);
	sqlite3_bind_int64(s, 3, r->r_time_us);
	bind_text(s, 4, st->utc);
	if (step(st, ST_TXN_ENSURE) < 0)
		return -1;
	if (k->kn_session == r->r_session)
		k->kn_txn = r->r_txn;
	return 0;
}

/* name_status - how the MTA named the client */

static const char *
name_status(const struct sw_record *r)
{
	char	 tmp[256];
	const char *host;

	if (field_is(FIND(r, SW_K_CLIENT_NAME), "unknown"))
		return "unknown";
	host = field_cstr(FIND(r, SW_K_CLIENT_HOST), tmp, sizeof tmp);
	if (host == NULL || *host == '\0' || strcmp(host, "unknown") == 0)
		return "unknown";
	if (host[0] == '[')
		return "literal";
	return "resolved";
}

/* put_connect - client identity */

static int
put_connect(struct store *st, const struct sw_record *r)
{
	sqlite3_stmt *s = st->stmt[ST_CONNECT];
	char	*missing = missing_list(r);

	bind_text(s, 1, st->session_hex);
	sqlite3_bind_int64(s, 2, r->r_time_us);
	bind_text(s, 3, st->utc);
	bind_field_text(s, 4, FIND(r, SW_K_CLIENT_HOST));
	bind_field_text(s, 5, FIND(r, SW_K_CLIENT_FAMILY));
	/*
	 * A client gone before the MTA looked at it arrives as family
	 * unknown, address "unknown", port 0: that is no address at all.
	 */
	if (field_is(FIND(r, SW_K_CLIENT_FAMILY), "unknown")) {
		const struct sw_field *a = FIND(r, SW_K_CLIENT_ADDR);
		const struct sw_field *p = FIND(r, SW_K_CLIENT_PORT);

		if (a != NULL && !field_is(a, "unknown"))
			bind_field_text(s, 6, a);
		if (p != NULL && !(p->f_type == SW_V_INT && p->f_int == 0))
			bind_field_int(s, 7, p);
	} else {
		bind_field_text(s, 6, FIND(r, SW_K_CLIENT_ADDR));
		bind_field_int(s, 7, FIND(r, SW_K_CLIENT_PORT));
	}
	bind_field_text(s, 8, FIND(r, SW_K_CLIENT_NAME));
	bind_field_text(s, 9, FIND(r, SW_K_CLIENT_PTR));
	bind_text(s, 10, name_status(r));
	bind_field_text(s, 11, FIND(r, SW_K_DAEMON_NAME));
	bind_field_text(s, 12, FIND(r, SW_K_DAEMON_ADDR));
	bind_field_text(s, 13, FIND(r, SW_K_MTA_NAME));
	bind_field_text(s, 14, FIND(r, SW_K_MTA_VERSION));
	bind_text(s, 15, missing);
	free(missing);
	return step(st, ST_CONNECT);
}

/* put_tls - one TLS result, and the session's latest version */

static int
put_tls(struct store *st, const struct sw_record *r)
{
	sqlite3_stmt *s = st->stmt[ST_TLS];

	bind_text(s, 1, st->session_hex);
	sqlite3_bind_int64(s, 2, r->r_seq);
	sqlite3_bind_int64(s, 3, r->r_time_us);
	bind_field_text(s, 4, FIND(r, SW_K_TLS_VERSION));
	bind_field_text(s, 5, FIND(r, SW_K_TLS_CIPHER));
	bind_field_int(s, 6, FIND(r, SW_K_TLS_BITS));
	bind_field_text(s, 7, FIND(r, SW_K_TLS_SUBJECT));
	bind_field_text(s, 8, FIND(r, SW_K_TLS_ISSUER));
	bind_field_text(s, 9, FIND(r, SW_K_TLS_VERIFY));
	if (step(st, ST_TLS) < 0)
		return -1;
	s = st->stmt[ST_SESSION_TLS];
	bind_text(s, 1, st->session_hex);
	bind_field_text(s, 2, FIND(r, SW_K_TLS_VERSION));
	return step(st, ST_SESSION_TLS);
}

/* put_auth - one AUTH result, and the session's latest user */

static int
put_auth(struct store *st, const struct sw_record *r)
{
	sqlite3_stmt *s = st->stmt[ST_AUTH];

	bind_text(s, 1, st->session_hex);
	sqlite3_bind_int64(s, 2, r->r_seq);
	sqlite3_bind_int64(s, 3, r->r_time_us);
	bind_field_text(s, 4, FIND(r, SW_K_AUTH_TYPE));
	bind_field_text(s, 5, FIND(r, SW_K_AUTH_AUTHEN));
	bind_field_text(s, 6, FIND(r, SW_K_AUTH_AUTHOR));
	bind_field_text(s, 7, FIND(r, SW_K_AUTH_SSF));
	if (step(st, ST_AUTH) < 0)
		return -1;
	s = st->stmt[ST_SESSION_AUTH];
	bind_text(s, 1, st->session_hex);
	bind_field_text(s, 2, FIND(r, SW_K_AUTH_TYPE));
	bind_field_text(s, 3, FIND(r, SW_K_AUTH_AUTHEN));
	return step(st, ST_SESSION_AUTH);
}

/* put_params - the ESMTP parameters of MAIL (rcpt_no 0) or a RCPT */

static int
put_params(struct store *st, const struct sw_record *r, int64_t rcpt_no)
{
	sqlite3_stmt *s = st->stmt[ST_PARAM];
	size_t	 i;
	int	 pos = 0;

	for (i = 0; i < r->r_nfields; i++) {
		const struct sw_field *k = &r->r_fields[i], *v = NULL;

		if (k->f_key != SW_K_PARAM_KEY)
			continue;
		if (i + 1 < r->r_nfields &&
		    r->r_fields[i + 1].f_key == SW_K_PARAM_VALUE)
			v = &r->r_fields[i + 1];
		bind_text(s, 1, st->session_hex);
		sqlite3_bind_int64(s, 2, r->r_txn);
		sqlite3_bind_int64(s, 3, rcpt_no);
		sqlite3_bind_int(s, 4, ++pos);
		bind_field_text(s, 5, k);
		bind_field_blob(s, 6, v);
		bind_field_text(s, 7, v);
		if (step(st, ST_PARAM) < 0)
			return -1;
	}
	return 0;
}

/* address_of - escaped address inside a path field, and its domain */

static char *
address_of(const struct sw_field *path, int *is_null, char **domain)
{
	char	 tmp[2048];
	const char *p, *addr, *dom;
	size_t	 len, domlen;

	*domain = NULL;
	*is_null = 0;
	if ((p = field_cstr(path, tmp, sizeof tmp)) == NULL)
		return NULL;
	*is_null = sw_esmtp_path_address(p, &addr, &len);
	if ((dom = sw_esmtp_domain(addr, len, &domlen)) != NULL)
		*domain = sw_escape(dom, domlen, NULL);
	return sw_escape(addr, len, NULL);
}

/* put_mail - a new transaction's envelope sender */

static int
put_mail(struct store *st, const struct sw_record *r)
{
	sqlite3_stmt *s = st->stmt[ST_MAIL];
	char	*addr, *domain;
	int	 is_null, rc;

	addr = address_of(FIND(r, SW_K_PATH), &is_null, &domain);
	bind_text(s, 1, st->session_hex);
	sqlite3_bind_int64(s, 2, r->r_txn);
	sqlite3_bind_int64(s, 3, r->r_time_us);
	bind_text(s, 4, st->utc);
	bind_field_blob(s, 5, FIND(r, SW_K_PATH));
	bind_text(s, 6, addr);
	bind_text(s, 7, domain);
	sqlite3_bind_int(s, 8, is_null);
	bind_field_text(s, 9, FIND(r, SW_K_AUTH_TYPE));
	bind_field_text(s, 10, FIND(r, SW_K_AUTH_AUTHEN));
	bind_field_text(s, 11, FIND(r, SW_K_AUTH_AUTHOR));
	bind_field_text(s, 12, FIND(r, SW_K_QUEUE_ID));
	rc = step(st, ST_MAIL);
	free(addr);
	free(domain);
	if (rc < 0)
		return -1;
	return put_params(st, r, 0);
}

/* put_rcpt - one recipient with the MTA's verdict */

static int
put_rcpt(struct store *st, const struct sw_record *r)
{
	sqlite3_stmt *s = st->stmt[ST_RCPT];
	const struct sw_field *no = FIND(r, SW_K_RCPT_NO);
	const struct sw_field *acc = FIND(r, SW_K_RCPT_ACCEPTED);
	int64_t	 rcpt_no = no && no->f_type == SW_V_INT ? no->f_int : r->r_seq;
	int	 accepted = acc == NULL || acc->f_int != 0, is_null, rc;
	char	*addr, *domain;

	addr = address_of(FIND(r, SW_K_PATH), &is_null, &domain);
	free(domain);
	bind_text(s, 1, st->session_hex);
	sqlite3_bind_int64(s, 2, r->r_txn);
	sqlite3_bind_int64(s, 3, rcpt_no);
	sqlite3_bind_int64(s, 4, r->r_time_us);
	bind_field_blob(s, 5, FIND(r, SW_K_PATH));
	bind_text(s, 6, addr);
	sqlite3_bind_int(s, 7, accepted);
	if (!accepted) {
		bind_field_text(s, 8, FIND(r, SW_K_RCPT_HOST));
		bind_field_text(s, 9, FIND(r, SW_K_RCPT_ADDR));
	}
	bind_field_text(s, 10, FIND(r, SW_K_RCPT_MAILER));
	bind_field_text(s, 11, FIND(r, SW_K_RCPT_HOST));
	bind_field_text(s, 12, FIND(r, SW_K_RCPT_ADDR));
	rc = step(st, ST_RCPT);
	free(addr);
	if (rc < 0)
		return -1;
	s = st->stmt[ST_TXN_RCPT];
	bind_text(s, 1, st->session_hex);
	sqlite3_bind_int64(s, 2, r->r_txn);
	sqlite3_bind_int(s, 3, !accepted);
	bind_field_text(s, 4, FIND(r, SW_K_QUEUE_ID));
	if (step(st, ST_TXN_RCPT) < 0)
		return -1;
	return put_params(st, r, rcpt_no);
}

/* put_txn_stage - DATA or EOH: the stage reached, maybe a queue id */

static int
put_txn_stage(struct store *st, const struct sw_record *r)
{
	sqlite3_stmt *s = st->stmt[ST_TXN_STAGE];

	bind_text(s, 1, st->session_hex);
	sqlite3_bind_int64(s, 2, r->r_txn);
	bind_text(s, 3, sw_stage_name(r->r_stage));
	bind_field_text(s, 4, FIND(r, SW_K_QUEUE_ID));
	return step(st, ST_TXN_STAGE);
}

/* put_header - one header, raw and escaped */

static int
put_header(struct store *st, const struct sw_record *r)
{
	sqlite3_stmt *s = st->stmt[ST_HEADER];
	const struct sw_field *pos = FIND(r, SW_K_HEADER_POS);
	const struct sw_field *name = FIND(r, SW_K_HEADER_NAME);
	const struct sw_field *value = FIND(r, SW_K_HEADER_VALUE);
	const struct sw_field *len = FIND(r, SW_K_HEADER_LEN);
	const struct sw_field *cut = FIND(r, SW_K_HEADER_CUT);
	static const struct sw_field empty = { .f_type = SW_V_BYTES,
	    .f_data = "", .f_len = 0 };

	if (name == NULL || name->f_type != SW_V_BYTES)
		name = &empty;
	if (value == NULL || value->f_type != SW_V_BYTES)
		value = &empty;
	bind_text(s, 1, st->session_hex);
	sqlite3_bind_int64(s, 2, r->r_txn);
	sqlite3_bind_int64(s, 3, pos && pos->f_type == SW_V_INT ?
	    pos->f_int : r->r_seq);
	bind_field_blob(s, 4, name);
	bind_field_blob(s, 5, value);
	bind_field_text(s, 6, name);
	bind_field_text(s, 7, value);
	sqlite3_bind_int64(s, 8, len && len->f_type == SW_V_INT ? len->f_int :
	    (int64_t)value->f_len);
	sqlite3_bind_int(s, 9, cut != NULL && cut->f_int != 0);
	if (step(st, ST_HEADER) < 0)
		return -1;
	s = st->stmt[ST_TXN_HEADER];
	bind_text(s, 1, st->session_hex);
	sqlite3_bind_int64(s, 2, r->r_txn);
	return step(st, ST_TXN_HEADER);
}

/* put_body - size and digest of the body */

static int
put_body(struct store *st, const struct sw_record *r)
{
	sqlite3_stmt *s = st->stmt[ST_BODY];

	bind_text(s, 1, st->session_hex);
	sqlite3_bind_int64(s, 2, r->r_txn);
	bind_field_int(s, 3, FIND(r, SW_K_BODY_SIZE));
	bind_field_text(s, 4, FIND(r, SW_K_BODY_SHA256));
	bind_field_int(s, 5, FIND(r, SW_K_BODY_CHUNKS));
	return step(st, ST_BODY);
}

/* put_txn_end - end of message or abort */

static int
put_txn_end(struct store *st, const struct sw_record *r)
{
	enum stmt_id id = r->r_stage == SW_STAGE_EOM ? ST_EOM : ST_ABORT;
	sqlite3_stmt *s = st->stmt[id];

	bind_text(s, 1, st->session_hex);
	sqlite3_bind_int64(s, 2, r->r_txn);
	sqlite3_bind_int64(s, 3, r->r_time_us);
	bind_text(s, 4, st->utc);
	bind_field_text(s, 5, FIND(r, id == ST_EOM ? SW_K_QUEUE_ID :
	    SW_K_REASON));
	return step(st, id);
}

/* put_close - end of the session, with the milter's counts */

static int
put_close(struct store *st, const struct sw_record *r)
{
	sqlite3_stmt *s = st->stmt[ST_CLOSE];

	bind_text(s, 1, st->session_hex);
	sqlite3_bind_int64(s, 2, r->r_time_us);
	bind_text(s, 3, st->utc);
	bind_field_int(s, 4, FIND(r, SW_K_DURATION_US));
	bind_field_text(s, 5, FIND(r, SW_K_REASON));
	bind_field_int(s, 6, FIND(r, SW_K_N_TXN));
	bind_field_int(s, 7, FIND(r, SW_K_N_MSG));
	bind_field_int(s, 8, FIND(r, SW_K_N_RCPT));
	bind_field_int(s, 9, FIND(r, SW_K_N_UNKNOWN));
	return step(st, ST_CLOSE);
}

/* store_put - one record: its event row, then what the stage changes */

int
store_put(struct store *st, const struct sw_record *r)
{
	int	 rc;

	sw_format_id(r->r_session, st->session_hex);
	sw_format_id(r->r_instance, st->instance_hex);
	sw_format_utc(r->r_time_us, st->utc, sizeof st->utc);

	if (ensure_session(st, r) < 0)
		return -1;
	if ((rc = put_event(st, r)) != 0)
		return rc;	/* -1 error, 1 stored before */
	if (r->r_txn > 0 && ensure_txn(st, r) < 0)
		return -1;
	if (put_decisions(st, r) < 0)
		return -1;

	switch (r->r_stage) {
	case SW_STAGE_CONNECT:
		return put_connect(st, r);
	case SW_STAGE_HELO: {
		sqlite3_stmt *s = st->stmt[ST_HELO];

		bind_text(s, 1, st->session_hex);
		bind_field_text(s, 2, FIND(r, SW_K_HELO));
		return step(st, ST_HELO);
	}
	case SW_STAGE_TLS:
		return put_tls(st, r);
	case SW_STAGE_AUTH:
		return put_auth(st, r);
	case SW_STAGE_MAIL:
		return r->r_txn > 0 ? put_mail(st, r) : 0;
	case SW_STAGE_RCPT:
		return r->r_txn > 0 ? put_rcpt(st, r) : 0;
	case SW_STAGE_DATA:
	case SW_STAGE_EOH:
		return r->r_txn > 0 ? put_txn_stage(st, r) : 0;
	case SW_STAGE_HEADER:
		return r->r_txn > 0 ? put_header(st, r) : 0;
	case SW_STAGE_BODY:
		return r->r_txn > 0 ? put_body(st, r) : 0;
	case SW_STAGE_EOM:
	case SW_STAGE_ABORT:
		return r->r_txn > 0 ? put_txn_end(st, r) : 0;
	case SW_STAGE_CLOSE:
		return put_close(st, r);
	default:
		return 0;	/* unknown commands live in events only */
	}
}
