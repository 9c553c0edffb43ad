/*
 * transcript.c - the content of each transcript record, stage by stage.
 *
 * Arguments are recorded byte for byte.  Macros come from
 * smfi_getsymval(); a macro asked for at a stage and not sent is
 * recorded as nil plus a "missing" field naming it, so the database can
 * tell "the MTA did not say" from "empty".  TLS and AUTH macros are
 * recorded as their own events the first time they appear (TLS at the
 * HELO after STARTTLS, AUTH at MAIL) and again only if they change.
 *
 * The body is never kept: it is reduced to its size and the SHA-256 of
 * the bytes exactly as the MTA passed them (CRLF line ends, dots
 * unstuffed), computed chunk by chunk.
 *
 * DIAGNOSTICS: none here; see session_emit().
 * BUGS: XXX close reason: a milter cannot tell QUIT from a dropped
 * connection; only a drop during DATA is recognisable (an abort after
 * DATA began), so other closes are described by their last stage.
 */

#include "config.h"
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sw_esmtp.h"
#include "sw_escape.h"
#include "sw_log.h"
#include "sw_util.h"
#include "decode.h"
#include "transcript.h"

const char transcript_macros_connect[] =
    "{client_addr} {client_port} {client_name} {client_ptr} "
    "{client_resolve} {daemon_name} {daemon_addr} j _ v";
const char transcript_macros_helo[] =
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} "
    "{verify}";
const char transcript_macros_mail[] =
    "{auth_type} {auth_authen} {auth_author} {auth_ssf} {mail_addr} i "
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} "
    "{verify}";
const char transcript_macros_rcpt[] = "{rcpt_mailer} {rcpt_host} "
    "{rcpt_addr} i";
const char transcript_macros_data[] = "i";
const char transcript_macros_eoh[] = "i";
const char transcript_macros_eom[] = "i {msg_id}";

/* Macros recorded at connect; all of them are expected from the MTA. */
static const struct {
	const char	*macro;
	int		 key;
} connect_macros[] = {
	{ "{client_name}", SW_K_CLIENT_NAME },
	{ "{client_ptr}", SW_K_CLIENT_PTR },
	{ "{daemon_name}", SW_K_DAEMON_NAME },
	{ "{daemon_addr}", SW_K_DAEMON_ADDR },
	{ "j", SW_K_MTA_NAME },
	{ "v", SW_K_MTA_VERSION },
};

static const struct {
	const char	*macro;
	int		 key;
} tls_macros[] = {
	{ "{tls_version}", SW_K_TLS_VERSION },
	{ "{cipher}", SW_K_TLS_CIPHER },
	{ "{cipher_bits}", SW_K_TLS_BITS },
	{ "{cert_subject}", SW_K_TLS_SUBJECT },
	{ "{cert_issuer}", SW_K_TLS_ISSUER },
	{ "{verify}", SW_K_TLS_VERIFY },
}, auth_macros[] = {
	{ "{auth_type}", SW_K_AUTH_TYPE },
	{ "{auth_authen}", SW_K_AUTH_AUTHEN },
	{ "{auth_author}", SW_K_AUTH_AUTHOR },
	{ "{auth_ssf}", SW_K_AUTH_SSF },
};

#define NELEM(a)	(sizeof (a) / sizeof (a)[0])

/*
 * add_macro - record a macro's value, or nil and its name as missing.
 * Returns the value (NULL when missing).
 */
static const char *
add_macro(struct sw_record *r, SMFICTX *ctx, int key, const char *macro)
{
	const char *v = smfi_getsymval(ctx, (char *)macro);

	/* decode.c: one spelling for both MTAs ("IPv6:", xtext, <>). */
	v = decode_macro(ctx, macro, v);
	if (v != NULL) {
		(void)sw_record_add_str(r, key, v);
	} else {
		(void)sw_record_add_nil(r, key);
		(void)sw_record_add_str(r, SW_K_MISSING_MACRO, macro);
	}
	return v;
}

/* add_qid - the queue id, when the MTA has given one by now */

