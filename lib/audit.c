/*
 * The audit trail (DESIGN.md §5, API.md §4): one event per change or reveal,
 * appended in the caller's transaction, hash-chained per org:
 *   hash = hex SHA-256( prevHash hex || RFC 8785 JSON of the event as the
 *                       API shows it, without "hash" )
 * The chain head's row lock serialises appends within an org.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "shush.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

#define EVENT_COLS                                                                          \
	"seq, id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "   \
	"actor_type, actor_id, actor_email, action, target_type, target_id, org_id, "      \
	"project_id, environment, ip, user_agent, request_id, metadata, prev_hash, hash"

enum {
	C_SEQ, C_ID, C_AT, C_ACTOR_TYPE, C_ACTOR_ID, C_ACTOR_EMAIL, C_ACTION, C_TARGET_TYPE,
	C_TARGET_ID, C_ORG, C_PROJECT, C_ENV, C_IP, C_UA, C_REQ, C_META, C_PREV, C_HASH
};

static struct db_stmt st_head_init = {
	"audit_head_init",
	"INSERT INTO audit_head (org_id, seq, hash) VALUES ($1, 0, '" ZERO_HASH "') "
	"ON CONFLICT (org_id) DO NOTHING",
	1, 0};
static struct db_stmt st_head_lock = {
	"audit_head_lock", "SELECT seq, hash FROM audit_head WHERE org_id = $1 FOR UPDATE", 1, 0};
/* Every event of one org's batch in one statement, in chain order. */
static struct db_stmt st_insert = {
	"audit_insert",
	"INSERT INTO audit_event (org_id, seq, id, at, actor_type, actor_id, actor_email, action, "
	"target_type, target_id, project_id, environment, ip, user_agent, request_id, metadata, "
	"prev_hash, hash) SELECT $1, u.* FROM unnest($2::bigint[], $3::text[], "
	"$4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], "
	"$10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], "
	"$16::text[], $17::text[], $18::text[]) AS u",
	18, 0};
static struct db_stmt st_org_exists = {
	"audit_org_exists", "SELECT 1 FROM \"organization\" WHERE id = $1", 1, 0};
static struct db_stmt st_head_update = {
	"audit_head_update", "UPDATE audit_head SET seq = $2, hash = $3 WHERE org_id = $1", 3, 0};

/* Newest first, keyset on seq; every filter optional. */
static struct db_stmt st_list = {
	"audit_list",
	"SELECT " EVENT_COLS " FROM audit_event WHERE org_id = $1 "
	"AND ($2::text IS NULL OR action = $2) AND ($3::text IS NULL OR actor_id = $3) "
	"AND ($4::text IS NULL OR project_id = $4) AND ($5::timestamptz IS NULL OR at >= $5) "
	"AND ($6::timestamptz IS NULL OR at < $6) AND ($7::bigint IS NULL OR seq < $7) "
	"ORDER BY seq DESC LIMIT $8",
	8, 0};
/* Oldest first, after a seq, for export and verification. */
static struct db_stmt st_scan = {
	"audit_scan",
	"SELECT " EVENT_COLS " FROM audit_event WHERE org_id = $1 "
	"AND ($2::text IS NULL OR action = $2) AND ($3::text IS NULL OR actor_id = $3) "
	"AND ($4::text IS NULL OR project_id = $4) AND ($5::timestamptz IS NULL OR at >= $5) "
	"AND ($6::timestamptz IS NULL OR at < $6) AND seq > $7 "
	"ORDER BY seq ASC LIMIT $8",
	8, 0};

