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

/* The warm path's tables: 10k keys stay cached, a generation or a
 * revocation in the past is a miss, bodies come back byte for byte. */
static void
cache_tests(void)
{
	static char keys[10000][APIKEY_LEN + 1];
	struct apikey k, got;
	const struct runtime_cached *c;
	char etag[RUNTIME_ETAG_LEN + 1];
	int i, hits = 0;
	int64_t now = 1764000000000LL;

	ok(runtime_world_init() == 0, "the shared counters");
	memset(&k, 0, sizeof(k));
	k.id = "key";
	k.org_id = "org";
	k.kind = "environment";
	k.project_id = "projectA";
	k.environment_id = "env";
	for (i = 0; i < 10000; i++) {
		snprintf(keys[i], sizeof(keys[i]), "%s%0*d", APIKEY_PREFIX,
			 (int)(APIKEY_LEN - strlen(APIKEY_PREFIX)), i);
		runtime_key_put(keys[i], 7, runtime_world_writes(), now, &k);
	}
	for (i = 0; i < 10000; i++)
		hits += runtime_key_get(keys[i], 7, now + 1, &got);
	ok(hits == 10000, "10,000 keys put, %d still cached (all)", hits);
	ok(runtime_key_get(keys[0], 7, now + 1, &got) && strcmp(got.id, "key") == 0 &&
		   strcmp(got.environment_id, "env") == 0,
	   "a hit gives the key back");
	ok(!runtime_key_get(keys[0], 8, now + 1, &got), "another generation: miss");
	ok(!runtime_key_get(keys[0], 0, now + 1, &got), "generation 0: miss");
	ok(runtime_key_get(keys[0], 7, now + 60000, &got), "a minute old: hit");
	ok(!runtime_key_get(keys[0], 7, now + 600000, &got), "ten minutes old: miss");
	k.revoked_at = "2025-11-24T16:00:00.000Z";
	runtime_key_put(keys[1], 7, runtime_world_writes(), now, &k);
	ok(!runtime_key_get(keys[1], 7, now + 1, &got), "revoked in the past: miss");
	k.revoked_at = NULL;
	k.expires_at = "2999-01-01T00:00:00.000Z";
	runtime_key_put(keys[2], 7, runtime_world_writes(), now, &k);
	ok(runtime_key_get(keys[2], 7, now + 1, &got), "expiring in the future: hit");
	ok(!runtime_key_get("shush_nope", 7, now + 1, &got), "a malformed key: miss");

	/* Scoped invalidation: a write to another project leaves the entry
	 * warm, one to its own project does not. */
	k.expires_at = NULL;
	runtime_key_put(keys[3], 7, runtime_world_writes(), now, &k);
	ok(runtime_key_get(keys[3], 7, now + 1, &got), "cached");
	runtime_world_bump_project("projectB");
	ok(runtime_world_stripe("projectB") != runtime_world_stripe("projectA") &&
		   runtime_key_get(keys[3], 7, now + 1, &got),
	   "another project's write: still a hit");
	runtime_world_bump_project("projectA");
	ok(!runtime_key_get(keys[3], 7, now + 1, &got), "its own project's write: miss");
	{
		uint64_t w0 = runtime_world_writes();

		runtime_world_bump_project("projectB"); /* during the query */
		runtime_key_put(keys[4], 7, w0, now, &k);
		ok(!runtime_key_get(keys[4], 7, now + 1, &got),
		   "a fill during which any stripe moved is not kept");
	}

	memset(etag, 'e', sizeof(etag));
	etag[0] = etag[RUNTIME_ETAG_LEN - 1] = '"';
	etag[RUNTIME_ETAG_LEN] = '\0';
	for (i = 0; i < 1000; i++) {
		char env[32];

		snprintf(env, sizeof(env), "env%d", i);
		runtime_body_put(env, RUNTIME_DOTENV, 7, 0, "A=1\n", 4, etag, 1);
	}
	for (hits = 0, i = 0; i < 1000; i++) {
		char env[32];

		snprintf(env, sizeof(env), "env%d", i);
		hits += runtime_body_get(env, RUNTIME_DOTENV, 7, 0) != NULL;
	}
	ok(hits == 1000, "1,000 bodies put, %d still cached (all)", hits);
	c = runtime_body_get("env1", RUNTIME_DOTENV, 7, 0);
	ok(c != NULL && c->len == 4 && memcmp(c->body, "A=1\n", 4) == 0 && c->count == 1 &&
		   strcmp(c->etag, etag) == 0,
	   "a body comes back byte for byte with its ETag and count");
	ok(runtime_body_get("env1", RUNTIME_JSON, 7, 0) == NULL, "another format: miss");
	ok(runtime_body_get("env1", RUNTIME_DOTENV, 8, 0) == NULL, "another generation: miss");
	ok(runtime_body_get("env1", RUNTIME_DOTENV, 7, 1) == NULL, "another stripe: miss");
	runtime_body_put("env1", RUNTIME_DOTENV, 8, 0, "A=2\n", 4, etag, 1);
	c = runtime_body_get("env1", RUNTIME_DOTENV, 8, 0);
	ok(c != NULL && memcmp(c->body, "A=2\n", 4) == 0, "a put replaces the entry");
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
	cache_tests();
	arena_free(a);
	return done_testing();
}
