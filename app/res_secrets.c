/*
 * Secrets (REFERENCE.md "Secrets", API.md §3, §4): list, get, create,
 * update, delete, rotate, versions and the rotation policy of a project's
 * secrets. Export and import are another file's.
 *
 * Every query is scoped by the actor's org and the project in the path: a
 * project or secret of another org answers 404 like a missing one. Values
 * are sealed in lib/secrets.c; a value that does not open (a ciphertext
 * moved to another row, or tampered with) answers 500 with no value and an
 * error in the log that names the row, never the value. Every change and
 * every reveal writes its audit event in its transaction (fail closed); no
 * value ever goes into an event. Writes bump the generation of the
 * project's environments (runtime caches re-resolve).
 */
#include <string.h>

#include <unistr.h>

#include "app.h"

#define ID_MAX 64

/* ------------------------------------------------------------ helpers */

static const char *
path_id(struct request *rq, const char *name)
{
	const char *id = http_param(rq, name);

	return id != NULL && id[0] != '\0' && strlen(id) <= ID_MAX ? id : NULL;
}

static void
no_project(struct response *rs)
{
	http_error(rs, 404, "NOT_FOUND", "No such project", NULL);
}

static void
no_secret(struct response *rs)
{
	http_error(rs, 404, "NOT_FOUND", "No such secret", NULL);
}

static void
unknown_environment(struct request *rq, struct response *rs, const char *field)
{
	http_error(rs, 422, "UNKNOWN_ENVIRONMENT", "No such environment in this project", field);
}

/* A stored value that does not open: 500 with no value, and a log line
 * naming the row (never the value); 503 when the key is unreachable. */
static void
open_failed(struct request *rq, struct response *rs, enum db_status st, const char *secret_id,
	    const char *environment_id, int version)
{
	if (st != DB_INVALID) {
		http_db_error(rs, st);
		return;
	}
	log_msg(LOG_ERROR, "secret.unreadable",
		"org %s secret %s environment %s version %d: the stored value does not open "
		"(moved or tampered ciphertext)",
		rq->actor.org_id, secret_id, environment_id, version);
	http_error(rs, 500, "SECRET_UNREADABLE", "A stored value failed its integrity check",
		   NULL);
}

/* Opens the loaded values of n secrets; -1 answered. */
static int
open_values(struct request *rq, struct response *rs, const char *project_id,
	    struct secret *items, int n)
{
	struct buf out;
	enum db_status st;
	int i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < items[i].nvalues; j++) {
			struct secret_value *v = &items[i].values[j];

			buf_init(&out, rq->arena);
			st = secrets_open(rq->arena, rq->actor.org_id, project_id, items[i].id,
					  v->environment_id, v->version, v->sealed, &out);
			if (st != DB_OK) {
				open_failed(rq, rs, st, items[i].id, v->environment_id,
					    v->version);
				return -1;
			}
			v->value = out.data;
		}
	}
	return 0;
}

/* Secret = {id,key,folderId,note,tags,values:{<env>:{value?,version,
 * updatedAt,updatedBy}},lastRotatedAt,createdAt}; value only when opened. */
static cJSON *
secret_fill(cJSON *o, const struct secret *s)
{
	cJSON *values;
	int j;

	cJSON_AddStringToObject(o, "id", s->id);
	cJSON_AddStringToObject(o, "key", s->key);
	json_add_nullable(o, "folderId", s->folder_id);
	cJSON_AddStringToObject(o, "note", s->note != NULL ? s->note : "");
	/* PostgreSQL's array_to_json: a JSON array of strings. */
	cJSON_AddRawToObject(o, "tags", s->tags_json != NULL ? s->tags_json : "[]");
	values = cJSON_AddObjectToObject(o, "values");
	for (j = 0; j < s->nvalues; j++) {
		const struct secret_value *v = &s->values[j];
		cJSON *e = cJSON_AddObjectToObject(values, v->environment);

		if (v->value != NULL)
			cJSON_AddStringToObject(e, "value", v->value);
		cJSON_AddNumberToObject(e, "version", v->version);
		cJSON_AddStringToObject(e, "updatedAt", v->updated_at);
		cJSON_AddStringToObject(e, "updatedBy", v->updated_by);
	}
	json_add_nullable(o, "lastRotatedAt", s->last_rotated_at);
	cJSON_AddStringToObject(o, "createdAt", s->created_at);
	return o;
}

static void
answer_secret(struct request *rq, struct response *rs, int status, const struct secret *s)
{
	http_json(rs, status, secret_fill(json_object(rq->arena), s));
}

static int
is_control(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 1;
	return 0;
}

/* ------------------------------------------------------ body readers */

/* One environment's value in a create or update body; value NULL removes. */
struct value_in {
	const char *environment; /* slug, as given */
	const char *environment_id;
	const char *value;
	size_t len;
};

struct secret_in {
	const char *key, *note, *tags_json, *folder_id;
	int set_folder;
	struct value_in *values;
	int nvalues;
};

/* key: required or not; 400 when not a string or off the pattern. */
static int
read_key(struct request *rq, struct response *rs, int required, const char **out)
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
	*out = k;
	return 0;
}

/* values: an object of environment slug -> string (null too when
 * nullable: removes). 400 wrong types, invalid UTF-8, a slug twice; 422
 * VALUE_TOO_LARGE over 64 KiB. */
