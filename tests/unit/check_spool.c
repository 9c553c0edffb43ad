/*
 * check_spool.c - unit tests of milter/spool.c (spool.h), the milter's
 * on-disk spool: frames written and read back, file names and replay
 * order, torn writes and flipped bytes skipped with their offsets while
 * the frames around them survive, the size limit, the lock, and a spool
 * file replayed twice into the real store (daemon/store.c) stored once.
 *
 * Files are damaged the way a crash or a bad disk would: truncated at
 * every length inside a frame, one byte flipped at every position of a
 * frame, garbage between frames, a write cut short by RLIMIT_FSIZE.
 *
 * DIAGNOSTICS: failures read "got X, want Y".
 * BUGS: none known.
 */

#include "config.h"
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <msgpack.h>
#include <sqlite3.h>

#include "spool.h"
#include "store.h"
#include "sw_record.h"
#include "testutil.h"

#define INST_A		0x00000000aaaa0001ull
#define INST_B		0x00000000bbbb0002ull
#define SESS		0x1234567890abcdefull
#define BASE_US		1700000000000000ll

/* Records per test file; the damaged one is in the middle. */
#define NREC		5
#define VICTIM		2

static char	*tmpdir;
static struct spool *sp;
static int	 fsync_policy;	/* of spools open_spool() makes */
static msgpack_sbuffer packed[NREC];

/* make_record - record seq of the test session, packed, into sb */

static void
make_record(msgpack_sbuffer *sb, uint64_t instance, uint32_t seq)
{
	struct sw_record r;
	char	 helo[32];

	sw_record_init(&r);
	r.r_instance = instance;
	r.r_session = SESS;
	r.r_seq = seq;
	r.r_time_us = BASE_US + seq;
	r.r_stage = seq == 1 ? SW_STAGE_CONNECT : SW_STAGE_HELO;
	snprintf(helo, sizeof helo, "host%u.example", seq);
	ck_assert_int_eq(sw_record_add_str(&r, seq == 1 ? SW_K_CLIENT_HOST :
	    SW_K_HELO, helo), 0);
	msgpack_sbuffer_init(sb);
	ck_assert_int_eq(sw_record_pack(&r, sb), 0);
	sw_record_free(&r);
}

/* open_spool - a spool on tmpdir for this instance; must succeed */

static struct spool *
open_spool(uint64_t instance, long long max_bytes)
{
	struct spool_conf sc;
	struct spool *s;
	char	 warn[256], err[256];

	memset(&sc, 0, sizeof sc);
	sc.sc_dir = tmpdir;
	sc.sc_instance = instance;
	sc.sc_max_bytes = max_bytes;
	sc.sc_fsync = fsync_policy;
	s = spool_open(&sc, warn, sizeof warn, err, sizeof err);
	ck_assert_msg(s != NULL, "spool_open: got NULL (%s), want a spool",
	    err);
	TU_STR_EQ(warn, "");
	return s;
}

/* setup - a scratch directory, a spool on it, the test records */

static void
setup(void)
{
	int	 i;

	tmpdir = tu_tmpdir();
	fsync_policy = SPOOL_FSYNC_ALWAYS;
	sp = open_spool(INST_A, 0);
	for (i = 0; i < NREC; i++)
		make_record(&packed[i], INST_A, (uint32_t)i + 1);
}

/* teardown - close the spool, remove the directory */

static void
teardown(void)
{
	int	 i;

	spool_close(sp);
	sp = NULL;
	for (i = 0; i < NREC; i++)
		msgpack_sbuffer_destroy(&packed[i]);
	tu_rmtree(tmpdir);
	free(tmpdir);
	tmpdir = NULL;
}

/* append_all - the NREC test records, one append each, then seal */

static void
append_all(void)
{
	char	 err[256];
	int	 i;

	for (i = 0; i < NREC; i++) {
		struct iovec v = { packed[i].data, packed[i].size };

		ck_assert_msg(spool_append(sp, &v, 1, err, sizeof err) == 0,
		    "append %d: got failure (%s), want 0", i, err);
	}
	ck_assert_msg(spool_seal(sp, err, sizeof err) == 0,
	    "seal: got failure (%s), want 0", err);
}

/* only_file - the one complete file; its path in path */