static void
add_str_or_null(cJSON *o, const char *k, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

/* The event as the API shows it, without hash. Optional members
 * (actor.email, projectId, environment) are omitted when absent. */
static cJSON *
event_object(const char *id, const char *at, const struct audit_event *ev, const char *prev)
{
	cJSON *o = cJSON_CreateObject(), *actor, *target, *meta;

	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "at", at);
	actor = cJSON_AddObjectToObject(o, "actor");
	cJSON_AddStringToObject(actor, "type", ev->actor_type);
	cJSON_AddStringToObject(actor, "id", ev->actor_id);
	if (ev->actor_email != NULL)
		cJSON_AddStringToObject(actor, "email", ev->actor_email);
	cJSON_AddStringToObject(o, "action", ev->action);
	target = cJSON_AddObjectToObject(o, "target");
	cJSON_AddStringToObject(target, "type", ev->target_type);
	cJSON_AddStringToObject(target, "id", ev->target_id);
	cJSON_AddStringToObject(o, "orgId", ev->org_id);
	if (ev->project_id != NULL)
		cJSON_AddStringToObject(o, "projectId", ev->project_id);
	if (ev->environment != NULL)
		cJSON_AddStringToObject(o, "environment", ev->environment);
	add_str_or_null(o, "ip", ev->ip);
	add_str_or_null(o, "userAgent", ev->user_agent);
	add_str_or_null(o, "requestId", ev->request_id);
	meta = cJSON_Parse(ev->metadata != NULL ? ev->metadata : "{}");
	if (meta == NULL || !cJSON_IsObject(meta)) {
		cJSON_Delete(meta);
		meta = cJSON_CreateObject();
	}
	cJSON_AddItemToObject(o, "metadata", meta);
	cJSON_AddStringToObject(o, "prevHash", prev);
	return o;
}

static int
chain_hash(struct arena *a, cJSON *event, const char *prev, char hash[65])
{
	struct buf b;
	unsigned char digest[32];

	buf_init(&b, a);
	buf_puts(&b, prev);
	if (jcs_write(&b, event) < 0)
		return -1;
	crypto_sha256(b.data, b.len, digest);
	crypto_hex(digest, sizeof(digest), hash);
	return 0;
}

/* The metadata as canonical text, so what is stored re-hashes exactly. */
static const char *
canonical_metadata(struct arena *a, const char *metadata)
{
	cJSON *m = cJSON_Parse(metadata != NULL ? metadata : "{}");
	struct buf b;

	buf_init(&b, a);
	if (m == NULL || !cJSON_IsObject(m) || jcs_write(&b, m) < 0) {
		cJSON_Delete(m);
		return NULL;
	}
	cJSON_Delete(m);
	return b.data;
}

/* One element of a PostgreSQL array literal: NULL, or "…" with \ and "
 * escaped. */
static void
array_add(struct buf *b, const char *v)
{
	const char *p;

	buf_putc(b, b->len == 0 ? '{' : ',');
	if (v == NULL) {
		buf_puts(b, "NULL");
		return;
	}
	buf_putc(b, '"');
	for (p = v;;) {
		size_t run = strcspn(p, "\"\\");

		buf_append(b, p, run);
		p += run;
		if (*p == '\0')
			break;
		buf_putc(b, '\\');
		buf_putc(b, *p++);
	}
	buf_putc(b, '"');
}

enum { A_SEQ, A_ID, A_AT, A_ACTOR_TYPE, A_ACTOR_ID, A_ACTOR_EMAIL, A_ACTION, A_TARGET_TYPE,
       A_TARGET_ID, A_PROJECT, A_ENV, A_IP, A_UA, A_REQ, A_META, A_PREV, A_HASH, A__N };

/* Chains evs[idx[0..k)] (all of one org, in this order) after the org's
 * head and inserts them with one statement. */
