/*
 * store.h - smtpwardend's SQLite store: the only writer of the database.
 *
 * The caller groups records into transactions (store_begin, store_put
 * for each record, store_commit) and acknowledges batches only after
 * store_commit succeeds.  A record already stored (same instance,
 * session and sequence) is skipped, so a batch sent twice is harmless.
 *
 * DIAGNOSTICS: functions return -1 and leave the reason in
 * store_errmsg(); they never log and never exit.
 * BUGS: none known.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>

#include "sw_record.h"

#define STORE_SCHEMA_VERSION	1

struct store;

struct store *store_open(const char *path, long busy_timeout_ms, char *err,
	    size_t errsize);
int	store_begin(struct store *);
/* 0 stored, 1 duplicate (skipped), -1 error. */
int	store_put(struct store *, const struct sw_record *);
int	store_commit(struct store *);
void	store_rollback(struct store *);
const char *store_errmsg(struct store *);
/* Is the last error SQLite BUSY or LOCKED (worth a retry)? */
int	store_busy(struct store *);
void	store_close(struct store *);

#endif /* STORE_H */
