/*
 * check_store.c - unit tests of daemon/store.c (store.h), smtpwardend's
 * SQLite store, against a real database file in a scratch directory.
 *
 * Records are built as smtpwarden-milter sends them (the fields of each
 * stage as in enum sw_key) and stored in store transactions as the
 * daemon does; the results are read back through a second, plain
 * SQLite connection, so the tests see what an auditor would.
 *
 * DIAGNOSTICS: failures read "got X, want Y".
 * BUGS: none known.
 */

#include "config.h"
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sqlite3.h>

#include "store.h"
#include "sw_escape.h"
#include "sw_record.h"
#include "testutil.h"

/* The ids of the session most tests store, and their hex forms. */
#define INST		0xfeedface00000001ull
#define INST_HEX	"feedface00000001"
#define SESS		0x1234567890abcdefull
#define SESS_HEX	"1234567890abcdef"
#define WHERE_SESS	" WHERE session_id = '" SESS_HEX "'"

/* Record times: BASE_US is 2023-11-14 22:13:20 UTC; seq n is n ms on. */
#define BASE_US		1700000000000000ll
#define T(seq)		(BASE_US + (int64_t)(seq) * 1000)

/* Busy timeout of the store under test, and a short one for BUSY. */
#define BUSY_MS		2000
#define SHORT_BUSY_MS	10

/* How many recipients the large-transaction test stores. */
#define MANY_RCPTS	5000

/* The records of the full session, and its header with odd bytes. */
#define FULL_RECORDS	15
static const char hval[] = "caf\xc3\xa9 \0nul \xff\x80 \x1b[1mbold";
#define HVAL_LEN	(sizeof hval - 1)
#define HVAL_TEXT	"caf\xc3\xa9 \\x00nul \\xff\\x80 \\x1b[1mbold"
#define SHA_EMPTY	"e3b0c44298fc1c149afbf4c8996fb924" \
			"27ae41e4649b934ca495991b7852b855"

static char	*tmpdir;
static char	 dbpath[PATH_MAX];
static struct store *st;
static sqlite3	*rdb;		/* the auditor's connection */
static struct sw_record rec;

/* setup - a scratch directory and a freshly created store */

static void
setup(void)
{
	char	 err[512];

	tmpdir = tu_tmpdir();
	snprintf(dbpath, sizeof dbpath, "%s/smtpwarden.db", tmpdir);
	st = store_open(dbpath, BUSY_MS, err, sizeof err);
	ck_assert_msg(st != NULL, "store_open: got NULL (%s), want a store",
	    err);
	sw_record_init(&rec);
	rdb = NULL;
}

/* teardown - close both connections and remove the directory */

static void
teardown(void)
{
	store_close(st);
	st = NULL;
	if (rdb != NULL)
		sqlite3_close(rdb);
	rdb = NULL;
	sw_record_free(&rec);
	tu_rmtree(tmpdir);
	free(tmpdir);
	tmpdir = NULL;
}

/* reader - the auditor's connection, opened on first use */

static sqlite3 *
reader(void)
{
	if (rdb == NULL)
		ck_assert_msg(sqlite3_open_v2(dbpath, &rdb,
		    SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK,
		    "open reader: got %s, want the database",
		    rdb ? sqlite3_errmsg(rdb) : "no handle");
	return rdb;
}

/* query - prepare sql and step to its first row, which must exist */

static sqlite3_stmt *
query(const char *sql)
{
	sqlite3_stmt *s = NULL;
	int	 rc;

	rc = sqlite3_prepare_v2(reader(), sql, -1, &s, NULL);
	ck_assert_msg(rc == SQLITE_OK, "prepare \"%s\": got %s, want OK",
	    sql, sqlite3_errmsg(reader()));
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(s);
		ck_abort_msg("\"%s\": got no row (%d), want one", sql, rc);
	}
	return s;
}

/* q_int - the integer in the first column of the first row */

static int64_t
q_int(const char *sql)
{
	sqlite3_stmt *s = query(sql);
	int64_t	 v;

	ck_assert_msg(sqlite3_column_type(s, 0) == SQLITE_INTEGER,
	    "\"%s\": got column type %d, want an integer", sql,
	    sqlite3_column_type(s, 0));
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* q_null - is the first column of the first row NULL? */

static int
q_null(const char *sql)
{
	sqlite3_stmt *s = query(sql);
	int	 isnull = sqlite3_column_type(s, 0) == SQLITE_NULL;

	sqlite3_finalize(s);
	return isnull;
}

/* q_text - the text of the first column; NULL shows as "(null)" */

static const char *
q_text(const char *sql, char *buf, size_t bufsize)
{
	sqlite3_stmt *s = query(sql);
	const unsigned char *t = sqlite3_column_text(s, 0);

	snprintf(buf, bufsize, "%s", t ? (const char *)t : "(null)");
	sqlite3_finalize(s);
	return buf;
}

/* q_blob - a copy of the blob in the first column, and its length */

static void *
q_blob(const char *sql, size_t *len)
{
	sqlite3_stmt *s = query(sql);
	void	*copy;

	ck_assert_msg(sqlite3_column_type(s, 0) == SQLITE_BLOB,
	    "\"%s\": got column type %d, want a blob", sql,
	    sqlite3_column_type(s, 0));
	*len = (size_t)sqlite3_column_bytes(s, 0);
	if ((copy = malloc(*len + 1)) == NULL)
		ck_abort_msg("malloc: out of memory");
	if (*len > 0)
		memcpy(copy, sqlite3_column_blob(s, 0), *len);
	sqlite3_finalize(s);
	return copy;
}

/* Assertions on query results. */
#define Q_INT(sql, want)	TU_INT_EQ(q_int(sql), (want))
#define Q_NULL(sql)		ck_assert_msg(q_null(sql),		\
				    "\"%s\": got a value, want NULL", (sql))
#define Q_TEXT(sql, want) do {						\
	char q_buf_[1024];						\
									\
	TU_STR_EQ(q_text((sql), q_buf_, sizeof q_buf_), (want));	\
} while (0)
#define Q_BLOB_LIT(sql, lit)	Q_BLOB((sql), (lit), sizeof (lit) - 1)
#define Q_BLOB(sql, want, wlen) do {					\
	size_t q_len_;							\
	void *q_b_ = q_blob((sql), &q_len_);				\
									\
	TU_MEM_EQ(q_b_, q_len_, (want), (wlen));			\
	free(q_b_);							\
} while (0)

/* rec_begin - start a record of the usual session */

