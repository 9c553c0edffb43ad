/*
 * escape.c - reversible escaping for stored text and bounded sanitising
 * for log lines (see sw_escape.h for the rules).
 *
 * DIAGNOSTICS: NULL on memory exhaustion or a malformed escape.
 * BUGS: none known.
 */

#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw_escape.h"

static size_t	utf8_sequence_len(const unsigned char *, size_t);
static int	printable_fits(const unsigned char *, size_t, size_t);

/*
 * utf8_sequence_len - length of a well-formed UTF-8 sequence of two or
 * more bytes at p (RFC 3629: no overlongs, no surrogates, no C1
 * controls), or 0.
 */
static size_t
utf8_sequence_len(const unsigned char *p, size_t left)
{
	size_t	 need, i;
	uint32_t cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		need = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	if (left < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return need;
}

/* sw_escape - readable, reversible copy of client bytes */

char *
sw_escape(const void *data, size_t len, size_t *outlen)
{
	const unsigned char *p = data;
	char	*out, *o;
	size_t	 i, n;

	/* Worst case: every byte becomes four. */
	if (len > (SIZE_MAX - 1) / 4)
		return NULL;
	if ((out = malloc(len * 4 + 1)) == NULL)
		return NULL;
	for (o = out, i = 0; i < len; ) {
		if (p[i] == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else if (p[i] == '\t') {
			*o++ = '\\';
			*o++ = 't';
		} else if (p[i] == '\r') {
			*o++ = '\\';
			*o++ = 'r';
		} else if (p[i] == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else if (p[i] >= 0x20 && p[i] < 0x7f) {
			*o++ = p[i];
		} else if ((n = utf8_sequence_len(p + i, len - i)) > 0) {
			memcpy(o, p + i, n);
			o += n;
			i += n;
			continue;
		} else {
			snprintf(o, 5, "\\x%02x", p[i]);
			o += 4;
		}
		i++;
	}
	*o = '\0';
	if (outlen != NULL)
		*outlen = o - out;
	return out;
}

/* hexval - value of one hex digit, or -1 */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* sw_unescape - the bytes an escaped string stands for */

unsigned char *
sw_unescape(const char *text, size_t len, size_t *outlen)
{
	unsigned char *out, *o;
	size_t	 i;
	int	 hi, lo;

	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	for (o = out, i = 0; i < len; i++) {
		if (text[i] != '\\') {
			*o++ = text[i];
			continue;
		}
		if (++i >= len)
			goto bad;
		switch (text[i]) {
		case '\\':
			*o++ = '\\';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'x':
			if (i + 2 >= len)
				goto bad;
			if ((hi = hexval(text[i + 1])) < 0 ||
			    (lo = hexval(text[i + 2])) < 0)
				goto bad;
			*o++ = (unsigned char)(hi << 4 | lo);
			i += 2;
			break;
		default:
			goto bad;
		}
	}
	*o = '\0';
	if (outlen != NULL)
		*outlen = o - out;
	return out;
bad:
	free(out);
	return NULL;
}

/* printable_fits - would sw_printable()'s form of p[0..len) fit in room? */

static int
printable_fits(const unsigned char *p, size_t len, size_t room)
{
	size_t	 i, need = 0;

	for (i = 0; i < len && need <= room; i++)
		need += p[i] == '\\' ? 2 : p[i] >= 0x20 && p[i] < 0x7f ? 1 : 4;
	return need <= room;
}

/* sw_printable - bounded ASCII-only copy for a log line */

char *
sw_printable(char *buf, size_t bufsize, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t	 i, o = 0;

	if (bufsize == 0)
		return buf;
	for (i = 0; i < len; i++) {
		char	 tmp[5];
		size_t	 n;

		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			tmp[0] = p[i];
			n = 1;
		} else if (p[i] == '\\') {
			memcpy(tmp, "\\\\", 2);
			n = 2;
		} else {
			snprintf(tmp, sizeof tmp, "\\x%02x", p[i]);
			n = 4;
		}
		/* Keep room for "..." unless all that is left fits. */
		if (o + n + (i + 1 < len ? 4 : 1) > bufsize &&
		    !printable_fits(p + i, len - i, bufsize - o - 1)) {
			if (bufsize >= 4) {
				while (o + 4 > bufsize)
					o--;
				memcpy(buf + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(buf + o, tmp, n);
		o += n;
	}
	buf[o < bufsize ? o : bufsize - 1] = '\0';
	return buf;
}
