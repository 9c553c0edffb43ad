/*
 * sw_record.h - the transcript record: what smtpwarden-milter sends and
 * smtpwardend stores, and how it is framed on the wire between them.
 *
 * A record is one event of one SMTP session.  It is keyed by (instance,
 * session, sequence): the instance id is made when a milter process
 * starts, the session id at connect, the sequence counts events within
 * the session from 1.  A record sent twice is therefore stored once.
 *
 * Encoding (MessagePack, through msgpack-c):
 *
 *	record = [ version, instance, session, seq, time_us, stage, txn,
 *	           [ key, value, key, value, ... ] ]
 *
 * key is a small integer (enum sw_key); value is bin (bytes, binary
 * safe), a signed integer, or nil (the MTA did not provide it).  Keys
 * may repeat (ESMTP parameters, missing macros), and their order is
 * kept.
 *
 * Wire (unix stream socket): each frame is a 4-byte big-endian length
 * followed by that many bytes of MessagePack.  The milter sends
 *
 *	batch = [ version, batch_id, [ record, ... ] ]
 *
 * and the daemon answers, after the batch is committed,
 *
 *	ack = [ version, batch_id, status ]	(status 0: stored)
 *
 * Frames over SW_FRAME_MAX are refused before anything is allocated.
 *
 * DIAGNOSTICS: unpack functions return -1 and set a reason string.
 * BUGS: none known.
 */
#ifndef SW_RECORD_H
#define SW_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#define SW_RECORD_VERSION	1
#define SW_FRAME_MAX		(16u * 1024 * 1024)	/* one batch */

/* The stages of a session, in the order they usually come. */
enum sw_stage {
	SW_STAGE_NONE = 0,
	SW_STAGE_CONNECT,
	SW_STAGE_HELO,
	SW_STAGE_TLS,		/* TLS macros first seen (at HELO) */
	SW_STAGE_AUTH,		/* AUTH macros first seen (at MAIL) */
	SW_STAGE_MAIL,
	SW_STAGE_RCPT,
	SW_STAGE_DATA,
	SW_STAGE_HEADER,
	SW_STAGE_EOH,
	SW_STAGE_BODY,		/* summary of all body chunks, at EOM */
	SW_STAGE_EOM,
	SW_STAGE_ABORT,
	SW_STAGE_UNKNOWN,
	SW_STAGE_CLOSE,
	SW_STAGE_MAX
};

/* Field keys.  Append only: stored data and spools refer to numbers. */
enum sw_key {
	SW_K_NONE = 0,
	SW_K_CLIENT_HOST,	/* hostname argument of connect */
	SW_K_CLIENT_FAMILY,	/* "inet", "inet6", "unix", "unknown" */
	SW_K_CLIENT_ADDR,
	SW_K_CLIENT_PORT,
	SW_K_CLIENT_NAME,	/* {client_name} */
	SW_K_CLIENT_PTR,	/* {client_ptr} */
	SW_K_DAEMON_NAME,
	SW_K_DAEMON_ADDR,
	SW_K_MTA_NAME,		/* j */
	SW_K_MTA_VERSION,	/* v */
	SW_K_HELO,
	SW_K_TLS_VERSION,
	SW_K_TLS_CIPHER,
	SW_K_TLS_BITS,
	SW_K_TLS_SUBJECT,
	SW_K_TLS_ISSUER,
	SW_K_TLS_VERIFY,
	SW_K_AUTH_TYPE,
	SW_K_AUTH_AUTHEN,
	SW_K_AUTH_AUTHOR,
	SW_K_AUTH_SSF,
	SW_K_PATH,		/* MAIL/RCPT path as given, "<...>" */
	SW_K_PARAM_KEY,		/* ESMTP parameter keyword ... */
	SW_K_PARAM_VALUE,	/* ... and its value, or nil */
	SW_K_RCPT_NO,
	SW_K_RCPT_MAILER,	/* {rcpt_mailer}; "error" if rejected */
	SW_K_RCPT_HOST,		/* {rcpt_host}; status if rejected */
	SW_K_RCPT_ADDR,		/* {rcpt_addr}; reply text if rejected */
	SW_K_RCPT_ACCEPTED,	/* 1 accepted by the MTA, 0 rejected */
	SW_K_HEADER_NAME,
	SW_K_HEADER_VALUE,	/* as received, possibly cut */
	SW_K_HEADER_LEN,	/* length before any cut */
	SW_K_HEADER_CUT,	/* 1 when the value was cut */
	SW_K_HEADER_POS,
	SW_K_BODY_SIZE,
	SW_K_BODY_SHA256,	/* hex */
	SW_K_BODY_CHUNKS,
	SW_K_QUEUE_ID,		/* i */
	SW_K_COMMAND,		/* unknown command as sent */
	SW_K_REASON,		/* close or abort reason */
	SW_K_DURATION_US,
	SW_K_N_TXN,
	SW_K_N_MSG,
	SW_K_N_RCPT,
	SW_K_N_UNKNOWN,
	SW_K_MISSING_MACRO,	/* repeated: requested but not sent */
	SW_K_LOST_RECORDS,	/* records this session lost before this */
	SW_K_RULE,		/* a policy decision: the rule's name, ... */
	SW_K_ACTION,		/* ... its action, ... */
	SW_K_MODE,		/* ... enforced, monitor or shadow, ... */
	SW_K_REPLY,		/* ... and the reply or header it made */
	SW_K_MAX
};

