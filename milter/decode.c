/*
 * decode.c - MTA spellings of macro values, undone before they are
 * recorded (milter protocol version 6 macros; RFC 3461 xtext).
 *
 * Postfix and Sendmail tell a milter the same facts in different
 * spellings.  Measured with Postfix 3.7 and Sendmail 8.17:
 *
 *   - Sendmail xtext-encodes {cert_subject} and {cert_issuer}: a space
 *     is "+20", "+" is "+2B" ("/O=Example+20Org/CN=Test+20CA").  Postfix
 *     passes the certificate's common name as it is.  xtext is decoded
 *     only when the MTA is Sendmail, since a Postfix name may hold a
 *     literal "+41".
 *   - Sendmail writes IPv6 addresses as "IPv6:0:0:0:0:0:0:0:1" in
 *     {client_addr} and {daemon_addr}; Postfix writes "::1".  The prefix
 *     is removed and IPv6 addresses are written in the RFC 5952 form
 *     (inet_ntop), as the address from the socket is.
 *   - "sendmail -bs" has no client address: libmilter gets no socket
 *     address and {client_addr} is "0".  That is "not provided".
 *   - {auth_author} is the AUTH= parameter of MAIL as the client wrote
 *     it, under both MTAs; clients write "AUTH=<user@example.com>".  One
 *     pair of angle brackets is removed, so "<>" becomes "" (an empty
 *     authorization identity, which Postfix does not pass at all).  The
 *     parameter itself stays byte-exact in esmtp_params.
 *   - Without SMFIP_HDR_LEADSPC both MTAs strip one space after the
 *     header's colon.  When the MTA did not agree to the flag, that
 *     space is put back, so header values read the same either way.
 *
 * Decoded copies live in per-thread buffers, one per kind of value: a
 * record keeps pointers to its values until it is queued at the end of
 * the callback, and a libmilter thread runs one callback at a time.
 *
 * DIAGNOSTICS: none; when memory runs out the value is recorded as the
 * MTA gave it.
 * BUGS: XXX leading space: a header written with no space after the
 * colon ("X:y") reads as " y" from an MTA that did not negotiate
 * SMFIP_HDR_LEADSPC, and "X: " as "" (the MTA already lost the
 * difference); both MTAs measured negotiate it.  The negotiation is
 * remembered process-wide, from the latest milter connection.
 * XXX MTA kind: it comes from the "v" macro; a Sendmail that does not
 * send "v" gets its certificate names stored xtext-encoded.
 */

#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libmilter/mfapi.h>

#include "decode.h"

/* The kinds of decoded copy a thread keeps, one buffer each. */
enum {
	SLOT_SUBJECT,
	SLOT_ISSUER,
	SLOT_AUTHOR,
	SLOT_HEADER,
	SLOT_CLIENT_ADDR,
	SLOT_DAEMON_ADDR,
	SLOT_MAX
};

struct slot {
	char	*sl_buf;
	size_t	 sl_size;
};

static void	 slots_free(void *);
static void	 slots_key_init(void);
static char	*slot_get(int, size_t);
static int	 hexval(int);

static pthread_key_t	slots_key;
static pthread_once_t	slots_once = PTHREAD_ONCE_INIT;
static int		slots_ok;

/* Whether the latest negotiation kept header values' leading space. */
static int	leadspc_negotiated = 1;

/* slots_free - thread exit: the thread's decoded copies */

static void
slots_free(void *p)
{
	struct slot *sl = p;
	size_t	 i;

	if (sl == NULL)
		return;
	for (i = 0; i < SLOT_MAX; i++)
		free(sl[i].sl_buf);
	free(sl);
}

/* slots_key_init - the thread-specific key, once */

static void
slots_key_init(void)
{
	slots_ok = pthread_key_create(&slots_key, slots_free) == 0;
}

/*
 * slot_get - the calling thread's buffer of one kind, holding at least
 * size bytes, or NULL.  It grows only when it must, so a value decoded
 * twice into one record keeps its first pointer valid.
 */
