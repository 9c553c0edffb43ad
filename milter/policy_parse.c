/*
 * policy_parse.c - reading a rules file into a rule set: the lexer, a
 * recursive-descent parser for conditions and actions, and the lists
 * and maps that rules refer to (inline or from files).
 *
 * Newlines carry no meaning, so a rule may run over several lines; each
 * statement starts with a keyword (mode, list, map, rule).  After an
 * error the parser skips to the next statement, so one pass reports
 * every error, each as "FILE:LINE:COLUMN: reason".  Regular expressions
 * are compiled here, once (PCRE2).
 *
 * DIAGNOSTICS: policy_load() returns NULL with every error in err.
 * BUGS: none known.
 */

#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

#define MAX_ERRORS	50
#define MAX_NESTING	64		/* parentheses and not */
#define MAX_FILE_BYTES	(64 * 1024 * 1024)

enum tok {
	T_EOF,
	T_IDENT,
	T_STRING,
	T_NUMBER,
	T_ARROW,
	T_EQ,
	T_NE,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_MATCH,
	T_NOMATCH,
	T_ASSIGN,
	T_LPAREN,
	T_RPAREN,
	T_LBRACE,
	T_RBRACE,
	T_LBRACK,
	T_RBRACK,
	T_COMMA,
	T_AT,
	T_BAD
};

struct token {
	enum tok	 t;
	char		*text;		/* owned; IDENT, STRING, NUMBER */
	int		 line;
	int		 col;
};

struct parser {
	const char	*file;
	char		*dir;		/* for relative list files */
	const char	*src;
	size_t		 len;
	size_t		 pos;
	int		 line;
	int		 col;
	struct token	 tok;		/* the current token */
	char		*err;
	size_t		 errsize;
	int		 nerrors;
	int		 failed;	/* the current statement failed */
	int		 depth;
	enum pol_stage	 stage;		/* of the rule being parsed */
	struct pol_ruleset *rs;
	size_t		 rate_cap;
	size_t		 rule_cap;
};

static const char *const stage_names[PS_MAX] = {
	"connect", "helo", "mail", "rcpt", "data", "header", "eoh", "eom",
	"unknown"
};

static struct pol_node *parse_expr(struct parser *);

/* policy_stage_name - a stage's name in the rules file */

const char *
policy_stage_name(enum pol_stage st)
{
	return st < PS_MAX ? stage_names[st] : "invalid";
}

/* perror_at - record one error at a position; further ones are capped */

static void	perror_at(struct parser *, int, int, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

static void
perror_at(struct parser *p, int line, int col, const char *fmt, ...)
{
	size_t	 used = strlen(p->err);
	char	 reason[512];
	va_list	 ap;

	p->failed = 1;
	if (++p->nerrors > MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	if (p->nerrors == MAX_ERRORS)
		snprintf(reason, sizeof reason, "too many errors, stopping");
	if (used + 1 < p->errsize)
		snprintf(p->err + used, p->errsize - used, "%s:%d:%d: %s\n",
		    p->file, line, col, reason);
}

/*
 * perror_tok - an error at the current token.  The lexer has already
 * reported a T_BAD token, so the statement fails without a second
 * error at the same place.
 */
#define perror_tok(p, ...) do {						\
	if ((p)->tok.t == T_BAD)					\
		(p)->failed = 1;					\
	else								\
		perror_at((p), (p)->tok.line, (p)->tok.col, __VA_ARGS__); \
} while (0)

/* ---------------------------------------------------------------- */
/* Lexer                                                            */
/* ---------------------------------------------------------------- */

/* lex_getc - next source character, keeping line and column */

static int
lex_getc(struct parser *p)
{
	int	 c;

	if (p->pos >= p->len)
		return EOF;
	c = (unsigned char)p->src[p->pos++];
	if (c == '\n') {
		p->line++;
		p->col = 1;
	} else
		p->col++;
	return c;
}

static int
lex_peek(const struct parser *p, size_t ahead)
{
	if (p->pos + ahead >= p->len)
		return EOF;
	return (unsigned char)p->src[p->pos + ahead];
}

static int
is_ident_char(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-';
}

/* lex_string - a double-quoted string with \" \\ \n \t escapes */

static void
lex_string(struct parser *p, struct token *t)
{
	size_t	 cap = 64, n = 0;
	char	*buf = malloc(cap);
	int	 c;

	if (buf == NULL) {
		perror_at(p, t->line, t->col, "out of memory");
		t->t = T_BAD;
		return;
	}
	(void)lex_getc(p);	/* the opening quote */
	for (;;) {
		c = lex_getc(p);
		if (c == EOF || c == '\n') {
			perror_at(p, t->line, t->col, "unterminated string");
			free(buf);
			t->t = T_BAD;
			return;
		}
		if (c == '"')
			break;
		if (c == '\\') {
			c = lex_getc(p);
			switch (c) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case '"':
			case '\\':
				break;
			default:
				perror_at(p, p->line, p->col - 1,
				    "unknown escape \"\\%c\" in string",
				    c == EOF ? '?' : c);
				break;
			}
		}
		if (n + 2 > cap) {
			char	*nb = realloc(buf, cap *= 2);

			if (nb == NULL) {
				perror_at(p, t->line, t->col, "out of memory");
				free(buf);
				t->t = T_BAD;
				return;
			}
			buf = nb;
		}
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	t->t = T_STRING;
	t->text = buf;
}

/* single_char_token - the token a lone punctuation character makes */

static enum tok
single_char_token(int c)
{
	static const struct {
		char		 ch;
		enum tok	 tok;
	} singles[] = {
		{ '(', T_LPAREN }, { ')', T_RPAREN }, { '{', T_LBRACE },
		{ '}', T_RBRACE }, { '[', T_LBRACK }, { ']', T_RBRACK },
		{ ',', T_COMMA }, { '@', T_AT },
	};
	size_t	 i;

	for (i = 0; i < sizeof singles / sizeof singles[0]; i++)
		if (singles[i].ch == c)
			return singles[i].tok;
	return T_BAD;
}

/*
 * operator_token - a comparison or assignment operator starting with c
 * (the next character decides between "<" and "<=", "=" and "==" or
 * "=~", ...), consuming its second character; T_BAD if none.
 */
static enum tok
operator_token(struct parser *p, int c)
{
	static const struct {
		char		 first;
		char		 second;	/* 0: the one-character form */
		enum tok	 tok;
	} ops[] = {
		{ '<', '=', T_LE }, { '<', 0, T_LT },
		{ '>', '=', T_GE }, { '>', 0, T_GT },
		{ '=', '=', T_EQ }, { '=', '~', T_MATCH }, { '=', 0, T_ASSIGN },
		{ '!', '=', T_NE }, { '!', '~', T_NOMATCH },
	};
	size_t	 i;

	for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		if (ops[i].first != c)
			continue;
		if (ops[i].second == 0)
			return ops[i].tok;
		if (lex_peek(p, 0) == ops[i].second) {
			(void)lex_getc(p);
			return ops[i].tok;
		}
	}
	return T_BAD;
}