static char *
only_file(char *path, size_t pathsize)
{
	char	**names, err[256], *name;
	size_t	 n;

	ck_assert_msg(spool_list(sp, &names, &n, err, sizeof err) == 0,
	    "list: got failure (%s)", err);
	TU_UINT_EQ(n, 1);
	name = strdup(names[0]);
	spool_list_free(names, n);
	snprintf(path, pathsize, "%s/%s", tmpdir, name);
	return name;
}

/* frame_offset - where append_all() put test record i */

static off_t
frame_offset(int i)
{
	off_t	 off = 0;
	int	 k;

	for (k = 0; k < i; k++)
		off += SPOOL_HEADER_LEN + (off_t)packed[k].size;
	return off;
}

/* What read_file() found in a file. */
struct readout {
	int	 rec[NREC + 1];		/* which records came back, in order */
	int	 nrec;
	int	 nbad;
	off_t	 bad_off;		/* the first damaged stretch */
	size_t	 bad_size;
	char	 bad_why[128];
};

/* read_file - every frame of name, matched against the test records */

static void
read_file(const char *name, struct readout *out)
{
	struct spool_reader *r;
	struct spool_frame f;
	char	 err[256];
	int	 i;

	memset(out, 0, sizeof *out);
	r = spool_reader_open(sp, name, err, sizeof err);
	ck_assert_msg(r != NULL, "reader: got NULL (%s), want one", err);
	while (spool_reader_next(r, &f) == 1) {
		if (f.sf_type == SPOOL_BAD) {
			if (out->nbad++ == 0) {
				out->bad_off = f.sf_offset;
				out->bad_size = f.sf_size;
				snprintf(out->bad_why, sizeof out->bad_why,
				    "%s", f.sf_why);
			}
			continue;
		}
		for (i = 0; i < NREC; i++)
			if (f.sf_len == packed[i].size &&
			    memcmp(f.sf_data, packed[i].data, f.sf_len) == 0)
				break;
		ck_assert_msg(i < NREC, "frame at %lld: got bytes that are no "
		    "test record, want one", (long long)f.sf_offset);
		ck_assert_msg(out->nrec < NREC + 1, "got too many records");
		out->rec[out->nrec++] = i;
	}
	spool_reader_close(r);
}

/* A written file reads back every record, in order, with no damage. */
START_TEST(test_roundtrip)
{
	struct readout ro;
	struct stat st;
	char	 path[PATH_MAX], *name;
	int	 i;

	append_all();
	name = only_file(path, sizeof path);
	read_file(name, &ro);
	TU_INT_EQ(ro.nbad, 0);
	TU_INT_EQ(ro.nrec, NREC);
	for (i = 0; i < NREC; i++)
		TU_INT_EQ(ro.rec[i], i);
	ck_assert_int_eq(stat(path, &st), 0);
	TU_INT_EQ(st.st_size, frame_offset(NREC));
	TU_OCT_EQ(st.st_mode & 0777, 0600);
	TU_INT_EQ(spool_bytes(sp), st.st_size);
	TU_UINT_EQ(spool_files(sp), 1);
	free(name);
}
END_TEST

/* The frame header is the documented one. */
START_TEST(test_frame_layout)
{
	unsigned char buf[SPOOL_HEADER_LEN];
	char	 path[PATH_MAX], *name;
	int	 fd;

	append_all();
	name = only_file(path, sizeof path);
	ck_assert_int_ge(fd = open(path, O_RDONLY), 0);
	ck_assert_int_eq(read(fd, buf, sizeof buf), SPOOL_HEADER_LEN);
	close(fd);
	TU_MEM_EQ(buf, 4, "\x89SWS", 4);
	TU_INT_EQ(buf[4], 1);
	TU_INT_EQ(buf[5], 1);
	TU_INT_EQ(buf[6] | buf[7], 0);
	TU_UINT_EQ((uint32_t)buf[8] << 24 | buf[9] << 16 | buf[10] << 8 |
	    buf[11], packed[0].size);
	free(name);
}
END_TEST

