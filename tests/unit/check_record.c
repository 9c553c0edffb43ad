/*
 * check_record.c - unit tests of lib/record.c (sw_record.h): the
 * transcript record in MessagePack, the batch and ack around it, and
 * the length-prefixed frames that carry them over a unix socket.
 *
 * Bad records are built element by element with msgpack-c, so each
 * test changes exactly one thing in an otherwise valid record and
 * checks the reason sw_record_unpack() gives.
 *
 * DIAGNOSTICS: failures read "got X, want Y".
 * BUGS: none known.
 */

#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <msgpack.h>

#include "sw_record.h"
#include "sw_util.h"
#include "testutil.h"

#define NELEM(a)	(sizeof (a) / sizeof (a)[0])

/* Field counts of the "huge record" tests (a session gone wild). */
#define MANY_MISSING	10000
#define MANY_RCPTS	5000

/* A frame big enough that the writer must wait for the reader. */
#define BIG_FRAME	(1024 * 1024)

/* One element of a hand-built record. */
enum elem_type {
	E_UINT,		/* positive integer e_u */
	E_INT,		/* integer e_i, negative or not */
	E_STR,		/* msgpack str (not bin) e_s */
	E_BIN,		/* msgpack bin e_s */
	E_NIL,
	E_BOOL,
	E_FLOAT,
	E_MAP,		/* an empty map */
	E_FIELDS	/* the field array given separately */
};

struct elem {
	enum elem_type	 e_type;
	uint64_t	 e_u;
	int64_t		 e_i;
	const char	*e_s;
};

static int	sp[2] = { -1, -1 };	/* socketpair of the frame tests */
static msgpack_sbuffer sbuf;
static msgpack_unpacked msg;
static struct sw_record rec, out;

/* setup - empty buffers and records, and a connected socket pair */

static void
setup(void)
{
	msgpack_sbuffer_init(&sbuf);
	msgpack_unpacked_init(&msg);
	sw_record_init(&rec);
	sw_record_init(&out);
	ck_assert_msg(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0,
	    "socketpair: got %s, want a pair", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
}

/* teardown - free what setup made */

static void
teardown(void)
{
	msgpack_sbuffer_destroy(&sbuf);
	msgpack_unpacked_destroy(&msg);
	sw_record_free(&rec);
	sw_record_free(&out);
	if (sp[0] >= 0)
		close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	sp[0] = sp[1] = -1;
}

/* pack_elem - one element of a hand-built record */

static void
pack_elem(msgpack_packer *pk, const struct elem *e)
{
	switch (e->e_type) {
	case E_UINT:
		msgpack_pack_uint64(pk, e->e_u);
		break;
	case E_INT:
		msgpack_pack_int64(pk, e->e_i);
		break;
	case E_STR:
		msgpack_pack_str(pk, strlen(e->e_s));
		msgpack_pack_str_body(pk, e->e_s, strlen(e->e_s));
		break;
	case E_BIN:
		msgpack_pack_bin(pk, strlen(e->e_s));
		msgpack_pack_bin_body(pk, e->e_s, strlen(e->e_s));
		break;
	case E_NIL:
		msgpack_pack_nil(pk);
		break;
	case E_BOOL:
		msgpack_pack_true(pk);
		break;
	case E_FLOAT:
		msgpack_pack_double(pk, 1.5);
		break;
	case E_MAP:
		msgpack_pack_map(pk, 0);
		break;
	case E_FIELDS:
		break;	/* packed by the caller */
	}
}

/*
 * pack_raw - a record array of top elements; E_FIELDS stands for an
 * array of the given field elements.
 */
static void
pack_raw(const struct elem *top, size_t ntop, const struct elem *fields,
    size_t nfields)
{
	msgpack_packer pk;
	size_t	 i, j;

	msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, ntop);
	for (i = 0; i < ntop; i++) {
		if (top[i].e_type != E_FIELDS) {
			pack_elem(&pk, &top[i]);
			continue;
		}
		msgpack_pack_array(&pk, nfields);
		for (j = 0; j < nfields; j++)
			pack_elem(&pk, &fields[j]);
	}
}

/* unpack_sbuf - the one object in sbuf into msg */

static const msgpack_object *
unpack_sbuf(void)
{
	int	 rc = msgpack_unpack_next(&msg, sbuf.data, sbuf.size, NULL);

	ck_assert_msg(rc == MSGPACK_UNPACK_SUCCESS, "msgpack_unpack_next: "
	    "got %d, want MSGPACK_UNPACK_SUCCESS", rc);
	return &msg.data;
}

/* A valid record: version, instance, session, seq, time, stage, txn. */
static const struct elem good_top[8] = {
	{ E_UINT, SW_RECORD_VERSION, 0, NULL },
	{ E_UINT, 0x1122334455667788ull, 0, NULL },
	{ E_UINT, 0xa1b2c3d4e5f60718ull, 0, NULL },
	{ E_UINT, 7, 0, NULL },
	{ E_INT, 0, 1700000000000000ll, NULL },
	{ E_UINT, SW_STAGE_MAIL, 0, NULL },
	{ E_UINT, 1, 0, NULL },
	{ E_FIELDS, 0, 0, NULL },
};

static const struct elem good_fields[4] = {
	{ E_UINT, SW_K_PATH, 0, NULL },
	{ E_BIN, 0, 0, "<a@example.com>" },
	{ E_UINT, SW_K_QUEUE_ID, 0, NULL },
	{ E_NIL, 0, 0, NULL },
};

/*
 * expect_reject - the good record with top element idx (or, if idx is
 * -1, the field list) replaced must be refused for reason why.
 */
