/*
 * log.c - the log module of both programs: syslog (LOG_MAIL) when
 * detached, stderr in the foreground.  See sw_log.h for the line format.
 *
 * DIAGNOSTICS: none; logging never fails the caller.
 * BUGS: none known.
 */

#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "sw_log.h"
#include "sw_util.h"

static int	log_foreground;
static int	log_level = LOG_INFO;
static const char *log_ident = "smtpwarden";

static const struct {
	const char	*name;
	int		 level;
} log_levels[] = {
	{ "debug", LOG_DEBUG },
	{ "info", LOG_INFO },
	{ "notice", LOG_NOTICE },
	{ "warning", LOG_WARNING },
	{ "err", LOG_ERR },
	{ "error", LOG_ERR },
	{ NULL, 0 }
};

static void	log_emit(int, uint64_t, const char *, va_list)
		    SW_PRINTFLIKE(3, 0);

/* sw_log_open - choose syslog or stderr */

void
sw_log_open(const char *ident, int foreground)
{
	log_ident = ident;
	log_foreground = foreground;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* sw_log_set_level - log this level and the more severe ones */

void
sw_log_set_level(int level)
{
	log_level = level;
}

/* sw_log_level_from_name - level for a configuration name, or -1 */

int
sw_log_level_from_name(const char *name)
{
	int	i;

	for (i = 0; log_levels[i].name != NULL; i++)
		if (strcasecmp(name, log_levels[i].name) == 0)
			return log_levels[i].level;
	return -1;
}

/* sw_log_enabled - would a line of this level be written? */

int
sw_log_enabled(int level)
{
	return level <= log_level;
}

/* log_emit - format one line with the session id first */

static void
log_emit(int level, uint64_t session, const char *fmt, va_list ap)
{
	char	 line[2048], id[17];
	int	 saved_errno = errno;
	int	 n;

	if (session != 0)
		sw_format_id(session, id);
	else
		snprintf(id, sizeof id, "-");
	n = snprintf(line, sizeof line, "%s ", id);
	if (n > 0 && (size_t)n < sizeof line)
		vsnprintf(line + n, sizeof line - n, fmt, ap);
	if (log_foreground) {
		char	 when[32];

		fprintf(stderr, "%s %s[%ld]: %s\n",
		    sw_format_utc(sw_now_us(), when, sizeof when), log_ident,
		    (long)getpid(), line);
	} else
		syslog(level, "%s", line);
	errno = saved_errno;
}

/* sw_log - one event line, when its level is enabled */

void
sw_log(int level, uint64_t session, const char *fmt, ...)
{
	va_list	ap;

	if (!sw_log_enabled(level))
		return;
	va_start(ap, fmt);
	log_emit(level, session, fmt, ap);
	va_end(ap);
}

/* sw_fatal - log an unrecoverable start-up error and exit */

void
sw_fatal(int status, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, 0, fmt, ap);
	va_end(ap);
	exit(status);
}
