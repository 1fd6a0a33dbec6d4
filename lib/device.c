/*
 * The CLI device flow (API.md §8, RFC 8628 semantics), rows of device_code
 * (schema 008). The device code is a bearer secret of the CLI: only its
 * SHA-256 is stored. User codes are 8 letters of a 20-letter alphabet
 * without vowels (no words, no 0/O or 1/I confusion), shown as BCDF-GHJK.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shush.h"

static const char alphabet[] = DEVICE_USER_CODE_ALPHABET;

/* Rows this long past their expiry are deleted (polls of them answer
 * INVALID_GRANT from then on instead of EXPIRED_TOKEN). */
#define DEVICE_SWEEP_AFTER_SQL "interval '1 hour'"
#define DEVICE_START_TRIES 8

int
device_user_code_new(char out[DEVICE_USER_CODE_LEN + 1])
{
	unsigned char r[64];
	size_t i, n = 0;

	/* Rejection sampling: bytes 240..255 would favour the first letters. */
	while (n < DEVICE_USER_CODE_LEN) {
		if (crypto_random(r, sizeof(r)) < 0)
			return -1;
		for (i = 0; i < sizeof(r) && n < DEVICE_USER_CODE_LEN; i++)
			if (r[i] < 240)
				out[n++] = alphabet[r[i] % 20];
	}
	out[n] = '\0';
	crypto_wipe(r, sizeof(r));
	return 0;
}

int
device_user_code_normalize(const char *in, char out[DEVICE_USER_CODE_LEN + 1])
{
	size_t n = 0;
	int dashes = 0;

	for (; *in != '\0'; in++) {
		char c = *in;

		if (c == '-') {
			/* One dash, between the two halves: BCDF-GHJK. */
			if (dashes++ > 0 || n != DEVICE_USER_CODE_LEN / 2)
				return -1;
			continue;
		}
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c == '\0' || strchr(alphabet, c) == NULL || n >= DEVICE_USER_CODE_LEN)
			return -1;
		out[n++] = c;
	}
	if (n != DEVICE_USER_CODE_LEN)
		return -1;
	out[n] = '\0';
	return 0;
}

void
device_user_code_format(const char *code, char out[DEVICE_USER_CODE_LEN + 2])
{
	memcpy(out, code, DEVICE_USER_CODE_LEN / 2);
	out[DEVICE_USER_CODE_LEN / 2] = '-';
	memcpy(out + DEVICE_USER_CODE_LEN / 2 + 1, code + DEVICE_USER_CODE_LEN / 2,
	       DEVICE_USER_CODE_LEN / 2);
	out[DEVICE_USER_CODE_LEN + 1] = '\0';
}

void
device_code_hash(const char *device_code, char out[65])
{
	unsigned char h[32];

	crypto_sha256(device_code, strlen(device_code), h);
	crypto_hex(h, sizeof(h), out);
}

static struct db_stmt st_sweep = {
	"device_sweep",
	"DELETE FROM device_code WHERE id IN (SELECT id FROM device_code "
	"WHERE expires_at < now() - " DEVICE_SWEEP_AFTER_SQL " LIMIT 100)",
	0, 0};

/* A user code still held by an expired pending row is taken over by the
 * new row (that row then answers EXPIRED_TOKEN until swept, as before);
 * one held by a live row inserts nothing, and another code is drawn. */
static struct db_stmt st_release = {
	"device_release_code",
	"DELETE FROM device_code WHERE user_code = $1 AND status = 'pending' "
	"AND expires_at <= now()",
	1, 0};

static struct db_stmt st_insert = {
	"device_insert",
	"INSERT INTO device_code (id, device_code_hash, user_code, client_name, client_ip, "
	"interval_seconds, expires_at) VALUES ($1, $2, $3, $4, $5, $6::int, "
	"now() + $7::int * interval '1 second') ON CONFLICT DO NOTHING RETURNING id",
	7, 0};

enum db_status
device_start(struct arena *a, const char *client_name, const char *client_ip,
	     struct device_start *out)
{
	struct db_result r;
	char id[ID_LEN + 1], hash[65], interval[16], ttl[16];
	const char *params[7];
	int try;

	memset(out, 0, sizeof(*out));
	if (db_exec(a, &st_sweep, NULL, &r) != DB_OK)
		return r.status;
	snprintf(interval, sizeof(interval), "%d", DEVICE_INTERVAL);
	snprintf(ttl, sizeof(ttl), "%d", DEVICE_TTL_SECONDS);
	for (try = 0; try < DEVICE_START_TRIES; try++) {
		if (crypto_random_alnum(out->device_code, DEVICE_CODE_LEN) < 0 ||
		    device_user_code_new(out->user_code) < 0)
			return DB_ERROR;
		id_new(id);
		device_code_hash(out->device_code, hash);
		params[0] = out->user_code;
		if (db_exec(a, &st_release, params, &r) != DB_OK)
			return r.status;
		params[0] = id;
		params[1] = hash;
		params[2] = out->user_code;
		params[3] = client_name;
		params[4] = client_ip;
		params[5] = interval;
		params[6] = ttl;
		if (db_exec(a, &st_insert, params, &r) != DB_OK)
			return r.status;
		if (r.rows == 1) {
			out->id = db_get(&r, 0, 0);
			out->expires_in = DEVICE_TTL_SECONDS;
			out->interval = DEVICE_INTERVAL;
			return DB_OK;
		}
	}
	return DB_CONFLICT;
}