static void
expect_reject(int idx, struct elem repl, const struct elem *fields,
    size_t nfields, const char *why)
{
	struct elem top[8];
	const char *got = NULL;
	int	 rc;

	memcpy(top, good_top, sizeof top);
	if (idx >= 0)
		top[idx] = repl;
	if (fields == NULL) {
		fields = good_fields;
		nfields = NELEM(good_fields);
	}
	pack_raw(top, NELEM(top), fields, nfields);
	rc = sw_record_unpack(unpack_sbuf(), &out, &got);
	ck_assert_msg(rc == -1, "unpack (%s): got %d, want -1", why, rc);
	TU_STR_EQ(got, why);
}

/* check_same - out holds exactly what rec held */

static void
check_same(const struct sw_record *want, const struct sw_record *got)
{
	size_t	 i;

	TU_UINT_EQ(got->r_instance, want->r_instance);
	TU_UINT_EQ(got->r_session, want->r_session);
	TU_UINT_EQ(got->r_seq, want->r_seq);
	TU_INT_EQ(got->r_time_us, want->r_time_us);
	TU_UINT_EQ(got->r_stage, want->r_stage);
	TU_UINT_EQ(got->r_txn, want->r_txn);
	TU_UINT_EQ(got->r_nfields, want->r_nfields);
	for (i = 0; i < want->r_nfields; i++) {
		const struct sw_field *w = &want->r_fields[i];
		const struct sw_field *g = &got->r_fields[i];

		ck_assert_msg(g->f_key == w->f_key && g->f_type == w->f_type,
		    "field %zu: got key %u type %u, want key %u type %u", i,
		    g->f_key, g->f_type, w->f_key, w->f_type);
		if (w->f_type == SW_V_INT)
			ck_assert_msg(g->f_int == w->f_int, "field %zu: got "
			    "%lld, want %lld", i, (long long)g->f_int,
			    (long long)w->f_int);
		else if (w->f_type == SW_V_BYTES)
			TU_MEM_EQ(g->f_data, g->f_len, w->f_data, w->f_len);
	}
}

/* round_trip - pack rec, unpack it into out, compare */

static void
round_trip(void)
{
	const char *why = NULL;
	int	 rc;

	TU_INT_EQ(sw_record_pack(&rec, &sbuf), 0);
	rc = sw_record_unpack(unpack_sbuf(), &out, &why);
	ck_assert_msg(rc == 0, "unpack: got %d (%s), want 0", rc,
	    why ? why : "-");
	check_same(&rec, &out);
}

/*
 * test_round_trip_fields - bytes with NUL and 8-bit, ints at both ends, nil,
 * repeats, empty.
 */
START_TEST(test_round_trip_fields)
{
	static const char header[] = "v\0a\xff\x80l\xc3\xa9\0";

	rec.r_instance = UINT64_MAX;
	rec.r_session = 0x0123456789abcdefull;
	rec.r_seq = UINT32_MAX;
	rec.r_time_us = -1;
	rec.r_stage = SW_STAGE_HEADER;
	rec.r_txn = UINT32_MAX;
	TU_INT_EQ(sw_record_add_bytes(&rec, SW_K_HEADER_VALUE, header,
	    sizeof header - 1), 0);
	TU_INT_EQ(sw_record_add_int(&rec, SW_K_HEADER_LEN, INT64_MIN), 0);
	TU_INT_EQ(sw_record_add_int(&rec, SW_K_HEADER_POS, INT64_MAX), 0);
	TU_INT_EQ(sw_record_add_int(&rec, SW_K_BODY_SIZE, -12345), 0);
	TU_INT_EQ(sw_record_add_int(&rec, SW_K_BODY_CHUNKS, 0), 0);
	TU_INT_EQ(sw_record_add_int(&rec, SW_K_DURATION_US,
	    (int64_t)1 << 40), 0);
	TU_INT_EQ(sw_record_add_nil(&rec, SW_K_QUEUE_ID), 0);
	TU_INT_EQ(sw_record_add_str(&rec, SW_K_MISSING_MACRO, "i"), 0);
	TU_INT_EQ(sw_record_add_str(&rec, SW_K_MISSING_MACRO,
	    "{auth_type}"), 0);
	TU_INT_EQ(sw_record_add_str(&rec, SW_K_MISSING_MACRO, "j"), 0);
	TU_INT_EQ(sw_record_add_bytes(&rec, SW_K_HEADER_NAME, "", 0), 0);
	TU_INT_EQ(sw_record_add_str(&rec, SW_K_REASON, NULL), 0);
	round_trip();

	/* Repeated keys keep their order; find() gives the first. */
	TU_MEM_EQ(out.r_fields[7].f_data, out.r_fields[7].f_len, "i", 1);
	TU_MEM_EQ(out.r_fields[8].f_data, out.r_fields[8].f_len,
	    "{auth_type}", 11);
	TU_MEM_EQ(out.r_fields[9].f_data, out.r_fields[9].f_len, "j", 1);
	ck_assert_msg(sw_record_find(&out, SW_K_MISSING_MACRO) ==
	    &out.r_fields[7], "find: got another field, want the first");

	/* Zero-length bytes stay bytes, not nil; NULL strings are nil. */
	TU_UINT_EQ(out.r_fields[10].f_type, SW_V_BYTES);
	TU_UINT_EQ(out.r_fields[10].f_len, 0);
	TU_UINT_EQ(out.r_fields[11].f_type, SW_V_NIL);
	TU_UINT_EQ(out.r_fields[6].f_type, SW_V_NIL);
}
END_TEST

