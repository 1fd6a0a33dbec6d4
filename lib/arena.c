/*
 * Per-request bump allocator with deferred cleanups. One arena per worker,
 * reset after every request: nothing a request allocates outlives it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistr.h>

#include "shush.h"

struct chunk {
	struct chunk *next;
	size_t size;
	size_t used;
	max_align_t data[];
};

struct cleanup {
	struct cleanup *next;
	void (*fn)(void *);
	void *p;
};

struct arena {
	struct chunk *head;
	size_t chunk_size;
	size_t total;
	struct cleanup *cleanups;
};

static void *
xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		fputs("shush: out of memory\n", stderr);
		abort();
	}
	return p;
}

static struct chunk *
chunk_new(size_t size)
{
	struct chunk *c = xmalloc(sizeof(*c) + size);

	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

struct arena *
arena_new(size_t chunk_size)
{
	struct arena *a = xmalloc(sizeof(*a));

	a->chunk_size = chunk_size < 1024 ? 1024 : chunk_size;
	a->head = chunk_new(a->chunk_size);
	a->total = 0;
	a->cleanups = NULL;
	return a;
}

static void
run_cleanups(struct arena *a)
{
	while (a->cleanups != NULL) {
		struct cleanup *c = a->cleanups;

		a->cleanups = c->next;
		c->fn(c->p);
	}
}

/* Keeps one chunk of the normal size, so a worker's steady state makes
 * no malloc at all; frees the rest (large one-off blocks included). */
void
arena_reset(struct arena *a)
{
	struct chunk *c, *next, *keep = NULL;

	run_cleanups(a);
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		if (keep == NULL && c->size == a->chunk_size)
			keep = c;
		else
			free(c);
	}
	if (keep == NULL)
		keep = chunk_new(a->chunk_size);
	keep->next = NULL;
	keep->used = 0;
	a->head = keep;
	a->total = 0;
}

void
arena_free(struct arena *a)
{
	struct chunk *c, *next;

	if (a == NULL)
		return;
	run_cleanups(a);
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

void *
arena_alloc(struct arena *a, size_t n)
{
	const size_t align = _Alignof(max_align_t);
	struct chunk *c = a->head;
	void *p;

	n = (n + align - 1) & ~(align - 1);
	if (n == 0)
		n = align;
	if (c->size - c->used < n) {
		size_t size = n > a->chunk_size ? n : a->chunk_size;
		struct chunk *nc = chunk_new(size);

		/* Big one-off blocks go behind the head so the head keeps
		 * serving small allocations. */
		if (n > a->chunk_size / 2 && c->size - c->used >= 256) {
			nc->next = c->next;
			c->next = nc;
			c = nc;
		} else {
			nc->next = c;
			a->head = nc;
			c = nc;
		}
	}
	p = (char *)c->data + c->used;
	c->used += n;
	a->total += n;
	memset(p, 0, n);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p;

	if (s == NULL)
		return NULL;
	p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return s == NULL ? NULL : arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return arena_strdup(a, "");
	p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

int
arena_defer(struct arena *a, void (*fn)(void *), void *p)
{
	struct cleanup *c;

	if (p == NULL)
		return 0;
	c = arena_alloc(a, sizeof(*c));
	c->fn = fn;
	c->p = p;
	c->next = a->cleanups;
	a->cleanups = c;
	return 0;
}

size_t
arena_used(const struct arena *a)
{
	return a->total;
}

/* ------------------------------------------------------------------ buf */

void
buf_init(struct buf *b, struct arena *a)
{
	b->arena = a;
	b->cap = 256;
	b->len = 0;
	b->data = arena_alloc(a, b->cap);
}

static void
buf_reserve(struct buf *b, size_t extra)
{
	size_t cap;
	char *p;

	if (b->len + extra + 1 <= b->cap)
		return;
	cap = b->cap * 2;
	while (cap < b->len + extra + 1)
		cap *= 2;
	p = arena_alloc(b->arena, cap);
	memcpy(p, b->data, b->len);
	b->data = p;
	b->cap = cap;
}

void
buf_append(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_putc(struct buf *b, char c)
{
	if (b->len + 2 > b->cap)
		buf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
buf_json_string(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = 0;

	buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		buf_append(b, s + start, i - start);
		start = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		buf_append(b, esc, elen);
	}
	buf_append(b, s + start, n - start);
	buf_putc(b, '"');
}

char *
arena_clean_text(struct arena *a, const char *s, size_t max)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n, i = 0, o = 0;
	char *out;

	if (s == NULL)
		return NULL;
	/* The common case, printable ASCII within bounds, as it is. */
	for (n = 0; n <= max && p[n] >= 0x20 && p[n] < 0x7f; n++)
		;
	if (p[n] == '\0' && n <= max)
		return (char *)s;
	n = strlen(s);
	out = arena_alloc(a, (n < max ? n : max) + 1);
	while (i < n) {
		ucs4_t c;
		int len = u8_mbtouc(&c, p + i, n - i);

		/* u8_mbtouc answers U+FFFD for an invalid sequence; a real
		 * U+FFFD is 3 bytes long and passes. */
		if (c == 0xFFFD && !(len == 3 && memcmp(p + i, "\xef\xbf\xbd", 3) == 0)) {
			c = '?';
			len = 1;
		}
		if (c < 0x20 || c == 0x7f)
			c = '?';
		if (o + (size_t)(c == '?' ? 1 : len) > max)
			break;
		if (c == '?') {
			out[o++] = '?';
		} else {
			memcpy(out + o, p + i, (size_t)len);
			o += (size_t)len;
		}
		i += (size_t)len;
	}
	out[o] = '\0';
	return out;
}

size_t
json_escape_into(char *out, size_t pos, size_t cap, const char *s, int *cut)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s != '\0' && pos + 8 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[pos++] = '\\';
			out[pos++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			out[pos++] = '\\';
			out[pos++] = 'u';
			out[pos++] = '0';
			out[pos++] = '0';
			out[pos++] = hex[c >> 4];
			out[pos++] = hex[c & 15];
		} else {
			out[pos++] = (char)c;
		}
	}
	if (*s != '\0' && cut != NULL)
		*cut = 1;
	return pos;
}