/* lex_next - read the next token into p->tok */

static void
lex_next(struct parser *p)
{
	struct token *t = &p->tok;
	int	 c;

	free(t->text);
	memset(t, 0, sizeof *t);
	for (;;) {
		c = lex_peek(p, 0);
		if (c == '#') {
			while ((c = lex_peek(p, 0)) != EOF && c != '\n')
				(void)lex_getc(p);
			continue;
		}
		if (c != EOF && isspace(c)) {
			(void)lex_getc(p);
			continue;
		}
		break;
	}
	t->line = p->line;
	t->col = p->col;
	if (c == EOF) {
		t->t = T_EOF;
		return;
	}
	if (c == '"') {
		lex_string(p, t);
		return;
	}
	if (c == '-' && lex_peek(p, 1) == '>') {
		(void)lex_getc(p);
		(void)lex_getc(p);
		t->t = T_ARROW;
		return;
	}
	if (is_ident_char(c)) {
		size_t	 start = p->pos;

		/* Names may hold '-', but "->" always ends them. */
		while (is_ident_char(lex_peek(p, 0)) &&
		    !(lex_peek(p, 0) == '-' && lex_peek(p, 1) == '>'))
			(void)lex_getc(p);
		t->text = strndup(p->src + start, p->pos - start);
		t->t = isdigit(c) ? T_NUMBER : T_IDENT;
		return;
	}
	(void)lex_getc(p);
	if ((t->t = single_char_token(c)) != T_BAD ||
	    (t->t = operator_token(p, c)) != T_BAD)
		return;
	t->t = T_BAD;
	perror_at(p, t->line, t->col, "unexpected character '%c'",
	    isprint(c) ? c : '?');
}

/* tok_is - is the current token this keyword? */

static int
tok_is(const struct parser *p, const char *word)
{
	return p->tok.t == T_IDENT && strcmp(p->tok.text, word) == 0;
}

/* expect - consume a token of type t or report what was wanted */

static int
expect(struct parser *p, enum tok t, const char *what)
{
	if (p->tok.t != t) {
		perror_tok(p, "expected %s", what);
		return -1;
	}
	lex_next(p);
	return 0;
}

/* take_text - steal the current token's text and advance */

static char *
take_text(struct parser *p)
{
	char	*text = p->tok.text;

	p->tok.text = NULL;
	lex_next(p);
	return text;
}

/* ---------------------------------------------------------------- */
/* Lists and maps                                                   */
/* ---------------------------------------------------------------- */

/*
 * item_init - classify and prepare one list entry; 0, or -1 with a
 * reason in why.
 */
static int
item_init(struct pol_item *it, const char *text, char *why, size_t whysize)
{
	size_t	 len = strlen(text);
	char	 addr[INET6_ADDRSTRLEN + 8], *slash;

	memset(it, 0, sizeof *it);
	if (len == 0) {
		snprintf(why, whysize, "empty list entry");
		return -1;
	}
	if (len >= 2 && text[0] == '/' && text[len - 1] == '/') {
		int	 ec;
		PCRE2_SIZE eo;

		it->pi_type = I_REGEX;
		it->pi_re = pcre2_compile((PCRE2_SPTR)text + 1, len - 2,
		    PCRE2_CASELESS | PCRE2_UTF, &ec, &eo, NULL);
		if (it->pi_re == NULL) {
			PCRE2_UCHAR msg[256];

			pcre2_get_error_message(ec, msg, sizeof msg);
			snprintf(why, whysize, "bad regular expression at "
			    "offset %zu: %s", (size_t)eo, (char *)msg);
			return -1;
		}
	} else if (text[0] == '@') {
		it->pi_type = I_DOMAIN;
	} else if (strpbrk(text, "*?[") != NULL) {
		it->pi_type = I_GLOB;
	} else if (len < sizeof addr && (strchr(text, ':') != NULL ||
	    (strchr(text, '.') != NULL &&
	    strspn(text, "0123456789./") == len))) {
		/* Digits alone ("25") are an exact entry, not an address. */
		char	*end;
		long	 prefix;

		it->pi_type = I_CIDR;
		memcpy(addr, text, len + 1);
		prefix = -1;
		if ((slash = strchr(addr, '/')) != NULL) {
			*slash = '\0';
			errno = 0;
			prefix = strtol(slash + 1, &end, 10);
			/* Digits only: no sign, no space, no empty length. */
			if (errno != 0 || *end != '\0' ||
			    !isdigit((unsigned char)slash[1])) {
				snprintf(why, whysize, "bad prefix length in "
				    "\"%s\"", text);
				return -1;
			}
		}
		if (pol_parse_address(addr, &it->pi_addr) < 0) {
			snprintf(why, whysize, "\"%s\" is not an IPv4 or IPv6 "
			    "address or network", text);
			return -1;
		}
		/* IPv4 is kept as IPv4-mapped IPv6: one comparison for both. */
		if (strchr(addr, ':') == NULL) {
			if (prefix > 32) {
				snprintf(why, whysize, "prefix /%ld is longer "
				    "than 32 in \"%s\"", prefix, text);
				return -1;
			}
			it->pi_prefix = prefix < 0 ? 128 : 96 + (int)prefix;
		} else {
			if (prefix > 128) {
				snprintf(why, whysize, "prefix /%ld is longer "
				    "than 128 in \"%s\"", prefix, text);
				return -1;
			}
			it->pi_prefix = prefix < 0 ? 128 : (int)prefix;
		}
		it->pi_family = AF_INET6;
	} else
		it->pi_type = I_EXACT;
	if ((it->pi_text = strdup(text)) == NULL) {
		snprintf(why, whysize, "out of memory");
		return -1;
	}
	return 0;
}

/* list_add - append an entry to a list */

