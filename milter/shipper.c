/*
 * shipper.c - bounded record queue and the sender thread that delivers
 * batches to smtpwardend over its unix socket (frame format in
 * sw_record.h).
 *
 * The sender takes up to batch_max_records records at a time, waits up
 * to batch_max_delay_ms for a batch to fill, writes it as one frame and
 * waits for the daemon's ack, which comes only after the commit.  On
 * any error it reconnects with back-off and sends the same batch again;
 * the daemon stores each (instance, session, sequence) once, so a
 * repeat is harmless.
 *
 * DIAGNOSTICS: connection trouble is logged once per outage, with the
 * number of records waiting; a full queue logs what was lost.
 * BUGS: XXX durability: records live only in memory until the daemon
 * acknowledges them.  A full queue (daemon away for long) drops records,
 * and a milter crash loses what was queued.  The spool on disk that
 * closes both holes is the next step of this module.
 */

#include "config.h"
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "shipper.h"
#include "sw_log.h"
#include "sw_record.h"
#include "sw_util.h"

struct qitem {
	struct qitem	*qi_next;
	size_t		 qi_len;
	char		*qi_data;
};

static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;		/* records arrived or stop asked */
	struct qitem	*head, *tail;
	size_t		 count;
	size_t		 max;
	int		 stopping;
	int64_t		 deadline_mono;	/* when stopping: give up at */
	uint64_t	 lost;
	uint64_t	 lost_logged;
	pthread_t	 thread;
	int		 running;
	/* Owned by the sender thread. */
	char		*socket_path;
	size_t		 batch_max;
	long		 batch_delay_ms;
	int		 fd;
	uint64_t	 next_batch;
} sh = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.fd = -1,
	.next_batch = 1,
};

static void	*shipper_main(void *);

/* shipper_enqueue - append one record; never blocks on I/O */

int
shipper_enqueue(uint64_t session, char *data, size_t len)
{
	struct qitem *qi;

	pthread_mutex_lock(&sh.lock);
	if (sh.count >= sh.max || (qi = malloc(sizeof *qi)) == NULL) {
		uint64_t lost = ++sh.lost;

		pthread_mutex_unlock(&sh.lock);
		free(data);
		/* Loud, but not one line per record in a long outage. */
		if ((lost & (lost - 1)) == 0)
			sw_err(session, "record-lost queue=full lost_total=%llu"
			    " (daemon not keeping up or unreachable)",
			    (unsigned long long)lost);
		return -1;
	}
	qi->qi_next = NULL;
	qi->qi_data = data;
	qi->qi_len = len;
	if (sh.tail != NULL)
		sh.tail->qi_next = qi;
	else
		sh.head = qi;
	sh.tail = qi;
	if (sh.count++ == 0)
		pthread_cond_signal(&sh.wake);
	pthread_mutex_unlock(&sh.lock);
	return 0;
}

/* shipper_lost_records - records dropped so far */

uint64_t
shipper_lost_records(void)
{
	uint64_t n;

	pthread_mutex_lock(&sh.lock);
	n = sh.lost;
	pthread_mutex_unlock(&sh.lock);
	return n;
}

/* shipper_start - remember the settings and start the sender thread */

int
shipper_start(const struct sw_config *cfg, char *err, size_t errsize)
{
	int	 rc;

	sh.max = (size_t)cfg->c_queue_max_records;
	sh.batch_max = (size_t)cfg->c_batch_max_records;
	sh.batch_delay_ms = cfg->c_batch_max_delay_ms;
	if ((sh.socket_path = strdup(cfg->c_daemon_socket)) == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	if ((rc = pthread_create(&sh.thread, NULL, shipper_main, NULL)) != 0) {
		snprintf(err, errsize, "cannot start sender thread: %s",
		    strerror(rc));
		return -1;
	}
	sh.running = 1;
	return 0;
}

/* shipper_stop - drain the queue within the deadline, then join */

void
shipper_stop(long timeout_ms)
{
	size_t	 left;

	if (!sh.running)
		return;
	pthread_mutex_lock(&sh.lock);
	sh.stopping = 1;
	sh.deadline_mono = sw_mono_us() + (int64_t)timeout_ms * 1000;
	pthread_cond_broadcast(&sh.wake);
	pthread_mutex_unlock(&sh.lock);
	pthread_join(sh.thread, NULL);
	sh.running = 0;
	pthread_mutex_lock(&sh.lock);
	left = sh.count;
	pthread_mutex_unlock(&sh.lock);
	if (left > 0)
		sw_err(0, "shutdown records_unsent=%zu (daemon did not take "
		    "them within %ld ms)", left, timeout_ms);
	else
		sw_info(0, "shutdown queue=empty lost_total=%llu",
		    (unsigned long long)sh.lost);
}

/* take_batch - detach up to max items; waits for the batch to fill */

static struct qitem *
take_batch(size_t *n)
{
	struct qitem *first, *qi;
	struct timespec until;
	size_t	 i;

	pthread_mutex_lock(&sh.lock);
	while (sh.count == 0 && !sh.stopping)
		pthread_cond_wait(&sh.wake, &sh.lock);
	if (sh.count == 0) {
		pthread_mutex_unlock(&sh.lock);
		*n = 0;
		return NULL;
	}

	/*
	 * Give a small batch a moment to grow: fewer, larger commits in the
	 * daemon are what make it fast.
	 */
	if (sh.count < sh.batch_max && sh.batch_delay_ms > 0 &&
	    !sh.stopping) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += sh.batch_delay_ms * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&sh.wake, &sh.lock, &until);
	}
	first = sh.head;
	for (i = 1, qi = first; i < sh.batch_max && qi->qi_next != NULL; i++)
		qi = qi->qi_next;
	sh.head = qi->qi_next;
	if (sh.head == NULL)
		sh.tail = NULL;
	qi->qi_next = NULL;
	sh.count -= i;
	pthread_mutex_unlock(&sh.lock);
	*n = i;
	return first;
}

