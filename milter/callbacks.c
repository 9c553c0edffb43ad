/*
 * callbacks.c - the libmilter callbacks (milter protocol version 6).
 *
 * Each callback is thin: find the session, let transcript.c record the
 * event and update the facts, then decide(): evaluate the rules of the
 * stage, attach the decision to the event's record, queue the record,
 * and answer the MTA.  Changes to the message (added headers,
 * quarantine) and discard are kept until end of message, where the
 * milter protocol allows them, whatever stage decided them.
 *
 * Negotiation asks for every event, for recipients the MTA itself
 * rejected (SMFIP_RCPT_REJ), for header values with their leading space
 * (SMFIP_HDR_LEADSPC, so headers are stored byte-exact), and for the
 * macros each stage needs (smfi_setsymlist).
 *
 * A callback never exits and never blocks on I/O: records go to the
 * shipper's queue.
 *
 * DIAGNOSTICS: a session that cannot be allocated is logged and the
 * MTA is told to accept without us; a reply libmilter refuses is logged
 * and the bare action is returned.
 * BUGS: XXX QUIT_NC: after QUIT_NC libmilter calls close and then
 * connect again without a new negotiation, so nothing negotiated may be
 * kept in the session; what the milter needs from negotiation is kept
 * process-wide (negotiated_actions).
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <pthread.h>
#include <stdint.h>

#include "callbacks.h"
#include "session.h"
#include "shipper.h"
#include "sw_escape.h"
#include "sw_log.h"
#include "decode.h"
#include "transcript.h"

/* Actions we may use; the MTA's offer limits them. */
#define WANT_ACTIONS	(SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | \
			    SMFIF_SETSYMLIST)
/* Protocol steps we want; every SMFIP_NO* stays off. */
#define WANT_STEPS	(SMFIP_RCPT_REJ | SMFIP_HDR_LEADSPC)

#define MAX_REPLY_LINES	32		/* smfi_setmlreply's limit */
#define FOLD_AT		78		/* RFC 5322 line length */

#define SESSION(ctx)	((struct session *)smfi_getpriv(ctx))

/* The actions the MTA agreed to, from the latest negotiation. */
static unsigned long negotiated_actions = WANT_ACTIONS;

/* The no-reply flag of each rule stage; the body never replies. */
static const unsigned long nr_bits[PS_MAX] = {
	[PS_CONNECT] = SMFIP_NR_CONN,
	[PS_HELO] = SMFIP_NR_HELO,
	[PS_MAIL] = SMFIP_NR_MAIL,
	[PS_RCPT] = SMFIP_NR_RCPT,
	[PS_DATA] = SMFIP_NR_DATA,
	[PS_HEADER] = SMFIP_NR_HDR,
	[PS_EOH] = SMFIP_NR_EOH,
	[PS_EOM] = 0,			/* end of message always answers */
	[PS_UNKNOWN] = SMFIP_NR_UNKN,
};

/*
 * XXX libmilter compatibility: the stages that may go without a reply.
 * When the MTA need not wait, it sends its last commands (MAIL, RSET,
 * QUIT) and closes at once; libmilter 8.17 then sees POLLHUP before it
 * has read them and drops them unread, so their events never reach the
 * transcript (measured with Postfix 3.7: MAIL, abort and quit lost).
 * Headers, end of headers, body chunks and DATA are always followed by
 * end of message, which waits for its answer, so nothing is lost there.
 */
#define NR_SAFE		(SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | \
			    SMFIP_NR_DATA)

/*
 * The no-reply flags negotiated per milter connection.  They must
 * outlive the SMTP session: after QUIT_NC the next session arrives on
 * the same connection without a new negotiation, and libmilter keeps
 * the old flags.  The session's private data cannot carry them (it must
 * be NULL when a connection ends), so they are kept here by context,
 * in a fixed table: a connection evicted from it falls back to the
 * flags of the latest negotiation.
 * XXX more than LINK_SLOTS milter connections at once: a session reused
 * by QUIT_NC across a reload may answer at a stage negotiated as
 * no-reply; libmilter then drops the answer and logs it.
 */