/* Names: time, instance, counter; sealed files list oldest first. */
START_TEST(test_names_and_order)
{
	char	**names, err[256];
	struct iovec v = { packed[0].data, packed[0].size };
	int64_t	 t1, t2;
	uint64_t inst;
	uint32_t c1, c2;
	size_t	 n;

	ck_assert_int_eq(spool_append(sp, &v, 1, err, sizeof err), 0);
	ck_assert_int_eq(spool_seal(sp, err, sizeof err), 0);
	ck_assert_int_eq(spool_append(sp, &v, 1, err, sizeof err), 0);

	/* The active file is not listed. */
	ck_assert_int_eq(spool_list(sp, &names, &n, err, sizeof err), 0);
	TU_UINT_EQ(n, 1);
	spool_list_free(names, n);
	TU_UINT_EQ(spool_files(sp), 2);
	TU_UINT_EQ(spool_active_bytes(sp), SPOOL_HEADER_LEN + packed[0].size);

	ck_assert_int_eq(spool_seal(sp, err, sizeof err), 0);
	TU_UINT_EQ(spool_active_bytes(sp), 0);
	ck_assert_int_eq(spool_list(sp, &names, &n, err, sizeof err), 0);
	TU_UINT_EQ(n, 2);
	TU_UINT_EQ(strlen(names[0]), SPOOL_NAME_LEN);
	ck_assert_int_eq(spool_name_parse(names[0], &t1, &inst, &c1), 0);
	TU_UINT_EQ(inst, INST_A);
	ck_assert_int_eq(spool_name_parse(names[1], &t2, &inst, &c2), 0);
	ck_assert_msg(t1 < t2, "times: got %lld then %lld, want rising",
	    (long long)t1, (long long)t2);
	TU_UINT_EQ(c1, 1);
	TU_UINT_EQ(c2, 2);
	spool_list_free(names, n);

	TU_INT_EQ(spool_name_parse("0000000000000001-00000000000000a1-"
	    "00000001.spool", NULL, NULL, NULL), 0);
	TU_INT_EQ(spool_name_parse("0000000000000001-00000000000000A1-"
	    "00000001.spool", NULL, NULL, NULL), -1);
	TU_INT_EQ(spool_name_parse("0000000000000001-00000000000000a1-"
	    "00000001.spool.bad", NULL, NULL, NULL), -1);
	TU_INT_EQ(spool_name_parse(".lock", NULL, NULL, NULL), -1);
}
END_TEST

/*
 * A restarted milter (new instance id) finds the old process's files,
 * lists them before its own, and reads them.
 */
START_TEST(test_restart_new_instance)
{
	char	**names, err[256];
	struct iovec v = { packed[1].data, packed[1].size };
	struct readout ro;
	uint64_t inst;
	size_t	 n;

	ck_assert_int_eq(spool_append(sp, &v, 1, err, sizeof err), 0);
	spool_close(sp);		/* the old process ends */
	sp = open_spool(INST_B, 0);
	TU_UINT_EQ(spool_files(sp), 1);
	TU_INT_EQ(spool_bytes(sp), SPOOL_HEADER_LEN + packed[1].size);
	ck_assert_int_eq(spool_append(sp, &v, 1, err, sizeof err), 0);
	ck_assert_int_eq(spool_seal(sp, err, sizeof err), 0);
	ck_assert_int_eq(spool_list(sp, &names, &n, err, sizeof err), 0);
	TU_UINT_EQ(n, 2);
	ck_assert_int_eq(spool_name_parse(names[0], NULL, &inst, NULL), 0);
	TU_UINT_EQ(inst, INST_A);
	ck_assert_int_eq(spool_name_parse(names[1], NULL, &inst, NULL), 0);
	TU_UINT_EQ(inst, INST_B);
	read_file(names[0], &ro);
	TU_INT_EQ(ro.nrec, 1);
	TU_INT_EQ(ro.rec[0], 1);
	ck_assert_int_eq(spool_remove(sp, names[0], err, sizeof err), 0);
	TU_UINT_EQ(spool_files(sp), 1);
	TU_INT_EQ(spool_bytes(sp), SPOOL_HEADER_LEN + packed[1].size);
	spool_list_free(names, n);
}
END_TEST

/* A second process on the same directory is refused. */
START_TEST(test_lock)
{
	struct spool_conf sc;
	char	 warn[256], err[256];

	memset(&sc, 0, sizeof sc);
	sc.sc_dir = tmpdir;
	sc.sc_instance = INST_B;
	ck_assert_msg(spool_open(&sc, warn, sizeof warn, err, sizeof err) ==
	    NULL, "second spool_open: got a spool, want NULL");
	TU_STR_HAS(err, "in use by another smtpwarden-milter");
}
END_TEST

