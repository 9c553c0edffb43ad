/*
 * sw_cli.h - the command line both programs share: -c FILE, -f, -n, -v,
 * -V, -h; loading the configuration they name; opening the log.
 *
 * DIAGNOSTICS: sw_cli_start() exits 78 (EX_CONFIG) on a bad file, after
 * printing "FILE:LINE: reason"; with -n it prints that the file is good
 * and returns with cl_check set, for the caller to check the rest and
 * exit.  A bad command line exits 2 with the usage.
 * BUGS: none known.
 */
#ifndef SW_CLI_H
#define SW_CLI_H

#include <sys/types.h>

#include "sw_config.h"

struct sw_cli {
	const char	*cl_prog;	/* program name for usage and logs */
	const char	*cl_file;	/* configuration file */
	int		 cl_foreground;
	int		 cl_check;
	int		 cl_verbose;
	uid_t		 cl_uid;	/* of the configured user ... */
	gid_t		 cl_gid;	/* ... and group */
};

/*
 * Parse argv, load the configuration into cfg, look up user and group,
 * and open the log.  Returns only when the program should run.
 */
void	sw_cli_start(struct sw_cli *, const char *prog, int argc,
	    char **argv, struct sw_config *cfg);

#endif /* SW_CLI_H */