static void
rec_begin(int stage, uint32_t seq, uint32_t txn)
{
	sw_record_clear(&rec);
	rec.r_instance = INST;
	rec.r_session = SESS;
	rec.r_seq = seq;
	rec.r_time_us = T(seq);
	rec.r_stage = (uint8_t)stage;
	rec.r_txn = txn;
}

/* Field helpers that fail the test when memory runs out. */
#define ADD_STR(k, v)	TU_INT_EQ(sw_record_add_str(&rec, (k), (v)), 0)
#define ADD_INT(k, v)	TU_INT_EQ(sw_record_add_int(&rec, (k), (v)), 0)
#define ADD_NIL(k)	TU_INT_EQ(sw_record_add_nil(&rec, (k)), 0)
#define ADD_BYTES(k, v, n) \
	TU_INT_EQ(sw_record_add_bytes(&rec, (k), (v), (n)), 0)

/* put_want - store rec and expect rc (0 stored, 1 duplicate) */

static void
put_want(int want)
{
	int	 rc = store_put(st, &rec);

	ck_assert_msg(rc == want, "store_put stage %s seq %u: got %d (%s), "
	    "want %d", sw_stage_name(rec.r_stage), rec.r_seq, rc,
	    rc < 0 ? store_errmsg(st) : "-", want);
}

/* begin - open a store transaction */

static void
begin(void)
{
	ck_assert_msg(store_begin(st) == 0, "store_begin: got -1 (%s), "
	    "want 0", store_errmsg(st));
}

/* commit - commit the store transaction */

static void
commit(void)
{
	ck_assert_msg(store_commit(st) == 0, "store_commit: got -1 (%s), "
	    "want 0", store_errmsg(st));
}

/*
 * full_record - record n (1..FULL_RECORDS) of a complete session:
 * connect, HELO, TLS, AUTH, MAIL with parameters, an accepted and a
 * rejected RCPT, DATA, two headers, EOH, body, EOM, an unknown
 * command and close.
 */
static void
full_record(uint32_t n)
{
	switch (n) {
	case 1:
		rec_begin(SW_STAGE_CONNECT, n, 0);
		ADD_STR(SW_K_CLIENT_HOST, "mx.example.net");
		ADD_STR(SW_K_CLIENT_FAMILY, "inet");
		ADD_STR(SW_K_CLIENT_ADDR, "192.0.2.7");
		ADD_INT(SW_K_CLIENT_PORT, 41000);
		ADD_STR(SW_K_CLIENT_NAME, "mx.example.net");
		ADD_STR(SW_K_CLIENT_PTR, "mx.example.net");
		ADD_STR(SW_K_DAEMON_NAME, "smtpd");
		ADD_STR(SW_K_DAEMON_ADDR, "198.51.100.1");
		ADD_STR(SW_K_MTA_NAME, "mail.example.com");
		ADD_NIL(SW_K_MTA_VERSION);
		ADD_STR(SW_K_MISSING_MACRO, "v");
		break;
	case 2:
		rec_begin(SW_STAGE_HELO, n, 0);
		ADD_STR(SW_K_HELO, "client.example.net");
		break;
	case 3:
		rec_begin(SW_STAGE_TLS, n, 0);
		ADD_STR(SW_K_TLS_VERSION, "TLSv1.3");
		ADD_STR(SW_K_TLS_CIPHER, "TLS_AES_256_GCM_SHA384");
		ADD_STR(SW_K_TLS_BITS, "256");
		ADD_STR(SW_K_TLS_SUBJECT, "CN=client.example.net");
		ADD_STR(SW_K_TLS_ISSUER, "CN=Example CA");
		ADD_STR(SW_K_TLS_VERIFY, "OK");
		break;
	case 4:
		rec_begin(SW_STAGE_AUTH, n, 0);
		ADD_STR(SW_K_AUTH_TYPE, "PLAIN");
		ADD_STR(SW_K_AUTH_AUTHEN, "alice");
		ADD_NIL(SW_K_AUTH_AUTHOR);
		ADD_STR(SW_K_AUTH_SSF, "0");
		break;
	case 5:
		rec_begin(SW_STAGE_MAIL, n, 1);
		ADD_STR(SW_K_PATH, "<sender@example.com>");
		ADD_STR(SW_K_PARAM_KEY, "SIZE");
		ADD_STR(SW_K_PARAM_VALUE, "2048");
		ADD_STR(SW_K_PARAM_KEY, "BODY");
		ADD_STR(SW_K_PARAM_VALUE, "8BITMIME");
		ADD_STR(SW_K_PARAM_KEY, "SMTPUTF8");
		ADD_NIL(SW_K_PARAM_VALUE);
		ADD_STR(SW_K_AUTH_TYPE, "PLAIN");
		ADD_STR(SW_K_AUTH_AUTHEN, "alice");
		ADD_NIL(SW_K_AUTH_AUTHOR);
		break;
	case 6:
		rec_begin(SW_STAGE_RCPT, n, 1);
		ADD_STR(SW_K_PATH, "<bob@example.org>");
		ADD_INT(SW_K_RCPT_NO, 1);
		ADD_STR(SW_K_PARAM_KEY, "NOTIFY");
		ADD_STR(SW_K_PARAM_VALUE, "SUCCESS,FAILURE");
		ADD_STR(SW_K_PARAM_KEY, "ORCPT");
		ADD_STR(SW_K_PARAM_VALUE, "rfc822;bob@example.org");
		ADD_STR(SW_K_RCPT_MAILER, "smtp");
		ADD_STR(SW_K_RCPT_HOST, "example.org");
		ADD_STR(SW_K_RCPT_ADDR, "bob@example.org");
		ADD_INT(SW_K_RCPT_ACCEPTED, 1);
		break;
	case 7:
		rec_begin(SW_STAGE_RCPT, n, 1);
		ADD_STR(SW_K_PATH, "<nobody@example.org>");
		ADD_INT(SW_K_RCPT_NO, 2);
		ADD_STR(SW_K_RCPT_MAILER, "error");
		ADD_STR(SW_K_RCPT_HOST, "5.1.1");
		ADD_STR(SW_K_RCPT_ADDR, "User unknown");
		ADD_INT(SW_K_RCPT_ACCEPTED, 0);
		break;
	case 8:
		rec_begin(SW_STAGE_DATA, n, 1);
		ADD_STR(SW_K_QUEUE_ID, "4ABCDEF");
		break;
	case 9:
		rec_begin(SW_STAGE_HEADER, n, 1);
		ADD_INT(SW_K_HEADER_POS, 1);
		ADD_STR(SW_K_HEADER_NAME, "Subject");
		ADD_BYTES(SW_K_HEADER_VALUE, hval, HVAL_LEN);
		ADD_INT(SW_K_HEADER_LEN, (int64_t)HVAL_LEN);
		break;
	case 10:
		rec_begin(SW_STAGE_HEADER, n, 1);
		ADD_INT(SW_K_HEADER_POS, 2);
		ADD_STR(SW_K_HEADER_NAME, "X-Long");
		ADD_STR(SW_K_HEADER_VALUE, "abc");
		ADD_INT(SW_K_HEADER_LEN, 100000);
		ADD_INT(SW_K_HEADER_CUT, 1);
		break;
	case 11:
		rec_begin(SW_STAGE_EOH, n, 1);
		break;
	case 12:
		rec_begin(SW_STAGE_BODY, n, 1);
		ADD_INT(SW_K_BODY_SIZE, 1234);
		ADD_STR(SW_K_BODY_SHA256, SHA_EMPTY);
		ADD_INT(SW_K_BODY_CHUNKS, 2);
		break;
	case 13:
		rec_begin(SW_STAGE_EOM, n, 1);
		ADD_STR(SW_K_QUEUE_ID, "4ABCDEF");
		break;
	case 14:
		rec_begin(SW_STAGE_UNKNOWN, n, 0);
		ADD_STR(SW_K_COMMAND, "XYZZY");
		break;
	case 15:
		rec_begin(SW_STAGE_CLOSE, n, 0);
		ADD_STR(SW_K_REASON, "quit");
		ADD_INT(SW_K_DURATION_US, 5000000);
		ADD_INT(SW_K_N_TXN, 1);
		ADD_INT(SW_K_N_MSG, 1);
		ADD_INT(SW_K_N_RCPT, 2);
		ADD_INT(SW_K_N_UNKNOWN, 1);
		break;
	default:
		ck_abort_msg("full_record: got %u, want 1..%d", n,
		    FULL_RECORDS);
	}
}