static enum db_status
append_group(struct arena *a, const struct audit_event *evs, const size_t *idx, size_t k,
	     char first_id[ID_LEN + 1])
{
	struct db_result r;
	struct buf cols[A__N];
	const char *p[18];
	char id[ID_LEN + 1], at[32], hash[65], seqs[24], *prev;
	long long seq;
	size_t i;
	int c;
	enum db_status st;

	p[0] = evs[idx[0]].org_id;
	if ((st = db_exec(a, &st_head_init, p, &r)) != DB_OK ||
	    (st = db_exec(a, &st_head_lock, p, &r)) != DB_OK)
		return st;
	if (r.rows != 1)
		return DB_ERROR;
	seq = strtoll(db_get(&r, 0, 0), NULL, 10);
	prev = arena_strdup(a, db_get(&r, 0, 1));
	for (c = 0; c < A__N; c++)
		buf_init(&cols[c], a);
	for (i = 0; i < k; i++) {
		struct audit_event ev = evs[idx[i]];
		cJSON *event;

		if ((ev.metadata = canonical_metadata(a, evs[idx[i]].metadata)) == NULL)
			return DB_INVALID;
		seq++;
		id_new(id);
		if (i == 0 && first_id != NULL)
			memcpy(first_id, id, ID_LEN + 1);
		time_iso8601(ev.at_ms > 0 ? ev.at_ms : time_now_ms(), at);
		if (ev.ip == NULL)
			ev.ip = "";
		if (ev.user_agent == NULL)
			ev.user_agent = "";
		if (ev.request_id == NULL)
			ev.request_id = "";
		event = event_object(id, at, &ev, prev);
		if (chain_hash(a, event, prev, hash) < 0) {
			cJSON_Delete(event);
			return DB_INVALID;
		}
		cJSON_Delete(event);
		snprintf(seqs, sizeof(seqs), "%lld", seq);
		array_add(&cols[A_SEQ], seqs);
		array_add(&cols[A_ID], id);
		array_add(&cols[A_AT], at);
		array_add(&cols[A_ACTOR_TYPE], ev.actor_type);
		array_add(&cols[A_ACTOR_ID], ev.actor_id);
		array_add(&cols[A_ACTOR_EMAIL], ev.actor_email);
		array_add(&cols[A_ACTION], ev.action);
		array_add(&cols[A_TARGET_TYPE], ev.target_type);
		array_add(&cols[A_TARGET_ID], ev.target_id);
		array_add(&cols[A_PROJECT], ev.project_id);
		array_add(&cols[A_ENV], ev.environment);
		array_add(&cols[A_IP], ev.ip);
		array_add(&cols[A_UA], ev.user_agent);
		array_add(&cols[A_REQ], ev.request_id);
		array_add(&cols[A_META], ev.metadata);
		array_add(&cols[A_PREV], prev);
		array_add(&cols[A_HASH], hash);
		prev = arena_strdup(a, hash);
	}
	for (c = 0; c < A__N; c++) {
		buf_putc(&cols[c], '}');
		p[1 + c] = cols[c].data;
	}
	if ((st = db_exec(a, &st_insert, p, &r)) != DB_OK)
		return st;
	snprintf(seqs, sizeof(seqs), "%lld", seq);
	p[1] = seqs;
	p[2] = prev;
	return db_exec(a, &st_head_update, p, &r);
}

static int
valid_event(const struct audit_event *ev)
{
	return ev->org_id != NULL && ev->actor_type != NULL && ev->actor_id != NULL &&
	       ev->action != NULL && ev->target_type != NULL && ev->target_id != NULL;
}

enum db_status
audit_append(struct arena *a, const struct audit_event *ev, char id_out[ID_LEN + 1])
{
	size_t zero = 0;

	if (!valid_event(ev))
		return DB_INVALID;
	return append_group(a, ev, &zero, 1, id_out);
}

static const struct audit_event *sort_evs;

/* By org, then by position: each org's events keep their order, and orgs
 * are locked in one order (two shippers cannot deadlock). */
static int
by_org(const void *x, const void *y)
{
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	int c = strcmp(sort_evs[i].org_id, sort_evs[j].org_id);

	return c != 0 ? c : (i > j) - (i < j);
}