static const char *
add_qid(struct sw_record *r, SMFICTX *ctx, int expected)
{
	const char *qid = smfi_getsymval(ctx, "i");

	if (qid != NULL)
		(void)sw_record_add_str(r, SW_K_QUEUE_ID, qid);
	else if (expected)
		(void)sw_record_add_str(r, SW_K_MISSING_MACRO, "i");
	return qid;
}

/* add_params - ESMTP parameters of MAIL or RCPT, in order */

static void
add_params(struct sw_record *r, char **argv)
{
	struct sw_esmtp_param p;
	size_t	 i;

	for (i = 1; argv[i] != NULL; i++) {
		if (sw_esmtp_param_split(argv[i], &p) < 0) {
			/* Keep the odd argument whole rather than lose it. */
			(void)sw_record_add_str(r, SW_K_PARAM_KEY, argv[i]);
			(void)sw_record_add_nil(r, SW_K_PARAM_VALUE);
			continue;
		}
		(void)sw_record_add_bytes(r, SW_K_PARAM_KEY, p.ep_keyword,
		    p.ep_keyword_len);
		if (p.ep_value != NULL)
			(void)sw_record_add_bytes(r, SW_K_PARAM_VALUE,
			    p.ep_value, p.ep_value_len);
		else
			(void)sw_record_add_nil(r, SW_K_PARAM_VALUE);
	}
}

/* macro_key - the values of a macro set joined, to notice a change */