static int
read_values(struct request *rq, struct response *rs, int nullable, struct secret_in *in)
{
	cJSON *obj = cJSON_GetObjectItemCaseSensitive(rq->json, "values"), *it;
	int n = 0, i;

	if (obj == NULL || cJSON_IsNull(obj))
		return 0;
	if (!cJSON_IsObject(obj)) {
		http_error(rs, 400, "VALIDATION_ERROR", "values must be an object", "values");
		return -1;
	}
	cJSON_ArrayForEach(it, obj)
		n++;
	in->values = arena_alloc(rq->arena, sizeof(*in->values) * (size_t)(n > 0 ? n : 1));
	cJSON_ArrayForEach(it, obj) {
		struct value_in *v = &in->values[in->nvalues];
		const char *field = arena_printf(rq->arena, "values.%s", it->string);

		for (i = 0; i < in->nvalues; i++)
			if (strcmp(in->values[i].environment, it->string) == 0) {
				http_error(rs, 400, "VALIDATION_ERROR",
					   "an environment is given twice", field);
				return -1;
			}
		v->environment = it->string;
		if (cJSON_IsNull(it) && nullable) {
			v->value = NULL;
		} else if (!cJSON_IsString(it)) {
			http_error(rs, 400, "VALIDATION_ERROR",
				   nullable ? "a value must be a string or null"
					    : "a value must be a string",
				   field);
			return -1;
		} else {
			v->value = it->valuestring;
			v->len = strlen(it->valuestring);
			if (v->len > SECRET_VALUE_MAX) {
				http_error(rs, 422, "VALUE_TOO_LARGE",
					   "a value must be at most 64 KiB", field);
				return -1;
			}
			if (u8_check((const uint8_t *)v->value, v->len) != NULL) {
				http_error(rs, 400, "VALIDATION_ERROR",
					   "a value must be valid UTF-8", field);
				return -1;
			}
		}
		in->nvalues++;
	}
	return 0;
}

/* note: see json_get_note. */
static int
read_note(struct request *rq, struct response *rs, struct secret_in *in)
{
	return json_get_note(rq, rs, &in->note);
}

/* tags: an array (null: none) of at most 32 strings of 1..64 characters
 * without control characters; duplicates are dropped. */
static int
read_tags(struct request *rq, struct response *rs, struct secret_in *in)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(rq->json, "tags"), *it, *out, *seen;
	int i = 0;

	if (v == NULL)
		return 0;
	if (cJSON_IsNull(v)) {
		in->tags_json = "[]";
		return 0;
	}
	if (!cJSON_IsArray(v)) {
		http_error(rs, 400, "VALIDATION_ERROR", "tags must be an array of strings", "tags");
		return -1;
	}
	if (cJSON_GetArraySize(v) > SECRET_TAGS_MAX) {
		http_error(rs, 422, "VALIDATION_ERROR", "at most 32 tags", "tags");
		return -1;
	}
	out = json_array(rq->arena);
	cJSON_ArrayForEach(it, v) {
		const char *field = arena_printf(rq->arena, "tags.%d", i++);
		const uint8_t *p;
		size_t n, chars;
		int dup = 0;

		if (!cJSON_IsString(it)) {
			http_error(rs, 400, "VALIDATION_ERROR", "a tag must be a string", field);
			return -1;
		}
		p = (const uint8_t *)it->valuestring;
		n = strlen(it->valuestring);
		if (u8_check(p, n) != NULL) {
			http_error(rs, 400, "VALIDATION_ERROR", "a tag must be valid UTF-8", field);
			return -1;
		}
		chars = u8_mbsnlen(p, n);
		if (chars == 0 || chars > SECRET_TAG_MAX || is_control(p, n)) {
			http_error(rs, 422, "VALIDATION_ERROR",
				   "a tag must be 1 to 64 characters, no control characters", field);
			return -1;
		}
		cJSON_ArrayForEach(seen, out)
			if (strcmp(seen->valuestring, it->valuestring) == 0)
				dup = 1;
		if (!dup)
			cJSON_AddItemToArray(out, cJSON_CreateString(it->valuestring));
	}
	in->tags_json = json_text(rq->arena, out);
	return 0;
}

/* folderId: a string, or null for none (set_folder 1 either way). */
static int
read_folder(struct request *rq, struct response *rs, struct secret_in *in)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(rq->json, "folderId");

	if (v == NULL)
		return 0;
	in->set_folder = 1;
	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v)) {
		http_error(rs, 400, "VALIDATION_ERROR", "folderId must be a string or null",
			   "folderId");
		return -1;
	}
	in->folder_id = v->valuestring;
	return 0;
}

/* In the transaction: maps every value's environment slug to the
 * project's environment (422 UNKNOWN_ENVIRONMENT naming it) and checks the
 * folder is the project's (422 UNKNOWN_FOLDER). 1 answered. */
static int
resolve_refs(struct request *rq, struct response *rs, const char *project_id,
	     struct secret_in *in, enum db_status *st)
{
	struct environment *envs = NULL;
	int nenv = 0, i, j;

	*st = DB_OK;
	if (in->nvalues > 0) {
		if ((*st = environments_list(rq->arena, rq->actor.org_id, project_id, &envs,
					     &nenv)) != DB_OK)
			return 0;
		for (i = 0; i < in->nvalues; i++) {
			in->values[i].environment_id = NULL;
			for (j = 0; j < nenv; j++)
				if (strcmp(envs[j].slug, in->values[i].environment) == 0)
					in->values[i].environment_id = envs[j].id;
			if (in->values[i].environment_id == NULL) {
				unknown_environment(rq, rs,
						    arena_printf(rq->arena, "values.%s",
								 in->values[i].environment));
				return 1;
			}
		}
	}
	if (in->folder_id != NULL) {
		struct folder f;

		if (strlen(in->folder_id) <= ID_MAX &&
		    (*st = folders_get(rq->arena, rq->actor.org_id, project_id, in->folder_id,
				       &f)) != DB_OK) {
			if (*st != DB_INVALID)
				return 0;
			f.id = NULL;
			*st = DB_OK;
		}
		if (strlen(in->folder_id) > ID_MAX || f.id == NULL) {
			http_error(rs, 422, "UNKNOWN_FOLDER", "No such folder in this project",
				   "folderId");
			return 1;
		}
	}
	return 0;
}

/* The secret as it is now, its values without plaintext. */
static enum db_status
reload(struct request *rq, const char *project_id, const char *id, struct secret *s)
{
	enum db_status st;

	if ((st = secrets_get(rq->arena, rq->actor.org_id, project_id, id, 0, s)) != DB_OK)
		return st;
	if (s->id == NULL)
		return DB_ERROR;
	return secrets_load_values(rq->arena, rq->actor.org_id, s, 1, NULL, 0);
}

/* ----------------------------------------------------------- the list */

struct list_ctx {
	const char *project_id, *folder_id, *environment, *cursor;
	int limit, reveal;
	struct secret *items;
	int n;
	const char *next;
};