/* store_full - the whole session in one store transaction */

static void
store_full(int want)
{
	uint32_t n;

	begin();
	for (n = 1; n <= FULL_RECORDS; n++) {
		full_record(n);
		put_want(want);
	}
	commit();
}

/* setup_full - a store that holds the full session */

static void
setup_full(void)
{
	setup();
	store_full(0);
}

/*
 * test_open_creates_schema - a new file gets schema version 1 and WAL
 * journaling.
 */
START_TEST(test_open_creates_schema)
{
	static const char *const tables[] = {
		"sessions", "transactions", "recipients", "esmtp_params",
		"headers", "auth_results", "tls_results", "events",
	};
	static const char *const views[] = {
		"transcript", "messages", "rejected_recipients",
		"auth_activity", "tls_usage", "volume_per_day",
	};
	char	 sql[256];
	size_t	 i;

	Q_INT("PRAGMA user_version", STORE_SCHEMA_VERSION);
	Q_TEXT("PRAGMA journal_mode", "wal");
	for (i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master"
		    " WHERE type = 'table' AND name = '%s'", tables[i]);
		ck_assert_msg(q_int(sql) == 1, "table %s: got none, want it",
		    tables[i]);
	}
	for (i = 0; i < sizeof views / sizeof views[0]; i++) {
		snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master"
		    " WHERE type = 'view' AND name = '%s'", views[i]);
		ck_assert_msg(q_int(sql) == 1, "view %s: got none, want it",
		    views[i]);
	}
	Q_INT("SELECT count(*) FROM sessions", 0);
}
END_TEST

/*
 * test_open_bad_path - a directory that does not exist: NULL and a reason
 * naming the path.
 */
START_TEST(test_open_bad_path)
{
	char	 path[PATH_MAX + 32], err[512];
	struct store *bad;

	snprintf(path, sizeof path, "%s/missing/dir/x.db", tmpdir);
	bad = store_open(path, BUSY_MS, err, sizeof err);
	ck_assert_msg(bad == NULL, "store_open %s: got a store, want NULL",
	    path);
	TU_STR_HAS(err, path);
}
END_TEST

/*
 * test_full_session_row - the session row: connect, HELO, TLS, AUTH and close
 * all land.
 */
START_TEST(test_full_session_row)
{
	Q_INT("SELECT count(*) FROM sessions", 1);
	Q_TEXT("SELECT instance_id FROM sessions" WHERE_SESS, INST_HEX);
	Q_INT("SELECT started_us FROM sessions" WHERE_SESS, T(1));
	Q_TEXT("SELECT started_utc FROM sessions" WHERE_SESS,
	    "2023-11-14 22:13:20.001000");
	Q_TEXT("SELECT client_host FROM sessions" WHERE_SESS,
	    "mx.example.net");
	Q_TEXT("SELECT client_family FROM sessions" WHERE_SESS, "inet");
	Q_TEXT("SELECT client_addr FROM sessions" WHERE_SESS, "192.0.2.7");
	Q_INT("SELECT client_port FROM sessions" WHERE_SESS, 41000);
	Q_TEXT("SELECT client_name FROM sessions" WHERE_SESS,
	    "mx.example.net");
	Q_TEXT("SELECT client_ptr FROM sessions" WHERE_SESS,
	    "mx.example.net");
	Q_TEXT("SELECT name_status FROM sessions" WHERE_SESS, "resolved");
	Q_TEXT("SELECT daemon_name FROM sessions" WHERE_SESS, "smtpd");
	Q_TEXT("SELECT daemon_addr FROM sessions" WHERE_SESS,
	    "198.51.100.1");
	Q_TEXT("SELECT mta_name FROM sessions" WHERE_SESS,
	    "mail.example.com");
	Q_NULL("SELECT mta_version FROM sessions" WHERE_SESS);
	Q_TEXT("SELECT connect_missing FROM sessions" WHERE_SESS, "v");
	Q_TEXT("SELECT helo FROM sessions" WHERE_SESS, "client.example.net");
	Q_INT("SELECT helo_count FROM sessions" WHERE_SESS, 1);
	Q_TEXT("SELECT tls_version FROM sessions" WHERE_SESS, "TLSv1.3");
	Q_TEXT("SELECT auth_type FROM sessions" WHERE_SESS, "PLAIN");
	Q_TEXT("SELECT auth_user FROM sessions" WHERE_SESS, "alice");
	Q_NULL("SELECT auth_failures FROM sessions" WHERE_SESS);
	Q_INT("SELECT ended_us FROM sessions" WHERE_SESS, T(15));
	Q_TEXT("SELECT ended_utc FROM sessions" WHERE_SESS,
	    "2023-11-14 22:13:20.015000");
	Q_INT("SELECT duration_us FROM sessions" WHERE_SESS, 5000000);
	Q_TEXT("SELECT close_reason FROM sessions" WHERE_SESS, "quit");
	Q_INT("SELECT n_transactions FROM sessions" WHERE_SESS, 1);
	Q_INT("SELECT n_messages FROM sessions" WHERE_SESS, 1);
	Q_INT("SELECT n_recipients FROM sessions" WHERE_SESS, 2);
	Q_INT("SELECT n_unknown FROM sessions" WHERE_SESS, 1);
}
END_TEST

