/*
 * shipper.c - bounded record queue, the sender thread that delivers
 * batches to smtpwardend over its unix socket (frame format in
 * sw_record.h), the spool it falls back to, and the replay thread that
 * empties the spool again.
 *
 * Two modes.  Sending directly, the sender takes up to
 * batch_max_records records, waits up to batch_max_delay_ms for a batch
 * to fill, writes it as one frame and waits for the daemon's ack, which
 * comes only after the commit.  When the daemon cannot be reached, errs,
 * refuses, or lets more than queue_high_water records pile up while the
 * sender waits, the sender switches to spooling: the batch it holds
 * and everything after it are appended to the spool (spool.c) instead.
 * With spool_policy = always it spools from the start and never sends
 * itself.
 *
 * Order.  Only the replay thread sends spooled records, file by file,
 * oldest first, each file removed once all of it is acknowledged.  The
 * sender seals its active file whenever the replay thread has nothing
 * else to do, and goes back to sending directly only when no spool file
 * is left at all: so the records of one session reach the daemon in the
 * order they were made, however often the mode changes.
 *
 * Exactly once is the daemon's part: it stores each (instance, session,
 * sequence) once, so a batch sent twice (an ack lost with its
 * connection, a spool file replayed again after a crash) is harmless.
 *
 * When neither the daemon nor the spool takes a batch it stays in
 * memory and is tried again with back-off; on_store_failure then
 * decides whether callbacks tempfail (shipper_store_failing) or mail
 * goes on while the queue fills and, once full, loses records.
 *
 * DIAGNOSTICS: each change of mode is logged once, with its reason: the
 * start of spooling, a spool that cannot be written (with the action
 * taken), its recovery, the spool drained.  A damaged spool frame is
 * logged with file, offset and reason; lost records with their total.
 * BUGS: XXX crash window: records live in memory from the callback
 * until the sender has written them (to the daemon or the spool); a
 * milter crash loses those.  spool_policy = always shrinks the window
 * to the time one write takes, but does not close it.
 */

#include "config.h"
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "session.h"
#include "shipper.h"
#include "spool.h"
#include "sw_log.h"
#include "sw_record.h"
#include "sw_util.h"

/* An ack comes after a commit; a daemon silent this long is stuck. */
#define ACK_TIMEOUT_US		(60 * 1000000LL)
/* How often a waiting sender looks at the queue and the clock. */
#define POLL_SLICE_MS		100
/* Back-off between attempts: first and largest pause. */
#define BACKOFF_MIN_MS		50
#define BACKOFF_MAX_MS		2000
/* A replayed batch stays well inside the daemon's frame limit. */
#define REPLAY_BATCH_BYTES	(SW_FRAME_MAX / 2)
#define ACK_MAX			4096
/* While records are lost, a log line at least this often. */
#define LOST_LOG_EVERY_US	(10 * 1000000LL)

struct qitem {
	struct qitem	*qi_next;
	size_t		 qi_len;
	char		*qi_data;
};

/* One connection to the daemon; each thread has its own. */
struct link {
	const char	*l_who;		/* "sender" or "replay", for logs */
	int		 l_fd;
	uint64_t	 l_next_batch;
	int		 l_outage;	/* a failure was logged */
};

static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;		/* sender: records, stop, replay idle */
	pthread_cond_t	 replay_wake;	/* replay: a file sealed, stop */
	struct qitem	*head, *tail;
	size_t		 count;
	size_t		 max;
	size_t		 high_water;
	int		 stopping;
	int		 sender_done;	/* the sender has spooled its last */
	int64_t		 deadline_mono;	/* when stopping: give up at */
	uint64_t	 lost;
	int64_t		 lost_logged;	/* when the last loss was logged */
	int		 replay_idle;	/* no complete spool file waits */
	int		 failing;	/* the last batch found no place */
	int		 tempfail;	/* on_store_failure = tempfail */
	pthread_t	 sender, replayer;
	int		 running;
	/* Set at start, then read only. */
	struct spool	*spool;
	char		*socket_path;
	size_t		 batch_max;
	long		 batch_delay_ms;
	int		 always;	/* spool_policy = always */
} sh = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.replay_wake = PTHREAD_COND_INITIALIZER,
};

