/*
 * Organizations (REFERENCE.md "Organizations", API.md §3, §4): list mine,
 * create, and get / switch / update / delete the active org. The actor and
 * their role come from the credential only; an orgId in a body means
 * something only to the switch, and there it is checked against the
 * caller's own live memberships. Every change writes its audit event in its
 * transaction (fail closed).
 */
#include <string.h>

#include <unistr.h>

#include "app.h"

#define ORG_NAME_MAX_CHARS 128
#define ORG_NAME_MAX_BYTES (ORG_NAME_MAX_CHARS * 4)
#define ORG_ID_MAX_BYTES 256
/* A derived slug that clashes gets "-" and this many random characters. */
#define SLUG_SUFFIX_LEN 6
#define SLUG_TRIES 8

static cJSON *
org_json(cJSON *o, const struct org *g)
{
	cJSON_AddStringToObject(o, "id", g->id);
	cJSON_AddStringToObject(o, "name", g->name);
	cJSON_AddStringToObject(o, "slug", g->slug);
	if (g->role >= 0)
		cJSON_AddStringToObject(o, "role", rbac_role_name((enum rbac_role)g->role));
	else
		cJSON_AddNullToObject(o, "role");
	cJSON_AddStringToObject(o, "createdAt", g->created_at);
	return o;
}

