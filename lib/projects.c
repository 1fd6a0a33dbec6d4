/*
 * Projects, environments (with inheritance) and folders: the tables of
 * 006_vault.sql. Every statement names the org it works in, so an id of
 * another org is not found, exactly like a missing one. Ids that could not
 * be ours (not 1..64 of [A-Za-z0-9_-]) are not found without asking
 * PostgreSQL.
 */
#include <stdio.h>
#include <string.h>

#include "shush.h"

/* Timestamps leave PostgreSQL already in the API's format. */
#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* The exact sort key of a row, for keyset cursors (microseconds). */
#define KEY(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


/* Cursors: lib/cursor.c. */

/* ------------------------------------------------------------ projects */

#define PROJECT_COLS "p.id, p.name, p.slug, p.description, " ISO("p.created_at")
enum { PC_ID, PC_NAME, PC_SLUG, PC_DESC, PC_CREATED, PC_KEY };

static struct db_stmt st_proj_get = {
	"projects_get",
	"SELECT " PROJECT_COLS " FROM project p WHERE p.org_id = $1 AND p.id = $2",
	2, 0};

static struct db_stmt st_proj_share = {
	"projects_lock_share",
	"SELECT " PROJECT_COLS " FROM project p WHERE p.org_id = $1 AND p.id = $2 FOR SHARE",
	2, 0};

static struct db_stmt st_proj_update = {
	"projects_lock_update",
	"SELECT " PROJECT_COLS " FROM project p WHERE p.org_id = $1 AND p.id = $2 FOR UPDATE",
	2, 0};

static struct db_stmt st_proj_list = {
	"projects_list",
	"SELECT " PROJECT_COLS ", " KEY("p.created_at") " FROM project p WHERE p.org_id = $1 "
	"AND ($2::timestamptz IS NULL OR (p.created_at, p.id) > ($2::timestamptz, $3::text)) "
	"ORDER BY p.created_at, p.id LIMIT $4",
	4, 0};

/* A taken slug inserts nothing and leaves the transaction usable. */
static struct db_stmt st_proj_create = {
	"projects_create",
	"INSERT INTO project AS p (id, org_id, name, slug, description) "
	"VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, slug) DO NOTHING "
	"RETURNING " PROJECT_COLS,
	5, 0};

/* The defaults of a new project: development, staging, production. */
static struct db_stmt st_proj_default_envs = {
	"projects_default_envs",
	"INSERT INTO environment (id, org_id, project_id, slug, name, position) VALUES "
	"($3, $1, $2, 'development', 'Development', 0), "
	"($4, $1, $2, 'staging', 'Staging', 1), "
	"($5, $1, $2, 'production', 'Production', 2)",
	5, 0};

static struct db_stmt st_proj_delete = {
	"projects_delete",
	"WITH d AS (DELETE FROM project WHERE org_id = $1 AND id = $2 RETURNING id) "
	"SELECT d.id, pg_notify('" RUNTIME_NOTIFY_CHANNEL "', d.id) FROM d",
	2, 0};

/* webhooks and integrations: 0 until their tables exist (their issues add
 * them here). apiKeys: the environment keys GET …/api-keys lists. */
static struct db_stmt st_proj_counts = {
	"projects_counts",
	"SELECT (SELECT count(*) FROM secret WHERE org_id = $1 AND project_id = $2), "
	"(SELECT count(*) FROM folder WHERE org_id = $1 AND project_id = $2), "
	"(SELECT count(*) FROM environment WHERE org_id = $1 AND project_id = $2), "
	"(SELECT count(*) FROM api_key WHERE org_id = $1 AND project_id = $2 "
	"AND kind = 'environment')",
	2, 0};

static void
read_project(const struct db_result *r, int row, struct project *p)
{
	p->id = db_get(r, row, PC_ID);
	p->name = db_get(r, row, PC_NAME);
	p->slug = db_get(r, row, PC_SLUG);
	p->description = db_get(r, row, PC_DESC);
	p->created_at = db_get(r, row, PC_CREATED);
}