/*
 * test_full_transaction_row - the transaction: envelope, counts, body and
 * outcome.
 */
START_TEST(test_full_transaction_row)
{
#define TXN	" FROM transactions" WHERE_SESS " AND txn_no = 1"
	Q_INT("SELECT count(*) FROM transactions", 1);
	Q_INT("SELECT started_us" TXN, T(5));
	Q_TEXT("SELECT state" TXN, "completed");
	Q_TEXT("SELECT last_stage" TXN, "eom");
	Q_INT("SELECT ended_us" TXN, T(13));
	Q_NULL("SELECT abort_reason" TXN);
	Q_BLOB_LIT("SELECT sender_path" TXN, "<sender@example.com>");
	Q_TEXT("SELECT sender" TXN, "sender@example.com");
	Q_TEXT("SELECT sender_domain" TXN, "example.com");
	Q_INT("SELECT is_null_sender" TXN, 0);
	Q_TEXT("SELECT auth_type" TXN, "PLAIN");
	Q_TEXT("SELECT auth_user" TXN, "alice");
	Q_NULL("SELECT auth_author" TXN);
	Q_TEXT("SELECT queue_id" TXN, "4ABCDEF");
	Q_INT("SELECT n_recipients" TXN, 2);
	Q_INT("SELECT n_rejected" TXN, 1);
	Q_INT("SELECT n_headers" TXN, 2);
	Q_INT("SELECT body_size" TXN, 1234);
	Q_TEXT("SELECT body_sha256" TXN, SHA_EMPTY);
	Q_INT("SELECT body_chunks" TXN, 2);
#undef TXN
}
END_TEST

/*
 * test_full_recipients - both recipients, the one the MTA refused with its
 * reply.
 */
START_TEST(test_full_recipients)
{
#define R1	" FROM recipients" WHERE_SESS " AND txn_no = 1 AND rcpt_no = 1"
#define R2	" FROM recipients" WHERE_SESS " AND txn_no = 1 AND rcpt_no = 2"
	Q_INT("SELECT count(*) FROM recipients", 2);
	Q_INT("SELECT time_us" R1, T(6));
	Q_BLOB_LIT("SELECT path" R1, "<bob@example.org>");
	Q_TEXT("SELECT recipient" R1, "bob@example.org");
	Q_INT("SELECT accepted" R1, 1);
	Q_NULL("SELECT mta_status" R1);
	Q_NULL("SELECT mta_reply" R1);
	Q_TEXT("SELECT rcpt_mailer" R1, "smtp");
	Q_TEXT("SELECT rcpt_host" R1, "example.org");
	Q_TEXT("SELECT rcpt_addr" R1, "bob@example.org");
	Q_TEXT("SELECT recipient" R2, "nobody@example.org");
	Q_INT("SELECT accepted" R2, 0);
	Q_TEXT("SELECT mta_status" R2, "5.1.1");
	Q_TEXT("SELECT mta_reply" R2, "User unknown");
	Q_TEXT("SELECT rcpt_mailer" R2, "error");
	Q_TEXT("SELECT recipient FROM rejected_recipients" WHERE_SESS,
	    "nobody@example.org");
#undef R1
#undef R2
}
END_TEST

/*
 * test_full_esmtp_params - MAIL parameters under rcpt_no 0, RCPT ones under
 * theirs, in order.
 */
START_TEST(test_full_esmtp_params)
{
#define P(r, pos) " FROM esmtp_params" WHERE_SESS " AND txn_no = 1" \
	" AND rcpt_no = " #r " AND position = " #pos
	Q_INT("SELECT count(*) FROM esmtp_params", 5);
	Q_INT("SELECT count(*) FROM esmtp_params WHERE rcpt_no = 0", 3);
	Q_TEXT("SELECT keyword" P(0, 1), "SIZE");
	Q_BLOB_LIT("SELECT value" P(0, 1), "2048");
	Q_TEXT("SELECT value_text" P(0, 1), "2048");
	Q_TEXT("SELECT keyword" P(0, 2), "BODY");
	Q_TEXT("SELECT value_text" P(0, 2), "8BITMIME");
	Q_TEXT("SELECT keyword" P(0, 3), "SMTPUTF8");
	Q_NULL("SELECT value" P(0, 3));
	Q_NULL("SELECT value_text" P(0, 3));
	Q_TEXT("SELECT keyword" P(1, 1), "NOTIFY");
	Q_TEXT("SELECT value_text" P(1, 1), "SUCCESS,FAILURE");
	Q_TEXT("SELECT keyword" P(1, 2), "ORCPT");
	Q_BLOB_LIT("SELECT value" P(1, 2), "rfc822;bob@example.org");
	Q_TEXT("SELECT value_text" P(1, 2), "rfc822;bob@example.org");
#undef P
}
END_TEST

/*
 * test_full_headers - headers: raw bytes byte-exact, the escaped copy beside
 * them.
 */
START_TEST(test_full_headers)
{
#define H(pos)	" FROM headers" WHERE_SESS " AND txn_no = 1 AND position = " \
	#pos
	char	*esc;
	size_t	 elen;

	Q_INT("SELECT count(*) FROM headers", 2);
	Q_BLOB_LIT("SELECT name" H(1), "Subject");
	Q_BLOB("SELECT value" H(1), hval, HVAL_LEN);
	Q_INT("SELECT length(value)" H(1), (int64_t)HVAL_LEN);
	Q_TEXT("SELECT name_text" H(1), "Subject");
	Q_TEXT("SELECT value_text" H(1), HVAL_TEXT);
	Q_INT("SELECT value_len" H(1), (int64_t)HVAL_LEN);
	Q_INT("SELECT cut" H(1), 0);

	/* The text column is exactly sw_escape() of the blob. */
	esc = sw_escape(hval, HVAL_LEN, &elen);
	Q_TEXT("SELECT value_text" H(1), esc);
	free(esc);

	Q_BLOB_LIT("SELECT value" H(2), "abc");
	Q_INT("SELECT value_len" H(2), 100000);
	Q_INT("SELECT cut" H(2), 1);
#undef H
}
END_TEST

