/*
 * bench_ingest.c - how fast smtpwardend stores transcript records, next
 * to the limit of the store itself.  Not a test: it prints figures
 * (make -C tests/bench bench, or contrib/bench/run ingest).
 *
 * Two measurements in one run, on the same synthetic records:
 *
 *   daemon   a real smtpwardend started on a private configuration; a
 *            client that behaves as the milter's sender thread packs
 *            the records into batches (sw_record_pack, sw_batch_begin),
 *            sends one frame over the unix socket and waits for its
 *            ack before sending the next;
 *   bare     a loop of prepared inserts into a second database made
 *            from sql/schema.sql, with the daemon's pragmas (WAL,
 *            synchronous = FULL): per record one events row (and a
 *            sessions row for a session's first record, which the
 *            foreign key needs), committed every batch-size records.
 *
 * The records are those of a message through Postfix: connect, HELO,
 * MAIL with two ESMTP parameters, one RCPT, DATA, eight headers, end
 * of headers, body summary, end of message and close, 17 per session.
 * Everything is encoded before the clock starts, so the figures are
 * the daemon's and the store's, not the generator's.
 *
 * usage: bench_ingest [-kt] [-n records] [-b batch] [-c senders]
 *            [-r rounds] [-d smtpwardend] [-s schema.sql]
 *
 * -c runs that many senders at once (milter processes, or a milter's
 * sender and replay threads), each with its own share of the records;
 * the bare loop stays one.  -t numbers the sessions in time order
 * instead of spreading their ids over the key space as random ids are:
 * it shows what the random keys of the schema's session indexes cost.
 * -k keeps the work directory.
 *
 * Each round runs both, the daemon first, each into a new database;
 * the medians are printed, as records per second of wall clock (what
 * the milter sees) and per CPU second (steadier on a busy machine).
 *
 * DIAGNOSTICS: exits 1 with a message when the daemon does not start,
 * a batch is not acknowledged, SQLite fails, or either database ends
 * with a different number of events than was sent.
 * BUGS: the bare loop skips what the daemon stores besides events and
 * sessions (transactions, recipients, headers), on purpose: it is the
 * floor the daemon is compared with, not a second implementation.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>
#include <sqlite3.h>

#include "sw_record.h"
#include "sw_util.h"

/* Defaults: the milter's batch_max_records, and a run of a few s. */
#define DEF_RECORDS	170000
#define DEF_BATCH	1000
#define DEF_ROUNDS	3
#define MAX_ROUNDS	15
#define MAX_CLIENTS	32		/* the daemon takes 128 */
#define PER_SESSION	17
#define N_HEADERS	8
#define START_WAIT_MS	10000		/* for the daemon's socket */

#ifndef BENCH_DAEMON
#define BENCH_DAEMON	"../../daemon/smtpwardend"
#endif
#ifndef BENCH_SCHEMA
#define BENCH_SCHEMA	"../../sql/schema.sql"
#endif

/* One row of the bare loop, made with the record it stands for. */
struct row {
	uint64_t	 rw_session;
	uint32_t	 rw_seq;
	uint32_t	 rw_txn;
	int64_t		 rw_time_us;
	uint8_t		 rw_stage;
	char		*rw_arg;	/* main argument, NULL if none */
	char		*rw_text;	/* readable line */
};

/* The synthetic records: packed back to back, and their rows. */
struct synth {
	msgpack_sbuffer	 sy_buf;
	size_t		*sy_off;	/* n + 1 offsets into sy_buf */
	struct row	*sy_rows;
	size_t		 sy_n;
	uint64_t	 sy_instance;
	int		 sy_ordered;	/* -t: session ids in time order */
};

static void	 die(const char *, ...) __attribute__((format(printf, 1, 2),
		    noreturn));
static double	 now_s(void);
static double	 cpu_s(pid_t);

static void	 gen_record(struct synth *, size_t, struct sw_record *,
		    char *, size_t, char *, size_t);
static void	 gen_all(struct synth *, size_t);

static pid_t	 daemon_start(const char *, const char *, const char *,
		    int);
static int	 daemon_connect(const char *);
static void	 daemon_stop(pid_t);
static double	 run_daemon(const struct synth *, size_t, size_t, size_t,
		    int);
