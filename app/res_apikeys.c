/*
 * API keys (REFERENCE.md "API keys", API.md §4), apikey:manage: the
 * environment keys of a project, and the personal tokens of the signed-in
 * person (GET/DELETE /v1/me/tokens, ours). The plaintext key is answered
 * once, by create and rotate, and never stored, logged or audited.
 */
#include <math.h>
#include <string.h>

#include "app.h"

static void
no_key(struct response *rs)
{
	http_error(rs, 404, "NOT_FOUND", "No such API key", NULL);
}

/* API key {id,name,kind,projectId,environment,prefix,createdAt,lastUsedAt,
 * expiresAt,revokedAt} (+activeOrgId for personal tokens), unowned. */
static cJSON *
key_json(const struct apikey *k, const char *plaintext)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", k->id);
	cJSON_AddStringToObject(o, "name", k->name);
	cJSON_AddStringToObject(o, "kind", k->kind);
	json_add_nullable(o, "projectId", k->project_id);
	json_add_nullable(o, "environment", k->environment);
	cJSON_AddStringToObject(o, "prefix", k->prefix);
	if (strcmp(k->kind, "user") == 0)
		json_add_nullable(o, "activeOrgId", k->active_org_id);
	cJSON_AddStringToObject(o, "createdAt", k->created_at);
	json_add_nullable(o, "lastUsedAt", k->last_used_at);
	json_add_nullable(o, "expiresAt", k->expires_at);
	json_add_nullable(o, "revokedAt", k->revoked_at);
	if (plaintext != NULL)
		cJSON_AddStringToObject(o, "key", plaintext);
	return o;
}

static void
answer_key(struct request *rq, struct response *rs, int status, const struct apikey *k,
	   const char *plaintext)
{
	cJSON *root = json_object(rq->arena);
	cJSON *o = key_json(k, plaintext), *it;

	/* Copy the members over: the root must be the arena's. */
	while ((it = o->child) != NULL) {
		cJSON_DetachItemViaPointer(o, it);
		cJSON_AddItemToObject(root, it->string, it);
	}
	cJSON_Delete(o);
	http_json(rs, status, root);
}

static const char *
meta_text(struct request *rq, cJSON *o)
{
	char *p = cJSON_PrintUnformatted(o);
	const char *s;

	cJSON_Delete(o);
	if (p == NULL)
		return NULL;
	s = arena_strdup(rq->arena, p);
	cJSON_free(p);
	return s;
}

/* The audit metadata: name, environment, prefix; never the key. */
static const char *
key_meta(struct request *rq, const struct apikey *k, const char *extra_name,
	 const char *extra_value, int grace)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", k->name);
	json_add_nullable(o, "environment", k->environment);
	cJSON_AddStringToObject(o, "prefix", k->prefix);
	if (extra_name != NULL)
		cJSON_AddStringToObject(o, extra_name, extra_value);
	if (grace >= 0)
		cJSON_AddNumberToObject(o, "graceSeconds", grace);
	return meta_text(rq, o);
}

/* 1 when the ISO timestamp (as the API prints it) is at or before now. */
static int
iso_passed(const char *iso)
{
	int64_t ms;
	size_t n;
	char buf[40];

	if (iso == NULL)
		return 0;
	n = strlen(iso);
	if (n < 2 || n >= sizeof(buf) - 3 || iso[n - 1] != 'Z')
		return 0;
	memcpy(buf, iso, n - 1);
	memcpy(buf + n - 1, "+00", 4);
	return time_parse_pg(buf, &ms) == 0 && ms <= time_now_ms();
}

/* expiresAt: absent or null (no expiry), else an ISO 8601 timestamp with
 * a zone (Z or ±HH:MM) in the future (422 otherwise; 400 not a string). 0
 * with *out the normalised ISO text or NULL; -1 answered. */
