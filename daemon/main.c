/*
 * main.c - smtpwardend: receives transcript batches from milters on a
 * unix socket and stores them in SQLite through store.c.
 *
 * One thread does everything, so one thread owns the SQLite connection:
 * poll() waits for clients; every complete batch that has arrived is
 * decoded and stored inside one SQLite transaction, and so is every
 * batch that is waiting by the time that is done, up to
 * commit_max_records records and commit_interval_ms; after the commit
 * each batch is acknowledged to its sender.  Many batches thus share
 * one commit under load, and a lone batch is committed at once.
 *
 * Peers are checked with SO_PEERCRED: root, our own user, or a member
 * of the configured group (by primary gid) may send.
 *
 * DIAGNOSTICS: a bad configuration exits 78 (EX_CONFIG); a database that
 * cannot be opened exits 73 (EX_CANTCREAT).  A frame that is too large
 * or does not decode closes that connection with one warning; other
 * clients go on.  A store that is busy (an auditor's write lock) or
 * failing (disk full) is retried with back-off and logged as
 * store-busy or store-failed, then store-recovered; nothing is
 * acknowledged meanwhile, so the milters keep (and spool) their
 * records.  SIGTERM: accept no one, store and acknowledge what has
 * fully arrived, close the database, exit 0.
 * BUGS: none known.
 */

#include "config.h"
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "store.h"
#include "sw_cli.h"
#include "sw_config.h"
#include "sw_log.h"
#include "sw_record.h"
#include "sw_util.h"

#define EX_UNAVAILABLE	69
#define EX_OSERR	71
#define EX_CANTCREAT	73

#define MAX_CLIENTS	128		/* milter processes, not sessions */

struct client {
	int	 fd;
	uid_t	 uid;
	char	*buf;			/* bytes received, not yet framed */
	size_t	 len;
	size_t	 cap;
	uint64_t *acks;			/* batches stored, awaiting commit */
	size_t	 nacks;
	size_t	 ackcap;
};

static volatile sig_atomic_t stop_requested;
static struct client clients[MAX_CLIENTS];
static size_t	nclients;
static uid_t	own_uid;
static gid_t	allowed_gid;
static uint64_t	stat_records, stat_duplicates, stat_batches, stat_commits;
/* commit_max_records and commit_interval_ms (serve_round). */
static long	commit_max_records = 5000;
static int64_t	commit_interval_us = 50000;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* listen_unix - bind the daemon socket with its mode and owner */

static int
listen_unix(const struct sw_config *cfg, uid_t uid, gid_t gid)
{
	struct sockaddr_un sun;
	char	 err[512];
	int	 fd;
	mode_t	 old;

	if (sw_unix_socket_prepare(cfg->c_daemon_socket, err,
	    sizeof err) < 0)
		sw_fatal(EX_UNAVAILABLE, "start error=\"%s\"", err);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(cfg->c_daemon_socket) >= sizeof sun.sun_path)
		sw_fatal(SW_EX_CONFIG, "start error=\"daemon_socket path too "
		    "long\"");
	memcpy(sun.sun_path, cfg->c_daemon_socket,
	    strlen(cfg->c_daemon_socket));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		sw_fatal(EX_OSERR, "start error=\"socket: %s\"",
		    strerror(errno));
	old = umask(0777 & ~cfg->c_daemon_socket_mode);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
		sw_fatal(EX_UNAVAILABLE, "start error=\"bind %s: %s\"",
		    cfg->c_daemon_socket, strerror(errno));
	umask(old);
	if (geteuid() == 0 && chown(cfg->c_daemon_socket, uid, gid) < 0)
		sw_fatal(EX_OSERR, "start error=\"chown %s: %s\"",
		    cfg->c_daemon_socket, strerror(errno));
	if (chmod(cfg->c_daemon_socket, cfg->c_daemon_socket_mode) < 0)
		sw_fatal(EX_OSERR, "start error=\"chmod %s: %s\"",
		    cfg->c_daemon_socket, strerror(errno));
	if (listen(fd, 64) < 0)
		sw_fatal(EX_OSERR, "start error=\"listen: %s\"",
		    strerror(errno));
	return fd;
}

