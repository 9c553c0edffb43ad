/*
 * spool.c - the append-only spool directory of smtpwarden-milter: frame
 * writing with checksums and an fsync policy, file rotation, listing
 * oldest first, and a reader that skips damaged frames and finds the
 * good ones after them.  The format is described in spool.h.
 *
 * The directory is opened once (a descriptor kept for openat and
 * friends), so a spool_dir replaced under a running milter does not
 * split the spool in two.  The checksum is SHA-256 from OpenSSL, cut to
 * its first 8 bytes: no home-made hashing.
 *
 * DIAGNOSTICS: every failing call returns -1 and a reason naming the
 * file; damaged frames come back from the reader as SPOOL_BAD with
 * their offset, never as a failure.
 * BUGS: XXX accounting: spool_bytes() counts the files this process
 * found at open, wrote and removed; files that someone else drops into
 * or deletes from the directory are only noticed at the next start.
 */

#include "config.h"
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>
#include <openssl/evp.h>

#include "spool.h"
#include "sw_record.h"
#include "sw_util.h"

#define LOCK_NAME	".lock"

struct spool {
	pthread_mutex_t	 lock;		/* guards the counters and active */
	char		*dir;
	int		 dirfd;
	int		 lockfd;
	uint64_t	 instance;
	long long	 max_bytes;
	int		 fsync_policy;
	size_t		 file_max;
	size_t		 nfiles;	/* on disk, active included */
	long long	 nbytes;
	char		 active[SPOOL_NAME_LEN + 1];	/* "" when none */
	/* Owned by the writer. */
	int		 fd;
	size_t		 active_size;
	int64_t		 last_time;
	uint32_t	 counter;
	EVP_MD_CTX	*md;
};

struct spool_reader {
	char		 name[SPOOL_NAME_LEN + 1];
	char		*buf;
	size_t		 len;
	size_t		 pos;
	EVP_MD_CTX	*md;
	msgpack_unpacked unpacked;
};

/* frame_check - compute the check of a header and payload into out */

static int
frame_check(EVP_MD_CTX *md, const unsigned char *hdr, const void *payload,
    size_t len, unsigned char *out)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen;

	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, hdr, 12) != 1 ||
	    EVP_DigestUpdate(md, payload, len) != 1 ||
	    EVP_DigestFinal_ex(md, digest, &dlen) != 1 ||
	    dlen < SPOOL_CHECK_LEN)
		return -1;
	memcpy(out, digest, SPOOL_CHECK_LEN);
	return 0;
}

/* put_be32 - a 32-bit big-endian number */

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* get_be32 - a 32-bit big-endian number */

static uint32_t
get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* hex_field - parse exactly n lowercase hex digits */