static double	 run_clients(const struct synth *, size_t, int,
		    const char *);

static void	 remove_dir(const char *, int);

static sqlite3	*db_open(const char *, const char *);
static long long db_events(const char *);
static double	 run_bare(const struct synth *, size_t, const char *,
		    const char *);

/* die - print a message and exit 1 */

static void
die(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fputs("bench_ingest: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* now_s - monotonic seconds */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* cpu_s - user plus system CPU seconds of a process, from /proc */

static double
cpu_s(pid_t pid)
{
	char	 path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE	*fp;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof buf, fp) == NULL) {
		fclose(fp);
		return -1;
	}
	fclose(fp);
	/* Fields 14 and 15, counted after the ")" that ends the name. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

/* Header names and values of the synthetic message. */
static const char *const hdr_names[N_HEADERS] = {
	"Received", "From", "To", "Subject", "Date", "Message-Id",
	"MIME-Version", "Content-Type",
};

/*
 * gen_record - record i (session i / PER_SESSION, event i %
 * PER_SESSION) into r, its readable line into text and its main
 * argument into arg.  r points into scratch, valid until the next call.
 */
static void
gen_record(struct synth *sy, size_t i, struct sw_record *r, char *text,
    size_t textsize, char *arg, size_t argsize)
{
	static char scratch[4][256], qid[32], path[128], size[24];
	uint64_t sess = i / PER_SESSION;
	unsigned j = (unsigned)(i % PER_SESSION);
	unsigned port = 1024 + (unsigned)(sess % 60000);

	sw_record_clear(r);
	r->r_instance = sy->sy_instance;
	/* Spread over the key space, as random ids are, unless -t. */
	r->r_session = sy->sy_ordered ? sy->sy_instance + sess :
	    (sess + 1) * 0x9E3779B97F4A7C15ull;
	r->r_seq = j + 1;
	r->r_time_us = 1780000000000000ll + (int64_t)i * 50;
	r->r_txn = (j >= 2 && j <= 14) ? 1 : 0;
	arg[0] = '\0';
	snprintf(qid, sizeof qid, "%05llX%06llX",
	    (unsigned long long)(sess % 0xFFFFF),
	    (unsigned long long)(sess * 7919 % 0xFFFFFF));
	if (j == 0) {
		r->r_stage = SW_STAGE_CONNECT;
		sw_record_add_str(r, SW_K_CLIENT_HOST, "mx2.client.example");
		sw_record_add_str(r, SW_K_CLIENT_FAMILY, "inet");
		sw_record_add_str(r, SW_K_CLIENT_ADDR, "198.51.100.23");
		sw_record_add_int(r, SW_K_CLIENT_PORT, port);
		sw_record_add_str(r, SW_K_CLIENT_NAME, "mx2.client.example");
		sw_record_add_str(r, SW_K_CLIENT_PTR, "mx2.client.example");
		sw_record_add_str(r, SW_K_DAEMON_NAME, "smtpd");
		sw_record_add_str(r, SW_K_DAEMON_ADDR, "192.0.2.25");
		sw_record_add_str(r, SW_K_MTA_NAME, "mail.example.net");
		sw_record_add_str(r, SW_K_MTA_VERSION, "Postfix 3.7.11");
		snprintf(arg, argsize, "mx2.client.example");
		snprintf(text, textsize, "connect from mx2.client.example"
		    "[198.51.100.23]:%u family=inet ptr=mx2.client.example "
		    "daemon=smtpd", port);
	} else if (j == 1) {
		r->r_stage = SW_STAGE_HELO;
		sw_record_add_str(r, SW_K_HELO, "mx2.client.example");
		snprintf(arg, argsize, "mx2.client.example");
		snprintf(text, textsize, "HELO mx2.client.example");
	} else if (j == 2) {
		r->r_stage = SW_STAGE_MAIL;
		snprintf(path, sizeof path, "<news+%llu@lists.example.com>",
		    (unsigned long long)sess);
		snprintf(size, sizeof size, "%llu",
		    (unsigned long long)(4000 + sess % 30000));
		sw_record_add_str(r, SW_K_PATH, path);
		sw_record_add_str(r, SW_K_PARAM_KEY, "SIZE");
		sw_record_add_str(r, SW_K_PARAM_VALUE, size);
		sw_record_add_str(r, SW_K_PARAM_KEY, "BODY");
		sw_record_add_str(r, SW_K_PARAM_VALUE, "8BITMIME");
		sw_record_add_str(r, SW_K_MISSING_MACRO, "i");
		snprintf(arg, argsize, "%s SIZE=%s BODY=8BITMIME", path, size);
		snprintf(text, textsize, "MAIL FROM:%s", arg);
	} else if (j == 3) {
		r->r_stage = SW_STAGE_RCPT;
		snprintf(path, sizeof path, "<user%llu@example.net>",
		    (unsigned long long)(sess % 5000));
		sw_record_add_str(r, SW_K_PATH, path);
		sw_record_add_int(r, SW_K_RCPT_NO, 1);
		sw_record_add_str(r, SW_K_RCPT_MAILER, "smtp");
		sw_record_add_str(r, SW_K_RCPT_HOST, "example.net");
		sw_record_add_str(r, SW_K_RCPT_ADDR, path + 1);
		sw_record_add_int(r, SW_K_RCPT_ACCEPTED, 1);
		sw_record_add_str(r, SW_K_QUEUE_ID, qid);
		snprintf(arg, argsize, "%s", path);
		snprintf(text, textsize, "RCPT TO:%s", path);
	} else if (j == 4) {
		r->r_stage = SW_STAGE_DATA;
		sw_record_add_str(r, SW_K_QUEUE_ID, qid);
		snprintf(text, textsize, "DATA");
	} else if (j < 5 + N_HEADERS) {
		unsigned h = j - 5;
		const char *v = scratch[3];

		r->r_stage = SW_STAGE_HEADER;
		switch (h) {
		case 0:
			snprintf(scratch[3], sizeof scratch[3], " from "
			    "mx2.client.example (mx2.client.example "
			    "[198.51.100.23]) by relay.client.example with "
			    "ESMTPS id %s; Thu, 3 Dec 2026 10:00:00 +0000",
			    qid);
			break;
		case 1:
			v = " \"Example News\" <news@lists.example.com>";
			break;
		case 2:
			snprintf(scratch[3], sizeof scratch[3],
			    " <user%llu@example.net>",
			    (unsigned long long)(sess % 5000));
			break;
		case 3:
			snprintf(scratch[3], sizeof scratch[3], " Weekly "
			    "digest, issue %llu", (unsigned long long)sess);
			break;
		case 4:
			v = " Thu, 3 Dec 2026 10:00:00 +0000";
			break;
		case 5:
			snprintf(scratch[3], sizeof scratch[3], " <%s.%llu@"
			    "lists.example.com>", qid,
			    (unsigned long long)sess);
			break;
		case 6:
			v = " 1.0";
			break;
		default:
			v = " text/plain; charset=utf-8";
			break;
		}
		sw_record_add_int(r, SW_K_HEADER_POS, h + 1);
		sw_record_add_str(r, SW_K_HEADER_NAME, hdr_names[h]);
		sw_record_add_str(r, SW_K_HEADER_VALUE, v);
		sw_record_add_int(r, SW_K_HEADER_LEN, (int64_t)strlen(v));
		snprintf(arg, argsize, "%s", v);
		snprintf(text, textsize, "%s:%s", hdr_names[h], v);
	} else if (j == 5 + N_HEADERS) {
		r->r_stage = SW_STAGE_EOH;
		sw_record_add_str(r, SW_K_QUEUE_ID, qid);
		snprintf(text, textsize, "end of headers");
	} else if (j == 6 + N_HEADERS) {
		static const char sha[] = "bad2610e348cc81c05b1a55a3b3ff233"
		    "3c4cc78b00992e2fa9254cf0a61a55ae";

		r->r_stage = SW_STAGE_BODY;
		sw_record_add_int(r, SW_K_BODY_SIZE, 4000 + sess % 30000);
		sw_record_add_str(r, SW_K_BODY_SHA256, sha);
		sw_record_add_int(r, SW_K_BODY_CHUNKS, 1);
		snprintf(text, textsize, "body size=%llu sha256=%s chunks=1",
		    (unsigned long long)(4000 + sess % 30000), sha);
	} else if (j == 7 + N_HEADERS) {
		r->r_stage = SW_STAGE_EOM;
		r->r_txn = 1;
		sw_record_add_str(r, SW_K_QUEUE_ID, qid);
		sw_record_add_int(r, SW_K_N_RCPT, 1);
		snprintf(text, textsize, "end of message queue_id=%s",
		    qid);
	} else {
		r->r_stage = SW_STAGE_CLOSE;
		sw_record_add_str(r, SW_K_REASON, "closed after eom");
		sw_record_add_int(r, SW_K_DURATION_US, 41000);
		sw_record_add_int(r, SW_K_N_TXN, 1);
		sw_record_add_int(r, SW_K_N_MSG, 1);
		sw_record_add_int(r, SW_K_N_RCPT, 1);
		sw_record_add_int(r, SW_K_N_UNKNOWN, 0);
		snprintf(text, textsize, "close: closed after eom "
		    "transactions=1 messages=1 recipients=1");
	}
}

/* gen_all - encode n records and keep the rows of the bare loop */

static void
gen_all(struct synth *sy, size_t n)
{
	struct sw_record r;
	char	 text[512], arg[512];
	size_t	 i;

	msgpack_sbuffer_init(&sy->sy_buf);
	sy->sy_n = n;
	sy->sy_instance = sw_random_id();
	if ((sy->sy_off = calloc(n + 1, sizeof *sy->sy_off)) == NULL ||
	    (sy->sy_rows = calloc(n, sizeof *sy->sy_rows)) == NULL)
		die("out of memory");
	sw_record_init(&r);
	for (i = 0; i < n; i++) {
		struct row *rw = &sy->sy_rows[i];

		gen_record(sy, i, &r, text, sizeof text, arg, sizeof arg);
		sy->sy_off[i] = sy->sy_buf.size;
		if (sw_record_pack(&r, &sy->sy_buf) < 0)
			die("out of memory");
		rw->rw_session = r.r_session;
		rw->rw_seq = r.r_seq;
		rw->rw_txn = r.r_txn;
		rw->rw_time_us = r.r_time_us;
		rw->rw_stage = r.r_stage;
		rw->rw_text = strdup(text);
		rw->rw_arg = arg[0] != '\0' ? strdup(arg) : NULL;
		if (rw->rw_text == NULL || (arg[0] != '\0' && !rw->rw_arg))
			die("out of memory");
	}
	sy->sy_off[n] = sy->sy_buf.size;
	sw_record_free(&r);
}

/* daemon_start - write a configuration and start smtpwardend -f */

static pid_t
daemon_start(const char *bin, const char *dir, const char *sock, int round)
{
	char	 conf[4096], log[4096];
	struct passwd *pw;
	struct group *gr;
	FILE	*fp;
	pid_t	 pid;
	int	 fd;

	/* As root the daemon must drop to someone: nobody, then. */
	pw = getuid() == 0 ? getpwnam("nobody") : getpwuid(getuid());
	if (pw == NULL || (gr = getgrgid(pw->pw_gid)) == NULL)
		die("no user to run smtpwardend as");
	snprintf(conf, sizeof conf, "%s/db", dir);
	if (round == 1 && (mkdir(conf, 0750) < 0 || (getuid() == 0 &&
	    chown(conf, pw->pw_uid, pw->pw_gid) < 0)))
		die("%s: %s", conf, strerror(errno));

	/* A new database each round, so every round starts equal. */
	snprintf(conf, sizeof conf, "%s/smtpwarden.conf", dir);
	if ((fp = fopen(conf, "w")) == NULL)
		die("%s: %s", conf, strerror(errno));
	fprintf(fp, "# Written by bench_ingest.\n"
	    "daemon_socket = \"%s\"\ndatabase = \"%s/db/ingest-%d.db\"\n"
	    "milter_socket = \"unix:%s/milter.sock\"\n"
	    "spool_dir = \"%s\"\nuser = \"%s\"\ngroup = \"%s\"\n"
	    "log_level = \"info\"\n", sock, dir, round, dir, dir,
	    pw->pw_name, gr->gr_name);
	if (fclose(fp) != 0)
		die("%s: %s", conf, strerror(errno));

	snprintf(log, sizeof log, "%s/daemon.log", dir);
	if ((pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if ((fd = open("/dev/null", O_RDONLY)) >= 0)
			dup2(fd, 0);
		execl(bin, bin, "-f", "-c", conf, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	return pid;
}

/* daemon_connect - the daemon's socket, once it answers */

static int
daemon_connect(const char *sock)
{
	struct sockaddr_un sun;
	int	 fd, waited;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof sun.sun_path)
		die("%s: path too long for a socket", sock);
	memcpy(sun.sun_path, sock, strlen(sock));
	for (waited = 0; waited < START_WAIT_MS; waited += 50) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
			die("socket: %s", strerror(errno));
		if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
			return fd;
		close(fd);
		usleep(50000);
	}
	die("smtpwardend did not listen on %s within %d ms", sock,
	    START_WAIT_MS);
}

/* daemon_stop - SIGTERM and wait; it stores what it has, then exits */

static void
daemon_stop(pid_t pid)
{
	int	 status;

	kill(pid, SIGTERM);
	if (waitpid(pid, &status, 0) == pid &&
	    (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		fprintf(stderr, "bench_ingest: smtpwardend exited with status "
		    "0x%x\n", status);
}

/*
 * run_daemon - send records from to to in batches of batch, one batch
 * in flight, as the milter's sender does.  Returns the seconds from
 * the first byte sent to the last ack.
 */
static double
run_daemon(const struct synth *sy, size_t from, size_t to, size_t batch,
    int fd)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	double	 t0;
	size_t	 i, n;
	uint64_t id = 1;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	t0 = now_s();
	for (i = from; i < to; i += n, id++) {
		uint64_t acked;
		uint32_t flen;
		char	*ack;
		size_t	 alen;
		int	 status;

		n = to - i < batch ? to - i : batch;

		/* The length, the batch header, the packed records. */
		msgpack_sbuffer_clear(&sb);
		if (msgpack_sbuffer_write(&sb, "\0\0\0\0", 4) != 0 ||
		    sw_batch_begin(&pk, id, n) < 0 ||
		    msgpack_sbuffer_write(&sb, sy->sy_buf.data + sy->sy_off[i],
		    sy->sy_off[i + n] - sy->sy_off[i]) != 0)
			die("out of memory");
		flen = htonl((uint32_t)(sb.size - 4));
		memcpy(sb.data, &flen, 4);
		if (sw_write_all(fd, sb.data, sb.size) < 0)
			die("send batch %llu: %s", (unsigned long long)id,
			    strerror(errno));
		if (sw_frame_read(fd, &ack, &alen, 4096) != 0)
			die("no ack for batch %llu", (unsigned long long)id);
		if (sw_ack_unpack(ack, alen, &acked, &status) < 0 ||
		    acked != id || status != 0)
			die("bad ack for batch %llu", (unsigned long long)id);
		free(ack);
	}
	msgpack_sbuffer_destroy(&sb);
	return now_s() - t0;
}

/* remove_dir - the files this program made, then the directory */

static void
remove_dir(const char *dir, int rounds)
{
	static const char *const base[] = { "ingest", "bare" };
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char	 path[512];
	int	 b, x, round;

	for (round = 1; round <= rounds; round++)
		for (b = 0; b < 2; b++)
			for (x = 0; x < 3; x++) {
				snprintf(path, sizeof path, "%s/db/%s-%d.db%s",
				    dir, base[b], round, suffix[x]);
				(void)remove(path);
			}
	snprintf(path, sizeof path, "%s/db", dir);
	(void)rmdir(path);
	snprintf(path, sizeof path, "%s/smtpwarden.conf", dir);
	(void)remove(path);
	snprintf(path, sizeof path, "%s/daemon.log", dir);
	(void)remove(path);
	/* The daemon cannot remove it once it is no longer root. */
	snprintf(path, sizeof path, "%s/smtpwardend.sock", dir);
	(void)remove(path);
	if (rmdir(dir) < 0)
		fprintf(stderr, "bench_ingest: cannot remove %s: %s\n", dir,
		    strerror(errno));
}

/*
 * run_clients - nclients senders at once, each a process with its own
 * connection and an equal share of the records, released together.
 * Returns the seconds until the last one is done.
 */
static double
run_clients(const struct synth *sy, size_t batch, int nclients,
    const char *sock)
{
	pid_t	 pids[MAX_CLIENTS];
	double	 t0;
	char	 c;
	int	 go[2], i, status, failed = 0;

	if (pipe(go) < 0)
		die("pipe: %s", strerror(errno));
	for (i = 0; i < nclients; i++) {
		size_t	 from = sy->sy_n * i / nclients;
		size_t	 to = sy->sy_n * (i + 1) / nclients;

		if ((pids[i] = fork()) < 0)
			die("fork: %s", strerror(errno));
		if (pids[i] == 0) {
			int	 fd = daemon_connect(sock);

			close(go[1]);
			(void)read(go[0], &c, 1);	/* until released */
			(void)run_daemon(sy, from, to, batch, fd);
			_exit(0);
		}
	}
	/* Connected by now or soon; closing the pipe releases them all. */
	usleep(200000);
	close(go[0]);
	t0 = now_s();
	close(go[1]);
	for (i = 0; i < nclients; i++)
		if (waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed = 1;
	if (failed)
		die("a sender failed");
	return now_s() - t0;
}

/* db_open - a database with the daemon's pragmas; schema if given */

static sqlite3 *
db_open(const char *path, const char *schema_file)
{
	char	*sql = NULL, *emsg = NULL;
	sqlite3	*db;
	FILE	*fp;
	long	 len;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		die("%s: %s", path, sqlite3_errmsg(db));
	if (schema_file != NULL) {
		if ((fp = fopen(schema_file, "r")) == NULL)
			die("%s: %s", schema_file, strerror(errno));
		if (fseek(fp, 0, SEEK_END) < 0 || (len = ftell(fp)) < 0 ||
		    fseek(fp, 0, SEEK_SET) < 0 ||
		    (sql = calloc(1, (size_t)len + 1)) == NULL ||
		    fread(sql, 1, (size_t)len, fp) != (size_t)len)
			die("%s: cannot read", schema_file);
		fclose(fp);
		if (sqlite3_exec(db, "PRAGMA journal_mode = WAL;"
		    "PRAGMA synchronous = FULL;", NULL, NULL, &emsg) !=
		    SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, &emsg) !=
		    SQLITE_OK)
			die("%s: %s", path, emsg);
		free(sql);
	}
	return db;
}

/* db_events - rows in a database's events table */

static long long
db_events(const char *path)
{
	sqlite3	*db = db_open(path, NULL);
	sqlite3_stmt *q;
	long long n = -1;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM events", -1, &q,
	    NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

/* bare_step - run a bound statement and reset it, or die */

static void
bare_step(sqlite3 *db, sqlite3_stmt *s)
{
	if (sqlite3_step(s) != SQLITE_DONE)
		die("insert: %s", sqlite3_errmsg(db));
	sqlite3_reset(s);
}

/*
 * run_bare - the rows inserted with prepared statements, one
 * transaction per batch.  Returns the seconds it took.
 */
static double
run_bare(const struct synth *sy, size_t batch, const char *path,
    const char *schema_file)
{
	sqlite3	*db = db_open(path, schema_file);
	sqlite3_stmt *ev, *se;
	char	 inst[17], sess[17], utc[32];
	double	 t0, t;
	size_t	 i;

	/* The daemon's events statement, word for word (store.c). */
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO events "
	    "(instance_id, session_id, seq, time_us, time_utc, stage, txn_no,"
	    " arg, text, missing_macros, decision, rule) VALUES (?1, ?2, ?3,"
	    " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", -1, &ev, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO "
	    "sessions (session_id, instance_id, started_us, started_utc) "
	    "VALUES (?1, ?2, ?3, ?4)", -1, &se, NULL) != SQLITE_OK)
		die("prepare: %s", sqlite3_errmsg(db));
	sw_format_id(sy->sy_instance, inst);
	t0 = now_s();
	for (i = 0; i < sy->sy_n; i++) {
		const struct row *rw = &sy->sy_rows[i];

		if (i % batch == 0 && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL,
		    NULL, NULL) != SQLITE_OK)
			die("begin: %s", sqlite3_errmsg(db));
		sw_format_id(rw->rw_session, sess);
		sw_format_utc(rw->rw_time_us, utc, sizeof utc);
		if (rw->rw_seq == 1) {
			sqlite3_bind_text(se, 1, sess, -1, SQLITE_STATIC);
			sqlite3_bind_text(se, 2, inst, -1, SQLITE_STATIC);
			sqlite3_bind_int64(se, 3, rw->rw_time_us);
			sqlite3_bind_text(se, 4, utc, -1, SQLITE_STATIC);
			bare_step(db, se);
		}
		sqlite3_bind_text(ev, 1, inst, -1, SQLITE_STATIC);
		sqlite3_bind_text(ev, 2, sess, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ev, 3, rw->rw_seq);
		sqlite3_bind_int64(ev, 4, rw->rw_time_us);
		sqlite3_bind_text(ev, 5, utc, -1, SQLITE_STATIC);
		sqlite3_bind_text(ev, 6, sw_stage_name(rw->rw_stage), -1,
		    SQLITE_STATIC);
		if (rw->rw_txn > 0)
			sqlite3_bind_int64(ev, 7, rw->rw_txn);
		else
			sqlite3_bind_null(ev, 7);
		if (rw->rw_arg != NULL)
			sqlite3_bind_blob(ev, 8, rw->rw_arg,
			    (int)strlen(rw->rw_arg), SQLITE_STATIC);
		else
			sqlite3_bind_null(ev, 8);
		sqlite3_bind_text(ev, 9, rw->rw_text, -1, SQLITE_STATIC);
		bare_step(db, ev);
		if ((i + 1) % batch == 0 || i + 1 == sy->sy_n) {
			if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) !=
			    SQLITE_OK)
				die("commit: %s", sqlite3_errmsg(db));
		}
	}
	t = now_s() - t0;
	sqlite3_finalize(ev);
	sqlite3_finalize(se);
	sqlite3_close(db);
	return t;
}