static char *
macro_key(SMFICTX *ctx, const char *const *macros, size_t n)
{
	size_t	 len = 1, used = 0, i;
	char	*key;

	for (i = 0; i < n; i++) {
		const char *v = smfi_getsymval(ctx, (char *)macros[i]);

		len += (v ? strlen(v) : 0) + 1;
	}
	if ((key = malloc(len)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *v = smfi_getsymval(ctx, (char *)macros[i]);
		size_t	 vlen = v ? strlen(v) : 0;

		memcpy(key + used, v ? v : "", vlen);
		used += vlen;
		key[used++] = '\001';
	}
	key[used] = '\0';
	return key;
}

/* note_tls - a TLS event when TLS macros appear or change */

static void
note_tls(struct session *s, SMFICTX *ctx)
{
	const char *names[NELEM(tls_macros)];
	struct sw_record *r;
	char	*key;
	size_t	 i;

	if (smfi_getsymval(ctx, "{tls_version}") == NULL &&
	    smfi_getsymval(ctx, "{cipher}") == NULL)
		return;
	for (i = 0; i < NELEM(tls_macros); i++)
		names[i] = tls_macros[i].macro;
	(void)facts_set(&s->s_conn.cf_tls_version,
	    smfi_getsymval(ctx, "{tls_version}"));
	(void)facts_set(&s->s_conn.cf_tls_cipher,
	    smfi_getsymval(ctx, "{cipher}"));
	(void)facts_set(&s->s_conn.cf_tls_verify,
	    smfi_getsymval(ctx, "{verify}"));
	(void)facts_set(&s->s_conn.cf_tls_subject, decode_macro(ctx,
	    "{cert_subject}", smfi_getsymval(ctx, "{cert_subject}")));
	(void)facts_set(&s->s_conn.cf_tls_issuer, decode_macro(ctx,
	    "{cert_issuer}", smfi_getsymval(ctx, "{cert_issuer}")));
	s->s_conn.cf_tls_bits = smfi_getsymval(ctx, "{cipher_bits}") ?
	    strtol(smfi_getsymval(ctx, "{cipher_bits}"), NULL, 10) : 0;
	if ((key = macro_key(ctx, names, NELEM(names))) == NULL)
		return;
	if (s->s_tls_key != NULL && strcmp(key, s->s_tls_key) == 0) {
		free(key);
		return;
	}
	free(s->s_tls_key);
	s->s_tls_key = key;
	r = session_record(s, SW_STAGE_TLS);
	for (i = 0; i < NELEM(tls_macros); i++)
		add_macro(r, ctx, tls_macros[i].key, tls_macros[i].macro);
	(void)session_emit(s);
	sw_info(s->s_id, "tls version=%s cipher=%s bits=%s",
	    smfi_getsymval(ctx, "{tls_version}") ?: "-",
	    smfi_getsymval(ctx, "{cipher}") ?: "-",
	    smfi_getsymval(ctx, "{cipher_bits}") ?: "-");
}

/* note_auth - an AUTH event when AUTH macros appear or change */

static void
note_auth(struct session *s, SMFICTX *ctx)
{
	static const char *const names[] = { "{auth_type}", "{auth_authen}" };
	struct sw_record *r;
	char	*key, user[256];
	const char *authen;
	size_t	 i;

	if (smfi_getsymval(ctx, "{auth_type}") == NULL)
		return;
	(void)facts_set(&s->s_conn.cf_auth_mech,
	    smfi_getsymval(ctx, "{auth_type}"));
	(void)facts_set(&s->s_conn.cf_auth_user,
	    smfi_getsymval(ctx, "{auth_authen}"));
	if ((key = macro_key(ctx, names, NELEM(names))) == NULL)
		return;
	if (s->s_auth_key != NULL && strcmp(key, s->s_auth_key) == 0) {
		free(key);
		return;
	}
	free(s->s_auth_key);
	s->s_auth_key = key;
	r = session_record(s, SW_STAGE_AUTH);
	for (i = 0; i < NELEM(auth_macros); i++)
		add_macro(r, ctx, auth_macros[i].key, auth_macros[i].macro);
	(void)session_emit(s);
	authen = smfi_getsymval(ctx, "{auth_authen}");
	sw_info(s->s_id, "auth mechanism=%s user=<%s>",
	    smfi_getsymval(ctx, "{auth_type}"),
	    authen ? sw_printable(user, sizeof user, authen, strlen(authen))
	    : "");
}

/* transcript_connect - client identity and the MTA's own names */

void
transcript_connect(struct session *s, SMFICTX *ctx, const char *host,
    const struct sockaddr *sa)
{
	struct sw_record *r = session_record(s, SW_STAGE_CONNECT);
	char	 addr[sizeof ((struct sockaddr_un *)0)->sun_path + 1];
	char	 shost[256], saddr[128];
	const char *family = "unknown", *a = NULL;
	long	 port = -1;
	size_t	 i;

	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		family = "inet";
		a = inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof addr);
		port = ntohs(sin->sin_port);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		family = "inet6";
		a = inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof addr);
		port = ntohs(sin6->sin6_port);
	} else if (sa != NULL && sa->sa_family == AF_UNIX) {
		const struct sockaddr_un *sun = (const void *)sa;

		family = "unix";
		snprintf(addr, sizeof addr, "%.*s",
		    (int)sizeof sun->sun_path, sun->sun_path);
		a = addr;
	}

	(void)sw_record_add_str(r, SW_K_CLIENT_HOST, host);
	(void)sw_record_add_str(r, SW_K_CLIENT_FAMILY, family);
	if (a != NULL) {
		/*
		 * The record points at its data and is queued only after the
		 * decision, when addr[] is gone: give it the session's copy.
		 */
		(void)facts_set(&s->s_conn.cf_addr, a);
		a = s->s_conn.cf_addr;
		(void)sw_record_add_str(r, SW_K_CLIENT_ADDR, a);
	} else
		a = add_macro(r, ctx, SW_K_CLIENT_ADDR, "{client_addr}");
	if (port >= 0)
		(void)sw_record_add_int(r, SW_K_CLIENT_PORT, port);
	else {
		const char *p = smfi_getsymval(ctx, "{client_port}");

		if (p != NULL)
			(void)sw_record_add_int(r, SW_K_CLIENT_PORT,
			    strtol(p, NULL, 10));
		else
			(void)sw_record_add_nil(r, SW_K_CLIENT_PORT);
	}
	for (i = 0; i < NELEM(connect_macros); i++)
		add_macro(r, ctx, connect_macros[i].key,
		    connect_macros[i].macro);

	/* Facts for the rules; the record waits for the decision. */
	if (a != s->s_conn.cf_addr)	/* the record may point at it */
		(void)facts_set(&s->s_conn.cf_addr, a);
	(void)facts_set(&s->s_conn.cf_family, family);
	(void)facts_set(&s->s_conn.cf_host, host);
	(void)facts_set(&s->s_conn.cf_name,
	    smfi_getsymval(ctx, "{client_name}") ?: host);
	(void)facts_set(&s->s_conn.cf_ptr, smfi_getsymval(ctx, "{client_ptr}"));
	(void)facts_set(&s->s_conn.cf_mta_name, smfi_getsymval(ctx, "j"));
	s->s_conn.cf_port = port;
	sw_info(s->s_id, "connect client=%s[%s] family=%s",
	    host ? sw_printable(shost, sizeof shost, host, strlen(host)) :
	    "unknown",
	    a ? sw_printable(saddr, sizeof saddr, a, strlen(a)) : "unknown",
	    family);
}

