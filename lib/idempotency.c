/*
 * Idempotency-Key (API.md §1): the first answer to a mutating request,
 * remembered per (user, key) for 24 hours in idempotency_key (schema 004).
 *
 * The pipeline claims the key before the handler runs (a pending row,
 * status 0, inserted outside any transaction so that a concurrent duplicate
 * sees it at once), fills the row with the answer after the handler, or
 * releases the claim when the answer must not be kept (5xx). Every
 * statement here is its own transaction: the row is a cache of the answer,
 * written after the handler's own transaction committed.
 *
 * Each claim is identified by its created_at (the token): a handler that
 * outlives its claim (see IDEM_PENDING_SQL) can neither fill nor release
 * the claim of the request that took the key over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shush.h"

/* Rows older than this count as absent. */
#define IDEM_TTL_SQL "interval '24 hours'"
/* A pending claim this old belongs to a request that died between claim
 * and answer (a killed worker); the key may be claimed again. Far longer
 * than any request may run (statement_timeout 30 s, nginx's 60 s). */
#define IDEM_PENDING_SQL "interval '5 minutes'"
#define IDEM_SWEEP_BATCH "1000"
#define IDEM_SWEEP_EVERY_MS 60000

/* Claims the key: a new pending row, or over a row that counts as absent
 * (expired, or an abandoned claim). No row back: someone holds the key. */
static struct db_stmt st_claim = {
	"idem_claim",
	"INSERT INTO idempotency_key AS k (user_id, key, method, path, body_sha256) "
	"VALUES ($1, $2, $3, $4, $5) "
	"ON CONFLICT (user_id, key) DO UPDATE SET method = EXCLUDED.method, "
	"path = EXCLUDED.path, body_sha256 = EXCLUDED.body_sha256, status = 0, "
	"content_type = NULL, headers = '[]', body = NULL, created_at = now() "
	"WHERE k.created_at < now() - " IDEM_TTL_SQL " "
	"OR (k.status = 0 AND k.created_at < now() - " IDEM_PENDING_SQL ") "
	"RETURNING k.created_at",
	5, 0};

static struct db_stmt st_find = {
	"idem_find",
	"SELECT method, path, body_sha256, status, content_type, headers, encode(body, 'hex'), "
	"created_at >= now() - " IDEM_TTL_SQL " "
	"AND NOT (status = 0 AND created_at < now() - " IDEM_PENDING_SQL ") "
	"FROM idempotency_key WHERE user_id = $1 AND key = $2",
	2, 0};

static struct db_stmt st_store = {
	"idem_store",
	"UPDATE idempotency_key SET status = $4::integer, content_type = $5, headers = $6, "
	"body = decode($7, 'hex') "
	"WHERE user_id = $1 AND key = $2 AND status = 0 AND created_at = $3::timestamptz",
	7, 0};

static struct db_stmt st_release = {
	"idem_release",
	"DELETE FROM idempotency_key "
	"WHERE user_id = $1 AND key = $2 AND status = 0 AND created_at = $3::timestamptz",
	3, 0};

/* A bounded batch by ctid; SKIP LOCKED so that sweeping workers do not
 * queue behind each other, the outer condition so that a row claimed anew
 * meanwhile stays. */
static struct db_stmt st_sweep = {
	"idem_sweep",
	"WITH d AS (DELETE FROM idempotency_key WHERE ctid = ANY (ARRAY("
	"SELECT ctid FROM idempotency_key WHERE created_at < now() - " IDEM_TTL_SQL " "
	"LIMIT " IDEM_SWEEP_BATCH " FOR UPDATE SKIP LOCKED)) "
	"AND created_at < now() - " IDEM_TTL_SQL " RETURNING 1) SELECT count(*) FROM d",
	0, 0};

static int64_t last_sweep_ms;

int
idem_key_valid(const char *key)
{
	size_t i;

	if (key == NULL || key[0] == '\0')
		return 0;
	for (i = 0; key[i] != '\0'; i++)
		if (i >= IDEM_KEY_MAX || (unsigned char)key[i] < 0x20 ||
		    (unsigned char)key[i] > 0x7e)
			return 0;
	return 1;
}