static enum db_status
list_body(struct request *rq, struct response *rs, void *c)
{
	struct list_ctx *x = c;
	struct project p;
	struct environment e;
	enum db_status st;
	cJSON *meta;

	x->n = 0;
	if ((st = projects_get(rq->arena, rq->actor.org_id, x->project_id, &p)) != DB_OK)
		return st;
	if (p.id == NULL) {
		no_project(rs);
		return DB_OK;
	}
	e.id = NULL;
	if (x->environment != NULL) {
		if ((st = environments_get(rq->arena, rq->actor.org_id, p.id, x->environment,
					   &e)) != DB_OK && st != DB_INVALID)
			return st;
		if (st != DB_OK || e.id == NULL) {
			unknown_environment(rq, rs, "environment");
			return DB_OK;
		}
	}
	st = secrets_list(rq->arena, rq->actor.org_id, p.id, x->folder_id, x->limit, x->cursor,
			  x->items, &x->n, &x->next);
	if (st == DB_INVALID) {
		http_error(rs, 400, "VALIDATION_ERROR", "cursor is not valid", "cursor");
		return DB_OK;
	}
	if (st != DB_OK ||
	    (st = secrets_load_values(rq->arena, rq->actor.org_id, x->items, x->n, e.id,
				      x->reveal)) != DB_OK)
		return st;
	if (!x->reveal)
		return DB_OK;
	if (open_values(rq, rs, p.id, x->items, x->n) < 0)
		return DB_OK;
	meta = json_object(rq->arena);
	cJSON_AddTrueToObject(meta, "reveal");
	cJSON_AddNumberToObject(meta, "count", x->n);
	return app_audit(rq, "secret.read", "project", p.id, p.id, x->environment,
			 json_text(rq->arena, meta));
}

/* GET /v1/projects/:projectId/secrets?limit&cursor&folderId&environment
 * &reveal: 200 {items:[Secret],nextCursor}, by key; values carry no value
 * unless reveal=true (needs secret:read; audited secret.read); environment
 * keeps only that environment's values; 400 bad limit, cursor or reveal;
 * 401; 403 NO_ACTIVE_ORGANIZATION, NOT_A_MEMBER, FORBIDDEN (reveal without
 * secret:read); 404 no such project; 422 UNKNOWN_ENVIRONMENT; 500
 * SECRET_UNREADABLE (a stored value does not open), or the audit event
 * could not be written; 503. */
void
res_secrets_list(struct request *rq, struct response *rs)
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
	x.environment = http_query(rq, "environment");
	if (x.environment != NULL && x.environment[0] == '\0')
		x.environment = NULL;
	if ((x.project_id = path_id(rq, "projectId")) == NULL) {
		no_project(rs);
		return;
	}
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
	const char *project_id, *id;
	struct secret s;
};

static enum db_status
get_body(struct request *rq, struct response *rs, void *c)
{
	struct one_ctx *x = c;
	struct project p;
	enum db_status st;
	cJSON *meta;

	if ((st = projects_get(rq->arena, rq->actor.org_id, x->project_id, &p)) != DB_OK)
		return st;
	if (p.id == NULL) {
		no_project(rs);
		return DB_OK;
	}
	if ((st = secrets_get(rq->arena, rq->actor.org_id, p.id, x->id, 0, &x->s)) != DB_OK)
		return st;
	if (x->s.id == NULL) {
		no_secret(rs);
		return DB_OK;
	}
	if ((st = secrets_load_values(rq->arena, rq->actor.org_id, &x->s, 1, NULL, 1)) != DB_OK)
		return st;
	if (open_values(rq, rs, p.id, &x->s, 1) < 0)
		return DB_OK;
	meta = json_object(rq->arena);
	cJSON_AddStringToObject(meta, "key", x->s.key);
	return app_audit(rq, "secret.read", "secret", x->s.id, p.id, NULL, json_text(rq->arena, meta));
}

/* GET /v1/projects/:projectId/secrets/:id: 200 Secret with every
 * environment's value (secret:read; audited secret.read); 401; 403; 404 no
 * such project or secret; 500 SECRET_UNREADABLE, or the audit event could
 * not be written; 503. */
void
res_secrets_get(struct request *rq, struct response *rs)
{
	struct one_ctx x;

	memset(&x, 0, sizeof(x));
	if ((x.project_id = path_id(rq, "projectId")) == NULL) {
		no_project(rs);
		return;
	}
	if ((x.id = path_id(rq, "id")) == NULL) {
		no_secret(rs);
		return;
	}
	if (tx_run(rq, rs, get_body, &x) < 0)
		return;
	answer_secret(rq, rs, 200, &x.s);
}

/* ------------------------------------------------------------- writes */

struct write_ctx {
	const char *project_id, *id;
	struct secret_in in;
	const char *environment; /* rotate */
	struct secret s;
};

/* The audit metadata of a write: key, and the environments written and
 * removed; the one environment concerned, when only one is. */
static const char *
values_meta(struct request *rq, cJSON *meta, const struct secret_in *in, const char **env)
{
	cJSON *w = NULL, *r = NULL;
	int i;

	*env = NULL;
	for (i = 0; i < in->nvalues; i++) {
		const struct value_in *v = &in->values[i];

		if (v->value != NULL) {
			if (w == NULL)
				w = cJSON_AddArrayToObject(meta, "environments");
			cJSON_AddItemToArray(w, cJSON_CreateString(v->environment));
		} else {
			if (r == NULL)
				r = cJSON_AddArrayToObject(meta, "removed");
			cJSON_AddItemToArray(r, cJSON_CreateString(v->environment));
		}
	}
	if (in->nvalues == 1)
		*env = in->values[0].environment;
	return json_text(rq->arena, meta);
}

