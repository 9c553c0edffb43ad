/*
 * record.c - encoding and decoding of transcript records, batches and
 * acknowledgements with msgpack-c, and the length-prefixed frames that
 * carry them (the format is described in sw_record.h).
 *
 * DIAGNOSTICS: unpack returns -1 with a static reason string; pack and
 * the frame helpers return -1 with errno set.
 * BUGS: none known.
 */

#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sw_record.h"
#include "sw_util.h"

static const char *const stage_names[SW_STAGE_MAX] = {
	[SW_STAGE_NONE] = "none",
	[SW_STAGE_CONNECT] = "connect",
	[SW_STAGE_HELO] = "helo",
	[SW_STAGE_TLS] = "tls",
	[SW_STAGE_AUTH] = "auth",
	[SW_STAGE_MAIL] = "mail",
	[SW_STAGE_RCPT] = "rcpt",
	[SW_STAGE_DATA] = "data",
	[SW_STAGE_HEADER] = "header",
	[SW_STAGE_EOH] = "eoh",
	[SW_STAGE_BODY] = "body",
	[SW_STAGE_EOM] = "eom",
	[SW_STAGE_ABORT] = "abort",
	[SW_STAGE_UNKNOWN] = "unknown",
	[SW_STAGE_CLOSE] = "close",
};

static const char *const key_names[SW_K_MAX] = {
	[SW_K_NONE] = "none",
	[SW_K_CLIENT_HOST] = "client_host",
	[SW_K_CLIENT_FAMILY] = "client_family",
	[SW_K_CLIENT_ADDR] = "client_addr",
	[SW_K_CLIENT_PORT] = "client_port",
	[SW_K_CLIENT_NAME] = "client_name",
	[SW_K_CLIENT_PTR] = "client_ptr",
	[SW_K_DAEMON_NAME] = "daemon_name",
	[SW_K_DAEMON_ADDR] = "daemon_addr",
	[SW_K_MTA_NAME] = "mta_name",
	[SW_K_MTA_VERSION] = "mta_version",
	[SW_K_HELO] = "helo",
	[SW_K_TLS_VERSION] = "tls_version",
	[SW_K_TLS_CIPHER] = "cipher",
	[SW_K_TLS_BITS] = "cipher_bits",
	[SW_K_TLS_SUBJECT] = "cert_subject",
	[SW_K_TLS_ISSUER] = "cert_issuer",
	[SW_K_TLS_VERIFY] = "verify",
	[SW_K_AUTH_TYPE] = "auth_type",
	[SW_K_AUTH_AUTHEN] = "auth_authen",
	[SW_K_AUTH_AUTHOR] = "auth_author",
	[SW_K_AUTH_SSF] = "auth_ssf",
	[SW_K_PATH] = "path",
	[SW_K_PARAM_KEY] = "param",
	[SW_K_PARAM_VALUE] = "value",
	[SW_K_RCPT_NO] = "rcpt_no",
	[SW_K_RCPT_MAILER] = "rcpt_mailer",
	[SW_K_RCPT_HOST] = "rcpt_host",
	[SW_K_RCPT_ADDR] = "rcpt_addr",
	[SW_K_RCPT_ACCEPTED] = "accepted",
	[SW_K_HEADER_NAME] = "name",
	[SW_K_HEADER_VALUE] = "value",
	[SW_K_HEADER_LEN] = "len",
	[SW_K_HEADER_CUT] = "cut",
	[SW_K_HEADER_POS] = "pos",
	[SW_K_BODY_SIZE] = "size",
	[SW_K_BODY_SHA256] = "sha256",
	[SW_K_BODY_CHUNKS] = "chunks",
	[SW_K_QUEUE_ID] = "qid",
	[SW_K_COMMAND] = "command",
	[SW_K_REASON] = "reason",
	[SW_K_DURATION_US] = "duration_us",
	[SW_K_N_TXN] = "transactions",
	[SW_K_N_MSG] = "messages",
	[SW_K_N_RCPT] = "recipients",
	[SW_K_N_UNKNOWN] = "unknown_commands",
	[SW_K_MISSING_MACRO] = "missing",
	[SW_K_LOST_RECORDS] = "lost_records",
	[SW_K_RULE] = "rule",
	[SW_K_ACTION] = "action",
	[SW_K_MODE] = "mode",
	[SW_K_REPLY] = "reply",
};