static int
list_add(struct pol_list *l, const char *text, char *why, size_t whysize)
{
	struct pol_item *items;

	if (l->pl_nitems % 16 == 0) {
		items = reallocarray(l->pl_items, l->pl_nitems + 16,
		    sizeof *items);
		if (items == NULL) {
			snprintf(why, whysize, "out of memory");
			return -1;
		}
		l->pl_items = items;
	}
	if (item_init(&l->pl_items[l->pl_nitems], text, why, whysize) < 0)
		return -1;
	l->pl_nitems++;
	return 0;
}

/* read_file - a whole file into memory, NUL-terminated */

static char *
read_file(const char *path, size_t *len, char *why, size_t whysize)
{
	FILE	*fp;
	char	*buf;
	long	 size;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(why, whysize, "cannot open %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fseek(fp, 0, SEEK_END) < 0 || (size = ftell(fp)) < 0 ||
	    size > MAX_FILE_BYTES || fseek(fp, 0, SEEK_SET) < 0) {
		snprintf(why, whysize, "cannot read %s (too large?)", path);
		fclose(fp);
		return NULL;
	}
	if ((buf = malloc((size_t)size + 1)) == NULL ||
	    fread(buf, 1, (size_t)size, fp) != (size_t)size) {
		snprintf(why, whysize, "cannot read %s", path);
		free(buf);
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	buf[size] = '\0';
	*len = (size_t)size;
	return buf;
}

/* resolve_path - a list file path, relative to the rules file */

static char *
resolve_path(const struct parser *p, const char *path)
{
	char	*full;

	if (path[0] == '/')
		return strdup(path);
	if (asprintf(&full, "%s/%s", p->dir, path) < 0)
		return NULL;
	return full;
}

/*
 * load_words_file - each line of a list or map file, split into words;
 * calls add(ctx, words, nwords, line) per line with words.
 */
static int
load_words_file(struct parser *p, const char *path, int line, int col,
    int (*add)(struct parser *, void *, char **, int, const char *, int),
    void *ctx)
{
	char	 why[512], *full, *buf, *cur, *nl;
	size_t	 len;
	int	 lineno = 0, rc = 0;

	if ((full = resolve_path(p, path)) == NULL) {
		perror_at(p, line, col, "out of memory");
		return -1;
	}
	if ((buf = read_file(full, &len, why, sizeof why)) == NULL) {
		perror_at(p, line, col, "%s", why);
		free(full);
		return -1;
	}
	for (cur = buf; cur != NULL && *cur != '\0'; cur = nl) {
		char	*words[256], *w, *save = NULL;
		int	 n = 0;

		lineno++;
		if ((nl = strchr(cur, '\n')) != NULL)
			*nl++ = '\0';
		if ((w = strchr(cur, '#')) != NULL)
			*w = '\0';
		for (w = strtok_r(cur, " \t\r", &save); w != NULL && n < 256;
		    w = strtok_r(NULL, " \t\r", &save))
			words[n++] = w;
		if (n > 0 && add(p, ctx, words, n, full, lineno) < 0)
			rc = -1;
	}
	free(buf);
	free(full);
	return rc;
}

/* file_error - an error inside a list or map file, named by that file */

static int
file_error(struct parser *p, const char *file, int line, const char *why)
{
	size_t	 used = strlen(p->err);

	p->failed = 1;
	if (++p->nerrors <= MAX_ERRORS && used + 1 < p->errsize)
		snprintf(p->err + used, p->errsize - used, "%s:%d:1: %s\n",
		    file, line, why);
	return -1;
}

/* add_list_line - one entry per line of a list file */

static int
add_list_line(struct parser *p, void *ctx, char **words, int n,
    const char *file, int line)
{
	char	 why[512];

	if (n != 1) {
		snprintf(why, sizeof why, "one entry per line, found %d", n);
		goto bad;
	}
	if (list_add(ctx, words[0], why, sizeof why) == 0)
		return 0;
bad:
	return file_error(p, file, line, why);
}

/* add_map_line - "key entry entry ..." per line of a map file */

static int
add_map_line(struct parser *p, void *ctx, char **words, int n,
    const char *file, int line)
{
	struct pol_map *m = ctx;
	struct pol_map_entry *e;
	char	 why[512];
	int	 i;

	if (n < 2) {
		snprintf(why, sizeof why, "a map line needs a key and at "
		    "least one entry");
		goto bad;
	}
	if (m->pm_nentries % 16 == 0) {
		e = reallocarray(m->pm_entries, m->pm_nentries + 16,
		    sizeof *e);
		if (e == NULL) {
			snprintf(why, sizeof why, "out of memory");
			goto bad;
		}
		m->pm_entries = e;
	}
	e = &m->pm_entries[m->pm_nentries];
	e->pme_key = strdup(words[0]);
	e->pme_list = calloc(1, sizeof *e->pme_list);
	if (e->pme_key == NULL || e->pme_list == NULL) {
		free(e->pme_key);
		free(e->pme_list);
		snprintf(why, sizeof why, "out of memory");
		goto bad;
	}
	for (char *c = e->pme_key; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	m->pm_nentries++;
	for (i = 1; i < n; i++)
		if (list_add(e->pme_list, words[i], why, sizeof why) < 0)
			goto bad;
	return 0;
bad:
	return file_error(p, file, line, why);
}

static int
map_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pol_map_entry *)a)->pme_key,
	    ((const struct pol_map_entry *)b)->pme_key);
}

/*
 * map_merge - after sorting, join the entries of a key given on more
 * than one line, so that the lookup (a binary search, which finds any
 * one of equal keys) sees them all.  -1 when memory runs out; the key
 * then stays split and the load fails.
 */
static int
map_merge(struct pol_map *m)
{
	size_t	 i, o = 0;
	int	 rc = 0;

	for (i = 0; i < m->pm_nentries; i++) {
		struct pol_map_entry *e = &m->pm_entries[i];
		struct pol_list *to, *from = e->pme_list;
		struct pol_item *items;

		if (o == 0 ||
		    strcmp(m->pm_entries[o - 1].pme_key, e->pme_key) != 0) {
			m->pm_entries[o++] = *e;
			continue;
		}
		to = m->pm_entries[o - 1].pme_list;
		items = reallocarray(to->pl_items, to->pl_nitems +
		    from->pl_nitems, sizeof *items);
		if (items == NULL) {
			m->pm_entries[o++] = *e;
			rc = -1;
			continue;
		}
		/* The items move; their texts and patterns go with them. */
		memcpy(items + to->pl_nitems, from->pl_items,
		    from->pl_nitems * sizeof *items);
		to->pl_items = items;
		to->pl_nitems += from->pl_nitems;
		free(from->pl_items);
		free(from);
		free(e->pme_key);
	}
	m->pm_nentries = o;
	return rc;
}

