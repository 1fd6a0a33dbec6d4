/*
 * Shared secrets (REFERENCE.md "Shared secrets", API.md §3, §4): the
 * org-wide store under /v1/orgs/current. SharedSecret {id,key,value,
 * folderId,note,version,createdAt,updatedAt}: one value, versioned. The
 * reference lists folders, secrets and one secret, creation and versions;
 * folder creation, update and delete are ours (schema/openapi.yaml).
 *
 * The rules are the project secrets' (app/res_secrets.c): keys
 * ^[A-Za-z_][A-Za-z0-9_]{0,255}$ (unique per org), values UTF-8 up to
 * 64 KiB, notes up to 1024 characters; lists show no value unless
 * ?reveal=true (secret:read too); GET one, a reveal and the versions are
 * audited (shared_secret.read); every change writes its event in its
 * transaction (fail closed) and no value ever goes into an event; write
 * answers carry no value. Values are sealed in lib/shared.c; one that does
 * not open answers 500 SECRET_UNREADABLE, never a value. Every query is
 * scoped by the actor's org: an id of another org answers 404 like a
 * missing one.
 */
#include <string.h>

#include <unistr.h>

#include "app.h"

#define ID_MAX 64

/* ------------------------------------------------------------ helpers */

static void
no_secret(struct response *rs)
{
	http_error(rs, 404, "NOT_FOUND", "No such shared secret", NULL);
}

static void
key_taken(struct response *rs)
{
	http_error(rs, 409, "SECRET_EXISTS", "A shared secret with this key exists in the org",
		   "key");
}

/* :id, or NULL (answer 404) when it cannot be an id. */
static const char *
path_id(struct request *rq)
{
	const char *id = http_param(rq, "id");

	return id != NULL && id[0] != '\0' && strlen(id) <= ID_MAX ? id : NULL;
}

/* Opens a stored value into *value; -1 answered: 500 SECRET_UNREADABLE
 * (with a log line naming the row, never the value) when it does not
 * authenticate there, 503 when the key is unreachable. */
static int
open_value(struct request *rq, struct response *rs, const char *id, int version,
	   const char *sealed, const char **value)
{
	struct buf out;
	enum db_status st;

	buf_init(&out, rq->arena);
	st = shared_open(rq->arena, rq->actor.org_id, id, version, sealed, &out);
	if (st == DB_OK) {
		*value = out.data; /* NUL-terminated; values hold no NUL */
		return 0;
	}
	if (st != DB_INVALID) {
		http_db_error(rs, st);
		return -1;
	}
	log_msg(LOG_ERROR, "shared_secret.unreadable",
		"org %s shared secret %s version %d: the stored value does not open "
		"(moved or tampered ciphertext)",
		rq->actor.org_id, id, version);
	http_error(rs, 500, "SECRET_UNREADABLE", "A stored value failed its integrity check",
		   NULL);
	return -1;
}

/* SharedSecret; value only when opened. */
static cJSON *
secret_fill(cJSON *o, const struct shared_secret *s)
{
	cJSON_AddStringToObject(o, "id", s->id);
	cJSON_AddStringToObject(o, "key", s->key);
	if (s->value != NULL)
		cJSON_AddStringToObject(o, "value", s->value);
	json_add_nullable(o, "folderId", s->folder_id);
	cJSON_AddStringToObject(o, "note", s->note != NULL ? s->note : "");
	cJSON_AddNumberToObject(o, "version", s->version);
	cJSON_AddStringToObject(o, "createdAt", s->created_at);
	cJSON_AddStringToObject(o, "updatedAt", s->updated_at);
	return o;
}

static void
answer_secret(struct request *rq, struct response *rs, int status, const struct shared_secret *s)
{
	http_json(rs, status, secret_fill(json_object(rq->arena), s));
}

static cJSON *
folder_json(cJSON *o, const struct folder *f)
{
	cJSON_AddStringToObject(o, "id", f->id);
	cJSON_AddStringToObject(o, "name", f->name);
	json_add_nullable(o, "parentId", f->parent_id);
	cJSON_AddStringToObject(o, "path", f->path);
	return o;
}

/* ------------------------------------------------------ body readers */

struct secret_in {
	const char *key, *note, *folder_id, *value;
	size_t len;
	int set_folder;
};

