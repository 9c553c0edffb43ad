/*
 * noop_milter.c - the cheapest possible libmilter filter, the yardstick
 * for what smtpwarden-milter costs on top of being a milter at all.
 * Not a test: contrib/bench/run starts it next to a private Postfix.
 *
 * Every callback returns "continue" and nothing is recorded, logged or
 * kept.  Two ways of talking to the MTA (milter protocol version 6):
 *
 *	plain	no negotiate callback: the MTA waits for an answer to
 *		every command, as for most milters;
 *	-n	the negotiation smtpwarden-milter makes when no rule can
 *		answer at DATA, headers or end of headers: no reply for
 *		DATA, headers, end of headers and body chunks, recipients
 *		the MTA rejected, header values with their leading space,
 *		and the same macros asked for at each stage.  The MTA then
 *		sends the same bytes to both, so their CPU compares.
 *
 * usage: noop_milter [-n] -p CONN	(CONN as for smfi_setconn)
 *
 * DIAGNOSTICS: exits 1 with a message on stderr when libmilter refuses
 * the socket; 2 on a usage error.
 * BUGS: the macro lists are copied from milter/transcript.c and must be
 * kept in step with it by hand.
 */

#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

static sfsistat	noop_negotiate(SMFICTX *, unsigned long, unsigned long,
		    unsigned long, unsigned long, unsigned long *,
		    unsigned long *, unsigned long *, unsigned long *);
static sfsistat	noop_connect(SMFICTX *, char *, _SOCK_ADDR *);
static sfsistat	noop_helo(SMFICTX *, char *);
static sfsistat	noop_argv(SMFICTX *, char **);
static sfsistat	noop_header(SMFICTX *, char *, char *);
static sfsistat	noop_eoh(SMFICTX *);
static sfsistat	noop_body(SMFICTX *, unsigned char *, size_t);
static sfsistat	noop_ctx(SMFICTX *);
static sfsistat	noop_unknown(SMFICTX *, const char *);
static sfsistat	noop_data(SMFICTX *);

/* What smtpwarden-milter asks for (milter/callbacks.c, transcript.c). */
#define SW_STEPS	(SMFIP_RCPT_REJ | SMFIP_HDR_LEADSPC)
#define SW_NR		(SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | \
			    SMFIP_NR_DATA)
#define SW_ACTIONS	(SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | \
			    SMFIF_SETSYMLIST)

static const char macros_connect[] =
    "{client_addr} {client_port} {client_name} {client_ptr} "
    "{client_resolve} {daemon_name} {daemon_addr} j _ v";
static const char macros_helo[] =
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} "
    "{verify}";
static const char macros_mail[] =
    "{auth_type} {auth_authen} {auth_author} {auth_ssf} {mail_addr} i "
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} "
    "{verify}";
static const char macros_rcpt[] = "{rcpt_mailer} {rcpt_host} "
    "{rcpt_addr} i";
static const char macros_i[] = "i";
static const char macros_eom[] = "i {msg_id}";

/*
 * The no-reply flags agreed with the MTA.  Postfix offers the same on
 * every connection, so one process-wide value is enough here.
 */
static unsigned long agreed_nr;

/* noop_negotiate - (-n only) the steps and macros smtpwarden asks for */