/* store_add_list - keep a list in the rule set's store */

static int
store_add_list(struct pol_store *st, struct pol_list *l)
{
	struct pol_list **ls;

	ls = reallocarray(st->ps_lists, st->ps_nlists + 1, sizeof *ls);
	if (ls == NULL)
		return -1;
	st->ps_lists = ls;
	ls[st->ps_nlists++] = l;
	return 0;
}

/* find_list - a named list declared earlier */

static struct pol_list *
find_list(const struct pol_store *st, const char *name)
{
	size_t	 i;

	for (i = 0; i < st->ps_nlists; i++)
		if (st->ps_lists[i]->pl_name != NULL &&
		    strcmp(st->ps_lists[i]->pl_name, name) == 0)
			return st->ps_lists[i];
	return NULL;
}

/* find_map - a named map declared earlier */

static struct pol_map *
find_map(const struct pol_store *st, const char *name)
{
	size_t	 i;

	for (i = 0; i < st->ps_nmaps; i++)
		if (strcmp(st->ps_maps[i]->pm_name, name) == 0)
			return st->ps_maps[i];
	return NULL;
}

/* parse_inline_list - "{ "a", "b", ... }" after the brace */

static struct pol_list *
parse_inline_list(struct parser *p)
{
	struct pol_list *l = calloc(1, sizeof *l);
	char	 why[512];

	if (l == NULL || store_add_list(p->rs->rs_store, l) < 0) {
		free(l);
		perror_tok(p, "out of memory");
		return NULL;
	}
	lex_next(p);	/* the brace */
	while (p->tok.t != T_RBRACE) {
		if (p->tok.t != T_STRING) {
			perror_tok(p, "expected a quoted list entry");
			return NULL;
		}
		if (list_add(l, p->tok.text, why, sizeof why) < 0) {
			perror_tok(p, "%s", why);
			return NULL;
		}
		lex_next(p);
		if (p->tok.t == T_COMMA)
			lex_next(p);
		else if (p->tok.t != T_RBRACE) {
			perror_tok(p, "expected ',' or '}' in list");
			return NULL;
		}
	}
	lex_next(p);
	return l;
}

/* parse_list_stmt - "list NAME = { ... }" or "list NAME = file "path"" */

static void
parse_list_stmt(struct parser *p)
{
	struct pol_list *l;
	char	*name;
	int	 line, col;

	lex_next(p);
	if (p->tok.t != T_IDENT) {
		perror_tok(p, "expected a list name");
		return;
	}
	if (find_list(p->rs->rs_store, p->tok.text) != NULL) {
		perror_tok(p, "list \"%s\" is already defined", p->tok.text);
		return;
	}
	name = take_text(p);
	if (expect(p, T_ASSIGN, "'=' after the list name") < 0) {
		free(name);
		return;
	}
	if (p->tok.t == T_LBRACE) {
		if ((l = parse_inline_list(p)) == NULL) {
			free(name);
			return;
		}
		l->pl_name = name;
		return;
	}
	if (!tok_is(p, "file")) {
		perror_tok(p, "expected '{' or file after '='");
		free(name);
		return;
	}
	lex_next(p);
	if (p->tok.t != T_STRING) {
		perror_tok(p, "expected the quoted path of the list file");
		free(name);
		return;
	}
	line = p->tok.line;
	col = p->tok.col;
	if ((l = calloc(1, sizeof *l)) == NULL ||
	    store_add_list(p->rs->rs_store, l) < 0) {
		free(l);
		free(name);
		perror_tok(p, "out of memory");
		return;
	}
	l->pl_name = name;
	(void)load_words_file(p, p->tok.text, line, col, add_list_line, l);
	lex_next(p);
}

/* parse_map_stmt - "map NAME = file "path"" */

static void
parse_map_stmt(struct parser *p)
{
	struct pol_store *st = p->rs->rs_store;
	struct pol_map *m, **ms;
	int	 line, col;

	lex_next(p);
	if (p->tok.t != T_IDENT) {
		perror_tok(p, "expected a map name");
		return;
	}
	if (find_map(st, p->tok.text) != NULL) {
		perror_tok(p, "map \"%s\" is already defined", p->tok.text);
		return;
	}
	if ((m = calloc(1, sizeof *m)) == NULL ||
	    (ms = reallocarray(st->ps_maps, st->ps_nmaps + 1,
	    sizeof *ms)) == NULL) {
		free(m);
		perror_tok(p, "out of memory");
		return;
	}
	st->ps_maps = ms;
	ms[st->ps_nmaps++] = m;
	m->pm_name = take_text(p);
	if (expect(p, T_ASSIGN, "'=' after the map name") < 0)
		return;
	if (!tok_is(p, "file")) {
		perror_tok(p, "expected file after '='");
		return;
	}
	lex_next(p);
	if (p->tok.t != T_STRING) {
		perror_tok(p, "expected the quoted path of the map file");
		return;
	}
	line = p->tok.line;
	col = p->tok.col;
	(void)load_words_file(p, p->tok.text, line, col, add_map_line, m);
	if (m->pm_nentries > 1)
		qsort(m->pm_entries, m->pm_nentries, sizeof *m->pm_entries,
		    map_entry_cmp);
	if (map_merge(m) < 0)
		perror_at(p, line, col, "out of memory");
	lex_next(p);
}

/* ---------------------------------------------------------------- */
/* Conditions                                                       */
/* ---------------------------------------------------------------- */

static struct pol_node *
node_new(struct parser *p, enum pol_node_type type)
{
	struct pol_node *n = calloc(1, sizeof *n);

	if (n == NULL)
		perror_tok(p, "out of memory");
	else
		n->pn_type = type;
	return n;
}

/* parse_number - a number with an optional duration or size suffix */

static int
parse_number(const char *text, double *out, int *is_duration)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(text, &end);
	if (errno != 0 || end == text)
		return -1;
	*is_duration = 0;
	if (*end == '\0') {
		*out = v;
		return 0;
	}
	if (end[1] != '\0')
		return -1;
	switch (*end) {
	case 's':
		*is_duration = 1;
		break;
	case 'm':
		v *= 60;
		*is_duration = 1;
		break;
	case 'h':
		v *= 3600;
		*is_duration = 1;
		break;
	case 'd':
		v *= 86400;
		*is_duration = 1;
		break;
	case 'k':
	case 'K':
		v *= 1024;
		break;
	case 'M':
		v *= 1024 * 1024;
		break;
	case 'G':
		v *= 1024.0 * 1024 * 1024;
		break;
	default:
		return -1;
	}
	*out = v;
	return 0;
}