/* transcript_helo - every HELO/EHLO, in order */

void
transcript_helo(struct session *s, SMFICTX *ctx, const char *name)
{
	struct sw_record *r;

	/* TLS macros arrive with the HELO that follows STARTTLS. */
	note_tls(s, ctx);
	r = session_record(s, SW_STAGE_HELO);
	(void)sw_record_add_str(r, SW_K_HELO, name);
	s->s_nhelo++;
	(void)facts_set(&s->s_conn.cf_helo, name);
	s->s_conn.cf_helo_count = s->s_nhelo;
	sw_debug(s->s_id, "helo count=%u", s->s_nhelo);
}

/* transcript_mail - a new transaction: sender, parameters, AUTH */

void
transcript_mail(struct session *s, SMFICTX *ctx, char **argv)
{
	struct sw_record *r;
	char	 from[512];
	size_t	 i;

	note_tls(s, ctx);
	note_auth(s, ctx);
	if (s->s_txn.t_open) {
		/*
		 * A MAIL while one is open: the MTA refused the previous MAIL
		 * (our rules, or its own), or sent no abort in between.
		 */
		r = session_record(s, SW_STAGE_ABORT);
		(void)sw_record_add_str(r, SW_K_REASON,
		    "superseded by a new MAIL");
		(void)session_emit(s);
	}
	if (session_txn_begin(s) < 0) {
		sw_err(s->s_id, "mail error=\"out of memory\" (transaction "
		    "not recorded)");
		return;
	}
	r = session_record(s, SW_STAGE_MAIL);
	(void)sw_record_add_str(r, SW_K_PATH, argv[0]);
	add_params(r, argv);
	if (smfi_getsymval(ctx, "{auth_type}") != NULL)
		for (i = 0; i < NELEM(auth_macros); i++)
			add_macro(r, ctx, auth_macros[i].key,
			    auth_macros[i].macro);
	add_qid(r, ctx, 0);
	{
		const char *addr;
		size_t	 len;

		s->s_tf.tf_null_sender = sw_esmtp_path_address(argv[0], &addr,
		    &len);
		s->s_tf.tf_sender = strndup(addr, len);
		(void)facts_params_set(s->s_tf.tf_params, &s->s_tf.tf_nparams,
		    argv);
	}
	sw_info(s->s_id, "mail txn=%u from=%s", s->s_txn.t_no,
	    sw_printable(from, sizeof from, argv[0], strlen(argv[0])));
}

/* transcript_rcpt - one recipient, accepted or rejected by the MTA */

void
transcript_rcpt(struct session *s, SMFICTX *ctx, char **argv)
{
	struct sw_record *r;
	const char *mailer;
	char	 to[512];
	int	 accepted;

	/* Defensive: an RCPT without MAIL still gets a transaction. */
	if (!s->s_txn.t_open && session_txn_begin(s) < 0)
		return;
	r = session_record(s, SW_STAGE_RCPT);
	(void)sw_record_add_str(r, SW_K_PATH, argv[0]);
	(void)sw_record_add_int(r, SW_K_RCPT_NO, ++s->s_txn.t_nrcpt);
	s->s_nrcpt++;
	add_params(r, argv);
	mailer = add_macro(r, ctx, SW_K_RCPT_MAILER, "{rcpt_mailer}");
	add_macro(r, ctx, SW_K_RCPT_HOST, "{rcpt_host}");
	add_macro(r, ctx, SW_K_RCPT_ADDR, "{rcpt_addr}");
	/* With SMFIP_RCPT_REJ, the MTA's rejections come as mailer "error". */
	accepted = mailer == NULL || strcmp(mailer, "error") != 0;
	(void)sw_record_add_int(r, SW_K_RCPT_ACCEPTED, accepted);
	add_qid(r, ctx, 0);
	{
		const char *addr;
		size_t	 len;

		(void)sw_esmtp_path_address(argv[0], &addr, &len);
		free(s->s_tf.tf_rcpt);
		s->s_tf.tf_rcpt = strndup(addr, len);
		(void)facts_params_set(s->s_tf.tf_rcpt_params,
		    &s->s_tf.tf_rcpt_nparams, argv);
		s->s_rcpt_mta_rejected = !accepted;
		if (accepted)
			s->s_tf.tf_rcpt_count++;
	}
	sw_debug(s->s_id, "rcpt txn=%u to=%s accepted=%d", s->s_txn.t_no,
	    sw_printable(to, sizeof to, argv[0], strlen(argv[0])), accepted);
}