void
idem_body_hash(const void *body, size_t n, char out[65])
{
	unsigned char md[32];

	crypto_sha256(body != NULL ? body : "", body != NULL ? n : 0, md);
	crypto_hex(md, sizeof(md), out);
}

static int
same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Reads the row that holds the key: 1 when found and live, 0 when absent
 * (or counting as absent: claim it again). */
static enum db_status
find(struct arena *a, const struct idem_request *r, struct idem_record *out, int *found)
{
	struct db_result res;
	const char *params[2] = {r->user_id, r->key};
	const char *v, *hex;
	size_t n;

	*found = 0;
	if (db_exec(a, &st_find, params, &res) != DB_OK)
		return res.status;
	if (res.rows == 0 || (v = db_get(&res, 0, 7)) == NULL || v[0] != 't')
		return DB_OK;
	*found = 1;
	if (!same(db_get(&res, 0, 0), r->method) || !same(db_get(&res, 0, 1), r->path) ||
	    !same(db_get(&res, 0, 2), r->body_sha256)) {
		out->state = IDEM_MISMATCH;
		return DB_OK;
	}
	v = db_get(&res, 0, 3);
	out->status = v != NULL ? (int)strtol(v, NULL, 10) : 0;
	if (out->status == 0) {
		out->state = IDEM_PENDING;
		return DB_OK;
	}
	out->state = IDEM_DONE;
	out->content_type = db_get(&res, 0, 4);
	out->headers = db_get(&res, 0, 5);
	hex = db_get(&res, 0, 6);
	n = hex != NULL ? strlen(hex) : 0;
	out->body = arena_alloc(a, n / 2 + 1);
	if (n % 2 != 0 || (n > 0 && crypto_unhex(hex, n, out->body, n / 2 + 1) < 0))
		return DB_ERROR;
	out->body_len = n / 2;
	return DB_OK;
}

enum db_status
idem_claim(struct arena *a, const struct idem_request *r, struct idem_record *out)
{
	const char *params[5] = {r->user_id, r->key, r->method, r->path, r->body_sha256};
	struct db_result res;
	enum db_status st;
	int attempt, found;

	memset(out, 0, sizeof(*out));
	/* The holder's row may vanish between the two statements (its answer
	 * was a 5xx, or it expired): then the key is free again. */
	for (attempt = 0; attempt < 3; attempt++) {
		if (db_exec(a, &st_claim, params, &res) != DB_OK)
			return res.status;
		if (res.rows == 1) {
			out->state = IDEM_CLAIMED;
			out->claim = db_get(&res, 0, 0);
			return out->claim != NULL ? DB_OK : DB_ERROR;
		}
		if ((st = find(a, r, out, &found)) != DB_OK || found)
			return st;
	}
	/* Claimed and released over and over meanwhile: busy. */
	out->state = IDEM_PENDING;
	return DB_OK;
}

enum db_status
idem_store(struct arena *a, const struct idem_request *r, const char *claim, int status,
	   const char *content_type, const char *headers_json, const void *body, size_t n)
{
	struct db_result res;
	char code[16];
	char *hex = arena_alloc(a, 2 * n + 1);
	const char *params[7] = {r->user_id, r->key, claim, code, content_type, headers_json, hex};

	snprintf(code, sizeof(code), "%d", status);
	if (n > 0)
		crypto_hex(body, n, hex);
	return db_exec(a, &st_store, params, &res);
}

enum db_status
idem_release(struct arena *a, const struct idem_request *r, const char *claim)
{
	struct db_result res;
	const char *params[3] = {r->user_id, r->key, claim};

	return db_exec(a, &st_release, params, &res);
}

enum db_status
idem_sweep(struct arena *a, int *deleted)
{
	struct db_result res;
	const char *v;
	int64_t now = time_now_ms();

	*deleted = 0;
	if (last_sweep_ms != 0 && now - last_sweep_ms < IDEM_SWEEP_EVERY_MS)
		return DB_OK;
	last_sweep_ms = now;
	if (db_exec(a, &st_sweep, NULL, &res) != DB_OK)
		return res.status;
	v = db_get(&res, 0, 0);
	*deleted = v != NULL ? (int)strtol(v, NULL, 10) : 0;
	return DB_OK;
}
