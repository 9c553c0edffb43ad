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
	KEY_LEVEL		/* syslog level name */
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
	 * relative to the chroot as unix:/smtpwarden/milter.sock.
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
};

#define NKEYS	(sizeof config_keys / sizeof config_keys[0])

/* Where the error callback writes; config loading is single-threaded. */
static char	*config_err;
static size_t	 config_errsize;

static const struct config_key *config_key_find(const char *);

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
		    "%s:%d: %s\n", cfg->filename ? cfg->filename : "?",
		    cfg->line, reason);
	else
		snprintf(config_err + used, config_errsize - used, "%s: %s\n",
		    cfg != NULL && cfg->filename ? cfg->filename : "?",
		    reason);
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
	case KEY_STRING:
		if (*cfg_opt_getnstr(opt, 0) == '\0') {
			cfg_error(cfg, "%s must not be empty", k->ck_name);
			return -1;
		}
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
	size_t	 i;
	int	 rc;

	memset(out, 0, sizeof *out);
	err[0] = '\0';
	config_err = err;
	config_errsize = errsize;

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
		snprintf(err, errsize, "%s: out of memory\n", file);
		return -1;
	}
	cfg_set_error_function(cfg, config_error);
	for (i = 0; i < NKEYS; i++)
		cfg_set_validate_func(cfg, config_keys[i].ck_name,
		    config_validate);

	rc = cfg_parse(cfg, file);
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
		}
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
		if (config_keys[i].ck_type == KEY_STRING)
			free(*(char **)((char *)cfg +
			    config_keys[i].ck_offset));
	free(cfg->c_file);
	memset(cfg, 0, sizeof *cfg);
}
