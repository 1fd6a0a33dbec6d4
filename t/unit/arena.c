/* Unit tests of lib/arena.c: allocation, alignment, cleanups, reset, buf. */
#include <stdlib.h>
#include <string.h>

#include "../../lib/shush.h"
#include "tap.h"

static int cleaned;

static void
count_cleanup(void *p)
{
	cleaned += *(int *)p;
}

int
main(void)
{
	struct arena *a = arena_new(1024);
	struct buf b;
	char *p, *big;
	int one = 1, ten = 10, i;

	p = arena_alloc(a, 3);
	ok(p != NULL && ((uintptr_t)p % _Alignof(max_align_t)) == 0, "aligned allocation");
	ok(p[0] == 0 && p[1] == 0 && p[2] == 0, "zeroed");
	big = arena_alloc(a, 100000);
	memset(big, 'x', 100000);
	ok(big != NULL, "allocation larger than a chunk");
	is_str(arena_strdup(a, "hello"), "hello", "strdup");
	ok(arena_strdup(a, NULL) == NULL, "strdup(NULL) is NULL");
	is_str(arena_strndup(a, "hello", 2), "he", "strndup");
	is_str(arena_printf(a, "%s-%d", "x", 42), "x-42", "printf");
	for (i = 0; i < 1000; i++)
		(void)arena_alloc(a, 100);
	ok(arena_used(a) >= 100000 + 100 * 1000, "used counts every allocation");

	arena_defer(a, count_cleanup, &one);
	arena_defer(a, count_cleanup, &ten);
	arena_reset(a);
	is_int(cleaned, 11, "cleanups run at reset");
	is_int((long long)arena_used(a), 0, "reset empties the arena");
	arena_reset(a);
	is_int(cleaned, 11, "cleanups run once");

	buf_init(&b, a);
	for (i = 0; i < 1000; i++)
		buf_puts(&b, "abc");
	is_int((long long)b.len, 3000, "buf grows");
	ok(b.data[b.len] == '\0', "buf stays NUL-terminated");
	b.len = 0;
	buf_json_string(&b, "a\"b\\c\n\x01\x7f", 8);
	is_str(b.data, "\"a\\\"b\\\\c\\n\\u0001\\u007f\"", "JSON string escaping");
	b.len = 0;
	buf_printf(&b, "%05d|%s", 42, "z");
	is_str(b.data, "00042|z", "buf_printf");

	/* arena_clean_text: what a User-Agent may carry into a text column. */
	is_str(arena_clean_text(a, "curl/8.5.0", 512), "curl/8.5.0", "clean text kept");
	is_str(arena_clean_text(a, "bad\xff\xfe end", 512), "bad?? end", "invalid UTF-8 -> ?");
	is_str(arena_clean_text(a, "tab\tnl\n\x7f", 512), "tab?nl??", "controls -> ?");
	is_str(arena_clean_text(a, "caf\xc3\xa9 \xef\xbf\xbd", 512), "caf\xc3\xa9 \xef\xbf\xbd",
	       "UTF-8 and a real U+FFFD kept");
	is_str(arena_clean_text(a, "\xe2\x82", 512), "??", "truncated sequence -> ?");
	is_str(arena_clean_text(a, "ab\xc3\xa9", 3), "ab", "cut at a character boundary");
	is_str(arena_clean_text(a, "abcdef", 4), "abcd", "cut at max bytes");
	ok(arena_clean_text(a, NULL, 4) == NULL, "NULL stays NULL");

	arena_free(a);
	return done_testing();
}