/*
 * test_round_trip_no_fields - a record with no fields at all, instance 0 and
 * time at its limits.
 */
START_TEST(test_round_trip_no_fields)
{
	rec.r_instance = 0;
	rec.r_session = 1;
	rec.r_seq = 1;
	rec.r_time_us = INT64_MIN;
	rec.r_stage = SW_STAGE_CLOSE;
	rec.r_txn = 0;
	round_trip();
	msgpack_sbuffer_clear(&sbuf);
	rec.r_time_us = INT64_MAX;
	rec.r_stage = SW_STAGE_MAX - 1;
	round_trip();
}
END_TEST

/*
 * test_round_trip_each_stage - every stage from connect to close is valid on
 * the wire.
 */
START_TEST(test_round_trip_each_stage)
{
	rec.r_session = 42;
	rec.r_seq = 1;
	rec.r_stage = (uint8_t)_i;
	round_trip();
}
END_TEST

/*
 * test_unpack_reuses_record - unpacking into a used record replaces its fields.
 */
START_TEST(test_unpack_reuses_record)
{
	const char *why;

	rec.r_session = rec.r_seq = 1;
	rec.r_stage = SW_STAGE_HELO;
	TU_INT_EQ(sw_record_add_str(&rec, SW_K_HELO, "mx.example.net"), 0);
	TU_INT_EQ(sw_record_add_int(&out, SW_K_N_TXN, 3), 0);
	TU_INT_EQ(sw_record_add_int(&out, SW_K_N_MSG, 4), 0);
	TU_INT_EQ(sw_record_pack(&rec, &sbuf), 0);
	TU_INT_EQ(sw_record_unpack(unpack_sbuf(), &out, &why), 0);
	check_same(&rec, &out);
}
END_TEST

/*
 * test_clear_keeps_storage - clear forgets the fields but keeps the storage for
 * the next record.
 */
START_TEST(test_clear_keeps_storage)
{
	struct sw_field *fields;
	size_t	 cap, i;

	for (i = 0; i < 40; i++)
		TU_INT_EQ(sw_record_add_int(&rec, SW_K_RCPT_NO, (int64_t)i), 0);
	fields = rec.r_fields;
	cap = rec.r_cap;
	ck_assert_msg(cap >= 40, "cap: got %zu, want 40 or more", cap);
	rec.r_session = 9;
	sw_record_clear(&rec);
	TU_UINT_EQ(rec.r_nfields, 0);
	TU_UINT_EQ(rec.r_session, 0);
	TU_UINT_EQ(rec.r_cap, cap);
	ck_assert_msg(rec.r_fields == fields, "fields: got new storage, "
	    "want the old");
	ck_assert_msg(sw_record_find(&rec, SW_K_RCPT_NO) == NULL,
	    "find after clear: got a field, want none");
}
END_TEST

/* test_names - names of stages and keys, and "invalid" outside the enums. */
START_TEST(test_names)
{
	int	 i, j;

	for (i = SW_STAGE_CONNECT; i < SW_STAGE_MAX; i++) {
		ck_assert_msg(strcmp(sw_stage_name(i), "invalid") != 0,
		    "stage %d: got \"invalid\", want a name", i);
		for (j = SW_STAGE_CONNECT; j < i; j++)
			ck_assert_msg(strcmp(sw_stage_name(i),
			    sw_stage_name(j)) != 0, "stages %d and %d: got "
			    "both \"%s\", want different names", j, i,
			    sw_stage_name(i));
	}
	for (i = SW_K_CLIENT_HOST; i < SW_K_MAX; i++)
		ck_assert_msg(strcmp(sw_key_name(i), "invalid") != 0,
		    "key %d: got \"invalid\", want a name", i);
	TU_STR_EQ(sw_stage_name(SW_STAGE_CONNECT), "connect");
	TU_STR_EQ(sw_stage_name(SW_STAGE_CLOSE), "close");
	TU_STR_EQ(sw_stage_name(SW_STAGE_MAX), "invalid");
	TU_STR_EQ(sw_stage_name(-1), "invalid");
	TU_STR_EQ(sw_key_name(SW_K_MISSING_MACRO), "missing");
	TU_STR_EQ(sw_key_name(SW_K_MAX), "invalid");
	TU_STR_EQ(sw_key_name(-1), "invalid");
}
END_TEST

/*
 * test_hand_built_good - the hand-built good record is accepted, so each reject
 * is one change.
 */
START_TEST(test_hand_built_good)
{
	const char *why = NULL;
	int	 rc;

	pack_raw(good_top, NELEM(good_top), good_fields, NELEM(good_fields));
	rc = sw_record_unpack(unpack_sbuf(), &out, &why);
	ck_assert_msg(rc == 0, "unpack: got %d (%s), want 0", rc,
	    why ? why : "-");
	TU_UINT_EQ(out.r_nfields, 2);
	TU_UINT_EQ(out.r_fields[1].f_type, SW_V_NIL);
}
END_TEST

/* test_reject_not_array - an array of 7, or no array at all */
START_TEST(test_reject_not_array)
{
	struct elem e = { E_UINT, 1, 0, NULL };
	msgpack_packer pk;
	const char *why = NULL;

	pack_raw(good_top, 7, good_fields, NELEM(good_fields));
	TU_INT_EQ(sw_record_unpack(unpack_sbuf(), &out, &why), -1);
	TU_STR_EQ(why, "record is not an array of 8");

	/* A bare integer is no record either. */
	msgpack_sbuffer_clear(&sbuf);
	msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
	pack_elem(&pk, &e);
	TU_INT_EQ(sw_record_unpack(unpack_sbuf(), &out, &why), -1);
	TU_STR_EQ(why, "record is not an array of 8");
}
END_TEST

