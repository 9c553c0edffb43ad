/*
 * config.c - reading smtpwarden.conf with libconfuse.
 *
 * The table config_keys[] is the single list of what the file may hold:
 * name, type, default, bounds, where the value goes and a one-line
 * description.  The libconfuse option array is built from it, and so is
 * the check that smtpwarden.conf(5) documents every key.
 *
 * DIAGNOSTICS: errors come back as "FILE:LINE: reason" lines.
 * BUGS: none known.
 */

#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <confuse.h>

#include "sw_config.h"
#include "sw_log.h"

#ifndef SW_CONFFILE
#define SW_CONFFILE	"/etc/smtpwarden/smtpwarden.conf"
#endif
#ifndef SW_STATEDIR
#define SW_STATEDIR	"/var/lib/smtpwarden"
#endif
#ifndef SW_RUNDIR
#define SW_RUNDIR	"/run"
#endif
#ifndef SW_SPOOLDIR
#define SW_SPOOLDIR	"/var/spool/smtpwarden"
#endif
#ifndef SW_POSTFIX_SPOOL
#define SW_POSTFIX_SPOOL "/var/spool/postfix"
#endif

enum key_type {
	KEY_STRING,
	KEY_INT,
	KEY_MODE,		/* octal file mode as a string */
	KEY_LEVEL,		/* syslog level name */
	KEY_CHOICE,		/* a word of config_choices, kept as index */
	KEY_OPTSTRING		/* a string that may be empty */
};

struct config_key {
	const char	*ck_name;
	enum key_type	 ck_type;
	const char	*ck_default;	/* strings, modes and levels */
	long		 ck_int_default;
	long		 ck_min;
	long		 ck_max;
	size_t		 ck_offset;	/* in struct sw_config */
};

#define OFF(m)	offsetof(struct sw_config, m)

static const struct config_key config_keys[] = {
	/*
	 * Debian's Postfix runs smtpd chrooted in its queue directory, so
	 * the default milter socket lives under it; main.cf then names it
	 * relative to the chroot as unix:/smtpwarden/milter.sock
	 * (contrib/postfix/main.cf.snippet).  Sendmail names the full path
	 * in INPUT_MAIL_FILTER with F=T (contrib/sendmail/); the milter asks
	 * either MTA for its macros itself.
	 */
	{ "milter_socket", KEY_STRING,
	    "unix:" SW_POSTFIX_SPOOL "/smtpwarden/milter.sock", 0, 0, 0,
	    OFF(c_milter_socket) },
	{ "milter_socket_mode", KEY_MODE, "0660", 0, 0, 0777,
	    OFF(c_milter_socket_mode) },
	{ "daemon_socket", KEY_STRING, SW_RUNDIR "/smtpwarden/smtpwardend.sock",
	    0, 0, 0, OFF(c_daemon_socket) },
	{ "daemon_socket_mode", KEY_MODE, "0660", 0, 0, 0777,
	    OFF(c_daemon_socket_mode) },
	{ "database", KEY_STRING, SW_STATEDIR "/smtpwarden.db", 0, 0, 0,
	    OFF(c_database) },
	{ "spool_dir", KEY_STRING, SW_SPOOLDIR, 0, 0, 0, OFF(c_spool_dir) },
	{ "user", KEY_STRING, "smtpwarden", 0, 0, 0, OFF(c_user) },
	{ "group", KEY_STRING, "smtpwarden", 0, 0, 0, OFF(c_group) },
	{ "log_level", KEY_LEVEL, "info", 0, 0, 0, OFF(c_log_level) },
	{ "max_header_bytes", KEY_INT, NULL, 65536, 64, 1048576,
	    OFF(c_max_header_bytes) },
	{ "queue_max_records", KEY_INT, NULL, 200000, 100, 10000000,
	    OFF(c_queue_max_records) },
	{ "batch_max_records", KEY_INT, NULL, 1000, 1, 100000,
	    OFF(c_batch_max_records) },
	{ "batch_max_delay_ms", KEY_INT, NULL, 20, 0, 10000,
	    OFF(c_batch_max_delay_ms) },
	{ "commit_max_records", KEY_INT, NULL, 5000, 1, 1000000,
	    OFF(c_commit_max_records) },
	{ "commit_interval_ms", KEY_INT, NULL, 50, 0, 60000,
	    OFF(c_commit_interval_ms) },
	{ "busy_timeout_ms", KEY_INT, NULL, 5000, 0, 600000,
	    OFF(c_busy_timeout_ms) },
	{ "shutdown_timeout_ms", KEY_INT, NULL, 10000, 0, 600000,
	    OFF(c_shutdown_timeout_ms) },
	/* The policy rules file; empty means no rules. */
	{ "rules", KEY_OPTSTRING, "", 0, 0, 0, OFF(c_rules) },
	/* Spool and failure keys; enum orders are in sw_config.h. */
	{ "queue_high_water", KEY_INT, NULL, 20000, 100, 10000000,
	    OFF(c_queue_high_water) },
	{ "spool_max_bytes", KEY_INT, NULL, 1073741824L, 0,
	    1099511627776L, OFF(c_spool_max_bytes) },
	{ "spool_policy", KEY_CHOICE, "outage", 0, 0, 0,
	    OFF(c_spool_policy) },
	{ "spool_fsync", KEY_CHOICE, "always", 0, 0, 0, OFF(c_spool_fsync) },
	{ "on_store_failure", KEY_CHOICE, "tempfail", 0, 0, 0,
	    OFF(c_on_store_failure) },
};

