/*
 * testutil.c - helpers shared by the Check unit tests: byte-string
 * comparison with a readable difference, and scratch directories and
 * files for tests that need a real file system (see testutil.h).
 *
 * DIAGNOSTICS: a scratch file or directory that cannot be made fails
 * the running test with the system's reason.
 * BUGS: none known.
 */

#include "config.h"
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/* How many bytes of each side a difference message shows. */
#define TU_SHOW_BYTES	24

/* Open file descriptors nftw() may use while removing a tree. */
#define TU_NFTW_FDS	16

static void	tu_hex(char *buf, size_t bufsize, const unsigned char *p,
		    size_t len);
static int	tu_rm_one(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw);

/* tu_str_ends - does s end in suffix? */

int
tu_str_ends(const char *s, const char *suffix)
{
	size_t	 n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* tu_hex - the first bytes of p as hex pairs, "..." when there are more */

static void
tu_hex(char *buf, size_t bufsize, const unsigned char *p, size_t len)
{
	size_t	 i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < len && i < TU_SHOW_BYTES && o + 4 < bufsize; i++)
		o += snprintf(buf + o, bufsize - o, "%s%02x", i ? " " : "",
		    p[i]);
	if (i < len && o + 4 < bufsize)
		snprintf(buf + o, bufsize - o, " ...");
}

/*
 * tu_mem_cmp - compare two byte strings exactly.
 * Parameters: msg/msgsize receive the difference; got/glen and
 * want/wlen are the two sides.
 * Returns: 0 when equal, -1 otherwise.
 */
int
tu_mem_cmp(char *msg, size_t msgsize, const void *got, size_t glen,
    const void *want, size_t wlen)
{
	const unsigned char *g = got, *w = want;
	char	 gh[4 * TU_SHOW_BYTES + 8], wh[4 * TU_SHOW_BYTES + 8];
	size_t	 i;

	msg[0] = '\0';
	if (glen == wlen && (glen == 0 || memcmp(g, w, glen) == 0))
		return 0;
	if (g == NULL) {
		snprintf(msg, msgsize, "got NULL, want %zu bytes", wlen);
		return -1;
	}

	/* Show both sides from the first byte that differs. */
	for (i = 0; i < glen && i < wlen && g[i] == w[i]; i++)
		continue;
	tu_hex(gh, sizeof gh, g + i, glen - i);
	tu_hex(wh, sizeof wh, w + i, wlen - i);
	snprintf(msg, msgsize, "got %zu bytes, want %zu; from offset %zu "
	    "got [%s], want [%s]", glen, wlen, i, gh, wh);
	return -1;
}

/* tu_tmpdir - a new private directory for one test */

char *
tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char	 tmpl[PATH_MAX];
	char	*dir;
	int	 n;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	n = snprintf(tmpl, sizeof tmpl, "%s/swcheck.XXXXXX", base);
	ck_assert_msg(n > 0 && (size_t)n < sizeof tmpl,
	    "temporary directory name: got %d bytes, want under %zu", n,
	    sizeof tmpl);
	if (mkdtemp(tmpl) == NULL)
		ck_abort_msg("mkdtemp %s: %s", tmpl, strerror(errno));
	if ((dir = strdup(tmpl)) == NULL)
		ck_abort_msg("strdup: out of memory");
	return dir;
}

/* tu_rm_one - nftw() callback: remove one entry, children first */

static int
tu_rm_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

/* tu_rmtree - remove a scratch directory and what the test left in it */

void
tu_rmtree(const char *dir)
{
	if (dir != NULL)
		(void)nftw(dir, tu_rm_one, TU_NFTW_FDS, FTW_DEPTH | FTW_PHYS);
}

/* tu_write_file - a new file in dir with the given contents */

char *
tu_write_file(const char *dir, const void *data, size_t len)
{
	char	 path[PATH_MAX];
	char	*copy;
	int	 fd;

	snprintf(path, sizeof path, "%s/conf.XXXXXX", dir);
	if ((fd = mkstemp(path)) < 0)
		ck_abort_msg("mkstemp %s: %s", path, strerror(errno));
	if (len > 0 && write(fd, data, len) != (ssize_t)len)
		ck_abort_msg("write %s: %s", path, strerror(errno));
	if (close(fd) != 0)
		ck_abort_msg("close %s: %s", path, strerror(errno));
	if ((copy = strdup(path)) == NULL)
		ck_abort_msg("strdup: out of memory");
	return copy;
}