enum db_status
audit_append_many(struct arena *a, const struct audit_event *evs, size_t n)
{
	struct db_result r;
	size_t *idx, *ok, i, j, k, m = 0;
	const char *p[1];
	enum db_status st;

	idx = arena_alloc(a, (n + 1) * sizeof(*idx));
	for (i = 0; i < n; i++)
		if (valid_event(&evs[i]))
			idx[m++] = i;
	sort_evs = evs;
	qsort(idx, m, sizeof(*idx), by_org);
	ok = idx;
	for (i = 0; i < m; i = j) {
		for (j = i + 1; j < m && strcmp(evs[idx[j]].org_id, evs[idx[i]].org_id) == 0; j++)
			;
		k = j - i;
		/* Events of an org deleted since have nowhere to go: its
		 * trail went with it. */
		p[0] = evs[idx[i]].org_id;
		if ((st = db_exec(a, &st_org_exists, p, &r)) != DB_OK)
			return st;
		if (r.rows == 0)
			continue;
		if ((st = append_group(a, evs, ok + i, k, NULL)) != DB_OK)
			return st;
	}
	return DB_OK;
}

/* Rebuilds one row's event (with hash when with_hash). */
static cJSON *
row_event(const struct db_result *r, int row, int with_hash)
{
	struct audit_event ev;
	cJSON *o;

	memset(&ev, 0, sizeof(ev));
	ev.actor_type = db_get(r, row, C_ACTOR_TYPE);
	ev.actor_id = db_get(r, row, C_ACTOR_ID);
	ev.actor_email = db_get(r, row, C_ACTOR_EMAIL);
	ev.action = db_get(r, row, C_ACTION);
	ev.target_type = db_get(r, row, C_TARGET_TYPE);
	ev.target_id = db_get(r, row, C_TARGET_ID);
	ev.org_id = db_get(r, row, C_ORG);
	ev.project_id = db_get(r, row, C_PROJECT);
	ev.environment = db_get(r, row, C_ENV);
	ev.ip = db_get(r, row, C_IP);
	ev.user_agent = db_get(r, row, C_UA);
	ev.request_id = db_get(r, row, C_REQ);
	ev.metadata = db_get(r, row, C_META);
	o = event_object(db_get(r, row, C_ID), db_get(r, row, C_AT), &ev, db_get(r, row, C_PREV));
	if (with_hash)
		cJSON_AddStringToObject(o, "hash", db_get(r, row, C_HASH));
	return o;
}

static void
filter_params(const struct audit_filter *f, const char *p[8])
{
	p[1] = f->action;
	p[2] = f->actor_id;
	p[3] = f->project_id;
	p[4] = f->from;
	p[5] = f->to;
}

enum db_status
audit_list(struct arena *a, const char *org_id, const struct audit_filter *f, int limit,
	   long long before_seq, void *items_array, long long *next_seq)
{
	cJSON *items = items_array;
	struct db_result r;
	const char *p[8];
	char before[24], lim[16];
	enum db_status st;
	int i;

	p[0] = org_id;
	filter_params(f, p);
	snprintf(before, sizeof(before), "%lld", before_seq);
	snprintf(lim, sizeof(lim), "%d", limit + 1);
	p[6] = before_seq > 0 ? before : NULL;
	p[7] = lim;
	*next_seq = 0;
	if ((st = db_exec(a, &st_list, p, &r)) != DB_OK)
		return st;
	for (i = 0; i < r.rows && i < limit; i++)
		cJSON_AddItemToArray(items, row_event(&r, i, 1));
	if (r.rows > limit)
		*next_seq = strtoll(db_get(&r, limit - 1, C_SEQ), NULL, 10);
	return DB_OK;
}

/* Batches of oldest-first rows; each batch lives in its own arena so the
 * whole scan runs in bounded memory. */
#define SCAN_BATCH 1000

