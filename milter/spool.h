/*
 * spool.h - the milter's append-only spool: transcript records kept on
 * disk while smtpwardend cannot take them, and read back, oldest first,
 * when it can.
 *
 * Files.  The spool is a directory (spool_dir) of files named
 *
 *	TTTTTTTTTTTTTTTT-IIIIIIIIIIIIIIII-NNNNNNNN.spool
 *
 * T is the file's creation time in microseconds since the epoch, I the
 * instance id of the milter process that wrote it, N a counter within
 * that process; all lowercase hex, fixed width.  Sorting the names as
 * strings therefore sorts the files oldest first, and a writer never
 * goes back in time (a clock that steps back gets the last time plus
 * one).  The instance id in the name says which process wrote the file;
 * each record inside carries its own (instance, session, sequence) key,
 * so a restarted milter, with a new instance id, replays the file and
 * the daemon stores each record under its original key.  Only the
 * active file of the running process is ever written; every other file
 * in the directory is complete and is read whole.  A lock file,
 * ".lock", held with flock(2), keeps a second milter process out of
 * the same directory.
 *
 * Frames.  A file is a sequence of frames, one per record:
 *
 *	offset	size	field
 *	0	4	magic 0x89 'S' 'W' 'S'
 *	4	1	version, SPOOL_VERSION
 *	5	1	type, SPOOL_TYPE_RECORD
 *	6	2	zero
 *	8	4	payload length, big-endian, 1..SW_FRAME_MAX
 *	12	8	check: the first 8 bytes of the SHA-256 of bytes 0..11
 *			and the payload
 *	20	len	payload: one record in MessagePack (sw_record.h)
 *
 * The check covers the length, so a damaged length is caught like
 * damaged data.  A frame that fails any test (a torn write at the end
 * of the file, a flipped byte anywhere) is reported with its offset and
 * skipped: the reader looks for the next magic from the byte after the
 * bad frame's start and resumes at the first position that holds a
 * whole, valid frame, so every good frame before and after the damage
 * is still read.
 *
 * Writes.  spool_append() writes all frames of a batch with one
 * write(2); a write that fails part way is cut off again (ftruncate), so
 * the file never keeps a torn frame from a failure the writer saw.  The
 * fsync policy (SPOOL_FSYNC_*) says when data reach the disk; a
 * process crash loses nothing that write(2) returned for, whatever the
 * policy.
 *
 * Threads.  One thread writes (spool_append, spool_seal); another may
 * list, read and remove complete files at the same time.
 *
 * DIAGNOSTICS: functions that fail return -1 and describe the failure
 * in the caller's buffer; the reader reports damaged frames as
 * SPOOL_BAD with offset and reason instead of failing.
 * BUGS: a file is read into memory whole; files are rotated at
 * SPOOL_FILE_MAX bytes, so that is a few megabytes.
 */
#ifndef SPOOL_H
#define SPOOL_H

#include <sys/types.h>
#include <sys/uio.h>

#include <stddef.h>
#include <stdint.h>

#define SPOOL_MAGIC		"\x89SWS"
#define SPOOL_VERSION		1
#define SPOOL_TYPE_RECORD	1
#define SPOOL_HEADER_LEN	20
#define SPOOL_CHECK_LEN		8
#define SPOOL_SUFFIX		".spool"
/* Name length without the NUL: 16 + 1 + 16 + 1 + 8 + 6. */
#define SPOOL_NAME_LEN		48

/* The active file is sealed once it holds this much. */
#define SPOOL_FILE_MAX		(4 * 1024 * 1024)

enum spool_fsync {
	SPOOL_FSYNC_ALWAYS,	/* each append, before it counts as done */
	SPOOL_FSYNC_CLOSE,	/* when a file is sealed */
	SPOOL_FSYNC_NEVER	/* when the kernel likes */
};

struct spool_conf {
	const char	*sc_dir;
	uint64_t	 sc_instance;	/* goes into the names of new files */
	long long	 sc_max_bytes;	/* all files together; 0: no limit */
	int		 sc_fsync;	/* enum spool_fsync */
	size_t		 sc_file_max;	/* 0: SPOOL_FILE_MAX */
};

struct spool;
struct spool_reader;

/* What spool_reader_next() found. */
enum spool_frame_type {
	SPOOL_RECORD = 1,	/* a good frame */
	SPOOL_BAD		/* damaged bytes, skipped */
};

struct spool_frame {
	int		 sf_type;	/* enum spool_frame_type */
	off_t		 sf_offset;	/* where it starts in the file */
	size_t		 sf_size;	/* bytes it covers, header included */
	const char	*sf_data;	/* SPOOL_RECORD: the payload */
	size_t		 sf_len;
	const char	*sf_why;	/* SPOOL_BAD: a reason */
};

/*
 * Open the directory: take the lock and count the files already there.
 * NULL with a reason when the directory is missing or another process
 * holds the lock.  A directory that cannot be written is no error here
 * (appends fail later, and say so); *warning is then set to a reason.
 */
struct spool *spool_open(const struct spool_conf *, char *warning,
	    size_t warnsize, char *err, size_t errsize);
/* Seal the active file and release everything. */
void	spool_close(struct spool *);

/* Writer.  Append one frame per record; 0, or -1 and nothing written. */
int	spool_append(struct spool *, const struct iovec *recs, size_t n,
	    char *err, size_t errsize);
/* Close the active file so that the reader may take it; 0 or -1. */
int	spool_seal(struct spool *, char *err, size_t errsize);
/* Bytes in the active file, 0 when there is none. */
size_t	spool_active_bytes(struct spool *);

/* Files not yet removed, the active one included, and their bytes. */
size_t	spool_files(struct spool *);
long long spool_bytes(struct spool *);

/*
 * Complete files, oldest first (the active file is left out).  The
 * names are malloc'd; spool_list_free() releases them.  -1 on error.
 */
int	spool_list(struct spool *, char ***names, size_t *n, char *err,
	    size_t errsize);
void	spool_list_free(char **names, size_t n);

/* The instance id and counter in a spool file name; -1 if not one. */
int	spool_name_parse(const char *name, int64_t *time_us,
	    uint64_t *instance, uint32_t *counter);

/* Reader: one complete file, read whole. */
struct spool_reader *spool_reader_open(struct spool *, const char *name,
	    char *err, size_t errsize);
/* 1 with *frame filled, 0 at the end of the file. */
int	spool_reader_next(struct spool_reader *, struct spool_frame *frame);
off_t	spool_reader_size(const struct spool_reader *);
void	spool_reader_close(struct spool_reader *);

/* Remove a file whose every record is acknowledged; 0 or -1. */
int	spool_remove(struct spool *, const char *name, char *err,
	    size_t errsize);

/*
 * Rename a file that cannot be read to NAME.bad, where the replay no
 * longer sees it and an operator can look at it; 0 or -1.
 */
int	spool_set_aside(struct spool *, const char *name, char *err,
	    size_t errsize);

#endif /* SPOOL_H */
