/*
 * dotenv: the import grammar and the three export formats of API.md §5.
 *
 * The grammar (ours, small, fuzzed by t/fuzz/dotenv.c), one entry a line:
 *
 *   file    = [BOM] { line }                 lines end in LF or CRLF
 *   line    = ws* [ "#" comment | entry ] EOL      ws is space or tab
 *   entry   = [ "export" ws+ ] KEY ws* "=" ws* value ws* [ "#" comment ]
 *   KEY     = [A-Za-z_][A-Za-z0-9_]{0,255}
 *   value   = 'single'       literal, may span lines
 *           | "double"       \n \r \t \" \\ \$ are escapes, any other
 *                            backslash is itself; may span lines
 *           | `back`         literal, may span lines (as the npm package)
 *           | unquoted       up to the end of the line or to a "#" that
 *                            starts the value or follows a space or tab;
 *                            trailing spaces and tabs are dropped
 *
 * Inside quotes CRLF reads as LF (a lone CR is kept); outside them a lone
 * CR is an error. Nothing is expanded: "$X" is the two characters. The
 * whole text must be UTF-8 without NUL; a value holds at most
 * DOTENV_MAX_VALUE bytes, a file DOTENV_MAX_PAIRS keys and DOTENV_MAX_TEXT
 * bytes. A repeated key keeps its first place and takes its last value
 * (last wins, as in a shell). Any malformed line rejects the whole file.
 *
 * Export, keys sorted bytewise:
 *   json    {"KEY":"value",...}, escaped by buf_json_string;
 *   shell   export KEY='value' with ' written '\'' — single quotes keep
 *           every byte (newlines, trailing newlines included) and let the
 *           shell expand nothing;
 *   dotenv  KEY=value with a quoting chosen per value (dotenv_quote below)
 *           so that dotenv_parse reads every value back exactly and the
 *           npm dotenv package (18.0.10: its parse, and parse with fast) reads it too
 *           wherever it can represent the value.
 *
 * The npm package's parse, in short: CRLF and lone CR become LF first; a
 * value in '…', "…" or `…` may span lines, its content being any
 * character but that quote, or backslash-quote; the closing quote must be
 * followed by spaces, an optional # comment and the end of a line; only
 * \n and \r are expanded, and only in "…"; an unquoted value ends at the
 * first "#" and is trimmed of (Unicode) white space. So it cannot hold a
 * CR unless in "…" (which cannot hold a '"', nor a backslash before n, r
 * or the end); and a value with all three quote characters only unquoted.
 * Two traps of that regular expression shape the writer: a backslash just
 * before a closing quote reads as an escaped quote and lets the match run
 * on into the next lines (swallowing other keys); and a value that falls
 * back to unquoted reading could expose its inner lines as entries. Hence
 * a value ending in a backslash gets a comment " #'." after its closing
 * quote (the npm match then cannot end anywhere but at the real quote),
 * and a value no quoting can represent is written on one physical line,
 * in double quotes with every escape, so it can only ever spoil itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unistr.h>

#include "shush.h"

/* ---------------------------------------------------------------- parse */

struct parser {
	struct arena *a;
	const char *s;
	size_t n, i;
	int line;
	const char *why;
	int bad;
	/* the pairs, and an open-addressing index of their keys */
	struct dotenv_pair *pairs;
	size_t count, cap;
	uint32_t *slots; /* index + 1; 0 is empty */
	size_t nslots;
};

static int
is_ws(int c)
{
	return c == ' ' || c == '\t';
}