/* test_full_auth_tls - the AUTH and TLS results of the session */
START_TEST(test_full_auth_tls)
{
#define A	" FROM auth_results" WHERE_SESS " AND seq = 4"
#define S	" FROM tls_results" WHERE_SESS " AND seq = 3"
	Q_INT("SELECT count(*) FROM auth_results", 1);
	Q_INT("SELECT time_us" A, T(4));
	Q_TEXT("SELECT mechanism" A, "PLAIN");
	Q_TEXT("SELECT authen" A, "alice");
	Q_NULL("SELECT author" A);
	Q_TEXT("SELECT ssf" A, "0");
	Q_INT("SELECT count(*) FROM tls_results", 1);
	Q_TEXT("SELECT version" S, "TLSv1.3");
	Q_TEXT("SELECT cipher" S, "TLS_AES_256_GCM_SHA384");
	Q_INT("SELECT cipher_bits" S, 256);
	Q_TEXT("SELECT cert_subject" S, "CN=client.example.net");
	Q_TEXT("SELECT cert_issuer" S, "CN=Example CA");
	Q_TEXT("SELECT verify" S, "OK");
	Q_INT("SELECT sessions FROM tls_usage WHERE version = 'TLSv1.3'", 1);
#undef A
#undef S
}
END_TEST

/*
 * test_full_events - one event per record, in order, with its text and raw
 * argument.
 */
START_TEST(test_full_events)
{
#define E(seq)	" FROM events" WHERE_SESS " AND instance_id = '" INST_HEX \
	"' AND seq = " #seq
	static const char harg[] = "Subject:caf\xc3\xa9 \0nul \xff\x80 "
	    "\x1b[1mbold";

	Q_INT("SELECT count(*) FROM events", FULL_RECORDS);
	Q_TEXT("SELECT group_concat(stage, ' ') FROM (SELECT stage FROM "
	    "events ORDER BY seq)", "connect helo tls auth mail rcpt rcpt "
	    "data header header eoh body eom unknown close");
	Q_INT("SELECT time_us" E(1), T(1));
	Q_TEXT("SELECT time_utc" E(1), "2023-11-14 22:13:20.001000");
	Q_TEXT("SELECT source" E(1), "milter");
	Q_NULL("SELECT txn_no" E(1));
	Q_TEXT("SELECT text" E(1), "connect from mx.example.net"
	    "[192.0.2.7]:41000 family=inet ptr=mx.example.net daemon=smtpd");
	Q_BLOB_LIT("SELECT arg" E(1), "mx.example.net");
	Q_TEXT("SELECT missing_macros" E(1), "v");
	Q_NULL("SELECT missing_macros" E(2));
	Q_TEXT("SELECT text" E(2), "HELO client.example.net");
	Q_TEXT("SELECT text" E(3), "TLS version=TLSv1.3 cipher="
	    "TLS_AES_256_GCM_SHA384 bits=256 verify=OK "
	    "subject=CN=client.example.net");
	Q_NULL("SELECT arg" E(3));
	Q_TEXT("SELECT text" E(4), "AUTH mechanism=PLAIN user=alice");
	Q_TEXT("SELECT text" E(5), "MAIL FROM:<sender@example.com> "
	    "SIZE=2048 BODY=8BITMIME SMTPUTF8");
	Q_INT("SELECT txn_no" E(5), 1);
	Q_BLOB_LIT("SELECT arg" E(5), "<sender@example.com> SIZE=2048 "
	    "BODY=8BITMIME SMTPUTF8");
	Q_TEXT("SELECT text" E(6), "RCPT TO:<bob@example.org> "
	    "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.org");
	Q_TEXT("SELECT text" E(7), "RCPT TO:<nobody@example.org> -- "
	    "rejected by the MTA: 5.1.1 User unknown");
	Q_TEXT("SELECT text" E(8), "DATA");
	Q_TEXT("SELECT text" E(9), "Subject:" HVAL_TEXT);
	Q_BLOB("SELECT arg" E(9), harg, sizeof harg - 1);
	Q_TEXT("SELECT text" E(10), "X-Long:abc [cut, 100000 bytes in all]");
	Q_TEXT("SELECT text" E(11), "end of headers");
	Q_TEXT("SELECT text" E(12), "body size=1234 sha256=" SHA_EMPTY
	    " chunks=2");
	Q_TEXT("SELECT text" E(13), "end of message queue_id=4ABCDEF");
	Q_TEXT("SELECT text" E(14), "unknown command: XYZZY");
	Q_BLOB_LIT("SELECT arg" E(14), "XYZZY");
	Q_TEXT("SELECT text" E(15), "close: quit transactions=1 messages=1 "
	    "recipients=2");
#undef E
}
END_TEST

/*
 * test_view_transcript - the transcript view: every event of the session, in
 * order.
 */
START_TEST(test_view_transcript)
{
	Q_INT("SELECT count(*) FROM transcript" WHERE_SESS, FULL_RECORDS);
	Q_TEXT("SELECT text FROM transcript" WHERE_SESS " LIMIT 1",
	    "connect from mx.example.net[192.0.2.7]:41000 family=inet "
	    "ptr=mx.example.net daemon=smtpd");
	Q_TEXT("SELECT group_concat(seq, ',') FROM (SELECT seq FROM "
	    "transcript" WHERE_SESS ")",
	    "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15");
	Q_TEXT("SELECT time FROM transcript" WHERE_SESS " AND seq = 15",
	    "2023-11-14 22:13:20.015000");
}
END_TEST

/* test_view_messages - the messages view: one row, accepted recipients only. */
START_TEST(test_view_messages)
{
	Q_INT("SELECT count(*) FROM messages", 1);
	Q_TEXT("SELECT sender FROM messages", "sender@example.com");
	Q_TEXT("SELECT recipients FROM messages", "bob@example.org");
	Q_INT("SELECT rejected FROM messages", 1);
	Q_TEXT("SELECT client FROM messages", "192.0.2.7");
	Q_TEXT("SELECT auth_user FROM messages", "alice");
	Q_TEXT("SELECT queue_id FROM messages", "4ABCDEF");
	Q_INT("SELECT size FROM messages", 1234);
	Q_TEXT("SELECT outcome FROM messages", "accepted");
	Q_INT("SELECT count(*) FROM auth_activity WHERE auth_user = "
	    "'alice'", 1);
	Q_INT("SELECT sessions FROM volume_per_day WHERE day = "
	    "'2023-11-14'", 1);
}
END_TEST

