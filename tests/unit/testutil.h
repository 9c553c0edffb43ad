/*
 * testutil.h - helpers shared by the Check unit tests in tests/unit/:
 * assertions whose failure messages read "got X, want Y", and scratch
 * directories and files under $TMPDIR (or /tmp) that a fixture removes
 * again.
 *
 * DIAGNOSTICS: the helpers fail the running test (ck_abort_msg) when
 * the system refuses a temporary file or directory.
 * BUGS: none known.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <check.h>

/* Signed integers: evaluates each argument once. */
#define TU_INT_EQ(got, want) do {					\
	intmax_t tu_g_ = (intmax_t)(got), tu_w_ = (intmax_t)(want);	\
									\
	ck_assert_msg(tu_g_ == tu_w_, "%s: got %jd, want %jd", #got,	\
	    tu_g_, tu_w_);						\
} while (0)

/* Unsigned integers, printed in decimal. */
#define TU_UINT_EQ(got, want) do {					\
	uintmax_t tu_g_ = (uintmax_t)(got), tu_w_ = (uintmax_t)(want);	\
									\
	ck_assert_msg(tu_g_ == tu_w_, "%s: got %ju, want %ju", #got,	\
	    tu_g_, tu_w_);						\
} while (0)

/* File modes and other values that read best in octal. */
#define TU_OCT_EQ(got, want) do {					\
	uintmax_t tu_g_ = (uintmax_t)(got), tu_w_ = (uintmax_t)(want);	\
									\
	ck_assert_msg(tu_g_ == tu_w_, "%s: got 0%jo, want 0%jo", #got,	\
	    tu_g_, tu_w_);						\
} while (0)

/* C strings; NULL is shown as "(null)" rather than dereferenced. */
#define TU_STR_EQ(got, want) do {					\
	const char *tu_g_ = (got), *tu_w_ = (want);			\
									\
	ck_assert_msg(tu_g_ != NULL && tu_w_ != NULL ?			\
	    strcmp(tu_g_, tu_w_) == 0 : tu_g_ == tu_w_,			\
	    "%s: got \"%s\", want \"%s\"", #got,			\
	    tu_g_ ? tu_g_ : "(null)", tu_w_ ? tu_w_ : "(null)");	\
} while (0)

/* A substring that must appear in a C string. */
#define TU_STR_HAS(got, want) do {					\
	const char *tu_g_ = (got), *tu_w_ = (want);			\
									\
	ck_assert_msg(tu_g_ != NULL && strstr(tu_g_, tu_w_) != NULL,	\
	    "%s: got \"%s\", want it to contain \"%s\"", #got,		\
	    tu_g_ ? tu_g_ : "(null)", tu_w_);				\
} while (0)

/* The ending a C string must have (defaults built from install paths). */
#define TU_STR_ENDS(got, want) do {					\
	const char *tu_g_ = (got), *tu_w_ = (want);			\
									\
	ck_assert_msg(tu_g_ != NULL && tu_str_ends(tu_g_, tu_w_),	\
	    "%s: got \"%s\", want it to end in \"%s\"", #got,		\
	    tu_g_ ? tu_g_ : "(null)", tu_w_);				\
} while (0)

/* Byte strings, compared exactly; the message shows both in hex. */
#define TU_MEM_EQ(got, glen, want, wlen) do {				\
	char tu_m_[512];						\
									\
	ck_assert_msg(tu_mem_cmp(tu_m_, sizeof tu_m_, (got), (glen),	\
	    (want), (wlen)) == 0, "%s: %s", #got, tu_m_);		\
} while (0)

int	tu_str_ends(const char *s, const char *suffix);
/* 0 when equal; otherwise -1 and a "got X, want Y" text in msg. */
int	tu_mem_cmp(char *msg, size_t msgsize, const void *got, size_t glen,
	    const void *want, size_t wlen);

/* A fresh directory under $TMPDIR or /tmp; free() the path. */
char	*tu_tmpdir(void);
/* Remove a directory made by tu_tmpdir() and everything in it. */
void	tu_rmtree(const char *dir);
/* A new file in dir holding len bytes of data (mkstemp); free() it. */
char	*tu_write_file(const char *dir, const void *data, size_t len);

#endif /* TESTUTIL_H */