/* check_stage - may the current rule's stage read this field? */

static int
check_stage(struct parser *p, enum pol_field f, int line, int col)
{
	if (pol_field_stages(f) & (1u << p->stage))
		return 0;
	perror_at(p, line, col, "field %s is not known at stage %s",
	    pol_field_name(f), stage_names[p->stage]);
	return -1;
}

/* parse_rate - "rate(KEY, WINDOW)" after the name */

static struct pol_node *
parse_rate(struct parser *p, int recipients)
{
	struct pol_ruleset *rs = p->rs;
	struct pol_rate *rate;
	struct pol_node *n;
	enum pol_rate_key key;
	double	 window;
	int	 is_dur;
	size_t	 i;

	if (expect(p, T_LPAREN, "'(' after rate") < 0)
		return NULL;
	if (tok_is(p, "client.addr"))
		key = RK_CLIENT_ADDR;
	else if (tok_is(p, "client.net"))
		key = RK_CLIENT_NET;
	else if (tok_is(p, "auth.user"))
		key = RK_AUTH_USER;
	else if (tok_is(p, "sender"))
		key = RK_SENDER;
	else {
		perror_tok(p, "rate key must be client.addr, client.net, "
		    "auth.user or sender");
		return NULL;
	}
	if (key == RK_AUTH_USER && !(pol_field_stages(F_AUTH_USER) &
	    (1u << p->stage))) {
		perror_tok(p, "auth.user is not known at stage %s",
		    stage_names[p->stage]);
		return NULL;
	}
	if (key == RK_SENDER && !(pol_field_stages(F_SENDER) &
	    (1u << p->stage))) {
		perror_tok(p, "sender is not known at stage %s",
		    stage_names[p->stage]);
		return NULL;
	}
	lex_next(p);
	if (expect(p, T_COMMA, "',' after the rate key") < 0)
		return NULL;
	if (p->tok.t != T_NUMBER ||
	    parse_number(p->tok.text, &window, &is_dur) < 0 || !is_dur ||
	    window < 1 || window > 31 * 86400) {
		perror_tok(p, "rate window must be a duration such as 30s, "
		    "10m, 1h or 1d (at most 31d)");
		return NULL;
	}
	lex_next(p);
	if (expect(p, T_RPAREN, "')' after the rate window") < 0)
		return NULL;

	/* Rates with the same key, window and unit share one counter. */
	for (i = 0; i < rs->rs_nrates; i++) {
		rate = rs->rs_rates[i];
		if (rate->pr_key == key && rate->pr_recipients == recipients &&
		    rate->pr_window_us == (int64_t)(window * 1e6))
			goto found;
	}
	if (rs->rs_nrates == p->rate_cap) {
		struct pol_rate **nr;

		p->rate_cap = p->rate_cap ? p->rate_cap * 2 : 8;
		nr = reallocarray(rs->rs_rates, p->rate_cap, sizeof *nr);
		if (nr == NULL) {
			perror_tok(p, "out of memory");
			return NULL;
		}
		rs->rs_rates = nr;
	}
	if ((rate = calloc(1, sizeof *rate)) == NULL) {
		perror_tok(p, "out of memory");
		return NULL;
	}
	rate->pr_key = key;
	rate->pr_window_us = (int64_t)(window * 1e6);
	rate->pr_recipients = recipients;
	rs->rs_rates[rs->rs_nrates++] = rate;
found:
	if ((n = node_new(p, N_RATE)) != NULL)
		n->pn_rate = rate;
	return n;
}

/* parse_string_arg - "(" STRING ")" or "[" STRING "]" */

