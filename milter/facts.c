/*
 * facts.c - private copies of what the rules may look at (facts.h).
 *
 * DIAGNOSTICS: -1 when memory runs out.
 * BUGS: none known.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "sw_esmtp.h"

/* facts_set - replace a string fact with a copy of value (or NULL) */

int
facts_set(char **slot, const char *value)
{
	char	*copy = NULL;

	if (value != NULL && (copy = strdup(value)) == NULL)
		return -1;
	free(*slot);
	*slot = copy;
	return 0;
}

/* params_clear - forget a parameter list */

static void
params_clear(struct fact_param *p, size_t *n)
{
	size_t	 i;

	for (i = 0; i < *n; i++) {
		free(p[i].fp_key);
		free(p[i].fp_value);
	}
	*n = 0;
}

/* facts_conn_clear - forget everything about the connection */

void
facts_conn_clear(struct conn_facts *cf)
{
	char	**strings[] = { &cf->cf_addr, &cf->cf_family, &cf->cf_name,
	    &cf->cf_ptr, &cf->cf_host, &cf->cf_mta_name, &cf->cf_helo,
	    &cf->cf_tls_version, &cf->cf_tls_cipher, &cf->cf_tls_verify,
	    &cf->cf_tls_subject, &cf->cf_tls_issuer, &cf->cf_auth_mech,
	    &cf->cf_auth_user, &cf->cf_unknown_command };
	size_t	 i;

	for (i = 0; i < sizeof strings / sizeof strings[0]; i++)
		free(*strings[i]);
	memset(cf, 0, sizeof *cf);
}

/* facts_txn_clear - forget the transaction: nothing leaks into the next */

void
facts_txn_clear(struct txn_facts *tf)
{
	size_t	 i;

	free(tf->tf_sender);
	free(tf->tf_rcpt);
	params_clear(tf->tf_params, &tf->tf_nparams);
	params_clear(tf->tf_rcpt_params, &tf->tf_rcpt_nparams);
	for (i = 0; i < tf->tf_nheaders; i++) {
		free(tf->tf_headers[i].fh_name);
		free(tf->tf_headers[i].fh_value);
	}
	free(tf->tf_headers);
	memset(tf, 0, sizeof *tf);
}

/* facts_params_set - the ESMTP parameters of argv[1..] */

int
facts_params_set(struct fact_param *p, size_t *n, char **argv)
{
	struct sw_esmtp_param ep;
	size_t	 i;

	params_clear(p, n);
	for (i = 1; argv[i] != NULL && *n < FACTS_MAX_PARAMS; i++) {
		if (sw_esmtp_param_split(argv[i], &ep) < 0)
			continue;
		p[*n].fp_key = strndup(ep.ep_keyword, ep.ep_keyword_len);
		p[*n].fp_value = ep.ep_value ? strndup(ep.ep_value,
		    ep.ep_value_len) : NULL;
		if (p[*n].fp_key == NULL) {
			free(p[*n].fp_value);
			return -1;
		}
		(*n)++;
	}
	return 0;
}

/*
 * unfold - a header value as rules see it: the leading space that
 * SMFIP_HDR_LEADSPC keeps is dropped, and each line break before
 * whitespace is removed (RFC 5322 section 2.2.3).
 */
static char *
unfold(const char *value, size_t maxlen)
{
	size_t	 len = strnlen(value, maxlen), i, o = 0;
	char	*out;

	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	i = (len > 0 && value[0] == ' ') ? 1 : 0;
	for (; i < len; i++) {
		if ((value[i] == '\r' || value[i] == '\n') && i + 1 < len &&
		    (value[i + 1] == '\n' || value[i + 1] == ' ' ||
		    value[i + 1] == '\t'))
			continue;
		out[o++] = value[i];
	}
	out[o] = '\0';
	return out;
}

/* facts_header_add - keep one header for later rules */

int
facts_header_add(struct txn_facts *tf, const char *name, const char *value,
    size_t maxlen)
{
	struct fact_header *h;

	if (tf->tf_nheaders >= FACTS_MAX_HEADERS)
		return 0;
	if (tf->tf_nheaders % 16 == 0) {
		h = reallocarray(tf->tf_headers, tf->tf_nheaders + 16,
		    sizeof *h);
		if (h == NULL)
			return -1;
		tf->tf_headers = h;
	}
	h = &tf->tf_headers[tf->tf_nheaders];
	if ((h->fh_name = strdup(name)) == NULL)
		return -1;
	if ((h->fh_value = unfold(value, maxlen)) == NULL) {
		free(h->fh_name);
		return -1;
	}
	tf->tf_nheaders++;
	return 0;
}