/* transcript_data - DATA (or the first BDAT chunk) */

void
transcript_data(struct session *s, SMFICTX *ctx)
{
	struct sw_record *r = session_record(s, SW_STAGE_DATA);

	add_qid(r, ctx, 1);
}

/* transcript_header - one header, the value cut at max_header_bytes */

void
transcript_header(struct session *s, const char *name, const char *value)
{
	struct sw_record *r = session_record(s, SW_STAGE_HEADER);
	size_t	 len, keep;

	/* decode.c: the space an MTA strips without SMFIP_HDR_LEADSPC. */
	value = decode_header_value(value);
	len = keep = strlen(value);

	if (keep > (size_t)session_max_header_bytes)
		keep = (size_t)session_max_header_bytes;
	(void)sw_record_add_int(r, SW_K_HEADER_POS, ++s->s_txn.t_nheaders);
	(void)sw_record_add_str(r, SW_K_HEADER_NAME, name);
	(void)sw_record_add_bytes(r, SW_K_HEADER_VALUE, value, keep);
	(void)sw_record_add_int(r, SW_K_HEADER_LEN, (int64_t)len);
	if (keep < len) {
		(void)sw_record_add_int(r, SW_K_HEADER_CUT, 1);
		sw_notice(s->s_id, "header-cut pos=%u len=%zu kept=%zu",
		    s->s_txn.t_nheaders, len, keep);
	}
	s->s_tf.tf_header_name = name;
	s->s_tf.tf_header_value = value;
	if (s->s_rules != NULL && s->s_rules->rs_uses_headers)
		(void)facts_header_add(&s->s_tf, name, value,
		    (size_t)session_max_header_bytes);
}

/* transcript_eoh - end of headers */

void
transcript_eoh(struct session *s, SMFICTX *ctx)
{
	struct sw_record *r = session_record(s, SW_STAGE_EOH);

	add_qid(r, ctx, 1);
}

/* transcript_body - one body chunk: counted and hashed, never kept */

void
transcript_body(struct session *s, const unsigned char *chunk, size_t len)
{
	struct txn *t = &s->s_txn;

	if (t->t_body_sha != NULL)
		(void)EVP_DigestUpdate(t->t_body_sha, chunk, len);
	t->t_body_size += len;
	s->s_tf.tf_body_size = t->t_body_size;
	t->t_body_chunks++;
	s->s_last_stage = SW_STAGE_BODY;
	t->t_last_stage = SW_STAGE_BODY;
}

/* transcript_eom - body summary, then end of message */