#define LINK_SLOTS	4096
#define LINK_PROBES	8

static struct {
	const void	*ln_ctx;
	unsigned long	 ln_nr;
} links[LINK_SLOTS];
static pthread_mutex_t links_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long latest_nr;

/* link_slot - home slot of a context */

static size_t
link_slot(const void *ctx)
{
	return (size_t)(((uintptr_t)ctx >> 4) * 2654435761u) % LINK_SLOTS;
}

/* link_remember - the flags negotiated on this milter connection */

static void
link_remember(const void *ctx, unsigned long nr)
{
	size_t	 home = link_slot(ctx), i, slot = home;

	pthread_mutex_lock(&links_lock);
	for (i = 0; i < LINK_PROBES; i++) {
		size_t	 at = (home + i) % LINK_SLOTS;

		if (links[at].ln_ctx == ctx || links[at].ln_ctx == NULL) {
			slot = at;
			break;
		}
	}
	links[slot].ln_ctx = ctx;
	links[slot].ln_nr = nr;
	latest_nr = nr;
	pthread_mutex_unlock(&links_lock);
}

/* link_flags - the flags of this connection, or the latest ones */

static unsigned long
link_flags(const void *ctx)
{
	size_t	 home = link_slot(ctx), i;
	unsigned long nr = 0;
	int	 found = 0;

	pthread_mutex_lock(&links_lock);
	for (i = 0; i < LINK_PROBES && !found; i++) {
		size_t	 at = (home + i) % LINK_SLOTS;

		if (links[at].ln_ctx == ctx) {
			nr = links[at].ln_nr;
			found = 1;
		}
	}
	if (!found)
		nr = latest_nr;
	pthread_mutex_unlock(&links_lock);
	return nr;
}

/* mlfi_negotiate - choose actions, steps and per-stage macros */

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long actions, unsigned long steps,
    unsigned long f2, unsigned long f3, unsigned long *pactions,
    unsigned long *psteps, unsigned long *pf2, unsigned long *pf3)
{
	(void)f2;
	(void)f3;
	struct pol_ruleset *rs = policy_current();
	unsigned long nr = SMFIP_NR_BODY;
	int	 st;

	/*
	 * The MTA need not wait for a stage whose rules can only say
	 * "continue" (the transcript is recorded all the same), nor for
	 * body chunks, which never get an answer.  Only stages that are
	 * always followed by one that waits qualify (NR_SAFE).
	 */
	for (st = 0; st < PS_MAX; st++)
		if (!policy_stage_may_reply(rs, (enum pol_stage)st))
			nr |= nr_bits[st];
	policy_release(rs);
	nr &= steps & NR_SAFE;
	*pactions = actions & WANT_ACTIONS;
	*psteps = (steps & WANT_STEPS) | nr;
	decode_note_steps(*psteps);	/* decode.c: header leading space */
	*pf2 = 0;
	*pf3 = 0;
	link_remember(ctx, nr);
	__atomic_store_n(&negotiated_actions, *pactions, __ATOMIC_RELAXED);
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
	if ((WANT_ACTIONS & ~actions & (SMFIF_ADDHDRS | SMFIF_QUARANTINE)))
		sw_warn(0, "negotiate actions=0x%lx (the MTA does not allow "
		    "adding headers or quarantine; such rules are logged "
		    "and skipped)", actions);
	sw_debug(0, "negotiate offered_actions=0x%lx offered_steps=0x%lx "
	    "actions=0x%lx steps=0x%lx", actions, steps, *pactions, *psteps);
	return SMFIS_CONTINUE;
}

/* percent_double - copy src with every '%' doubled, bounded */

