/*
 * Keyset-pagination cursors, opaque to clients: base64url (no padding) of
 * the last row's sort key. Decoding accepts only what encoding produces, so
 * a forged cursor is a 400, never a query on garbage.
 */
#include <string.h>

#include "shush.h"

#define CURSOR_MAX 512
#define STAMP_LEN 27 /* 2026-11-28T12:00:00.000000Z */

int
id_plausible(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (i >= ID_PLAUSIBLE_MAX ||
		    !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

const char *
cursor_encode(struct arena *a, const char *raw)
{
	size_t n = strlen(raw);
	char *out = arena_alloc(a, 4 * ((n + 2) / 3) + 1);
	size_t len = crypto_b64_encode((const unsigned char *)raw, n, out), i;

	for (i = 0; i < len; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
		else if (out[i] == '=')
			out[i] = '\0';
	}
	return out;
}

char *
cursor_decode(struct arena *a, const char *cursor)
{
	size_t n = strlen(cursor), i;
	char *std, *raw;
	long len;

	if (n == 0 || n > CURSOR_MAX || n % 4 == 1)
		return NULL;
	std = arena_alloc(a, n + 4);
	for (i = 0; i < n; i++) {
		char c = cursor[i];

		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			   (c >= '0' && c <= '9')))
			return NULL;
		std[i] = c;
	}
	while (i % 4 != 0)
		std[i++] = '=';
	raw = arena_alloc(a, 3 * (i / 4) + 4);
	len = crypto_b64_decode(std, i, (unsigned char *)raw, 3 * (i / 4) + 3);
	if (len <= 0)
		return NULL;
	raw[len] = '\0';
	if (memchr(raw, '\0', (size_t)len) != NULL)
		return NULL;
	return raw;
}

const char *
cursor_encode_stamp(struct arena *a, const char *stamp, const char *id)
{
	return cursor_encode(a, arena_printf(a, "%s|%s", stamp, id));
}

static int
stamp_valid(const char *k, size_t n)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
	size_t i;

	if (n != STAMP_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (shape[i] == 'd' ? !(k[i] >= '0' && k[i] <= '9') : k[i] != shape[i])
			return 0;
	return 1;
}

int
cursor_decode_stamp(struct arena *a, const char *cursor, const char **stamp, const char **id)
{
	char *raw = cursor_decode(a, cursor), *bar;

	if (raw == NULL || (bar = strchr(raw, '|')) == NULL ||
	    !stamp_valid(raw, (size_t)(bar - raw)) || !id_plausible(bar + 1))
		return -1;
	*bar = '\0';
	*stamp = raw;
	*id = bar + 1;
	return 0;
}