/*
 * test_reject_version - versions other than SW_RECORD_VERSION, or not a number
 */
START_TEST(test_reject_version)
{
	expect_reject(0, (struct elem){ E_UINT, 2, 0, NULL }, NULL, 0,
	    "unsupported record version");
	msgpack_sbuffer_clear(&sbuf);
	expect_reject(0, (struct elem){ E_UINT, 0, 0, NULL }, NULL, 0,
	    "unsupported record version");
	msgpack_sbuffer_clear(&sbuf);
	expect_reject(0, (struct elem){ E_STR, 0, 0, "1" }, NULL, 0,
	    "unsupported record version");
}
END_TEST

/* test_reject_session_zero - session 0 is never made at connect */
START_TEST(test_reject_session_zero)
{
	expect_reject(2, (struct elem){ E_UINT, 0, 0, NULL }, NULL, 0,
	    "bad instance or session id");
}
END_TEST

/* test_reject_ids_wrong_type - ids that are negative or bytes */
START_TEST(test_reject_ids_wrong_type)
{
	expect_reject(1, (struct elem){ E_INT, 0, -1, NULL }, NULL, 0,
	    "bad instance or session id");
	msgpack_sbuffer_clear(&sbuf);
	expect_reject(2, (struct elem){ E_BIN, 0, 0, "12" }, NULL, 0,
	    "bad instance or session id");
}
END_TEST

/* test_reject_seq_zero - sequence numbers start at 1 */
START_TEST(test_reject_seq_zero)
{
	expect_reject(3, (struct elem){ E_UINT, 0, 0, NULL }, NULL, 0,
	    "bad sequence number");
}
END_TEST

/* test_reject_seq_too_big - a sequence number wider than 32 bits */
START_TEST(test_reject_seq_too_big)
{
	expect_reject(3, (struct elem){ E_UINT, (uint64_t)UINT32_MAX + 1, 0,
	    NULL }, NULL, 0, "bad sequence number");
}
END_TEST

/* test_reject_time - a time that is nil or beyond int64 */
START_TEST(test_reject_time)
{
	expect_reject(4, (struct elem){ E_NIL, 0, 0, NULL }, NULL, 0,
	    "bad time");
	msgpack_sbuffer_clear(&sbuf);
	expect_reject(4, (struct elem){ E_UINT, (uint64_t)INT64_MAX + 1, 0,
	    NULL }, NULL, 0, "bad time");
}
END_TEST

/* test_reject_stage_zero - SW_STAGE_NONE is not a stage on the wire */
START_TEST(test_reject_stage_zero)
{
	expect_reject(5, (struct elem){ E_UINT, SW_STAGE_NONE, 0, NULL },
	    NULL, 0, "bad stage");
}
END_TEST

/* test_reject_stage_max - SW_STAGE_MAX and beyond, and negative stages */
START_TEST(test_reject_stage_max)
{
	expect_reject(5, (struct elem){ E_UINT, SW_STAGE_MAX, 0, NULL },
	    NULL, 0, "bad stage");
	msgpack_sbuffer_clear(&sbuf);
	expect_reject(5, (struct elem){ E_UINT, 255 + 1, 0, NULL }, NULL, 0,
	    "bad stage");
	msgpack_sbuffer_clear(&sbuf);
	expect_reject(5, (struct elem){ E_INT, 0, -1, NULL }, NULL, 0,
	    "bad stage");
}
END_TEST

/* test_reject_txn - a transaction number wider than 32 bits, or nil */
START_TEST(test_reject_txn)
{
	expect_reject(6, (struct elem){ E_UINT, (uint64_t)UINT32_MAX + 1, 0,
	    NULL }, NULL, 0, "bad transaction number");
	msgpack_sbuffer_clear(&sbuf);
	expect_reject(6, (struct elem){ E_NIL, 0, 0, NULL }, NULL, 0,
	    "bad transaction number");
}
END_TEST

/* test_reject_fields_not_array - fields given as a map */
START_TEST(test_reject_fields_not_array)
{
	expect_reject(7, (struct elem){ E_MAP, 0, 0, NULL }, NULL, 0,
	    "fields are not key/value pairs");
}
END_TEST

/* test_reject_fields_odd - a key without its value */
START_TEST(test_reject_fields_odd)
{
	expect_reject(-1, good_top[0], good_fields, 3,
	    "fields are not key/value pairs");
}
END_TEST

/* test_reject_unknown_key - keys 0, SW_K_MAX, wide, negative, text or nil */
START_TEST(test_reject_unknown_key)
{
	static const struct {
		struct elem	 key;
	} bad[] = {
		{ { E_UINT, SW_K_NONE, 0, NULL } },
		{ { E_UINT, SW_K_MAX, 0, NULL } },
		{ { E_UINT, 65536 + SW_K_PATH, 0, NULL } },
		{ { E_INT, 0, -3, NULL } },
		{ { E_STR, 0, 0, "path" } },
		{ { E_NIL, 0, 0, NULL } },
	};
	struct elem fields[2];
	size_t	 i;

	for (i = 0; i < NELEM(bad); i++) {
		fields[0] = bad[i].key;
		fields[1] = (struct elem){ E_BIN, 0, 0, "x" };
		msgpack_sbuffer_clear(&sbuf);
		expect_reject(-1, good_top[0], fields, 2,
		    "unknown field key");
	}
}
END_TEST