/* A missing directory is an error that names it. */
START_TEST(test_missing_dir)
{
	struct spool_conf sc;
	char	 warn[256], err[256], path[PATH_MAX];

	snprintf(path, sizeof path, "%s/nonexistent", tmpdir);
	memset(&sc, 0, sizeof sc);
	sc.sc_dir = path;
	ck_assert(spool_open(&sc, warn, sizeof warn, err, sizeof err) ==
	    NULL);
	TU_STR_HAS(err, path);
	TU_STR_HAS(err, "No such file or directory");
}
END_TEST

/*
 * Truncated at every length inside the last frame (a crash while it was
 * written): the frames before it all read, and the torn one is reported
 * at its offset.
 */
START_TEST(test_torn_write)
{
	struct readout ro;
	char	 path[PATH_MAX], *name;
	off_t	 last = frame_offset(NREC - 1), end = frame_offset(NREC), cut;
	int	 i;

	append_all();
	name = only_file(path, sizeof path);
	for (cut = end - 1; cut > last; cut--) {
		ck_assert_int_eq(truncate(path, cut), 0);
		read_file(name, &ro);
		ck_assert_msg(ro.nrec == NREC - 1, "cut at %lld: got %d "
		    "records, want %d", (long long)cut, ro.nrec, NREC - 1);
		for (i = 0; i < NREC - 1; i++)
			TU_INT_EQ(ro.rec[i], i);
		TU_INT_EQ(ro.nbad, 1);
		TU_INT_EQ(ro.bad_off, last);
		TU_UINT_EQ(ro.bad_size, cut - last);
		TU_STR_HAS(ro.bad_why, "torn write");
	}
	free(name);
}
END_TEST

/*
 * One byte flipped, at every position of the middle frame (magic,
 * version, length, check, payload): the frames before and after it all
 * read, and the damage is reported at the frame's offset.
 */
START_TEST(test_flipped_byte)
{
	struct readout ro;
	char	 path[PATH_MAX], *name;
	off_t	 start = frame_offset(VICTIM), end = frame_offset(VICTIM + 1);
	off_t	 pos;
	unsigned char c;
	int	 fd;

	append_all();
	name = only_file(path, sizeof path);
	ck_assert_int_ge(fd = open(path, O_RDWR), 0);
	for (pos = start; pos < end; pos++) {
		ck_assert_int_eq(pread(fd, &c, 1, pos), 1);
		c ^= 0x20;
		ck_assert_int_eq(pwrite(fd, &c, 1, pos), 1);
		read_file(name, &ro);
		ck_assert_msg(ro.nrec == NREC - 1 && ro.rec[0] == 0 &&
		    ro.rec[1] == 1 && ro.rec[2] == 3 && ro.rec[3] == 4,
		    "byte %lld flipped: got %d records (%d %d %d %d), want "
		    "0 1 3 4", (long long)(pos - start), ro.nrec, ro.rec[0],
		    ro.rec[1], ro.rec[2], ro.rec[3]);
		TU_INT_EQ(ro.nbad, 1);
		TU_INT_EQ(ro.bad_off, start);
		TU_UINT_EQ(ro.bad_size, end - start);
		c ^= 0x20;
		ck_assert_int_eq(pwrite(fd, &c, 1, pos), 1);
	}
	close(fd);
	read_file(name, &ro);
	TU_INT_EQ(ro.nbad, 0);
	free(name);
}
END_TEST