static int
read_expires(struct request *rq, struct response *rs, const char **out)
{
	const char *raw = NULL;
	char buf[48], iso[32];
	size_t n;
	int64_t ms;

	*out = NULL;
	if (json_get_string(rq, rs, "expiresAt", &raw, 0, 40) < 0)
		return -1;
	if (raw == NULL)
		return 0;
	n = strlen(raw);
	if (n > 0 && raw[n - 1] == 'Z') {
		memcpy(buf, raw, n - 1);
		memcpy(buf + n - 1, "+00", 4);
	} else {
		memcpy(buf, raw, n + 1);
	}
	if (n < 20 || (raw[10] != 'T' && raw[10] != 't') || time_parse_pg(buf, &ms) < 0) {
		http_error(rs, 422, "VALIDATION_ERROR",
			   "expiresAt must be an ISO 8601 timestamp with a zone "
			   "(2026-11-28T12:00:00.000Z)",
			   "expiresAt");
		return -1;
	}
	if (ms <= time_now_ms()) {
		http_error(rs, 422, "VALIDATION_ERROR", "expiresAt must be in the future",
			   "expiresAt");
		return -1;
	}
	time_iso8601(ms, iso);
	*out = arena_strdup(rq->arena, iso);
	return 0;
}

/* graceSeconds: absent or null 0, else an integer 0..86400 (400 not a
 * number, 422 out of range). */
static int
read_grace(struct request *rq, struct response *rs, int *out)
{
	cJSON *v = rq->json != NULL ? cJSON_GetObjectItemCaseSensitive(rq->json, "graceSeconds")
				    : NULL;

	*out = 0;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble)) {
		http_error(rs, 400, "VALIDATION_ERROR", "graceSeconds must be an integer",
			   "graceSeconds");
		return -1;
	}
	if (v->valuedouble < 0 || v->valuedouble > APIKEY_GRACE_MAX) {
		http_error(rs, 422, "VALIDATION_ERROR", "graceSeconds must be from 0 to 86400",
			   "graceSeconds");
		return -1;
	}
	*out = (int)v->valuedouble;
	return 0;
}

/* GET /v1/projects/:projectId/api-keys: 200 {items:[API key],nextCursor}
 * (environment keys, oldest first, never a plaintext); 400 limit/cursor;
 * 401; 403; 404 no such project; 503. */
void
res_apikeys_list(struct request *rq, struct response *rs)
{
	struct project p;
	struct apikey *items;
	const char *cursor, *next;
	enum db_status st;
	int limit, n, i;
	cJSON *arr;

	if (http_page(rq, rs, &limit, &cursor) < 0 || app_project(rq, rs, 0, &p) < 0)
		return;
	items = arena_alloc(rq->arena, sizeof(*items) * (size_t)limit);
	st = apikeys_list(rq->arena, rq->actor.org_id, p.id, limit, cursor, items, &n, &next);
	if (st == DB_INVALID) {
		http_error(rs, 400, "VALIDATION_ERROR", "cursor is not valid", "cursor");
		return;
	}
	if (st != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	arr = cJSON_CreateArray(); /* http_list takes it */
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, key_json(&items[i], NULL));
	http_list(rq, rs, arr, next);
}

struct create_ctx {
	const char *name, *env, *expires;
	struct apikey k;
	char key[64];
};

static enum db_status
create_body(struct request *rq, struct response *rs, void *ctx)
{
	struct create_ctx *x = ctx;
	struct project p;
	struct environment e;
	enum db_status st;

	if (app_project(rq, rs, 1, &p) < 0)
		return DB_OK;
	memset(&e, 0, sizeof(e));
	if (environments_slug_valid(x->env) &&
	    (st = environments_get(rq->arena, rq->actor.org_id, p.id, x->env, &e)) != DB_OK)
		return st;
	if (e.id == NULL) {
		db_rollback();
		http_error(rs, 422, "UNKNOWN_ENVIRONMENT", "No such environment in this project",
			   "environment");
		return DB_OK;
	}
	if ((st = apikeys_create(rq->arena, rq->actor.org_id, "environment", p.id, e.id,
				 rq->actor.user_id, x->name, x->expires, NULL, x->key, &x->k)) !=
	    DB_OK)
		return st;
	if (x->k.id == NULL)
		return DB_ERROR;
	return app_audit(rq, "apikey.created", "apiKey", x->k.id, p.id, x->k.environment,
			 key_meta(rq, &x->k, NULL, NULL, -1));
}