static enum db_status
project_one(struct arena *a, struct db_stmt *st, const char *org_id, const char *project_id,
	    struct project *p)
{
	struct db_result r;
	const char *params[2] = {org_id, project_id};

	memset(p, 0, sizeof(*p));
	if (!id_plausible(project_id))
		return DB_OK;
	if (db_exec(a, st, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		read_project(&r, 0, p);
	return DB_OK;
}

enum db_status
projects_get(struct arena *a, const char *org_id, const char *project_id, struct project *p)
{
	return project_one(a, &st_proj_get, org_id, project_id, p);
}

enum db_status
projects_lock(struct arena *a, const char *org_id, const char *project_id, int exclusive,
	      struct project *p)
{
	return project_one(a, exclusive ? &st_proj_update : &st_proj_share, org_id, project_id,
			   p);
}

enum db_status
projects_list(struct arena *a, const char *org_id, int limit, const char *cursor,
	      struct project *items, int *n, const char **next)
{
	struct db_result r;
	const char *key = NULL, *id = NULL, *params[4];
	char lim[16];
	int i;

	*n = 0;
	*next = NULL;
	if (limit < 1)
		return DB_INVALID;
	if (cursor != NULL && cursor_decode_stamp(a, cursor, &key, &id) < 0)
		return DB_INVALID;
	snprintf(lim, sizeof(lim), "%d", limit + 1);
	params[0] = org_id;
	params[1] = key;
	params[2] = id;
	params[3] = lim;
	if (db_exec(a, &st_proj_list, params, &r) != DB_OK)
		return r.status;
	*n = r.rows > limit ? limit : r.rows;
	for (i = 0; i < *n; i++)
		read_project(&r, i, &items[i]);
	if (r.rows > limit)
		*next = cursor_encode_stamp(a, db_get(&r, *n - 1, PC_KEY), db_get(&r, *n - 1, PC_ID));
	return DB_OK;
}

enum db_status
projects_create(struct arena *a, const char *org_id, const char *name, const char *slug,
		const char *description, struct project *p, struct environment **envs,
		int *nenvs)
{
	struct db_result r;
	char pid[ID_LEN + 1], e1[ID_LEN + 1], e2[ID_LEN + 1], e3[ID_LEN + 1];
	const char *params[5] = {pid, org_id, name, slug, description};
	const char *eparams[5] = {org_id, pid, e1, e2, e3};
	enum db_status st;

	memset(p, 0, sizeof(*p));
	*envs = NULL;
	*nenvs = 0;
	id_new(pid);
	if (db_exec(a, &st_proj_create, params, &r) != DB_OK)
		return r.status;
	if (r.rows == 0)
		return DB_CONFLICT; /* the slug is taken in the org */
	read_project(&r, 0, p);
	id_new(e1);
	id_new(e2);
	id_new(e3);
	if (db_exec(a, &st_proj_default_envs, eparams, &r) != DB_OK)
		return r.status;
	if ((st = environments_list(a, org_id, p->id, envs, nenvs)) != DB_OK)
		return st;
	return DB_OK;
}

enum db_status
projects_delete(struct arena *a, const char *org_id, const char *project_id, int *deleted)
{
	struct db_result r;
	const char *params[2] = {org_id, project_id};

	*deleted = 0;
	if (!id_plausible(project_id))
		return DB_OK;
	if (db_exec(a, &st_proj_delete, params, &r) != DB_OK)
		return r.status;
	*deleted = r.rows > 0;
	if (*deleted)
		db_world_touch(); /* its keys and environments went with it */
	return DB_OK;
}

static long
to_long(const char *s)
{
	long v = 0;

	for (; s != NULL && *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (*s - '0');
	return v;
}

enum db_status
projects_counts(struct arena *a, const char *org_id, const char *project_id,
		struct project_counts *c)
{
	struct db_result r;
	const char *params[2] = {org_id, project_id};

	memset(c, 0, sizeof(*c));
	if (db_exec(a, &st_proj_counts, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0) {
		c->secrets = to_long(db_get(&r, 0, 0));
		c->folders = to_long(db_get(&r, 0, 1));
		c->environments = to_long(db_get(&r, 0, 2));
		c->api_keys = to_long(db_get(&r, 0, 3));
	}
	return DB_OK;
}

/* -------------------------------------------------------- environments */

/* parents leave as "a,b" (slugs have no commas) and come in the same way. */
#define ENV_COLS "e.id, e.slug, e.name, array_to_string(e.parents, ','), e.position, e.generation"
enum { EC_ID, EC_SLUG, EC_NAME, EC_PARENTS, EC_POS, EC_GEN };

static struct db_stmt st_env_list = {
	"environments_list",
	"SELECT " ENV_COLS " FROM environment e WHERE e.org_id = $1 AND e.project_id = $2 "
	"ORDER BY e.position, e.id",
	2, 0};

static struct db_stmt st_env_list_many = {
	"environments_list_many",
	"SELECT " ENV_COLS ", e.project_id FROM environment e "
	"WHERE e.org_id = $1 AND e.project_id = ANY (string_to_array($2, ',')) "
	"ORDER BY e.project_id, e.position, e.id",
	2, 0};

static struct db_stmt st_env_get = {
	"environments_get",
	"SELECT " ENV_COLS " FROM environment e "
	"WHERE e.org_id = $1 AND e.project_id = $2 AND e.slug = $3",
	3, 0};

static struct db_stmt st_env_create = {
	"environments_create",
	"INSERT INTO environment (id, org_id, project_id, slug, name, parents, position) "
	"SELECT $1, $2, $3, $4, $5, string_to_array($6, ','), $7 "
	"FROM project p WHERE p.org_id = $2 AND p.id = $3 RETURNING id",
	7, 0};

static struct db_stmt st_env_update = {
	"environments_update",
	"UPDATE environment SET name = COALESCE($4, name), "
	"parents = CASE WHEN $5::text IS NULL THEN parents ELSE string_to_array($5, ',') END "
	"WHERE org_id = $1 AND project_id = $2 AND slug = $3",
	5, 0};

static struct db_stmt st_env_bump = {
	"environments_bump",
	"WITH u AS (UPDATE environment SET generation = generation + 1 "
	"WHERE org_id = $1 AND project_id = $2 RETURNING id) "
	"SELECT (SELECT count(*) FROM u), pg_notify('" RUNTIME_NOTIFY_CHANNEL "', 'p:' || $2)",
	2, 0};

/* The key space is shared with other advisory locks: a collision only
 * serialises two unrelated changes. */
static struct db_stmt st_advisory = {
	"projects_advisory",
	"SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
	1, 0};

static struct db_stmt st_env_counts = {
	"environments_secret_counts",
	"SELECT e.slug, (SELECT count(*) FROM secret_value v "
	"WHERE v.org_id = $1 AND v.environment_id = e.id) "
	"FROM environment e WHERE e.org_id = $1 AND e.project_id = $2 "
	"ORDER BY e.position, e.id",
	2, 0};

int
environments_slug_valid(const char *slug)
{
	size_t i, n = strlen(slug);

	if (n < 1 || n > ENV_SLUG_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = slug[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (c != '-' || i == 0 || i + 1 == n))
			return 0;
	}
	return 1;
}

/* "a,b" into an arena array of slugs. */
static void
split_parents(struct arena *a, const char *s, const char ***out, int *n)
{
	size_t i, count = 1;
	const char **v;
	int k = 0;

	*out = NULL;
	*n = 0;
	if (s == NULL || s[0] == '\0')
		return;
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] == ',')
			count++;
	v = arena_alloc(a, count * sizeof(*v));
	while (*s != '\0') {
		size_t len = strcspn(s, ",");

		v[k++] = arena_strndup(a, s, len);
		s += len;
		if (*s == ',')
			s++;
	}
	*out = v;
	*n = k;
}

/* Slugs as "a,b" ("" for none). */
static const char *
join_parents(struct arena *a, const char *const *parents, int n)
{
	struct buf b;
	int i;

	buf_init(&b, a);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		buf_puts(&b, parents[i]);
	}
	return b.data;
}

static void
read_env(struct arena *a, const struct db_result *r, int row, struct environment *e)
{
	e->id = db_get(r, row, EC_ID);
	e->slug = db_get(r, row, EC_SLUG);
	e->name = db_get(r, row, EC_NAME);
	split_parents(a, db_get(r, row, EC_PARENTS), &e->parents, &e->nparents);
	e->position = (int)to_long(db_get(r, row, EC_POS));
	e->generation = to_long(db_get(r, row, EC_GEN));
}

enum db_status
environments_list(struct arena *a, const char *org_id, const char *project_id,
		  struct environment **items, int *n)
{
	struct db_result r;
	const char *params[2] = {org_id, project_id};
	int i;

