/*
 * Folders (REFERENCE.md "Folders", API.md §4): a project's tree of folders.
 * Folder {id,name,parentId,path}, path "/a/b". Names are 1..128 characters
 * without '/' or control characters (not "." or ".."), unique among
 * siblings. Structural changes of one project's folders are serialised
 * (lib: folders_serialize), so moves cannot make a cycle together.
 */
#include <string.h>

#include "app.h"

static cJSON *
folder_json(cJSON *o, const struct folder *f)
{
	cJSON_AddStringToObject(o, "id", f->id);
	cJSON_AddStringToObject(o, "name", f->name);
	json_add_nullable(o, "parentId", f->parent_id);
	cJSON_AddStringToObject(o, "path", f->path);
	return o;
}

static void
answer_folder(struct request *rq, struct response *rs, int status, const struct folder *f)
{
	http_json(rs, status, folder_json(json_object(rq->arena), f));
}

static void
folder_not_found(struct response *rs)
{
	http_error(rs, 404, "NOT_FOUND", "No such folder", NULL);
}

static void
parent_not_found(struct response *rs)
{
	http_error(rs, 404, "NOT_FOUND", "No such parent folder in this project", "parentId");
}

static void
name_taken(struct response *rs)
{
	http_error(rs, 409, "FOLDER_EXISTS", "A folder with that name is already there", "name");
}

/* name (required or not) under the folder rules; -1 with a 400 answered. */
static int
read_name(struct request *rq, struct response *rs, int required, const char **out)
{
	if (app_read_text(rq, rs, "name", required, FOLDER_NAME_MAX, 0, out) < 0)
		return -1;
	if (*out != NULL &&
	    (strchr(*out, '/') != NULL || strcmp(*out, ".") == 0 || strcmp(*out, "..") == 0)) {
		http_error(rs, 400, "VALIDATION_ERROR",
			   "name must not contain '/' nor be '.' or '..'", "name");
		return -1;
	}
	return 0;
}

/* parentId: absent (*present 0), null (the top) or a string; -1 with a 400
 * answered. */
