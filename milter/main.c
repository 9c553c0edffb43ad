/*
 * main.c - start-up of smtpwarden-milter: options, configuration, the
 * milter socket, privilege drop, the shipper thread, and libmilter's
 * main loop; then, on SIGTERM, shipping what is still queued.
 *
 * Order matters: the socket is opened (as root where needed, so it can
 * live in the MTA's spool), given its owner and mode, and only then are
 * privileges dropped, before any thread starts.
 *
 * DIAGNOSTICS: a bad configuration exits 78 (EX_CONFIG) naming file,
 * line and reason; other start-up failures exit 71 (EX_OSERR) or 69
 * (EX_UNAVAILABLE) with a message.
 * BUGS: none known.
 */

#include "config.h"
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "callbacks.h"
#include "reload.h"
#include "session.h"
#include "shipper.h"
#include "sw_cli.h"
#include "sw_config.h"
#include "sw_log.h"
#include "sw_util.h"

#define EX_UNAVAILABLE	69
#define EX_OSERR	71

/* unix_socket_path - the path of a unix: or local: milter socket */

static const char *
unix_socket_path(const char *conn)
{
	if (strncmp(conn, "unix:", 5) == 0)
		return conn + 5;
	if (strncmp(conn, "local:", 6) == 0)
		return conn + 6;
	if (conn[0] == '/')
		return conn;
	return NULL;
}

int
main(int argc, char **argv)
{
	struct sw_config cfg;
	const char *path;
	char	 err[4096];
	uid_t	 uid;
	gid_t	 gid;
	struct sw_cli cli;
	sigset_t sigs;
	int	 foreground;

	sw_cli_start(&cli, "smtpwarden-milter", argc, argv, &cfg);

	/* The rules: with -n every error is printed, then we exit. */
	if (reload_load(cfg.c_rules, err, sizeof err) < 0) {
		fputs(err, stderr);
		if (!cli.cl_check)
			sw_fatal(SW_EX_CONFIG, "start error=\"rules file %s does"
			    " not load\"", cfg.c_rules);
		return SW_EX_CONFIG;
	}
	if (cli.cl_check) {
		if (*cfg.c_rules != '\0')
			printf("%s: rules are valid\n", cfg.c_rules);
		return 0;
	}
	uid = cli.cl_uid;
	gid = cli.cl_gid;
	foreground = cli.cl_foreground;
	session_instance = sw_random_id();
	session_max_header_bytes = cfg.c_max_header_bytes;

	/* The socket. */
	path = unix_socket_path(cfg.c_milter_socket);
	if (path != NULL && sw_unix_socket_prepare(path, err,
	    sizeof err) < 0)
		sw_fatal(EX_UNAVAILABLE, "start error=\"%s\"", err);
	if (callbacks_register() < 0)
		sw_fatal(EX_OSERR, "start error=\"smfi_register failed\"");
	if (smfi_setconn(cfg.c_milter_socket) != MI_SUCCESS)
		sw_fatal(SW_EX_CONFIG, "start error=\"bad milter_socket %s\"",
		    cfg.c_milter_socket);
	(void)smfi_settimeout(600);
	umask(0777 & ~cfg.c_milter_socket_mode);
	if (smfi_opensocket(0) != MI_SUCCESS)
		sw_fatal(EX_UNAVAILABLE, "start error=\"cannot open milter "
		    "socket %s\"", cfg.c_milter_socket);
	if (path != NULL) {
		if (geteuid() == 0 && chown(path, uid, gid) < 0)
			sw_fatal(EX_OSERR, "start error=\"chown %s: %s\"", path,
			    strerror(errno));
		if (chmod(path, cfg.c_milter_socket_mode) < 0)
			sw_fatal(EX_OSERR, "start error=\"chmod %s: %s\"", path,
			    strerror(errno));
	}
	umask(027);

	/* Privileges, then detach, then threads. */
	if (sw_drop_privileges(uid, gid, err, sizeof err) < 0)
		sw_fatal(EX_OSERR, "start error=\"%s\"", err);
	if (!foreground && daemon(0, 0) < 0)
		sw_fatal(EX_OSERR, "start error=\"daemon: %s\"",
		    strerror(errno));
	/*
	 * libmilter takes SIGHUP, SIGTERM and SIGINT in a thread of its own
	 * with sigwait().  Our threads inherit this mask, so none of them
	 * can take such a signal and die of its default action instead,
	 * which would skip shipping what is queued.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (reload_start(cfg.c_rules, err, sizeof err) < 0)
		sw_fatal(EX_OSERR, "start error=\"%s\"", err);
	if (shipper_start(&cfg, err, sizeof err) < 0)
		sw_fatal(EX_OSERR, "start error=\"%s\"", err);

	sw_info(0, "start version=%s socket=%s daemon_socket=%s uid=%ld",
	    PACKAGE_VERSION, cfg.c_milter_socket, cfg.c_daemon_socket,
	    (long)geteuid());
	if (smfi_main() != MI_SUCCESS)
		sw_err(0, "stop error=\"milter main loop failed\"");

	/* libmilter has stopped taking sessions: ship what is left. */
	shipper_stop(cfg.c_shutdown_timeout_ms);
	sw_info(0, "stop lost_records=%llu",
	    (unsigned long long)shipper_lost_records());
	sw_config_free(&cfg);
	return 0;
}
