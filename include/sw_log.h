/*
 * sw_log.h - logging shared by smtpwarden-milter and smtpwardend.
 *
 * Every line starts with the session id (16 hex digits) or "-" for lines
 * that belong to no session, then an event word and key=value fields.
 * Lines go to syslog (LOG_MAIL) or, in the foreground, to stderr.
 * Client-supplied text must pass through sw_printable() before it is
 * logged; see sw_escape.h.
 *
 * DIAGNOSTICS: sw_fatal() exits with the given status; it is meant for
 * start-up, configuration and privilege errors only.
 * BUGS: none known.
 */
#ifndef SW_LOG_H
#define SW_LOG_H

#include <stdint.h>
#include <syslog.h>

#define SW_PRINTFLIKE(f, a)	__attribute__((format(printf, f, a)))
#define SW_NORETURN		__attribute__((noreturn))

/* Log levels are syslog's; the configured level filters them. */
void	sw_log_open(const char *ident, int foreground);
void	sw_log_set_level(int level);
int	sw_log_level_from_name(const char *name);
int	sw_log_enabled(int level);

/* A session id of 0 prints as "-". */
void	sw_log(int level, uint64_t session, const char *fmt, ...)
	    SW_PRINTFLIKE(3, 4);
void	sw_fatal(int status, const char *fmt, ...)
	    SW_PRINTFLIKE(2, 3) SW_NORETURN;

#define sw_debug(s, ...)	sw_log(LOG_DEBUG, (s), __VA_ARGS__)
#define sw_info(s, ...)		sw_log(LOG_INFO, (s), __VA_ARGS__)
#define sw_notice(s, ...)	sw_log(LOG_NOTICE, (s), __VA_ARGS__)
#define sw_warn(s, ...)		sw_log(LOG_WARNING, (s), __VA_ARGS__)
#define sw_err(s, ...)		sw_log(LOG_ERR, (s), __VA_ARGS__)

#endif /* SW_LOG_H */
