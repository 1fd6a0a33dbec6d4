/*
 * RFC 8785 JSON Canonicalization Scheme over cJSON values: members sorted
 * by the UTF-16 code units of their names, no whitespace, minimal string
 * escapes, numbers as ECMAScript prints them. The audit chain hashes this
 * text, so anyone can re-compute it offline from an export.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "shush.h"

/* Next UTF-16 code unit of a UTF-8 string; *pending holds the low
 * surrogate of an astral character between calls. 0 at the end. */
static unsigned
next_unit(const unsigned char **p, unsigned *pending)
{
	unsigned c;

	if (*pending != 0) {
		c = *pending;
		*pending = 0;
		return c;
	}
	c = **p;
	if (c == 0)
		return 0;
	if (c < 0x80) {
		(*p)++;
		return c;
	}
	if ((c & 0xe0) == 0xc0 && (*p)[1] != 0) {
		c = (c & 0x1f) << 6 | ((*p)[1] & 0x3f);
		*p += 2;
		return c;
	}
	if ((c & 0xf0) == 0xe0 && (*p)[1] != 0 && (*p)[2] != 0) {
		c = (c & 0x0f) << 12 | ((*p)[1] & 0x3f) << 6 | ((*p)[2] & 0x3f);
		*p += 3;
		return c;
	}
	if ((c & 0xf8) == 0xf0 && (*p)[1] != 0 && (*p)[2] != 0 && (*p)[3] != 0) {
		c = (c & 0x07) << 18 | ((*p)[1] & 0x3f) << 12 | ((*p)[2] & 0x3f) << 6 |
		    ((*p)[3] & 0x3f);
		*p += 4;
		c -= 0x10000;
		*pending = 0xdc00 | (c & 0x3ff);
		return 0xd800 | (c >> 10);
	}
	(*p)++; /* invalid byte: order it by its value */
	return c;
}

static int
cmp_utf16(const char *a, const char *b)
{
	const unsigned char *pa = (const unsigned char *)a, *pb = (const unsigned char *)b;
	unsigned qa = 0, qb = 0;

	for (;;) {
		unsigned ua = next_unit(&pa, &qa), ub = next_unit(&pb, &qb);

		if (ua != ub)
			return ua < ub ? -1 : 1;
		if (ua == 0)
			return 0;
	}
}

static int
cmp_members(const void *x, const void *y)
{
	const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;

	return cmp_utf16(a->string, b->string);
}

static void
put_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	buf_putc(b, '"');
	for (;;) {
		size_t run = 0;
		unsigned char c;

		/* Runs of characters written as they are, in one append. */
		while ((c = (unsigned char)s[run]) >= 0x20 && c != '"' && c != '\\')
			run++;
		if (run > 0)
			buf_append(b, s, run);
		s += run;
		if ((c = (unsigned char)*s) == '\0')
			break;
		switch (c) {
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\b': buf_puts(b, "\\b"); break;
		case '\f': buf_puts(b, "\\f"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		default: {
			char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};

			buf_puts(b, esc);
		}
		}
		s++;
	}
	buf_putc(b, '"');
}

/* ECMAScript Number.prototype.toString for finite doubles. */
static int
put_number(struct buf *b, double d)
{
	char digits[32], out[48];
	int prec, exp10, ndig, i;
	char *e;

	if (!isfinite(d))
		return -1;
	if (d == 0) {
		buf_putc(b, '0');
		return 0;
	}
	if (d < 0) {
		buf_putc(b, '-');
		d = -d;
	}
	/* Shortest digits that read back to the same double. */
	for (prec = 1; prec <= 17; prec++) {
		snprintf(out, sizeof(out), "%.*e", prec - 1, d);
		if (strtod(out, NULL) == d)
			break;
	}
	e = strchr(out, 'e');
	exp10 = (int)strtol(e + 1, NULL, 10);
	ndig = 0;
	for (i = 0; out + i < e; i++)
		if (out[i] >= '0' && out[i] <= '9')
			digits[ndig++] = out[i];
	digits[ndig] = '\0';
	while (ndig > 1 && digits[ndig - 1] == '0')
		digits[--ndig] = '\0';
	/* n = exp10 + 1: the position of the decimal point. */
	{
		int n = exp10 + 1, k = ndig;

		if (k <= n && n <= 21) {
			buf_puts(b, digits);
			for (i = 0; i < n - k; i++)
				buf_putc(b, '0');
		} else if (0 < n && n <= 21) {
			buf_append(b, digits, (size_t)n);
			buf_putc(b, '.');
			buf_puts(b, digits + n);
		} else if (-6 < n && n <= 0) {
			buf_puts(b, "0.");
			for (i = 0; i < -n; i++)
				buf_putc(b, '0');
			buf_puts(b, digits);
		} else {
			buf_putc(b, digits[0]);
			if (k > 1) {
				buf_putc(b, '.');
				buf_puts(b, digits + 1);
			}
			buf_printf(b, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
		}
	}
	return 0;
}

int
jcs_write(struct buf *b, const void *value)
{
	const cJSON *v = value;
	const cJSON *c;
	const cJSON **members;
	size_t n = 0, i;
	int rc = 0;

	if (v == NULL)
		return -1;
	if (cJSON_IsNull(v)) {
		buf_puts(b, "null");
	} else if (cJSON_IsTrue(v)) {
		buf_puts(b, "true");
	} else if (cJSON_IsFalse(v)) {
		buf_puts(b, "false");
	} else if (cJSON_IsNumber(v)) {
		return put_number(b, v->valuedouble);
	} else if (cJSON_IsString(v)) {
		put_string(b, v->valuestring);
	} else if (cJSON_IsArray(v)) {
		buf_putc(b, '[');
		for (c = v->child; c != NULL && rc == 0; c = c->next) {
			if (c != v->child)
				buf_putc(b, ',');
			rc = jcs_write(b, c);
		}
		buf_putc(b, ']');
	} else if (cJSON_IsObject(v)) {
		for (c = v->child; c != NULL; c = c->next)
			n++;
		members = arena_alloc(b->arena, (n + 1) * sizeof(*members));
		for (c = v->child, i = 0; c != NULL; c = c->next)
			members[i++] = c;
		qsort(members, n, sizeof(*members), cmp_members);
		buf_putc(b, '{');
		for (i = 0; i < n && rc == 0; i++) {
			if (i > 0)
				buf_putc(b, ',');
			put_string(b, members[i]->string);
			buf_putc(b, ':');
			rc = jcs_write(b, members[i]);
		}
		buf_putc(b, '}');
	} else {
		return -1;
	}
	return rc;
}