static int
hex_field(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t	 i;

	for (i = 0; i < n; i++) {
		int	 c = (unsigned char)s[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 0;
}

/* spool_name_parse - time, instance and counter of a spool file name */

int
spool_name_parse(const char *name, int64_t *time_us, uint64_t *instance,
    uint32_t *counter)
{
	uint64_t t, i, c;

	if (strlen(name) != SPOOL_NAME_LEN || name[16] != '-' ||
	    name[33] != '-' || strcmp(name + 42, SPOOL_SUFFIX) != 0 ||
	    hex_field(name, 16, &t) < 0 || hex_field(name + 17, 16, &i) < 0 ||
	    hex_field(name + 34, 8, &c) < 0)
		return -1;
	if (time_us != NULL)
		*time_us = (int64_t)t;
	if (instance != NULL)
		*instance = i;
	if (counter != NULL)
		*counter = (uint32_t)c;
	return 0;
}

/* scan - count the spool files already in the directory */

static int
scan(struct spool *sp, char *err, size_t errsize)
{
	DIR	*d;
	struct dirent *de;
	struct stat st;
	int	 fd;

	if ((fd = dup(sp->dirfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		snprintf(err, errsize, "spool_dir %s: %s", sp->dir,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (spool_name_parse(de->d_name, NULL, NULL, NULL) < 0)
			continue;
		if (fstatat(sp->dirfd, de->d_name, &st, 0) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		sp->nfiles++;
		sp->nbytes += st.st_size;
	}
	closedir(d);
	return 0;
}

/* spool_open - the directory, its lock and what it already holds */

struct spool *
spool_open(const struct spool_conf *conf, char *warning, size_t warnsize,
    char *err, size_t errsize)
{
	struct spool *sp;

	warning[0] = '\0';
	if ((sp = calloc(1, sizeof *sp)) == NULL ||
	    (sp->dir = strdup(conf->sc_dir)) == NULL ||
	    (sp->md = EVP_MD_CTX_new()) == NULL) {
		snprintf(err, errsize, "out of memory");
		goto fail;
	}
	pthread_mutex_init(&sp->lock, NULL);
	sp->dirfd = sp->lockfd = sp->fd = -1;
	sp->instance = conf->sc_instance;
	sp->max_bytes = conf->sc_max_bytes;
	sp->fsync_policy = conf->sc_fsync;
	sp->file_max = conf->sc_file_max ? conf->sc_file_max : SPOOL_FILE_MAX;
	if ((sp->dirfd = open(sp->dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		snprintf(err, errsize, "spool_dir %s: %s", sp->dir,
		    strerror(errno));
		goto fail;
	}

	/*
	 * Two processes appending to and removing from one directory would
	 * replay each other's files under their feet.
	 */
	if ((sp->lockfd = openat(sp->dirfd, LOCK_NAME, O_RDWR | O_CREAT |
	    O_CLOEXEC, 0600)) < 0)
		snprintf(warning, warnsize, "cannot create %s/%s: %s (spool "
		    "not locked; appends will fail while this lasts)",
		    sp->dir, LOCK_NAME, strerror(errno));
	else if (flock(sp->lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK) {
			snprintf(err, errsize, "spool_dir %s is in use by "
			    "another smtpwarden-milter", sp->dir);
			goto fail;
		}
		snprintf(warning, warnsize, "cannot lock %s/%s: %s", sp->dir,
		    LOCK_NAME, strerror(errno));
	}
	if (scan(sp, err, errsize) < 0)
		goto fail;
	return sp;
fail:
	spool_close(sp);
	return NULL;
}

/* spool_close - seal, unlock, free */

void
spool_close(struct spool *sp)
{
	char	 err[256];

	if (sp == NULL)
		return;
	(void)spool_seal(sp, err, sizeof err);
	if (sp->lockfd >= 0)
		close(sp->lockfd);
	if (sp->dirfd >= 0)
		close(sp->dirfd);
	EVP_MD_CTX_free(sp->md);
	free(sp->dir);
	pthread_mutex_destroy(&sp->lock);
	free(sp);
}

/* open_active - a new active file, named so that it sorts last */

static int
open_active(struct spool *sp, char *err, size_t errsize)
{
	char	 name[SPOOL_NAME_LEN + 1];
	int64_t	 now = sw_now_us();
	int	 fd;

	if (now <= sp->last_time)
		now = sp->last_time + 1;
	snprintf(name, sizeof name, "%016llx-%016llx-%08lx" SPOOL_SUFFIX,
	    (unsigned long long)now, (unsigned long long)sp->instance,
	    (unsigned long)(sp->counter + 1));

	/*
	 * The name is marked active before the file exists: a reader that
	 * lists the directory in between must not take the new, empty
	 * file for a complete one and remove it under the writer.
	 */
	pthread_mutex_lock(&sp->lock);
	memcpy(sp->active, name, sizeof name);
	sp->nfiles++;
	pthread_mutex_unlock(&sp->lock);
	if ((fd = openat(sp->dirfd, name, O_WRONLY | O_CREAT | O_EXCL |
	    O_APPEND | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, errsize, "create %s/%s: %s", sp->dir, name,
		    strerror(errno));
		goto fail;
	}
	/* The name must survive a crash as well as the data. */
	if (sp->fsync_policy == SPOOL_FSYNC_ALWAYS && fsync(sp->dirfd) < 0) {
		snprintf(err, errsize, "fsync %s: %s", sp->dir,
		    strerror(errno));
		close(fd);
		(void)unlinkat(sp->dirfd, name, 0);
		goto fail;
	}
	sp->last_time = now;
	sp->counter++;
	sp->fd = fd;
	sp->active_size = 0;
	return 0;
fail:
	pthread_mutex_lock(&sp->lock);
	sp->active[0] = '\0';
	sp->nfiles--;
	pthread_mutex_unlock(&sp->lock);
	return -1;
}

/* spool_append - one frame per record, written with one write(2) */

int
spool_append(struct spool *sp, const struct iovec *recs, size_t n,
    char *err, size_t errsize)
{
	unsigned char *buf, *p;
	size_t	 i, total = 0;
	long long used;
	int	 saved;

	for (i = 0; i < n; i++) {
		if (recs[i].iov_len == 0 || recs[i].iov_len > SW_FRAME_MAX) {
			snprintf(err, errsize, "record of %zu bytes cannot be "
			    "spooled", recs[i].iov_len);
			return -1;
		}
		total += SPOOL_HEADER_LEN + recs[i].iov_len;
	}
	if (n == 0)
		return 0;
	pthread_mutex_lock(&sp->lock);
	used = sp->nbytes;
	pthread_mutex_unlock(&sp->lock);
	if (sp->max_bytes > 0 && used + (long long)total > sp->max_bytes) {
		snprintf(err, errsize, "spool %s is full (%lld bytes used, "
		    "spool_max_bytes = %lld)", sp->dir, used, sp->max_bytes);
		errno = ENOSPC;
		return -1;
	}
	if ((buf = malloc(total)) == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	for (p = buf, i = 0; i < n; i++) {
		memcpy(p, SPOOL_MAGIC, 4);
		p[4] = SPOOL_VERSION;
		p[5] = SPOOL_TYPE_RECORD;
		p[6] = p[7] = 0;
		put_be32(p + 8, (uint32_t)recs[i].iov_len);
		if (frame_check(sp->md, p, recs[i].iov_base, recs[i].iov_len,
		    p + 12) < 0) {
			free(buf);
			snprintf(err, errsize, "SHA-256 failed");
			return -1;
		}
		memcpy(p + SPOOL_HEADER_LEN, recs[i].iov_base, recs[i].iov_len);
		p += SPOOL_HEADER_LEN + recs[i].iov_len;
	}

	if (sp->fd < 0 && open_active(sp, err, errsize) < 0) {
		free(buf);
		return -1;
	}
	if (sw_write_all(sp->fd, buf, total) < 0 ||
	    (sp->fsync_policy == SPOOL_FSYNC_ALWAYS && fdatasync(sp->fd) < 0)) {
		saved = errno;
		free(buf);
		snprintf(err, errsize, "write %s/%s: %s", sp->dir, sp->active,
		    strerror(saved));
		/*
		 * Cut the failed write off again.  If even that fails the
		 * file is sealed as it is: the reader skips the torn tail.
		 */
		if (ftruncate(sp->fd, (off_t)sp->active_size) < 0) {
			char	 ignored[64];

			(void)spool_seal(sp, ignored, sizeof ignored);
		}
		errno = saved;
		return -1;
	}
	free(buf);
	sp->active_size += total;
	pthread_mutex_lock(&sp->lock);
	sp->nbytes += (long long)total;
	pthread_mutex_unlock(&sp->lock);
	if (sp->active_size >= sp->file_max)
		return spool_seal(sp, err, errsize);
	return 0;
}

/* spool_seal - close the active file; the reader may take it now */

int
spool_seal(struct spool *sp, char *err, size_t errsize)
{
	int	 rc = 0;

	if (sp->fd < 0)
		return 0;
	if (sp->fsync_policy == SPOOL_FSYNC_CLOSE &&
	    (fdatasync(sp->fd) < 0 || fsync(sp->dirfd) < 0)) {
		snprintf(err, errsize, "fsync %s/%s: %s", sp->dir, sp->active,
		    strerror(errno));
		rc = -1;
	}
	close(sp->fd);
	sp->fd = -1;
	sp->active_size = 0;
	pthread_mutex_lock(&sp->lock);
	sp->active[0] = '\0';
	pthread_mutex_unlock(&sp->lock);
	return rc;
}

/* spool_active_bytes - size of the file being written */

size_t
spool_active_bytes(struct spool *sp)
{
	return sp->fd < 0 ? 0 : sp->active_size;
}

/* spool_files - spool files on disk, the active one included */

size_t
spool_files(struct spool *sp)
{
	size_t	 n;

	pthread_mutex_lock(&sp->lock);
	n = sp->nfiles;
	pthread_mutex_unlock(&sp->lock);
	return n;
}

/* spool_bytes - their size together */

long long
spool_bytes(struct spool *sp)
{
	long long n;

	pthread_mutex_lock(&sp->lock);
	n = sp->nbytes;
	pthread_mutex_unlock(&sp->lock);
	return n;
}

/* name_cmp - qsort order of names: oldest first */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* spool_list - complete files, oldest first */

int
spool_list(struct spool *sp, char ***names, size_t *n, char *err,
    size_t errsize)
{
	char	**v = NULL, **nv;
	size_t	 cnt = 0, cap = 0;
	struct dirent *de;
	DIR	*d;
	int	 fd, active;

	*names = NULL;
	*n = 0;
	if ((fd = dup(sp->dirfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		snprintf(err, errsize, "spool_dir %s: %s", sp->dir,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (spool_name_parse(de->d_name, NULL, NULL, NULL) < 0)
			continue;

		/*
		 * Compared now, not once before the loop: the writer may
		 * have sealed one file and begun the next since then.  A
		 * name is marked active before its file exists, so a file
		 * seen here and not active now is complete.
		 */
		pthread_mutex_lock(&sp->lock);
		active = strcmp(de->d_name, sp->active) == 0;
		pthread_mutex_unlock(&sp->lock);
		if (active)
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(v, cap, sizeof *v)) == NULL)
				goto nomem;
			v = nv;
		}
		if ((v[cnt] = strdup(de->d_name)) == NULL)
			goto nomem;
		cnt++;
	}
	closedir(d);
	if (cnt > 0)
		qsort(v, cnt, sizeof *v, name_cmp);
	*names = v;
	*n = cnt;
	return 0;
nomem:
	closedir(d);
	spool_list_free(v, cnt);
	snprintf(err, errsize, "out of memory");
	return -1;
}

/* spool_list_free - release what spool_list() made */

void
spool_list_free(char **names, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* spool_reader_open - read one complete file into memory */

struct spool_reader *
spool_reader_open(struct spool *sp, const char *name, char *err,
    size_t errsize)
{
	struct spool_reader *r;
	struct stat st;
	size_t	 got = 0;
	ssize_t	 k;
	int	 fd;

	if (strlen(name) > SPOOL_NAME_LEN) {
		snprintf(err, errsize, "%s: not a spool file name", name);
		return NULL;
	}
	if ((fd = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errsize, "open %s/%s: %s", sp->dir, name,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errsize, "stat %s/%s: %s", sp->dir, name,
		    strerror(errno));
		close(fd);
		return NULL;
	}
	if ((r = calloc(1, sizeof *r)) == NULL ||
	    (r->buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1)) ==
	    NULL || (r->md = EVP_MD_CTX_new()) == NULL) {
		snprintf(err, errsize, "out of memory for %s/%s (%lld bytes)",
		    sp->dir, name, (long long)st.st_size);
		close(fd);
		if (r != NULL) {
			free(r->buf);
			free(r);
		}
		return NULL;
	}
	msgpack_unpacked_init(&r->unpacked);
	/* A file that shrinks while read is read as far as it goes. */
	while (got < (size_t)st.st_size) {
		k = pread(fd, r->buf + got, (size_t)st.st_size - got,
		    (off_t)got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			snprintf(err, errsize, "read %s/%s: %s", sp->dir,
			    name, strerror(errno));
			close(fd);
			spool_reader_close(r);
			return NULL;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	memcpy(r->name, name, strlen(name) + 1);
	r->len = got;
	return r;
}

/*
 * frame_at - is there a whole valid frame at buf[pos]?  Its size in
 * *size, or NULL; otherwise the reason.
 */
static const char *
frame_at(struct spool_reader *r, size_t pos, size_t *size)
{
	const unsigned char *p = (const unsigned char *)r->buf + pos;
	unsigned char check[SPOOL_CHECK_LEN];
	size_t	 left = r->len - pos, off = 0;
	uint32_t len;

	if (left < SPOOL_HEADER_LEN)
		return "file ends inside a frame header (torn write)";
	if (memcmp(p, SPOOL_MAGIC, 4) != 0)
		return "no frame magic";
	if (p[4] != SPOOL_VERSION)
		return "unknown frame version";
	if (p[5] != SPOOL_TYPE_RECORD || p[6] != 0 || p[7] != 0)
		return "unknown frame type";
	len = get_be32(p + 8);
	if (len == 0 || len > SW_FRAME_MAX)
		return "frame length out of bounds";
	if (left - SPOOL_HEADER_LEN < len)
		return "file ends inside a frame (torn write)";
	if (frame_check(r->md, p, p + SPOOL_HEADER_LEN, len, check) < 0 ||
	    memcmp(check, p + 12, SPOOL_CHECK_LEN) != 0)
		return "checksum mismatch";
	/*
	 * A frame whose check matches holds what was written; this only
	 * keeps a writer's own bug from wedging the daemon's decoder.
	 */
	if (msgpack_unpack_next(&r->unpacked, (const char *)p +
	    SPOOL_HEADER_LEN, len, &off) != MSGPACK_UNPACK_SUCCESS ||
	    off != len || r->unpacked.data.type != MSGPACK_OBJECT_ARRAY)
		return "payload is not one record";
	*size = SPOOL_HEADER_LEN + len;
	return NULL;
}

/* spool_reader_next - the next good frame, or the next damaged stretch */

int
spool_reader_next(struct spool_reader *r, struct spool_frame *f)
{
	const char *why;
	size_t	 size, p;
	char	*m;

	memset(f, 0, sizeof *f);
	if (r->pos >= r->len)
		return 0;
	f->sf_offset = (off_t)r->pos;
	if ((why = frame_at(r, r->pos, &size)) == NULL) {
		f->sf_type = SPOOL_RECORD;
		f->sf_size = size;
		f->sf_data = r->buf + r->pos + SPOOL_HEADER_LEN;
		f->sf_len = size - SPOOL_HEADER_LEN;
		r->pos += size;
		return 1;
	}

	/* Damaged: resume at the next place that holds a valid frame. */
	f->sf_type = SPOOL_BAD;
	f->sf_why = why;
	for (p = r->pos + 1; p < r->len; p = (size_t)(m - r->buf) + 1) {
		if ((m = memmem(r->buf + p, r->len - p, SPOOL_MAGIC, 4)) ==
		    NULL)
			break;
		if (frame_at(r, (size_t)(m - r->buf), &size) == NULL) {
			/* Not the end of the file after all. */
			if (strstr(why, "torn") != NULL)
				f->sf_why = "frame length does not match its "
				    "data";
			f->sf_size = (size_t)(m - r->buf) - r->pos;
			r->pos = (size_t)(m - r->buf);
			return 1;
		}
	}
	f->sf_size = r->len - r->pos;
	r->pos = r->len;
	return 1;
}

/* spool_reader_size - bytes read from the file */

off_t
spool_reader_size(const struct spool_reader *r)
{
	return (off_t)r->len;
}

/* spool_reader_close - release a reader */

void
spool_reader_close(struct spool_reader *r)
{
	if (r == NULL)
		return;
	msgpack_unpacked_destroy(&r->unpacked);
	EVP_MD_CTX_free(r->md);
	free(r->buf);
	free(r);
}

/* spool_forget - a file of this size no longer counts in the spool */

static void
spool_forget(struct spool *sp, off_t size)
{
	pthread_mutex_lock(&sp->lock);
	if (sp->nfiles > 0)
		sp->nfiles--;
	sp->nbytes -= size;
	if (sp->nbytes < 0)
		sp->nbytes = 0;
	pthread_mutex_unlock(&sp->lock);
}

/* spool_remove - a file fully acknowledged goes */

int
spool_remove(struct spool *sp, const char *name, char *err,
    size_t errsize)
{
	struct stat st;

	if (fstatat(sp->dirfd, name, &st, 0) < 0 ||
	    unlinkat(sp->dirfd, name, 0) < 0) {
		snprintf(err, errsize, "remove %s/%s: %s", sp->dir, name,
		    strerror(errno));
		return -1;
	}
	spool_forget(sp, st.st_size);
	return 0;
}

/* spool_set_aside - rename a file that cannot be replayed out of the way */

int
spool_set_aside(struct spool *sp, const char *name, char *err,
    size_t errsize)
{
	char	 bad[SPOOL_NAME_LEN + 8];
	struct stat st;

	snprintf(bad, sizeof bad, "%s.bad", name);
	if (fstatat(sp->dirfd, name, &st, 0) < 0 ||
	    renameat(sp->dirfd, name, sp->dirfd, bad) < 0) {
		snprintf(err, errsize, "rename %s/%s: %s", sp->dir, name,
		    strerror(errno));
		return -1;
	}
	spool_forget(sp, st.st_size);
	return 0;
}