static char *
slot_get(int kind, size_t size)
{
	struct slot *sl;
	char	*p;

	(void)pthread_once(&slots_once, slots_key_init);
	if (!slots_ok)
		return NULL;
	if ((sl = pthread_getspecific(slots_key)) == NULL) {
		if ((sl = calloc(SLOT_MAX, sizeof *sl)) == NULL)
			return NULL;
		if (pthread_setspecific(slots_key, sl) != 0) {
			free(sl);
			return NULL;
		}
	}
	if (sl[kind].sl_size < size) {
		if ((p = realloc(sl[kind].sl_buf, size)) == NULL)
			return NULL;
		sl[kind].sl_buf = p;
		sl[kind].sl_size = size;
	}
	return sl[kind].sl_buf;
}

/*
 * decode_release - free the calling thread's decoded copies now (the
 * thread's exit does it too).
 * Parameters: none.  Returns: nothing.
 */

void
decode_release(void)
{
	(void)pthread_once(&slots_once, slots_key_init);
	if (!slots_ok)
		return;
	slots_free(pthread_getspecific(slots_key));
	(void)pthread_setspecific(slots_key, NULL);
}

/*
 * decode_mta_kind - which MTA sent a "v" macro: Postfix says "Postfix
 * 3.7.11", Sendmail its bare version number "8.17.1.9".
 * Parameters: version, the "v" macro (NULL when not sent).
 * Returns: DECODE_MTA_POSTFIX, DECODE_MTA_SENDMAIL or _UNKNOWN.
 */