static int
key_start(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int
key_char(int c)
{
	return key_start(c) || (c >= '0' && c <= '9');
}

int
dotenv_key_valid(const char *key)
{
	size_t i;

	if (key == NULL || !key_start((unsigned char)key[0]))
		return 0;
	for (i = 1; key[i] != '\0'; i++)
		if (i >= DOTENV_MAX_KEY || !key_char((unsigned char)key[i]))
			return 0;
	return 1;
}

static int
fail(struct parser *p, int line, const char *why)
{
	p->bad = line;
	p->why = why;
	return -1;
}

/* The 1-based line holding byte off (a line ends at each LF). */
static int
line_of(const char *s, size_t off)
{
	int line = 1;
	const char *q = s, *end = s + off;

	while ((q = memchr(q, '\n', (size_t)(end - q))) != NULL) {
		line++;
		q++;
	}
	return line;
}

static uint32_t
key_hash(const char *k)
{
	uint32_t h = 2166136261u;

	for (; *k != '\0'; k++)
		h = (h ^ (unsigned char)*k) * 16777619u;
	return h;
}

static void
index_grow(struct parser *p)
{
	size_t nslots = p->nslots ? p->nslots * 2 : 64, i, j;
	uint32_t *slots = arena_alloc(p->a, nslots * sizeof(*slots));

	for (i = 0; i < p->count; i++) {
		j = key_hash(p->pairs[i].key) & (nslots - 1);
		while (slots[j] != 0)
			j = (j + 1) & (nslots - 1);
		slots[j] = (uint32_t)(i + 1);
	}
	p->slots = slots;
	p->nslots = nslots;
}

static int
store(struct parser *p, const char *key, const char *value, size_t len, int line)
{
	size_t j;

	if (len > DOTENV_MAX_VALUE)
		return fail(p, line, "value longer than 64 KiB");
	if (2 * (p->count + 1) > p->nslots)
		index_grow(p);
	for (j = key_hash(key) & (p->nslots - 1); p->slots[j] != 0; j = (j + 1) & (p->nslots - 1)) {
		struct dotenv_pair *old = &p->pairs[p->slots[j] - 1];

		if (strcmp(old->key, key) == 0) {
			old->value = value;
			old->value_len = len;
			old->line = line;
			return 0;
		}
	}
	if (p->count >= DOTENV_MAX_PAIRS)
		return fail(p, line, "more than 10000 keys");
	if (p->count == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct dotenv_pair *np = arena_alloc(p->a, cap * sizeof(*np));

		if (p->count > 0)
			memcpy(np, p->pairs, p->count * sizeof(*np));
		p->pairs = np;
		p->cap = cap;
	}
	p->pairs[p->count] = (struct dotenv_pair){key, value, len, line};
	p->slots[j] = (uint32_t)(++p->count);
	return 0;
}

/* At an end of line (LF, CRLF or the end): consumes it, 1; else 0. */
static int
eol(struct parser *p)
{
	if (p->i >= p->n)
		return 1;
	if (p->s[p->i] == '\n') {
		p->i++;
		p->line++;
		return 1;
	}
	if (p->s[p->i] == '\r' && p->i + 1 < p->n && p->s[p->i + 1] == '\n') {
		p->i += 2;
		p->line++;
		return 1;
	}
	return 0;
}

static void
skip_ws(struct parser *p)
{
	while (p->i < p->n && is_ws((unsigned char)p->s[p->i]))
		p->i++;
}

/* Skips a comment to (not past) the end of its line. */
static int
skip_comment(struct parser *p)
{
	while (p->i < p->n && p->s[p->i] != '\n') {
		if (p->s[p->i] == '\r' && (p->i + 1 >= p->n || p->s[p->i + 1] != '\n'))
			return fail(p, p->line, "carriage return without line feed");
		if (p->s[p->i] == '\r')
			break;
		p->i++;
	}
	return 0;
}

/* A quoted value, the opening quote at p->i. */
static int
quoted(struct parser *p, int start_line, const char **value, size_t *len)
{
	char q = p->s[p->i++];
	const char *from = p->s + p->i, *end = from;
	struct buf b;

	/* the common case: no escape, no CR, taken as it is */
	while (end < p->s + p->n && *end != q && *end != '\r' && !(q == '"' && *end == '\\'))
		end++;
	if (end < p->s + p->n && *end == q) {
		size_t m = (size_t)(end - from);

		if (m > DOTENV_MAX_VALUE)
			return fail(p, start_line, "value longer than 64 KiB");
		*value = arena_strndup(p->a, from, m);
		*len = m;
		for (; from < end; from++)
			p->line += *from == '\n';
		p->i = (size_t)(end - p->s) + 1;
		goto after;
	}
	buf_init(&b, p->a);
	for (;;) {
		size_t run = p->i;
		char c;

		/* copy a run of ordinary bytes at once */
		while (p->i < p->n && p->s[p->i] != q && p->s[p->i] != '\n' && p->s[p->i] != '\r' &&
		       !(q == '"' && p->s[p->i] == '\\'))
			p->i++;
		buf_append(&b, p->s + run, p->i - run);
		if (b.len > DOTENV_MAX_VALUE)
			return fail(p, start_line, "value longer than 64 KiB");
		if (p->i >= p->n)
			return fail(p, start_line,
				    q == '\'' ? "unterminated single quote"
				    : q == '"' ? "unterminated double quote" : "unterminated backquote");
		c = p->s[p->i];
		if (c == q) {
			p->i++;
			break;
		}
		if (c == '\n' || c == '\r') {
			if (c == '\n' || (p->i + 1 < p->n && p->s[p->i + 1] == '\n')) {
				(void)eol(p);
				buf_putc(&b, '\n');
			} else {
				p->i++;
				buf_putc(&b, '\r');
			}
			continue;
		}
		/* a backslash in double quotes */
		c = p->i + 1 < p->n ? p->s[p->i + 1] : '\0';
		switch (c) {
		case 'n': buf_putc(&b, '\n'); break;
		case 'r': buf_putc(&b, '\r'); break;
		case 't': buf_putc(&b, '\t'); break;
		case '"': case '\\': case '$': buf_putc(&b, c); break;
		default:
			/* not an escape: the backslash is itself, and what follows
			 * is read as usual */
			buf_putc(&b, '\\');
			p->i++;
			continue;
		}
		p->i += 2;
	}
	if (b.len > DOTENV_MAX_VALUE)
		return fail(p, start_line, "value longer than 64 KiB");
	*value = b.data;
	*len = b.len;
after:
	/* after the closing quote: spaces, a comment, the end of the line */
	skip_ws(p);
	if (p->i < p->n && p->s[p->i] == '#' && skip_comment(p) != 0)
		return -1;
	if (!eol(p))
		return fail(p, p->line, p->s[p->i] == '\r' ? "carriage return without line feed"
							   : "text after the closing quote");
	return 0;
}

/* An unquoted value from p->i to the end of the line or a comment. */
static int
unquoted(struct parser *p, const char **value, size_t *len)
{
	size_t from = p->i, end;

	while (p->i < p->n && p->s[p->i] != '\n' && p->s[p->i] != '\r' &&
	       !(p->s[p->i] == '#' && (p->i == from || is_ws((unsigned char)p->s[p->i - 1]))))
		p->i++;
	end = p->i;
	while (end > from && is_ws((unsigned char)p->s[end - 1]))
		end--;
	if (end - from > DOTENV_MAX_VALUE)
		return fail(p, p->line, "value longer than 64 KiB");
	*value = arena_strndup(p->a, p->s + from, end - from);
	*len = end - from;
	if (p->i < p->n && p->s[p->i] == '#' && skip_comment(p) != 0)
		return -1;
	if (!eol(p))
		return fail(p, p->line, "carriage return without line feed");
	return 0;
}

static int
entry(struct parser *p)
{
	int start_line = p->line;
	size_t k, klen;
	const char *key, *value;
	size_t len;

	/* "export" followed by spaces and a key is the shell's prefix; a key
	 * named export stays one ("export=1", "export = 1"). */
	if (p->n - p->i > 6 && memcmp(p->s + p->i, "export", 6) == 0 &&
	    is_ws((unsigned char)p->s[p->i + 6])) {
		size_t j = p->i + 6;

		while (j < p->n && is_ws((unsigned char)p->s[j]))
			j++;
		if (j < p->n && key_start((unsigned char)p->s[j]))
			p->i = j;
	}
	k = p->i;
	if (!key_start((unsigned char)p->s[k]))
		return fail(p, start_line, "invalid key");
	while (p->i < p->n && key_char((unsigned char)p->s[p->i]))
		p->i++;
	klen = p->i - k;
	skip_ws(p);
	if (p->i >= p->n || p->s[p->i] != '=')
		return fail(p, start_line,
			    p->i < p->n && p->i == k + klen && p->s[p->i] != '\n' && p->s[p->i] != '\r'
				    ? "invalid key" : "missing '='");
	if (klen > DOTENV_MAX_KEY)
		return fail(p, start_line, "key longer than 256 characters");
	key = arena_strndup(p->a, p->s + k, klen);
	p->i++;
	skip_ws(p);
	if (p->i < p->n && (p->s[p->i] == '\'' || p->s[p->i] == '"' || p->s[p->i] == '`')) {
		if (quoted(p, start_line, &value, &len) != 0)
			return -1;
	} else if (unquoted(p, &value, &len) != 0) {
		return -1;
	}
	return store(p, key, value, len, start_line);
}

int
dotenv_parse(struct arena *a, const char *text, size_t n, struct dotenv_pair **pairs,
	     size_t *count, int *bad_line, const char **why)
{
	struct parser p = {.a = a, .s = text, .n = n, .line = 1};
	const uint8_t *bad;
	const char *nul;

	*pairs = NULL;
	*count = 0;
	*bad_line = 0;
	*why = NULL;
	if (n == 0)
		text = ""; /* NULL is fine then */
	if (n > DOTENV_MAX_TEXT) {
		fail(&p, line_of(text, DOTENV_MAX_TEXT), "file larger than 16 MiB");
		goto fail;
	}
	if ((nul = memchr(text, '\0', n)) != NULL) {
		fail(&p, line_of(text, (size_t)(nul - text)), "NUL byte");
		goto fail;
	}
	if ((bad = u8_check((const uint8_t *)text, n)) != NULL) {
		fail(&p, line_of(text, (size_t)((const char *)bad - text)), "invalid UTF-8");
		goto fail;
	}
	if (n >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		p.i = 3;
	while (p.i < p.n) {
		skip_ws(&p);
		if (eol(&p))
			continue;
		if (p.s[p.i] == '#') {
			if (skip_comment(&p) != 0)
				goto fail;
			(void)eol(&p);
			continue;
		}
		if (p.s[p.i] == '\r') {
			fail(&p, p.line, "carriage return without line feed");
			goto fail;
		}
		if (entry(&p) != 0)
			goto fail;
	}
	/* never NULL on success, even for no pairs */
	*pairs = p.pairs != NULL ? p.pairs : arena_alloc(a, sizeof(**pairs));
	*count = p.count;
	return 0;
fail:
	*bad_line = p.bad;
	*why = p.why;
	return -1;
}

/* ---------------------------------------------------------------- write */

static int
cmp_pair(const void *x, const void *y)
{
	const struct dotenv_pair *a = x, *b = y;

	return strcmp(a->key, b->key);
}

/* Validates, then copies and sorts the pairs; NULL when one is invalid. */
static const struct dotenv_pair *
sorted(struct arena *a, const struct dotenv_pair *pairs, size_t count)
{
	struct dotenv_pair *s;
	size_t i;

	if (count == 0)
		return pairs;
	s = arena_alloc(a, count * sizeof(*s));
	for (i = 0; i < count; i++) {
		s[i] = pairs[i];
		if (s[i].value == NULL) {
			if (s[i].value_len != 0)
				return NULL;
			s[i].value = "";
		}
		if (!dotenv_key_valid(s[i].key) || memchr(s[i].value, '\0', s[i].value_len) != NULL ||
		    u8_check((const uint8_t *)s[i].value, s[i].value_len) != NULL)
			return NULL;
	}
	qsort(s, count, sizeof(*s), cmp_pair);
	for (i = 1; i < count; i++)
		if (strcmp(s[i - 1].key, s[i].key) == 0)
			return NULL;
	return s;
}

int
dotenv_write_json(struct buf *b, const struct dotenv_pair *pairs, size_t count)
{
	const struct dotenv_pair *s = sorted(b->arena, pairs, count);
	size_t i;

	if (s == NULL && count > 0)
		return -1;
	buf_putc(b, '{');
	for (i = 0; i < count; i++) {
		if (i > 0)
			buf_putc(b, ',');
		buf_json_string(b, s[i].key, strlen(s[i].key));
		buf_putc(b, ':');
		buf_json_string(b, s[i].value, s[i].value_len);
	}
	buf_putc(b, '}');
	return 0;
}

int
dotenv_write_shell(struct buf *b, const struct dotenv_pair *pairs, size_t count)
{
	const struct dotenv_pair *s = sorted(b->arena, pairs, count);
	size_t i, j, from;

	if (s == NULL && count > 0)
		return -1;
	for (i = 0; i < count; i++) {
		buf_puts(b, "export ");
		buf_puts(b, s[i].key);
		buf_puts(b, "='");
		for (j = from = 0; j < s[i].value_len; j++) {
			if (s[i].value[j] != '\'')
				continue;
			buf_append(b, s[i].value + from, j - from);
			buf_puts(b, "'\\''");
			from = j + 1;
		}
		buf_append(b, s[i].value + from, s[i].value_len - from);
		buf_puts(b, "'\n");
	}
	return 0;
}

enum quoting { Q_BARE, Q_SINGLE, Q_DOUBLE, Q_BACK, Q_ESCAPED };

/* Bytes an unquoted value may consist of without a second thought. */
static int
plain(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("_./:@%+,=-", c) != NULL);
}

/* White space as JavaScript's trim() and \s see it, at v[i] (UTF-8):
 * ASCII 9-13 and 32, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
 * U+202F, U+205F, U+3000, U+FEFF. */
static int
js_space_at(const unsigned char *v, size_t n, size_t i)
{
	ucs4_t u;

	if (v[i] < 0x80)
		return v[i] == ' ' || (v[i] >= 9 && v[i] <= 13);
	if (u8_mbtouc_unsafe(&u, v + i, n - i) <= 0)
		return 0;
	return u == 0xa0 || u == 0x1680 || (u >= 0x2000 && u <= 0x200a) || u == 0x2028 ||
	       u == 0x2029 || u == 0x202f || u == 0x205f || u == 0x3000 || u == 0xfeff;
}

/* Start of the UTF-8 character that ends at v[n-1]. */
static size_t
last_char(const unsigned char *v, size_t n)
{
	size_t i = n - 1;

	while (i > 0 && (v[i] & 0xc0) == 0x80)
		i--;
	return i;
}

/* The quoting of one value in the dotenv format. Every choice reads back
 * exactly through dotenv_parse; the first five through the npm package too
 * (t/peers/dotenv.mjs checks both). */
static enum quoting
dotenv_quote(const char *value, size_t n)
{
	const unsigned char *v = (const unsigned char *)value;
	int sq = 0, dq = 0, bq = 0, lf = 0, cr = 0, hash = 0, ls = 0, all_plain = 1;
	int bs_escapes = 0; /* a backslash the "…" reading would change */
	int ends_bs = n > 0 && v[n - 1] == '\\';
	int bare;
	size_t i;

	if (n == 0)
		return Q_SINGLE;
	for (i = 0; i < n; i++) {
		unsigned char c = v[i];

		all_plain &= plain(c);
		switch (c) {
		case '\'': sq = 1; break;
		case '"': dq = 1; break;
		case '`': bq = 1; break;
		case '\n': lf = 1; break;
		case '\r': cr = 1; break;
		case '#': hash = 1; break;
		case '\\':
			if (i + 1 == n || v[i + 1] == '\0' || strchr("nrt\"\\$\n\r", v[i + 1]) != NULL)
				bs_escapes = 1;
			break;
		case 0xe2: /* U+2028, U+2029: line terminators to JavaScript */
			if (i + 2 < n && v[i + 1] == 0x80 && (v[i + 2] == 0xa8 || v[i + 2] == 0xa9))
				ls = 1;
			break;
		default: break;
		}
	}
	if (all_plain)
		return Q_BARE;
	/* unquoted: one line, no '#', nothing to trim, no opening quote */
	bare = !lf && !cr && !hash && !ls && v[0] != '\'' && v[0] != '"' && v[0] != '`' &&
	       !js_space_at(v, n, 0) && !js_space_at(v, n, last_char(v, n));
	if (ends_bs && bare)
		return Q_BARE;
	if (!lf && !cr && !sq)
		return Q_SINGLE;
	if (!dq && !bs_escapes)
		return Q_DOUBLE;
	if (!cr && !sq)
		return Q_SINGLE;
	if (!cr && !bq)
		return Q_BACK;
	if (bare)
		return Q_BARE;
	return Q_ESCAPED;
}

int
dotenv_write_dotenv(struct buf *b, const struct dotenv_pair *pairs, size_t count)
{
	const struct dotenv_pair *s = sorted(b->arena, pairs, count);
	size_t i, j;

	if (s == NULL && count > 0)
		return -1;
	for (i = 0; i < count; i++) {
		const char *v = s[i].value;
		size_t n = s[i].value_len;
		enum quoting q = dotenv_quote(v, n);
		char quote = q == Q_SINGLE ? '\'' : q == Q_BACK ? '`' : '"';

		buf_puts(b, s[i].key);
		buf_putc(b, '=');
		if (q == Q_BARE) {
			buf_append(b, v, n);
			buf_putc(b, '\n');
			continue;
		}
		buf_putc(b, quote);
		if (q == Q_SINGLE || q == Q_BACK) {
			buf_append(b, v, n);
		} else {
			for (j = 0; j < n; j++) {
				switch (v[j]) {
				case '\n': buf_puts(b, "\\n"); break;
				case '\r': buf_puts(b, "\\r"); break;
				case '"': buf_puts(b, "\\\""); break;
				/* Q_DOUBLE: every backslash is followed by a
				 * byte that is no escape, so it stays as it is */
				case '\\': buf_puts(b, q == Q_ESCAPED ? "\\\\" : "\\"); break;
				default: buf_putc(b, v[j]);
				}
			}
		}
		buf_putc(b, quote);
		/* A backslash before the closing quote: the npm package's
		 * expression could take it for an escaped quote and read on
		 * into the next lines; a quote in a comment that is not at the
		 * end of the line leaves it no other end than this one. */
		if (n > 0 && v[n - 1] == '\\') {
			buf_puts(b, " #");
			buf_putc(b, quote);
			buf_putc(b, '.');
		}
		buf_putc(b, '\n');
	}
	return 0;
}