static enum db_status
create_body(struct request *rq, struct response *rs, void *c)
{
	struct write_ctx *x = c;
	struct project p;
	enum db_status st;
	const char *env, *meta_s;
	cJSON *meta;
	int i, version;

	if ((st = projects_lock(rq->arena, rq->actor.org_id, x->project_id, 0, &p)) != DB_OK)
		return st;
	if (p.id == NULL) {
		no_project(rs);
		return DB_OK;
	}
	if (resolve_refs(rq, rs, p.id, &x->in, &st) || st != DB_OK)
		return st;
	st = secrets_create(rq->arena, rq->actor.org_id, p.id, x->in.key, x->in.folder_id,
			    x->in.note, x->in.tags_json, &x->s);
	if (st == DB_CONFLICT) {
		http_error(rs, 409, "SECRET_EXISTS", "A secret with this key exists in the project",
			   "key");
		return DB_OK;
	}
	if (st != DB_OK)
		return st;
	if (x->s.id == NULL)
		return DB_ERROR;
	for (i = 0; i < x->in.nvalues; i++) {
		const struct value_in *v = &x->in.values[i];

		st = secrets_write_value(rq->arena, rq->actor.org_id, p.id, x->s.id,
					 v->environment_id, rq->actor.user_id, v->value, v->len,
					 &version);
		if (st != DB_OK)
			return st;
	}
	meta = json_object(rq->arena);
	cJSON_AddStringToObject(meta, "key", x->s.key);
	meta_s = values_meta(rq, meta, &x->in, &env);
	/* The audit head's lock last: it serialises the org's events. */
	if ((st = environments_bump_generation(rq->arena, rq->actor.org_id, p.id)) != DB_OK ||
	    (st = app_audit(rq, "secret.created", "secret", x->s.id, p.id, env, meta_s)) !=
		    DB_OK)
		return st;
	return reload(rq, p.id, x->s.id, &x->s);
}

/* POST /v1/projects/:projectId/secrets {key,values?:{<env>:"value"},
 * folderId?,note?,tags?}: 201 Secret (values without their value); every
 * value is version 1 of its environment; audited secret.created; 400 wrong
 * types, a key off the pattern, a value not valid UTF-8; 401; 403; 404 no
 * such project; 409 SECRET_EXISTS (the key is taken in the project); 413;
 * 415; 422 UNKNOWN_ENVIRONMENT, UNKNOWN_FOLDER, VALUE_TOO_LARGE, a long
 * note, too many or bad tags; 500 the audit event could not be written
 * (nothing kept); 503. */