/*
 * test_duplicate_record - the same record twice: 1 the second time, and one row
 * of each.
 */
START_TEST(test_duplicate_record)
{
	begin();
	full_record(1);
	put_want(0);
	full_record(2);
	put_want(0);
	full_record(2);
	put_want(1);
	full_record(5);
	put_want(0);
	full_record(6);
	put_want(0);
	full_record(6);
	put_want(1);
	commit();
	Q_INT("SELECT count(*) FROM events", 4);
	Q_INT("SELECT helo_count FROM sessions", 1);
	Q_INT("SELECT count(*) FROM recipients", 1);
	Q_INT("SELECT n_recipients FROM transactions", 1);
	Q_INT("SELECT count(*) FROM esmtp_params", 5);
}
END_TEST

/*
 * test_duplicate_batch - a whole batch sent again after it was committed
 * changes nothing.
 */
START_TEST(test_duplicate_batch)
{
	store_full(1);
	Q_INT("SELECT count(*) FROM events", FULL_RECORDS);
	Q_INT("SELECT count(*) FROM sessions", 1);
	Q_INT("SELECT count(*) FROM transactions", 1);
	Q_INT("SELECT count(*) FROM recipients", 2);
	Q_INT("SELECT count(*) FROM headers", 2);
	Q_INT("SELECT count(*) FROM esmtp_params", 5);
	Q_INT("SELECT n_recipients FROM transactions", 2);
	Q_INT("SELECT n_rejected FROM transactions", 1);
	Q_INT("SELECT n_headers FROM transactions", 2);
	Q_INT("SELECT helo_count FROM sessions", 1);
}
END_TEST

/*
 * test_duplicate_after_reopen - exactly once holds across a restart of the
 * daemon.
 */
START_TEST(test_duplicate_after_reopen)
{
	char	 err[512];

	store_close(st);
	st = store_open(dbpath, BUSY_MS, err, sizeof err);
	ck_assert_msg(st != NULL, "reopen: got NULL (%s), want a store",
	    err);
	full_record(9);
	put_want(1);
	Q_INT("SELECT count(*) FROM headers", 2);
	Q_INT("SELECT n_headers FROM transactions", 2);
}
END_TEST

/*
 * test_other_instance_not_duplicate - the key is (instance, session, seq):
 * another instance is new.
 */
START_TEST(test_other_instance_not_duplicate)
{
	full_record(2);
	put_want(0);
	rec.r_instance = INST + 1;
	put_want(0);
	Q_INT("SELECT count(*) FROM events", 2);
	Q_INT("SELECT helo_count FROM sessions", 2);
}
END_TEST

/*
 * test_placeholder_session - a record whose session's connect never arrived
 * still stores.
 */
START_TEST(test_placeholder_session)
{
	rec_begin(SW_STAGE_HELO, 2, 0);
	ADD_STR(SW_K_HELO, "lost.example.net");
	put_want(0);
	Q_INT("SELECT count(*) FROM sessions", 1);
	Q_TEXT("SELECT instance_id FROM sessions" WHERE_SESS, INST_HEX);
	Q_INT("SELECT started_us FROM sessions" WHERE_SESS, T(2));
	Q_NULL("SELECT client_host FROM sessions" WHERE_SESS);
	Q_NULL("SELECT name_status FROM sessions" WHERE_SESS);
	Q_TEXT("SELECT helo FROM sessions" WHERE_SESS, "lost.example.net");
	Q_INT("SELECT count(*) FROM transcript", 1);
}
END_TEST

/*
 * test_placeholder_transaction - a recipient with neither connect nor MAIL:
 * both parents appear.
 */
START_TEST(test_placeholder_transaction)
{
	full_record(7);
	put_want(0);
	Q_INT("SELECT count(*) FROM sessions", 1);
	Q_INT("SELECT count(*) FROM transactions", 1);
	Q_TEXT("SELECT state FROM transactions", "open");
	Q_INT("SELECT started_us FROM transactions", T(7));
	Q_NULL("SELECT sender FROM transactions");
	Q_INT("SELECT n_rejected FROM transactions", 1);
	Q_TEXT("SELECT recipient FROM recipients", "nobody@example.org");
	Q_TEXT("SELECT outcome FROM messages", "open");
}
END_TEST

/*
 * test_late_connect - the connect record arriving late fills in the
 * placeholder.
 */
START_TEST(test_late_connect)
{
	full_record(2);
	put_want(0);
	full_record(1);
	put_want(0);
	Q_INT("SELECT count(*) FROM sessions", 1);
	Q_INT("SELECT started_us FROM sessions", T(1));
	Q_TEXT("SELECT client_addr FROM sessions", "192.0.2.7");
	Q_TEXT("SELECT helo FROM sessions", "client.example.net");
	Q_TEXT("SELECT group_concat(stage, ' ') FROM (SELECT stage FROM "
	    "transcript)", "connect helo");
}
END_TEST

/*
 * test_abort - an abort (RSET) marks the transaction aborted, with its reason.
 */
START_TEST(test_abort)
{
	full_record(5);
	put_want(0);
	full_record(6);
	put_want(0);
	rec_begin(SW_STAGE_ABORT, 7, 1);
	ADD_STR(SW_K_REASON, "RSET");
	put_want(0);
	Q_TEXT("SELECT state FROM transactions WHERE txn_no = 1", "aborted");
	Q_TEXT("SELECT abort_reason FROM transactions", "RSET");
	Q_INT("SELECT ended_us FROM transactions", T(7));
	Q_TEXT("SELECT ended_utc FROM transactions",
	    "2023-11-14 22:13:20.007000");
	Q_TEXT("SELECT last_stage FROM transactions", "rcpt");
	Q_TEXT("SELECT outcome FROM messages", "aborted: RSET");
	Q_TEXT("SELECT text FROM events WHERE seq = 7", "abort: RSET");

	/* A second transaction on the same session is kept apart. */
	rec_begin(SW_STAGE_MAIL, 8, 2);
	ADD_STR(SW_K_PATH, "<carol@example.com>");
	put_want(0);
	rec_begin(SW_STAGE_EOM, 9, 2);
	put_want(0);
	Q_INT("SELECT count(*) FROM transactions", 2);
	Q_TEXT("SELECT state FROM transactions WHERE txn_no = 2",
	    "completed");
	Q_INT("SELECT n_recipients FROM transactions WHERE txn_no = 2", 0);
	Q_TEXT("SELECT state FROM transactions WHERE txn_no = 1", "aborted");
}
END_TEST