/*
 * check_private - warn when others may read the database or its
 * directory: transcripts hold addresses, headers and AUTH names.  The
 * packages make the directory 0750; the file is created 0640.
 */
static void
check_private(const char *db)
{
	struct stat st;
	char	 dir[4096];
	char	*slash;

	if (strlen(db) >= sizeof dir)
		return;
	memcpy(dir, db, strlen(db) + 1);
	if ((slash = strrchr(dir, '/')) == NULL)
		memcpy(dir, ".", 2);
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) == 0 && (st.st_mode & S_IRWXO) != 0)
		sw_warn(0, "start warning=\"database directory %s has mode "
		    "0%03o: others can reach the transcripts; make it 0750\"",
		    dir, (unsigned)(st.st_mode & 07777));
	if (stat(db, &st) == 0 && (st.st_mode & S_IRWXO) != 0)
		sw_warn(0, "start warning=\"database %s has mode 0%03o: "
		    "others can read the transcripts; make it 0640\"", db,
		    (unsigned)(st.st_mode & 07777));
}

/* client_drop - close one client; its unacknowledged batches return */

static void
client_drop(size_t i, const char *why)
{
	struct client *c = &clients[i];

	if (why != NULL)
		sw_warn(0, "client-closed uid=%ld reason=\"%s\"", (long)c->uid,
		    why);
	close(c->fd);
	free(c->buf);
	free(c->acks);
	clients[i] = clients[--nclients];
	memset(&clients[nclients], 0, sizeof clients[nclients]);
}

/* client_accept - take a connection if its peer may send to us */

static void
client_accept(int lfd)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	int	 fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		sw_warn(0, "client-refused reason=\"no peer credentials\"");
		close(fd);
		return;
	}
	if (cred.uid != 0 && cred.uid != own_uid && cred.gid != allowed_gid) {
		sw_warn(0, "client-refused pid=%ld uid=%ld gid=%ld reason=\"not"
		    " root, our user or our group\"", (long)cred.pid,
		    (long)cred.uid, (long)cred.gid);
		close(fd);
		return;
	}
	if (nclients == MAX_CLIENTS) {
		sw_warn(0, "client-refused reason=\"too many clients\"");
		close(fd);
		return;
	}
	clients[nclients].fd = fd;
	clients[nclients].uid = cred.uid;
	nclients++;
	sw_debug(0, "client-accepted pid=%ld uid=%ld", (long)cred.pid,
	    (long)cred.uid);
}

/* store_batch - decode one batch and store its records; -1 bad frame */

