/*
 * Environments (REFERENCE.md "Environments", API.md §4): list a project's
 * environments and change their names and inheritance. A value missing in
 * an environment is inherited from its parents, in order, recursively
 * (lib/projects.c: environments_resolution_order); a PATCH that would make
 * the graph cyclic is refused whole (422 ENVIRONMENT_CYCLE).
 *
 * PATCH changes only the environments it lists; a listed slug the project
 * does not have yet is created, after the existing ones (name defaulting to
 * the slug, no parents unless given). Environments are never deleted here.
 */
#include <string.h>

#include "app.h"

#define ENV_NAME_MAX 64 /* characters */

cJSON *
app_environment_json(const struct environment *e)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	int i;

	cJSON_AddStringToObject(o, "id", e->id);
	cJSON_AddStringToObject(o, "slug", e->slug);
	cJSON_AddStringToObject(o, "name", e->name);
	arr = cJSON_AddArrayToObject(o, "parents");
	for (i = 0; i < e->nparents; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(e->parents[i]));
	return o;
}

/* 200 {items:[Environment], nextCursor:null} of envs. */
static void
answer_list(struct request *rq, struct response *rs, const struct environment *envs, int n)
{
	cJSON *arr = cJSON_CreateArray();
	int i;

	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, app_environment_json(&envs[i]));
	http_list(rq, rs, arr, NULL);
}

/* GET /v1/projects/:projectId/environments: 200 {items:[Environment],
 * nextCursor:null} in position order (project:read); 401; 403; 404
 * (another org's project too); 503. */
void
res_environments_list(struct request *rq, struct response *rs)
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
	answer_list(rq, rs, envs, n);
}

/* One listed change. */
struct change {
	const char *slug, *name; /* name NULL: unchanged */
	const char **parents;    /* set_parents 0: unchanged */
	int nparents, set_parents;
	cJSON *parents_json;     /* for error fields */
};

/* The field of item i ("environments[i]" + rest; rest may name [j]). */
static const char *
item_field(struct request *rq, int i, const char *rest, int j)
{
	return j < 0 ? arena_printf(rq->arena, "environments[%d]%s", i, rest)
		     : arena_printf(rq->arena, "environments[%d]%s[%d]", i, rest, j);
}

static void
fail_field(struct request *rq, struct response *rs, int status, const char *code,
	   const char *msg, const char *field)
{
	(void)rq;
	http_error(rs, status, code, msg, field);
}

/* Reads {environments:[{slug,name?,parents?}]} into changes; -1 with a
 * 400/422 answered. */
