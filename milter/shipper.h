/*
 * shipper.h - the milter's outbound path: a bounded in-memory queue of
 * encoded records and one sender thread that ships them to smtpwardend
 * in batches, keeping each batch until the daemon acknowledges its
 * commit.
 *
 * Callbacks only call shipper_enqueue(), which never blocks on I/O.
 *
 * DIAGNOSTICS: shipper_start() returns -1 with a message.
 * BUGS: a record that finds the queue full is counted and lost; the
 * on-disk spool that takes over in that case is not built yet.
 */
#ifndef SHIPPER_H
#define SHIPPER_H

#include <stddef.h>
#include <stdint.h>

#include "sw_config.h"

int	shipper_start(const struct sw_config *, char *err, size_t errsize);

/*
 * Hand over one encoded record (malloc'd; the shipper frees it).
 * Returns 0, or -1 when the queue is full and the record was dropped.
 */
int	shipper_enqueue(uint64_t session, char *data, size_t len);

/* Ship what is queued, waiting at most timeout_ms, then stop. */
void	shipper_stop(long timeout_ms);

/* Counters for logs and tests. */
uint64_t shipper_lost_records(void);

#endif /* SHIPPER_H */
