/*
 * sw_escape.h - reversible escaping of client bytes for the database and
 * bounded, sanitised copies for the log.
 *
 * SMTP data can hold NUL, 8-bit bytes, control characters and terminal
 * escape sequences.  The database keeps raw bytes in BLOB columns and a
 * readable copy made by sw_escape(): printable ASCII and well-formed
 * UTF-8 stay as they are, a backslash becomes "\\", TAB, CR and LF become
 * "\t", "\r", "\n", and every other byte becomes "\xNN".  sw_unescape()
 * restores the bytes exactly.
 *
 * DIAGNOSTICS: functions return NULL only when memory runs out.
 * BUGS: none known.
 */
#ifndef SW_ESCAPE_H
#define SW_ESCAPE_H

#include <stddef.h>

/* Escaped copy of data[0..len); *outlen gets its length.  Free it. */
char	*sw_escape(const void *data, size_t len, size_t *outlen);

/* Raw bytes of an escaped string; *outlen gets their count.  Free it.
 * Returns NULL also when the input is not a valid escape. */
unsigned char *sw_unescape(const char *text, size_t len, size_t *outlen);

/*
 * Log-safe copy into buf: like sw_escape() but ASCII only and cut to
 * fit bufsize, with "..." marking a cut.  Returns buf.
 */
char	*sw_printable(char *buf, size_t bufsize, const void *data,
	    size_t len);

#endif /* SW_ESCAPE_H */