static void
percent_double(const char *src, char *dst, size_t dstsize)
{
	size_t	 o = 0;

	for (; *src != '\0' && o + 2 < dstsize; src++) {
		if (*src == '%')
			dst[o++] = '%';
		dst[o++] = *src;
	}
	dst[o] = '\0';
}

/* set_reply - give the MTA our reply text, one line or several */

static void
set_reply(SMFICTX *ctx, struct session *s, const struct pol_rule *rule,
    const char *reply)
{
	const struct pol_action_spec *a = &rule->pr_action;
	char	*lines[MAX_REPLY_LINES + 1], text[POL_REPLY_MAX], *nl;
	int	 n = 0, rc;

	/*
	 * Both MTAs read the reply as a format in which "%%" stands for
	 * "%"; every "%" we send is doubled so none becomes a directive.
	 */
	percent_double(reply, text, sizeof text);
	lines[n++] = text;
	for (nl = strchr(text, '\n'); nl != NULL && n < MAX_REPLY_LINES;
	    nl = strchr(nl + 1, '\n')) {
		*nl = '\0';
		lines[n++] = nl + 1;
	}
	while (n <= MAX_REPLY_LINES)
		lines[n++] = NULL;
	if (lines[1] == NULL)
		rc = smfi_setreply(ctx, (char *)a->pa_code, (char *)a->pa_ecode,
		    lines[0]);
	else
		rc = smfi_setmlreply(ctx, a->pa_code, a->pa_ecode, lines[0],
		    lines[1], lines[2], lines[3], lines[4], lines[5], lines[6],
		    lines[7], lines[8], lines[9], lines[10], lines[11],
		    lines[12], lines[13], lines[14], lines[15], lines[16],
		    lines[17], lines[18], lines[19], lines[20], lines[21],
		    lines[22], lines[23], lines[24], lines[25], lines[26],
		    lines[27], lines[28], lines[29], lines[30], lines[31],
		    (char *)NULL);
	if (rc != MI_SUCCESS)
		sw_warn(s->s_id, "reply-refused rule=%s code=%s (libmilter "
		    "refused the text; the MTA uses its own)",
		    rule->pr_name, a->pa_code);
}

/*
 * record_hits - attach every decision of the stage to its record: rule,
 * action, mode, and the reply as the client saw (or would have seen)
 * it, or the header, reason or tag the rule made.  texts holds the
 * strings until the record is queued.
 */
static void
record_hits(struct session *s, const struct pol_verdict *v,
    char texts[][sizeof v->pv_reply + 32])
{
	struct sw_record *r = &s->s_rec;
	size_t	 i;

	for (i = 0; i < v->pv_nhits; i++) {
		const struct pol_hit *h = &v->pv_hits[i];
		const struct pol_action_spec *a = &h->ph_rule->pr_action;
		char	 logged[256];

		if (a->pa_type == PA_REJECT || a->pa_type == PA_TEMPFAIL)
			snprintf(texts[i], sizeof v->pv_reply + 32,
			    "%s %s %s", a->pa_code, a->pa_ecode, h->ph_reply);
		else if (a->pa_type == PA_ADD_HEADER)
			snprintf(texts[i], sizeof v->pv_reply + 32, "%s: %s",
			    a->pa_name, h->ph_reply);
		else
			snprintf(texts[i], sizeof v->pv_reply + 32, "%s",
			    h->ph_reply);
		(void)sw_record_add_str(r, SW_K_RULE, h->ph_rule->pr_name);
		(void)sw_record_add_str(r, SW_K_ACTION,
		    policy_action_name(a->pa_type));
		(void)sw_record_add_str(r, SW_K_MODE,
		    policy_mode_name(h->ph_mode));
		(void)sw_record_add_str(r, SW_K_REPLY, texts[i]);
		sw_info(s->s_id, "decision stage=%s rule=%s action=%s mode=%s "
		    "reply=\"%s\"", sw_stage_name(r->r_stage),
		    h->ph_rule->pr_name, policy_action_name(a->pa_type),
		    policy_mode_name(h->ph_mode), sw_printable(logged,
		    sizeof logged, texts[i], strlen(texts[i])));
	}
}