static int
read_changes(struct request *rq, struct response *rs, struct change **out, int *nout)
{
	cJSON *list = rq->json ? cJSON_GetObjectItemCaseSensitive(rq->json, "environments") : NULL;
	cJSON *it;
	struct change *ch;
	int n, i = 0, j, k;

	if (!cJSON_IsArray(list)) {
		http_error(rs, 400, "VALIDATION_ERROR",
			   list == NULL || cJSON_IsNull(list) ? "environments is required"
							      : "environments must be an array",
			   "environments");
		return -1;
	}
	n = cJSON_GetArraySize(list);
	if (n > ENV_MAX) {
		http_error(rs, 422, "TOO_MANY_ENVIRONMENTS",
			   arena_printf(rq->arena, "A project has at most %d environments", ENV_MAX),
			   "environments");
		return -1;
	}
	ch = arena_alloc(rq->arena, (size_t)(n > 0 ? n : 1) * sizeof(*ch));
	cJSON_ArrayForEach(it, list)
	{
		cJSON *slug = cJSON_GetObjectItemCaseSensitive(it, "slug");
		cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
		cJSON *parents = cJSON_GetObjectItemCaseSensitive(it, "parents");
		cJSON *saved = rq->json, *pj;

		if (!cJSON_IsObject(it)) {
			fail_field(rq, rs, 400, "VALIDATION_ERROR", "Each change must be an object",
				   item_field(rq, i, "", -1));
			return -1;
		}
		if (!cJSON_IsString(slug)) {
			fail_field(rq, rs, 400, "VALIDATION_ERROR",
				   slug == NULL || cJSON_IsNull(slug) ? "slug is required"
								      : "slug must be a string",
				   item_field(rq, i, ".slug", -1));
			return -1;
		}
		if (!environments_slug_valid(slug->valuestring)) {
			fail_field(rq, rs, 422, "INVALID_SLUG",
				   "An environment slug is 1 to 48 characters of a-z, 0-9 and '-', "
				   "starting and ending with a letter or digit",
				   item_field(rq, i, ".slug", -1));
			return -1;
		}
		ch[i].slug = slug->valuestring;
		for (k = 0; k < i; k++)
			if (strcmp(ch[k].slug, ch[i].slug) == 0) {
				fail_field(rq, rs, 422, "VALIDATION_ERROR",
					   "An environment is listed twice",
					   item_field(rq, i, ".slug", -1));
				return -1;
			}
		if (name != NULL) {
			/* The text rules of app_read_text, on this item. */
			rq->json = it;
			k = app_read_text(rq, rs, "name", 0, ENV_NAME_MAX, 0, &ch[i].name);
			rq->json = saved;
			if (k < 0) {
				fail_field(rq, rs, 400, "VALIDATION_ERROR",
					   arena_printf(rq->arena,
							"name must be a string of 1 to %d characters "
							"without control characters",
							ENV_NAME_MAX),
					   item_field(rq, i, ".name", -1));
				return -1;
			}
		}
		if (parents != NULL && !cJSON_IsNull(parents)) {
			if (!cJSON_IsArray(parents)) {
				fail_field(rq, rs, 400, "VALIDATION_ERROR",
					   "parents must be an array of slugs",
					   item_field(rq, i, ".parents", -1));
				return -1;
			}
			ch[i].set_parents = 1;
			ch[i].parents_json = parents;
			ch[i].nparents = cJSON_GetArraySize(parents);
			if (ch[i].nparents > ENV_MAX) {
				fail_field(rq, rs, 422, "VALIDATION_ERROR", "Too many parents",
					   item_field(rq, i, ".parents", -1));
				return -1;
			}
			ch[i].parents = arena_alloc(
				rq->arena, (size_t)(ch[i].nparents > 0 ? ch[i].nparents : 1) *
						   sizeof(*ch[i].parents));
			j = 0;
			cJSON_ArrayForEach(pj, parents)
			{
				if (!cJSON_IsString(pj)) {
					fail_field(rq, rs, 400, "VALIDATION_ERROR",
						   "A parent must be a slug (a string)",
						   item_field(rq, i, ".parents", j));
					return -1;
				}
				for (k = 0; k < j; k++)
					if (strcmp(ch[i].parents[k], pj->valuestring) == 0) {
						fail_field(rq, rs, 422, "VALIDATION_ERROR",
							   "A parent is listed twice",
							   item_field(rq, i, ".parents", j));
						return -1;
					}
				if (strcmp(pj->valuestring, ch[i].slug) == 0) {
					fail_field(rq, rs, 422, "ENVIRONMENT_CYCLE",
						   "An environment cannot be its own parent",
						   item_field(rq, i, ".parents", j));
					return -1;
				}
				ch[i].parents[j++] = pj->valuestring;
			}
		}
		i++;
	}
	*out = ch;
	*nout = n;
	return 0;
}

/* The audit metadata: {"changes":[{slug,created,name?,parents?}]}. */
static const char *
changes_json(struct arena *a, const struct change *ch, int n, const char *created)
{
	struct buf b;
	int i, j;

	buf_init(&b, a);
	buf_puts(&b, "{\"changes\":[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		buf_puts(&b, "{\"slug\":");
		buf_json_string(&b, ch[i].slug, strlen(ch[i].slug));
		buf_puts(&b, created[i] ? ",\"created\":true" : ",\"created\":false");
		if (ch[i].name != NULL) {
			buf_puts(&b, ",\"name\":");
			buf_json_string(&b, ch[i].name, strlen(ch[i].name));
		}
		if (ch[i].set_parents) {
			buf_puts(&b, ",\"parents\":[");
			for (j = 0; j < ch[i].nparents; j++) {
				if (j > 0)
					buf_putc(&b, ',');
				buf_json_string(&b, ch[i].parents[j], strlen(ch[i].parents[j]));
			}
			buf_putc(&b, ']');
		}
		buf_putc(&b, '}');
	}
	buf_puts(&b, "]}");
	return b.data;
}

/* PATCH /v1/projects/:projectId/environments {environments:[{slug, name?,
 * parents?}]}: 200 {items:[Environment], nextCursor:null}, all of the
 * project's environments (environment:write). Only the listed environments
 * change; a slug the project lacks is created (after the others). Parents
 * must be slugs of the project (after this change), each once, never the
 * environment itself. Every environment's generation is bumped. An empty
 * list changes nothing and writes no event. 400 wrong types; 401; 403; 404
 * (another org's project too); 413; 415; 422 INVALID_SLUG,
 * UNKNOWN_ENVIRONMENT (a parent that is no environment of the project),
 * ENVIRONMENT_CYCLE (nothing is written), TOO_MANY_ENVIRONMENTS (64),
 * VALIDATION_ERROR (a slug or parent listed twice); 500 when the audit
 * event cannot be written (nothing is kept); 503. */