void
res_secrets_create(struct request *rq, struct response *rs)
{
	struct write_ctx x;

	memset(&x, 0, sizeof(x));
	if (read_key(rq, rs, 1, &x.in.key) < 0 || read_values(rq, rs, 0, &x.in) < 0 ||
	    read_folder(rq, rs, &x.in) < 0 || read_note(rq, rs, &x.in) < 0 ||
	    read_tags(rq, rs, &x.in) < 0)
		return;
	if ((x.project_id = path_id(rq, "projectId")) == NULL) {
		no_project(rs);
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
	struct project p;
	struct secret old;
	enum db_status st;
	const char *env, *meta_s;
	cJSON *meta, *fields;
	int i, version, removed, meta_change;

	if ((st = projects_lock(rq->arena, rq->actor.org_id, x->project_id, 0, &p)) != DB_OK)
		return st;
	if (p.id == NULL) {
		no_project(rs);
		return DB_OK;
	}
	/* Writers of one secret serialise here. */
	if ((st = secrets_get(rq->arena, rq->actor.org_id, p.id, x->id, 1, &old)) != DB_OK)
		return st;
	if (old.id == NULL) {
		no_secret(rs);
		return DB_OK;
	}
	if (resolve_refs(rq, rs, p.id, &x->in, &st) || st != DB_OK)
		return st;
	meta = json_object(rq->arena);
	fields = cJSON_AddArrayToObject(meta, "fields");
	meta_change = x->in.key != NULL || x->in.note != NULL || x->in.tags_json != NULL ||
		      x->in.set_folder;
	if (meta_change) {
		st = secrets_update(rq->arena, rq->actor.org_id, p.id, old.id, x->in.key,
				    x->in.note, x->in.tags_json, x->in.set_folder,
				    x->in.folder_id, &x->s);
		if (st == DB_CONFLICT) {
			http_error(rs, 409, "SECRET_EXISTS",
				   "A secret with this key exists in the project", "key");
			return DB_OK;
		}
		if (st != DB_OK)
			return st;
		if (x->s.id == NULL)
			return DB_ERROR;
		if (x->in.key != NULL && strcmp(x->in.key, old.key) != 0) {
			cJSON *k = cJSON_AddObjectToObject(meta, "keyChange");

			cJSON_AddStringToObject(k, "from", old.key);
			cJSON_AddStringToObject(k, "to", x->in.key);
		}
		if (x->in.key != NULL)
			cJSON_AddItemToArray(fields, cJSON_CreateString("key"));
		if (x->in.note != NULL)
			cJSON_AddItemToArray(fields, cJSON_CreateString("note"));
		if (x->in.tags_json != NULL)
			cJSON_AddItemToArray(fields, cJSON_CreateString("tags"));
		if (x->in.set_folder)
			cJSON_AddItemToArray(fields, cJSON_CreateString("folderId"));
	}
	for (i = 0; i < x->in.nvalues; i++) {
		const struct value_in *v = &x->in.values[i];

		if (v->value != NULL)
			st = secrets_write_value(rq->arena, rq->actor.org_id, p.id, old.id,
						 v->environment_id, rq->actor.user_id, v->value,
						 v->len, &version);
		else
			st = secrets_remove_value(rq->arena, rq->actor.org_id, old.id,
						  v->environment_id, &removed);
		if (st != DB_OK)
			return st;
	}
	if (x->in.nvalues > 0)
		cJSON_AddItemToArray(fields, cJSON_CreateString("values"));
	cJSON_AddStringToObject(meta, "key", x->in.key != NULL ? x->in.key : old.key);
	meta_s = values_meta(rq, meta, &x->in, &env);
	if ((st = environments_bump_generation(rq->arena, rq->actor.org_id, p.id)) != DB_OK ||
	    (st = app_audit(rq, "secret.updated", "secret", old.id, p.id, env, meta_s)) !=
		    DB_OK)
		return st;
	return reload(rq, p.id, old.id, &x->s);
}

static enum db_status
read_only_body(struct request *rq, struct response *rs, void *c)
{
	struct write_ctx *x = c;
	struct project p;
	enum db_status st;

	if ((st = projects_get(rq->arena, rq->actor.org_id, x->project_id, &p)) != DB_OK)
		return st;
	if (p.id == NULL) {
		no_project(rs);
		return DB_OK;
	}
	if ((st = secrets_get(rq->arena, rq->actor.org_id, p.id, x->id, 0, &x->s)) != DB_OK)
		return st;
	if (x->s.id == NULL) {
		no_secret(rs);
		return DB_OK;
	}
	return secrets_load_values(rq->arena, rq->actor.org_id, &x->s, 1, NULL, 0);
}

/* PATCH /v1/projects/:projectId/secrets/:id {values?:{<env>:"value"|null},
 * key?,note?,tags?,folderId?}: 200 Secret (values without their value);
 * each value given is a new version of its environment (concurrent writers
 * serialise on the secret; none is lost, no version twice), null removes
 * the environment's value (it inherits then); audited secret.updated; an
 * empty body changes nothing and writes no event; 400; 401; 403; 404 no
 * such project or secret; 409 SECRET_EXISTS (the new key is taken); 413;
 * 415; 422 as for create; 500 the audit event could not be written
 * (nothing kept); 503. */
void
res_secrets_patch(struct request *rq, struct response *rs)
{
	struct write_ctx x;

	memset(&x, 0, sizeof(x));
	if (read_key(rq, rs, 0, &x.in.key) < 0 || read_values(rq, rs, 1, &x.in) < 0 ||
	    read_folder(rq, rs, &x.in) < 0 || read_note(rq, rs, &x.in) < 0 ||
	    read_tags(rq, rs, &x.in) < 0)
		return;
	if ((x.project_id = path_id(rq, "projectId")) == NULL) {
		no_project(rs);
		return;
	}
	if ((x.id = path_id(rq, "id")) == NULL) {
		no_secret(rs);
		return;
	}
	if (x.in.key == NULL && x.in.note == NULL && x.in.tags_json == NULL && !x.in.set_folder &&
	    x.in.nvalues == 0) {
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
	struct project p;
	enum db_status st;
	const char *key;
	cJSON *meta;

	if ((st = projects_lock(rq->arena, rq->actor.org_id, x->project_id, 0, &p)) != DB_OK)
		return st;
	if (p.id == NULL) {
		no_project(rs);
		return DB_OK;
	}
	if ((st = secrets_delete(rq->arena, rq->actor.org_id, p.id, x->id, &key)) != DB_OK)
		return st;
	if (key == NULL) {
		no_secret(rs);
		return DB_OK;
	}
	if ((st = environments_bump_generation(rq->arena, rq->actor.org_id, p.id)) != DB_OK)
		return st;
	meta = json_object(rq->arena);
	cJSON_AddStringToObject(meta, "key", key);
	return app_audit(rq, "secret.deleted", "secret", x->id, p.id, NULL, json_text(rq->arena, meta));
}

/* DELETE /v1/projects/:projectId/secrets/:id: 204, the secret with its
 * values, versions and policy gone (secret:delete; audited
 * secret.deleted); 401; 403; 404 no such project or secret; 500 the audit
 * event could not be written (nothing deleted); 503. */
void
res_secrets_delete(struct request *rq, struct response *rs)
{
	struct write_ctx x;

	memset(&x, 0, sizeof(x));
	if ((x.project_id = path_id(rq, "projectId")) == NULL) {
		no_project(rs);
		return;
	}
	if ((x.id = path_id(rq, "id")) == NULL) {
		no_secret(rs);
		return;
	}
	if (tx_run(rq, rs, delete_body, &x) < 0)
		return;
	http_no_content(rs);
}

static enum db_status
rotate_body(struct request *rq, struct response *rs, void *c)
{
	struct write_ctx *x = c;
	struct project p;
	struct environment e;
	enum db_status st;
	cJSON *meta;

	if ((st = projects_lock(rq->arena, rq->actor.org_id, x->project_id, 0, &p)) != DB_OK)
		return st;
	if (p.id == NULL) {
		no_project(rs);
		return DB_OK;
	}
	if (x->environment != NULL) {
		if ((st = environments_get(rq->arena, rq->actor.org_id, p.id, x->environment,
					   &e)) != DB_OK && st != DB_INVALID)
			return st;
		if (st != DB_OK || e.id == NULL) {
			unknown_environment(rq, rs, "environment");
			return DB_OK;
		}
	}
	if ((st = secrets_rotate(rq->arena, rq->actor.org_id, p.id, x->id, &x->s)) != DB_OK)
		return st;
	if (x->s.id == NULL) {
		no_secret(rs);
		return DB_OK;
	}
	meta = json_object(rq->arena);
	cJSON_AddStringToObject(meta, "key", x->s.key);
	if ((st = app_audit(rq, "secret.rotated", "secret", x->s.id, p.id, x->environment,
			    json_text(rq->arena, meta))) != DB_OK)
		return st;
	return secrets_load_values(rq->arena, rq->actor.org_id, &x->s, 1, NULL, 0);
}

/* POST /v1/projects/:projectId/secrets/:id/rotate {environment?}: 200
 * Secret with lastRotatedAt now (values without their value); a rotation
 * policy's next due date moves to now + its interval; audited
 * secret.rotated (with the environment, when given); 400 environment not a
 * string; 401; 403; 404 no such project or secret; 413; 415; 422
 * UNKNOWN_ENVIRONMENT; 500 the audit event could not be written; 503. */
void
res_secrets_rotate(struct request *rq, struct response *rs)
{
	struct write_ctx x;

	memset(&x, 0, sizeof(x));
	if (json_get_string(rq, rs, "environment", &x.environment, 0, 0) < 0)
		return;
	if ((x.project_id = path_id(rq, "projectId")) == NULL) {
		no_project(rs);
		return;
	}
	if ((x.id = path_id(rq, "id")) == NULL) {
		no_secret(rs);
		return;
	}
	if (tx_run(rq, rs, rotate_body, &x) < 0)
		return;
	answer_secret(rq, rs, 200, &x.s);
}

/* ----------------------------------------------------------- versions */

struct versions_ctx {
	const char *project_id, *id, *environment, *cursor;
	int limit;
	struct secret_version *items;
	int n;
	const char *next;
};

static enum db_status
versions_body(struct request *rq, struct response *rs, void *c)
{
	struct versions_ctx *x = c;
	struct project p;
	struct secret s;
	struct environment e;
	enum db_status st;
	struct buf out;
	cJSON *meta;
	int i;

	x->n = 0;
	if ((st = projects_get(rq->arena, rq->actor.org_id, x->project_id, &p)) != DB_OK)
		return st;
	if (p.id == NULL) {
		no_project(rs);
		return DB_OK;
	}
	if ((st = secrets_get(rq->arena, rq->actor.org_id, p.id, x->id, 0, &s)) != DB_OK)
		return st;
	if (s.id == NULL) {
		no_secret(rs);
		return DB_OK;
	}
	e.id = NULL;
	if (x->environment != NULL) {
		if ((st = environments_get(rq->arena, rq->actor.org_id, p.id, x->environment,
					   &e)) != DB_OK && st != DB_INVALID)
			return st;
		if (st != DB_OK || e.id == NULL) {
			unknown_environment(rq, rs, "environment");
			return DB_OK;
		}
	}
	st = secrets_versions(rq->arena, rq->actor.org_id, s.id, e.id, x->limit, x->cursor,
			      x->items, &x->n, &x->next);
	if (st == DB_INVALID) {
		http_error(rs, 400, "VALIDATION_ERROR", "cursor is not valid", "cursor");
		return DB_OK;
	}
	if (st != DB_OK)
		return st;
	for (i = 0; i < x->n; i++) {
		struct secret_version *v = &x->items[i];

		buf_init(&out, rq->arena);
		st = secrets_open(rq->arena, rq->actor.org_id, p.id, s.id, v->environment_id,
				  v->version, v->sealed, &out);
		if (st != DB_OK) {
			open_failed(rq, rs, st, s.id, v->environment_id, v->version);
			return DB_OK;
		}
		v->value = out.data;
	}
	meta = json_object(rq->arena);
	cJSON_AddStringToObject(meta, "key", s.key);
	cJSON_AddTrueToObject(meta, "versions");
	cJSON_AddNumberToObject(meta, "count", x->n);
	return app_audit(rq, "secret.read", "secret", s.id, p.id, x->environment,
			 json_text(rq->arena, meta));
}

/* GET /v1/projects/:projectId/secrets/:id/versions?environment&limit
 * &cursor: 200 {items:[{version,environment,value,createdAt,createdBy}],
 * nextCursor}, newest first, of one environment or all (secret:read;
 * audited secret.read); 400 bad limit or cursor; 401; 403; 404 no such
 * project or secret; 422 UNKNOWN_ENVIRONMENT; 500 SECRET_UNREADABLE, or
 * the audit event could not be written; 503. */
void
res_secrets_versions(struct request *rq, struct response *rs)
{
	struct versions_ctx x;
	cJSON *arr;
	int i;

	memset(&x, 0, sizeof(x));
	if (http_page(rq, rs, &x.limit, &x.cursor) < 0)
		return;
	x.environment = http_query(rq, "environment");
	if (x.environment != NULL && x.environment[0] == '\0')
		x.environment = NULL;
	if ((x.project_id = path_id(rq, "projectId")) == NULL) {
		no_project(rs);
		return;
	}
	if ((x.id = path_id(rq, "id")) == NULL) {
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
		cJSON_AddStringToObject(o, "environment", x.items[i].environment);
		cJSON_AddStringToObject(o, "value", x.items[i].value);
		cJSON_AddStringToObject(o, "createdAt", x.items[i].created_at);
		cJSON_AddStringToObject(o, "createdBy", x.items[i].created_by);
		cJSON_AddItemToArray(arr, o);
	}
	http_list(rq, rs, arr, x.next);
}

/* ---------------------------------------------------- rotation policy */

struct policy_ctx {
	const char *project_id, *id;
	int days, created;
	struct secret s;
	struct secret_policy pol;
};

static void
answer_policy(struct request *rq, struct response *rs, int status, const struct policy_ctx *x)
{
	cJSON *o = json_object(rq->arena);

	cJSON_AddNumberToObject(o, "intervalDays", x->pol.interval_days);
	cJSON_AddStringToObject(o, "nextDueAt", x->pol.next_due_at);
	json_add_nullable(o, "lastRotatedAt", x->s.last_rotated_at);
	http_json(rs, status, o);
}

/* The project and the secret (locked when lock); 1 answered. */
static int
policy_target(struct request *rq, struct response *rs, struct policy_ctx *x, int lock,
	      struct project *p, enum db_status *st)
{
	*st = lock ? projects_lock(rq->arena, rq->actor.org_id, x->project_id, 0, p)
		   : projects_get(rq->arena, rq->actor.org_id, x->project_id, p);
	if (*st != DB_OK)
		return 0;
	if (p->id == NULL) {
		no_project(rs);
		return 1;
	}
	if ((*st = secrets_get(rq->arena, rq->actor.org_id, p->id, x->id, lock, &x->s)) != DB_OK)
		return 0;
	if (x->s.id == NULL) {
		no_secret(rs);
		return 1;
	}
	return 0;
}

static void
no_policy(struct response *rs)
{
	http_error(rs, 404, "NOT_FOUND", "This secret has no rotation policy", NULL);
}

static enum db_status
policy_get_body(struct request *rq, struct response *rs, void *c)
{
	struct policy_ctx *x = c;
	struct project p;
	enum db_status st;

	if (policy_target(rq, rs, x, 0, &p, &st) || st != DB_OK)
		return st;
	if ((st = secrets_policy_get(rq->arena, rq->actor.org_id, x->s.id, &x->pol)) != DB_OK)
		return st;
	if (x->pol.interval_days == 0)
		no_policy(rs);
	return DB_OK;
}

/* GET /v1/projects/:projectId/secrets/:id/rotation-policy: 200
 * {intervalDays,nextDueAt,lastRotatedAt} (secret:list); 401; 403; 404 no
 * such project or secret, or no policy; 503. */
void
res_secrets_policy_get(struct request *rq, struct response *rs)
{
	struct policy_ctx x;

	memset(&x, 0, sizeof(x));
	if ((x.project_id = path_id(rq, "projectId")) == NULL) {
		no_project(rs);
		return;
	}
	if ((x.id = path_id(rq, "id")) == NULL) {
		no_secret(rs);
		return;
	}
	if (tx_run(rq, rs, policy_get_body, &x) < 0)
		return;
	answer_policy(rq, rs, 200, &x);
}

static enum db_status
policy_set_body(struct request *rq, struct response *rs, void *c)
{
	struct policy_ctx *x = c;
	struct project p;
	struct secret_policy old;
	enum db_status st;
	cJSON *meta;

	if (policy_target(rq, rs, x, 1, &p, &st) || st != DB_OK)
		return st;
	if ((st = secrets_policy_get(rq->arena, rq->actor.org_id, x->s.id, &old)) != DB_OK ||
	    (st = secrets_policy_set(rq->arena, rq->actor.org_id, x->s.id, x->days, &x->pol)) !=
		    DB_OK)
		return st;
	if (x->pol.interval_days == 0)
		return DB_ERROR;
	x->created = old.interval_days == 0;
	meta = json_object(rq->arena);
	cJSON_AddStringToObject(meta, "key", x->s.key);
	cJSON_AddNumberToObject(meta, "intervalDays", x->days);
	if (!x->created)
		cJSON_AddNumberToObject(meta, "previousIntervalDays", old.interval_days);
	return app_audit(rq, "rotation_policy.set", "secret", x->s.id, p.id, NULL,
			 json_text(rq->arena, meta));
}

/* POST /v1/projects/:projectId/secrets/:id/rotation-policy {intervalDays}:
 * 201 {intervalDays,nextDueAt,lastRotatedAt} when new, 200 when replaced
 * (rotation_policy:write); next due intervalDays after the last rotation,
 * or the creation; audited rotation_policy.set; 400 intervalDays missing
 * or not a number; 401; 403; 404 no such project or secret; 413; 415; 422
 * intervalDays not an integer from 1 to 3650; 500 the audit event could not
 * be written; 503. */
void
res_secrets_policy_set(struct request *rq, struct response *rs)
{
	struct policy_ctx x;
	cJSON *v = rq->json != NULL ? cJSON_GetObjectItemCaseSensitive(rq->json, "intervalDays")
				    : NULL;

	memset(&x, 0, sizeof(x));
	if (v == NULL || cJSON_IsNull(v)) {
		http_error(rs, 400, "VALIDATION_ERROR", "intervalDays is required", "intervalDays");
		return;
	}
	if (!cJSON_IsNumber(v)) {
		http_error(rs, 400, "VALIDATION_ERROR", "intervalDays must be a number",
			   "intervalDays");
		return;
	}
	if (!(v->valuedouble >= 1 && v->valuedouble <= SECRET_POLICY_DAYS_MAX) ||
	    v->valuedouble != (double)(int)v->valuedouble) {
		http_error(rs, 422, "VALIDATION_ERROR",
			   "intervalDays must be an integer from 1 to 3650", "intervalDays");
		return;
	}
	x.days = (int)v->valuedouble;
	if ((x.project_id = path_id(rq, "projectId")) == NULL) {
		no_project(rs);
		return;
	}
	if ((x.id = path_id(rq, "id")) == NULL) {
		no_secret(rs);
		return;
	}
	if (tx_run(rq, rs, policy_set_body, &x) < 0)
		return;
	answer_policy(rq, rs, x.created ? 201 : 200, &x);
}

static enum db_status
policy_delete_body(struct request *rq, struct response *rs, void *c)
{
	struct policy_ctx *x = c;
	struct project p;
	enum db_status st;
	cJSON *meta;
	int deleted;

	if (policy_target(rq, rs, x, 1, &p, &st) || st != DB_OK)
		return st;
	if ((st = secrets_policy_get(rq->arena, rq->actor.org_id, x->s.id, &x->pol)) != DB_OK ||
	    (st = secrets_policy_delete(rq->arena, rq->actor.org_id, x->s.id, &deleted)) !=
		    DB_OK)
		return st;
	if (!deleted) {
		no_policy(rs);
		return DB_OK;
	}
	meta = json_object(rq->arena);
	cJSON_AddStringToObject(meta, "key", x->s.key);
	cJSON_AddNumberToObject(meta, "intervalDays", x->pol.interval_days);
	return app_audit(rq, "rotation_policy.deleted", "secret", x->s.id, p.id, NULL,
			 json_text(rq->arena, meta));
}

/* DELETE /v1/projects/:projectId/secrets/:id/rotation-policy: 204
 * (rotation_policy:write; audited rotation_policy.deleted); 401; 403; 404
 * no such project or secret, or no policy; 500 the audit event could not
 * be written; 503. */
void
res_secrets_policy_delete(struct request *rq, struct response *rs)
{
	struct policy_ctx x;

	memset(&x, 0, sizeof(x));
	if ((x.project_id = path_id(rq, "projectId")) == NULL) {
		no_project(rs);
		return;
	}
	if ((x.id = path_id(rq, "id")) == NULL) {
		no_secret(rs);
		return;
	}
	if (tx_run(rq, rs, policy_delete_body, &x) < 0)
		return;
	http_no_content(rs);
}

/* ------------------------------------------------------ export, import */

struct export_tx {
	struct project p;
	const char *env;
	struct environment *order;
	int norder;
	struct secret_resolved *items;
	size_t n;
	const char *format;
};

static enum db_status
export_body(struct request *rq, struct response *rs, void *ctx)
{
	struct export_tx *x = ctx;
	enum db_status st;
	cJSON *m;

	if ((st = environments_resolution_order(rq->arena, rq->actor.org_id, x->p.id, x->env,
						&x->order, &x->norder)) != DB_OK)
		return st;
	if (x->norder == 0) {
		unknown_environment(rq, rs, "environment");
		return DB_OK;
	}
	st = secrets_resolve(rq->arena, rq->actor.org_id, x->p.id, x->order, x->norder, &x->items,
			     &x->n);
	if (st == DB_INVALID) {
		open_failed(rq, rs, st, "(export)", x->order[0].id, 0);
		return DB_OK;
	}
	if (st != DB_OK)
		return st;
	/* An export reveals every value of the environment: audited. */
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "format", x->format);
	cJSON_AddNumberToObject(m, "count", (double)x->n);
	st = app_audit(rq, "secret.exported", "environment", x->order[0].id, x->p.id, x->env,
		       json_text(rq->arena, m));
	cJSON_Delete(m);
	return st;
}

/* GET /v1/projects/:projectId/secrets/export?environment=E&format=dotenv|shell|json:
 * 200 the resolved environment (inherited values included) in the format
 * (API.md §5), audited as secret.exported; 400 missing environment or
 * unknown format; 401; 403 (secret:export); 404 no such project; 422
 * UNKNOWN_ENVIRONMENT; 500 SECRET_UNREADABLE or the audit event could not
 * be written; 503. */
void
res_secrets_export(struct request *rq, struct response *rs)
{
	struct export_tx x;
	struct dotenv_pair *pairs;
	struct buf out;
	size_t i;
	int rc;

	memset(&x, 0, sizeof(x));
	x.env = http_query(rq, "environment");
	x.format = http_query(rq, "format");
	if (x.format == NULL)
		x.format = "dotenv";
	if (x.env == NULL || x.env[0] == '\0' || strlen(x.env) > 64) {
		http_error(rs, 400, "VALIDATION_ERROR", "environment is required", "environment");
		return;
	}
	if (strcmp(x.format, "dotenv") != 0 && strcmp(x.format, "shell") != 0 &&
	    strcmp(x.format, "json") != 0) {
		http_error(rs, 400, "VALIDATION_ERROR", "format must be dotenv, shell or json",
			   "format");
		return;
	}
	if (app_project(rq, rs, 0, &x.p) < 0 || tx_run(rq, rs, export_body, &x) < 0)
		return;
	pairs = arena_alloc(rq->arena, (x.n + 1) * sizeof(*pairs));
	for (i = 0; i < x.n; i++) {
		pairs[i].key = x.items[i].key;
		pairs[i].value = x.items[i].value;
		pairs[i].value_len = x.items[i].value_len;
	}
	buf_init(&out, rq->arena);
	if (x.format[0] == 'j')
		rc = dotenv_write_json(&out, pairs, x.n);
	else if (x.format[0] == 's')
		rc = dotenv_write_shell(&out, pairs, x.n);
	else
		rc = dotenv_write_dotenv(&out, pairs, x.n);
	if (rc < 0) {
		http_error(rs, 500, "INTERNAL_ERROR", "A stored value cannot be written in this format",
			   NULL);
		return;
	}
	http_header(rs, "Cache-Control", "no-store");
	rs->status = 200;
	rs->content_type = x.format[0] == 'j' ? "application/json" : "text/plain; charset=utf-8";
	rs->body = out;
	rs->done = 1;
}

struct import_tx {
	struct project p;
	const char *env;
	struct environment e;
	struct dotenv_pair *pairs;
	size_t n;
	int created, updated, unchanged;
};

static enum db_status
import_body(struct request *rq, struct response *rs, void *ctx)
{
	struct import_tx *x = ctx;
	enum secrets_import_result res;
	enum db_status st;
	size_t i;
	cJSON *m;

	x->created = x->updated = x->unchanged = 0;
	for (i = 0; i < x->n; i++) {
		st = secrets_import_one(rq->arena, rq->actor.org_id, x->p.id, x->e.id,
					rq->actor.user_id, x->pairs[i].key, x->pairs[i].value,
					x->pairs[i].value_len, &res);
		if (st == DB_INVALID) {
			open_failed(rq, rs, st, x->pairs[i].key, x->e.id, 0);
			return DB_OK;
		}
		if (st != DB_OK)
			return st;
		x->created += res == SECRETS_CREATED;
		x->updated += res == SECRETS_UPDATED;
		x->unchanged += res == SECRETS_UNCHANGED;
	}
	if (x->created + x->updated > 0 &&
	    (st = environments_bump_generation(rq->arena, rq->actor.org_id, x->p.id)) != DB_OK)
		return st;
	m = cJSON_CreateObject();
	cJSON_AddNumberToObject(m, "created", x->created);
	cJSON_AddNumberToObject(m, "updated", x->updated);
	cJSON_AddNumberToObject(m, "unchanged", x->unchanged);
	st = app_audit(rq, "secret.imported", "environment", x->e.id, x->p.id, x->env,
		       json_text(rq->arena, m));
	cJSON_Delete(m);
	return st;
}

/* POST /v1/projects/:projectId/secrets/import?environment=E with a dotenv
 * body (text/plain, or JSON {content}): 200 {created,updated,unchanged};
 * every change a new version, all in one transaction, audited as
 * secret.imported; 400 missing environment or content; 401; 403
 * (secret:import); 404 no such project; 415; 422 INVALID_DOTENV naming the
 * malformed line (nothing written), UNKNOWN_ENVIRONMENT; 500 the audit
 * event could not be written; 503. */
void
res_secrets_import(struct request *rq, struct response *rs)
{
	struct import_tx x;
	const char *text = rq->body, *why = NULL;
	size_t len = rq->body_len;
	int bad_line = 0;
	enum db_status st;
	cJSON *o;

	memset(&x, 0, sizeof(x));
	x.env = http_query(rq, "environment");
	if (x.env == NULL || x.env[0] == '\0' || strlen(x.env) > 64) {
		http_error(rs, 400, "VALIDATION_ERROR", "environment is required", "environment");
		return;
	}
	if (rq->json != NULL) {
		if (json_get_string(rq, rs, "content", &text, 1, 0) < 0)
			return;
		len = strlen(text);
	} else if (text == NULL) {
		text = "";
	}
	if (dotenv_parse(rq->arena, text, len, &x.pairs, &x.n, &bad_line, &why) < 0) {
		http_error(rs, 422, "INVALID_DOTENV",
			   arena_printf(rq->arena, "Line %d: %s", bad_line, why != NULL ? why : "malformed"),
			   "content");
		return;
	}
	if (app_project(rq, rs, 0, &x.p) < 0)
		return;
	if ((st = environments_get(rq->arena, rq->actor.org_id, x.p.id, x.env, &x.e)) != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	if (x.e.id == NULL) {
		unknown_environment(rq, rs, "environment");
		return;
	}
	if (tx_run(rq, rs, import_body, &x) < 0)
		return;
	o = json_object(rq->arena);
	cJSON_AddNumberToObject(o, "created", x.created);
	cJSON_AddNumberToObject(o, "updated", x.updated);
	cJSON_AddNumberToObject(o, "unchanged", x.unchanged);
	http_json(rs, 200, o);
}