	*items = NULL;
	*n = 0;
	if (!id_plausible(project_id))
		return DB_OK;
	if (db_exec(a, &st_env_list, params, &r) != DB_OK)
		return r.status;
	if (r.rows == 0)
		return DB_OK;
	*items = arena_alloc(a, (size_t)r.rows * sizeof(**items));
	for (i = 0; i < r.rows; i++)
		read_env(a, &r, i, &(*items)[i]);
	*n = r.rows;
	return DB_OK;
}

enum db_status
environments_list_many(struct arena *a, const char *org_id, const char *const *project_ids,
		       int nprojects, struct environment **items, const char ***project_of, int *n)
{
	struct db_result r;
	const char *params[2];
	struct buf ids;
	int i;

	*items = NULL;
	*project_of = NULL;
	*n = 0;
	buf_init(&ids, a);
	for (i = 0; i < nprojects; i++) {
		if (!id_plausible(project_ids[i]))
			continue; /* ids have no commas */
		if (ids.len > 0)
			buf_putc(&ids, ',');
		buf_puts(&ids, project_ids[i]);
	}
	if (ids.len == 0)
		return DB_OK;
	params[0] = org_id;
	params[1] = ids.data;
	if (db_exec(a, &st_env_list_many, params, &r) != DB_OK)
		return r.status;
	if (r.rows == 0)
		return DB_OK;
	*items = arena_alloc(a, (size_t)r.rows * sizeof(**items));
	*project_of = arena_alloc(a, (size_t)r.rows * sizeof(**project_of));
	for (i = 0; i < r.rows; i++) {
		read_env(a, &r, i, &(*items)[i]);
		(*project_of)[i] = db_get(&r, i, EC_GEN + 1);
	}
	*n = r.rows;
	return DB_OK;
}

enum db_status
environments_get(struct arena *a, const char *org_id, const char *project_id, const char *slug,
		 struct environment *e)
{
	struct db_result r;
	const char *params[3] = {org_id, project_id, slug};