/* key: 400 when not a string or off the pattern. */
static int
read_key(struct request *rq, struct response *rs, int required, struct secret_in *in)
{
	const char *k = NULL;

	if (json_get_string(rq, rs, "key", &k, required, 0) < 0)
		return -1;
	if (k == NULL)
		return 0;
	if (!secrets_key_valid(k)) {
		http_error(rs, 400, "VALIDATION_ERROR",
			   "key must match ^[A-Za-z_][A-Za-z0-9_]{0,255}$", "key");
		return -1;
	}
	in->key = k;
	return 0;
}

/* value: a string (400 otherwise, and when not UTF-8), at most 64 KiB
 * (422 VALUE_TOO_LARGE). */
static int
read_value(struct request *rq, struct response *rs, int required, struct secret_in *in)
{
	cJSON *v = rq->json != NULL ? cJSON_GetObjectItemCaseSensitive(rq->json, "value") : NULL;

	if (v == NULL && !required)
		return 0;
	if (v == NULL || !cJSON_IsString(v)) {
		http_error(rs, 400, "VALIDATION_ERROR",
			   v == NULL ? "value is required" : "value must be a string", "value");
		return -1;
	}
	in->value = v->valuestring;
	in->len = strlen(v->valuestring);
	if (in->len > SECRET_VALUE_MAX) {
		http_error(rs, 422, "VALUE_TOO_LARGE", "a value must be at most 64 KiB", "value");
		return -1;
	}
	if (u8_check((const uint8_t *)in->value, in->len) != NULL) {
		http_error(rs, 400, "VALIDATION_ERROR", "a value must be valid UTF-8", "value");
		return -1;
	}
	return 0;
}

/* note: see json_get_note. */
static int
read_note(struct request *rq, struct response *rs, struct secret_in *in)
{
	return json_get_note(rq, rs, &in->note);
}

/* folderId (field) / parentId: a string, or null for none (*set 1 either
 * way); 400 otherwise. */
