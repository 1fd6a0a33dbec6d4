/*
 * Projects (REFERENCE.md "Projects", API.md §4): list, fetch, create (with
 * the default environments development, staging and production) and delete
 * (cascading to everything in the project). Every query names the actor's
 * org: a project of another org answers exactly like a missing one (404).
 * Every change writes its audit event in its transaction (fail closed).
 */
#include <string.h>

#include <unistr.h>

#include "app.h"

/* A derived slug that clashes gets "-" and this many random characters. */
#define SLUG_SUFFIX_LEN 6
#define SLUG_TRIES 8

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
app_read_text(struct request *rq, struct response *rs, const char *field, int required,
	      size_t max_chars, int multiline, const char **out)
{
	const char *raw = NULL, *why = NULL;
	const unsigned char *p;
	size_t n, i;

	*out = NULL;
	if (json_get_string(rq, rs, field, &raw, required, max_chars * 4) < 0)
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
		why = "must not be empty";
	else if (u8_check(p, n) != NULL)
		why = "must be valid UTF-8";
	else if (u8_mbsnlen(p, n) > max_chars)
		why = arena_printf(rq->arena, "must be at most %zu characters", max_chars);
	else
		for (i = 0; i < n; i++)
			if ((p[i] < 0x20 && !(multiline && (p[i] == '\n' || p[i] == '\t'))) ||
			    p[i] == 0x7f) {
				why = "must not contain control characters";
				break;
			}
	if (why != NULL) {
		http_error(rs, 400, "VALIDATION_ERROR", arena_printf(rq->arena, "%s %s", field, why),
			   field);
		return -1;
	}
	*out = arena_strndup(rq->arena, raw, n);
	return 0;
}

static void
not_found(struct response *rs)
{
	http_error(rs, 404, "NOT_FOUND", "No such project", NULL);
}

int
app_project(struct request *rq, struct response *rs, int lock, struct project *p)
{
	const char *id = http_param(rq, "projectId");
	enum db_status st;

	st = lock ? projects_lock(rq->arena, rq->actor.org_id, id, 0, p)
		  : projects_get(rq->arena, rq->actor.org_id, id, p);
	if (st != DB_OK) {
		if (lock)
			tx_fail(rs, st);
		else
			http_db_error(rs, st);
		return -1;
	}
	if (p->id == NULL) {
		if (lock)
			db_rollback();
		not_found(rs);
		return -1;
	}
	return 0;
}

/* Fills o with Project {id,name,slug,description,createdAt,environments};
 * envs[0..n) are its environments. */
static cJSON *
project_json(cJSON *o, const struct project *p, const struct environment *envs, int n)
{
	cJSON *arr;
	int i;

	cJSON_AddStringToObject(o, "id", p->id);
	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddStringToObject(o, "slug", p->slug);
	json_add_nullable(o, "description", p->description);
	cJSON_AddStringToObject(o, "createdAt", p->created_at);
	arr = cJSON_AddArrayToObject(o, "environments");
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, app_environment_json(&envs[i]));
	return o;
}

static void
answer_project(struct request *rq, struct response *rs, int status, const struct project *p,
	       const struct environment *envs, int n)
{
	http_json(rs, status, project_json(json_object(rq->arena), p, envs, n));
}

/* GET /v1/projects: 200 {items:[Project],nextCursor} (project:read), oldest
 * first, keyset by (createdAt, id); 400 bad limit or cursor; 401; 403
 * NO_ACTIVE_ORGANIZATION, NOT_A_MEMBER; 503. */
