/*
 * util.c - clocks, random ids, UTC formatting, full reads and writes,
 * and the privilege drop that both programs share.
 *
 * DIAGNOSTICS: -1 with errno, or a message in the caller's buffer.
 * BUGS: none known.
 */

#include "config.h"
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sw_util.h"

/* sw_now_us - wall clock, microseconds */

int64_t
sw_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* sw_mono_us - monotonic clock, microseconds */

int64_t
sw_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* sw_random_id - non-zero 64-bit id from getrandom(2) */

uint64_t
sw_random_id(void)
{
	uint64_t id = 0;

	while (id == 0) {
		ssize_t	 n = getrandom(&id, sizeof id, 0);

		if (n != (ssize_t)sizeof id) {
			/*
			 * XXX getrandom cannot fail for 8 bytes once the pool
			 * is initialised; spin rather than hand out 0.
			 */
			id = 0;
		}
	}
	return id;
}

/* sw_format_utc - readable UTC time with microseconds */

char *
sw_format_utc(int64_t us, char *buf, size_t bufsize)
{
	time_t	 secs = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, bufsize, "%04d-%02d-%02d %02d:%02d:%02d.%06ld",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)(us % 1000000));
	return buf;
}

/* sw_format_id - 16 hex digits */

char *
sw_format_id(uint64_t id, char *buf)
{
	snprintf(buf, 17, "%016" PRIx64, id);
	return buf;
}

/* sw_lookup_owner - uid and gid of the configured user and group */

int
sw_lookup_owner(const char *user, const char *group, uid_t *uid,
    gid_t *gid, char *err, size_t errsize)
{
	struct passwd *pw;
	struct group *gr;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errsize, "user \"%s\" does not exist", user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (group != NULL && *group != '\0') {
		if ((gr = getgrnam(group)) == NULL) {
			snprintf(err, errsize, "group \"%s\" does not exist",
			    group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	/*
	 * Both programs parse client data; neither may keep root's power
	 * after start-up, and root's group opens too many files.
	 */
	if (*uid == 0) {
		snprintf(err, errsize, "user \"%s\" is root: refusing to run "
		    "as root; set user to an unprivileged account such as "
		    "smtpwarden", user);
		return -1;
	}
	if (*gid == 0) {
		snprintf(err, errsize, "group \"%s\" is gid 0: refusing to "
		    "run with root's group; set group to one of its own such "
		    "as smtpwarden", group != NULL && *group != '\0' ?
		    group : "(the user's primary group)");
		return -1;
	}
	return 0;
}

/* sw_drop_privileges - become uid/gid for good when root */

int
sw_drop_privileges(uid_t uid, gid_t gid, char *err, size_t errsize)
{
	if (uid == 0) {
		snprintf(err, errsize, "refusing to run as root");
		return -1;
	}
	if (geteuid() != 0 && getuid() != 0) {
		/* Started as a user (systemd User=): it must be ours. */
		if (geteuid() != uid) {
			snprintf(err, errsize, "running as uid %ld, not as root "
			    "or as the configured user (uid %ld): start as one "
			    "of them", (long)geteuid(), (long)uid);
			return -1;
		}
		return 0;
	}
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0) {
		snprintf(err, errsize, "cannot switch to uid %ld gid %ld: %s",
		    (long)uid, (long)gid, strerror(errno));
		return -1;
	}
	if (getuid() == 0 || geteuid() == 0 || setuid(0) == 0 ||
	    seteuid(0) == 0) {
		snprintf(err, errsize, "still root after switching to uid %ld; "
		    "refusing to go on", (long)uid);
		return -1;
	}
	return 0;
}

/* sw_write_all - write everything */

int
sw_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t	 n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* sw_read_all - read exactly len bytes */

int
sw_read_all(int fd, void *buf, size_t len)
{
	char	*p = buf;
	size_t	 got = 0;

	while (got < len) {
		ssize_t	 n = read(fd, p + got, len - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			if (got == 0)
				return 1;
			errno = EPIPE;
			return -1;
		}
		got += n;
	}
	return 0;
}

/* sw_unix_socket_prepare - remove a stale socket, refuse a live one */

int
sw_unix_socket_prepare(const char *path, char *err, size_t errsize)
{
	struct sockaddr_un sun;
	struct stat st;
	int	 fd, rc;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errsize, "%s exists and is not a socket; "
		    "not removing it", path);
		return -1;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errsize, "%s: path too long for a socket", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errsize, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	close(fd);
	if (rc == 0) {
		snprintf(err, errsize, "%s is in use by a running instance",
		    path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		snprintf(err, errsize, "%s: cannot probe: %s", path,
		    strerror(errno));
		return -1;
	}
	if (unlink(path) < 0) {
		snprintf(err, errsize, "%s: cannot remove stale socket: %s",
		    path, strerror(errno));
		return -1;
	}
	return 0;
}