enum sw_vtype {
	SW_V_NIL = 0,
	SW_V_BYTES,
	SW_V_INT
};

struct sw_field {
	uint16_t	 f_key;		/* enum sw_key */
	uint8_t		 f_type;	/* enum sw_vtype */
	int64_t		 f_int;
	const void	*f_data;	/* not owned */
	size_t		 f_len;
};

struct sw_record {
	uint64_t	 r_instance;
	uint64_t	 r_session;
	uint32_t	 r_seq;
	int64_t		 r_time_us;
	uint8_t		 r_stage;	/* enum sw_stage */
	uint32_t	 r_txn;		/* transaction number, 0 if none */
	size_t		 r_nfields;
	size_t		 r_cap;
	struct sw_field	*r_fields;
};

void	sw_record_init(struct sw_record *);
void	sw_record_clear(struct sw_record *);	/* keeps the storage */
void	sw_record_free(struct sw_record *);

/* Append a field.  Data is referenced, not copied.  0 or -1 (ENOMEM). */
int	sw_record_add_bytes(struct sw_record *, int key, const void *,
	    size_t);
int	sw_record_add_str(struct sw_record *, int key, const char *);
int	sw_record_add_int(struct sw_record *, int key, int64_t);
int	sw_record_add_nil(struct sw_record *, int key);

/* First field with this key, or NULL. */
const struct sw_field *sw_record_find(const struct sw_record *, int key);

/* Encode into sbuf (appending).  0 or -1 (ENOMEM). */
int	sw_record_pack(const struct sw_record *, msgpack_sbuffer *sbuf);

/*
 * Decode one record object.  Field data points into the object's zone,
 * which must outlive the record.  0, or -1 with *why set.
 */
int	sw_record_unpack(const msgpack_object *, struct sw_record *,
	    const char **why);

const char *sw_stage_name(int stage);
const char *sw_key_name(int key);

/* Frames: blocking helpers for the simple ends of the socket. */
int	sw_frame_write(int fd, const void *payload, size_t len);
/* Read one frame into a malloc'd buffer; 0, -1 (errno), or 1 at EOF. */
int	sw_frame_read(int fd, char **payload, size_t *len, size_t max);

/* Batch and ack payloads. */
int	sw_batch_begin(msgpack_packer *, uint64_t batch_id, size_t nrecords);
int	sw_ack_pack(msgpack_sbuffer *, uint64_t batch_id, int status);
int	sw_ack_unpack(const char *data, size_t len, uint64_t *batch_id,
	    int *status);

#endif /* SW_RECORD_H */