static int
read_ref(struct request *rq, struct response *rs, const char *field, int *set, const char **out)
{
	cJSON *v = rq->json != NULL ? cJSON_GetObjectItemCaseSensitive(rq->json, field) : NULL;

	*set = 0;
	*out = NULL;
	if (v == NULL)
		return 0;
	*set = 1;
	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v)) {
		http_error(rs, 400, "VALIDATION_ERROR",
			   arena_printf(rq->arena, "%s must be a string or null", field), field);
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

/* In the transaction: the folder, when one is named, is a shared folder of
 * the org (else 422 UNKNOWN_FOLDER). 1 answered. */
static int
check_folder(struct request *rq, struct response *rs, const char *folder_id, enum db_status *st)
{
	struct folder f;

	*st = DB_OK;
	if (folder_id == NULL)
		return 0;
	if ((*st = shared_folders_get(rq->arena, rq->actor.org_id, folder_id, &f)) != DB_OK)
		return 0;
	if (f.id == NULL) {
		http_error(rs, 422, "UNKNOWN_FOLDER", "No such shared folder in this org",
			   "folderId");
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ folders */

/* GET /v1/orgs/current/shared-folders: 200 {items:[Folder],nextCursor:null}
 * every shared folder of the org with its path, in path order
 * (secret:list); 401; 403; 503. */
void
res_shared_folders_list(struct request *rq, struct response *rs)
{
	struct folder *items;
	enum db_status st;
	cJSON *arr;
	int n, i;

	if ((st = shared_folders_list(rq->arena, rq->actor.org_id, &items, &n)) != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	arr = cJSON_CreateArray();
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, folder_json(cJSON_CreateObject(), &items[i]));
	http_list(rq, rs, arr, NULL);
}

struct folder_ctx {
	const char *name, *parent_id;
	struct folder f;
};

static enum db_status
folder_create_body(struct request *rq, struct response *rs, void *c)
{
	struct folder_ctx *x = c;
	enum db_status st;
	cJSON *meta;

	st = shared_folders_create(rq->arena, rq->actor.org_id, x->parent_id, x->name, &x->f);
	if (st == DB_CONFLICT) {
		http_error(rs, 409, "FOLDER_EXISTS", "A folder with that name is already there",
			   "name");
		return DB_OK;
	}
	if (st != DB_OK)
		return st;
	if (x->f.id == NULL) {
		http_error(rs, 404, "NOT_FOUND", "No such parent shared folder", "parentId");
		return DB_OK;
	}
	meta = json_object(rq->arena);
	cJSON_AddStringToObject(meta, "path", x->f.path);
	if (x->f.parent_id != NULL)
		cJSON_AddStringToObject(meta, "parentId", x->f.parent_id);
	else
		cJSON_AddNullToObject(meta, "parentId");
	return app_audit(rq, "shared_folder.created", "shared_folder", x->f.id, NULL, NULL,
			 json_text(rq->arena, meta));
}

/* POST /v1/orgs/current/shared-folders {name,parentId?} (ours): 201 Folder
 * (shared_secret:write); names as project folders: 1..128 characters,
 * trimmed, no '/' nor control characters, not "." or ".."; audited
 * shared_folder.created; 400 wrong types, a bad name; 401; 403; 404
 * parentId not a shared folder of the org (field parentId); 409
 * FOLDER_EXISTS (a sibling has the name); 413; 415; 500 the audit event
 * could not be written (nothing kept); 503. */
void
res_shared_folders_create(struct request *rq, struct response *rs)
{
	struct folder_ctx x;
	int set;

	memset(&x, 0, sizeof(x));
	if (app_read_text(rq, rs, "name", 1, FOLDER_NAME_MAX, 0, &x.name) < 0 ||
	    read_ref(rq, rs, "parentId", &set, &x.parent_id) < 0)
		return;
	if (strchr(x.name, '/') != NULL || strcmp(x.name, ".") == 0 ||
	    strcmp(x.name, "..") == 0) {
		http_error(rs, 400, "VALIDATION_ERROR",
			   "name must not contain '/' nor be '.' or '..'", "name");
		return;
	}
	if (x.parent_id != NULL && (x.parent_id[0] == '\0' || strlen(x.parent_id) > ID_MAX)) {
		http_error(rs, 404, "NOT_FOUND", "No such parent shared folder", "parentId");
		return;
	}
	if (tx_run(rq, rs, folder_create_body, &x) < 0)
		return;
	http_json(rs, 201, folder_json(json_object(rq->arena), &x.f));
}

/* ----------------------------------------------------------- the list */

struct list_ctx {
	const char *folder_id, *cursor;
	int limit, reveal;
	struct shared_secret *items;
	int n;
	const char *next;
};

static enum db_status
list_body(struct request *rq, struct response *rs, void *c)
{
	struct list_ctx *x = c;
	enum db_status st;
	cJSON *meta;
	int i;

	x->n = 0;
	st = shared_list(rq->arena, rq->actor.org_id, x->folder_id, x->limit, x->cursor,
			 x->reveal, x->items, &x->n, &x->next);
	if (st == DB_INVALID) {
		http_error(rs, 400, "VALIDATION_ERROR", "cursor is not valid", "cursor");
		return DB_OK;
	}
	if (st != DB_OK || !x->reveal)
		return st;
	for (i = 0; i < x->n; i++)
		if (open_value(rq, rs, x->items[i].id, x->items[i].version, x->items[i].sealed,
			       &x->items[i].value) < 0)
			return DB_OK;
	meta = json_object(rq->arena);
	cJSON_AddTrueToObject(meta, "reveal");
	cJSON_AddNumberToObject(meta, "count", x->n);
	return app_audit(rq, "shared_secret.read", "organization", rq->actor.org_id, NULL, NULL,
			 json_text(rq->arena, meta));
}

/* GET /v1/orgs/current/shared-secrets?limit&cursor&folderId&reveal: 200
 * {items:[SharedSecret],nextCursor}, by key (bytewise); no value unless
 * reveal=true (needs secret:read as well; audited shared_secret.read
 * {reveal:true,count}); 400 bad limit, cursor or reveal; 401; 403
 * NO_ACTIVE_ORGANIZATION, NOT_A_MEMBER, FORBIDDEN (reveal without
 * secret:read); 500 SECRET_UNREADABLE, or the audit event could not be
 * written; 503. */
void
res_shared_list(struct request *rq, struct response *rs)
{
	struct list_ctx x;
	cJSON *arr;
	int i;

	memset(&x, 0, sizeof(x));
	if (http_page(rq, rs, &x.limit, &x.cursor) < 0)
		return;
	if (app_reveal(rq, rs, &x.reveal) < 0)
		return;
	x.folder_id = http_query(rq, "folderId");
	if (x.folder_id != NULL && x.folder_id[0] == '\0')
		x.folder_id = NULL;
	x.items = arena_alloc(rq->arena, sizeof(*x.items) * (size_t)x.limit);
	if (tx_run(rq, rs, list_body, &x) < 0)
		return;
	arr = cJSON_CreateArray();
	for (i = 0; i < x.n; i++)
		cJSON_AddItemToArray(arr, secret_fill(cJSON_CreateObject(), &x.items[i]));
	http_list(rq, rs, arr, x.next);
}

/* ------------------------------------------------------------ get one */

struct one_ctx {
	const char *id;
	struct shared_secret s;
};

static enum db_status
get_body(struct request *rq, struct response *rs, void *c)
{
	struct one_ctx *x = c;
	enum db_status st;
	cJSON *meta;

	if ((st = shared_get(rq->arena, rq->actor.org_id, x->id, 0, 1, &x->s)) != DB_OK)
		return st;
	if (x->s.id == NULL) {
		no_secret(rs);
		return DB_OK;
	}
	if (open_value(rq, rs, x->s.id, x->s.version, x->s.sealed, &x->s.value) < 0)
		return DB_OK;
	meta = json_object(rq->arena);
	cJSON_AddStringToObject(meta, "key", x->s.key);
	cJSON_AddNumberToObject(meta, "version", x->s.version);
	return app_audit(rq, "shared_secret.read", "shared_secret", x->s.id, NULL, NULL,
			 json_text(rq->arena, meta));
}

/* GET /v1/orgs/current/shared-secrets/:id: 200 SharedSecret with its value
 * (secret:read; audited shared_secret.read); 401; 403; 404 (another org's
 * id too); 500 SECRET_UNREADABLE, or the audit event could not be
 * written; 503. */
void
res_shared_get(struct request *rq, struct response *rs)
{
	struct one_ctx x;

	memset(&x, 0, sizeof(x));
	if ((x.id = path_id(rq)) == NULL) {
		no_secret(rs);
		return;
	}
	if (tx_run(rq, rs, get_body, &x) < 0)
		return;
	answer_secret(rq, rs, 200, &x.s);
}

/* ------------------------------------------------------------- writes */

struct write_ctx {
	const char *id;
	struct secret_in in;
	struct shared_secret s;
};

static enum db_status
create_body(struct request *rq, struct response *rs, void *c)
{
	struct write_ctx *x = c;
	enum db_status st;
	cJSON *meta;

	if (check_folder(rq, rs, x->in.folder_id, &st) || st != DB_OK)
		return st;
	st = shared_create(rq->arena, rq->actor.org_id, rq->actor.user_id, x->in.key,
			   x->in.folder_id, x->in.note, x->in.value, x->in.len, &x->s);
	if (st == DB_CONFLICT) {
		key_taken(rs);
		return DB_OK;
	}
	if (st != DB_OK)
		return st;
	meta = json_object(rq->arena);
	cJSON_AddStringToObject(meta, "key", x->s.key);
	cJSON_AddNumberToObject(meta, "version", x->s.version);
	return app_audit(rq, "shared_secret.created", "shared_secret", x->s.id, NULL, NULL,
			 json_text(rq->arena, meta));
}

/* POST /v1/orgs/current/shared-secrets {key,value,folderId?,note?} (ours):
 * 201 SharedSecret without its value, version 1 (shared_secret:write;
 * audited shared_secret.created); 400 wrong types, no value, a key off the
 * pattern, a value not valid UTF-8; 401; 403; 409 SECRET_EXISTS (the key
 * is taken in the org); 413; 415; 422 UNKNOWN_FOLDER, VALUE_TOO_LARGE, a
 * long note; 500 the audit event could not be written (nothing kept); 503. */
void
res_shared_create(struct request *rq, struct response *rs)
{
	struct write_ctx x;

	memset(&x, 0, sizeof(x));
	if (read_key(rq, rs, 1, &x.in) < 0 || read_value(rq, rs, 1, &x.in) < 0 ||
	    read_ref(rq, rs, "folderId", &x.in.set_folder, &x.in.folder_id) < 0 ||
	    read_note(rq, rs, &x.in) < 0)
		return;
	if (x.in.folder_id != NULL && strlen(x.in.folder_id) > ID_MAX) {
		http_error(rs, 422, "UNKNOWN_FOLDER", "No such shared folder in this org",
			   "folderId");
		return;
	}
	if (tx_run(rq, rs, create_body, &x) < 0)
		return;
	answer_secret(rq, rs, 201, &x.s);
}

static enum db_status
patch_body(struct request *rq, struct response *rs, void *c)
{
	struct write_ctx *x = c;
	struct shared_secret old;
	enum db_status st;
	cJSON *meta, *fields;

	/* Writers of one secret serialise here. */
	if ((st = shared_get(rq->arena, rq->actor.org_id, x->id, 1, 0, &old)) != DB_OK)
		return st;
	if (old.id == NULL) {
		no_secret(rs);
		return DB_OK;
	}
	if (check_folder(rq, rs, x->in.folder_id, &st) || st != DB_OK)
		return st;
	st = shared_update(rq->arena, rq->actor.org_id, old.id, rq->actor.user_id, x->in.key,
			   x->in.note, x->in.set_folder, x->in.folder_id, x->in.value, x->in.len,
			   &x->s);
	if (st == DB_CONFLICT) {
		key_taken(rs);
		return DB_OK;
	}
	if (st != DB_OK)
		return st;
	if (x->s.id == NULL)
		return DB_ERROR;
	meta = json_object(rq->arena);
	cJSON_AddStringToObject(meta, "key", x->s.key);
	fields = cJSON_AddArrayToObject(meta, "fields");
	if (x->in.key != NULL) {
		cJSON_AddItemToArray(fields, cJSON_CreateString("key"));
		if (strcmp(x->in.key, old.key) != 0) {
			cJSON *k = cJSON_AddObjectToObject(meta, "keyChange");

			cJSON_AddStringToObject(k, "from", old.key);
			cJSON_AddStringToObject(k, "to", x->in.key);
		}
	}
	if (x->in.note != NULL)
		cJSON_AddItemToArray(fields, cJSON_CreateString("note"));
	if (x->in.set_folder)
		cJSON_AddItemToArray(fields, cJSON_CreateString("folderId"));
	if (x->in.value != NULL) {
		cJSON_AddItemToArray(fields, cJSON_CreateString("value"));
		cJSON_AddNumberToObject(meta, "version", x->s.version);
	}
	return app_audit(rq, "shared_secret.updated", "shared_secret", old.id, NULL, NULL,
			 json_text(rq->arena, meta));
}

static enum db_status
read_only_body(struct request *rq, struct response *rs, void *c)
{
	struct write_ctx *x = c;
	enum db_status st;

	if ((st = shared_get(rq->arena, rq->actor.org_id, x->id, 0, 0, &x->s)) != DB_OK)
		return st;
	if (x->s.id == NULL)
		no_secret(rs);
	return DB_OK;
}

/* PATCH /v1/orgs/current/shared-secrets/:id {value?,key?,note?,folderId?}
 * (ours): 200 SharedSecret without its value (shared_secret:write); a value
 * is a new version (concurrent writers serialise on the secret: none is
 * lost, no version twice); folderId null takes it out of its folder;
 * audited shared_secret.updated; an empty body changes nothing and writes
 * no event; 400 wrong types (value null too), a bad key; 401; 403; 404
 * (another org's id too); 409 SECRET_EXISTS (the new key is taken); 413;
 * 415; 422 UNKNOWN_FOLDER, VALUE_TOO_LARGE, a long note; 500 the audit
 * event could not be written (nothing kept); 503. */
void
res_shared_patch(struct request *rq, struct response *rs)
{
	struct write_ctx x;

	memset(&x, 0, sizeof(x));
	if (read_key(rq, rs, 0, &x.in) < 0 || read_value(rq, rs, 0, &x.in) < 0 ||
	    read_ref(rq, rs, "folderId", &x.in.set_folder, &x.in.folder_id) < 0 ||
	    read_note(rq, rs, &x.in) < 0)
		return;
	if ((x.id = path_id(rq)) == NULL) {
		no_secret(rs);
		return;
	}
	if (x.in.folder_id != NULL && strlen(x.in.folder_id) > ID_MAX) {
		http_error(rs, 422, "UNKNOWN_FOLDER", "No such shared folder in this org",
			   "folderId");
		return;
	}
	if (x.in.key == NULL && x.in.note == NULL && !x.in.set_folder && x.in.value == NULL) {
		if (tx_run(rq, rs, read_only_body, &x) < 0)
			return;
	} else if (tx_run(rq, rs, patch_body, &x) < 0) {
		return;
	}
	answer_secret(rq, rs, 200, &x.s);
}

static enum db_status
delete_body(struct request *rq, struct response *rs, void *c)
{
	struct write_ctx *x = c;
	enum db_status st;
	const char *key;
	cJSON *meta;

	if ((st = shared_delete(rq->arena, rq->actor.org_id, x->id, &key)) != DB_OK)
		return st;
	if (key == NULL) {
		no_secret(rs);
		return DB_OK;
	}
	meta = json_object(rq->arena);
	cJSON_AddStringToObject(meta, "key", key);
	return app_audit(rq, "shared_secret.deleted", "shared_secret", x->id, NULL, NULL,
			 json_text(rq->arena, meta));
}

/* DELETE /v1/orgs/current/shared-secrets/:id (ours): 204, the secret and
 * its versions gone (shared_secret:write; audited shared_secret.deleted);
 * 401; 403; 404 (another org's id too); 500 the audit event could not be
 * written (nothing deleted); 503. */
void
res_shared_delete(struct request *rq, struct response *rs)
{
	struct write_ctx x;

	memset(&x, 0, sizeof(x));
	if ((x.id = path_id(rq)) == NULL) {
		no_secret(rs);
		return;
	}
	if (tx_run(rq, rs, delete_body, &x) < 0)
		return;
	http_no_content(rs);
}

/* ----------------------------------------------------------- versions */

struct versions_ctx {
	const char *id, *cursor;
	int limit;
	struct shared_secret_version *items;
	int n;
	const char *next;
};

static enum db_status
versions_body(struct request *rq, struct response *rs, void *c)
{
	struct versions_ctx *x = c;
	struct shared_secret s;
	enum db_status st;
	cJSON *meta;
	int i;

	x->n = 0;
	if ((st = shared_get(rq->arena, rq->actor.org_id, x->id, 0, 0, &s)) != DB_OK)
		return st;
	if (s.id == NULL) {
		no_secret(rs);
		return DB_OK;
	}
	st = shared_versions(rq->arena, rq->actor.org_id, s.id, x->limit, x->cursor, x->items,
			     &x->n, &x->next);
	if (st == DB_INVALID) {
		http_error(rs, 400, "VALIDATION_ERROR", "cursor is not valid", "cursor");
		return DB_OK;
	}
	if (st != DB_OK)
		return st;
	for (i = 0; i < x->n; i++)
		if (open_value(rq, rs, s.id, x->items[i].version, x->items[i].sealed,
			       &x->items[i].value) < 0)
			return DB_OK;
	meta = json_object(rq->arena);
	cJSON_AddStringToObject(meta, "key", s.key);
	cJSON_AddTrueToObject(meta, "versions");
	cJSON_AddNumberToObject(meta, "count", x->n);
	return app_audit(rq, "shared_secret.read", "shared_secret", s.id, NULL, NULL,
			 json_text(rq->arena, meta));
}

/* GET /v1/orgs/current/shared-secrets/:id/versions?limit&cursor: 200
 * {items:[{version,value,createdAt,createdBy}],nextCursor}, newest first
 * (secret:read; audited shared_secret.read {key,versions:true,count}); 400
 * bad limit or cursor; 401; 403; 404 (another org's id too); 500
 * SECRET_UNREADABLE, or the audit event could not be written; 503. */
void
res_shared_versions(struct request *rq, struct response *rs)
{
	struct versions_ctx x;
	cJSON *arr;
	int i;

	memset(&x, 0, sizeof(x));
	if (http_page(rq, rs, &x.limit, &x.cursor) < 0)
		return;
	if ((x.id = path_id(rq)) == NULL) {
		no_secret(rs);
		return;
	}
	x.items = arena_alloc(rq->arena, sizeof(*x.items) * (size_t)x.limit);
	if (tx_run(rq, rs, versions_body, &x) < 0)
		return;
	arr = cJSON_CreateArray();
	for (i = 0; i < x.n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "version", x.items[i].version);
		cJSON_AddStringToObject(o, "value", x.items[i].value);
		cJSON_AddStringToObject(o, "createdAt", x.items[i].created_at);
		cJSON_AddStringToObject(o, "createdBy", x.items[i].created_by);
		cJSON_AddItemToArray(arr, o);
	}
	http_list(rq, rs, arr, x.next);
}