/*
 * test_reject_unknown_key_later - a key that is fine after a good field still
 * fails the record.
 */
START_TEST(test_reject_unknown_key_later)
{
	struct elem fields[6];

	memcpy(fields, good_fields, sizeof good_fields);
	fields[4] = (struct elem){ E_UINT, SW_K_MAX + 5, 0, NULL };
	fields[5] = (struct elem){ E_UINT, 1, 0, NULL };
	expect_reject(-1, good_top[0], fields, 6, "unknown field key");
}
END_TEST

/* test_reject_value_types - str, bool, float and map values */
START_TEST(test_reject_value_types)
{
	static const struct elem bad[] = {
		{ E_STR, 0, 0, "text, not bin" },
		{ E_BOOL, 0, 0, NULL },
		{ E_FLOAT, 0, 0, NULL },
		{ E_MAP, 0, 0, NULL },
	};
	struct elem fields[2];
	size_t	 i;

	for (i = 0; i < NELEM(bad); i++) {
		fields[0] = (struct elem){ E_UINT, SW_K_HELO, 0, NULL };
		fields[1] = bad[i];
		msgpack_sbuffer_clear(&sbuf);
		expect_reject(-1, good_top[0], fields, 2,
		    "field value of unexpected type");
	}
}
END_TEST

/* test_reject_value_too_big - an integer value beyond int64 */
START_TEST(test_reject_value_too_big)
{
	struct elem fields[2] = {
		{ E_UINT, SW_K_BODY_SIZE, 0, NULL },
		{ E_UINT, (uint64_t)INT64_MAX + 1, 0, NULL },
	};

	expect_reject(-1, good_top[0], fields, 2, "integer out of range");
}
END_TEST

/* unpack_batch - decode a batch the way smtpwardend does */

static size_t
unpack_batch(const char *data, size_t len, uint64_t want_id,
    struct sw_record *recs, size_t max)
{
	const msgpack_object *a;
	const char *why = NULL;
	size_t	 i, n;
	int	 rc;