/* Only a pending, unexpired row is decided; the person and the org the
 * token will start in are kept with the decision. */
static struct db_stmt st_decide = {
	"device_decide",
	"UPDATE device_code SET status = $2, user_id = $3, active_org_id = $4, "
	"decided_at = now() WHERE user_code = $1 AND status = 'pending' AND expires_at > now() "
	"RETURNING id, client_name, client_ip",
	4, 0};

enum db_status
device_decide(struct arena *a, const char *user_code, int approve, const char *user_id,
	      const char *org_id, struct device_decision *out)
{
	struct db_result r;
	const char *params[4] = {user_code, approve ? "approved" : "denied", user_id, org_id};

	memset(out, 0, sizeof(*out));
	if (db_exec(a, &st_decide, params, &r) != DB_OK)
		return r.status;
	if (r.rows == 1) {
		out->id = db_get(&r, 0, 0);
		out->client_name = db_get(&r, 0, 1);
		out->client_ip = db_get(&r, 0, 2);
	}
	return DB_OK;
}

/* The row, locked until the caller's transaction ends, with what the poll
 * needs to know computed by the database's clock. */
static struct db_stmt st_poll_find = {
	"device_poll_find",
	"SELECT id, status, user_id, active_org_id, client_name, interval_seconds, "
	"expires_at <= now(), "
	"last_polled_at IS NOT NULL AND "
	"clock_timestamp() < last_polled_at + interval_seconds * interval '1 second' "
	"FROM device_code WHERE device_code_hash = $1 FOR UPDATE",
	1, 0};

/* Every poll of a pending row is recorded; a SLOW_DOWN adds 5 s. */
static struct db_stmt st_poll_mark = {
	"device_poll_mark",
	"UPDATE device_code SET last_polled_at = clock_timestamp(), "
	"interval_seconds = least(interval_seconds + $2::int, 3600) WHERE id = $1 "
	"RETURNING interval_seconds",
	2, 0};

enum db_status
device_poll(struct arena *a, const char *device_code, struct device_poll *out)
{
	struct db_result r;
	const char *params[2];
	const char *status, *expired, *too_soon;
	char hash[65];

	memset(out, 0, sizeof(*out));
	out->state = DEVICE_INVALID_GRANT;
	device_code_hash(device_code, hash);
	params[0] = hash;
	if (db_exec(a, &st_poll_find, params, &r) != DB_OK)
		return r.status;
	if (r.rows == 0)
		return DB_OK;
	out->id = db_get(&r, 0, 0);
	status = db_get(&r, 0, 1);
	out->user_id = db_get(&r, 0, 2);
	out->active_org_id = db_get(&r, 0, 3);
	out->client_name = db_get(&r, 0, 4);
	out->interval = (int)strtol(db_get(&r, 0, 5), NULL, 10);
	expired = db_get(&r, 0, 6);
	too_soon = db_get(&r, 0, 7);
	if (strcmp(status, "consumed") == 0)
		return DB_OK; /* used: INVALID_GRANT */
	if (expired[0] == 't') {
		out->state = DEVICE_EXPIRED;
		return DB_OK;
	}
	if (strcmp(status, "denied") == 0) {
		out->state = DEVICE_DENIED;
		return DB_OK;
	}
	if (strcmp(status, "approved") == 0) {
		out->state = DEVICE_APPROVED;
		return DB_OK;
	}
	/* Pending: SLOW_DOWN is a variant of AUTHORIZATION_PENDING (RFC 8628
	 * §3.5); the first poll never is one. */
	out->state = too_soon[0] == 't' ? DEVICE_SLOW_DOWN : DEVICE_PENDING;
	params[0] = out->id;
	params[1] = out->state == DEVICE_SLOW_DOWN ? "5" : "0";
	if (db_exec(a, &st_poll_mark, params, &r) != DB_OK)
		return r.status;
	if (r.rows == 1)
		out->interval = (int)strtol(db_get(&r, 0, 0), NULL, 10);
	return DB_OK;
}

static struct db_stmt st_consume = {
	"device_consume",
	"UPDATE device_code SET status = 'consumed', api_key_id = $2 "
	"WHERE id = $1 AND status = 'approved'",
	2, 0};

enum db_status
device_consume(struct arena *a, const char *id, const char *api_key_id)
{
	struct db_result r;
	const char *params[2] = {id, api_key_id};

	return db_exec(a, &st_consume, params, &r);
}