	memset(e, 0, sizeof(*e));
	if (!id_plausible(project_id) || slug == NULL || !environments_slug_valid(slug))
		return DB_OK;
	if (db_exec(a, &st_env_get, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		read_env(a, &r, 0, e);
	return DB_OK;
}

static int
env_index(const struct environment *envs, int n, const char *slug)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(envs[i].slug, slug) == 0)
			return i;
	return -1;
}

/* Depth first from i: the environment, then each parent's walk in order.
 * seen[] marks what is already in order[]. Depth is bounded by n since
 * every call marks a new environment. */
static void
resolve_from(const struct environment *envs, int n, int i, char *seen, int *order, int *k)
{
	int j;

	seen[i] = 1;
	order[(*k)++] = i;
	for (j = 0; j < envs[i].nparents; j++) {
		int p = env_index(envs, n, envs[i].parents[j]);

		if (p >= 0 && !seen[p])
			resolve_from(envs, n, p, seen, order, k);
	}
}

int
environments_resolve(const struct environment *envs, int n, int start, int *order)
{
	char seen_small[ENV_MAX], *seen = seen_small;
	int k = 0;

	if (start < 0 || start >= n)
		return 0;
	if (n > ENV_MAX) {
		/* More than a PATCH allows: only a hand-edited database. */
		static char seen_big[4096];

		if (n > (int)sizeof(seen_big))
			return 0;
		seen = seen_big;
	}
	memset(seen, 0, (size_t)n);
	resolve_from(envs, n, start, seen, order, &k);
	return k;
}

/* 0 white, 1 on the stack, 2 done; returns an index on a cycle or -1. */
static int
cycle_from(const struct environment *envs, int n, int i, char *color)
{
	int j, c;

	color[i] = 1;
	for (j = 0; j < envs[i].nparents; j++) {
		int p = env_index(envs, n, envs[i].parents[j]);

		if (p < 0)
			continue;
		if (color[p] == 1)
			return p;
		if (color[p] == 0 && (c = cycle_from(envs, n, p, color)) >= 0)
			return c;
	}
	color[i] = 2;
	return -1;
}

int
environments_find_cycle(const struct environment *envs, int n)
{
	char color[4096];
	int i, c;

	if (n <= 0)
		return -1;
	if (n > (int)sizeof(color))
		return 0; /* refuse to judge what no PATCH can make */
	memset(color, 0, (size_t)n);
	for (i = 0; i < n; i++)
		if (color[i] == 0 && (c = cycle_from(envs, n, i, color)) >= 0)
			return c;
	return -1;
}

enum db_status
environments_resolution_order(struct arena *a, const char *org_id, const char *project_id,
			      const char *env_slug, struct environment **order, int *n)
{
	struct environment *envs;
	int count, start, *idx, k, i;
	enum db_status st;

	*order = NULL;
	*n = 0;
	if ((st = environments_list(a, org_id, project_id, &envs, &count)) != DB_OK)
		return st;
	if (count == 0 || env_slug == NULL || (start = env_index(envs, count, env_slug)) < 0)
		return DB_OK;
	idx = arena_alloc(a, (size_t)count * sizeof(*idx));
	k = environments_resolve(envs, count, start, idx);
	*order = arena_alloc(a, (size_t)(k > 0 ? k : 1) * sizeof(**order));
	for (i = 0; i < k; i++)
		(*order)[i] = envs[idx[i]];
	*n = k;
	return DB_OK;
}

enum db_status
environments_bump_generation(struct arena *a, const char *org_id, const char *project_id)
{
	struct db_result r;
	const char *params[2] = {org_id, project_id};

	if (db_exec(a, &st_env_bump, params, &r) != DB_OK)
		return r.status;
	db_world_touch_project(project_id);
	return DB_OK;
}

static enum db_status
advisory(struct arena *a, const char *what, const char *project_id)
{
	struct db_result r;
	const char *params[1] = {arena_printf(a, "%s:%s", what, project_id)};

	return db_exec(a, &st_advisory, params, &r);
}

enum db_status
environments_serialize(struct arena *a, const char *project_id)
{
	return advisory(a, "environments", project_id);
}

enum db_status
environments_create(struct arena *a, const char *org_id, const char *project_id,
		    const char *slug, const char *name, const char *const *parents, int nparents,
		    int position)
{
	struct db_result r;
	char id[ID_LEN + 1], pos[16];
	const char *params[7] = {id, org_id, project_id, slug, name,
				 join_parents(a, parents, nparents), pos};

	id_new(id);
	snprintf(pos, sizeof(pos), "%d", position);
	if (db_exec(a, &st_env_create, params, &r) != DB_OK)
		return r.status;
	return r.rows > 0 ? DB_OK : DB_INVALID; /* the project is gone */
}

enum db_status
environments_update(struct arena *a, const char *org_id, const char *project_id,
		    const char *slug, const char *name, int set_parents,
		    const char *const *parents, int nparents)
{
	struct db_result r;
	const char *params[5] = {org_id, project_id, slug, name,
				 set_parents ? join_parents(a, parents, nparents) : NULL};

	return db_exec(a, &st_env_update, params, &r);
}

enum db_status
environments_secret_counts(struct arena *a, const char *org_id, const char *project_id,
			   const char ***slugs, long **counts, int *n)
{
	struct db_result r;
	const char *params[2] = {org_id, project_id};
	int i;

	*slugs = NULL;
	*counts = NULL;
	*n = 0;
	if (!id_plausible(project_id))
		return DB_OK;
	if (db_exec(a, &st_env_counts, params, &r) != DB_OK)
		return r.status;
	if (r.rows == 0)
		return DB_OK;
	*slugs = arena_alloc(a, (size_t)r.rows * sizeof(**slugs));
	*counts = arena_alloc(a, (size_t)r.rows * sizeof(**counts));
	for (i = 0; i < r.rows; i++) {
		(*slugs)[i] = db_get(&r, i, 0);
		(*counts)[i] = to_long(db_get(&r, i, 1));
	}
	*n = r.rows;
	return DB_OK;
}

/* ------------------------------------------------------------- folders */

/* Folder depth is bounded by the walks below (a cycle cannot be made
 * through this module; the bound keeps a hand-made one from looping). */
#define FOLDER_DEPTH_MAX "256"

/* Every folder of the project with its path, top down. */
#define FOLDER_TREE                                                                        \
	"WITH RECURSIVE t AS (SELECT f.id, f.name, f.parent_id, '/' || f.name AS path, 1 AS d " \
	"FROM folder f WHERE f.org_id = $1 AND f.project_id = $2 AND f.parent_id IS NULL "     \
	"UNION ALL SELECT f.id, f.name, f.parent_id, t.path || '/' || f.name, t.d + 1 "        \
	"FROM folder f JOIN t ON f.parent_id = t.id "                                          \
	"WHERE f.org_id = $1 AND t.d < " FOLDER_DEPTH_MAX ") "

static struct db_stmt st_folder_list = {
	"folders_list",
	FOLDER_TREE "SELECT id, name, parent_id, path FROM t ORDER BY path COLLATE \"C\", id",
	2, 0};

/* One folder, its path built by walking up. */
static struct db_stmt st_folder_get = {
	"folders_get",
	"WITH RECURSIVE up AS (SELECT f.id, f.parent_id, f.name, 0 AS d FROM folder f "
	"WHERE f.org_id = $1 AND f.project_id = $2 AND f.id = $3 "
	"UNION ALL SELECT f.id, f.parent_id, f.name, up.d + 1 FROM folder f "
	"JOIN up ON f.id = up.parent_id WHERE f.org_id = $1 AND up.d < " FOLDER_DEPTH_MAX ") "
	"SELECT f.id, f.name, f.parent_id, "
	"(SELECT '/' || string_agg(name, '/' ORDER BY d DESC) FROM up) "
	"FROM folder f WHERE f.org_id = $1 AND f.project_id = $2 AND f.id = $3",
	3, 0};

/* A missing parent inserts nothing (RETURNING nothing, 0 in the first
 * column); a sibling with the name too (1), leaving the transaction usable. */
static struct db_stmt st_folder_create = {
	"folders_create",
	"WITH parent AS (SELECT $4::text IS NULL OR EXISTS (SELECT 1 FROM folder "
	"WHERE org_id = $2 AND project_id = $3 AND id = $4) AS ok), "
	"ins AS (INSERT INTO folder (id, org_id, project_id, parent_id, name) "
	"SELECT $1, $2, $3, $4, $5 FROM parent WHERE parent.ok "
	"ON CONFLICT (project_id, coalesce(parent_id, ''), name) DO NOTHING RETURNING id) "
	"SELECT (SELECT ok FROM parent), (SELECT id FROM ins)",
	5, 0};

static struct db_stmt st_folder_lock = {
	"folders_lock",
	"SELECT f.id FROM folder f WHERE f.org_id = $1 AND f.project_id = $2 AND f.id = $3 "
	"FOR UPDATE",
	3, 0};

/* Everything below a folder: its subfolders (all levels) and the secrets
 * in it or in them. */
#define FOLDER_BELOW                                                                       \
	"WITH RECURSIVE below AS (SELECT f.id, 0 AS d FROM folder f WHERE f.org_id = $1 AND " \
	"f.id = $2 UNION ALL SELECT f.id, below.d + 1 FROM folder f JOIN below ON "           \
	"f.parent_id = below.id WHERE f.org_id = $1 AND below.d < " FOLDER_DEPTH_MAX ") "

static struct db_stmt st_folder_contents = {
	"folders_contents",
	FOLDER_BELOW "SELECT (SELECT count(*) - 1 FROM below), "
	"(SELECT count(*) FROM secret s WHERE s.org_id = $1 AND s.folder_id IN "
	"(SELECT id FROM below))",
	2, 0};

static struct db_stmt st_folder_within = {
	"folders_within",
	FOLDER_BELOW "SELECT EXISTS (SELECT 1 FROM below WHERE id = $3)",
	3, 0};

static struct db_stmt st_folder_sibling = {
	"folders_sibling",
	"SELECT 1 FROM folder WHERE org_id = $1 AND project_id = $2 AND id <> $3 "
	"AND coalesce(parent_id, '') = coalesce($4, '') AND name = $5",
	5, 0};

static struct db_stmt st_folder_update = {
	"folders_update",
	"UPDATE folder SET name = COALESCE($4, name), "
	"parent_id = CASE WHEN $5::boolean THEN $6::text ELSE parent_id END "
	"WHERE org_id = $1 AND project_id = $2 AND id = $3 RETURNING id",
	6, 0};

static struct db_stmt st_folder_delete = {
	"folders_delete",
	"DELETE FROM folder WHERE org_id = $1 AND project_id = $2 AND id = $3 RETURNING id",
	3, 0};

enum db_status
folders_get(struct arena *a, const char *org_id, const char *project_id, const char *folder_id,
	    struct folder *f)
{
	struct db_result r;
	const char *params[3] = {org_id, project_id, folder_id};