static char *
parse_string_arg(struct parser *p, enum tok open, enum tok close,
    const char *what)
{
	char	*s;

	if (expect(p, open, open == T_LPAREN ? "'('" : "'['") < 0)
		return NULL;
	if (p->tok.t != T_STRING) {
		perror_tok(p, "expected %s as a quoted string", what);
		return NULL;
	}
	s = take_text(p);
	if (expect(p, close, close == T_RPAREN ? "')'" : "']'") < 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* parse_ident - a field, function call, header/param/map index */

static struct pol_node *
parse_ident(struct parser *p)
{
	struct pol_store *st = p->rs->rs_store;
	struct pol_node *n;
	enum pol_field f;
	int	 line = p->tok.line, col = p->tok.col;
	char	*name = take_text(p);

	if (strcmp(name, "rate") == 0 || strcmp(name, "rate_rcpt") == 0) {
		n = parse_rate(p, name[4] == '_');
		goto out;
	}
	if (strcmp(name, "has_header") == 0 || strcmp(name, "header") == 0) {
		int	 has = name[0] == 'h' && name[1] == 'a';

		if (!(p->stage == PS_HEADER || p->stage == PS_EOH ||
		    p->stage == PS_EOM)) {
			perror_at(p, line, col, "headers are not known at "
			    "stage %s", stage_names[p->stage]);
			n = NULL;
			goto out;
		}
		p->rs->rs_uses_headers = 1;
		if ((n = node_new(p, has ? N_HAS_HEADER : N_HEADER)) == NULL)
			goto out;
		n->pn_str = parse_string_arg(p, has ? T_LPAREN : T_LBRACK,
		    has ? T_RPAREN : T_RBRACK, "a header name");
		if (n->pn_str == NULL) {
			pol_node_free(n);
			n = NULL;
		}
		goto out;
	}
	if (strcmp(name, "param") == 0 || strcmp(name, "rcpt.param") == 0) {
		int	 rcpt = name[0] == 'r';

		if (check_stage(p, rcpt ? F_RCPT : F_SENDER, line, col) < 0) {
			n = NULL;
			goto out;
		}
		if ((n = node_new(p, rcpt ? N_RCPT_PARAM : N_PARAM)) == NULL)
			goto out;
		n->pn_str = parse_string_arg(p, T_LBRACK, T_RBRACK,
		    "a parameter keyword");
		if (n->pn_str == NULL) {
			pol_node_free(n);
			n = NULL;
		}
		goto out;
	}
	if (strcmp(name, "addr") == 0 || strcmp(name, "len") == 0) {
		if ((n = node_new(p, name[0] == 'a' ? N_ADDR : N_LEN)) == NULL)
			goto out;
		if (expect(p, T_LPAREN, "'('") < 0 ||
		    (n->pn_a = parse_expr(p)) == NULL ||
		    expect(p, T_RPAREN, "')'") < 0) {
			pol_node_free(n);
			n = NULL;
		}
		goto out;
	}
	if (p->tok.t == T_LBRACK) {
		struct pol_map *m = find_map(st, name);

		if (m == NULL) {
			perror_at(p, line, col, "unknown map \"%s\"", name);
			n = NULL;
			goto out;
		}
		lex_next(p);
		if ((n = node_new(p, N_MAP)) == NULL)
			goto out;
		n->pn_map = m;
		if ((n->pn_a = parse_expr(p)) == NULL ||
		    expect(p, T_RBRACK, "']' after the map key") < 0) {
			pol_node_free(n);
			n = NULL;
		}
		goto out;
	}
	if (pol_field_lookup(name, &f) < 0) {
		perror_at(p, line, col, "unknown field \"%s\"", name);
		n = NULL;
		goto out;
	}
	if (check_stage(p, f, line, col) < 0) {
		n = NULL;
		goto out;
	}
	if ((n = node_new(p, N_FIELD)) != NULL)
		n->pn_field = f;
out:
	free(name);
	return n;
}

/* parse_primary - literals, fields, lists, parentheses */

static struct pol_node *
parse_primary(struct parser *p)
{
	struct pol_node *n;
	double	 v;
	int	 is_dur;

	switch (p->tok.t) {
	case T_LPAREN:
		if (++p->depth > MAX_NESTING) {
			perror_tok(p, "expression nested too deeply");
			return NULL;
		}
		lex_next(p);
		n = parse_expr(p);
		p->depth--;
		if (n != NULL && expect(p, T_RPAREN, "')'") < 0) {
			pol_node_free(n);
			return NULL;
		}
		return n;
	case T_STRING:
		if ((n = node_new(p, N_STRING)) != NULL)
			n->pn_str = take_text(p);
		return n;
	case T_NUMBER:
		if (parse_number(p->tok.text, &v, &is_dur) < 0) {
			perror_tok(p, "bad number \"%s\"", p->tok.text);
			return NULL;
		}
		if ((n = node_new(p, N_NUMBER)) != NULL)
			n->pn_num = v;
		lex_next(p);
		return n;
	case T_AT: {
		struct pol_list *l;

		lex_next(p);
		if (p->tok.t != T_IDENT) {
			perror_tok(p, "expected a list name after '@'");
			return NULL;
		}
		if ((l = find_list(p->rs->rs_store, p->tok.text)) == NULL) {
			perror_tok(p, "unknown list \"%s\"", p->tok.text);
			return NULL;
		}
		lex_next(p);
		if ((n = node_new(p, N_LIST)) != NULL)
			n->pn_list = l;
		return n;
	}
	case T_LBRACE: {
		struct pol_list *l = parse_inline_list(p);

		if (l == NULL)
			return NULL;
		if ((n = node_new(p, N_LIST)) != NULL)
			n->pn_list = l;
		return n;
	}
	case T_IDENT:
		if (tok_is(p, "true") || tok_is(p, "false")) {
			n = node_new(p, tok_is(p, "true") ? N_TRUE : N_FALSE);
			lex_next(p);
			return n;
		}
		return parse_ident(p);
	default:
		perror_tok(p, "expected a condition");
		return NULL;
	}
}

/* is_list_node - can this be the right side of "in"? */

static int
is_list_node(const struct pol_node *n)
{
	return n->pn_type == N_LIST || n->pn_type == N_MAP;
}

/* parse_cmp - primary [op primary] */

static struct pol_node *
parse_cmp(struct parser *p)
{
	struct pol_node *a, *b, *n;
	enum pol_node_type type;
	int	 op = 0, line, col;

	if ((a = parse_primary(p)) == NULL)
		return NULL;
	switch (p->tok.t) {
	case T_EQ: type = N_CMP; op = C_EQ; break;
	case T_NE: type = N_CMP; op = C_NE; break;
	case T_LT: type = N_CMP; op = C_LT; break;
	case T_LE: type = N_CMP; op = C_LE; break;
	case T_GT: type = N_CMP; op = C_GT; break;
	case T_GE: type = N_CMP; op = C_GE; break;
	case T_MATCH: type = N_MATCH; break;
	case T_NOMATCH: type = N_NOMATCH; break;
	case T_IDENT:
		if (tok_is(p, "in")) {
			type = N_IN;
			break;
		}
		if (tok_is(p, "like")) {
			type = N_LIKE;
			break;
		}
		return a;
	default:
		return a;
	}
	lex_next(p);
	line = p->tok.line;
	col = p->tok.col;
	if ((type == N_MATCH || type == N_NOMATCH || type == N_LIKE) &&
	    p->tok.t != T_STRING) {
		perror_tok(p, "expected a quoted pattern");
		pol_node_free(a);
		return NULL;
	}
	if ((b = parse_primary(p)) == NULL) {
		pol_node_free(a);
		return NULL;
	}
	if (type == N_IN && !is_list_node(b)) {
		perror_at(p, line, col, "the right side of 'in' must be a "
		    "list (@name, { ... }) or a map lookup");
		pol_node_free(a);
		pol_node_free(b);
		return NULL;
	}
	if ((n = node_new(p, type)) == NULL) {
		pol_node_free(a);
		pol_node_free(b);
		return NULL;
	}
	n->pn_op = op;
	n->pn_a = a;
	n->pn_b = b;
	if (type == N_MATCH || type == N_NOMATCH) {
		int	 ec;
		PCRE2_SIZE eo;

		n->pn_re = pcre2_compile((PCRE2_SPTR)b->pn_str,
		    PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &eo, NULL);
		if (n->pn_re == NULL) {
			PCRE2_UCHAR msg[256];

			pcre2_get_error_message(ec, msg, sizeof msg);
			perror_at(p, line, col + 1 + (int)eo,
			    "bad regular expression: %s", (char *)msg);
			pol_node_free(n);
			return NULL;
		}
	}
	return n;
}

/* parse_not - "not" binds tighter than and/or */

static struct pol_node *
parse_not(struct parser *p)
{
	struct pol_node *n, *a;

	if (!tok_is(p, "not"))
		return parse_cmp(p);
	if (++p->depth > MAX_NESTING) {
		perror_tok(p, "expression nested too deeply");
		return NULL;
	}
	lex_next(p);
	a = parse_not(p);
	p->depth--;
	if (a == NULL)
		return NULL;
	if ((n = node_new(p, N_NOT)) == NULL) {
		pol_node_free(a);
		return NULL;
	}
	n->pn_a = a;
	return n;
}

/* parse_binary - left-associative chains of "and" or "or" */

static struct pol_node *
parse_binary(struct parser *p, const char *word,
    struct pol_node *(*sub)(struct parser *), enum pol_node_type type)
{
	struct pol_node *a, *b, *n;

	if ((a = sub(p)) == NULL)
		return NULL;
	while (tok_is(p, word)) {
		lex_next(p);
		if ((b = sub(p)) == NULL) {
			pol_node_free(a);
			return NULL;
		}
		if ((n = node_new(p, type)) == NULL) {
			pol_node_free(a);
			pol_node_free(b);
			return NULL;
		}
		n->pn_a = a;
		n->pn_b = b;
		a = n;
	}
	return a;
}

static struct pol_node *
parse_and(struct parser *p)
{
	return parse_binary(p, "and", parse_not, N_AND);
}

static struct pol_node *
parse_expr(struct parser *p)
{
	return parse_binary(p, "or", parse_and, N_OR);
}

/* ---------------------------------------------------------------- */
/* Actions and statements                                           */
/* ---------------------------------------------------------------- */

/* check_template - every %{field} in a text names a field of the stage */

static void
check_template(struct parser *p, const char *text, int line, int col)
{
	const char *c, *end;
	char	 name[64];
	enum pol_field f;

	for (c = text; *c != '\0'; c++) {
		if (c[0] != '%')
			continue;
		if (c[1] == '%') {
			c++;
			continue;
		}
		if (c[1] != '{')
			continue;
		if ((end = strchr(c + 2, '}')) == NULL ||
		    (size_t)(end - c - 2) >= sizeof name) {
			perror_at(p, line, col, "unterminated %%{ in text");
			return;
		}
		memcpy(name, c + 2, end - c - 2);
		name[end - c - 2] = '\0';
		if (pol_field_lookup(name, &f) < 0 || f == F_HELO_IS_OURS) {
			perror_at(p, line, col, "unknown field \"%s\" in "
			    "%%{...}", name);
			return;
		}
		if (check_stage(p, f, line, col) < 0)
			return;
		c = end;
	}
}

/* take_template - a quoted text whose %{field}s are checked */

static char *
take_template(struct parser *p)
{
	int	 line = p->tok.line, col = p->tok.col;
	char	*text = take_text(p);

	check_template(p, text, line, col);
	return text;
}

/* parse_reply - "CODE ENHANCED "text"" of reject and tempfail */

static int
parse_reply(struct parser *p, struct pol_action_spec *a, char class)
{
	const char *c, *e;
	int	 dots = 0;

	if (p->tok.t != T_NUMBER || strlen(p->tok.text) != 3 ||
	    p->tok.text[0] != class || !isdigit((unsigned char)p->tok.text[1])
	    || !isdigit((unsigned char)p->tok.text[2])) {
		perror_tok(p, "expected a %cxx reply code", class);
		return -1;
	}
	memcpy(a->pa_code, p->tok.text, 4);
	lex_next(p);
	if (p->tok.t != T_NUMBER || p->tok.text[0] != class ||
	    strlen(p->tok.text) >= sizeof a->pa_ecode) {
		perror_tok(p, "expected an enhanced status code %c.X.Y",
		    class);
		return -1;
	}
	for (c = p->tok.text + 1, e = c; *c; c++) {
		if (*c == '.')
			dots++;
		else if (!isdigit((unsigned char)*c))
			e = NULL;
	}
	if (dots != 2 || e == NULL || p->tok.text[1] != '.' ||
	    p->tok.text[strlen(p->tok.text) - 1] == '.' ||
	    strstr(p->tok.text, "..") != NULL) {
		perror_tok(p, "\"%s\" is not an enhanced status code "
		    "(RFC 3463: %c.X.Y)", p->tok.text, class);
		return -1;
	}
	memcpy(a->pa_ecode, p->tok.text, strlen(p->tok.text) + 1);
	lex_next(p);
	if (p->tok.t != T_STRING) {
		perror_tok(p, "expected the quoted reply text");
		return -1;
	}
	if (strchr(p->tok.text, '\r') != NULL) {
		perror_tok(p, "reply text must not hold a carriage return");
		return -1;
	}
	a->pa_text = take_template(p);
	return 0;
}

/* parse_action - what a rule does when its condition holds */

static int
parse_action(struct parser *p, struct pol_action_spec *a)
{
	if (p->tok.t != T_IDENT) {
		perror_tok(p, "expected an action");
		return -1;
	}
	if (tok_is(p, "continue") || tok_is(p, "accept") ||
	    tok_is(p, "discard")) {
		a->pa_type = tok_is(p, "continue") ? PA_CONTINUE :
		    tok_is(p, "accept") ? PA_ACCEPT : PA_DISCARD;
		lex_next(p);
		return 0;
	}
	if (tok_is(p, "reject") || tok_is(p, "tempfail")) {
		int	 rej = tok_is(p, "reject");

		a->pa_type = rej ? PA_REJECT : PA_TEMPFAIL;
		lex_next(p);
		return parse_reply(p, a, rej ? '5' : '4');
	}
	if (tok_is(p, "quarantine") || tok_is(p, "tag")) {
		a->pa_type = tok_is(p, "tag") ? PA_TAG : PA_QUARANTINE;
		lex_next(p);
		if (p->tok.t != T_STRING) {
			perror_tok(p, "expected a quoted %s",
			    a->pa_type == PA_TAG ? "tag" : "reason");
			return -1;
		}
		a->pa_text = take_template(p);
		return 0;
	}
	if (tok_is(p, "add-header")) {
		const char *c;

		a->pa_type = PA_ADD_HEADER;
		lex_next(p);
		if (p->tok.t != T_IDENT && p->tok.t != T_STRING) {
			perror_tok(p, "expected a header name");
			return -1;
		}
		for (c = p->tok.text; *c; c++)
			if (*c <= ' ' || *c >= 127 || *c == ':')
				break;
		if (*c != '\0' || c == p->tok.text) {
			perror_tok(p, "\"%s\" is not a header name",
			    p->tok.text);
			return -1;
		}
		a->pa_name = take_text(p);
		if (p->tok.t != T_STRING) {
			perror_tok(p, "expected the quoted header value");
			return -1;
		}
		a->pa_text = take_template(p);
		return 0;
	}
	perror_tok(p, "unknown action \"%s\" (continue, accept, reject, "
	    "tempfail, discard, quarantine, add-header, tag)", p->tok.text);
	return -1;
}

/* parse_rule - "rule NAME STAGE CONDITION -> ACTION [shadow]" */

static void
parse_rule(struct parser *p)
{
	struct pol_ruleset *rs = p->rs;
	struct pol_rule *r;
	size_t	 i;
	int	 st;

	lex_next(p);
	if (p->tok.t != T_IDENT && p->tok.t != T_NUMBER) {
		perror_tok(p, "expected a rule name");
		return;
	}
	for (i = 0; i < rs->rs_nrules; i++)
		if (strcmp(rs->rs_rules[i].pr_name, p->tok.text) == 0) {
			perror_tok(p, "rule \"%s\" is already defined (line "
			    "%d)", p->tok.text, rs->rs_rules[i].pr_line);
			return;
		}
	if (rs->rs_nrules == p->rule_cap) {
		struct pol_rule *nr;

		p->rule_cap = p->rule_cap ? p->rule_cap * 2 : 16;
		nr = reallocarray(rs->rs_rules, p->rule_cap, sizeof *nr);
		if (nr == NULL) {
			perror_tok(p, "out of memory");
			return;
		}
		rs->rs_rules = nr;
	}
	r = &rs->rs_rules[rs->rs_nrules];
	memset(r, 0, sizeof *r);
	r->pr_line = p->tok.line;
	r->pr_name = take_text(p);
	rs->rs_nrules++;	/* now owned by the set, even if it fails */

	for (st = 0; st < PS_MAX; st++)
		if (tok_is(p, stage_names[st]))
			break;
	if (st == PS_MAX) {
		perror_tok(p, "expected a stage (connect, helo, mail, rcpt, "
		    "data, header, eoh, eom, unknown)");
		return;
	}
	r->pr_stage = p->stage = st;
	lex_next(p);
	if ((r->pr_cond = parse_expr(p)) == NULL)
		return;
	if (p->tok.t == T_BAD)
		return;
	if (expect(p, T_ARROW, "'->' before the action") < 0)
		return;
	if (parse_action(p, &r->pr_action) < 0)
		return;
	if (tok_is(p, "shadow")) {
		r->pr_shadow = 1;
		lex_next(p);
	}
}

/* parse_mode - "mode = enforce | monitor" */

static void
parse_mode(struct parser *p)
{
	lex_next(p);
	if (expect(p, T_ASSIGN, "'=' after mode") < 0)
		return;
	if (tok_is(p, "enforce"))
		p->rs->rs_monitor = 0;
	else if (tok_is(p, "monitor"))
		p->rs->rs_monitor = 1;
	else {
		perror_tok(p, "mode must be enforce or monitor");
		return;
	}
	lex_next(p);
}

/* skip_statement - after an error, go to the next statement keyword */

static void
skip_statement(struct parser *p)
{
	while (p->tok.t != T_EOF && !(tok_is(p, "rule") ||
	    tok_is(p, "list") || tok_is(p, "map") || tok_is(p, "mode")))
		lex_next(p);
}

/* stage_index - order rules by stage, keeping file order within one */

static void
stage_index(struct pol_ruleset *rs)
{
	struct pol_rule *sorted;
	size_t	 i, n = 0;
	int	 st;

	if (rs->rs_nrules == 0)
		return;
	if ((sorted = calloc(rs->rs_nrules, sizeof *sorted)) == NULL)
		return;
	for (st = 0; st < PS_MAX; st++) {
		rs->rs_stage_first[st] = n;
		for (i = 0; i < rs->rs_nrules; i++)
			if (rs->rs_rules[i].pr_stage == (enum pol_stage)st)
				sorted[n++] = rs->rs_rules[i];
		rs->rs_stage_count[st] = n - rs->rs_stage_first[st];
	}
	free(rs->rs_rules);
	rs->rs_rules = sorted;
}

/* policy_load - parse a rules file into a new rule set */

struct pol_ruleset *
policy_load(const char *file, char *err, size_t errsize)
{
	static uint64_t generation;
	struct parser p;
	struct pol_ruleset *rs;
	char	 why[512], *dircopy;
	size_t	 len;

	memset(&p, 0, sizeof p);
	err[0] = '\0';
	p.file = file;
	p.err = err;
	p.errsize = errsize;
	p.line = 1;
	p.col = 1;
	if ((p.src = read_file(file, &len, why, sizeof why)) == NULL) {
		snprintf(err, errsize, "%s:0:0: %s\n", file, why);
		return NULL;
	}
	p.len = len;
	if ((dircopy = strdup(file)) == NULL ||
	    (p.dir = strdup(dirname(dircopy))) == NULL ||
	    (rs = calloc(1, sizeof *rs)) == NULL ||
	    (rs->rs_store = calloc(1, sizeof *rs->rs_store)) == NULL ||
	    (rs->rs_file = strdup(file)) == NULL) {
		snprintf(err, errsize, "%s:0:0: out of memory\n", file);
		free(dircopy);
		free(p.dir);
		free((char *)p.src);
		return NULL;
	}
	free(dircopy);
	rs->rs_refs = 1;
	p.rs = rs;

	lex_next(&p);
	while (p.tok.t != T_EOF && p.nerrors <= MAX_ERRORS) {
		p.failed = 0;
		if (tok_is(&p, "rule"))
			parse_rule(&p);
		else if (tok_is(&p, "list"))
			parse_list_stmt(&p);
		else if (tok_is(&p, "map"))
			parse_map_stmt(&p);
		else if (tok_is(&p, "mode"))
			parse_mode(&p);
		else {
			if (p.tok.t != T_BAD)
				perror_tok(&p, "expected rule, list, map or "
				    "mode");
			lex_next(&p);
		}
		if (p.failed)
			skip_statement(&p);
	}
	free(p.tok.text);
	free(p.dir);
	free((char *)p.src);
	if (p.nerrors > 0) {
		policy_release(rs);
		return NULL;
	}
	stage_index(rs);
	rs->rs_generation = ++generation;
	return rs;
}