/* queue_change - keep an enforced header add or quarantine for EOM */

static void
queue_change(struct session *s, const struct pol_hit *h)
{
	struct eom_change *c;

	if (s->s_nchanges == SESSION_MAX_CHANGES) {
		sw_warn(s->s_id, "change-skipped rule=%s (more than %d changes "
		    "for one message)", h->ph_rule->pr_name,
		    SESSION_MAX_CHANGES);
		return;
	}
	c = &s->s_changes[s->s_nchanges];
	c->ec_type = h->ph_rule->pr_action.pa_type;
	c->ec_name = h->ph_rule->pr_action.pa_name ?
	    strdup(h->ph_rule->pr_action.pa_name) : NULL;
	c->ec_value = strdup(h->ph_reply);
	c->ec_rule = strdup(h->ph_rule->pr_name);
	if (c->ec_value == NULL || c->ec_rule == NULL) {
		free(c->ec_name);
		free(c->ec_value);
		free(c->ec_rule);
		return;
	}
	s->s_nchanges++;
}

/*
 * store_tempfail - with on_store_failure = tempfail, answer 451 4.3.0
 * while neither the daemon nor the spool can take records (shipper.c).
 * The event is still queued.  Not at header and end-of-header: Postfix
 * then waits for an end-of-message reply that libmilter never sends.
 */
static int
store_tempfail(SMFICTX *ctx, struct session *s, enum pol_stage stage)
{
	if (stage == PS_HEADER || stage == PS_EOH || stage == PS_UNKNOWN ||
	    (s->s_nr & nr_bits[stage]) || !shipper_store_failing())
		return 0;
	if (s->s_pending)
		(void)session_emit(s);
	(void)smfi_setreply(ctx, "451", "4.3.0",
	    "Transcript store unavailable, try again later");
	return 1;
}

/*
 * answer - what the callback returns: nothing at all for a stage the
 * MTA was told not to wait for.
 */
static sfsistat
answer(struct session *s, enum pol_stage stage, sfsistat rc)
{
	if (!(s->s_nr & nr_bits[stage]))
		return rc;
	if (rc != SMFIS_CONTINUE)
		sw_warn(s->s_id, "answer-dropped stage=%s (this milter "
		    "connection was negotiated before the rules could answer "
		    "here; new connections will)", policy_stage_name(stage));
	return SMFIS_NOREPLY;
}

/*
 * decide - evaluate the stage's rules, record the event with its
 * decision, and give the MTA the answer.
 */