static sfsistat
noop_negotiate(SMFICTX *ctx, unsigned long actions, unsigned long steps,
    unsigned long f2, unsigned long f3, unsigned long *pactions,
    unsigned long *psteps, unsigned long *pf2, unsigned long *pf3)
{
	(void)f2;
	(void)f3;
	*pactions = actions & SW_ACTIONS;
	*psteps = steps & (SW_STEPS | SW_NR);
	*pf2 = 0;
	*pf3 = 0;
	__atomic_store_n(&agreed_nr, steps & SW_NR, __ATOMIC_RELAXED);
	if (actions & SMFIF_SETSYMLIST) {
		smfi_setsymlist(ctx, SMFIM_CONNECT, (char *)macros_connect);
		smfi_setsymlist(ctx, SMFIM_HELO, (char *)macros_helo);
		smfi_setsymlist(ctx, SMFIM_ENVFROM, (char *)macros_mail);
		smfi_setsymlist(ctx, SMFIM_ENVRCPT, (char *)macros_rcpt);
		smfi_setsymlist(ctx, SMFIM_DATA, (char *)macros_i);
		smfi_setsymlist(ctx, SMFIM_EOH, (char *)macros_i);
		smfi_setsymlist(ctx, SMFIM_EOM, (char *)macros_eom);
	}
	return SMFIS_CONTINUE;
}

/* answer - continue, or nothing for a stage agreed as no-reply */

static sfsistat
answer(unsigned long bit)
{
	return (__atomic_load_n(&agreed_nr, __ATOMIC_RELAXED) & bit) ?
	    SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* noop_connect - a session begins */

static sfsistat
noop_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)ctx;
	(void)host;
	(void)sa;
	return SMFIS_CONTINUE;
}

/* noop_helo - HELO or EHLO */

static sfsistat
noop_helo(SMFICTX *ctx, char *name)
{
	(void)ctx;
	(void)name;
	return SMFIS_CONTINUE;
}

/* noop_argv - MAIL FROM or RCPT TO */

static sfsistat
noop_argv(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

/* noop_header - one header */

static sfsistat
noop_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return answer(SMFIP_NR_HDR);
}

/* noop_eoh - end of headers */

static sfsistat
noop_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return answer(SMFIP_NR_EOH);
}

/* noop_body - one body chunk */

static sfsistat
noop_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx;
	(void)chunk;
	(void)len;
	return answer(SMFIP_NR_BODY);
}

/* noop_ctx - end of message, abort, close: nothing to do */

static sfsistat
noop_ctx(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

/* noop_unknown - an unknown command */

static sfsistat
noop_unknown(SMFICTX *ctx, const char *cmd)
{
	(void)ctx;
	(void)cmd;
	return SMFIS_CONTINUE;
}

/* noop_data - DATA */

static sfsistat
noop_data(SMFICTX *ctx)
{
	(void)ctx;
	return answer(SMFIP_NR_DATA);
}

int
main(int argc, char **argv)
{
	static struct smfiDesc desc = {
		.xxfi_name = "noop",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = 0,
		.xxfi_connect = noop_connect,
		.xxfi_helo = noop_helo,
		.xxfi_envfrom = noop_argv,
		.xxfi_envrcpt = noop_argv,
		.xxfi_header = noop_header,
		.xxfi_eoh = noop_eoh,
		.xxfi_body = noop_body,
		.xxfi_eom = noop_ctx,
		.xxfi_abort = noop_ctx,
		.xxfi_close = noop_ctx,
		.xxfi_unknown = noop_unknown,
		.xxfi_data = noop_data,
	};
	const char *conn = NULL;
	int	 ch;

	while ((ch = getopt(argc, argv, "np:")) != -1) {
		switch (ch) {
		case 'n':
			desc.xxfi_negotiate = noop_negotiate;
			desc.xxfi_flags = SW_ACTIONS;
			break;
		case 'p':
			conn = optarg;
			break;
		default:
			fprintf(stderr, "usage: noop_milter [-n] -p CONN\n");
			return 2;
		}
	}
	if (conn == NULL) {
		fprintf(stderr, "usage: noop_milter [-n] -p CONN\n");
		return 2;
	}

	/*
	 * The MTA's smtpd runs as another user: the socket is made for
	 * anyone, so it must live in a directory only the MTA can reach.
	 */
	umask(0);
	if (smfi_register(desc) != MI_SUCCESS ||
	    smfi_setconn((char *)conn) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "noop_milter: cannot listen on %s\n", conn);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
