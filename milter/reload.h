/*
 * reload.h - loading the rules at start and again on SIGHUP.
 *
 * DIAGNOSTICS: reload_load() returns -1 with every error in err.
 * BUGS: see reload.c about libmilter and SIGHUP.
 */
#ifndef RELOAD_H
#define RELOAD_H

#include <stddef.h>

/* Load file (if any) and make it the active rule set. */
int	reload_load(const char *file, char *err, size_t errsize);

/* Block SIGHUP here (before threads start) and start the reload thread. */
int	reload_start(const char *file, char *err, size_t errsize);

#endif /* RELOAD_H */
