/*
 * policy.h - the operator's rules: loading a rules file into a rule
 * set, evaluating the rules of a stage against the session's facts, and
 * swapping rule sets atomically on reload.
 *
 * The grammar is described in smtpwarden.rules(5).  In short:
 *
 *	mode = enforce | monitor
 *	list NAME = { "item", ... } | file "path"
 *	map NAME = file "path"
 *	rule NAME STAGE CONDITION -> ACTION [shadow]
 *
 * A rule set is immutable once loaded and reference-counted: a session
 * holds the set it started with until it closes, so a reload never
 * changes the rules under an open session.  Rate counters live outside
 * rule sets and survive reloads.
 *
 * DIAGNOSTICS: policy_load() collects every error as
 * "FILE:LINE:COLUMN: reason" lines.
 * BUGS: none known.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "facts.h"

/* Stages a rule can be attached to. */
enum pol_stage {
	PS_CONNECT,
	PS_HELO,
	PS_MAIL,
	PS_RCPT,
	PS_DATA,
	PS_HEADER,
	PS_EOH,
	PS_EOM,
	PS_UNKNOWN,
	PS_MAX
};

enum pol_action {
	PA_NONE = 0,
	PA_CONTINUE,		/* terminal: stop evaluating, go on */
	PA_ACCEPT,		/* terminal: no more rules this transaction */
	PA_REJECT,		/* terminal */
	PA_TEMPFAIL,		/* terminal */
	PA_DISCARD,		/* terminal, applied at end of message */
	PA_QUARANTINE,		/* applied at end of message */
	PA_ADD_HEADER,		/* applied at end of message */
	PA_TAG			/* log and store only */
};

/* How a decision was taken. */
enum pol_mode {
	PM_ENFORCED,
	PM_MONITOR,		/* global monitor mode: would have */
	PM_SHADOW		/* a shadowed rule: would have */
};

struct pol_node;
struct pol_list;
struct pol_rate;
struct pol_store;

struct pol_action_spec {
	enum pol_action	 pa_type;
	char		 pa_code[4];	/* "550" */
	char		 pa_ecode[16];	/* "5.7.1" */
	char		*pa_text;	/* template with %{field} */
	char		*pa_name;	/* add-header name */
};

struct pol_rule {
	char		*pr_name;
	enum pol_stage	 pr_stage;
	struct pol_node	*pr_cond;
	struct pol_action_spec pr_action;
	int		 pr_shadow;
	int		 pr_line;
	uint64_t	 pr_hits;	/* atomic */
};

struct pol_ruleset {
	int		 rs_refs;	/* under the reload lock */
	char		*rs_file;
	int		 rs_monitor;
	size_t		 rs_nrules;
	struct pol_rule	*rs_rules;
	size_t		 rs_stage_first[PS_MAX];	/* index ranges */
	size_t		 rs_stage_count[PS_MAX];
	int		 rs_uses_headers;
	struct pol_store *rs_store;	/* lists and maps */
	size_t		 rs_nrates;
	struct pol_rate	**rs_rates;
	uint64_t	 rs_generation;
};

#define POL_REPLY_MAX	1024		/* a substituted reply or header */

/* One decision: the rule that hit, what it did, and how. */
struct pol_hit {
	const struct pol_rule *ph_rule;
	enum pol_mode	 ph_mode;
	char		 ph_reply[1024];	/* reply or header value */
};

#define POL_MAX_HITS	16

struct pol_verdict {
	enum pol_action	 pv_action;	/* the enforced terminal action */
	const struct pol_rule *pv_rule;
	char		 pv_reply[1024];	/* substituted text */
	size_t		 pv_nhits;
	struct pol_hit	 pv_hits[POL_MAX_HITS];
};

/* What evaluation may read. */
struct pol_facts {
	const struct conn_facts *pf_conn;
	const struct txn_facts *pf_txn;
};

/* Loading. */
struct pol_ruleset *policy_load(const char *file, char *err, size_t errsize);
void	policy_release(struct pol_ruleset *);

/* The current rule set (reference taken) and its replacement. */
struct pol_ruleset *policy_current(void);
void	policy_install(struct pol_ruleset *);

/*
 * Evaluate the rules of stage; fills v.  Returns the number of hits
 * (decisions to record).
 */
size_t	policy_evaluate(const struct pol_ruleset *, enum pol_stage,
	    const struct pol_facts *, struct pol_verdict *v);

/* Could any rule of this stage answer other than continue? */
int	policy_stage_may_reply(const struct pol_ruleset *, enum pol_stage);

/* Count an accepted message in every rate the rule set uses. */
void	policy_count_message(const struct pol_ruleset *,
	    const struct pol_facts *, uint32_t accepted_rcpts);

const char *policy_action_name(enum pol_action);
const char *policy_mode_name(enum pol_mode);
const char *policy_stage_name(enum pol_stage);

/* Names of every field the parser knows, NULL-terminated (for docs). */
const char *const *policy_field_names(void);

/*
 * Expand a reply template: %{field} becomes the field's value with
 * control characters replaced and its length bounded; "%%" is "%".
 */
void	policy_expand(const char *tmpl, const struct pol_facts *,
	    char *out, size_t outsize);

#endif /* POLICY_H */
