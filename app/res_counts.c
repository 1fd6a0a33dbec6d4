/*
 * Counts (REFERENCE.md "Counts"): what a project holds, for the dashboard.
 * webhooks and integrations are 0 until their tables exist; apiKeys
 * counts the project's environment keys (lib/projects.c: projects_counts).
 */
#include "app.h"

/* GET /v1/projects/:projectId/counts: 200 {secrets, folders, environments,
 * apiKeys, webhooks, integrations} (project:read); 401; 403; 404 (another
 * org's project too); 503. */
void
res_counts_get(struct request *rq, struct response *rs)
{
	struct project p;
	struct project_counts c;
	enum db_status st;
	cJSON *o;

	if (app_project(rq, rs, 0, &p) < 0)
		return;
	if ((st = projects_counts(rq->arena, rq->actor.org_id, p.id, &c)) != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	o = json_object(rq->arena);
	cJSON_AddNumberToObject(o, "secrets", (double)c.secrets);
	cJSON_AddNumberToObject(o, "folders", (double)c.folders);
	cJSON_AddNumberToObject(o, "environments", (double)c.environments);
	cJSON_AddNumberToObject(o, "apiKeys", (double)c.api_keys);
	cJSON_AddNumberToObject(o, "webhooks", (double)c.webhooks);
	cJSON_AddNumberToObject(o, "integrations", (double)c.integrations);
	http_json(rs, 200, o);
}

/* GET /v1/projects/:projectId/env-counts: 200 {items:[{environment,
 * secrets}], nextCursor:null} in position order, secrets counting those
 * with a value set in the environment itself (not inherited)
 * (project:read); 401; 403; 404 (another org's project too); 503. */
void
res_counts_env(struct request *rq, struct response *rs)
{
	struct project p;
	const char **slugs;
	long *counts;
	int n, i;
	enum db_status st;
	cJSON *arr;

	if (app_project(rq, rs, 0, &p) < 0)
		return;
	if ((st = environments_secret_counts(rq->arena, rq->actor.org_id, p.id, &slugs, &counts,
					     &n)) != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	arr = cJSON_CreateArray();
	for (i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "environment", slugs[i]);
		cJSON_AddNumberToObject(o, "secrets", (double)counts[i]);
		cJSON_AddItemToArray(arr, o);
	}
	http_list(rq, rs, arr, NULL);
}
