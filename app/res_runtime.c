/*
 * Runtime API (API.md §6, REFERENCE.md "Runtime"): what an environment key
 * (Authorization: Bearer shush_…, kind environment) reads. The pipeline's
 * AUTH_APIKEY step has authenticated the key (rq->actor.key, org_id set),
 * answering 401 INVALID_API_KEY for anything but a live environment key.
 *
 * The key's org, project and environment come only from the key. The
 * warm path (issue 5, lib/runtime.c): auth_apikey keeps environment keys
 * in a per-worker cache, and GET /runtime/v1/secrets keeps the rendered
 * body per (environment, format) with its ETag; both are valid only while
 * the host's world generation and the stripe of the key's project (atomic
 * loads from shared memory) are the ones read before the PostgreSQL reads
 * that filled them: a write to another project leaves them warm. Writers bump it
 * after COMMIT on their own host before answering (read-your-writes on
 * this host) and NOTIFY shush_runtime for the other hosts' listeners
 * (eventual there). A warm 304 makes no PostgreSQL or Redis round trip;
 * one secret (/secrets/:key) is still resolved afresh. Every answer says
 * Cache-Control: no-store.
 *
 * Audit: a read that reveals values is recorded as secret.read (actor
 * type apiKey, metadata {runtime:true,count}, never a value) in this
 * worker's audit spool (lib/spool.c) with one write(2) before the answer,
 * and shush-worker chains it moments later; when the record cannot be
 * appended the read is refused with 503, never served unrecorded. So a
 * warm 200, like a warm 304, makes no PostgreSQL or Redis round trip. A
 * 304 reveals nothing and records nothing.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"

static void
no_store(struct response *rs)
{
	int i;

	for (i = 0; i < rs->nheaders; i++)
		if (strcmp(rs->headers[i].name, "Cache-Control") == 0)
			return;
	http_header(rs, "Cache-Control", "no-store");
}

/* The key's environment is gone (deleted with its project): the key went
 * with it, so it is answered like any key that no longer exists. */
static void
key_gone(struct response *rs)
{
	http_error(rs, 401, "INVALID_API_KEY", "Invalid, revoked or expired API key", NULL);
}

/* 0 recorded; -1 refused with 503 (the spool cannot take the record). */
static int
audit_read(struct request *rq, struct response *rs, const char *target_type,
	   const char *target_id, size_t count)
{
	const struct apikey *k = &rq->actor.key;
	struct audit_event ev;
	char meta[64];

	memset(&ev, 0, sizeof(ev));
	ev.org_id = k->org_id;
	ev.actor_type = "apiKey";
	ev.actor_id = k->id;
	ev.action = "secret.read";
	ev.target_type = target_type;
	ev.target_id = target_id;
	ev.project_id = k->project_id;
	ev.environment = k->environment;
	ev.ip = rq->remote_addr;
	ev.user_agent = rq->user_agent;
	ev.request_id = rq->request_id;
	snprintf(meta, sizeof(meta), "{\"runtime\":true,\"count\":%zu}", count);
	ev.metadata = meta;
	if (spool_append(&ev) == 0)
		return 0;
	http_header(rs, "Retry-After", "1");
	http_error(rs, 503, "SERVICE_UNAVAILABLE", "The read cannot be recorded right now", NULL);
	return -1;
}

/* GET /runtime/v1/: 200 {keyId,name,orgId,projectId,environment,
 * expiresAt}; 401 INVALID_API_KEY. Reveals no value: not audited. */
void
res_runtime_introspect(struct request *rq, struct response *rs)
{
	const struct apikey *k = &rq->actor.key;
	cJSON *o = json_object(rq->arena);

	no_store(rs);
	cJSON_AddStringToObject(o, "keyId", k->id);
	cJSON_AddStringToObject(o, "name", k->name);
	cJSON_AddStringToObject(o, "orgId", k->org_id);
	cJSON_AddStringToObject(o, "projectId", k->project_id);
	cJSON_AddStringToObject(o, "environment", k->environment);
	json_add_nullable(o, "expiresAt", k->expires_at);
	http_json(rs, 200, o);
}

struct all_tx {
	enum runtime_format format;
	struct buf body;
	char etag[RUNTIME_ETAG_LEN + 1];
	int not_modified;
	size_t count;
};

static enum db_status
all_body(struct request *rq, struct response *rs, void *ctx)
{
	const struct apikey *k = &rq->actor.key;
	struct all_tx *x = ctx;
	struct environment *order;
	struct secret_resolved *items;
	size_t n;
	int norder;
	enum db_status st;

	x->not_modified = 0;
	buf_init(&x->body, rq->arena);
	if ((st = environments_resolution_order(rq->arena, k->org_id, k->project_id,
						k->environment, &order, &norder)) != DB_OK)
		return st;
	if (norder == 0) {
		key_gone(rs);
		return DB_OK;
	}
	st = secrets_resolve(rq->arena, k->org_id, k->project_id, order, norder, &items, &n);
	if (st == DB_INVALID) {
		/* secrets_resolve logged the row; no value leaves. */
		http_error(rs, 500, "SECRET_UNREADABLE", "A stored value failed its integrity check",
			   NULL);
		return DB_OK;
	}
	if (st != DB_OK)
		return st;
	if (runtime_render(&x->body, rq->arena, x->format, k->environment, items, n) < 0) {
		http_error(rs, 500, "INTERNAL_ERROR", "A stored value cannot be written in this format",
			   NULL);
		return DB_OK;
	}
	runtime_etag(x->format, x->body.data, x->body.len, x->etag);
	x->count = n;
	x->not_modified = runtime_etag_match(rq->if_none_match, x->etag);
	return DB_OK;
}