static int
store_batch(struct store *st, struct client *c, const char *data,
    size_t len, int *store_failed)
{
	msgpack_unpacked msg;
	const msgpack_object *a;
	struct sw_record r;
	uint64_t batch_id;
	size_t	 i;
	int	 rc = -1;

	msgpack_unpacked_init(&msg);
	sw_record_init(&r);
	if (msgpack_unpack_next(&msg, data, len, NULL) !=
	    MSGPACK_UNPACK_SUCCESS || msg.data.type != MSGPACK_OBJECT_ARRAY ||
	    msg.data.via.array.size != 3)
		goto out;
	a = msg.data.via.array.ptr;
	if (a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    a[0].via.u64 != SW_RECORD_VERSION ||
	    a[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    a[2].type != MSGPACK_OBJECT_ARRAY)
		goto out;
	batch_id = a[1].via.u64;
	for (i = 0; i < a[2].via.array.size && !*store_failed; i++) {
		const char *why;
		int	 put;

		if (sw_record_unpack(&a[2].via.array.ptr[i], &r, &why) < 0) {
			/* One bad record must not hold up the rest. */
			sw_err(0, "record-rejected batch=%llu index=%zu "
			    "reason=\"%s\"", (unsigned long long)batch_id, i,
			    why);
			continue;
		}
		if ((put = store_put(st, &r)) < 0)
			*store_failed = 1;
		else if (put == 1)
			stat_duplicates++;
		else
			stat_records++;
	}
	if (c->nacks == c->ackcap) {
		size_t	 ncap = c->ackcap ? c->ackcap * 2 : 8;
		uint64_t *n = reallocarray(c->acks, ncap, sizeof *n);

		if (n == NULL) {
			*store_failed = 1;
			rc = 0;
			goto out;
		}
		c->acks = n;
		c->ackcap = ncap;
	}
	c->acks[c->nacks++] = batch_id;
	stat_batches++;
	rc = 0;
out:
	sw_record_free(&r);
	msgpack_unpacked_destroy(&msg);
	return rc;
}

/*
 * client_read - take what the socket has and store every complete
 * frame.  Returns -1 when the client must be dropped.
 */
static int
client_read(struct store *st, size_t ci, int *store_failed,
    const char **why)
{
	struct client *c = &clients[ci];
	ssize_t	 n;
	size_t	 off = 0;

	if (c->cap - c->len < 65536) {
		size_t	 ncap = c->cap ? c->cap * 2 : 262144;
		char	*nb;

		if (ncap > SW_FRAME_MAX + 4 + 65536)
			ncap = SW_FRAME_MAX + 4 + 65536;
		if (ncap > c->cap) {
			if ((nb = realloc(c->buf, ncap)) == NULL) {
				*why = "out of memory";
				return -1;
			}
			c->buf = nb;
			c->cap = ncap;
		}
	}
	n = read(c->fd, c->buf + c->len, c->cap - c->len);
	if (n == 0) {
		*why = NULL;	/* an ordinary goodbye */
		return -1;
	}
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		*why = strerror(errno);
		return -1;
	}
	c->len += n;
	while (c->len - off >= 4) {
		uint32_t flen;

		memcpy(&flen, c->buf + off, 4);
		flen = ntohl(flen);
		if (flen == 0 || flen > SW_FRAME_MAX) {
			*why = "frame length out of bounds";
			return -1;
		}
		if (c->len - off - 4 < flen)
			break;
		if (store_batch(st, c, c->buf + off + 4, flen,
		    store_failed) < 0) {
			*why = "batch does not decode";
			return -1;
		}
		off += 4 + flen;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
	return 0;
}

/* send_acks - after a commit, tell every sender its batches are safe */

static void
send_acks(void)
{
	size_t	 i, j;

	for (i = 0; i < nclients; i++) {
		struct client *c = &clients[i];
		int	 failed = 0;

		for (j = 0; j < c->nacks && !failed; j++) {
			msgpack_sbuffer sb;

			msgpack_sbuffer_init(&sb);
			if (sw_ack_pack(&sb, c->acks[j], 0) < 0 ||
			    sw_frame_write(c->fd, sb.data, sb.size) < 0)
				failed = 1;
			msgpack_sbuffer_destroy(&sb);
		}
		c->nacks = 0;
		if (failed) {
			/* Stored already; the milter will resend, harmlessly. */
			client_drop(i, "cannot send ack");
			i--;
		}
	}
}

/* forget_acks - a rolled-back group is not acknowledged to anyone */

static void
forget_acks(void)
{
	size_t	 i;

	/*
	 * The senders wait for acks that will not come; closing them makes
	 * them reconnect and resend, which is what we need.
	 */
	for (i = nclients; i > 0; i--)
		if (clients[i - 1].nacks > 0)
			client_drop(i - 1, "store failed, batch not "
			    "acknowledged");
}

/* Back-off while the store fails: first pause, largest pause. */
#define STORE_BACKOFF_MIN_MS	100
#define STORE_BACKOFF_MAX_MS	2000
/* Between two log lines about the same store trouble. */
#define STORE_LOG_EVERY_US	5000000

/* What the store's trouble has been since the last success. */
struct trouble {
	unsigned long	 attempts;
	long		 backoff_ms;
	int64_t		 since;		/* first failure, monotonic */
	int64_t		 logged;	/* last log line, monotonic */
};

/*
 * store_trouble - a begin or commit failed: say so (not on every
 * attempt), then pause before the next one.  Nothing was acknowledged;
 * the senders keep their batches.
 */
static void
store_trouble(struct store *st, struct trouble *t, const char *what)
{
	int64_t	 now = sw_mono_us();

	if (t->attempts++ == 0)
		t->since = now;
	t->backoff_ms = t->backoff_ms ? t->backoff_ms * 2 :
	    STORE_BACKOFF_MIN_MS;
	if (t->backoff_ms > STORE_BACKOFF_MAX_MS)
		t->backoff_ms = STORE_BACKOFF_MAX_MS;
	if (t->attempts == 1 || now - t->logged >= STORE_LOG_EVERY_US) {
		sw_warn(0, "%s %s error=\"%s\" attempt=%lu retry_in_ms=%ld "
		    "(nothing acknowledged; the milters keep their records)",
		    store_busy(st) ? "store-busy" : "store-failed", what,
		    store_errmsg(st), t->attempts, t->backoff_ms);
		t->logged = now;
	}
	/* A signal cuts the pause short; the loop then sees the stop. */
	if (!stop_requested)
		usleep((useconds_t)t->backoff_ms * 1000);
}

/* store_ok - a commit went through; end a period of trouble */

static void
store_ok(struct trouble *t)
{
	if (t->attempts > 0)
		sw_notice(0, "store-recovered attempts=%lu after_ms=%lld",
		    t->attempts, (long long)(sw_mono_us() - t->since) / 1000);
	memset(t, 0, sizeof *t);
}

/*
 * read_ready - store every complete batch the clients marked ready in
 * pfd (pfd[i + 1] is clients[i]) have sent, beginning the transaction
 * at the first one.  Returns -1 when it cannot begin; the data wait in
 * the sockets meanwhile.
 */
static int
read_ready(struct store *st, struct pollfd *pfd, size_t n, int *in_txn,
    int *store_failed, struct trouble *t)
{
	size_t	 i;

	for (i = n; i > 0; i--) {
		const char *why = NULL;

		if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (!*in_txn) {
			if (store_begin(st) < 0) {
				store_trouble(st, t, "begin");
				return -1;
			}
			*in_txn = 1;
		}
		/*
		 * A client that leaves takes its pending acks with it; what
		 * it sent is still committed, and a resend after it
		 * reconnects is skipped as a duplicate.  Dropping swaps the
		 * last client into slot i - 1, which was read already.
		 */
		if (client_read(st, i - 1, store_failed, &why) < 0)
			client_drop(i - 1, why);
	}
	return 0;
}

/* poll_clients - which clients have something to read, at once */

static int
poll_clients(struct pollfd *pfd)
{
	size_t	 i;

	pfd[0].fd = -1;		/* no one is accepted in the middle */
	for (i = 0; i < nclients; i++) {
		pfd[i + 1].fd = clients[i].fd;
		pfd[i + 1].events = POLLIN;
		pfd[i + 1].revents = 0;
	}
	return poll(pfd, nclients + 1, 0);
}

/*
 * serve_round - wait up to timeout_ms for clients; store every complete
 * batch that has arrived inside one transaction, and whatever more
 * arrives meanwhile (group commit, bounded by commit_max_records and
 * commit_interval_ms); after the commit, acknowledge them.  lfd < 0:
 * accept no one.
 */
static void
serve_round(struct store *st, int lfd, int timeout_ms, struct trouble *t)
{
	struct pollfd pfd[MAX_CLIENTS + 1];
	size_t	 i, n = nclients;
	uint64_t first = stat_records + stat_duplicates;
	int64_t	 began;
	int	 in_txn = 0, store_failed = 0, rc, accept_ready;

	pfd[0].fd = lfd;
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	for (i = 0; i < n; i++) {
		pfd[i + 1].fd = clients[i].fd;
		pfd[i + 1].events = POLLIN;
	}
	rc = poll(pfd, n + 1, timeout_ms);
	if (rc < 0) {
		if (errno == EINTR)
			return;
		sw_fatal(EX_OSERR, "poll: %s", strerror(errno));
	}
	if (rc == 0)
		return;
	accept_ready = lfd >= 0 && (pfd[0].revents & POLLIN);
	began = sw_mono_us();

	/* Read every client that is ready, inside one transaction. */
	if (read_ready(st, pfd, n, &in_txn, &store_failed, t) < 0)
		return;

	/*
	 * Batches that are already waiting join the group: one commit
	 * then serves several senders.  Nothing waits for data that has
	 * not come, since every sender is waiting for its ack.
	 */
	while (in_txn && !store_failed && !stop_requested &&
	    stat_records + stat_duplicates - first <
	    (uint64_t)commit_max_records &&
	    sw_mono_us() - began < commit_interval_us &&
	    poll_clients(pfd) > 0)
		(void)read_ready(st, pfd, nclients, &in_txn, &store_failed,
		    t);

	if (in_txn) {
		if (!store_failed && store_commit(st) == 0) {
			stat_commits++;
			send_acks();
			store_ok(t);
		} else {
			store_trouble(st, t, store_failed ? "insert" :
			    "commit");
			store_rollback(st);
			forget_acks();
		}
	}
	if (accept_ready)
		client_accept(lfd);
}

/*
 * serve - the main loop, until SIGTERM.  Then accept no one, store and
 * acknowledge what has fully arrived, and return: a batch still on its
 * way is not acknowledged, so its milter sends it again to the next
 * daemon.
 */
static void
serve(struct store *st, int lfd)
{
	struct trouble t;

	memset(&t, 0, sizeof t);
	while (!stop_requested)
		serve_round(st, lfd, 500, &t);
	serve_round(st, -1, 0, &t);
}

int
main(int argc, char **argv)
{
	struct sw_config cfg;
	struct sigaction sa;
	struct store *st;
	char	 err[4096];
	uid_t	 uid;
	gid_t	 gid;
	struct sw_cli cli;
	int	 foreground, lfd;

	sw_cli_start(&cli, "smtpwardend", argc, argv, &cfg);
	if (cli.cl_check)
		return 0;
	uid = cli.cl_uid;
	gid = cli.cl_gid;
	foreground = cli.cl_foreground;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/*
	 * XXX reload: the daemon reads its configuration only at start, so
	 * a SIGHUP (systemctl reload) must not end it; it is ignored.
	 */
	sigaction(SIGHUP, &sa, NULL);

	lfd = listen_unix(&cfg, uid, gid);
	if (sw_drop_privileges(uid, gid, err, sizeof err) < 0)
		sw_fatal(EX_OSERR, "start error=\"%s\"", err);
	own_uid = geteuid();
	allowed_gid = gid;
	commit_max_records = cfg.c_commit_max_records;
	commit_interval_us = (int64_t)cfg.c_commit_interval_ms * 1000;
	umask(027);		/* database 0640: the group may read it */
	check_private(cfg.c_database);

	if ((st = store_open(cfg.c_database, cfg.c_busy_timeout_ms, err,
	    sizeof err)) == NULL)
		sw_fatal(EX_CANTCREAT, "start error=\"%s\"", err);
	if (!foreground && daemon(0, 0) < 0)
		sw_fatal(EX_OSERR, "start error=\"daemon: %s\"",
		    strerror(errno));
	sw_info(0, "start version=%s socket=%s database=%s uid=%ld",
	    PACKAGE_VERSION, cfg.c_daemon_socket, cfg.c_database,
	    (long)geteuid());

	serve(st, lfd);

	while (nclients > 0)
		client_drop(nclients - 1, NULL);
	close(lfd);
	unlink(cfg.c_daemon_socket);
	store_close(st);
	sw_info(0, "stop records=%llu duplicates=%llu batches=%llu "
	    "commits=%llu", (unsigned long long)stat_records,
	    (unsigned long long)stat_duplicates,
	    (unsigned long long)stat_batches,
	    (unsigned long long)stat_commits);
	sw_config_free(&cfg);
	return 0;
}
