/*
 * callbacks.c - the libmilter callbacks (milter protocol version 6).
 *
 * Each callback is thin: find the session, let transcript.c record the
 * event, answer the MTA.  Until policy rules exist every answer is
 * "continue".  Negotiation asks for every event, for recipients the MTA
 * itself rejected (SMFIP_RCPT_REJ), for header values with their leading
 * space (SMFIP_HDR_LEADSPC, so headers are stored byte-exact), and for
 * the macros each stage needs (smfi_setsymlist).
 *
 * A callback never exits and never blocks on I/O: records go to the
 * shipper's queue.
 *
 * DIAGNOSTICS: a session that cannot be allocated is logged and the
 * MTA is told to continue without us.
 * BUGS: XXX QUIT_NC: after QUIT_NC libmilter calls close and then
 * connect again without a new negotiation, so nothing negotiated may be
 * kept in the session; what the milter needs from negotiation is kept
 * process-wide.
 */

#include "config.h"
#include <stdlib.h>
#include <string.h>

#include <libmilter/mfapi.h>

#include "callbacks.h"
#include "session.h"
#include "sw_log.h"
#include "transcript.h"

/* Actions we may use; the MTA's offer limits them. */
#define WANT_ACTIONS	(SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | \
			    SMFIF_SETSYMLIST)
/* Protocol steps we want; every SMFIP_NO* stays off. */
#define WANT_STEPS	(SMFIP_RCPT_REJ | SMFIP_HDR_LEADSPC)

#define SESSION(ctx)	((struct session *)smfi_getpriv(ctx))

/* mlfi_negotiate - choose actions, steps and per-stage macros */

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long actions, unsigned long steps,
    unsigned long f2, unsigned long f3, unsigned long *pactions,
    unsigned long *psteps, unsigned long *pf2, unsigned long *pf3)
{
	(void)f2;
	(void)f3;
	*pactions = actions & WANT_ACTIONS;
	*psteps = steps & WANT_STEPS;
	*pf2 = 0;
	*pf3 = 0;
	if (actions & SMFIF_SETSYMLIST) {
		smfi_setsymlist(ctx, SMFIM_CONNECT,
		    (char *)transcript_macros_connect);
		smfi_setsymlist(ctx, SMFIM_HELO,
		    (char *)transcript_macros_helo);
		smfi_setsymlist(ctx, SMFIM_ENVFROM,
		    (char *)transcript_macros_mail);
		smfi_setsymlist(ctx, SMFIM_ENVRCPT,
		    (char *)transcript_macros_rcpt);
		smfi_setsymlist(ctx, SMFIM_DATA,
		    (char *)transcript_macros_data);
		smfi_setsymlist(ctx, SMFIM_EOH, (char *)transcript_macros_eoh);
		smfi_setsymlist(ctx, SMFIM_EOM, (char *)transcript_macros_eom);
	} else
		sw_notice(0, "negotiate setsymlist=unavailable (macros are "
		    "what the MTA configuration sends)");
	sw_debug(0, "negotiate offered_actions=0x%lx offered_steps=0x%lx "
	    "actions=0x%lx steps=0x%lx", actions, steps, *pactions, *psteps);
	return SMFIS_CONTINUE;
}

/* mlfi_connect - a new SMTP session */

static sfsistat
mlfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct session *s = SESSION(ctx);

	if (s != NULL) {
		/* A connect without a close in between: end the old one. */
		transcript_close(s);
		session_free(s);
	}
	if ((s = session_new()) == NULL) {
		smfi_setpriv(ctx, NULL);
		sw_err(0, "connect error=\"out of memory\" (session not "
		    "recorded)");
		return SMFIS_ACCEPT;
	}
	smfi_setpriv(ctx, s);
	transcript_connect(s, ctx, host, sa);
	return SMFIS_CONTINUE;
}

/* mlfi_helo - HELO or EHLO, every time it is sent */

static sfsistat
mlfi_helo(SMFICTX *ctx, char *name)
{
	struct session *s = SESSION(ctx);

	if (s != NULL)
		transcript_helo(s, ctx, name);
	return SMFIS_CONTINUE;
}

/* mlfi_envfrom - MAIL FROM: starts a transaction */

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s = SESSION(ctx);

	if (s != NULL)
		transcript_mail(s, ctx, argv);
	return SMFIS_CONTINUE;
}

/* mlfi_envrcpt - RCPT TO, accepted or (with RCPT_REJ) rejected */

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct session *s = SESSION(ctx);

	if (s != NULL)
		transcript_rcpt(s, ctx, argv);
	return SMFIS_CONTINUE;
}

/* mlfi_data - DATA */

static sfsistat
mlfi_data(SMFICTX *ctx)
{
	struct session *s = SESSION(ctx);

	if (s != NULL)
		transcript_data(s, ctx);
	return SMFIS_CONTINUE;
}

/* mlfi_unknown - a command the MTA did not recognise */

static sfsistat
mlfi_unknown(SMFICTX *ctx, const char *command)
{
	struct session *s = SESSION(ctx);

	if (s != NULL)
		transcript_unknown(s, command);
	return SMFIS_CONTINUE;
}

/* mlfi_header - one header */

static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct session *s = SESSION(ctx);

	if (s != NULL)
		transcript_header(s, name, value);
	return SMFIS_CONTINUE;
}

/* mlfi_eoh - end of headers */

static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct session *s = SESSION(ctx);

	if (s != NULL)
		transcript_eoh(s, ctx);
	return SMFIS_CONTINUE;
}

/* mlfi_body - one body chunk */

static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct session *s = SESSION(ctx);

	if (s != NULL)
		transcript_body(s, chunk, len);
	return SMFIS_CONTINUE;
}

/* mlfi_eom - end of message */

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct session *s = SESSION(ctx);

	if (s != NULL)
		transcript_eom(s, ctx);
	return SMFIS_CONTINUE;
}

/* mlfi_abort - RSET or a lost client; may come with nothing open */

static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	struct session *s = SESSION(ctx);

	if (s != NULL)
		transcript_abort(s);
	return SMFIS_CONTINUE;
}

/* mlfi_close - end of the SMTP session (the milter link may stay) */

static sfsistat
mlfi_close(SMFICTX *ctx)
{
	struct session *s = SESSION(ctx);

	if (s != NULL) {
		transcript_close(s);
		session_free(s);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

/* callbacks_register - hand the callback table to libmilter */

int
callbacks_register(void)
{
	static struct smfiDesc desc = {
		.xxfi_name = "smtpwarden",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = WANT_ACTIONS,
		.xxfi_connect = mlfi_connect,
		.xxfi_helo = mlfi_helo,
		.xxfi_envfrom = mlfi_envfrom,
		.xxfi_envrcpt = mlfi_envrcpt,
		.xxfi_header = mlfi_header,
		.xxfi_eoh = mlfi_eoh,
		.xxfi_body = mlfi_body,
		.xxfi_eom = mlfi_eom,
		.xxfi_abort = mlfi_abort,
		.xxfi_close = mlfi_close,
		.xxfi_unknown = mlfi_unknown,
		.xxfi_data = mlfi_data,
		.xxfi_negotiate = mlfi_negotiate,
	};

	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}