/* sw_stage_name - name of a stage for logs and the database */

const char *
sw_stage_name(int stage)
{
	if (stage < 0 || stage >= SW_STAGE_MAX || stage_names[stage] == NULL)
		return "invalid";
	return stage_names[stage];
}

/* sw_key_name - name of a field key */

const char *
sw_key_name(int key)
{
	if (key < 0 || key >= SW_K_MAX || key_names[key] == NULL)
		return "invalid";
	return key_names[key];
}

/* sw_record_init - an empty record */

void
sw_record_init(struct sw_record *r)
{
	memset(r, 0, sizeof *r);
}

/* sw_record_clear - forget the fields, keep their storage */

void
sw_record_clear(struct sw_record *r)
{
	struct sw_field *fields = r->r_fields;
	size_t	 cap = r->r_cap;

	memset(r, 0, sizeof *r);
	r->r_fields = fields;
	r->r_cap = cap;
}

/* sw_record_free - release the field storage */

void
sw_record_free(struct sw_record *r)
{
	free(r->r_fields);
	memset(r, 0, sizeof *r);
}

/* record_add - room for one more field */

static struct sw_field *
record_add(struct sw_record *r, int key, int type)
{
	struct sw_field *f;

	if (r->r_nfields == r->r_cap) {
		size_t	 ncap = r->r_cap ? r->r_cap * 2 : 16;

		f = reallocarray(r->r_fields, ncap, sizeof *f);
		if (f == NULL)
			return NULL;
		r->r_fields = f;
		r->r_cap = ncap;
	}
	f = &r->r_fields[r->r_nfields++];
	memset(f, 0, sizeof *f);
	f->f_key = key;
	f->f_type = type;
	return f;
}

/* sw_record_add_bytes - append a binary-safe value */

int
sw_record_add_bytes(struct sw_record *r, int key, const void *data,
    size_t len)
{
	struct sw_field *f;

	if ((f = record_add(r, key, SW_V_BYTES)) == NULL)
		return -1;
	f->f_data = data;
	f->f_len = len;
	return 0;
}

/* sw_record_add_str - append a C string; NULL means "not provided" */

int
sw_record_add_str(struct sw_record *r, int key, const char *s)
{
	if (s == NULL)
		return sw_record_add_nil(r, key);
	return sw_record_add_bytes(r, key, s, strlen(s));
}

/* sw_record_add_int - append an integer value */

int
sw_record_add_int(struct sw_record *r, int key, int64_t v)
{
	struct sw_field *f;

	if ((f = record_add(r, key, SW_V_INT)) == NULL)
		return -1;
	f->f_int = v;
	return 0;
}

/* sw_record_add_nil - append an explicit "not provided" */

int
sw_record_add_nil(struct sw_record *r, int key)
{
	return record_add(r, key, SW_V_NIL) == NULL ? -1 : 0;
}

/* sw_record_find - first field with this key */

const struct sw_field *
sw_record_find(const struct sw_record *r, int key)
{
	size_t	 i;

	for (i = 0; i < r->r_nfields; i++)
		if (r->r_fields[i].f_key == key)
			return &r->r_fields[i];
	return NULL;
}

/* sw_record_pack - append the MessagePack form of r to sbuf */