/* POST /v1/projects/:projectId/api-keys {name, environment, expiresAt?}:
 * 201 API key with its `key` (shown this once); 400 wrong types, missing or
 * empty name; 401; 403; 404 no such project; 413; 415; 422 name longer than
 * 128 characters, UNKNOWN_ENVIRONMENT, expiresAt not ISO or not in the
 * future; 500 the audit event could not be written (nothing kept); 503. */
void
res_apikeys_create(struct request *rq, struct response *rs)
{
	struct create_ctx *x = arena_alloc(rq->arena, sizeof(*x));

	if (app_read_text(rq, rs, "name", 1, APIKEY_NAME_MAX, 0, &x->name) < 0 ||
	    json_get_string(rq, rs, "environment", &x->env, 1, 0) < 0 ||
	    read_expires(rq, rs, &x->expires) < 0)
		return;
	if (tx_run(rq, rs, create_body, x) < 0) {
		crypto_wipe(x->key, sizeof(x->key));
		return;
	}
	answer_key(rq, rs, 201, &x->k, x->key);
	crypto_wipe(x->key, sizeof(x->key));
}

struct rotate_ctx {
	int grace;
	struct apikey old, k;
	char key[64];
};

static enum db_status
rotate_body(struct request *rq, struct response *rs, void *ctx)
{
	struct rotate_ctx *x = ctx;
	struct project p;
	struct apikey cur;
	const char *id = http_param(rq, "id");
	enum db_status st;

	if (app_project(rq, rs, 1, &p) < 0)
		return DB_OK;
	if ((st = apikeys_get(rq->arena, rq->actor.org_id, p.id, id, &cur)) != DB_OK)
		return st;
	if (cur.id == NULL) {
		db_rollback();
		no_key(rs);
		return DB_OK;
	}
	if (iso_passed(cur.revoked_at) || iso_passed(cur.expires_at)) {
		db_rollback();
		http_error(rs, 409, "API_KEY_INACTIVE",
			   "A revoked or expired key cannot be rotated: create a new one", NULL);
		return DB_OK;
	}
	/* Locks the old row: a concurrent revoke or rotate waits. */
	if ((st = apikeys_revoke(rq->arena, rq->actor.org_id, p.id, cur.id, x->grace, &x->old)) !=
	    DB_OK)
		return st;
	if (x->old.id == NULL) { /* deleted meanwhile */
		db_rollback();
		no_key(rs);
		return DB_OK;
	}
	if ((st = apikeys_create(rq->arena, rq->actor.org_id, "environment", p.id,
				 cur.environment_id, rq->actor.user_id, cur.name, cur.expires_at,
				 NULL, x->key, &x->k)) != DB_OK)
		return st;
	if (x->k.id == NULL)
		return DB_ERROR;
	return app_audit(rq, "apikey.rotated", "apiKey", x->k.id, p.id, x->k.environment,
			 key_meta(rq, &x->k, "rotatedFrom", x->old.id, x->grace));
}

/* POST /v1/projects/:projectId/api-keys/:id/rotate {graceSeconds?}: 200 the
 * NEW API key with its `key` (same name, environment and expiresAt); the
 * old key stops working now, or after graceSeconds (0..86400, default 0);
 * 400 graceSeconds not an integer; 401; 403; 404 no such project or key;
 * 409 API_KEY_INACTIVE the key is revoked or expired; 413; 415; 422
 * graceSeconds out of range; 500 audit; 503. */
void
res_apikeys_rotate(struct request *rq, struct response *rs)
{
	struct rotate_ctx *x = arena_alloc(rq->arena, sizeof(*x));

	if (read_grace(rq, rs, &x->grace) < 0)
		return;
	if (tx_run(rq, rs, rotate_body, x) < 0) {
		crypto_wipe(x->key, sizeof(x->key));
		return;
	}
	answer_key(rq, rs, 200, &x->k, x->key);
	crypto_wipe(x->key, sizeof(x->key));
}

struct revoke_ctx {
	struct apikey k;
};