static int
read_parent(struct request *rq, struct response *rs, int *present, const char **out)
{
	cJSON *v = rq->json ? cJSON_GetObjectItemCaseSensitive(rq->json, "parentId") : NULL;

	*present = 0;
	*out = NULL;
	if (v == NULL)
		return 0;
	*present = 1;
	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v)) {
		http_error(rs, 400, "VALIDATION_ERROR", "parentId must be a string or null",
			   "parentId");
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

/* GET /v1/projects/:projectId/folders: 200 {items:[Folder], nextCursor:null}
 * in path order (project:read); 401; 403; 404 (another org's project too);
 * 503. */
void
res_folders_list(struct request *rq, struct response *rs)
{
	struct project p;
	struct folder *items;
	int n, i;
	enum db_status st;
	cJSON *arr;

	if (app_project(rq, rs, 0, &p) < 0)
		return;
	if ((st = folders_list(rq->arena, rq->actor.org_id, p.id, &items, &n)) != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	arr = cJSON_CreateArray();
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, folder_json(cJSON_CreateObject(), &items[i]));
	http_list(rq, rs, arr, NULL);
}

/* {"path":…} plus more members, for audit metadata. */
static void
meta_path(struct buf *b, const char *path)
{
	buf_puts(b, "{\"path\":");
	buf_json_string(b, path, strlen(path));
}

/* POST /v1/projects/:projectId/folders {name, parentId?}: 201 Folder
 * (folder:write); 400 wrong types, bad name; 401; 403; 404 the project
 * (another org's too), or parentId not a folder of the project (field
 * parentId); 409 FOLDER_EXISTS (a sibling has the name); 413; 415; 500
 * when the audit event cannot be written (nothing is kept); 503. */
void
res_folders_create(struct request *rq, struct response *rs)
{
	const char *name = NULL, *parent = NULL;
	struct project p;
	struct folder f;
	struct buf meta;
	int has_parent;
	enum db_status st;

	if (read_name(rq, rs, 1, &name) < 0 || read_parent(rq, rs, &has_parent, &parent) < 0)
		return;
	if (tx_begin(rs) < 0 || app_project(rq, rs, 1, &p) < 0)
		return;
	if ((st = folders_serialize(rq->arena, p.id)) != DB_OK ||
	    (st = folders_create(rq->arena, rq->actor.org_id, p.id, parent, name, &f)) != DB_OK) {
		if (st == DB_CONFLICT) {
			db_rollback();
			name_taken(rs);
			return;
		}
		tx_fail(rs, st);
		return;
	}
	if (f.id == NULL) {
		db_rollback();
		parent_not_found(rs);
		return;
	}
	buf_init(&meta, rq->arena);
	meta_path(&meta, f.path);
	buf_puts(&meta, ",\"parentId\":");
	if (f.parent_id != NULL)
		buf_json_string(&meta, f.parent_id, strlen(f.parent_id));
	else
		buf_puts(&meta, "null");
	buf_putc(&meta, '}');
	if ((st = app_audit(rq, "folder.created", "folder", f.id, p.id, NULL, meta.data)) !=
	    DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (tx_commit(rs) < 0)
		return;
	answer_folder(rq, rs, 201, &f);
}

/* PATCH /v1/projects/:projectId/folders/:id {name?, parentId?}: 200 Folder
 * renamed and/or moved (parentId null: to the top) (folder:write); an
 * empty body changes nothing and writes no event; 400 wrong types, bad
 * name; 401; 403; 404 the project or folder (another org's too), or
 * parentId not a folder of the project (field parentId); 409 FOLDER_EXISTS;
 * 413; 415; 422 FOLDER_CYCLE (under itself or a descendant); 500 when the
 * audit event cannot be written (nothing is kept); 503. */
void
res_folders_patch(struct request *rq, struct response *rs)
{
	const char *name = NULL, *parent = NULL, *id = http_param(rq, "id");
	struct project p;
	struct folder old, f, pf;
	struct buf meta;
	int has_parent, within;
	enum db_status st;

	if (read_name(rq, rs, 0, &name) < 0 || read_parent(rq, rs, &has_parent, &parent) < 0)
		return;
	if (tx_begin(rs) < 0 || app_project(rq, rs, 1, &p) < 0)
		return;
	if ((st = folders_serialize(rq->arena, p.id)) != DB_OK ||
	    (st = folders_get(rq->arena, rq->actor.org_id, p.id, id, &old)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (old.id == NULL) {
		db_rollback();
		folder_not_found(rs);
		return;
	}
	if (name == NULL && !has_parent) {
		db_rollback();
		answer_folder(rq, rs, 200, &old);
		return;
	}
	if (parent != NULL) {
		if ((st = folders_get(rq->arena, rq->actor.org_id, p.id, parent, &pf)) != DB_OK ||
		    (pf.id != NULL && (st = folders_is_within(rq->arena, rq->actor.org_id, old.id,
							       pf.id, &within)) != DB_OK)) {
			tx_fail(rs, st);
			return;
		}
		if (pf.id == NULL) {
			db_rollback();
			parent_not_found(rs);
			return;
		}
		if (within) {
			db_rollback();
			http_error(rs, 422, "FOLDER_CYCLE",
				   "A folder cannot move under itself or one of its descendants",
				   "parentId");
			return;
		}
		parent = pf.id;
	}
	st = folders_update(rq->arena, rq->actor.org_id, p.id, old.id, name, has_parent, parent,
			    &f);
	if (st == DB_CONFLICT) {
		db_rollback();
		name_taken(rs);
		return;
	}
	if (st != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (f.id == NULL) {
		db_rollback();
		folder_not_found(rs);
		return;
	}
	/* {"path":{"from":…,"to":…},"name":{…}?,"parentId":{…}?} */
	buf_init(&meta, rq->arena);
	buf_puts(&meta, "{\"path\":{\"from\":");
	buf_json_string(&meta, old.path, strlen(old.path));
	buf_puts(&meta, ",\"to\":");
	buf_json_string(&meta, f.path, strlen(f.path));
	buf_putc(&meta, '}');
	if (name != NULL) {
		buf_puts(&meta, ",\"name\":{\"from\":");
		buf_json_string(&meta, old.name, strlen(old.name));
		buf_puts(&meta, ",\"to\":");
		buf_json_string(&meta, f.name, strlen(f.name));
		buf_putc(&meta, '}');
	}
	if (has_parent) {
		buf_puts(&meta, ",\"parentId\":{\"from\":");
		if (old.parent_id != NULL)
			buf_json_string(&meta, old.parent_id, strlen(old.parent_id));
		else
			buf_puts(&meta, "null");
		buf_puts(&meta, ",\"to\":");
		if (f.parent_id != NULL)
			buf_json_string(&meta, f.parent_id, strlen(f.parent_id));
		else
			buf_puts(&meta, "null");
		buf_putc(&meta, '}');
	}
	buf_putc(&meta, '}');
	if ((st = app_audit(rq, "folder.updated", "folder", f.id, p.id, NULL, meta.data)) !=
	    DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (tx_commit(rs) < 0)
		return;
	answer_folder(rq, rs, 200, &f);
}

/* DELETE /v1/projects/:projectId/folders/:id[?recursive=true]: 204
 * (folder:write); with recursive=true everything below goes too, secrets
 * included; 400 recursive neither true nor false; 401; 403; 404 the
 * project or folder (another org's too); 409 FOLDER_NOT_EMPTY (subfolders
 * or secrets, without recursive=true); 500 when the audit event cannot be
 * written (nothing is deleted); 503. */
void
res_folders_delete(struct request *rq, struct response *rs)
{
	const char *rec = http_query(rq, "recursive"), *id = http_param(rq, "id");
	struct project p;
	struct folder f;
	struct buf meta;
	long subfolders, secrets;
	int recursive = 0, deleted;
	enum db_status st;

	if (rec != NULL) {
		if (strcmp(rec, "true") == 0)
			recursive = 1;
		else if (strcmp(rec, "false") != 0) {
			http_error(rs, 400, "VALIDATION_ERROR", "recursive must be true or false",
				   "recursive");
			return;
		}
	}
	if (tx_begin(rs) < 0 || app_project(rq, rs, 1, &p) < 0)
		return;
	if ((st = folders_serialize(rq->arena, p.id)) != DB_OK ||
	    (st = folders_lock(rq->arena, rq->actor.org_id, p.id, id, &f, &subfolders,
			       &secrets)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (f.id == NULL) {
		db_rollback();
		folder_not_found(rs);
		return;
	}
	if ((subfolders > 0 || secrets > 0) && !recursive) {
		db_rollback();
		http_error(rs, 409, "FOLDER_NOT_EMPTY",
			   arena_printf(rq->arena,
					"The folder holds %ld folder(s) and %ld secret(s); delete "
					"with ?recursive=true to remove them too",
					subfolders, secrets),
			   NULL);
		return;
	}
	buf_init(&meta, rq->arena);
	meta_path(&meta, f.path);
	buf_printf(&meta, ",\"recursive\":%s,\"folders\":%ld,\"secrets\":%ld}",
		   recursive ? "true" : "false", subfolders, secrets);
	if ((st = app_audit(rq, "folder.deleted", "folder", f.id, p.id, NULL, meta.data)) !=
		    DB_OK ||
	    (st = folders_delete(rq->arena, rq->actor.org_id, p.id, f.id, &deleted)) != DB_OK ||
	    (secrets > 0 &&
	     (st = environments_bump_generation(rq->arena, rq->actor.org_id, p.id)) != DB_OK)) {
		tx_fail(rs, st);
		return;
	}
	if (tx_commit(rs) < 0)
		return;
	http_no_content(rs);
}
