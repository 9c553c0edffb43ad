/*
 * sw_config.h - smtpwarden.conf, the one configuration file that both
 * programs read.
 *
 * The file is "key = value" lines with "#" comments, parsed by
 * libconfuse.  Every key, its default and its bounds live in one table
 * in lib/config.c; smtpwarden.conf(5) documents each of them and a test
 * checks that the two agree.
 *
 * DIAGNOSTICS: sw_config_load() returns -1 and writes "FILE:LINE: reason"
 * lines into the caller's error buffer.
 * BUGS: none known.
 */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H

#include <stddef.h>
#include <sys/types.h>

/* Exit status for a bad configuration (sysexits.h EX_CONFIG). */
#define SW_EX_CONFIG	78

struct sw_config {
	char	*c_file;		/* the file that was read */
	char	*c_milter_socket;	/* libmilter form */
	mode_t	 c_milter_socket_mode;
	char	*c_daemon_socket;	/* path of a unix socket */
	mode_t	 c_daemon_socket_mode;
	char	*c_database;
	char	*c_spool_dir;
	char	*c_user;
	char	*c_group;
	int	 c_log_level;		/* syslog level */
	long	 c_max_header_bytes;
	long	 c_queue_max_records;
	long	 c_batch_max_records;
	long	 c_batch_max_delay_ms;
	long	 c_commit_max_records;
	long	 c_commit_interval_ms;
	long	 c_busy_timeout_ms;
	long	 c_shutdown_timeout_ms;
	char	*c_rules;		/* rules file, "" for none */
	long	 c_queue_high_water;	/* records; spool above this */
	long	 c_spool_max_bytes;	/* 0: no limit */
	int	 c_spool_policy;	/* enum sw_spool_policy */
	int	 c_spool_fsync;		/* enum sw_spool_fsync */
	int	 c_on_store_failure;	/* enum sw_store_failure */
};

/* Values of the choice keys, in the order config.c lists them. */
enum sw_spool_policy {
	SW_SPOOL_OUTAGE,	/* spool only while the daemon cannot take it */
	SW_SPOOL_ALWAYS		/* every record passes through the spool */
};
enum sw_spool_fsync {
	SW_FSYNC_ALWAYS,	/* after every write */
	SW_FSYNC_CLOSE,		/* when a spool file is complete */
	SW_FSYNC_NEVER
};
enum sw_store_failure {
	SW_FAIL_TEMPFAIL,	/* answer 451 4.3.0 */
	SW_FAIL_ACCEPT		/* let mail through, count what is lost */
};

/* The compiled-in path of smtpwarden.conf. */
const char *sw_config_default_file(void);

/*
 * Read file into cfg.  On error returns -1 with the reasons, one per
 * line, in err (always NUL-terminated).
 */
int	sw_config_load(struct sw_config *cfg, const char *file, char *err,
	    size_t errsize);
void	sw_config_free(struct sw_config *cfg);

/* Names of all keys the parser accepts, NULL-terminated. */
const char *const *sw_config_keys(void);

#endif /* SW_CONFIG_H */