/* median - of n values (sorts them) */

static double
median(double *v, int n)
{
	int	 i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double	 t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* daemon_commits - commits the daemon counted at its last stop */

static long
daemon_commits(const char *dir)
{
	char	 path[512], line[1024];
	const char *p;
	long	 commits = 0;
	FILE	*fp;

	snprintf(path, sizeof path, "%s/daemon.log", dir);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, fp) != NULL)
		if (strstr(line, " stop records=") != NULL &&
		    (p = strstr(line, " commits=")) != NULL)
			commits = strtol(p + 9, NULL, 10);
	fclose(fp);
	return commits;
}

/* round_daemon - one round through a fresh smtpwardend */

static void
round_daemon(const struct synth *sy, size_t batch, int nclients,
    const char *bin, const char *dir, int round, double *wall, double *cpu,
    long *commits)
{
	char	 sock[512], path[512];
	long long got;
	double	 c0;
	pid_t	 pid;
	int	 fd;

	snprintf(sock, sizeof sock, "%s/smtpwardend.sock", dir);
	pid = daemon_start(bin, dir, sock, round);
	fd = daemon_connect(sock);
	c0 = cpu_s(pid);
	if (nclients == 1)
		*wall = run_daemon(sy, 0, sy->sy_n, batch, fd);
	else
		*wall = run_clients(sy, batch, nclients, sock);
	*cpu = cpu_s(pid) - c0;
	close(fd);
	daemon_stop(pid);
	*commits = daemon_commits(dir);
	snprintf(path, sizeof path, "%s/db/ingest-%d.db", dir, round);
	if ((got = db_events(path)) != (long long)sy->sy_n)
		die("daemon stored %lld events of %zu (log: %s/daemon.log)",
		    got, sy->sy_n, dir);
}