/* The reasons say what was wrong. */
START_TEST(test_reasons)
{
	struct readout ro;
	char	 path[PATH_MAX], *name;
	off_t	 start = frame_offset(VICTIM);
	unsigned char c;
	int	 fd;

	append_all();
	name = only_file(path, sizeof path);
	ck_assert_int_ge(fd = open(path, O_RDWR), 0);

	/* The last payload byte: only the checksum can tell. */
	ck_assert_int_eq(pread(fd, &c, 1, frame_offset(VICTIM + 1) - 1), 1);
	c ^= 1;
	ck_assert_int_eq(pwrite(fd, &c, 1, frame_offset(VICTIM + 1) - 1), 1);
	read_file(name, &ro);
	TU_STR_EQ(ro.bad_why, "checksum mismatch");
	c ^= 1;
	ck_assert_int_eq(pwrite(fd, &c, 1, frame_offset(VICTIM + 1) - 1), 1);

	/* The magic. */
	ck_assert_int_eq(pwrite(fd, "X", 1, start), 1);
	read_file(name, &ro);
	TU_STR_EQ(ro.bad_why, "no frame magic");
	ck_assert_int_eq(pwrite(fd, "\x89", 1, start), 1);

	/* The version. */
	ck_assert_int_eq(pwrite(fd, "\x02", 1, start + 4), 1);
	read_file(name, &ro);
	TU_STR_EQ(ro.bad_why, "unknown frame version");
	ck_assert_int_eq(pwrite(fd, "\x01", 1, start + 4), 1);

	/* A length that runs past the end, with good frames after it. */
	ck_assert_int_eq(pwrite(fd, "\x7f", 1, start + 8), 1);
	read_file(name, &ro);
	TU_STR_EQ(ro.bad_why, "frame length out of bounds");
	ck_assert_int_eq(pwrite(fd, "\x00\x10\x00", 3, start + 9), 3);
	ck_assert_int_eq(pwrite(fd, "\x00", 1, start + 8), 1);
	read_file(name, &ro);
	TU_STR_EQ(ro.bad_why, "frame length does not match its data");
	TU_INT_EQ(ro.nrec, NREC - 1);
	close(fd);
	free(name);
}
END_TEST

/* Garbage between frames, magic included, costs no good frame. */
START_TEST(test_garbage_between)
{
	static const char junk[] = "\x89SWS\x01\x01\0\0\0\0\0\x05garbage\x89S";
	struct readout ro;
	char	 path[PATH_MAX], *name, *buf;
	off_t	 mid = frame_offset(2), all = frame_offset(NREC);
	int	 fd, i;

	append_all();
	name = only_file(path, sizeof path);
	ck_assert((buf = malloc((size_t)all)) != NULL);
	ck_assert_int_ge(fd = open(path, O_RDWR), 0);
	ck_assert_int_eq(pread(fd, buf, (size_t)all, 0), all);
	ck_assert_int_eq(pwrite(fd, junk, sizeof junk - 1, mid),
	    (ssize_t)sizeof junk - 1);
	ck_assert_int_eq(pwrite(fd, buf + mid, (size_t)(all - mid),
	    mid + (off_t)sizeof junk - 1), all - mid);
	close(fd);
	free(buf);
	read_file(name, &ro);
	TU_INT_EQ(ro.nrec, NREC);
	for (i = 0; i < NREC; i++)
		TU_INT_EQ(ro.rec[i], i);
	TU_INT_EQ(ro.nbad, 1);
	TU_INT_EQ(ro.bad_off, mid);
	TU_UINT_EQ(ro.bad_size, sizeof junk - 1);
	free(name);
}
END_TEST

/* A payload with a good checksum that is no record is still refused. */
START_TEST(test_payload_not_record)
{
	struct iovec v = { "\xc0", 1 };	/* MessagePack nil */
	struct readout ro;
	char	 path[PATH_MAX], err[256], *name;

	ck_assert_int_eq(spool_append(sp, &v, 1, err, sizeof err), 0);
	ck_assert_int_eq(spool_seal(sp, err, sizeof err), 0);
	name = only_file(path, sizeof path);
	read_file(name, &ro);
	TU_INT_EQ(ro.nrec, 0);
	TU_INT_EQ(ro.nbad, 1);
	TU_STR_EQ(ro.bad_why, "payload is not one record");
	free(name);
}
END_TEST

/* spool_max_bytes: an append that would pass it fails, writes nothing. */
START_TEST(test_max_bytes)
{
	struct iovec v = { packed[0].data, packed[0].size };
	long long one = SPOOL_HEADER_LEN + (long long)packed[0].size;
	char	 err[256];

	spool_close(sp);
	sp = open_spool(INST_A, 2 * one);
	ck_assert_int_eq(spool_append(sp, &v, 1, err, sizeof err), 0);
	ck_assert_int_eq(spool_append(sp, &v, 1, err, sizeof err), 0);
	ck_assert_int_eq(spool_append(sp, &v, 1, err, sizeof err), -1);
	TU_STR_HAS(err, "is full");
	TU_STR_HAS(err, "spool_max_bytes");
	TU_INT_EQ(spool_bytes(sp), 2 * one);
	TU_UINT_EQ(spool_active_bytes(sp), 2 * one);
}
END_TEST