int
sw_record_pack(const struct sw_record *r, msgpack_sbuffer *sbuf)
{
	msgpack_packer pk;
	size_t	 i;
	int	 rc = 0;

	msgpack_packer_init(&pk, sbuf, msgpack_sbuffer_write);
	rc |= msgpack_pack_array(&pk, 8);
	rc |= msgpack_pack_uint8(&pk, SW_RECORD_VERSION);
	rc |= msgpack_pack_uint64(&pk, r->r_instance);
	rc |= msgpack_pack_uint64(&pk, r->r_session);
	rc |= msgpack_pack_uint32(&pk, r->r_seq);
	rc |= msgpack_pack_int64(&pk, r->r_time_us);
	rc |= msgpack_pack_uint8(&pk, r->r_stage);
	rc |= msgpack_pack_uint32(&pk, r->r_txn);
	rc |= msgpack_pack_array(&pk, r->r_nfields * 2);
	for (i = 0; i < r->r_nfields && rc == 0; i++) {
		const struct sw_field *f = &r->r_fields[i];

		rc |= msgpack_pack_uint16(&pk, f->f_key);
		switch (f->f_type) {
		case SW_V_BYTES:
			rc |= msgpack_pack_bin(&pk, f->f_len);
			rc |= msgpack_pack_bin_body(&pk, f->f_data, f->f_len);
			break;
		case SW_V_INT:
			rc |= msgpack_pack_int64(&pk, f->f_int);
			break;
		default:
			rc |= msgpack_pack_nil(&pk);
			break;
		}
	}
	if (rc != 0) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* get_uint - an unsigned integer element, within max */

static int
get_uint(const msgpack_object *o, uint64_t max, uint64_t *out)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > max)
		return -1;
	*out = o->via.u64;
	return 0;
}

/* get_int - a signed integer element */

static int
get_int(const msgpack_object *o, int64_t *out)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > INT64_MAX)
			return -1;
		*out = (int64_t)o->via.u64;
		return 0;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return 0;
	}
	return -1;
}

/* sw_record_unpack - decode and validate one record object */

int
sw_record_unpack(const msgpack_object *o, struct sw_record *r,
    const char **why)
{
	const msgpack_object *a, *kv;
	uint64_t u;
	size_t	 i, n;

	sw_record_clear(r);
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 8) {
		*why = "record is not an array of 8";
		return -1;
	}
	a = o->via.array.ptr;
	if (get_uint(&a[0], 255, &u) < 0 || u != SW_RECORD_VERSION) {
		*why = "unsupported record version";
		return -1;
	}
	if (get_uint(&a[1], UINT64_MAX, &r->r_instance) < 0 ||
	    get_uint(&a[2], UINT64_MAX, &r->r_session) < 0 ||
	    r->r_session == 0) {
		*why = "bad instance or session id";
		return -1;
	}
	if (get_uint(&a[3], UINT32_MAX, &u) < 0 || u == 0) {
		*why = "bad sequence number";
		return -1;
	}
	r->r_seq = (uint32_t)u;
	if (get_int(&a[4], &r->r_time_us) < 0) {
		*why = "bad time";
		return -1;
	}
	if (get_uint(&a[5], SW_STAGE_MAX - 1, &u) < 0 ||
	    u == SW_STAGE_NONE) {
		*why = "bad stage";
		return -1;
	}
	r->r_stage = (uint8_t)u;
	if (get_uint(&a[6], UINT32_MAX, &u) < 0) {
		*why = "bad transaction number";
		return -1;
	}
	r->r_txn = (uint32_t)u;
	if (a[7].type != MSGPACK_OBJECT_ARRAY ||
	    a[7].via.array.size % 2 != 0) {
		*why = "fields are not key/value pairs";
		return -1;
	}
	n = a[7].via.array.size / 2;
	kv = a[7].via.array.ptr;
	for (i = 0; i < n; i++) {
		const msgpack_object *k = &kv[2 * i], *v = &kv[2 * i + 1];
		int	 rc;

		if (get_uint(k, SW_K_MAX - 1, &u) < 0 || u == SW_K_NONE) {
			*why = "unknown field key";
			return -1;
		}
		switch (v->type) {
		case MSGPACK_OBJECT_BIN:
			rc = sw_record_add_bytes(r, (int)u, v->via.bin.ptr,
			    v->via.bin.size);
			break;
		case MSGPACK_OBJECT_POSITIVE_INTEGER:
		case MSGPACK_OBJECT_NEGATIVE_INTEGER: {
			int64_t	 iv;

			if (get_int(v, &iv) < 0) {
				*why = "integer out of range";
				return -1;
			}
			rc = sw_record_add_int(r, (int)u, iv);
			break;
		}
		case MSGPACK_OBJECT_NIL:
			rc = sw_record_add_nil(r, (int)u);
			break;
		default:
			*why = "field value of unexpected type";
			return -1;
		}
		if (rc < 0) {
			*why = "out of memory";
			return -1;
		}
	}
	return 0;
}

