/* Unit tests of lib/config.c: required variables, types, bounds, keys. */
#include <stdlib.h>
#include <string.h>

#include "../../lib/shush.h"
#include "tap.h"

static int
load(char *err, size_t n)
{
	err[0] = '\0';
	return config_load(err, n);
}

int
main(void)
{
	char err[512];
	const char *kek = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

	clearenv(); /* the test stack's own configuration must not leak in */
	unsetenv("DATABASE_URL");
	ok(load(err, sizeof(err)) < 0 && strstr(err, "DATABASE_URL") != NULL,
	   "missing DATABASE_URL named: %s", err);
	setenv("DATABASE_URL", "postgresql://u@127.0.0.1:5432/db", 1);
	setenv("BETTER_AUTH_SECRET", "0123456789abcdef-secret", 1);
	setenv("MASTER_KEK_B64", "c2hvcnQ=", 1);
	ok(load(err, sizeof(err)) < 0 && strstr(err, "MASTER_KEK_B64") != NULL,
	   "short key refused: %s", err);
	ok(strstr(err, "c2hvcnQ") == NULL, "the key's value is not echoed");
	setenv("MASTER_KEK_B64", "not base64!!", 1);
	ok(load(err, sizeof(err)) < 0, "malformed key refused");
	setenv("MASTER_KEK_B64", kek, 1);
	ok(load(err, sizeof(err)) == 0, "valid configuration loads: %s", err);
	ok(config_master_kek()[0] == 0 && config_master_kek()[31] == 31, "key decoded");
	is_int(config_int(CFG_RATE_LIMIT_AUTH), 30, "default rate limit");
	is_str(config_str(CFG_REDIS_URL), "redis://127.0.0.1:6379/0", "default REDIS_URL");
	setenv("SHUSH_RATE_LIMIT_AUTH", "0", 1);
	ok(load(err, sizeof(err)) == 0 && config_int(CFG_RATE_LIMIT_AUTH) == 0, "0 = unlimited");
	setenv("SHUSH_RATE_LIMIT_AUTH", "12abc", 1);
	ok(load(err, sizeof(err)) < 0 && strstr(err, "SHUSH_RATE_LIMIT_AUTH") != NULL,
	   "trailing junk refused");
	setenv("SHUSH_RATE_LIMIT_AUTH", "-1", 1);
	ok(load(err, sizeof(err)) < 0, "negative refused");
	unsetenv("SHUSH_RATE_LIMIT_AUTH");
	setenv("DATABASE_URL", "mysql://x", 1);
	ok(load(err, sizeof(err)) < 0 && strstr(err, "DATABASE_URL") != NULL, "wrong scheme");
	setenv("DATABASE_URL", "postgresql://u@127.0.0.1:5432/db", 1);
	setenv("BETTER_AUTH_SECRET", "short", 1);
	ok(load(err, sizeof(err)) < 0 && strstr(err, "BETTER_AUTH_SECRET") != NULL,
	   "short secret refused");
	setenv("BETTER_AUTH_SECRET", "0123456789abcdef-secret", 1);
	setenv("MASTER_KEK_PREVIOUS_B64", "c2hvcnQ=", 1);
	ok(load(err, sizeof(err)) < 0, "a bad previous key refused");
	setenv("MASTER_KEK_PREVIOUS_B64", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=,AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 1);
	ok(load(err, sizeof(err)) == 0, "two previous keys accepted");
	setenv("BETTER_AUTH_URL", "https://secrets.example.com", 1);
	ok(load(err, sizeof(err)) == 0 && config_public_https(), "https public URL");
	setenv("SHUSH_LOG_LEVEL", "loud", 1);
	ok(load(err, sizeof(err)) < 0, "unknown log level refused");
	return done_testing();
}