static sfsistat
decide(SMFICTX *ctx, struct session *s, enum pol_stage stage)
{
	struct pol_verdict v;
	char	 texts[POL_MAX_HITS][sizeof v.pv_reply + 32];
	sfsistat rc = SMFIS_CONTINUE;
	size_t	 i;
	int	 skip;

	if (store_tempfail(ctx, s, stage))
		return SMFIS_TEMPFAIL;
	/*
	 * No rules after "accept"; none for a recipient the MTA rejected
	 * already (our answer would not count).
	 */
	skip = s->s_rules == NULL || s->s_session_accepted ||
	    s->s_txn_accepted || (stage == PS_RCPT && s->s_rcpt_mta_rejected);
	if (skip || policy_evaluate(s->s_rules, stage,
	    &(struct pol_facts){ &s->s_conn, &s->s_tf }, &v) == 0) {
		if (s->s_pending)
			(void)session_emit(s);
		return answer(s, stage, SMFIS_CONTINUE);
	}
	record_hits(s, &v, texts);
	if (s->s_pending)
		(void)session_emit(s);

	for (i = 0; i < v.pv_nhits; i++)
		if (v.pv_hits[i].ph_mode == PM_ENFORCED &&
		    (v.pv_hits[i].ph_rule->pr_action.pa_type == PA_ADD_HEADER ||
		    v.pv_hits[i].ph_rule->pr_action.pa_type == PA_QUARANTINE))
			queue_change(s, &v.pv_hits[i]);

	switch (v.pv_action) {
	case PA_REJECT:
	case PA_TEMPFAIL:
		/*
		 * Postfix waits for an answer to the end of message after a
		 * refusal at a header or at end of headers, and libmilter
		 * sends none: refuse there, at end of message, instead.
		 */
		if (stage == PS_HEADER || stage == PS_EOH) {
			if (s->s_deferred_rule == NULL) {
				s->s_deferred_rule = v.pv_rule;
				memcpy(s->s_deferred_reply, v.pv_reply,
				    sizeof s->s_deferred_reply);
			}
			break;
		}
		set_reply(ctx, s, v.pv_rule, v.pv_reply);
		rc = v.pv_action == PA_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
		break;
	case PA_ACCEPT:
		/*
		 * Accept means "no more rules", not SMFIS_ACCEPT: that would
		 * stop the callbacks, and with them the transcript.
		 */
		if (s->s_txn.t_open)
			s->s_txn_accepted = 1;
		else
			s->s_session_accepted = 1;
		break;
	case PA_DISCARD:
		if (s->s_txn.t_open)
			s->s_txn_discard = 1;
		break;
	default:
		break;
	}
	if (stage == PS_RCPT && (rc == SMFIS_REJECT || rc == SMFIS_TEMPFAIL) &&
	    s->s_tf.tf_rcpt_count > 0)
		s->s_tf.tf_rcpt_count--;
	return answer(s, stage, rc);
}

/*
 * fold - a header value folded at spaces before FOLD_AT columns with
 * "\n\t" (the MTA adds the CR; case C20).  Returns a malloc'd copy.
 */
static char *
fold(const char *name, const char *value)
{
	size_t	 len = strlen(value), col = strlen(name) + 2, i, o = 0;
	char	*out = malloc(len * 2 + 1);

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if (value[i] == ' ' && col > 0) {
			const char *next = strchr(value + i + 1, ' ');
			size_t	 word = next ? (size_t)(next - value - i - 1) :
			    len - i - 1;

			if (col + 1 + word > FOLD_AT) {
				out[o++] = '\n';
				out[o++] = '\t';
				col = 8;
				continue;
			}
		}
		out[o++] = value[i];
		col++;
	}
	out[o] = '\0';
	return out;
}

/* apply_changes - at end of message: headers, quarantine */

static void
apply_changes(SMFICTX *ctx, struct session *s)
{
	unsigned long actions = __atomic_load_n(&negotiated_actions,
	    __ATOMIC_RELAXED);
	size_t	 i;

	for (i = 0; i < s->s_nchanges; i++) {
		struct eom_change *c = &s->s_changes[i];
		char	*folded;
		int	 rc = MI_FAILURE;

		if (c->ec_type == PA_ADD_HEADER) {
			if (!(actions & SMFIF_ADDHDRS)) {
				sw_warn(s->s_id, "change-skipped rule=%s "
				    "(adding headers was not negotiated)",
				    c->ec_rule);
				continue;
			}
			/*
			 * With SMFIP_HDR_LEADSPC the MTA adds no space after
			 * the colon; the value brings its own.
			 */
			if ((folded = fold(c->ec_name, c->ec_value)) != NULL) {
				char	*spaced = NULL;

				if (asprintf(&spaced, " %s", folded) > 0)
					rc = smfi_addheader(ctx, c->ec_name,
					    spaced);
				free(spaced);
				free(folded);
			}
		} else if (c->ec_type == PA_QUARANTINE) {
			if (!(actions & SMFIF_QUARANTINE)) {
				sw_warn(s->s_id, "change-skipped rule=%s "
				    "(quarantine was not negotiated)",
				    c->ec_rule);
				continue;
			}
			rc = smfi_quarantine(ctx, c->ec_value);
		}
		if (rc != MI_SUCCESS)
			sw_warn(s->s_id, "change-failed rule=%s", c->ec_rule);
	}
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
	s->s_nr = link_flags(ctx);
	transcript_connect(s, ctx, host, sa);
	return decide(ctx, s, PS_CONNECT);
}