enum decode_mta
decode_mta_kind(const char *version)
{
	const char *p;

	if (version == NULL)
		return DECODE_MTA_UNKNOWN;
	if (strncmp(version, "Postfix", 7) == 0)
		return DECODE_MTA_POSTFIX;
	/* Digits and dots only, at least one dot. */
	if (!isdigit((unsigned char)version[0]) || strchr(version, '.') == NULL)
		return DECODE_MTA_UNKNOWN;
	for (p = version; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return DECODE_MTA_UNKNOWN;
	return DECODE_MTA_SENDMAIL;
}

/* hexval - an upper-case hex digit's value (RFC 3461 hexchar), or -1 */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * decode_xtext - RFC 3461 xtext to bytes.  "+XX" with two upper-case
 * hex digits is the byte XX; anything else is copied as it is, so a
 * malformed value is kept rather than guessed at.  "+00" stays too: a
 * NUL would cut the C string the value travels in.
 * Parameters: in, the xtext; out, room for strlen(in) + 1 bytes.
 * Returns: the number of bytes written before the terminating NUL.
 */
size_t
decode_xtext(const char *in, char *out)
{
	size_t	 i = 0, o = 0;
	int	 hi, lo;

	while (in[i] != '\0') {
		hi = in[i] == '+' ? hexval((unsigned char)in[i + 1]) : -1;
		lo = hi >= 0 ? hexval((unsigned char)in[i + 2]) : -1;
		if (lo >= 0 && (hi | lo) != 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 3;
		} else
			out[o++] = in[i++];
	}
	out[o] = '\0';
	return o;
}

/*
 * decode_strip_ipv6 - the address without Sendmail's "IPv6:" prefix.
 * Parameters: addr, a macro value (may be NULL).
 * Returns: a pointer into addr, or addr itself.
 */
const char *
decode_strip_ipv6(const char *addr)
{
	if (addr != NULL && strncasecmp(addr, "IPv6:", 5) == 0)
		return addr + 5;
	return addr;
}

/* plain_address - no "IPv6:", and IPv6 in its short form (RFC 5952) */

static const char *
plain_address(int kind, const char *value)
{
	struct in6_addr a6;
	char	*out;

	value = decode_strip_ipv6(value);
	if (strchr(value, ':') == NULL || inet_pton(AF_INET6, value, &a6) != 1)
		return value;
	if ((out = slot_get(kind, INET6_ADDRSTRLEN)) == NULL ||
	    inet_ntop(AF_INET6, &a6, out, INET6_ADDRSTRLEN) == NULL)
		return value;
	return out;
}

/* strip_brackets - "<x>" to "x" in a thread buffer; others unchanged */

static const char *
strip_brackets(const char *value)
{
	size_t	 len = strlen(value);
	char	*out;

	if (len < 2 || value[0] != '<' || value[len - 1] != '>')
		return value;
	if ((out = slot_get(SLOT_AUTHOR, len - 1)) == NULL)
		return value;
	memcpy(out, value + 1, len - 2);
	out[len - 2] = '\0';
	return out;
}

/* xtext_copy - decoded copy of a certificate name in a thread buffer */

static const char *
xtext_copy(int kind, const char *value)
{
	char	*out;

	if (strchr(value, '+') == NULL)
		return value;
	if ((out = slot_get(kind, strlen(value) + 1)) == NULL)
		return value;
	(void)decode_xtext(value, out);
	return out;
}

/*
 * decode_value - the value of one macro as it should be recorded.
 * Parameters: mta, who spelled it; macro, its name ("{cert_subject}");
 * value, as smfi_getsymval() gave it (NULL when not sent).
 * Returns: value, a pointer into it, a per-thread decoded copy (valid
 * until this thread decodes the same kind of macro again), or NULL
 * when the value means that the MTA has none.
 */
const char *
decode_value(enum decode_mta mta, const char *macro, const char *value)
{
	if (value == NULL || macro == NULL)
		return value;
	if (strcmp(macro, "{cert_subject}") == 0 && mta == DECODE_MTA_SENDMAIL)
		return xtext_copy(SLOT_SUBJECT, value);
	if (strcmp(macro, "{cert_issuer}") == 0 && mta == DECODE_MTA_SENDMAIL)
		return xtext_copy(SLOT_ISSUER, value);
	if (strcmp(macro, "{client_addr}") == 0) {
		value = plain_address(SLOT_CLIENT_ADDR, value);
		/* Sendmail's placeholder when there is no peer (-bs). */
		return strcmp(value, "0") == 0 || *value == '\0' ? NULL :
		    value;
	}
	if (strcmp(macro, "{daemon_addr}") == 0 ||
	    strcmp(macro, "{if_addr}") == 0)
		return plain_address(SLOT_DAEMON_ADDR, value);
	if (strcmp(macro, "{auth_author}") == 0)
		return strip_brackets(value);
	return value;
}

/*
 * decode_macro - decode_value() for the MTA on this milter link, known
 * by its "v" macro (sent at connect, still readable later).
 * Parameters: ctx, the libmilter context; macro and value as for
 * decode_value().
 * Returns: as decode_value().
 */

const char *
decode_macro(SMFICTX *ctx, const char *macro, const char *value)
{
	return decode_value(decode_mta_kind(smfi_getsymval(ctx, "v")), macro,
	    value);
}

/*
 * decode_note_steps - remember whether SMFIP_HDR_LEADSPC was agreed.
 * Parameters: steps, the protocol steps the negotiation settled on.
 * Returns: nothing.
 */

void
decode_note_steps(unsigned long steps)
{
	__atomic_store_n(&leadspc_negotiated,
	    (steps & SMFIP_HDR_LEADSPC) != 0, __ATOMIC_RELAXED);
}

/*
 * decode_header_value_with - a header value with the space after the
 * colon that the MTA strips when leadspc is 0.
 * Parameters: value, as the header callback got it; leadspc, whether
 * SMFIP_HDR_LEADSPC was negotiated.
 * Returns: value itself, or a per-thread copy with the space.
 */
const char *
decode_header_value_with(const char *value, int leadspc)
{
	size_t	 len;
	char	*out;

	if (leadspc || value == NULL || *value == '\0')
		return value;
	len = strlen(value);
	if ((out = slot_get(SLOT_HEADER, len + 2)) == NULL)
		return value;
	out[0] = ' ';
	memcpy(out + 1, value, len + 1);
	return out;
}

/*
 * decode_header_value - decode_header_value_with() for the latest
 * negotiation (decode_note_steps()).
 * Parameters: value, as the header callback got it.
 * Returns: value, or a per-thread copy with the space put back.
 */

const char *
decode_header_value(const char *value)
{
	return decode_header_value_with(value,
	    __atomic_load_n(&leadspc_negotiated, __ATOMIC_RELAXED));
}