/*
 * test_abort_without_transaction - an abort outside any transaction is an event
 * only.
 */
START_TEST(test_abort_without_transaction)
{
	rec_begin(SW_STAGE_ABORT, 3, 0);
	ADD_STR(SW_K_REASON, "RSET");
	put_want(0);
	Q_INT("SELECT count(*) FROM transactions", 0);
	Q_INT("SELECT count(*) FROM events", 1);
}
END_TEST

/* test_null_sender - MAIL FROM:<> is the null sender, not a missing one. */
START_TEST(test_null_sender)
{
	rec_begin(SW_STAGE_MAIL, 5, 1);
	ADD_STR(SW_K_PATH, "<>");
	put_want(0);
	Q_TEXT("SELECT sender FROM transactions", "");
	Q_INT("SELECT is_null_sender FROM transactions", 1);
	Q_NULL("SELECT sender_domain FROM transactions");
	Q_BLOB_LIT("SELECT sender_path FROM transactions", "<>");
	Q_TEXT("SELECT sender FROM messages", "<>");
}
END_TEST

/*
 * test_name_status - how the MTA named the client: unknown, a literal, or
 * resolved.
 */
START_TEST(test_name_status)
{
	rec_begin(SW_STAGE_CONNECT, 1, 0);
	ADD_STR(SW_K_CLIENT_HOST, "[192.0.2.9]");
	ADD_STR(SW_K_CLIENT_NAME, "unknown");
	put_want(0);
	Q_TEXT("SELECT name_status FROM sessions", "unknown");

	rec_begin(SW_STAGE_CONNECT, 1, 0);
	rec.r_session = SESS + 1;
	ADD_STR(SW_K_CLIENT_HOST, "[192.0.2.9]");
	put_want(0);
	Q_TEXT("SELECT name_status FROM sessions WHERE session_id = "
	    "'1234567890abcdf0'", "literal");

	rec_begin(SW_STAGE_CONNECT, 1, 0);
	rec.r_session = SESS + 2;
	ADD_STR(SW_K_CLIENT_HOST, "unknown");
	ADD_STR(SW_K_CLIENT_FAMILY, "unknown");
	put_want(0);
	Q_TEXT("SELECT name_status FROM sessions WHERE session_id = "
	    "'1234567890abcdf1'", "unknown");
	Q_NULL("SELECT client_addr FROM sessions WHERE session_id = "
	    "'1234567890abcdf1'");
}
END_TEST

/* test_helo_twice - HELO twice: the count goes up and the last name is kept. */
START_TEST(test_helo_twice)
{
	rec_begin(SW_STAGE_HELO, 2, 0);
	ADD_STR(SW_K_HELO, "first.example.net");
	put_want(0);
	rec_begin(SW_STAGE_HELO, 3, 0);
	ADD_STR(SW_K_HELO, "second.example.net");
	put_want(0);
	Q_INT("SELECT helo_count FROM sessions", 2);
	Q_TEXT("SELECT helo FROM sessions", "second.example.net");
}
END_TEST

/*
 * test_header_cut_without_len - a cut header whose length field is missing
 * stores, not crashes.
 */
START_TEST(test_header_cut_without_len)
{
	rec_begin(SW_STAGE_HEADER, 9, 1);
	ADD_INT(SW_K_HEADER_POS, 1);
	ADD_STR(SW_K_HEADER_NAME, "X-Odd");
	ADD_STR(SW_K_HEADER_VALUE, "abc");
	ADD_INT(SW_K_HEADER_CUT, 1);
	put_want(0);
	Q_INT("SELECT cut FROM headers", 1);
	Q_INT("SELECT value_len FROM headers", 3);
	Q_TEXT("SELECT text FROM events", "X-Odd:abc [cut]");
}
END_TEST

/*
 * test_header_nil - a header with nil name and value stores as two empty blobs.
 */
START_TEST(test_header_nil)
{
	rec_begin(SW_STAGE_HEADER, 9, 1);
	ADD_NIL(SW_K_HEADER_NAME);
	ADD_NIL(SW_K_HEADER_VALUE);
	put_want(0);
	Q_INT("SELECT length(name) FROM headers", 0);
	Q_INT("SELECT typeof(value) = 'blob' FROM headers", 1);
	Q_TEXT("SELECT value_text FROM headers", "");
	Q_INT("SELECT position FROM headers", 9);
}
END_TEST

/* test_two_sessions - records of two sessions mixed in one batch stay apart. */
START_TEST(test_two_sessions)
{
	uint32_t n;

	begin();
	for (n = 1; n <= FULL_RECORDS; n++) {
		full_record(n);
		put_want(0);
		full_record(n);
		rec.r_session = SESS + 1;
		put_want(0);
	}
	commit();
	Q_INT("SELECT count(*) FROM sessions", 2);
	Q_INT("SELECT count(*) FROM events", 2 * FULL_RECORDS);
	Q_INT("SELECT count(*) FROM recipients", 4);
	Q_INT("SELECT n_recipients FROM transactions" WHERE_SESS, 2);
	Q_INT("SELECT count(*) FROM messages", 2);
}
END_TEST

/*
 * test_rollback - a rolled-back record is not stored, so sending it again is
 * new.
 */
START_TEST(test_rollback)
{
	begin();
	full_record(1);
	put_want(0);
	store_rollback(st);
	Q_INT("SELECT count(*) FROM events", 0);
	Q_INT("SELECT count(*) FROM sessions", 0);
	put_want(0);
	Q_INT("SELECT count(*) FROM events", 1);

	/* Rolling back with nothing open is harmless. */
	store_rollback(st);
	Q_INT("SELECT count(*) FROM events", 1);
}
END_TEST

/*
 * test_error_not_busy - a failure that is not BUSY says why and is not worth a
 * retry.
 */
START_TEST(test_error_not_busy)
{
	ck_assert_msg(store_commit(st) == -1, "commit with nothing open: "
	    "got 0, want -1");
	TU_STR_HAS(store_errmsg(st), "no transaction is active");
	ck_assert_msg(!store_busy(st), "store_busy: got true, want false");
}
END_TEST

/*
 * test_many_recipients - many recipients in one transaction: every one kept,
 * counts right.
 */