/* mlfi_helo - HELO or EHLO, every time it is sent */

static sfsistat
mlfi_helo(SMFICTX *ctx, char *name)
{
	struct session *s = SESSION(ctx);

	if (s == NULL)
		return SMFIS_CONTINUE;
	transcript_helo(s, ctx, name);
	return decide(ctx, s, PS_HELO);
}

/* mlfi_envfrom - MAIL FROM: starts a transaction */

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s = SESSION(ctx);

	if (s == NULL)
		return SMFIS_CONTINUE;
	transcript_mail(s, ctx, argv);
	return decide(ctx, s, PS_MAIL);
}

/* mlfi_envrcpt - RCPT TO, accepted or (with RCPT_REJ) rejected */

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct session *s = SESSION(ctx);

	if (s == NULL)
		return SMFIS_CONTINUE;
	transcript_rcpt(s, ctx, argv);
	return decide(ctx, s, PS_RCPT);
}

/* mlfi_data - DATA */

static sfsistat
mlfi_data(SMFICTX *ctx)
{
	struct session *s = SESSION(ctx);

	if (s == NULL)
		return SMFIS_CONTINUE;
	transcript_data(s, ctx);
	return decide(ctx, s, PS_DATA);
}

/* mlfi_unknown - a command the MTA did not recognise */

static sfsistat
mlfi_unknown(SMFICTX *ctx, const char *command)
{
	struct session *s = SESSION(ctx);

	if (s == NULL)
		return SMFIS_CONTINUE;
	transcript_unknown(s, command);
	return decide(ctx, s, PS_UNKNOWN);
}

/* mlfi_header - one header */

static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct session *s = SESSION(ctx);
	sfsistat rc;

	if (s == NULL)
		return SMFIS_CONTINUE;
	transcript_header(s, name, value);
	rc = decide(ctx, s, PS_HEADER);
	/* The callback's arguments end here. */
	s->s_tf.tf_header_name = NULL;
	s->s_tf.tf_header_value = NULL;
	return rc;
}

/* mlfi_eoh - end of headers */

static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct session *s = SESSION(ctx);

	if (s == NULL)
		return SMFIS_CONTINUE;
	transcript_eoh(s, ctx);
	return decide(ctx, s, PS_EOH);
}

/* mlfi_body - one body chunk */

static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct session *s = SESSION(ctx);

	if (s == NULL)
		return SMFIS_CONTINUE;
	transcript_body(s, chunk, len);
	return (s->s_nr & SMFIP_NR_BODY) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* mlfi_eom - end of message: the last decision and the changes */

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct session *s = SESSION(ctx);
	sfsistat rc;

	if (s == NULL)
		return SMFIS_CONTINUE;
	transcript_eom(s, ctx);
	rc = decide(ctx, s, PS_EOM);
	if (rc == SMFIS_CONTINUE && s->s_deferred_rule != NULL) {
		const struct pol_rule *r = s->s_deferred_rule;

		set_reply(ctx, s, r, s->s_deferred_reply);
		rc = r->pr_action.pa_type == PA_REJECT ? SMFIS_REJECT :
		    SMFIS_TEMPFAIL;
	}
	if (rc == SMFIS_CONTINUE) {
		apply_changes(ctx, s);
		if (s->s_txn_discard)
			rc = SMFIS_DISCARD;
	}
	/* Only messages that went through count towards the rates. */
	if (rc == SMFIS_CONTINUE)
		policy_count_message(s->s_rules,
		    &(struct pol_facts){ &s->s_conn, &s->s_tf },
		    s->s_tf.tf_rcpt_count);
	session_txn_end(s);
	return rc;
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