/* The words a KEY_CHOICE key takes; a value is stored as its index. */
static const struct {
	const char	*cc_name;
	const char	*cc_words;	/* space-separated, enum order */
} config_choices[] = {
	{ "spool_policy", "outage always" },
	{ "spool_fsync", "always close never" },
	{ "on_store_failure", "tempfail accept" },
};

#define NKEYS	(sizeof config_keys / sizeof config_keys[0])

/* Largest file read; smtpwarden.conf is a few kilobytes. */
#define CONFIG_MAX_BYTES	(1024 * 1024)

/* Where the error callback writes; config loading is single-threaded. */
static char	*config_err;
static size_t	 config_errsize;
static const char *config_file;

static const struct config_key *config_key_find(const char *);
static int	config_read(const char *, char **, size_t *);
static int	config_stops_word(int);
static void	config_blank_comments(char *, size_t);

/* config_error - libconfuse error callback: append "FILE:LINE: reason" */

static void
config_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	size_t	 used = strlen(config_err);
	char	 reason[512];

	vsnprintf(reason, sizeof reason, fmt, ap);
	if (used + 1 >= config_errsize)
		return;
	if (cfg != NULL && cfg->line > 0)
		snprintf(config_err + used, config_errsize - used,
		    "%s:%d: %s\n", config_file, cfg->line, reason);
	else
		snprintf(config_err + used, config_errsize - used, "%s: %s\n",
		    config_file, reason);
}

/* config_read - the whole file into a NUL-terminated buffer; errno */

static int
config_read(const char *file, char **text, size_t *len)
{
	FILE	*fp;
	char	*buf;
	size_t	 n;
	int	 saved;

	if ((fp = fopen(file, "r")) == NULL)
		return -1;
	if ((buf = malloc(CONFIG_MAX_BYTES + 1)) == NULL) {
		fclose(fp);
		errno = ENOMEM;
		return -1;
	}
	n = fread(buf, 1, CONFIG_MAX_BYTES + 1, fp);
	if (ferror(fp) || n > CONFIG_MAX_BYTES) {
		saved = ferror(fp) ? errno : EFBIG;
		free(buf);
		fclose(fp);
		errno = saved;
		return -1;
	}
	fclose(fp);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

/* config_stops_word - does c end an unquoted libconfuse word? */

static int
config_stops_word(int c)
{
	return c == '\0' || strchr(" #\"'\t\n\r={}()+,*", c) != NULL;
}

/*
 * config_blank_comments - overwrite comments with spaces, keeping the
 * newlines, so that libconfuse never lexes one.
 *
 * XXX libconfuse: 3.3 counts extra lines for every comment it lexes
 * (two per "#" line), so an error after a comment named the wrong
 * line.  The rules mirrored here are its lexer's: "#" outside quotes
 * starts a comment; so do "//" and a C comment at the start of a word.
 * Backslash escapes are skipped inside both kinds of quotes.
 */
static void
config_blank_comments(char *p, size_t len)
{
	size_t	 i, j;
	int	 word_start = 1;
	char	 quote;

	for (i = 0; i < len; i++) {
		if (p[i] == '"' || p[i] == '\'') {
			/* A quoted string, escapes and newlines included. */
			for (quote = p[i++]; i < len && p[i] != quote; i++)
				if (p[i] == '\\')
					i++;
			word_start = 1;
			continue;
		}
		if (word_start && p[i] == '/' && i + 1 < len &&
		    p[i + 1] == '*') {
			/* A C comment, up to and with its closing mark. */
			for (j = i + 2; j + 1 < len &&
			    !(p[j] == '*' && p[j + 1] == '/'); j++)
				continue;
			j = j + 1 < len ? j + 2 : len;
			for (; i < j; i++)
				if (p[i] != '\n')
					p[i] = ' ';
			i--;
			continue;
		}
		if (p[i] == '#' || (word_start && p[i] == '/' &&
		    i + 1 < len && p[i + 1] == '/')) {
			/* A one-line comment, up to its newline. */
			for (; i < len && p[i] != '\n'; i++)
				p[i] = ' ';
			word_start = 1;
			continue;
		}
		word_start = config_stops_word(p[i]);
	}
}

/* config_key_find - the table entry of a key */

static const struct config_key *
config_key_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(config_keys[i].ck_name, name) == 0)
			return &config_keys[i];
	return NULL;
}

