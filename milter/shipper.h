/*
 * shipper.h - the milter's outbound path: a bounded in-memory queue of
 * encoded records, a sender thread that ships them to smtpwardend in
 * batches (or, while the daemon cannot take them, appends them to the
 * spool on disk), and a replay thread that sends spool files, oldest
 * first, and removes each one once the daemon has acknowledged all of
 * it.
 *
 * Callbacks only call shipper_enqueue() and shipper_store_failing(),
 * which never block on I/O.
 *
 * DIAGNOSTICS: shipper_start() returns -1 with a message.  Spooling,
 * replay, damaged spool frames and lost records are logged as they
 * happen (see shipper.c).
 * BUGS: a record that finds the queue full (queue_max_records) is
 * counted and lost; the queue fills only while neither the daemon nor
 * the spool takes records.
 */
#ifndef SHIPPER_H
#define SHIPPER_H

#include <stddef.h>
#include <stdint.h>

#include "sw_config.h"

/* Uses session_instance (session.h) for the names of spool files. */
int	shipper_start(const struct sw_config *, char *err, size_t errsize);

/*
 * Hand over one encoded record (malloc'd; the shipper frees it).
 * Returns 0, or -1 when the queue is full and the record was dropped.
 */
int	shipper_enqueue(uint64_t session, char *data, size_t len);

/*
 * Should the next SMTP stage be tempfailed?  True while records find no
 * place (neither daemon nor spool, or a full queue) and
 * on_store_failure is tempfail.
 */
int	shipper_store_failing(void);

/*
 * Ship or spool what is queued, then stop.  Spool files are replayed
 * for at most timeout_ms while the daemon answers; what is left stays
 * on disk for the next start.
 */
void	shipper_stop(long timeout_ms);

/* Counters for logs and tests. */
uint64_t shipper_lost_records(void);

#endif /* SHIPPER_H */