static void	*sender_main(void *);
static void	*replay_main(void *);

/* shipper_enqueue - append one record; never blocks on I/O */

int
shipper_enqueue(uint64_t session, char *data, size_t len)
{
	struct qitem *qi;

	pthread_mutex_lock(&sh.lock);
	if (sh.count >= sh.max || (qi = malloc(sizeof *qi)) == NULL) {
		uint64_t lost = ++sh.lost;
		int64_t	 now = sw_mono_us();
		int	 say;

		/*
		 * Loud, but not one line per record in a long outage: at 1,
		 * 2, 4, ... records, and every LOST_LOG_EVERY_US.
		 */
		say = (lost & (lost - 1)) == 0 ||
		    now - sh.lost_logged >= LOST_LOG_EVERY_US;
		if (say)
			sh.lost_logged = now;
		pthread_mutex_unlock(&sh.lock);
		free(data);
		if (say)
			sw_err(session, "record-lost queue=full lost_total=%llu"
			    " (neither the daemon nor the spool takes "
			    "records)", (unsigned long long)lost);
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

/* shipper_store_failing - should callbacks tempfail? */

int
shipper_store_failing(void)
{
	int	 failing;

	pthread_mutex_lock(&sh.lock);
	failing = sh.tempfail && (sh.failing || sh.count >= sh.max);
	pthread_mutex_unlock(&sh.lock);
	return failing;
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

/* spool_fsync_of - the configured fsync policy in spool.h terms */

static int
spool_fsync_of(int c)
{
	switch (c) {
	case SW_FSYNC_CLOSE:
		return SPOOL_FSYNC_CLOSE;
	case SW_FSYNC_NEVER:
		return SPOOL_FSYNC_NEVER;
	default:
		return SPOOL_FSYNC_ALWAYS;
	}
}

/* shipper_start - open the spool and start both threads */

int
shipper_start(const struct sw_config *cfg, char *err, size_t errsize)
{
	struct spool_conf sc;
	char	 warning[512];
	int	 rc;

	sh.max = (size_t)cfg->c_queue_max_records;
	sh.high_water = (size_t)cfg->c_queue_high_water;
	sh.batch_max = (size_t)cfg->c_batch_max_records;
	sh.batch_delay_ms = cfg->c_batch_max_delay_ms;
	sh.always = cfg->c_spool_policy == SW_SPOOL_ALWAYS;
	sh.tempfail = cfg->c_on_store_failure == SW_FAIL_TEMPFAIL;
	if ((sh.socket_path = strdup(cfg->c_daemon_socket)) == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	memset(&sc, 0, sizeof sc);
	sc.sc_dir = cfg->c_spool_dir;
	sc.sc_instance = session_instance;
	sc.sc_max_bytes = cfg->c_spool_max_bytes;
	sc.sc_fsync = spool_fsync_of(cfg->c_spool_fsync);
	if ((sh.spool = spool_open(&sc, warning, sizeof warning, err,
	    errsize)) == NULL)
		return -1;
	if (warning[0] != '\0')
		sw_warn(0, "spool-unlocked error=\"%s\"", warning);
	if (spool_files(sh.spool) > 0)
		sw_notice(0, "spool-found dir=%s files=%zu bytes=%lld "
		    "(replayed when the daemon answers)", cfg->c_spool_dir,
		    spool_files(sh.spool), spool_bytes(sh.spool));
	if ((rc = pthread_create(&sh.sender, NULL, sender_main, NULL)) != 0) {
		snprintf(err, errsize, "cannot start sender thread: %s",
		    strerror(rc));
		return -1;
	}
	if ((rc = pthread_create(&sh.replayer, NULL, replay_main,
	    NULL)) != 0) {
		snprintf(err, errsize, "cannot start replay thread: %s",
		    strerror(rc));
		return -1;
	}
	sh.running = 1;
	sw_info(0, "shipper spool_dir=%s spool_policy=%s on_store_failure=%s "
	    "queue_high_water=%zu", cfg->c_spool_dir,
	    sh.always ? "always" : "outage", sh.tempfail ? "tempfail" :
	    "accept", sh.high_water);
	return 0;
}

/* shipper_stop - ship or spool the queue, replay for a while, join */

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
	pthread_cond_broadcast(&sh.replay_wake);
	pthread_mutex_unlock(&sh.lock);
	pthread_join(sh.sender, NULL);
	pthread_mutex_lock(&sh.lock);
	sh.sender_done = 1;
	pthread_cond_broadcast(&sh.replay_wake);
	pthread_mutex_unlock(&sh.lock);
	pthread_join(sh.replayer, NULL);
	sh.running = 0;
	pthread_mutex_lock(&sh.lock);
	left = sh.count;
	sh.lost += left;
	pthread_mutex_unlock(&sh.lock);
	if (left > 0)
		sw_err(0, "shutdown records_lost=%zu (neither the daemon nor "
		    "the spool took them within %ld ms)", left, timeout_ms);
	sw_info(0, "shutdown queue=%s spool_files=%zu spool_bytes=%lld "
	    "lost_total=%llu", left ? "not empty" : "empty",
	    spool_files(sh.spool), spool_bytes(sh.spool),
	    (unsigned long long)shipper_lost_records());
	spool_close(sh.spool);
	sh.spool = NULL;
}

/* stop_passed - stopping and out of time? */

static int
stop_passed(void)
{
	int	 over;

	pthread_mutex_lock(&sh.lock);
	over = sh.stopping && sw_mono_us() >= sh.deadline_mono;
	pthread_mutex_unlock(&sh.lock);
	return over;
}

/* is_stopping - has a stop been asked? */

static int
is_stopping(void)
{
	int	 s;

	pthread_mutex_lock(&sh.lock);
	s = sh.stopping;
	pthread_mutex_unlock(&sh.lock);
	return s;
}

/* queue_count - records waiting in memory */

static size_t
queue_count(void)
{
	size_t	 n;

	pthread_mutex_lock(&sh.lock);
	n = sh.count;
	pthread_mutex_unlock(&sh.lock);
	return n;
}

/*
 * pause_ms - sleep, but wake at once when a stop is asked.  Once
 * stopping, the pause is taken in full: a loop that retries until the
 * deadline must not spin.
 */

static void
pause_ms(pthread_cond_t *cond, long ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (ms % 1000) * 1000000L;
	until.tv_sec += ms / 1000 + until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&sh.lock);
	pthread_cond_timedwait(cond, &sh.lock, &until);
	pthread_mutex_unlock(&sh.lock);
}

/* next_backoff - the pause after one of ms, doubled and capped */

static long
next_backoff(long ms)
{
	ms = ms ? ms * 2 : BACKOFF_MIN_MS;
	return ms > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms;
}

/* link_close - drop the connection; the next send reconnects */

static void
link_close(struct link *ln)
{
	if (ln->l_fd >= 0)
		close(ln->l_fd);
	ln->l_fd = -1;
}

/* link_connect - open the daemon socket, non-blocking; -1 with errno */

static int
link_connect(struct link *ln)
{
	struct sockaddr_un sun;
	size_t	 len = strlen(sh.socket_path);
	int	 fd, saved;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (len >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, sh.socket_path, len);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	ln->l_fd = fd;
	return 0;
}

/*
 * link_wait - wait until fd is ready for events.  0 ready; 1 the queue
 * rose above its high-water mark (when watch_queue); -1 with errno
 * ETIMEDOUT at the deadline, or when a stop's deadline passes.
 */
static int
link_wait(struct link *ln, short events, int64_t until, int watch_queue)
{
	struct pollfd pfd;
	int	 rc;

	for (;;) {
		if (watch_queue && queue_count() > sh.high_water)
			return 1;
		if (sw_mono_us() >= until || stop_passed()) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = ln->l_fd;
		pfd.events = events;
		if ((rc = poll(&pfd, 1, POLL_SLICE_MS)) < 0 && errno != EINTR)
			return -1;
		if (rc > 0)
			return 0;
	}
}

/* link_io - all of buf out (out != 0) or in; same returns as link_wait */

static int
link_io(struct link *ln, char *buf, size_t len, int out, int64_t until,
    int watch_queue)
{
	size_t	 done = 0;
	ssize_t	 n;
	int	 rc;

	while (done < len) {
		if (out)
			n = send(ln->l_fd, buf + done, len - done,
			    MSG_NOSIGNAL);
		else
			n = recv(ln->l_fd, buf + done, len - done, 0);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n == 0) {
			errno = EPIPE;	/* the daemon closed */
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if ((rc = link_wait(ln, out ? POLLOUT : POLLIN, until,
		    watch_queue)) != 0)
			return rc;
	}
	return 0;
}

/*
 * link_send - one batch out, its ack in.  0 acknowledged; -1 failed
 * (errno; the connection is closed); 1 abandoned because the queue rose
 * above its high-water mark while we waited (watch_queue).
 */
static int
link_send(struct link *ln, const struct iovec *recs, size_t n,
    int watch_queue)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char	 ack[ACK_MAX];
	uint32_t flen;
	uint64_t id = ln->l_next_batch, acked;
	int64_t	 until = sw_mono_us() + ACK_TIMEOUT_US;
	size_t	 i;
	int	 status, rc = -1;

	if (ln->l_fd < 0 && link_connect(ln) < 0)
		return -1;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

	/* Room for the length first, so the frame goes out in one piece. */
	if (msgpack_sbuffer_write(&sb, "\0\0\0\0", 4) != 0 ||
	    sw_batch_begin(&pk, id, n) < 0) {
		errno = ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (msgpack_sbuffer_write(&sb, recs[i].iov_base,
		    recs[i].iov_len) != 0) {
			errno = ENOMEM;
			goto out;
		}
	if (sb.size - 4 > SW_FRAME_MAX) {
		errno = EMSGSIZE;
		goto out;
	}
	flen = htonl((uint32_t)(sb.size - 4));
	memcpy(sb.data, &flen, 4);
	if ((rc = link_io(ln, sb.data, sb.size, 1, until, watch_queue)) != 0 ||
	    (rc = link_io(ln, (char *)&flen, 4, 0, until, watch_queue)) != 0)
		goto out;
	flen = ntohl(flen);
	rc = -1;
	if (flen == 0 || flen > sizeof ack) {
		errno = EPROTO;
		goto out;
	}
	if ((rc = link_io(ln, ack, flen, 0, until, watch_queue)) != 0)
		goto out;
	rc = -1;
	if (sw_ack_unpack(ack, flen, &acked, &status) < 0 || acked != id) {
		errno = EPROTO;
		goto out;
	}
	if (status != 0) {
		errno = EAGAIN;	/* the daemon refused the batch */
		goto out;
	}
	ln->l_next_batch++;
	rc = 0;
out:
	msgpack_sbuffer_destroy(&sb);
	/* A half-sent batch or a missing ack leaves the stream unusable. */
	if (rc != 0)
		link_close(ln);
	return rc;
}

/* link_failed - log the first failure of an outage */

static void
link_failed(struct link *ln, int abandoned, int saved_errno)
{
	if (ln->l_outage)
		return;
	ln->l_outage = 1;
	if (abandoned)
		sw_warn(0, "daemon-slow socket=%s queue_above=%zu (%s: records "
		    "go to the spool)", sh.socket_path, sh.high_water,
		    ln->l_who);
	else if (saved_errno == ENOENT || saved_errno == ECONNREFUSED)
		sw_warn(0, "daemon-unreachable socket=%s error=\"%s\" (%s: "
		    "records go to the spool)", sh.socket_path,
		    strerror(saved_errno), ln->l_who);
	else
		sw_warn(0, "daemon-error socket=%s error=\"%s\" (%s: batch "
		    "kept, will be sent again)", sh.socket_path,
		    strerror(saved_errno), ln->l_who);
}

/* link_ok - an ack came; end an outage */

static void
link_ok(struct link *ln)
{
	if (ln->l_outage)
		sw_notice(0, "daemon-reachable socket=%s (%s)", sh.socket_path,
		    ln->l_who);
	ln->l_outage = 0;
}

/*
 * take_work - wait for records, a stop, or a spool file to seal; detach
 * up to batch_max records.  *seal is set when the replay thread has
 * nothing to do and the active spool file holds records.
 */
static struct qitem *
take_work(size_t *n, int spooling, int *seal)
{
	struct qitem *first, *qi;
	struct timespec until;
	size_t	 i;

	*seal = 0;
	pthread_mutex_lock(&sh.lock);
	for (;;) {
		*seal = spooling && sh.replay_idle &&
		    spool_active_bytes(sh.spool) > 0;
		if (sh.count > 0 || sh.stopping || *seal)
			break;
		pthread_cond_wait(&sh.wake, &sh.lock);
	}
	if (*seal)
		sh.replay_idle = 0;	/* it has work again */
	if (sh.count == 0) {
		pthread_mutex_unlock(&sh.lock);
		*n = 0;
		return NULL;
	}

	/*
	 * Give a small batch a moment to grow: fewer, larger commits in the
	 * daemon are what make it fast.  The spool needs no such wait.
	 */
	if (!spooling && sh.count < sh.batch_max && sh.batch_delay_ms > 0 &&
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

/* give_back - put a batch that found no place back at the head */

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

/* free_batch - release items once they are safe */

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

/* batch_iov - the records of a batch as an iovec array */

static struct iovec *
batch_iov(struct qitem *batch, size_t n)
{
	struct iovec *v;
	size_t	 i;

	if ((v = calloc(n, sizeof *v)) == NULL)
		return NULL;
	for (i = 0; i < n && batch != NULL; i++, batch = batch->qi_next) {
		v[i].iov_base = batch->qi_data;
		v[i].iov_len = batch->qi_len;
	}
	return v;
}

/*
 * set_failing - records found no place (1) or found one again (0);
 * held is what the sender holds outside the queue.
 */
static void
set_failing(int failing, const char *why, size_t held)
{
	int	 was;
	size_t	 queued;

	pthread_mutex_lock(&sh.lock);
	was = sh.failing;
	sh.failing = failing;
	queued = sh.count + held;
	pthread_mutex_unlock(&sh.lock);
	if (failing && !was)
		sw_err(0, "store-failing action=%s queued=%zu error=\"%s\" "
		    "(%s)", sh.tempfail ? "tempfail" : "accept", queued, why,
		    sh.tempfail ? "SMTP stages answer 451 4.3.0 until the "
		    "spool or the daemon takes records again" : "mail is "
		    "accepted; records wait in memory and are lost once "
		    "queue_max_records is reached");
	else if (!failing && was)
		sw_notice(0, "store-recovered queued=%zu lost_total=%llu",
		    queued, (unsigned long long)shipper_lost_records());
}

/* sender_main - the sender thread */

static void *
sender_main(void *arg)
{
	struct link ln = { "sender", -1, 1, 0 };
	char	 err[512];
	long	 backoff_ms = 0;
	int	 spooling = sh.always, appended = 0;
	int64_t	 spool_since = 0;
	uint64_t spooled = 0;

	(void)arg;
	for (;;) {
		struct qitem *batch;
		struct iovec *v;
		size_t	 n;
		int	 seal, rc;

		batch = take_work(&n, spooling, &seal);
		if (seal) {
			if (spool_seal(sh.spool, err, sizeof err) < 0)
				sw_warn(0, "spool-seal error=\"%s\"", err);
			pthread_mutex_lock(&sh.lock);
			pthread_cond_signal(&sh.replay_wake);
			pthread_mutex_unlock(&sh.lock);
		}
		if (batch == NULL) {
			if (seal)
				continue;
			break;		/* stopping, and the queue is empty */
		}
		if ((v = batch_iov(batch, n)) == NULL) {
			give_back(batch, n);
			pause_ms(&sh.wake, BACKOFF_MIN_MS);
			continue;
		}

		/*
		 * Back to sending directly once everything spooled has been
		 * acknowledged and the queue is low again.
		 */
		if (spooling && !sh.always && appended &&
		    spool_files(sh.spool) == 0 &&
		    queue_count() < sh.high_water) {
			sw_notice(0, "spool-drained records=%llu after_ms=%lld "
			    "(sending directly again)",
			    (unsigned long long)spooled,
			    (long long)(sw_mono_us() - spool_since) / 1000);
			spooling = appended = 0;
			spooled = 0;
		}
		if (!spooling) {
			int	 saved;

			rc = queue_count() > sh.high_water ? 1 :
			    link_send(&ln, v, n, 1);
			saved = errno;
			if (rc == 0) {
				link_ok(&ln);
				set_failing(0, NULL, 0);
				free(v);
				free_batch(batch);
				continue;
			}
			link_close(&ln);
			link_failed(&ln, rc == 1, saved);
			ln.l_outage = 0;	/* the replay logs the outage */
			spooling = 1;
			spool_since = sw_mono_us();
			sw_notice(0, "spooling reason=\"%s\" queued=%zu",
			    rc == 1 ? "queue above queue_high_water" :
			    strerror(saved), queue_count() + n);
		}

		if (spool_append(sh.spool, v, n, err, sizeof err) == 0) {
			sw_debug(0, "spool-append records=%zu", n);
			appended = 1;
			spooled += n;
			set_failing(0, NULL, 0);
			backoff_ms = 0;
			free(v);
			free_batch(batch);
			continue;
		}
		set_failing(1, err, n);

		/*
		 * The spool cannot take it.  With nothing older on disk the
		 * daemon may take it directly, order kept.
		 */
		if (spool_files(sh.spool) == 0 &&
		    link_send(&ln, v, n, 0) == 0) {
			link_ok(&ln);
			set_failing(0, NULL, 0);
			if (!sh.always)
				spooling = appended = 0;
			free(v);
			free_batch(batch);
			continue;
		}
		free(v);
		give_back(batch, n);
		if (stop_passed())
			break;
		backoff_ms = next_backoff(backoff_ms);
		pause_ms(&sh.wake, backoff_ms);
	}
	if (spool_seal(sh.spool, err, sizeof err) < 0)
		sw_warn(0, "spool-seal error=\"%s\"", err);
	link_close(&ln);
	return NULL;
}

/* Replay progress: where a file stopped last time, so a retry goes on. */
struct progress {
	char	 name[SPOOL_NAME_LEN + 1];
	off_t	 done;		/* frames before this are acknowledged */
};

/*
 * replay_send - send what is collected; 0 acknowledged, -1 not.  The
 * progress moves past the batch on success.
 */
static int
replay_send(struct link *ln, struct iovec *v, size_t *n, off_t end,
    struct progress *pg, uint64_t *nrec)
{
	int	 saved;

	if (*n == 0)
		return 0;
	if (link_send(ln, v, *n, 0) != 0) {
		saved = errno;
		link_failed(ln, 0, saved);
		return -1;
	}
	link_ok(ln);
	*nrec += *n;
	*n = 0;
	pg->done = end;
	return 0;
}

/*
 * replay_file - send one complete spool file in batches and remove it.
 * 0 done (or set aside), -1 the daemon did not take it (try later).
 */
static int
replay_file(struct link *ln, const char *name, struct progress *pg)
{
	struct spool_reader *r;
	struct spool_frame f;
	struct iovec *v;
	char	 err[512];
	uint64_t instance = 0, nrec = 0;
	size_t	 n = 0, bytes = 0, nbad = 0;
	int	 rc = 0;

	if (strcmp(pg->name, name) != 0) {
		snprintf(pg->name, sizeof pg->name, "%s", name);
		pg->done = 0;
	}
	(void)spool_name_parse(name, NULL, &instance, NULL);
	if ((r = spool_reader_open(sh.spool, name, err, sizeof err)) == NULL) {
		sw_err(0, "spool-unreadable file=%s error=\"%s\" (set aside "
		    "as %s.bad)", name, err, name);
		if (spool_set_aside(sh.spool, name, err, sizeof err) < 0) {
			sw_err(0, "spool-unreadable file=%s error=\"%s\"", name,
			    err);
			return -1;
		}
		return 0;
	}
	if ((v = calloc(sh.batch_max, sizeof *v)) == NULL) {
		spool_reader_close(r);
		return -1;
	}
	sw_debug(0, "spool-replay file=%s instance=%016llx bytes=%lld "
	    "from=%lld", name, (unsigned long long)instance,
	    (long long)spool_reader_size(r), (long long)pg->done);
	while (spool_reader_next(r, &f) == 1) {
		if (f.sf_offset < pg->done)
			continue;	/* acknowledged before */
		if (f.sf_type == SPOOL_BAD) {
			nbad++;
			sw_warn(0, "spool-corrupt file=%s offset=%lld "
			    "length=%zu reason=\"%s\" (skipped; the frames "
			    "around it are replayed)", name,
			    (long long)f.sf_offset, f.sf_size, f.sf_why);
			continue;
		}
		if (n == sh.batch_max || (n > 0 && bytes + f.sf_len >
		    REPLAY_BATCH_BYTES)) {
			if ((rc = replay_send(ln, v, &n, f.sf_offset, pg,
			    &nrec)) < 0)
				goto out;
			bytes = 0;
		}
		v[n].iov_base = (void *)f.sf_data;
		v[n].iov_len = f.sf_len;
		n++;
		bytes += f.sf_len;
	}
	if ((rc = replay_send(ln, v, &n, spool_reader_size(r), pg,
	    &nrec)) < 0)
		goto out;
	if (spool_remove(sh.spool, name, err, sizeof err) < 0) {
		sw_err(0, "spool-remove error=\"%s\"", err);
		rc = -1;
		goto out;
	}
	pg->name[0] = '\0';
	sw_info(0, "spool-replayed file=%s instance=%016llx records=%llu "
	    "bad_frames=%zu spool_files=%zu", name,
	    (unsigned long long)instance, (unsigned long long)nrec, nbad,
	    spool_files(sh.spool));
out:
	free(v);
	spool_reader_close(r);
	return rc;
}

/* replay_main - the replay thread: spool files to the daemon */

static void *
replay_main(void *arg)
{
	struct link ln = { "replay", -1, 1, 0 };
	struct progress pg;
	char	 err[512];
	long	 backoff_ms = 0;
	int	 list_failed = 0;

	(void)arg;
	memset(&pg, 0, sizeof pg);
	for (;;) {
		struct timespec until;
		char	**names;
		size_t	 n, i;
		int	 rc = 0;

		if (spool_list(sh.spool, &names, &n, err, sizeof err) < 0) {
			if (!list_failed)
				sw_err(0, "spool-list error=\"%s\"", err);
			list_failed = 1;
			n = 0;
			names = NULL;
		} else
			list_failed = 0;
		if (n == 0) {
			pthread_mutex_lock(&sh.lock);
			if (sh.sender_done) {
				pthread_mutex_unlock(&sh.lock);
				break;
			}
			sh.replay_idle = 1;
			pthread_cond_signal(&sh.wake);
			/* Woken by a sealed file; the timeout: a safety net */
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			pthread_cond_timedwait(&sh.replay_wake, &sh.lock,
			    &until);
			pthread_mutex_unlock(&sh.lock);
			continue;
		}
		pthread_mutex_lock(&sh.lock);
		sh.replay_idle = 0;
		pthread_mutex_unlock(&sh.lock);
		for (i = 0; i < n && rc == 0; i++) {
			rc = replay_file(&ln, names[i], &pg);
			if (rc == 0)
				backoff_ms = 0;
		}
		spool_list_free(names, n);
		if (rc == 0)
			continue;

		/* While stopping, a daemon that fails is not waited for. */
		if (is_stopping())
			break;
		backoff_ms = next_backoff(backoff_ms);
		pause_ms(&sh.replay_wake, backoff_ms);
	}
	link_close(&ln);
	return NULL;
}
