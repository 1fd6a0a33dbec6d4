/*
 * Configuration from the environment, as a table: one row per variable,
 * its type, default, bounds and help. `shushd check` prints the problems.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "shush.h"

#define KEY_LEN 32

const struct config_def config_defs[CFG__MAX] = {
	{CFG_DATABASE_URL, "DATABASE_URL", CONFIG_URL, NULL, 1, 1, 0, 0,
	 "PostgreSQL connection URI (postgresql://user@host:port/db)"},
	{CFG_REDIS_URL, "REDIS_URL", CONFIG_URL, "redis://127.0.0.1:6379/0", 0, 1, 0, 0,
	 "Redis URI for caches and counters (redis://host:port/db)"},
	{CFG_MASTER_KEK_B64, "MASTER_KEK_B64", CONFIG_KEY32, NULL, 1, 1, 0, 0,
	 "base64 of the 32-byte master key-encryption key"},
	{CFG_MASTER_KEK_PREVIOUS_B64, "MASTER_KEK_PREVIOUS_B64", CONFIG_KEYLIST, "", 0, 1, 0, 0,
	 "comma-separated older master keys, still accepted for unwrapping"},
	{CFG_BETTER_AUTH_SECRET, "BETTER_AUTH_SECRET", CONFIG_STRING, NULL, 1, 1, 16, 4096,
	 "secret that signs session cookies (shared with better-auth)"},
	{CFG_BETTER_AUTH_URL, "BETTER_AUTH_URL", CONFIG_URL, "http://127.0.0.1:8080", 0, 0, 0, 0,
	 "public base URL of the service; its origin is trusted"},
	{CFG_BETTER_AUTH_TRUSTED_ORIGINS, "BETTER_AUTH_TRUSTED_ORIGINS", CONFIG_STRING, "", 0, 0, 0,
	 8192, "comma-separated extra trusted origins"},
	{CFG_SOCKET, "SHUSH_SOCKET", CONFIG_STRING, "/run/shush/shushd.sock", 0, 0, 1, 107,
	 "FastCGI unix socket path (ignored under systemd socket activation)"},
	{CFG_SOCKET_MODE, "SHUSH_SOCKET_MODE", CONFIG_STRING, "0660", 0, 0, 1, 8,
	 "octal permissions of the FastCGI socket"},
	{CFG_WORKERS, "SHUSH_WORKERS", CONFIG_INT, "0", 0, 0, 0, 256,
	 "number of worker processes (0: one per core)"},
	{CFG_RATE_LIMIT_AUTH, "SHUSH_RATE_LIMIT_AUTH", CONFIG_INT, "30", 0, 0, 0, 1000000,
	 "sign-in/sign-up attempts per minute per IP and per e-mail (0: unlimited)"},
	{CFG_RATE_LIMIT_CODES, "SHUSH_RATE_LIMIT_CODES", CONFIG_INT, "10", 0, 0, 0, 1000000,
	 "device-code approvals per minute per session and per IP (0: unlimited)"},
	{CFG_LOG_LEVEL, "SHUSH_LOG_LEVEL", CONFIG_STRING, "info", 0, 0, 1, 5,
	 "debug, info, warn or error"},
	{CFG_DB_TIMEOUT, "SHUSH_DB_TIMEOUT", CONFIG_INT, "5", 0, 0, 1, 60,
	 "seconds to wait for PostgreSQL to connect or answer"},
	{CFG_SMTP_URL, "SMTP_URL", CONFIG_STRING, "", 0, 1, 0, 2048,
	 "smtp(s)://user:pass@host:port for invitation mail (unset: outbox table)"},
	{CFG_SMTP_FROM, "SMTP_FROM", CONFIG_STRING, "shush@localhost", 0, 0, 3, 320,
	 "sender address of outgoing mail"},
	{CFG_DEK_CACHE_SECONDS, "SHUSH_DEK_CACHE_SECONDS", CONFIG_INT, "300", 0, 0, 0, 3600,
	 "seconds an unwrapped org data key stays cached in a worker (0: never cached)"},
	{CFG_SPOOL_DIR, "SHUSH_SPOOL_DIR", CONFIG_STRING, "/var/lib/shush/spool", 0, 0, 1, 200,
	 "directory of the audit spool: runtime reads' records until shush-worker chains them"},
	{CFG_SPOOL_CATCHUP_MB, "SHUSH_SPOOL_CATCHUP_MB", CONFIG_INT, "1024", 0, 0, 0, 1048576,
	 "MiB of unchained spool past which shush-worker chains at full speed (else paced)"},
};

static const char *values[CFG__MAX];
static long ints[CFG__MAX];
static unsigned char master_kek[KEY_LEN];
static int public_https;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

static int
check_url(const struct config_def *d, const char *v, char *err, size_t errlen)
{
	const char *const schemes[] = {"postgres://", "postgresql://", "redis://", "rediss://",
				       "unix://", "http://", "https://"};
	size_t i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strncmp(v, schemes[i], strlen(schemes[i])) == 0 && v[strlen(schemes[i])] != '\0')
			return 0;
	snprintf(err, errlen, "%s is not a valid URL (%s)", d->name, d->help);
	return -1;
}

static int
decode_key(const char *name, const char *v, size_t vlen, unsigned char out[KEY_LEN], char *err,
	   size_t errlen)
{
	unsigned char tmp[64];
	long n;

	n = crypto_b64_decode(v, vlen, tmp, sizeof(tmp));
	if (n != KEY_LEN) {
		crypto_wipe(tmp, sizeof(tmp));
		snprintf(err, errlen,
			 "%s must be the standard base64 of exactly 32 random bytes "
			 "(generate one with: openssl rand -base64 32)",
			 name);
		return -1;
	}
	memcpy(out, tmp, KEY_LEN);
	crypto_wipe(tmp, sizeof(tmp));
	return 0;
}

static int
check_one(const struct config_def *d, const char *v, char *err, size_t errlen)
{
	char *end;
	long n;

	switch (d->type) {
	case CONFIG_INT:
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || n < d->min || n > d->max) {
			snprintf(err, errlen, "%s must be an integer from %ld to %ld (%s)", d->name,
				 d->min, d->max, d->help);
			return -1;
		}
		ints[d->key] = n;
		return 0;
	case CONFIG_STRING:
		if ((d->min > 0 && strlen(v) < (size_t)d->min) ||
		    (d->max > 0 && strlen(v) > (size_t)d->max)) {
			snprintf(err, errlen, "%s must be %ld to %ld characters long (%s)", d->name,
				 d->min, d->max, d->help);
			return -1;
		}
		return 0;
	case CONFIG_URL:
		return check_url(d, v, err, errlen);
	case CONFIG_KEY32:
		return decode_key(d->name, v, strlen(v), master_kek, err, errlen);
	case CONFIG_KEYLIST: {
		const char *p = v;

		while (*p != '\0') {
			unsigned char k[KEY_LEN];
			size_t len = strcspn(p, ",");

			if (len > 0 && decode_key(d->name, p, len, k, err, errlen) < 0)
				return -1;
			crypto_wipe(k, sizeof(k));
			p += len;
			if (*p == ',')
				p++;
		}
		return 0;
	}
	}
	return 0;
}

int
config_load(char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < CFG__MAX; i++) {
		const struct config_def *d = &config_defs[i];
		const char *v = getenv(d->name);

		if (v == NULL || *v == '\0') {
			if (d->required) {
				snprintf(err, errlen, "%s is not set (%s)", d->name, d->help);
				return -1;
			}
			v = d->fallback != NULL ? d->fallback : "";
			values[d->key] = v;
			if (d->type == CONFIG_INT)
				ints[d->key] = strtol(v, NULL, 10);
			continue;
		}
		if (check_one(d, v, err, errlen) < 0)
			return -1;
		values[d->key] = v;
	}
	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(values[CFG_LOG_LEVEL], level_names[i]) == 0)
			break;
	if (i == sizeof(level_names) / sizeof(level_names[0])) {
		snprintf(err, errlen, "SHUSH_LOG_LEVEL must be one of debug, info, warn, error");
		return -1;
	}
	log_set_level((enum log_level)i);
	public_https = strncmp(values[CFG_BETTER_AUTH_URL], "https://", 8) == 0;
	return 0;
}

const char *
config_str(enum config_key k)
{
	return values[k] != NULL ? values[k] : "";
}

long
config_int(enum config_key k)
{
	return ints[k];
}

int
config_is_set(enum config_key k)
{
	return values[k] != NULL && values[k][0] != '\0';
}

const unsigned char *
config_master_kek(void)
{
	return master_kek;
}

int
config_public_https(void)
{
	return public_https;
}