void
transcript_eom(struct session *s, SMFICTX *ctx)
{
	struct txn *t = &s->s_txn;
	struct sw_record *r;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	char	 hex[2 * EVP_MAX_MD_SIZE + 1];
	const char *qid;

	if (t->t_body_sha == NULL ||
	    EVP_DigestFinal_ex(t->t_body_sha, md, &mdlen) != 1)
		mdlen = 0;
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[2 * mdlen] = '\0';

	r = session_record(s, SW_STAGE_BODY);
	(void)sw_record_add_int(r, SW_K_BODY_SIZE, (int64_t)t->t_body_size);
	if (mdlen > 0)
		(void)sw_record_add_str(r, SW_K_BODY_SHA256, hex);
	else
		(void)sw_record_add_nil(r, SW_K_BODY_SHA256);
	(void)sw_record_add_int(r, SW_K_BODY_CHUNKS, t->t_body_chunks);
	(void)session_emit(s);

	r = session_record(s, SW_STAGE_EOM);
	qid = add_qid(r, ctx, 1);
	(void)sw_record_add_int(r, SW_K_N_RCPT, t->t_nrcpt);
	sw_info(s->s_id, "eom qid=%s txn=%u size=%llu rcpts=%u headers=%u",
	    qid ? qid : "NOQUEUE", t->t_no,
	    (unsigned long long)t->t_body_size, t->t_nrcpt, t->t_nheaders);
	s->s_nmsg++;
	s->s_conn.cf_msg_count = s->s_nmsg;
}

/* transcript_abort - RSET, a dropped client, or nothing to abort */

void
transcript_abort(struct session *s)
{
	struct sw_record *r;
	char	 reason[64];
	int	 last = s->s_txn.t_last_stage;

	if (!s->s_txn.t_open) {
		/* After EOM, or RSET outside a transaction: a no-op. */
		sw_debug(s->s_id, "abort txn=none (nothing open)");
		return;
	}
	/*
	 * Once DATA has begun the client cannot send RSET, so an abort
	 * there means the connection was lost (or the MTA timed out).
	 */
	if (last >= SW_STAGE_DATA && last <= SW_STAGE_BODY)
		s->s_lost_in_data = 1;
	r = session_record(s, SW_STAGE_ABORT);
	snprintf(reason, sizeof reason, "aborted after %s",
	    sw_stage_name(last));
	(void)sw_record_add_str(r, SW_K_REASON, reason);
	(void)session_emit(s);
	sw_info(s->s_id, "abort txn=%u last_stage=%s", s->s_txn.t_no,
	    sw_stage_name(last));
	session_txn_end(s);
}

/* transcript_unknown - an unrecognised command, as the MTA passed it */

void
transcript_unknown(struct session *s, const char *command)
{
	struct sw_record *r = session_record(s, SW_STAGE_UNKNOWN);
	char	 cmd[128];

	(void)sw_record_add_str(r, SW_K_COMMAND, command);
	s->s_nunknown++;
	(void)facts_set(&s->s_conn.cf_unknown_command, command);
	s->s_conn.cf_unknown_count = s->s_nunknown;
	sw_info(s->s_id, "unknown command=\"%s\"",
	    sw_printable(cmd, sizeof cmd, command, strlen(command)));
}

/* transcript_close - the end of the session, with counts */

void
transcript_close(struct session *s)
{
	struct sw_record *r;
	char	 reason[64];
	int64_t	 duration = sw_mono_us() - s->s_start_mono;

	if (s->s_txn.t_open) {
		/* Sendmail closes without an abort in some paths. */
		r = session_record(s, SW_STAGE_ABORT);
		(void)sw_record_add_str(r, SW_K_REASON, "connection closed");
		(void)session_emit(s);
		session_txn_end(s);
	}
	if (s->s_lost_in_data)
		snprintf(reason, sizeof reason, "lost connection in DATA");
	else
		snprintf(reason, sizeof reason, "closed after %s",
		    sw_stage_name(s->s_last_stage));
	r = session_record(s, SW_STAGE_CLOSE);
	(void)sw_record_add_str(r, SW_K_REASON, reason);
	(void)sw_record_add_int(r, SW_K_DURATION_US, duration);
	(void)sw_record_add_int(r, SW_K_N_TXN, s->s_ntxn);
	(void)sw_record_add_int(r, SW_K_N_MSG, s->s_nmsg);
	(void)sw_record_add_int(r, SW_K_N_RCPT, s->s_nrcpt);
	(void)sw_record_add_int(r, SW_K_N_UNKNOWN, s->s_nunknown);
	(void)session_emit(s);
	sw_info(s->s_id, "close reason=\"%s\" duration_ms=%lld "
	    "transactions=%u messages=%u recipients=%u", reason,
	    (long long)(duration / 1000), s->s_ntxn, s->s_nmsg, s->s_nrcpt);
}
