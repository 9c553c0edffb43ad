/*
 * esmtp.c - MAIL FROM / RCPT TO path and parameter parsing
 * (RFC 5321 section 4.1.2; see sw_esmtp.h).
 *
 * DIAGNOSTICS: -1 for a parameter with an empty keyword.
 * BUGS: none known.
 */

#include "config.h"
#include <string.h>

#include "sw_esmtp.h"

/* sw_esmtp_param_split - keyword and value of one ESMTP parameter */

int
sw_esmtp_param_split(const char *arg, struct sw_esmtp_param *out)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL) {
		out->ep_keyword = arg;
		out->ep_keyword_len = strlen(arg);
		out->ep_value = NULL;
		out->ep_value_len = 0;
	} else {
		out->ep_keyword = arg;
		out->ep_keyword_len = eq - arg;
		out->ep_value = eq + 1;
		out->ep_value_len = strlen(eq + 1);
	}
	return out->ep_keyword_len == 0 ? -1 : 0;
}

/* sw_esmtp_path_address - the mailbox inside "<...>" */

int
sw_esmtp_path_address(const char *path, const char **addr,
    size_t *addrlen)
{
	size_t	 len = strlen(path);

	if (len >= 2 && path[0] == '<' && path[len - 1] == '>') {
		*addr = path + 1;
		*addrlen = len - 2;
	} else {
		*addr = path;
		*addrlen = len;
	}
	return *addrlen == 0;
}

/* sw_esmtp_domain - the part after the last "@" */

const char *
sw_esmtp_domain(const char *addr, size_t addrlen, size_t *domlen)
{
	size_t	 i;

	for (i = addrlen; i > 0; i--)
		if (addr[i - 1] == '@') {
			*domlen = addrlen - i;
			return *domlen > 0 ? addr + i : NULL;
		}
	return NULL;
}