/* round_bare - one round of the bare loop, into a fresh file */

static void
round_bare(const struct synth *sy, size_t batch, const char *schema,
    const char *dir, int round, double *wall, double *cpu)
{
	struct timespec c0, c1;
	char	 path[512];
	long long got;

	snprintf(path, sizeof path, "%s/db/bare-%d.db", dir, round);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	*wall = run_bare(sy, batch, path, schema);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	*cpu = (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
	if ((got = db_events(path)) != (long long)sy->sy_n)
		die("bare loop stored %lld events of %zu", got, sy->sy_n);
}

int
main(int argc, char **argv)
{
	const char *bin = BENCH_DAEMON, *schema = BENCH_SCHEMA;
	char	 dir[] = "/tmp/smtpwarden-ingest.XXXXXX";
	struct synth sy;
	size_t	 n = DEF_RECORDS, batch = DEF_BATCH;
	double	 dw[MAX_ROUNDS], dc[MAX_ROUNDS], bw[MAX_ROUNDS];
	double	 bc[MAX_ROUNDS], mdw, mdc, mbw, mbc;
	int	 ch, keep = 0, rounds = DEF_ROUNDS, nclients = 1, i;
	long	 commits;

	memset(&sy, 0, sizeof sy);
	while ((ch = getopt(argc, argv, "b:c:d:kn:r:s:t")) != -1) {
		switch (ch) {
		case 'b':
			batch = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			nclients = (int)strtol(optarg, NULL, 10);
			break;
		case 'd':
			bin = optarg;
			break;
		case 'k':
			keep = 1;
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = (int)strtol(optarg, NULL, 10);
			break;
		case 's':
			schema = optarg;
			break;
		case 't':
			sy.sy_ordered = 1;
			break;
		default:
			fprintf(stderr, "usage: bench_ingest [-kt] "
			    "[-n records] [-b batch] [-c senders] "
			    "[-r rounds] [-d smtpwardend] "
			    "[-s schema.sql]\n");
			return 2;
		}
	}
	if (n == 0 || batch == 0 || batch > 100000)
		die("records and batch must be positive, batch at most 100000");
	if (rounds < 1 || rounds > MAX_ROUNDS)
		die("rounds must be 1 to %d", MAX_ROUNDS);
	if (nclients < 1 || nclients > MAX_CLIENTS)
		die("senders must be 1 to %d", MAX_CLIENTS);
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) < 0)
		die("mkdtemp: %s", strerror(errno));
	gen_all(&sy, n);

	/* Daemon and bare loop in turn, as the machine's load comes. */
	printf("records %zu (%zu sessions of %d), batch %zu, %d sender%s "
	    "with one batch in flight, %d rounds, %s session ids\n", n,
	    (n + PER_SESSION - 1) / PER_SESSION, PER_SESSION, batch, nclients,
	    nclients > 1 ? "s" : "", rounds,
	    sy.sy_ordered ? "time-ordered" : "random");
	printf("%-6s %14s %14s %14s %14s %10s\n", "round", "daemon rec/s",
	    "daemon rec/cpu", "bare rec/s", "bare rec/cpu", "rec/commit");
	for (i = 0; i < rounds; i++) {
		round_daemon(&sy, batch, nclients, bin, dir, i + 1, &dw[i],
		    &dc[i], &commits);
		round_bare(&sy, batch, schema, dir, i + 1, &bw[i], &bc[i]);
		printf("%-6d %14.0f %14.0f %14.0f %14.0f %10.0f\n", i + 1,
		    n / dw[i], n / dc[i], n / bw[i], n / bc[i],
		    commits > 0 ? (double)n / commits : 0.0);
		fflush(stdout);
	}
	mdw = median(dw, rounds);
	mdc = median(dc, rounds);
	mbw = median(bw, rounds);
	mbc = median(bc, rounds);
	printf("%-6s %14.0f %14.0f %14.0f %14.0f\n", "median", n / mdw,
	    n / mdc, n / mbw, n / mbc);
	printf("ratio daemon/bare: %.2f by wall clock, %.2f by CPU "
	    "(daemon CPU %.1f us/record, bare %.1f)\n", mbw / mdw,
	    mbc / mdc, mdc / n * 1e6, mbc / n * 1e6);
	if (keep)
		printf("kept %s\n", dir);
	else
		remove_dir(dir, rounds);
	return 0;
}