START_TEST(test_many_recipients)
{
	static char paths[MANY_RCPTS][40];
	uint32_t i;

	begin();
	full_record(5);
	put_want(0);
	for (i = 0; i < MANY_RCPTS; i++) {
		snprintf(paths[i], sizeof paths[i], "<user%u@example.org>",
		    i + 1);
		rec_begin(SW_STAGE_RCPT, 6 + i, 1);
		ADD_STR(SW_K_PATH, paths[i]);
		ADD_INT(SW_K_RCPT_NO, i + 1);
		ADD_STR(SW_K_RCPT_MAILER, i % 10 == 0 ? "error" : "smtp");
		ADD_INT(SW_K_RCPT_ACCEPTED, i % 10 != 0);
		put_want(0);
	}
	commit();
	Q_INT("SELECT count(*) FROM recipients", MANY_RCPTS);
	Q_INT("SELECT n_recipients FROM transactions", MANY_RCPTS);
	Q_INT("SELECT n_rejected FROM transactions", MANY_RCPTS / 10);
	Q_TEXT("SELECT recipient FROM recipients WHERE rcpt_no = 5000",
	    "user5000@example.org");
}
END_TEST

/* test_reopen - closing and opening again keeps the data and takes more. */
START_TEST(test_reopen)
{
	char	 err[512];

	store_close(st);
	st = store_open(dbpath, BUSY_MS, err, sizeof err);
	ck_assert_msg(st != NULL, "reopen: got NULL (%s), want a store",
	    err);
	Q_INT("PRAGMA user_version", STORE_SCHEMA_VERSION);
	Q_INT("SELECT count(*) FROM events", FULL_RECORDS);
	Q_INT("SELECT count(*) FROM transcript", FULL_RECORDS);
	rec_begin(SW_STAGE_HELO, 1, 0);
	rec.r_session = SESS + 7;
	ADD_STR(SW_K_HELO, "after.example.net");
	put_want(0);
	Q_INT("SELECT count(*) FROM sessions", 2);
}
END_TEST

/*
 * test_newer_schema_refused - a database from a newer smtpwardend is refused,
 * with the reason.
 */
START_TEST(test_newer_schema_refused)
{
	char	 err[512];
	char	*emsg = NULL;

	store_close(st);
	st = NULL;
	ck_assert_msg(sqlite3_exec(reader(), "PRAGMA user_version = 99",
	    NULL, NULL, &emsg) == SQLITE_OK, "set user_version: got %s, "
	    "want OK", emsg ? emsg : "?");
	sqlite3_close(rdb);
	rdb = NULL;
	st = store_open(dbpath, BUSY_MS, err, sizeof err);
	ck_assert_msg(st == NULL, "store_open: got a store, want NULL");
	TU_STR_HAS(err, dbpath);
	TU_STR_HAS(err, "schema version 99 is newer than this "
	    "smtpwardend (1)");
}
END_TEST

/*
 * test_busy - another writer holding the lock: BUSY, reported as worth a retry.
 */
START_TEST(test_busy)
{
	char	 err[512];
	char	*emsg = NULL;
	sqlite3	*other;

	store_close(st);
	st = store_open(dbpath, SHORT_BUSY_MS, err, sizeof err);
	ck_assert_msg(st != NULL, "store_open: got NULL (%s), want a store",
	    err);
	ck_assert_msg(sqlite3_open(dbpath, &other) == SQLITE_OK,
	    "open second connection: got %s, want OK",
	    sqlite3_errmsg(other));
	ck_assert_msg(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL,
	    &emsg) == SQLITE_OK, "BEGIN EXCLUSIVE: got %s, want OK",
	    emsg ? emsg : "?");

	ck_assert_msg(store_begin(st) == -1, "store_begin under a lock: "
	    "got 0, want -1");
	ck_assert_msg(store_busy(st), "store_busy: got false (%s), want true",
	    store_errmsg(st));
	TU_STR_HAS(store_errmsg(st), "locked");

	/* Once the other writer is done, the same call succeeds. */
	ck_assert_msg(sqlite3_exec(other, "COMMIT", NULL, NULL, &emsg) ==
	    SQLITE_OK, "COMMIT: got %s, want OK", emsg ? emsg : "?");
	sqlite3_close(other);
	begin();
	full_record(1);
	put_want(0);
	commit();
	Q_INT("SELECT count(*) FROM events", 1);
}
END_TEST

/* store_suite - the store's tests, grouped by concern */

static Suite *
store_suite(void)
{
	Suite	*s = suite_create("store");
	TCase	*tc;

	tc = tcase_create("open");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_open_creates_schema);
	tcase_add_test(tc, test_open_bad_path);
	tcase_add_test(tc, test_newer_schema_refused);
	tcase_add_test(tc, test_busy);
	tcase_add_test(tc, test_error_not_busy);
	suite_add_tcase(s, tc);

	tc = tcase_create("full_session");
	tcase_add_checked_fixture(tc, setup_full, teardown);
	tcase_add_test(tc, test_full_session_row);
	tcase_add_test(tc, test_full_transaction_row);
	tcase_add_test(tc, test_full_recipients);
	tcase_add_test(tc, test_full_esmtp_params);
	tcase_add_test(tc, test_full_headers);
	tcase_add_test(tc, test_full_auth_tls);
	tcase_add_test(tc, test_full_events);
	tcase_add_test(tc, test_view_transcript);
	tcase_add_test(tc, test_view_messages);
	tcase_add_test(tc, test_duplicate_batch);
	tcase_add_test(tc, test_duplicate_after_reopen);
	tcase_add_test(tc, test_reopen);
	suite_add_tcase(s, tc);

	tc = tcase_create("records");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_duplicate_record);
	tcase_add_test(tc, test_other_instance_not_duplicate);
	tcase_add_test(tc, test_placeholder_session);
	tcase_add_test(tc, test_placeholder_transaction);
	tcase_add_test(tc, test_late_connect);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_abort_without_transaction);
	tcase_add_test(tc, test_null_sender);
	tcase_add_test(tc, test_name_status);
	tcase_add_test(tc, test_helo_twice);
	tcase_add_test(tc, test_header_cut_without_len);
	tcase_add_test(tc, test_header_nil);
	tcase_add_test(tc, test_two_sessions);
	tcase_add_test(tc, test_rollback);
	tcase_add_test(tc, test_many_recipients);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite; the exit status tells make check the result */

int
main(void)
{
	SRunner	*sr = srunner_create(store_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