/* give_back - put an unsent batch back at the head of the queue */

static void
give_back(struct qitem *batch, size_t n)
{
	struct qitem *last;

	for (last = batch; last->qi_next != NULL; last = last->qi_next)
		;
	pthread_mutex_lock(&sh.lock);
	last->qi_next = sh.head;
	sh.head = batch;
	if (sh.tail == NULL)
		sh.tail = last;
	sh.count += n;
	pthread_mutex_unlock(&sh.lock);
}

/* free_batch - release items after the ack */

static void
free_batch(struct qitem *qi)
{
	while (qi != NULL) {
		struct qitem *next = qi->qi_next;

		free(qi->qi_data);
		free(qi);
		qi = next;
	}
}

/* daemon_connect - open the daemon socket; -1 with errno */

static int
daemon_connect(void)
{
	struct sockaddr_un sun;
	struct timeval tv = { 60, 0 };
	int	 fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(sh.socket_path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, sh.socket_path, strlen(sh.socket_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		int	 saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	/* An ack comes after a commit; a daemon silent this long is stuck. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return fd;
}

/* send_batch - one frame out, one ack in; 0 when acknowledged */

static int
send_batch(struct qitem *batch, size_t n, uint64_t batch_id)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct qitem *qi;
	char	*ack = NULL;
	size_t	 acklen;
	uint64_t acked;
	int	 status, rc = -1;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (sw_batch_begin(&pk, batch_id, n) < 0)
		goto out;
	for (qi = batch; qi != NULL; qi = qi->qi_next)
		if (msgpack_sbuffer_write(&sb, qi->qi_data, qi->qi_len) != 0)
			goto out;
	if (sw_frame_write(sh.fd, sb.data, sb.size) < 0)
		goto out;
	if (sw_frame_read(sh.fd, &ack, &acklen, 4096) != 0)
		goto out;
	if (sw_ack_unpack(ack, acklen, &acked, &status) < 0 ||
	    acked != batch_id) {
		errno = EPROTO;
		goto out;
	}
	if (status != 0) {
		errno = EAGAIN;
		goto out;
	}
	rc = 0;
out:
	free(ack);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/* past_deadline - stopping and out of time? */

static int
past_deadline(void)
{
	int	 over;

	pthread_mutex_lock(&sh.lock);
	over = sh.stopping && sw_mono_us() >= sh.deadline_mono;
	pthread_mutex_unlock(&sh.lock);
	return over;
}

/* shipper_main - the sender thread */

static void *
shipper_main(void *arg)
{
	long	 backoff_ms = 0;
	int	 outage = 0;

	(void)arg;
	for (;;) {
		struct qitem *batch;
		size_t	 n;

		if ((batch = take_batch(&n)) == NULL)
			break;
		if (sh.fd < 0 && (sh.fd = daemon_connect()) < 0) {
			if (!outage)
				sw_warn(0, "daemon-unreachable socket=%s "
				    "error=\"%s\" (records wait in memory)",
				    sh.socket_path, strerror(errno));
			outage = 1;
			goto retry;
		}
		if (send_batch(batch, n, sh.next_batch) < 0) {
			if (!outage)
				sw_warn(0, "daemon-error socket=%s error=\"%s\""
				    " (batch will be sent again)",
				    sh.socket_path, strerror(errno));
			outage = 1;
			close(sh.fd);
			sh.fd = -1;
			goto retry;
		}
		sh.next_batch++;
		free_batch(batch);
		if (outage)
			sw_notice(0, "daemon-reachable socket=%s",
			    sh.socket_path);
		outage = 0;
		backoff_ms = 0;
		continue;
retry:
		give_back(batch, n);
		if (past_deadline())
			break;
		backoff_ms = backoff_ms ? backoff_ms * 2 : 50;
		if (backoff_ms > 2000)
			backoff_ms = 2000;
		usleep(backoff_ms * 1000);
	}
	if (sh.fd >= 0)
		close(sh.fd);
	sh.fd = -1;
	return NULL;
}