	rc = msgpack_unpack_next(&msg, data, len, NULL);
	ck_assert_msg(rc == MSGPACK_UNPACK_SUCCESS, "batch: got unpack %d, "
	    "want success", rc);
	ck_assert_msg(msg.data.type == MSGPACK_OBJECT_ARRAY &&
	    msg.data.via.array.size == 3, "batch: got type %d, want an "
	    "array of 3", msg.data.type);
	a = msg.data.via.array.ptr;
	TU_INT_EQ(a[0].type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	TU_UINT_EQ(a[0].via.u64, SW_RECORD_VERSION);
	TU_INT_EQ(a[1].type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	TU_UINT_EQ(a[1].via.u64, want_id);
	TU_INT_EQ(a[2].type, MSGPACK_OBJECT_ARRAY);
	n = a[2].via.array.size;
	ck_assert_msg(n <= max, "batch: got %zu records, want at most %zu",
	    n, max);
	for (i = 0; i < n; i++) {
		rc = sw_record_unpack(&a[2].via.array.ptr[i], &recs[i], &why);
		ck_assert_msg(rc == 0, "record %zu: got %d (%s), want 0", i,
		    rc, why ? why : "-");
	}
	return n;
}

/* fill_session - three records of one session, as the milter sends */

static void
fill_session(struct sw_record *r)
{
	size_t	 i;

	for (i = 0; i < 3; i++) {
		sw_record_init(&r[i]);
		r[i].r_instance = 5;
		r[i].r_session = 77;
		r[i].r_seq = (uint32_t)i + 1;
		r[i].r_time_us = 1000 + (int64_t)i;
	}
	r[0].r_stage = SW_STAGE_CONNECT;
	TU_INT_EQ(sw_record_add_str(&r[0], SW_K_CLIENT_HOST, "[192.0.2.7]"), 0);
	TU_INT_EQ(sw_record_add_int(&r[0], SW_K_CLIENT_PORT, 41000), 0);
	r[1].r_stage = SW_STAGE_MAIL;
	r[1].r_txn = 1;
	TU_INT_EQ(sw_record_add_str(&r[1], SW_K_PATH, "<>"), 0);
	r[2].r_stage = SW_STAGE_CLOSE;
	TU_INT_EQ(sw_record_add_str(&r[2], SW_K_REASON, "quit"), 0);
}

/* pack_batch - a batch header then the records, into sbuf */

static void
pack_batch(uint64_t id, const struct sw_record *r, size_t n)
{
	msgpack_packer pk;
	size_t	 i;

	msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
	TU_INT_EQ(sw_batch_begin(&pk, id, n), 0);
	for (i = 0; i < n; i++)
		TU_INT_EQ(sw_record_pack(&r[i], &sbuf), 0);
}

/* free_all - release an array of records */

static void
free_all(struct sw_record *r, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		sw_record_free(&r[i]);
}

/* test_batch - a batch header and three records, decoded as the daemon does */
START_TEST(test_batch)
{
	struct sw_record in[3], got[3];
	size_t	 i, n;

	fill_session(in);
	for (i = 0; i < 3; i++)
		sw_record_init(&got[i]);
	pack_batch(UINT64_MAX - 1, in, 3);
	n = unpack_batch(sbuf.data, sbuf.size, UINT64_MAX - 1, got, 3);
	TU_UINT_EQ(n, 3);
	for (i = 0; i < 3; i++)
		check_same(&in[i], &got[i]);
	free_all(in, 3);
	free_all(got, 3);
}
END_TEST

/* test_batch_empty - a batch of no records is valid */
START_TEST(test_batch_empty)
{
	pack_batch(1, NULL, 0);
	TU_UINT_EQ(unpack_batch(sbuf.data, sbuf.size, 1, NULL, 0), 0);
}
END_TEST

/*
 * test_batch_over_socket - a batch framed, sent over the socket, read and
 * decoded.
 */
START_TEST(test_batch_over_socket)
{
	struct sw_record in[3], got[3];
	char	*payload = NULL;
	size_t	 len = 0, i;

	fill_session(in);
	for (i = 0; i < 3; i++)
		sw_record_init(&got[i]);
	pack_batch(31, in, 3);
	TU_INT_EQ(sw_frame_write(sp[0], sbuf.data, sbuf.size), 0);
	TU_INT_EQ(sw_frame_read(sp[1], &payload, &len, SW_FRAME_MAX), 0);
	TU_MEM_EQ(payload, len, sbuf.data, sbuf.size);
	TU_UINT_EQ(unpack_batch(payload, len, 31, got, 3), 3);
	for (i = 0; i < 3; i++)
		check_same(&in[i], &got[i]);
	free_all(in, 3);
	free_all(got, 3);
	free(payload);
}
END_TEST

/* test_ack_round_trip - acks for ids and statuses at their limits */
START_TEST(test_ack_round_trip)
{
	static const struct {
		uint64_t	 id;
		int		 status;
	} acks[] = {
		{ 0, 0 }, { 1, 0 }, { UINT64_MAX, 0 }, { 12345, -1 },
		{ 99, 7 }, { 1ull << 40, -100000 },
	};
	uint64_t id;
	size_t	 i;
	int	 status;

	for (i = 0; i < NELEM(acks); i++) {
		msgpack_sbuffer_clear(&sbuf);
		TU_INT_EQ(sw_ack_pack(&sbuf, acks[i].id, acks[i].status), 0);
		id = 0;
		status = 12;
		TU_INT_EQ(sw_ack_unpack(sbuf.data, sbuf.size, &id, &status),
		    0);
		TU_UINT_EQ(id, acks[i].id);
		TU_INT_EQ(status, acks[i].status);
	}
}
END_TEST

/* test_ack_rejects - acks with a wrong version, id or status, or cut short */
START_TEST(test_ack_rejects)
{
	static const struct elem v1 = { E_UINT, SW_RECORD_VERSION, 0, NULL };
	static const struct elem v2 = { E_UINT, 2, 0, NULL };
	static const struct elem id = { E_UINT, 5, 0, NULL };
	static const struct elem st = { E_INT, 0, 0, NULL };
	static const struct elem neg = { E_INT, 0, -5, NULL };
	static const struct elem str = { E_STR, 0, 0, "0" };
	const struct elem bad[][3] = {
		{ v2, id, st },		/* wrong version */
		{ v1, neg, st },	/* negative batch id */
		{ v1, id, str },	/* status not an integer */
		{ str, id, st },	/* version not an integer */
	};
	uint64_t bid;
	size_t	 i;
	int	 status;

	for (i = 0; i < NELEM(bad); i++) {
		msgpack_sbuffer_clear(&sbuf);
		pack_raw(bad[i], 3, NULL, 0);
		ck_assert_msg(sw_ack_unpack(sbuf.data, sbuf.size, &bid,
		    &status) == -1, "bad ack %zu: got 0, want -1", i);
	}

	/* Two elements instead of three, and a truncated or empty buffer. */
	msgpack_sbuffer_clear(&sbuf);
	pack_raw(bad[0], 2, NULL, 0);
	TU_INT_EQ(sw_ack_unpack(sbuf.data, sbuf.size, &bid, &status), -1);
	msgpack_sbuffer_clear(&sbuf);
	TU_INT_EQ(sw_ack_pack(&sbuf, 1ull << 40, 0), 0);
	TU_INT_EQ(sw_ack_unpack(sbuf.data, sbuf.size - 2, &bid, &status),
	    -1);
	TU_INT_EQ(sw_ack_unpack("", 0, &bid, &status), -1);
}
END_TEST

/* test_frame_round_trip - two frames in a row, one holding a NUL */
START_TEST(test_frame_round_trip)
{
	static const char a[] = "first\0frame", b[] = "x";
	char	*payload = NULL;
	size_t	 len = 0;

	TU_INT_EQ(sw_frame_write(sp[0], a, sizeof a), 0);
	TU_INT_EQ(sw_frame_write(sp[0], b, 1), 0);
	TU_INT_EQ(sw_frame_read(sp[1], &payload, &len, 64), 0);
	TU_MEM_EQ(payload, len, a, sizeof a);
	free(payload);
	TU_INT_EQ(sw_frame_read(sp[1], &payload, &len, 64), 0);
	TU_MEM_EQ(payload, len, b, 1);
	free(payload);
}
END_TEST

/* test_frame_wire_form - the length prefix is four bytes, big-endian. */
START_TEST(test_frame_wire_form)
{
	unsigned char got[8];

	TU_INT_EQ(sw_frame_write(sp[0], "abc", 3), 0);
	TU_INT_EQ(sw_read_all(sp[1], got, 7), 0);
	TU_MEM_EQ(got, 7, "\0\0\0\3abc", 7);
}
END_TEST

/* test_frame_max - a frame of exactly max is read; one byte more is refused. */
START_TEST(test_frame_max)
{
	char	 data[65];
	char	*payload = NULL;
	size_t	 len = 0;

	memset(data, 'm', sizeof data);
	TU_INT_EQ(sw_frame_write(sp[0], data, 64), 0);
	TU_INT_EQ(sw_frame_read(sp[1], &payload, &len, 64), 0);
	TU_UINT_EQ(len, 64);
	free(payload);
	payload = NULL;
	TU_INT_EQ(sw_frame_write(sp[0], data, 65), 0);
	errno = 0;
	TU_INT_EQ(sw_frame_read(sp[1], &payload, &len, 64), -1);
	TU_INT_EQ(errno, EMSGSIZE);
	ck_assert_msg(payload == NULL, "payload: got a buffer, want none");
}
END_TEST

/*
 * test_frame_write_too_long - the writer refuses a frame over SW_FRAME_MAX
 * before touching it.
 */
START_TEST(test_frame_write_too_long)
{
	char	 byte = 0;
	unsigned char junk;

	errno = 0;
	TU_INT_EQ(sw_frame_write(sp[0], &byte, (size_t)SW_FRAME_MAX + 1),
	    -1);
	TU_INT_EQ(errno, EMSGSIZE);

	/* Nothing went out: the peer sees EOF, not a header. */
	close(sp[0]);
	sp[0] = -1;
	TU_INT_EQ(read(sp[1], &junk, 1), 0);
}
END_TEST

/*
 * test_frame_read_too_long - a header announcing more than max is refused
 * before allocating.
 */
START_TEST(test_frame_read_too_long)
{
	uint32_t hdr = htonl(SW_FRAME_MAX + 1);
	char	*payload = NULL;
	size_t	 len = 0;

	TU_INT_EQ(sw_write_all(sp[0], &hdr, sizeof hdr), 0);
	errno = 0;
	TU_INT_EQ(sw_frame_read(sp[1], &payload, &len, SW_FRAME_MAX), -1);
	TU_INT_EQ(errno, EMSGSIZE);

	/* 4 GiB - 1 as well: no wrap, no allocation. */
	hdr = htonl(UINT32_MAX);
	TU_INT_EQ(sw_write_all(sp[0], &hdr, sizeof hdr), 0);
	TU_INT_EQ(sw_frame_read(sp[1], &payload, &len, SW_FRAME_MAX), -1);
	TU_INT_EQ(errno, EMSGSIZE);
}
END_TEST

/* test_frame_read_zero_length - a frame of length 0 is refused */
START_TEST(test_frame_read_zero_length)
{
	uint32_t hdr = 0;
	char	*payload = NULL;
	size_t	 len = 0;

	TU_INT_EQ(sw_write_all(sp[0], &hdr, sizeof hdr), 0);
	errno = 0;
	TU_INT_EQ(sw_frame_read(sp[1], &payload, &len, SW_FRAME_MAX), -1);
	TU_INT_EQ(errno, EMSGSIZE);
}
END_TEST

/* test_frame_eof - a clean end between frames is EOF (1), not an error. */
START_TEST(test_frame_eof)
{
	char	*payload = NULL;
	size_t	 len = 0;

	TU_INT_EQ(sw_frame_write(sp[0], "z", 1), 0);
	close(sp[0]);
	sp[0] = -1;
	TU_INT_EQ(sw_frame_read(sp[1], &payload, &len, 64), 0);
	free(payload);
	TU_INT_EQ(sw_frame_read(sp[1], &payload, &len, 64), 1);
}
END_TEST

/*
 * test_frame_truncated_body - the peer goes after part of a frame's body: an
 * error, not EOF.
 */
START_TEST(test_frame_truncated_body)
{
	uint32_t hdr = htonl(100);
	char	*payload = NULL;
	size_t	 len = 0;

	TU_INT_EQ(sw_write_all(sp[0], &hdr, sizeof hdr), 0);
	TU_INT_EQ(sw_write_all(sp[0], "0123456789", 10), 0);
	close(sp[0]);
	sp[0] = -1;
	errno = 0;
	TU_INT_EQ(sw_frame_read(sp[1], &payload, &len, 1000), -1);
	TU_INT_EQ(errno, EPIPE);
	ck_assert_msg(payload == NULL, "payload: got a buffer, want none");
}
END_TEST

/* test_frame_truncated_header - ... or after part of the length prefix. */
START_TEST(test_frame_truncated_header)
{
	char	*payload = NULL;
	size_t	 len = 0;

	TU_INT_EQ(sw_write_all(sp[0], "\0\0", 2), 0);
	close(sp[0]);
	sp[0] = -1;
	TU_INT_EQ(sw_frame_read(sp[1], &payload, &len, 1000), -1);
}
END_TEST

/*
 * test_frame_big - a frame larger than the socket buffer, written by another
 * process.
 */
START_TEST(test_frame_big)
{
	char	*data, *payload = NULL;
	size_t	 len = 0, i;
	pid_t	 pid;
	int	 status;

	if ((data = malloc(BIG_FRAME)) == NULL)
		ck_abort_msg("malloc: out of memory");
	for (i = 0; i < BIG_FRAME; i++)
		data[i] = (char)(i * 7 + i / 256);
	if ((pid = fork()) == 0) {
		close(sp[1]);
		_exit(sw_frame_write(sp[0], data, BIG_FRAME) == 0 ? 0 : 1);
	}
	ck_assert_msg(pid > 0, "fork: got %s, want a child", strerror(errno));
	close(sp[0]);
	sp[0] = -1;
	TU_INT_EQ(sw_frame_read(sp[1], &payload, &len, SW_FRAME_MAX), 0);
	TU_MEM_EQ(payload, len, data, BIG_FRAME);
	ck_assert_msg(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "writer: got status 0x%x, want exit 0",
	    status);
	free(payload);
	free(data);
}
END_TEST

/* test_many_missing_macros - 10000 repeated MISSING_MACRO fields, in order. */
START_TEST(test_many_missing_macros)
{
	static char names[MANY_MISSING][16];
	size_t	 i;

	rec.r_session = rec.r_seq = 1;
	rec.r_stage = SW_STAGE_CONNECT;
	for (i = 0; i < MANY_MISSING; i++) {
		snprintf(names[i], sizeof names[i], "{m%zu}", i);
		TU_INT_EQ(sw_record_add_str(&rec, SW_K_MISSING_MACRO,
		    names[i]), 0);
	}
	round_trip();
	TU_UINT_EQ(out.r_nfields, MANY_MISSING);
	TU_MEM_EQ(out.r_fields[MANY_MISSING - 1].f_data,
	    out.r_fields[MANY_MISSING - 1].f_len, "{m9999}", 7);
}
END_TEST

/*
 * test_many_recipients - 5000 recipient-like field groups; the packed record
 * still frames.
 */
START_TEST(test_many_recipients)
{
	static char paths[MANY_RCPTS][40];
	char	*payload = NULL;
	size_t	 i, len = 0;
	pid_t	 pid;
	int	 status;

	rec.r_session = rec.r_seq = 1;
	rec.r_stage = SW_STAGE_RCPT;
	rec.r_txn = 1;
	for (i = 0; i < MANY_RCPTS; i++) {
		snprintf(paths[i], sizeof paths[i], "<user%zu@example.org>",
		    i);
		TU_INT_EQ(sw_record_add_str(&rec, SW_K_PATH, paths[i]), 0);
		TU_INT_EQ(sw_record_add_int(&rec, SW_K_RCPT_NO,
		    (int64_t)i + 1), 0);
		TU_INT_EQ(sw_record_add_int(&rec, SW_K_RCPT_ACCEPTED,
		    (int64_t)(i % 2)), 0);
		TU_INT_EQ(sw_record_add_nil(&rec, SW_K_PARAM_VALUE), 0);
	}
	round_trip();
	TU_UINT_EQ(out.r_nfields, 4 * MANY_RCPTS);

	/* The same bytes through a frame, written by another process. */
	if ((pid = fork()) == 0) {
		close(sp[1]);
		_exit(sw_frame_write(sp[0], sbuf.data, sbuf.size) == 0 ? 0 :
		    1);
	}
	ck_assert_msg(pid > 0, "fork: got %s, want a child", strerror(errno));
	close(sp[0]);
	sp[0] = -1;
	TU_INT_EQ(sw_frame_read(sp[1], &payload, &len, SW_FRAME_MAX), 0);
	TU_MEM_EQ(payload, len, sbuf.data, sbuf.size);
	ck_assert_msg(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "writer: got status 0x%x, want exit 0",
	    status);
	free(payload);
}
END_TEST

/* record_suite - the record module's tests, grouped by concern */

static Suite *
record_suite(void)
{
	Suite	*s = suite_create("record");
	TCase	*tc;

	tc = tcase_create("round_trip");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_trip_fields);
	tcase_add_test(tc, test_round_trip_no_fields);
	tcase_add_loop_test(tc, test_round_trip_each_stage, SW_STAGE_CONNECT,
	    SW_STAGE_MAX);
	tcase_add_test(tc, test_unpack_reuses_record);
	tcase_add_test(tc, test_clear_keeps_storage);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("reject");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_hand_built_good);
	tcase_add_test(tc, test_reject_not_array);
	tcase_add_test(tc, test_reject_version);
	tcase_add_test(tc, test_reject_session_zero);
	tcase_add_test(tc, test_reject_ids_wrong_type);
	tcase_add_test(tc, test_reject_seq_zero);
	tcase_add_test(tc, test_reject_seq_too_big);
	tcase_add_test(tc, test_reject_time);
	tcase_add_test(tc, test_reject_stage_zero);
	tcase_add_test(tc, test_reject_stage_max);
	tcase_add_test(tc, test_reject_txn);
	tcase_add_test(tc, test_reject_fields_not_array);
	tcase_add_test(tc, test_reject_fields_odd);
	tcase_add_test(tc, test_reject_unknown_key);
	tcase_add_test(tc, test_reject_unknown_key_later);
	tcase_add_test(tc, test_reject_value_types);
	tcase_add_test(tc, test_reject_value_too_big);
	suite_add_tcase(s, tc);

	tc = tcase_create("batch");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_batch);
	tcase_add_test(tc, test_batch_empty);
	tcase_add_test(tc, test_batch_over_socket);
	tcase_add_test(tc, test_ack_round_trip);
	tcase_add_test(tc, test_ack_rejects);
	suite_add_tcase(s, tc);

	tc = tcase_create("frame");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_frame_round_trip);
	tcase_add_test(tc, test_frame_wire_form);
	tcase_add_test(tc, test_frame_max);
	tcase_add_test(tc, test_frame_write_too_long);
	tcase_add_test(tc, test_frame_read_too_long);
	tcase_add_test(tc, test_frame_read_zero_length);
	tcase_add_test(tc, test_frame_eof);
	tcase_add_test(tc, test_frame_truncated_body);
	tcase_add_test(tc, test_frame_truncated_header);
	tcase_add_test(tc, test_frame_big);
	suite_add_tcase(s, tc);

	tc = tcase_create("huge");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_many_missing_macros);
	tcase_add_test(tc, test_many_recipients);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite; the exit status tells make check the result */

int
main(void)
{
	SRunner	*sr = srunner_create(record_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