/* choice_words - the words a choice key takes */

static const char *
choice_words(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof config_choices / sizeof config_choices[0]; i++)
		if (strcmp(config_choices[i].cc_name, name) == 0)
			return config_choices[i].cc_words;
	return "";
}

/* choice_index - the position of word in a choice list; -1 if absent */

static int
choice_index(const char *choices, const char *word)
{
	size_t	 len = strlen(word);
	int	 i;

	for (i = 0; *choices != '\0'; i++) {
		size_t	 n = strcspn(choices, " ");

		if (n == len && len > 0 && strncmp(choices, word, n) == 0)
			return i;
		choices += n;
		choices += strspn(choices, " ");
	}
	return -1;
}

/* parse_mode - an octal mode no wider than 0777; -1 if not */

static long
parse_mode(const char *s)
{
	char	*end;
	long	 v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 8);
	if (errno != 0 || *end != '\0' || v < 0 || v > 0777)
		return -1;
	return v;
}

/* config_validate - check a value where it is read, so the line is known */

static int
config_validate(cfg_t *cfg, cfg_opt_t *opt)
{
	const struct config_key *k = config_key_find(cfg_opt_name(opt));

	if (k == NULL)
		return 0;
	switch (k->ck_type) {
	case KEY_INT: {
		long	 v = cfg_opt_getnint(opt, 0);

		if (v < k->ck_min || v > k->ck_max) {
			cfg_error(cfg, "%s = %ld is out of range %ld..%ld",
			    k->ck_name, v, k->ck_min, k->ck_max);
			return -1;
		}
		break;
	}
	case KEY_MODE:
		if (parse_mode(cfg_opt_getnstr(opt, 0)) < 0) {
			cfg_error(cfg, "%s = \"%s\" is not an octal mode "
			    "(0000..0777)", k->ck_name,
			    cfg_opt_getnstr(opt, 0));
			return -1;
		}
		break;
	case KEY_LEVEL:
		if (sw_log_level_from_name(cfg_opt_getnstr(opt, 0)) < 0) {
			cfg_error(cfg, "%s = \"%s\" is not one of debug, info, "
			    "notice, warning, err", k->ck_name,
			    cfg_opt_getnstr(opt, 0));
			return -1;
		}
		break;
	case KEY_CHOICE:
		if (choice_index(choice_words(k->ck_name),
		    cfg_opt_getnstr(opt, 0)) < 0) {
			cfg_error(cfg, "%s = \"%s\" is not one of: %s",
			    k->ck_name, cfg_opt_getnstr(opt, 0),
			    choice_words(k->ck_name));
			return -1;
		}
		break;
	case KEY_STRING:
		if (*cfg_opt_getnstr(opt, 0) == '\0') {
			cfg_error(cfg, "%s must not be empty", k->ck_name);
			return -1;
		}
		break;
	case KEY_OPTSTRING:
		break;
	}
	return 0;
}

/* sw_config_default_file - the compiled-in configuration path */

const char *
sw_config_default_file(void)
{
	return SW_CONFFILE;
}

/* sw_config_keys - every key name, for documentation checks */

const char *const *
sw_config_keys(void)
{
	static const char *names[NKEYS + 1];
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		names[i] = config_keys[i].ck_name;
	names[NKEYS] = NULL;
	return names;
}