static void
answer_org(struct request *rq, struct response *rs, int status, const struct org *g)
{
	http_json(rs, status, org_json(json_object(rq->arena), g));
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Reads name (required or not): a string, trimmed of surrounding
 * whitespace, valid UTF-8 without control characters, 1..128 characters.
 * -1 with a 400 answered. */
static int
read_name(struct request *rq, struct response *rs, int required, const char **out)
{
	const char *raw = NULL, *why = NULL;
	const unsigned char *p;
	size_t n;

	if (json_get_string(rq, rs, "name", &raw, required, ORG_NAME_MAX_BYTES) < 0)
		return -1;
	if (raw == NULL)
		return 0;
	while (is_space(*raw))
		raw++;
	n = strlen(raw);
	while (n > 0 && is_space(raw[n - 1]))
		n--;
	p = (const unsigned char *)raw;
	if (n == 0)
		why = "name must not be empty";
	else if (u8_check(p, n) != NULL)
		why = "name must be valid UTF-8";
	else if (u8_mbsnlen(p, n) > ORG_NAME_MAX_CHARS)
		why = "name must be at most 128 characters";
	else {
		size_t i;

		for (i = 0; i < n; i++)
			if (p[i] < 0x20 || p[i] == 0x7f) {
				why = "name must not contain control characters";
				break;
			}
	}
	if (why != NULL) {
		http_error(rs, 400, "VALIDATION_ERROR", why, "name");
		return -1;
	}
	*out = arena_strndup(rq->arena, raw, n);
	return 0;
}

/* Reads slug when present: a string (else 400) matching the slug rule
 * (else 422 INVALID_SLUG). */
static int
read_slug(struct request *rq, struct response *rs, const char **out)
{
	const char *s = NULL;

	if (json_get_string(rq, rs, "slug", &s, 0, 0) < 0)
		return -1;
	if (s == NULL)
		return 0;
	if (!orgs_slug_valid(s)) {
		http_error(rs, 422, "INVALID_SLUG",
			   "slug must be 2 to 48 characters of a-z, 0-9 and '-', starting and "
			   "ending with a letter or digit",
			   "slug");
		return -1;
	}
	*out = s;
	return 0;
}

static void
slug_taken(struct response *rs)
{
	http_error(rs, 409, "SLUG_TAKEN", "That slug is already taken", "slug");
}

/* base, or base + "-" + random characters (lowercase alnum), within the
 * slug limits. */
static const char *
slug_candidate(struct arena *a, const char *base, int suffixed)
{
	char rnd[SLUG_SUFFIX_LEN + 1], *s;
	size_t n = strlen(base), i;

	if (!suffixed && n >= ORG_SLUG_MIN)
		return arena_strdup(a, base);
	if (n > ORG_SLUG_MAX - SLUG_SUFFIX_LEN - 1)
		n = ORG_SLUG_MAX - SLUG_SUFFIX_LEN - 1;
	while (n > 0 && base[n - 1] == '-')
		n--;
	if (crypto_random_alnum(rnd, SLUG_SUFFIX_LEN) < 0)
		return NULL;
	for (i = 0; i < SLUG_SUFFIX_LEN; i++)
		if (rnd[i] >= 'A' && rnd[i] <= 'Z')
			rnd[i] = (char)(rnd[i] - 'A' + 'a');
	s = n > 0 ? arena_printf(a, "%.*s-%s", (int)n, base, rnd) : arena_printf(a, "org-%s", rnd);
	return s;
}

/* GET /v1/orgs/me: 200 {items:[Org],nextCursor:null}, the orgs the caller
 * is a live member of, oldest first; 401; 503. */
void
res_orgs_list_mine(struct request *rq, struct response *rs)
{
	struct org *items;
	int n, i;
	enum db_status st;
	cJSON *o, *arr;

	if ((st = orgs_list_mine(rq->arena, rq->actor.user_id, &items, &n)) != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	o = json_object(rq->arena);
	arr = cJSON_AddArrayToObject(o, "items");
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, org_json(cJSON_CreateObject(), &items[i]));
	cJSON_AddNullToObject(o, "nextCursor");
	http_json(rs, 200, o);
}

/* A personal token's request: the new org becomes the token's active org
 * (a session's is set with orgs_session_set_active). */
static enum db_status
token_set_active(struct request *rq, const char *org_id)
{
	struct org g;

	if (rq->actor.key.id == NULL)
		return DB_OK;
	return apikeys_switch_org(rq->arena, rq->actor.key.id, rq->actor.user_id, org_id, &g);
}

/* POST /v1/orgs {name, slug?}: 201 Org, the caller its owner and the
 * session's active org (slug derived from name when absent); 400 wrong
 * types, empty or long name; 401; 403 bad Origin; 409 SLUG_TAKEN; 413; 415;
 * 422 INVALID_SLUG; 500 when the audit event cannot be written (nothing is
 * kept); 503 (also when the org's DEK, created in the same transaction,
 * cannot be wrapped). */
void
res_orgs_create(struct request *rq, struct response *rs)
{
	const char *name = NULL, *slug = NULL, *member_id = NULL, *cand;
	char base[ORG_SLUG_MAX + 1];
	struct org g;
	enum db_status st;
	int try;

	if (read_name(rq, rs, 1, &name) < 0 || read_slug(rq, rs, &slug) < 0)
		return;
	if (slug == NULL)
		orgs_slug_from_name(name, base);
	if (tx_begin(rs) < 0)
		return;
	for (try = 0;; try++) {
		cand = slug != NULL ? slug : slug_candidate(rq->arena, base, try > 0);
		if (cand == NULL) {
			tx_fail(rs, DB_ERROR);
			return;
		}
		st = orgs_create(rq->arena, name, cand, rq->actor.user_id, &g, &member_id);
		if (st != DB_CONFLICT)
			break;
		if (slug != NULL) {
			db_rollback();
			slug_taken(rs);
			return;
		}
		if (try + 1 >= SLUG_TRIES) {
			db_rollback();
			slug_taken(rs);
			return;
		}
	}
	if (st != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	/* The new org is where this request acts from now on. */
	rq->actor.org_id = g.id;
	rq->actor.member_id = member_id;
	rq->actor.role = ROLE_OWNER;
	if ((st = orgs_session_set_active(rq->arena, rq->actor.session.id, g.id)) != DB_OK ||
	    (st = token_set_active(rq, g.id)) != DB_OK ||
	    (st = keyring_create_org_key(rq->arena, g.id)) != DB_OK ||
	    (st = app_audit(rq, "org.created", "organization", g.id, NULL, NULL,
			    json_name_slug(rq->arena, g.name, g.slug))) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (tx_commit(rs) < 0)
		return;
	rq->actor.session.active_org_id = g.id;
	answer_org(rq, rs, 201, &g);
}

/* GET /v1/orgs/current: 200 Org of the active org (org:read); 401; 403
 * NO_ACTIVE_ORGANIZATION, NOT_A_MEMBER; 503. */
void
res_orgs_current_get(struct request *rq, struct response *rs)
{
	struct org g;
	enum db_status st;

	if ((st = orgs_get(rq->arena, rq->actor.org_id, rq->actor.user_id, &g)) != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	if (g.id == NULL) { /* gone since the pipeline looked */
		http_error(rs, 403, "NOT_A_MEMBER", "You are not a member of the active organization",
			   NULL);
		return;
	}
	answer_org(rq, rs, 200, &g);
}

/* POST /v1/orgs/current {orgId}: 200 Org, now this session's active org
 * (other sessions of the person are untouched; with a personal token, the
 * token's active org); 400 orgId missing or not
 * a string; 401; 403 bad Origin; 404 not an org the caller is a live
 * member of (foreign and missing alike); 413; 415; 503. */
void
res_orgs_current_switch(struct request *rq, struct response *rs)
{
	const char *org_id = NULL;
	struct org g;
	enum db_status st;

	if (json_get_string(rq, rs, "orgId", &org_id, 1, 0) < 0)
		return;
	/* A personal token keeps its org on the token (api_key.active_org_id). */
	if (strlen(org_id) > ORG_ID_MAX_BYTES ||
	    (st = rq->actor.session.id == NULL && rq->actor.key.id != NULL
			  ? apikeys_switch_org(rq->arena, rq->actor.key.id, rq->actor.user_id,
					       org_id, &g)
			  : orgs_switch(rq->arena, rq->actor.session.id, rq->actor.user_id, org_id,
					&g)) == DB_INVALID) {
		g.id = NULL;
		st = DB_OK;
	}
	if (st != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	if (g.id == NULL) {
		http_error(rs, 404, "NOT_FOUND", "No such organization", NULL);
		return;
	}
	rq->actor.session.active_org_id = g.id;
	answer_org(rq, rs, 200, &g);
}

/* PATCH /v1/orgs/current {name?, slug?}: 200 Org (org:update); 400 wrong
 * types, empty or long name; 401; 403 bad Origin, NO_ACTIVE_ORGANIZATION,
 * NOT_A_MEMBER, FORBIDDEN; 409 SLUG_TAKEN; 413; 415; 422 INVALID_SLUG; 500
 * when the audit event cannot be written (nothing is kept); 503. An empty
 * PATCH changes nothing and writes no event. */
void
res_orgs_current_patch(struct request *rq, struct response *rs)
{
	const char *name = NULL, *slug = NULL, *old_name, *old_slug;
	struct org g;
	struct buf meta;
	enum db_status st;

	if (read_name(rq, rs, 0, &name) < 0 || read_slug(rq, rs, &slug) < 0)
		return;
	if (name == NULL && slug == NULL) {
		res_orgs_current_get(rq, rs);
		return;
	}
	if (tx_begin(rs) < 0)
		return;
	st = orgs_update(rq->arena, rq->actor.org_id, name, slug, &g, &old_name, &old_slug);
	if (st == DB_CONFLICT) {
		db_rollback();
		slug_taken(rs);
		return;
	}
	if (st != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (g.id == NULL) {
		db_rollback();
		http_error(rs, 403, "NOT_A_MEMBER", "You are not a member of the active organization",
			   NULL);
		return;
	}
	g.role = (int)rq->actor.role;
	/* {"name":{"from":…,"to":…},"slug":{…}}, the fields given. */
	buf_init(&meta, rq->arena);
	buf_putc(&meta, '{');
	if (name != NULL) {
		buf_puts(&meta, "\"name\":{\"from\":");
		buf_json_string(&meta, old_name, strlen(old_name));
		buf_puts(&meta, ",\"to\":");
		buf_json_string(&meta, g.name, strlen(g.name));
		buf_putc(&meta, '}');
	}
	if (slug != NULL) {
		buf_puts(&meta, name != NULL ? ",\"slug\":{\"from\":" : "\"slug\":{\"from\":");
		buf_json_string(&meta, old_slug, strlen(old_slug));
		buf_puts(&meta, ",\"to\":");
		buf_json_string(&meta, g.slug, strlen(g.slug));
		buf_putc(&meta, '}');
	}
	buf_putc(&meta, '}');
	if ((st = app_audit(rq, "org.updated", "organization", g.id, NULL, NULL, meta.data)) !=
	    DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (tx_commit(rs) < 0)
		return;
	answer_org(rq, rs, 200, &g);
}

/* DELETE /v1/orgs/current: 204 (org:delete, owners only); the org and
 * everything of it are gone and every session that had it active has no
 * active org; 401; 403 bad Origin, NO_ACTIVE_ORGANIZATION, NOT_A_MEMBER,
 * FORBIDDEN; 500 when the audit event cannot be written (nothing is
 * deleted); 503. The org.deleted event is written, then goes with the org;
 * the log keeps a line. */
void
res_orgs_current_delete(struct request *rq, struct response *rs)
{
	enum db_status st;
	int deleted;

	if (tx_begin(rs) < 0)
		return;
	if ((st = app_audit(rq, "org.deleted", "organization", rq->actor.org_id, NULL, NULL,
			    NULL)) != DB_OK ||
	    (st = orgs_delete(rq->arena, rq->actor.org_id, &deleted)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (!deleted) {
		db_rollback();
		http_error(rs, 403, "NOT_A_MEMBER", "You are not a member of the active organization",
			   NULL);
		return;
	}
	if (tx_commit(rs) < 0)
		return;
	log_msg(LOG_INFO, "org.deleted", "org %s deleted by user %s", rq->actor.org_id,
		rq->actor.user_id);
	rq->actor.session.active_org_id = NULL;
	http_no_content(rs);
}

/* {provider,kekId,dekCreatedAt,wrappedAt} (+kmsKeyArn for kms). */
static void
answer_encryption(struct request *rq, struct response *rs, const struct keyring_state *k)
{
	cJSON *o = json_object(rq->arena);

	cJSON_AddStringToObject(o, "provider", k->provider);
	cJSON_AddStringToObject(o, "kekId", k->kek_id);
	cJSON_AddStringToObject(o, "dekCreatedAt", k->dek_created_at);
	cJSON_AddStringToObject(o, "wrappedAt", k->wrapped_at);
	if (k->kms_key_arn != NULL)
		cJSON_AddStringToObject(o, "kmsKeyArn", k->kms_key_arn);
	http_json(rs, 200, o);
}

/* GET /v1/orgs/current/encryption: 200 the encryption state of the active
 * org (org:read); an org older than the keyring gets its DEK now; 401; 403
 * NO_ACTIVE_ORGANIZATION, NOT_A_MEMBER; 503. */
void
res_orgs_encryption_get(struct request *rq, struct response *rs)
{
	struct keyring_state k;
	enum db_status st;

	if (tx_begin(rs) < 0)
		return;
	if ((st = keyring_state(rq->arena, rq->actor.org_id, &k)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (tx_commit(rs) < 0)
		return;
	answer_encryption(rq, rs, &k);
}

/* POST /v1/orgs/current/rotate-kek (no body, or {}): re-wraps every DEK
 * version of the active org under the current KEK (the current master key,
 * e.g. after MASTER_KEK_B64 changed and the old one moved to
 * MASTER_KEK_PREVIOUS_B64); the DEK and the values do not change. 200 the
 * new encryption state; audited org.kek_rotated {fromKekId,toKekId,
 * dekVersions}; 400; 401; 403 bad Origin, NO_ACTIVE_ORGANIZATION,
 * NOT_A_MEMBER, FORBIDDEN (org:security: owners); 413; 415; 500 when the
 * audit event cannot be written (nothing is kept); 503 (PostgreSQL, or no
 * configured key unwraps the DEK). */
void
res_orgs_rotate_kek(struct request *rq, struct response *rs)
{
	struct keyring_state k;
	struct buf meta;
	const char *from = NULL;
	enum db_status st;
	int count = 0;

	if (tx_begin(rs) < 0)
		return;
	if ((st = keyring_rotate_kek(rq->arena, rq->actor.org_id, &k, &from, &count)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	buf_init(&meta, rq->arena);
	buf_puts(&meta, "{\"fromKekId\":");
	buf_json_string(&meta, from, strlen(from));
	buf_puts(&meta, ",\"toKekId\":");
	buf_json_string(&meta, k.kek_id, strlen(k.kek_id));
	buf_printf(&meta, ",\"dekVersions\":%d}", count);
	if ((st = app_audit(rq, "org.kek_rotated", "organization", rq->actor.org_id, NULL, NULL,
			    meta.data)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (tx_commit(rs) < 0)
		return;
	answer_encryption(rq, rs, &k);
}