enum db_status
audit_scan(const char *org_id, const struct audit_filter *f, audit_scan_fn fn, void *ctx)
{
	struct arena *a = arena_new(256 * 1024);
	const char *p[8];
	char after[24], lim[16];
	long long last = 0;
	enum db_status st = DB_OK;

	snprintf(lim, sizeof(lim), "%d", SCAN_BATCH);
	for (;;) {
		struct db_result r;
		int i;

		p[0] = org_id;
		filter_params(f, p);
		snprintf(after, sizeof(after), "%lld", last);
		p[6] = after;
		p[7] = lim;
		if ((st = db_exec(a, &st_scan, p, &r)) != DB_OK)
			break;
		for (i = 0; i < r.rows; i++) {
			cJSON *ev = row_event(&r, i, 0);
			struct audit_row row;
			int rc;

			row.seq = strtoll(db_get(&r, i, C_SEQ), NULL, 10);
			row.event = ev;
			row.hash = db_get(&r, i, C_HASH);
			row.prev_hash = db_get(&r, i, C_PREV);
			rc = fn(&row, ctx);
			cJSON_Delete(ev);
			if (rc != 0) {
				arena_free(a);
				return DB_OK;
			}
		}
		if (r.rows < SCAN_BATCH)
			break;
		last = strtoll(db_get(&r, r.rows - 1, C_SEQ), NULL, 10);
		arena_reset(a);
	}
	arena_free(a);
	return st;
}

int
audit_row_hash(struct arena *a, const struct audit_row *row, char hash[65])
{
	return chain_hash(a, row->event, row->prev_hash, hash);
}

static struct db_stmt st_head_get = {
	"audit_head_get", "SELECT seq, hash FROM audit_head WHERE org_id = $1", 1, 0};

struct verify_ctx {
	struct arena *a;
	struct audit_verify *out;
	char prev[65];
	long long seq;
};

static int
verify_row(const struct audit_row *row, void *p)
{
	struct verify_ctx *v = p;
	char hash[65];

	arena_reset(v->a);
	v->out->events++;
	if (row->seq != v->seq + 1) {
		snprintf(v->out->problem, sizeof(v->out->problem),
			 "event %lld is missing (found %lld next)", v->seq + 1, row->seq);
	} else if (strcmp(row->prev_hash, v->prev) != 0) {
		snprintf(v->out->problem, sizeof(v->out->problem),
			 "prevHash of event %lld does not match the hash of event %lld", row->seq,
			 v->seq);
	} else if (audit_row_hash(v->a, row, hash) < 0 || strcmp(hash, row->hash) != 0) {
		snprintf(v->out->problem, sizeof(v->out->problem),
			 "event %lld was altered: its content does not hash to its stored hash",
			 row->seq);
	} else {
		memcpy(v->prev, row->hash, sizeof(v->prev));
		v->seq = row->seq;
		return 0;
	}
	v->out->broken_seq = row->seq;
	return 1;
}

enum db_status
audit_verify(const char *org_id, struct audit_verify *out)
{
	struct audit_filter none = {NULL, NULL, NULL, NULL, NULL};
	struct verify_ctx v;
	struct db_result r;
	const char *p[1] = {org_id};
	enum db_status st;

	memset(out, 0, sizeof(*out));
	memset(&v, 0, sizeof(v));
	v.out = out;
	v.a = arena_new(64 * 1024);
	memcpy(v.prev, ZERO_HASH, sizeof(v.prev));
	st = audit_scan(org_id, &none, verify_row, &v);
	arena_reset(v.a);
	if (st == DB_OK && out->broken_seq == 0 &&
	    (st = db_exec(v.a, &st_head_get, p, &r)) == DB_OK) {
		long long head = r.rows > 0 ? strtoll(db_get(&r, 0, 0), NULL, 10) : 0;

		/* Rows cut off the end leave an intact but short chain: the head
		 * remembers how long it was. */
		if (head != v.seq || (r.rows > 0 && strcmp(db_get(&r, 0, 1), v.prev) != 0)) {
			out->broken_seq = v.seq + 1;
			snprintf(out->problem, sizeof(out->problem),
				 "the chain ends at event %lld but its head records event %lld", v.seq,
				 head);
		}
		memcpy(out->head, v.prev, sizeof(out->head));
	}
	arena_free(v.a);
	return st;
}