	memset(f, 0, sizeof(*f));
	if (!id_plausible(project_id) || !id_plausible(folder_id))
		return DB_OK;
	if (db_exec(a, &st_folder_get, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0) {
		f->id = db_get(&r, 0, 0);
		f->name = db_get(&r, 0, 1);
		f->parent_id = db_get(&r, 0, 2);
		f->path = db_get(&r, 0, 3);
	}
	return DB_OK;
}

enum db_status
folders_list(struct arena *a, const char *org_id, const char *project_id, struct folder **items,
	     int *n)
{
	struct db_result r;
	const char *params[2] = {org_id, project_id};
	int i;

	*items = NULL;
	*n = 0;
	if (!id_plausible(project_id))
		return DB_OK;
	if (db_exec(a, &st_folder_list, params, &r) != DB_OK)
		return r.status;
	if (r.rows == 0)
		return DB_OK;
	*items = arena_alloc(a, (size_t)r.rows * sizeof(**items));
	for (i = 0; i < r.rows; i++) {
		(*items)[i].id = db_get(&r, i, 0);
		(*items)[i].name = db_get(&r, i, 1);
		(*items)[i].parent_id = db_get(&r, i, 2);
		(*items)[i].path = db_get(&r, i, 3);
	}
	*n = r.rows;
	return DB_OK;
}

enum db_status
folders_serialize(struct arena *a, const char *project_id)
{
	return advisory(a, "folders", project_id);
}

enum db_status
folders_create(struct arena *a, const char *org_id, const char *project_id,
	       const char *parent_id, const char *name, struct folder *f)
{
	struct db_result r;
	char id[ID_LEN + 1];
	const char *params[5] = {id, org_id, project_id, parent_id, name};
	const char *ok;

	memset(f, 0, sizeof(*f));
	if (parent_id != NULL && !id_plausible(parent_id))
		return DB_OK;
	id_new(id);
	if (db_exec(a, &st_folder_create, params, &r) != DB_OK)
		return r.status;
	ok = db_get(&r, 0, 0);
	if (ok == NULL || ok[0] != 't')
		return DB_OK; /* no such parent */
	if (db_is_null(&r, 0, 1))
		return DB_CONFLICT; /* a sibling has the name */
	return folders_get(a, org_id, project_id, id, f);
}

enum db_status
folders_lock(struct arena *a, const char *org_id, const char *project_id, const char *folder_id,
	     struct folder *f, long *subfolders, long *secrets)
{
	struct db_result r;
	const char *params[3] = {org_id, project_id, folder_id};
	enum db_status st;

