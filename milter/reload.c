/*
 * reload.c - the rules at start-up, and their atomic replacement on
 * SIGHUP: a reload thread parses the file and, only if it parses, makes
 * it the active rule set.  Sessions already open keep the set they
 * started with (policy.h); rate counters are not touched.
 *
 * DIAGNOSTICS: a file that does not parse leaves the old rules in force
 * and logs each error as "FILE:LINE:COLUMN: reason".
 * BUGS: XXX libmilter compatibility: libmilter's own signal thread
 * stops the milter on SIGHUP as on SIGTERM, through sigwait(3).  To
 * keep SIGHUP for reloading, this file defines sigwait() itself: the
 * definition takes precedence over the C library's for libmilter, and
 * removes SIGHUP from every set it is asked to wait for.  Our reload
 * thread waits with sigwaitinfo(2), which is not affected.
 */

#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "reload.h"
#include "sw_log.h"

static char	 reload_file[4096];

/* sigwait - libmilter's signal thread waits here, never for SIGHUP */

int
sigwait(const sigset_t *set, int *sig)
{
	sigset_t without_hup = *set;
	int	 s;

	(void)sigdelset(&without_hup, SIGHUP);
	for (;;) {
		if ((s = sigwaitinfo(&without_hup, NULL)) >= 0) {
			*sig = s;
			return 0;
		}
		if (errno != EINTR)
			return errno;
	}
}

/* reload_load - parse the rules file and install it */

int
reload_load(const char *file, char *err, size_t errsize)
{
	struct pol_ruleset *rs;

	err[0] = '\0';
	if (file == NULL || *file == '\0') {
		policy_install(NULL);
		return 0;
	}
	if ((rs = policy_load(file, err, errsize)) == NULL)
		return -1;
	policy_install(rs);
	return 0;
}

/* log_errors - each error line of a failed load, as its own log line */

static void
log_errors(const char *err)
{
	const char *line = err, *nl;

	while (*line != '\0') {
		nl = strchr(line, '\n');
		sw_err(0, "rules-error %.*s", nl ? (int)(nl - line) :
		    (int)strlen(line), line);
		if (nl == NULL)
			break;
		line = nl + 1;
	}
}

/* reload_main - wait for SIGHUP, reload, repeat */

static void *
reload_main(void *arg)
{
	sigset_t hup;
	char	 err[8192];

	(void)arg;
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	for (;;) {
		struct pol_ruleset *rs;

		if (sigwaitinfo(&hup, NULL) < 0)
			continue;
		if ((rs = policy_load(reload_file, err, sizeof err)) == NULL) {
			log_errors(err);
			sw_err(0, "reload rules=%s result=failed (the previous "
			    "rules stay in force)", reload_file);
			continue;
		}
		sw_notice(0, "reload rules=%s result=ok rules=%zu mode=%s",
		    reload_file, rs->rs_nrules,
		    rs->rs_monitor ? "monitor" : "enforce");
		policy_install(rs);
	}
	return NULL;
}

/* reload_start - SIGHUP blocked for every later thread; start ours */

int
reload_start(const char *file, char *err, size_t errsize)
{
	pthread_t tid;
	sigset_t hup;
	int	 rc;

	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	if ((rc = pthread_sigmask(SIG_BLOCK, &hup, NULL)) != 0) {
		snprintf(err, errsize, "pthread_sigmask: %s", strerror(rc));
		return -1;
	}
	if (file == NULL || *file == '\0')
		return 0;	/* no rules file: SIGHUP stays blocked, inert */
	snprintf(reload_file, sizeof reload_file, "%s", file);
	if ((rc = pthread_create(&tid, NULL, reload_main, NULL)) != 0) {
		snprintf(err, errsize, "cannot start reload thread: %s",
		    strerror(rc));
		return -1;
	}
	pthread_detach(tid);
	return 0;
}