/* sw_frame_write - one length-prefixed frame */

int
sw_frame_write(int fd, const void *payload, size_t len)
{
	uint32_t hdr;

	if (len > SW_FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	hdr = htonl((uint32_t)len);
	if (sw_write_all(fd, &hdr, sizeof hdr) < 0)
		return -1;
	return sw_write_all(fd, payload, len);
}

/* sw_frame_read - one length-prefixed frame, refused above max */

int
sw_frame_read(int fd, char **payload, size_t *len, size_t max)
{
	uint32_t hdr;
	char	*buf;
	int	 rc;

	if ((rc = sw_read_all(fd, &hdr, sizeof hdr)) != 0)
		return rc;
	hdr = ntohl(hdr);
	if (hdr == 0 || hdr > max) {
		errno = EMSGSIZE;
		return -1;
	}
	if ((buf = malloc(hdr)) == NULL)
		return -1;
	if ((rc = sw_read_all(fd, buf, hdr)) != 0) {
		free(buf);
		if (rc > 0)
			errno = EPIPE;
		return -1;
	}
	*payload = buf;
	*len = hdr;
	return 0;
}

/* sw_batch_begin - the header of a batch; records follow packed */

int
sw_batch_begin(msgpack_packer *pk, uint64_t batch_id, size_t nrecords)
{
	int	 rc = 0;

	rc |= msgpack_pack_array(pk, 3);
	rc |= msgpack_pack_uint8(pk, SW_RECORD_VERSION);
	rc |= msgpack_pack_uint64(pk, batch_id);
	rc |= msgpack_pack_array(pk, nrecords);
	return rc == 0 ? 0 : -1;
}

/* sw_ack_pack - the daemon's answer to a batch */

int
sw_ack_pack(msgpack_sbuffer *sbuf, uint64_t batch_id, int status)
{
	msgpack_packer pk;
	int	 rc = 0;

	msgpack_packer_init(&pk, sbuf, msgpack_sbuffer_write);
	rc |= msgpack_pack_array(&pk, 3);
	rc |= msgpack_pack_uint8(&pk, SW_RECORD_VERSION);
	rc |= msgpack_pack_uint64(&pk, batch_id);
	rc |= msgpack_pack_int(&pk, status);
	return rc == 0 ? 0 : -1;
}

/* sw_ack_unpack - read an ack payload */

int
sw_ack_unpack(const char *data, size_t len, uint64_t *batch_id,
    int *status)
{
	msgpack_unpacked msg;
	const msgpack_object *a;
	int64_t	 st;
	int	 rc = -1;

	msgpack_unpacked_init(&msg);
	if (msgpack_unpack_next(&msg, data, len, NULL) !=
	    MSGPACK_UNPACK_SUCCESS)
		goto out;
	if (msg.data.type != MSGPACK_OBJECT_ARRAY ||
	    msg.data.via.array.size != 3)
		goto out;
	a = msg.data.via.array.ptr;
	if (a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    a[0].via.u64 != SW_RECORD_VERSION)
		goto out;
	if (get_uint(&a[1], UINT64_MAX, batch_id) < 0 ||
	    get_int(&a[2], &st) < 0)
		goto out;
	*status = (int)st;
	rc = 0;
out:
	msgpack_unpacked_destroy(&msg);
	return rc;
}