	memset(f, 0, sizeof(*f));
	*subfolders = *secrets = 0;
	if (!id_plausible(project_id) || !id_plausible(folder_id))
		return DB_OK;
	if (db_exec(a, &st_folder_lock, params, &r) != DB_OK)
		return r.status;
	if (r.rows == 0)
		return DB_OK;
	if ((st = folders_get(a, org_id, project_id, folder_id, f)) != DB_OK)
		return st;
	params[1] = folder_id;
	if (db_exec(a, &st_folder_contents, params, &r) != DB_OK)
		return r.status;
	*subfolders = to_long(db_get(&r, 0, 0));
	*secrets = to_long(db_get(&r, 0, 1));
	return DB_OK;
}

enum db_status
folders_is_within(struct arena *a, const char *org_id, const char *folder_id,
		  const char *candidate, int *yes)
{
	struct db_result r;
	const char *params[3] = {org_id, folder_id, candidate};
	const char *v;

	*yes = 0;
	if (!id_plausible(folder_id) || !id_plausible(candidate))
		return DB_OK;
	if (db_exec(a, &st_folder_within, params, &r) != DB_OK)
		return r.status;
	v = db_get(&r, 0, 0);
	*yes = v != NULL && v[0] == 't';
	return DB_OK;
}

enum db_status
folders_update(struct arena *a, const char *org_id, const char *project_id,
	       const char *folder_id, const char *name, int set_parent, const char *parent_id,
	       struct folder *f)
{
	struct db_result r;
	struct folder cur;
	const char *params[6];
	enum db_status st;

