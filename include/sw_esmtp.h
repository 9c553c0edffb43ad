/*
 * sw_esmtp.h - parsing of MAIL FROM and RCPT TO arguments as libmilter
 * hands them over (RFC 5321 section 4.1.2, ESMTP parameters).
 *
 * libmilter gives argv[0] as the path ("<addr>") and each further
 * element as one "KEYWORD[=VALUE]" parameter.  Values may hold "=", ";"
 * and "@" (ORCPT=rfc822;user@example.net), so the keyword ends at the
 * first "=" only.  xtext is kept raw: decoding is left to whoever needs
 * it, on purpose.
 *
 * DIAGNOSTICS: sw_esmtp_param_split() returns -1 for an empty keyword.
 * BUGS: none known.
 */
#ifndef SW_ESMTP_H
#define SW_ESMTP_H

#include <stddef.h>

struct sw_esmtp_param {
	const char	*ep_keyword;	/* points into the argument */
	size_t		 ep_keyword_len;
	const char	*ep_value;	/* NULL when there is no "=" */
	size_t		 ep_value_len;
};

/* Split one "KEYWORD[=VALUE]" argument; 0 on success. */
int	sw_esmtp_param_split(const char *arg, struct sw_esmtp_param *out);

/*
 * The address inside a path: "<a@b>" gives "a@b", "<>" gives "" (the
 * null reverse-path), a path without brackets is taken whole.  Sets
 * *addr and *addrlen to point into path.  Returns 1 for the null path,
 * 0 otherwise.
 */
int	sw_esmtp_path_address(const char *path, const char **addr,
	    size_t *addrlen);

/* Domain part of an address (after the last "@"), or NULL if none. */
const char *sw_esmtp_domain(const char *addr, size_t addrlen,
	    size_t *domlen);

#endif /* SW_ESMTP_H */