static enum db_status
revoke_body(struct request *rq, struct response *rs, void *ctx)
{
	struct revoke_ctx *x = ctx;
	struct project p;
	enum db_status st;

	if (app_project(rq, rs, 1, &p) < 0)
		return DB_OK;
	if ((st = apikeys_revoke(rq->arena, rq->actor.org_id, p.id, http_param(rq, "id"), 0,
				 &x->k)) != DB_OK)
		return st;
	if (x->k.id == NULL) {
		db_rollback();
		no_key(rs);
		return DB_OK;
	}
	return app_audit(rq, "apikey.revoked", "apiKey", x->k.id, p.id, x->k.environment,
			 key_meta(rq, &x->k, NULL, NULL, -1));
}

/* POST /v1/projects/:projectId/api-keys/:id/revoke: 200 API key with
 * revokedAt (now, or earlier when it was already revoked); the very next
 * request with it is 401; 401; 403; 404 no such project or key; 500
 * audit; 503. */
void
res_apikeys_revoke(struct request *rq, struct response *rs)
{
	struct revoke_ctx *x = arena_alloc(rq->arena, sizeof(*x));

	if (tx_run(rq, rs, revoke_body, x) < 0)
		return;
	answer_key(rq, rs, 200, &x->k, NULL);
}

static enum db_status
delete_body(struct request *rq, struct response *rs, void *ctx)
{
	struct project p;
	struct apikey k;
	enum db_status st;
	int deleted;

	(void)ctx;
	if (app_project(rq, rs, 1, &p) < 0)
		return DB_OK;
	if ((st = apikeys_get(rq->arena, rq->actor.org_id, p.id, http_param(rq, "id"), &k)) !=
	    DB_OK)
		return st;
	if (k.id != NULL &&
	    (st = apikeys_delete(rq->arena, rq->actor.org_id, p.id, k.id, &deleted)) != DB_OK)
		return st;
	if (k.id == NULL || !deleted) {
		db_rollback();
		no_key(rs);
		return DB_OK;
	}
	return app_audit(rq, "apikey.deleted", "apiKey", k.id, p.id, k.environment,
			 key_meta(rq, &k, NULL, NULL, -1));
}

/* DELETE /v1/projects/:projectId/api-keys/:id: 204, the key is gone for
 * good; 401; 403; 404 no such project or key; 500 audit; 503. */
void
res_apikeys_delete(struct request *rq, struct response *rs)
{
	if (tx_run(rq, rs, delete_body, NULL) < 0)
		return;
	http_no_content(rs);
}

/* GET /v1/me/tokens: 200 {items:[API key of kind user, with activeOrgId],
 * nextCursor} (the caller's personal tokens, oldest first, revoked and
 * expired ones included); 400 limit/cursor; 401; 503. */
void
res_me_tokens_list(struct request *rq, struct response *rs)
{
	struct apikey *items;
	const char *cursor, *next;
	enum db_status st;
	int limit, n, i;
	cJSON *arr;

	if (http_page(rq, rs, &limit, &cursor) < 0)
		return;
	items = arena_alloc(rq->arena, sizeof(*items) * (size_t)limit);
	st = apikeys_list_user(rq->arena, rq->actor.user_id, limit, cursor, items, &n, &next);
	if (st == DB_INVALID) {
		http_error(rs, 400, "VALIDATION_ERROR", "cursor is not valid", "cursor");
		return;
	}
	if (st != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	arr = cJSON_CreateArray();
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, key_json(&items[i], NULL));
	http_list(rq, rs, arr, next);
}

static enum db_status
token_delete_body(struct request *rq, struct response *rs, void *ctx)
{
	enum db_status st;
	int deleted;

	(void)ctx;
	if ((st = apikeys_delete_user(rq->arena, rq->actor.user_id, http_param(rq, "id"),
				      &deleted)) != DB_OK)
		return st;
	if (!deleted) {
		db_rollback();
		no_key(rs);
	}
	return DB_OK;
}

/* DELETE /v1/me/tokens/:id: 204, the personal token is gone (the very
 * next request with it is 401; a token may delete itself); 401; 404 not
 * one of the caller's tokens; 503. */
void
res_me_tokens_delete(struct request *rq, struct response *rs)
{
	if (tx_run(rq, rs, token_delete_body, NULL) < 0)
		return;
	http_no_content(rs);
}