void
res_projects_list(struct request *rq, struct response *rs)
{
	struct project *items;
	struct environment *envs;
	const char *cursor, *next, **ids, **owner;
	int limit, n, nenvs, i, j;
	enum db_status st;
	cJSON *arr;

	if (http_page(rq, rs, &limit, &cursor) < 0)
		return;
	items = arena_alloc(rq->arena, (size_t)limit * sizeof(*items));
	st = projects_list(rq->arena, rq->actor.org_id, limit, cursor, items, &n, &next);
	if (st == DB_INVALID) {
		http_error(rs, 400, "VALIDATION_ERROR", "cursor is not valid", "cursor");
		return;
	}
	if (st != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	ids = arena_alloc(rq->arena, (size_t)(n > 0 ? n : 1) * sizeof(*ids));
	for (i = 0; i < n; i++)
		ids[i] = items[i].id;
	if ((st = environments_list_many(rq->arena, rq->actor.org_id, ids, n, &envs, &owner,
					 &nenvs)) != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	arr = cJSON_CreateArray(); /* http_list takes it */
	for (i = 0; i < n; i++) {
		int first = -1, count = 0;

		for (j = 0; j < nenvs; j++)
			if (strcmp(owner[j], items[i].id) == 0) {
				if (first < 0)
					first = j;
				count++;
			}
		cJSON_AddItemToArray(arr, project_json(cJSON_CreateObject(), &items[i],
						       first >= 0 ? &envs[first] : NULL, count));
	}
	http_list(rq, rs, arr, next);
}

/* GET /v1/projects/:projectId: 200 Project (project:read); 401; 403; 404
 * (another org's project too); 503. */
void
res_projects_get(struct request *rq, struct response *rs)
{
	struct project p;
	struct environment *envs;
	int n;
	enum db_status st;

	if (app_project(rq, rs, 0, &p) < 0)
		return;
	if ((st = environments_list(rq->arena, rq->actor.org_id, p.id, &envs, &n)) != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	answer_project(rq, rs, 200, &p, envs, n);
}

/* base, or base + "-" + random lowercase characters, within the slug
 * limits; "project-…" when base is too short. */
static const char *
slug_candidate(struct arena *a, const char *base, int suffixed)
{
	char rnd[SLUG_SUFFIX_LEN + 1];
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
	return n > 0 ? arena_printf(a, "%.*s-%s", (int)n, base, rnd)
		     : arena_printf(a, "project-%s", rnd);
}

static void
slug_taken(struct response *rs)
{
	http_error(rs, 409, "SLUG_TAKEN", "A project of this organization has that slug", "slug");
}

/* POST /v1/projects {name, slug?, description?}: 201 Project with the
 * environments development, staging and production (project:write); the
 * slug is derived from name when absent (a derived slug that is taken or
 * too short gets a random suffix); description null or "" stores null;
 * 400 wrong types, empty or long name (128) or description (1024); 401;
 * 403; 409 SLUG_TAKEN (a given slug taken in the org); 413; 415; 422
 * INVALID_SLUG; 500 when the audit event cannot be written (nothing is
 * kept); 503. */
void
res_projects_create(struct request *rq, struct response *rs)
{
	const char *name = NULL, *slug = NULL, *desc = NULL, *cand;
	char base[ORG_SLUG_MAX + 1];
	struct project p;
	struct environment *envs;
	int nenvs, try;
	enum db_status st;

	if (app_read_text(rq, rs, "name", 1, PROJECT_NAME_MAX, 0, &name) < 0 ||
	    json_get_string(rq, rs, "slug", &slug, 0, 0) < 0)
		return;
	{
		/* "" is no description; the rest follows the text rules. */
		cJSON *d = rq->json ? cJSON_GetObjectItemCaseSensitive(rq->json, "description")
				    : NULL;

		if (!(cJSON_IsString(d) && strspn(d->valuestring, " \t\r\n") ==
						   strlen(d->valuestring)) &&
		    app_read_text(rq, rs, "description", 0, PROJECT_DESCRIPTION_MAX, 1, &desc) < 0)
			return;
	}
	if (slug != NULL && !orgs_slug_valid(slug)) {
		http_error(rs, 422, "INVALID_SLUG",
			   "slug must be 2 to 48 characters of a-z, 0-9 and '-', starting and "
			   "ending with a letter or digit",
			   "slug");
		return;
	}
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
		st = projects_create(rq->arena, rq->actor.org_id, name, cand, desc, &p, &envs,
				     &nenvs);
		if (st != DB_CONFLICT)
			break;
		if (slug != NULL || try + 1 >= SLUG_TRIES) {
			db_rollback();
			slug_taken(rs);
			return;
		}
	}
	if (st != DB_OK ||
	    (st = app_audit(rq, "project.created", "project", p.id, p.id, NULL,
			    json_name_slug(rq->arena, p.name, p.slug))) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (tx_commit(rs) < 0)
		return;
	answer_project(rq, rs, 201, &p, envs, nenvs);
}

/* DELETE /v1/projects/:projectId: 204 (project:write); the project and its
 * environments, folders, secrets and versions are gone; 401; 403; 404
 * (another org's project too); 500 when the audit event cannot be written
 * (nothing is deleted); 503. */
void
res_projects_delete(struct request *rq, struct response *rs)
{
	struct project p;
	enum db_status st;
	int deleted;

	if (tx_begin(rs) < 0)
		return;
	if ((st = projects_lock(rq->arena, rq->actor.org_id, http_param(rq, "projectId"), 1,
				&p)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (p.id == NULL) {
		db_rollback();
		not_found(rs);
		return;
	}
	if ((st = app_audit(rq, "project.deleted", "project", p.id, p.id, NULL,
			    json_name_slug(rq->arena, p.name, p.slug))) != DB_OK ||
	    (st = projects_delete(rq->arena, rq->actor.org_id, p.id, &deleted)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (tx_commit(rs) < 0)
		return;
	http_no_content(rs);
}