/* A directory that went away: the append fails and names the file. */
START_TEST(test_dir_gone)
{
	struct iovec v = { packed[0].data, packed[0].size };
	char	 path[PATH_MAX], err[256];

	snprintf(path, sizeof path, "%s/.lock", tmpdir);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(tmpdir), 0);
	ck_assert_int_eq(spool_append(sp, &v, 1, err, sizeof err), -1);
	TU_STR_HAS(err, "create ");
	TU_STR_HAS(err, tmpdir);
	TU_UINT_EQ(spool_files(sp), 0);
	ck_assert_int_eq(mkdir(tmpdir, 0700), 0);	/* for teardown */
}
END_TEST

/*
 * A write the kernel cuts short (here: the file size limit) leaves no
 * torn frame behind: the file holds exactly the earlier appends.
 */
START_TEST(test_short_write_cut_off)
{
	struct iovec v[NREC];
	struct readout ro;
	struct rlimit rl, old;
	char	 path[PATH_MAX], err[256], *name;
	int	 i;

	for (i = 0; i < NREC; i++) {
		v[i].iov_base = packed[i].data;
		v[i].iov_len = packed[i].size;
	}
	ck_assert_int_eq(spool_append(sp, v, 2, err, sizeof err), 0);
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	rl.rlim_cur = (rlim_t)frame_offset(3);
	rl.rlim_max = old.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	i = spool_append(sp, v + 2, 3, err, sizeof err);
	/* Check itself writes files: the limit goes before any assert. */
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	TU_INT_EQ(i, -1);
	TU_STR_HAS(err, "write ");
	TU_UINT_EQ(spool_active_bytes(sp), frame_offset(2));
	TU_INT_EQ(spool_bytes(sp), frame_offset(2));
	ck_assert_int_eq(spool_seal(sp, err, sizeof err), 0);
	name = only_file(path, sizeof path);
	read_file(name, &ro);
	TU_INT_EQ(ro.nbad, 0);
	TU_INT_EQ(ro.nrec, 2);
	free(name);
}
END_TEST

/*
 * A spool file replayed twice (the milter died after the daemon's ack
 * and before removing the file) is stored once: events, and the counts
 * derived from them, are not doubled.
 */
START_TEST(test_replay_twice_stored_once)
{
	struct readout ro;
	struct store *st;
	struct spool_reader *r;
	struct spool_frame f;
	sqlite3	*db;
	sqlite3_stmt *q;
	char	 path[PATH_MAX], dbpath[PATH_MAX], err[512], *name;
	int	 round, stored = 0, dup = 0;

	append_all();
	name = only_file(path, sizeof path);
	read_file(name, &ro);
	TU_INT_EQ(ro.nrec, NREC);
	snprintf(dbpath, sizeof dbpath, "%s/db.sqlite", tmpdir);
	st = store_open(dbpath, 2000, err, sizeof err);
	ck_assert_msg(st != NULL, "store_open: got NULL (%s)", err);
	for (round = 0; round < 2; round++) {
		ck_assert_int_eq(store_begin(st), 0);
		r = spool_reader_open(sp, name, err, sizeof err);
		ck_assert(r != NULL);
		while (spool_reader_next(r, &f) == 1) {
			msgpack_unpacked u;
			struct sw_record rec;
			const char *why;
			int	 rc;

			msgpack_unpacked_init(&u);
			sw_record_init(&rec);
			ck_assert(msgpack_unpack_next(&u, f.sf_data, f.sf_len,
			    NULL) == MSGPACK_UNPACK_SUCCESS);
			ck_assert_int_eq(sw_record_unpack(&u.data, &rec, &why),
			    0);
			rc = store_put(st, &rec);
			ck_assert_int_ge(rc, 0);
			if (rc == 0)
				stored++;
			else
				dup++;
			sw_record_free(&rec);
			msgpack_unpacked_destroy(&u);
		}
		spool_reader_close(r);
		ck_assert_int_eq(store_commit(st), 0);
	}
	store_close(st);
	TU_INT_EQ(stored, NREC);
	TU_INT_EQ(dup, NREC);
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) "
	    "FROM events), (SELECT helo_count FROM sessions), (SELECT "
	    "instance_id FROM sessions)", -1, &q, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	TU_INT_EQ(sqlite3_column_int(q, 0), NREC);
	TU_INT_EQ(sqlite3_column_int(q, 1), NREC - 1);
	TU_STR_EQ((const char *)sqlite3_column_text(q, 2), "00000000aaaa0001");
	sqlite3_finalize(q);
	sqlite3_close(db);
	free(name);
}
END_TEST