	memset(f, 0, sizeof(*f));
	if ((st = folders_get(a, org_id, project_id, folder_id, &cur)) != DB_OK)
		return st;
	if (cur.id == NULL)
		return DB_OK;
	/* A sibling with the name where the folder ends up: 409, with the
	 * transaction still usable (the unique index would abort it). */
	params[0] = org_id;
	params[1] = project_id;
	params[2] = folder_id;
	params[3] = set_parent ? parent_id : cur.parent_id;
	params[4] = name != NULL ? name : cur.name;
	if (db_exec(a, &st_folder_sibling, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		return DB_CONFLICT;
	params[3] = name;
	params[4] = set_parent ? "true" : "false";
	params[5] = parent_id;
	if (db_exec(a, &st_folder_update, params, &r) != DB_OK)
		return r.status;
	if (r.rows == 0)
		return DB_OK;
	return folders_get(a, org_id, project_id, folder_id, f);
}

enum db_status
folders_delete(struct arena *a, const char *org_id, const char *project_id,
	       const char *folder_id, int *deleted)
{
	struct db_result r;
	const char *params[3] = {org_id, project_id, folder_id};

	*deleted = 0;
	if (!id_plausible(project_id) || !id_plausible(folder_id))
		return DB_OK;
	if (db_exec(a, &st_folder_delete, params, &r) != DB_OK)
		return r.status;
	*deleted = r.rows > 0;
	return DB_OK;
}
