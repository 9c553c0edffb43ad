/*
 * cli.c - the shared start of both programs: options, configuration,
 * user lookup, log (see sw_cli.h).
 *
 * DIAGNOSTICS: exits 78 on configuration errors, 2 on usage errors.
 * BUGS: none known.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sw_cli.h"
#include "sw_log.h"
#include "sw_util.h"

static void	cli_usage(const char *, int) SW_NORETURN;

/* cli_usage - print the synopsis and exit */

static void
cli_usage(const char *prog, int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: %s [-fhnvV] [-c file]\n"
	    "  -c file  configuration file (default %s)\n"
	    "  -f       stay in the foreground and log to stderr\n"
	    "  -n       check the configuration, report problems, exit\n"
	    "  -v       log at debug level\n"
	    "  -V       print the version and exit\n"
	    "  -h       this help\n", prog, sw_config_default_file());
	exit(status);
}

/* sw_cli_start - options, configuration and log, or exit */

void
sw_cli_start(struct sw_cli *cl, const char *prog, int argc, char **argv,
    struct sw_config *cfg)
{
	char	 err[4096];
	int	 ch;

	cl->cl_prog = prog;
	cl->cl_file = sw_config_default_file();
	cl->cl_foreground = cl->cl_check = cl->cl_verbose = 0;
	while ((ch = getopt(argc, argv, "c:fhnvV")) != -1) {
		switch (ch) {
		case 'c':
			cl->cl_file = optarg;
			break;
		case 'f':
			cl->cl_foreground = 1;
			break;
		case 'h':
			cli_usage(prog, 0);
		case 'n':
			cl->cl_check = 1;
			break;
		case 'v':
			cl->cl_verbose = 1;
			break;
		case 'V':
			printf("%s %s\n", prog, PACKAGE_VERSION);
			exit(0);
		default:
			cli_usage(prog, 2);
		}
	}
	if (optind != argc)
		cli_usage(prog, 2);

	if (sw_config_load(cfg, cl->cl_file, err, sizeof err) < 0) {
		fputs(err, stderr);
		exit(SW_EX_CONFIG);
	}
	if (sw_lookup_owner(cfg->c_user, cfg->c_group, &cl->cl_uid,
	    &cl->cl_gid, err, sizeof err) < 0) {
		fprintf(stderr, "%s: %s\n", cl->cl_file, err);
		exit(SW_EX_CONFIG);
	}
	if (cl->cl_check) {
		/* The caller checks what else it reads, then exits. */
		printf("%s: configuration is valid\n", cl->cl_file);
		return;
	}
	sw_log_open(prog, cl->cl_foreground);
	sw_log_set_level(cl->cl_verbose ? LOG_DEBUG : cfg->c_log_level);
}
