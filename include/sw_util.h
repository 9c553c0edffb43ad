/*
 * sw_util.h - small helpers both programs need: clocks, random ids,
 * UTC formatting, privilege drop.
 *
 * DIAGNOSTICS: functions that can fail return -1 with errno set, or a
 * message in a caller buffer where noted.
 * BUGS: none known.
 */
#ifndef SW_UTIL_H
#define SW_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Wall clock in microseconds since the epoch. */
int64_t	sw_now_us(void);
/* Monotonic clock in microseconds. */
int64_t	sw_mono_us(void);

/* A non-zero random 64-bit id from the kernel's generator. */
uint64_t sw_random_id(void);

/* "YYYY-MM-DD HH:MM:SS.uuuuuu" UTC into buf (at least 27 bytes). */
char	*sw_format_utc(int64_t us, char *buf, size_t bufsize);

/* 16 lowercase hex digits into buf (at least 17 bytes). */
char	*sw_format_id(uint64_t id, char *buf);

/*
 * Look up user and group, for sw_drop_privileges().  A user or group
 * that is root's (uid or gid 0) is refused.  0, or -1 with a
 * message in err.
 */
int	sw_lookup_owner(const char *user, const char *group, uid_t *uid,
	    gid_t *gid, char *err, size_t errsize);

/*
 * When running as root: clear supplementary groups and switch to
 * uid/gid for good, then make sure root cannot be regained.  Not root:
 * the process must already run as uid.  uid 0 is refused.  0, or -1
 * with a message.
 */
int	sw_drop_privileges(uid_t uid, gid_t gid, char *err, size_t errsize);

/* Write all of buf, retrying on EINTR and short writes. */
int	sw_write_all(int fd, const void *buf, size_t len);
/* Read exactly len bytes; 0, 1 on EOF before any byte, -1 on error. */
int	sw_read_all(int fd, void *buf, size_t len);

/*
 * Make way for a unix socket at path: nothing there is fine; a stale
 * socket (connect refused) is removed; a live socket or anything that is
 * not a socket is left alone and reported.  0, or -1 with a message.
 */
int	sw_unix_socket_prepare(const char *path, char *err, size_t errsize);

#endif /* SW_UTIL_H */
