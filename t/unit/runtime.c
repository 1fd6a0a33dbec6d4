/*
 * Unit tests of lib/runtime.c: ?format= parsing, the rendering of the
 * resolved environment (json exact; dotenv and shell exactly the export's
 * writers), the strong ETag (per format, per content) and If-None-Match.
 */
#include <stdio.h>
#include <string.h>

#include "../../lib/shush.h"
#include "tap.h"

static const char *
render(struct arena *a, enum runtime_format f, const struct secret_resolved *items, size_t n)
{
	struct buf b;

	buf_init(&b, a);
	if (runtime_render(&b, a, f, "dev", items, n) < 0)
		return "(refused)";
	return b.data;
}

int
main(void)
{
	struct arena *a = arena_new(4096);
	struct secret_resolved items[2];
	struct dotenv_pair pairs[2];
	enum runtime_format f;
	char e1[RUNTIME_ETAG_LEN + 1], e2[RUNTIME_ETAG_LEN + 1], e3[RUNTIME_ETAG_LEN + 1];
	struct buf b;

	ok(runtime_format_parse(NULL, &f) == 0 && f == RUNTIME_JSON, "no format: json");
	ok(runtime_format_parse("dotenv", &f) == 0 && f == RUNTIME_DOTENV, "dotenv");
	ok(runtime_format_parse("shell", &f) == 0 && f == RUNTIME_SHELL, "shell");
	ok(runtime_format_parse("json", &f) == 0 && f == RUNTIME_JSON, "json");
	ok(runtime_format_parse("JSON", &f) < 0 && runtime_format_parse("", &f) < 0 &&
		   runtime_format_parse("xml", &f) < 0,
	   "anything else refused");

	memset(items, 0, sizeof(items));
	items[0].key = "A";
	items[0].value = "x\"y\n";
	items[0].value_len = 4;
	items[1].key = "B";
	items[1].value = "it's";
	items[1].value_len = 4;
	is_str(render(a, RUNTIME_JSON, items, 2),
	       "{\"environment\":\"dev\",\"secrets\":{\"A\":\"x\\\"y\\n\",\"B\":\"it's\"}}",
	       "json: {environment,secrets}, exact");
	is_str(render(a, RUNTIME_JSON, items, 0), "{\"environment\":\"dev\",\"secrets\":{}}",
	       "json: empty");
	pairs[0].key = "A";
	pairs[0].value = "x\"y\n";
	pairs[0].value_len = 4;
	pairs[1].key = "B";
	pairs[1].value = "it's";
	pairs[1].value_len = 4;
	buf_init(&b, a);
	dotenv_write_shell(&b, pairs, 2);
	is_str(render(a, RUNTIME_SHELL, items, 2), b.data, "shell: the export's writer");
	buf_init(&b, a);
	dotenv_write_dotenv(&b, pairs, 2);
	is_str(render(a, RUNTIME_DOTENV, items, 2), b.data, "dotenv: the export's writer");
	items[1].key = "bad key";
	is_str(render(a, RUNTIME_JSON, items, 2), "(refused)", "an invalid key: refused");

	runtime_etag(RUNTIME_JSON, "abc", 3, e1);
	runtime_etag(RUNTIME_JSON, "abc", 3, e2);
	runtime_etag(RUNTIME_JSON, "abd", 3, e3);
	is_int((int)strlen(e1), RUNTIME_ETAG_LEN, "ETag length");
	ok(e1[0] == '"' && e1[RUNTIME_ETAG_LEN - 1] == '"' &&
		   strspn(e1 + 1, "0123456789abcdef") == 64,
	   "a strong quoted hex tag");
	is_str(e1, e2, "same content, same tag");
	ok(strcmp(e1, e3) != 0, "other content, other tag");
	runtime_etag(RUNTIME_DOTENV, "", 0, e2);
	runtime_etag(RUNTIME_SHELL, "", 0, e3);
	ok(strcmp(e2, e3) != 0, "same bytes, other format: other tag");

	ok(runtime_etag_match(e1, e1), "exact match");
	ok(!runtime_etag_match(NULL, e1), "absent: no match");
	ok(!runtime_etag_match("", e1), "empty: no match");
	ok(runtime_etag_match("*", e1), "*");
	ok(runtime_etag_match(arena_printf(a, "W/%s", e1), e1), "W/ (weak comparison)");
	ok(runtime_etag_match(arena_printf(a, "\"x\", \"y\" ,%s", e1), e1), "in a list");
	ok(!runtime_etag_match(arena_printf(a, "\"x\", %s", e3), e1), "a list without it");
	ok(!runtime_etag_match(e1 + 1, e1), "unquoted: no match");
	ok(!runtime_etag_match("\"abc", e1), "unterminated: no match");
	ok(!runtime_etag_match("garbage, more", e1), "garbage: no match");
	ok(runtime_etag_match(arena_printf(a, "garbage, %s", e1), e1), "garbage, then it");
	arena_free(a);
	return done_testing();
}