/* sw_config_load - parse file into cfg, reporting file, line and reason */

int
sw_config_load(struct sw_config *out, const char *file, char *err,
    size_t errsize)
{
	cfg_opt_t opts[NKEYS + 1];
	cfg_t	*cfg;
	FILE	*fp;
	char	*text;
	size_t	 i, len;
	int	 rc;

	memset(out, 0, sizeof *out);
	err[0] = '\0';
	config_err = err;
	config_errsize = errsize;
	config_file = file;

	/* Read it whole first, so comments can be hidden from libconfuse. */
	if (config_read(file, &text, &len) < 0) {
		snprintf(err, errsize, "%s: cannot read: %s\n", file,
		    strerror(errno));
		return -1;
	}
	config_blank_comments(text, len);

	for (i = 0; i < NKEYS; i++) {
		const struct config_key *k = &config_keys[i];

		if (k->ck_type == KEY_INT)
			opts[i] = (cfg_opt_t)CFG_INT(k->ck_name,
			    k->ck_int_default, CFGF_NONE);
		else
			opts[i] = (cfg_opt_t)CFG_STR(k->ck_name,
			    k->ck_default, CFGF_NONE);
	}
	opts[NKEYS] = (cfg_opt_t)CFG_END();

	if ((cfg = cfg_init(opts, CFGF_NONE)) == NULL) {
		free(text);
		snprintf(err, errsize, "%s: out of memory\n", file);
		return -1;
	}
	cfg_set_error_function(cfg, config_error);
	for (i = 0; i < NKEYS; i++)
		cfg_set_validate_func(cfg, config_keys[i].ck_name,
		    config_validate);

	/* An empty file leaves the defaults; fmemopen() wants a size. */
	rc = CFG_SUCCESS;
	if (len > 0) {
		if ((fp = fmemopen(text, len, "r")) == NULL)
			rc = CFG_FILE_ERROR;
		else {
			rc = cfg_parse_fp(cfg, fp);
			fclose(fp);
		}
	}
	free(text);
	if (rc == CFG_FILE_ERROR) {
		snprintf(err, errsize, "%s: cannot read: %s\n", file,
		    strerror(errno));
		cfg_free(cfg);
		return -1;
	}
	if (rc != CFG_SUCCESS) {
		if (err[0] == '\0')
			snprintf(err, errsize, "%s: syntax error\n", file);
		cfg_free(cfg);
		return -1;
	}

	for (i = 0; i < NKEYS; i++) {
		const struct config_key *k = &config_keys[i];
		char	*dst = (char *)out + k->ck_offset;

		switch (k->ck_type) {
		case KEY_OPTSTRING:
		case KEY_STRING:
			if ((*(char **)dst = strdup(cfg_getstr(cfg,
			    k->ck_name))) == NULL)
				goto nomem;
			break;
		case KEY_INT:
			*(long *)dst = cfg_getint(cfg, k->ck_name);
			break;
		case KEY_MODE:
			*(mode_t *)dst = (mode_t)parse_mode(cfg_getstr(cfg,
			    k->ck_name));
			break;
		case KEY_LEVEL:
			*(int *)dst = sw_log_level_from_name(cfg_getstr(cfg,
			    k->ck_name));
			break;
		case KEY_CHOICE:
			*(int *)dst = choice_index(choice_words(k->ck_name),
			    cfg_getstr(cfg, k->ck_name));
			break;
		}
	}
	if (out->c_queue_high_water > out->c_queue_max_records) {
		snprintf(err, errsize, "%s: queue_high_water = %ld is above "
		    "queue_max_records = %ld\n", file, out->c_queue_high_water,
		    out->c_queue_max_records);
		cfg_free(cfg);
		sw_config_free(out);
		return -1;
	}
	if ((out->c_file = strdup(file)) == NULL)
		goto nomem;
	cfg_free(cfg);
	return 0;
nomem:
	cfg_free(cfg);
	sw_config_free(out);
	snprintf(err, errsize, "%s: out of memory\n", file);
	return -1;
}

/* sw_config_free - release the strings of a loaded configuration */

void
sw_config_free(struct sw_config *cfg)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		if (config_keys[i].ck_type == KEY_STRING ||
		    config_keys[i].ck_type == KEY_OPTSTRING)
			free(*(char **)((char *)cfg +
			    config_keys[i].ck_offset));
	free(cfg->c_file);
	memset(cfg, 0, sizeof *cfg);
}