/* GET /runtime/v1/secrets[?format=json|dotenv|shell]: 200 the key's
 * environment resolved with inheritance — json {environment,secrets:
 * {KEY:value}}, or dotenv / shell byte for byte as the /v1 export writes
 * them — with a strong ETag (per format); 304 with no body when
 * If-None-Match matches it; 400 unknown format; 401 INVALID_API_KEY; 500
 * SECRET_UNREADABLE; 503 (PostgreSQL on a miss, or the read cannot be
 * recorded in the audit spool). */
void
res_runtime_secrets(struct request *rq, struct response *rs)
{
	const struct apikey *k = &rq->actor.key;
	const struct runtime_cached *hit;
	struct all_tx x;
	uint64_t gen, sgen;

	no_store(rs);
	memset(&x, 0, sizeof(x));
	if (runtime_format_parse(http_query(rq, "format"), &x.format) < 0) {
		http_error(rs, 400, "VALIDATION_ERROR", "format must be json, dotenv or shell",
			   "format");
		return;
	}
	/* Warm path: the rendered body of this environment and format, valid
	 * while the world generation (read before any PostgreSQL read of this
	 * request's miss) has not moved. A hit makes no round trip. */
	gen = runtime_world_load();
	sgen = runtime_world_stripe(k->project_id);
	hit = runtime_body_get(k->environment_id, x.format, gen, sgen);
	if (hit != NULL) {
		memcpy(x.etag, hit->etag, sizeof(x.etag));
		x.count = hit->count;
		x.not_modified = runtime_etag_match(rq->if_none_match, x.etag);
		if (!x.not_modified) {
			/* Served from the cache, which keeps it until this
			 * worker's next request; an append would copy it first. */
			x.body.arena = rq->arena;
			x.body.data = hit->body;
			x.body.len = hit->len;
			x.body.cap = hit->len + 1;
		}
	} else {
		if (tx_run(rq, rs, all_body, &x) < 0)
			return;
		runtime_body_put(k->environment_id, x.format, gen, sgen, x.body.data, x.body.len,
				 x.etag, x.count);
	}
	if (!x.not_modified && audit_read(rq, rs, "environment", k->environment_id, x.count) < 0)
		return;
	/* The cached copy lives until this worker's next request. */
	http_header(rs, "ETag", hit != NULL ? hit->etag : arena_strdup(rq->arena, x.etag));
	if (x.not_modified) {
		rs->status = 304;
		rs->content_type = NULL;
		rs->body.len = 0;
		rs->done = 1;
		return;
	}
	rs->status = 200;
	rs->content_type = x.format == RUNTIME_JSON ? "application/json"
						    : "text/plain; charset=utf-8";
	rs->body = x.body;
	rs->done = 1;
}

struct one_tx {
	const char *key;
	struct secret_resolved s;
};

static enum db_status
one_body(struct request *rq, struct response *rs, void *ctx)
{
	const struct apikey *k = &rq->actor.key;
	struct one_tx *x = ctx;
	struct environment *order;
	int norder;
	enum db_status st;

	if ((st = environments_resolution_order(rq->arena, k->org_id, k->project_id,
						k->environment, &order, &norder)) != DB_OK)
		return st;
	if (norder == 0) {
		key_gone(rs);
		return DB_OK;
	}
	st = runtime_resolve_one(rq->arena, k->org_id, k->project_id, order, norder, x->key, &x->s);
	if (st == DB_INVALID) {
		http_error(rs, 500, "SECRET_UNREADABLE", "A stored value failed its integrity check",
			   NULL);
		return DB_OK;
	}
	if (st != DB_OK)
		return st;
	if (x->s.key == NULL) {
		http_error(rs, 404, "NOT_FOUND", "No such secret in this environment", NULL);
		return DB_OK;
	}
	return DB_OK;
}

/* GET /runtime/v1/secrets/:key: 200 {key,value,version,environment} — the
 * value the key's environment resolves to (its own, or inherited), with
 * version and environment naming where it comes from (the source
 * environment's slug and its version of the value); 401 INVALID_API_KEY;
 * 404 NOT_FOUND when no environment of the resolution holds the key (or
 * the key is not a valid name); 500 SECRET_UNREADABLE; 503 (PostgreSQL,
 * or the read cannot be recorded in the audit spool). */
void
res_runtime_secret(struct request *rq, struct response *rs)
{
	struct one_tx x;
	struct buf b;

	no_store(rs);
	memset(&x, 0, sizeof(x));
	x.key = http_param(rq, "key");
	if (x.key == NULL || !dotenv_key_valid(x.key)) {
		http_error(rs, 404, "NOT_FOUND", "No such secret in this environment", NULL);
		return;
	}
	if (tx_run(rq, rs, one_body, &x) < 0 || rs->done)
		return;
	if (audit_read(rq, rs, "secret", x.s.secret_id, 1) < 0)
		return;
	buf_init(&b, rq->arena);
	buf_puts(&b, "{\"key\":");
	buf_json_string(&b, x.s.key, strlen(x.s.key));
	buf_puts(&b, ",\"value\":");
	buf_json_string(&b, x.s.value, x.s.value_len);
	buf_printf(&b, ",\"version\":%d,\"environment\":", x.s.version);
	buf_json_string(&b, x.s.environment != NULL ? x.s.environment : "",
			x.s.environment != NULL ? strlen(x.s.environment) : 0);
	buf_putc(&b, '}');
	rs->status = 200;
	rs->content_type = "application/json";
	rs->body = b;
	rs->done = 1;
}
