/*
 * decode.h - undo the spellings one MTA gives a macro value and the
 * other does not, so that the same SMTP dialogue through Postfix and
 * through Sendmail is stored the same way.
 *
 * What is undone (each measured; see decode.c):
 *   {cert_subject}, {cert_issuer}  Sendmail's RFC 3461 xtext ("+20")
 *   {client_addr}, {daemon_addr}   the "IPv6:" prefix and the long IPv6
 *                                  form; "0" (sendmail -bs, no client
 *                                  address) reads as missing
 *   {auth_author}                  one pair of angle brackets
 *   header values                  the leading space an MTA strips when
 *                                  SMFIP_HDR_LEADSPC was not negotiated
 *
 * DIAGNOSTICS: functions that need memory return the value unchanged
 * when it runs out (never NULL for a value that was there).
 * BUGS: see decode.c.
 */
#ifndef DECODE_H
#define DECODE_H

#include <stddef.h>

#include <libmilter/mfapi.h>

/* Which MTA spelled the values, from its "v" macro. */
enum decode_mta {
	DECODE_MTA_UNKNOWN = 0,
	DECODE_MTA_POSTFIX,
	DECODE_MTA_SENDMAIL
};

enum decode_mta decode_mta_kind(const char *version);

/*
 * RFC 3461 xtext: "+XX" (two upper-case hex digits) becomes that byte.
 * A "+" not followed by two such digits, and "+00", are kept as they
 * are.  out must hold strlen(in) + 1 bytes.  Returns the length
 * written.
 */
size_t	decode_xtext(const char *in, char *out);

/* "IPv6:2001:db8::1" -> "2001:db8::1"; anything else unchanged. */
const char *decode_strip_ipv6(const char *addr);

/*
 * The value to record for one macro, as the MTA identified by mta
 * spelled it.  Returns value itself, a pointer into it, a decoded copy
 * that stays valid until the same macro is decoded again by the same
 * thread (long enough for the record being built to be queued), or
 * NULL when the value means "not provided".
 */
const char *decode_value(enum decode_mta mta, const char *macro,
	    const char *value);

/* decode_value() for the MTA behind ctx (its "v" macro). */
const char *decode_macro(SMFICTX *ctx, const char *macro,
	    const char *value);

/*
 * Header values: tell decode.c what was negotiated, then ask for the
 * value to record (valid like decode_value()'s).
 */
void	decode_note_steps(unsigned long steps);
const char *decode_header_value(const char *value);
/* Same, with the negotiation given (for tests). */
const char *decode_header_value_with(const char *value, int leadspc);

/* Free the calling thread's decoded copies (tests; thread exit does it). */
void	decode_release(void);

#endif /* DECODE_H */