void
res_environments_patch(struct request *rq, struct response *rs)
{
	struct project p;
	struct change *ch;
	struct environment *envs, *all;
	char *created;
	int nch, n, total, i, j, c, maxpos = -1;
	enum db_status st;

	if (read_changes(rq, rs, &ch, &nch) < 0)
		return;
	if (tx_begin(rs) < 0)
		return;
	if (app_project(rq, rs, 1, &p) < 0)
		return;
	if ((st = environments_serialize(rq->arena, p.id)) != DB_OK ||
	    (st = environments_list(rq->arena, rq->actor.org_id, p.id, &envs, &n)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (nch == 0) {
		db_rollback();
		answer_list(rq, rs, envs, n);
		return;
	}
	/* The graph as it will be: the existing environments changed, the new
	 * ones appended. */
	all = arena_alloc(rq->arena, (size_t)(n + nch) * sizeof(*all));
	memcpy(all, envs, (size_t)n * sizeof(*all));
	created = arena_alloc(rq->arena, (size_t)nch);
	for (i = 0; i < n; i++)
		if (all[i].position > maxpos)
			maxpos = all[i].position;
	total = n;
	for (i = 0; i < nch; i++) {
		struct environment *e = NULL;

		for (j = 0; j < total; j++)
			if (strcmp(all[j].slug, ch[i].slug) == 0)
				e = &all[j];
		if (e == NULL) {
			if (total >= ENV_MAX) {
				db_rollback();
				http_error(rs, 422, "TOO_MANY_ENVIRONMENTS",
					   arena_printf(rq->arena,
							"A project has at most %d environments",
							ENV_MAX),
					   arena_printf(rq->arena, "environments[%d].slug", i));
				return;
			}
			e = &all[total++];
			memset(e, 0, sizeof(*e));
			e->slug = ch[i].slug;
			e->name = ch[i].slug;
			e->position = ++maxpos;
			created[i] = 1;
		}
		if (ch[i].name != NULL)
			e->name = ch[i].name;
		if (ch[i].set_parents) {
			e->parents = ch[i].parents;
			e->nparents = ch[i].nparents;
		}
	}
	for (i = 0; i < nch; i++)
		for (j = 0; j < ch[i].nparents; j++) {
			int found = 0, k;

			for (k = 0; k < total && !found; k++)
				found = strcmp(all[k].slug, ch[i].parents[j]) == 0;
			if (!found) {
				db_rollback();
				http_error(rs, 422, "UNKNOWN_ENVIRONMENT",
					   "A parent is not an environment of the project",
					   arena_printf(rq->arena, "environments[%d].parents[%d]", i,
							j));
				return;
			}
		}
	if ((c = environments_find_cycle(all, total)) >= 0) {
		db_rollback();
		http_error(rs, 422, "ENVIRONMENT_CYCLE",
			   arena_printf(rq->arena,
					"The parents would make a cycle through the environment "
					"'%s'",
					all[c].slug),
			   "environments");
		return;
	}
	for (i = 0; i < nch; i++) {
		const struct environment *e = NULL;

		for (j = 0; j < total; j++)
			if (strcmp(all[j].slug, ch[i].slug) == 0)
				e = &all[j];
		st = created[i] ? environments_create(rq->arena, rq->actor.org_id, p.id, e->slug,
						      e->name, e->parents, e->nparents, e->position)
				: environments_update(rq->arena, rq->actor.org_id, p.id, e->slug,
						      ch[i].name, ch[i].set_parents, e->parents,
						      e->nparents);
		if (st != DB_OK) {
			tx_fail(rs, st);
			return;
		}
	}
	if ((st = environments_bump_generation(rq->arena, rq->actor.org_id, p.id)) != DB_OK ||
	    (st = app_audit(rq, "environment.updated", "project", p.id, p.id, NULL,
			    changes_json(rq->arena, ch, nch, created))) != DB_OK ||
	    (st = environments_list(rq->arena, rq->actor.org_id, p.id, &envs, &n)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (tx_commit(rs) < 0)
		return;
	answer_list(rq, rs, envs, n);
}