/* Records the writer thread of the concurrency test appends. */
#define RACE_RECORDS	20000

static volatile int race_done;

/* race_writer - append records one by one, sealing every few */

static void *
race_writer(void *arg)
{
	struct iovec v = { packed[0].data, packed[0].size };
	char	 err[256];
	int	 i, rc = 0;

	(void)arg;
	for (i = 0; i < RACE_RECORDS && rc == 0; i++) {
		rc = spool_append(sp, &v, 1, err, sizeof err);
		if (rc == 0 && i % 3 == 0)
			rc = spool_seal(sp, err, sizeof err);
	}
	if (rc == 0)
		rc = spool_seal(sp, err, sizeof err);
	__atomic_store_n(&race_done, 1, __ATOMIC_SEQ_CST);
	return (void *)(intptr_t)rc;
}

/*
 * A reader that lists, reads and removes files while the writer
 * appends and seals never takes the active file: every record written
 * is read exactly once.
 */
START_TEST(test_concurrent_writer_reader)
{
	struct spool_reader *r;
	struct spool_frame f;
	pthread_t t;
	char	**names, err[256];
	size_t	 n, i;
	long	 got = 0, bad = 0;
	void	*rc;
	int	 done;

	/* Thousands of appends: no fsync, or the test would be slow. */
	spool_close(sp);
	fsync_policy = SPOOL_FSYNC_NEVER;
	sp = open_spool(INST_A, 0);
	race_done = 0;
	ck_assert_int_eq(pthread_create(&t, NULL, race_writer, NULL), 0);
	do {
		done = __atomic_load_n(&race_done, __ATOMIC_SEQ_CST);
		ck_assert_int_eq(spool_list(sp, &names, &n, err, sizeof err),
		    0);
		for (i = 0; i < n; i++) {
			if ((r = spool_reader_open(sp, names[i], err,
			    sizeof err)) == NULL)
				ck_abort_msg("reader: got NULL (%s)", err);
			while (spool_reader_next(r, &f) == 1) {
				if (f.sf_type == SPOOL_RECORD)
					got++;
				else
					bad++;
			}
			spool_reader_close(r);
			ck_assert_int_eq(spool_remove(sp, names[i], err,
			    sizeof err), 0);
		}
		spool_list_free(names, n);
	} while (!done || n > 0);
	pthread_join(t, &rc);
	TU_INT_EQ((intptr_t)rc, 0);
	TU_INT_EQ(bad, 0);
	TU_INT_EQ(got, RACE_RECORDS);
	TU_UINT_EQ(spool_files(sp), 0);
	TU_INT_EQ(spool_bytes(sp), 0);
}
END_TEST

/* spool_suite - the tests, grouped by concern */

static Suite *
spool_suite(void)
{
	Suite	*s = suite_create("spool");
	TCase	*tc;

	tc = tcase_create("format");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_frame_layout);
	tcase_add_test(tc, test_names_and_order);
	tcase_add_test(tc, test_restart_new_instance);
	tcase_add_test(tc, test_lock);
	tcase_add_test(tc, test_missing_dir);
	suite_add_tcase(s, tc);

	tc = tcase_create("damage");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_torn_write);
	tcase_add_test(tc, test_flipped_byte);
	tcase_add_test(tc, test_reasons);
	tcase_add_test(tc, test_garbage_between);
	tcase_add_test(tc, test_payload_not_record);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_max_bytes);
	tcase_add_test(tc, test_dir_gone);
	tcase_add_test(tc, test_short_write_cut_off);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_concurrent_writer_reader);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_replay_twice_stored_once);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite; the exit status tells make check */

int
main(void)
{
	SRunner	*sr = srunner_create(spool_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
