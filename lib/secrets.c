/*
 * Project secrets (006_vault.sql): the secret rows, their per-environment
 * values and versions, rotation policies. Every statement names the org it
 * works in, and the project where the secret is looked up, so an id of
 * another org or project is simply not found.
 *
 * Values are sealed here (keyring_seal) with additional data binding org,
 * project, secret, environment and version; only ciphertext is stored.
 * Writers of a secret serialise on its row lock (secrets_get with lock):
 * the next version of an environment is max(version) + 1 read under that
 * lock, and its timestamps are taken under it too (clock_timestamp()), so
 * versions and their times grow together.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shush.h"

/* Timestamps leave PostgreSQL already in the API's format. */
#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* The exact sort key of a row, for keyset cursors (microseconds). */
#define KEY_US(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
#define NOW_MS "date_trunc('milliseconds', now())"
#define CLOCK_MS "date_trunc('milliseconds', clock_timestamp())"
/* A JSON array of strings ($n) as text[]. */
#define TEXT_ARRAY(p) "ARRAY(SELECT jsonb_array_elements_text(" p "::jsonb))"

#define SECRET_COLS                                                                         \
	"s.id, s.project_id, s.key, s.folder_id, s.note, array_to_json(s.tags)::text, " \
	ISO("s.last_rotated_at") ", " ISO("s.created_at")
enum { SC_ID, SC_PROJECT, SC_KEY, SC_FOLDER, SC_NOTE, SC_TAGS, SC_ROTATED, SC_CREATED, SC__N };

static struct db_stmt st_list = {
	"secrets_list",
	"SELECT " SECRET_COLS " FROM secret s WHERE s.org_id = $1 AND s.project_id = $2 "
	"AND ($3::text IS NULL OR s.folder_id = $3) "
	"AND ($4::text IS NULL OR s.key COLLATE \"C\" > $4::text COLLATE \"C\") "
	"ORDER BY s.key COLLATE \"C\" LIMIT $5::integer",
	5, 0};

static struct db_stmt st_values = {
	"secrets_values",
	"SELECT sv.secret_id, e.id, e.slug, e.position, sv.version, " ISO("sv.updated_at") ", "
	"sv.updated_by, CASE WHEN $4::boolean THEN v.value END "
	"FROM secret_value sv "
	"JOIN environment e ON e.id = sv.environment_id AND e.org_id = sv.org_id "
	"JOIN secret_version v ON v.secret_id = sv.secret_id "
	"AND v.environment_id = sv.environment_id AND v.version = sv.version "
	"WHERE sv.org_id = $1 AND sv.secret_id IN (SELECT jsonb_array_elements_text($2::jsonb)) "
	"AND ($3::text IS NULL OR sv.environment_id = $3) "
	"ORDER BY sv.secret_id, e.position, e.id",
	4, 0};
enum { VC_SECRET, VC_ENV_ID, VC_ENV, VC_POS, VC_VERSION, VC_UPDATED, VC_BY, VC_SEALED };

static struct db_stmt st_get = {
	"secrets_get",
	"SELECT " SECRET_COLS " FROM secret s WHERE s.org_id = $1 AND s.project_id = $2 "
	"AND s.id = $3",
	3, 0};

static struct db_stmt st_lock = {
	"secrets_lock",
	"SELECT " SECRET_COLS " FROM secret s WHERE s.org_id = $1 AND s.project_id = $2 "
	"AND s.id = $3 FOR UPDATE",
	3, 0};

static struct db_stmt st_insert = {
	"secrets_insert",
	"WITH s AS (INSERT INTO secret (id, org_id, project_id, key, folder_id, note, tags) "
	"VALUES ($1, $2, $3, $4, $5, coalesce($6, ''), " TEXT_ARRAY("coalesce($7, '[]')") ") "
	"RETURNING *) SELECT " SECRET_COLS " FROM s",
	7, 0};

static struct db_stmt st_update = {
	"secrets_update",
	"WITH s AS (UPDATE secret SET key = coalesce($4, key), note = coalesce($5, note), "
	"tags = CASE WHEN $6::text IS NULL THEN tags ELSE " TEXT_ARRAY("$6") " END, "
	"folder_id = CASE WHEN $7::boolean THEN $8 ELSE folder_id END, updated_at = " NOW_MS " "
	"WHERE org_id = $1 AND project_id = $2 AND id = $3 RETURNING *) "
	"SELECT " SECRET_COLS " FROM s",
	8, 0};

static struct db_stmt st_next_version = {
	"secrets_next_version",
	"SELECT coalesce(max(version), 0) + 1 FROM secret_version "
	"WHERE org_id = $1 AND secret_id = $2 AND environment_id = $3",
	3, 0};

static struct db_stmt st_put_version = {
	"secrets_put_version",
	"INSERT INTO secret_version (org_id, secret_id, environment_id, version, value, "
	"created_at, created_by) VALUES ($1, $2, $3, $4::integer, $5::bytea, " CLOCK_MS ", $6)",
	6, 0};

static struct db_stmt st_put_value = {
	"secrets_put_value",
	"INSERT INTO secret_value (org_id, secret_id, environment_id, version, updated_at, "
	"updated_by) VALUES ($1, $2, $3, $4::integer, " CLOCK_MS ", $5) "
	"ON CONFLICT (secret_id, environment_id) DO UPDATE SET version = EXCLUDED.version, "
	"updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by "
	"WHERE secret_value.org_id = EXCLUDED.org_id",
	5, 0};

static struct db_stmt st_remove_value = {
	"secrets_remove_value",
	"DELETE FROM secret_value WHERE org_id = $1 AND secret_id = $2 AND environment_id = $3 "
	"RETURNING version",
	3, 0};

static struct db_stmt st_delete = {
	"secrets_delete",
	"DELETE FROM secret WHERE org_id = $1 AND project_id = $2 AND id = $3 RETURNING key",
	3, 0};

static struct db_stmt st_rotate = {
	"secrets_rotate",
	"WITH s AS (UPDATE secret SET last_rotated_at = " NOW_MS " "
	"WHERE org_id = $1 AND project_id = $2 AND id = $3 RETURNING *), "
	"p AS (UPDATE rotation_policy r SET next_due_at = s.last_rotated_at + "
	"make_interval(days => r.interval_days), last_notified_at = NULL, updated_at = " NOW_MS
	" FROM s WHERE r.secret_id = s.id AND r.org_id = s.org_id) "
	"SELECT " SECRET_COLS " FROM s",
	3, 0};

static struct db_stmt st_versions = {
	"secrets_versions",
	"SELECT e.id, e.slug, v.version, " ISO("v.created_at") ", v.created_by, v.value, "
	KEY_US("v.created_at") " "
	"FROM secret_version v JOIN environment e ON e.id = v.environment_id "
	"AND e.org_id = v.org_id "
	"WHERE v.org_id = $1 AND v.secret_id = $2 AND ($3::text IS NULL OR v.environment_id = $3) "
	"AND ($4::timestamptz IS NULL OR (v.created_at, v.version, v.environment_id) < "
	"($4::timestamptz, $5::integer, $6::text)) "
	"ORDER BY v.created_at DESC, v.version DESC, v.environment_id DESC LIMIT $7::integer",
	7, 0};
enum { XC_ENV_ID, XC_ENV, XC_VERSION, XC_CREATED, XC_BY, XC_SEALED, XC_KEY };

static struct db_stmt st_policy_get = {
	"secrets_policy_get",
	"SELECT interval_days, " ISO("next_due_at") " FROM rotation_policy "
	"WHERE org_id = $1 AND secret_id = $2",
	2, 0};

static struct db_stmt st_policy_set = {
	"secrets_policy_set",
	"INSERT INTO rotation_policy (secret_id, org_id, interval_days, next_due_at) "
	"SELECT s.id, s.org_id, $3::integer, coalesce(s.last_rotated_at, s.created_at) + "
	"make_interval(days => $3::integer) FROM secret s WHERE s.org_id = $1 AND s.id = $2 "
	"ON CONFLICT (secret_id) DO UPDATE SET interval_days = EXCLUDED.interval_days, "
	"next_due_at = EXCLUDED.next_due_at, last_notified_at = NULL, updated_at = " NOW_MS " "
	"WHERE rotation_policy.org_id = EXCLUDED.org_id "
	"RETURNING interval_days, " ISO("next_due_at"),
	3, 0};

static struct db_stmt st_policy_delete = {
	"secrets_policy_delete",
	"DELETE FROM rotation_policy WHERE org_id = $1 AND secret_id = $2 RETURNING interval_days",
	2, 0};

/* Cursors: lib/cursor.c. */

/* "2026-11-28T12:00:00.000000Z" */
static int
key_us_valid(const char *k, size_t n)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
	size_t i;

	if (n != sizeof(shape) - 1)
		return 0;
	for (i = 0; i < n; i++)
		if (shape[i] == 'd' ? !(k[i] >= '0' && k[i] <= '9') : k[i] != shape[i])
			return 0;
	return 1;
}

static int
parse_int(const char *s, int *out)
{
	long v = 0;
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = (int)v;
	return 0;
}

/* --------------------------------------------------------------- rows */

int
secrets_key_valid(const char *key)
{
	size_t i, n;

	if (key == NULL)
		return 0;
	n = strlen(key);
	if (n == 0 || n > SECRET_KEY_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = key[i];
		int alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';

		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return 0;
	}
	return 1;
}

static void
read_secret(const struct db_result *r, int row, struct secret *s)
{
	memset(s, 0, sizeof(*s));
	s->id = db_get(r, row, SC_ID);
	s->project_id = db_get(r, row, SC_PROJECT);
	s->key = db_get(r, row, SC_KEY);
	s->folder_id = db_get(r, row, SC_FOLDER);
	s->note = db_get(r, row, SC_NOTE);
	s->tags_json = db_get(r, row, SC_TAGS);
	if (s->tags_json == NULL)
		s->tags_json = "[]";
	s->last_rotated_at = db_get(r, row, SC_ROTATED);
	s->created_at = db_get(r, row, SC_CREATED);
}

/* One secret from a statement's result; s->id NULL when no row. */
static enum db_status
one_secret(struct arena *a, struct db_stmt *st, const char *const *params, struct secret *s)
{
	struct db_result r;

	memset(s, 0, sizeof(*s));
	if (db_exec(a, st, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		read_secret(&r, 0, s);
	return DB_OK;
}

/* ------------------------------------------------------------ secrets */

enum db_status
secrets_list(struct arena *a, const char *org_id, const char *project_id, const char *folder_id,
	     int limit, const char *cursor, struct secret *items, int *n, const char **next)
{
	const char *after = NULL, *params[5];
	char lim[16];
	struct db_result r;
	int i;

	*n = 0;
	*next = NULL;
	if (limit < 1)
		return DB_INVALID;
	if (cursor != NULL && ((after = cursor_decode(a, cursor)) == NULL ||
			       !secrets_key_valid(after)))
		return DB_INVALID;
	if (!id_plausible(project_id) || (folder_id != NULL && !id_plausible(folder_id)))
		return DB_OK;
	snprintf(lim, sizeof(lim), "%d", limit + 1);
	params[0] = org_id;
	params[1] = project_id;
	params[2] = folder_id;
	params[3] = after;
	params[4] = lim;
	if (db_exec(a, &st_list, params, &r) != DB_OK)
		return r.status;
	*n = r.rows > limit ? limit : r.rows;
	for (i = 0; i < *n; i++)
		read_secret(&r, i, &items[i]);
	if (r.rows > limit)
		*next = cursor_encode(a, items[*n - 1].key);
	return DB_OK;
}

enum db_status
secrets_load_values(struct arena *a, const char *org_id, struct secret *items, int n,
		    const char *environment_id, int sealed)
{
	struct buf ids;
	struct db_result r;
	const char *params[4];
	int i, row, *count;

	for (i = 0; i < n; i++) {
		items[i].values = NULL;
		items[i].nvalues = 0;
	}
	if (n == 0)
		return DB_OK;
	buf_init(&ids, a);
	buf_putc(&ids, '[');
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&ids, ',');
		buf_json_string(&ids, items[i].id, strlen(items[i].id));
	}
	buf_putc(&ids, ']');
	params[0] = org_id;
	params[1] = ids.data;
	params[2] = environment_id;
	params[3] = sealed ? "true" : "false";
	if (db_exec(a, &st_values, params, &r) != DB_OK)
		return r.status;
	/* Two passes: count each secret's rows, then fill. */
	count = arena_alloc(a, sizeof(*count) * (size_t)n);
	for (row = 0; row < r.rows; row++)
		for (i = 0; i < n; i++)
			if (strcmp(items[i].id, db_get(&r, row, VC_SECRET)) == 0) {
				count[i]++;
				break;
			}
	for (i = 0; i < n; i++)
		if (count[i] > 0)
			items[i].values = arena_alloc(a, sizeof(struct secret_value) *
							     (size_t)count[i]);
	for (row = 0; row < r.rows; row++) {
		for (i = 0; i < n; i++) {
			struct secret_value *v;

			if (strcmp(items[i].id, db_get(&r, row, VC_SECRET)) != 0)
				continue;
			v = &items[i].values[items[i].nvalues++];
			v->environment_id = db_get(&r, row, VC_ENV_ID);
			v->environment = db_get(&r, row, VC_ENV);
			if (parse_int(db_get(&r, row, VC_POS), &v->position) < 0)
				v->position = 0;
			if (parse_int(db_get(&r, row, VC_VERSION), &v->version) < 0)
				return DB_ERROR;
			v->updated_at = db_get(&r, row, VC_UPDATED);
			v->updated_by = db_get(&r, row, VC_BY);
			v->sealed = sealed ? db_get(&r, row, VC_SEALED) : NULL;
			break;
		}
	}
	return DB_OK;
}

enum db_status
secrets_get(struct arena *a, const char *org_id, const char *project_id, const char *id,
	    int lock, struct secret *s)
{
	const char *params[3] = {org_id, project_id, id};

	memset(s, 0, sizeof(*s));
	if (!id_plausible(project_id) || !id_plausible(id))
		return DB_OK;
	return one_secret(a, lock ? &st_lock : &st_get, params, s);
}

enum db_status
secrets_create(struct arena *a, const char *org_id, const char *project_id, const char *key,
	       const char *folder_id, const char *note, const char *tags_json, struct secret *s)
{
	char id[ID_LEN + 1];
	const char *params[7];

	id_new(id);
	params[0] = id;
	params[1] = org_id;
	params[2] = project_id;
	params[3] = key;
	params[4] = folder_id;
	params[5] = note;
	params[6] = tags_json;
	return one_secret(a, &st_insert, params, s);
}

enum db_status
secrets_update(struct arena *a, const char *org_id, const char *project_id, const char *id,
	       const char *key, const char *note, const char *tags_json, int set_folder,
	       const char *folder_id, struct secret *s)
{
	const char *params[8];

	memset(s, 0, sizeof(*s));
	if (!id_plausible(project_id) || !id_plausible(id))
		return DB_OK;
	params[0] = org_id;
	params[1] = project_id;
	params[2] = id;
	params[3] = key;
	params[4] = note;
	params[5] = tags_json;
	params[6] = set_folder ? "true" : "false";
	params[7] = set_folder ? folder_id : NULL;
	return one_secret(a, &st_update, params, s);
}

enum db_status
secrets_write_value(struct arena *a, const char *org_id, const char *project_id,
		    const char *secret_id, const char *environment_id, const char *user_id,
		    const char *value, size_t n, int *version)
{
	struct db_result r;
	struct buf aad, sealed;
	const char *params[6];
	char ver[16];
	enum db_status st;

	*version = 0;
	params[0] = org_id;
	params[1] = secret_id;
	params[2] = environment_id;
	if (db_exec(a, &st_next_version, params, &r) != DB_OK)
		return r.status;
	if (r.rows != 1 || parse_int(db_get(&r, 0, 0), version) < 0 || *version < 1)
		return DB_ERROR;
	buf_init(&aad, a);
	buf_init(&sealed, a);
	keyring_aad(&aad, org_id, project_id, secret_id, environment_id, *version);
	if ((st = keyring_seal(a, org_id, aad.data, aad.len, value, n, &sealed)) != DB_OK)
		return st;
	snprintf(ver, sizeof(ver), "%d", *version);
	params[3] = ver;
	params[4] = db_bytea_param(a, sealed.data, sealed.len);
	params[5] = user_id;
	if (db_exec(a, &st_put_version, params, &r) != DB_OK)
		return r.status;
	params[4] = user_id;
	if (db_exec(a, &st_put_value, params, &r) != DB_OK)
		return r.status;
	return DB_OK;
}

enum db_status
secrets_remove_value(struct arena *a, const char *org_id, const char *secret_id,
		     const char *environment_id, int *removed)
{
	struct db_result r;
	const char *params[3] = {org_id, secret_id, environment_id};

	*removed = 0;
	if (db_exec(a, &st_remove_value, params, &r) != DB_OK)
		return r.status;
	*removed = r.rows > 0;
	return DB_OK;
}

enum db_status
secrets_open(struct arena *a, const char *org_id, const char *project_id, const char *secret_id,
	     const char *environment_id, int version, const char *sealed, struct buf *out)
{
	struct buf aad, bytes;

	buf_init(&aad, a);
	buf_init(&bytes, a);
	out->len = 0;
	if (sealed == NULL || db_bytea_value(sealed, &bytes) < 0)
		return DB_INVALID;
	keyring_aad(&aad, org_id, project_id, secret_id, environment_id, version);
	return keyring_open(a, org_id, aad.data, aad.len, bytes.data, bytes.len, out);
}

enum db_status
secrets_delete(struct arena *a, const char *org_id, const char *project_id, const char *id,
	       const char **key)
{
	struct db_result r;
	const char *params[3] = {org_id, project_id, id};

	*key = NULL;
	if (!id_plausible(project_id) || !id_plausible(id))
		return DB_OK;
	if (db_exec(a, &st_delete, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		*key = db_get(&r, 0, 0);
	return DB_OK;
}

enum db_status
secrets_rotate(struct arena *a, const char *org_id, const char *project_id, const char *id,
	       struct secret *s)
{
	const char *params[3] = {org_id, project_id, id};

	memset(s, 0, sizeof(*s));
	if (!id_plausible(project_id) || !id_plausible(id))
		return DB_OK;
	return one_secret(a, &st_rotate, params, s);
}

enum db_status
secrets_versions(struct arena *a, const char *org_id, const char *secret_id,
		 const char *environment_id, int limit, const char *cursor,
		 struct secret_version *items, int *n, const char **next)
{
	const char *params[7] = {org_id, secret_id, environment_id, NULL, NULL, NULL, NULL};
	char lim[16];
	struct db_result r;
	int i;

	*n = 0;
	*next = NULL;
	if (limit < 1)
		return DB_INVALID;
	if (cursor != NULL) {
		/* "<created_at to the µs>|<version>|<environment id>" */
		char *raw = cursor_decode(a, cursor), *b1, *b2;
		int v;

		if (raw == NULL || (b1 = strchr(raw, '|')) == NULL ||
		    (b2 = strchr(b1 + 1, '|')) == NULL)
			return DB_INVALID;
		*b1 = '\0';
		*b2 = '\0';
		if (!key_us_valid(raw, strlen(raw)) || parse_int(b1 + 1, &v) < 0 ||
		    !id_plausible(b2 + 1))
			return DB_INVALID;
		params[3] = raw;
		params[4] = b1 + 1;
		params[5] = b2 + 1;
	}
	snprintf(lim, sizeof(lim), "%d", limit + 1);
	params[6] = lim;
	if (db_exec(a, &st_versions, params, &r) != DB_OK)
		return r.status;
	*n = r.rows > limit ? limit : r.rows;
	for (i = 0; i < *n; i++) {
		struct secret_version *v = &items[i];

		v->environment_id = db_get(&r, i, XC_ENV_ID);
		v->environment = db_get(&r, i, XC_ENV);
		if (parse_int(db_get(&r, i, XC_VERSION), &v->version) < 0)
			return DB_ERROR;
		v->created_at = db_get(&r, i, XC_CREATED);
		v->created_by = db_get(&r, i, XC_BY);
		v->sealed = db_get(&r, i, XC_SEALED);
	}
	if (r.rows > limit)
		*next = cursor_encode(a, arena_printf(a, "%s|%d|%s", db_get(&r, *n - 1, XC_KEY),
						      items[*n - 1].version,
						      items[*n - 1].environment_id));
	return DB_OK;
}

/* ---------------------------------------------------- rotation policy */

static enum db_status
read_policy(struct db_result *r, struct secret_policy *p)
{
	p->interval_days = 0;
	p->next_due_at = NULL;
	if (r->rows == 0)
		return DB_OK;
	if (parse_int(db_get(r, 0, 0), &p->interval_days) < 0)
		return DB_ERROR;
	p->next_due_at = db_get(r, 0, 1);
	return DB_OK;
}

enum db_status
secrets_policy_get(struct arena *a, const char *org_id, const char *secret_id,
		   struct secret_policy *p)
{
	struct db_result r;
	const char *params[2] = {org_id, secret_id};

	p->interval_days = 0;
	p->next_due_at = NULL;
	if (db_exec(a, &st_policy_get, params, &r) != DB_OK)
		return r.status;
	return read_policy(&r, p);
}

enum db_status
secrets_policy_set(struct arena *a, const char *org_id, const char *secret_id,
		   int interval_days, struct secret_policy *p)
{
	struct db_result r;
	char days[16];
	const char *params[3] = {org_id, secret_id, days};

	p->interval_days = 0;
	p->next_due_at = NULL;
	if (interval_days < 1 || interval_days > SECRET_POLICY_DAYS_MAX)
		return DB_INVALID;
	snprintf(days, sizeof(days), "%d", interval_days);
	if (db_exec(a, &st_policy_set, params, &r) != DB_OK)
		return r.status;
	return read_policy(&r, p);
}

enum db_status
secrets_policy_delete(struct arena *a, const char *org_id, const char *secret_id, int *deleted)
{
	struct db_result r;
	const char *params[2] = {org_id, secret_id};

	*deleted = 0;
	if (db_exec(a, &st_policy_delete, params, &r) != DB_OK)
		return r.status;
	*deleted = r.rows > 0;
	return DB_OK;
}

/* ------------------------------------------------------ resolve, import */

/* For each key of the project, the current value of the first environment
 * of the resolution order (a PostgreSQL text[] of environment ids) that has
 * one. */
static struct db_stmt st_resolve = {
	"secrets_resolve",
	"SELECT DISTINCT ON (s.key COLLATE \"C\") s.key, s.id, sv.environment_id, sv.version, v.value "
	"FROM secret s JOIN secret_value sv ON sv.secret_id = s.id "
	"JOIN secret_version v ON v.secret_id = sv.secret_id "
	"AND v.environment_id = sv.environment_id AND v.version = sv.version "
	"WHERE s.org_id = $1 AND s.project_id = $2 AND sv.environment_id = ANY($3::text[]) "
	"ORDER BY s.key COLLATE \"C\", array_position($3::text[], sv.environment_id)",
	3, 0};

static struct db_stmt st_by_key = {
	"secrets_by_key",
	"SELECT " SECRET_COLS " FROM secret s WHERE s.org_id = $1 AND s.project_id = $2 "
	"AND s.key = $3 FOR UPDATE",
	3, 0};

static struct db_stmt st_current = {
	"secrets_current",
	"SELECT sv.version, v.value FROM secret_value sv JOIN secret_version v "
	"ON v.secret_id = sv.secret_id AND v.environment_id = sv.environment_id "
	"AND v.version = sv.version WHERE sv.org_id = $1 AND sv.secret_id = $2 "
	"AND sv.environment_id = $3",
	3, 0};

enum db_status
secrets_resolve(struct arena *a, const char *org_id, const char *project_id,
		const struct environment *order, int n, struct secret_resolved **out, size_t *count)
{
	struct db_result r;
	struct buf ids;
	const char *params[3];
	enum db_status st;
	int i;

	*out = NULL;
	*count = 0;
	buf_init(&ids, a);
	buf_putc(&ids, '{');
	for (i = 0; i < n; i++) {
		if (!id_plausible(order[i].id))
			return DB_INVALID;
		buf_printf(&ids, "%s%s", i > 0 ? "," : "", order[i].id);
	}
	buf_putc(&ids, '}');
	params[0] = org_id;
	params[1] = project_id;
	params[2] = ids.data;
	if (db_exec(a, &st_resolve, params, &r) != DB_OK)
		return r.status;
	*out = arena_alloc(a, (size_t)(r.rows > 0 ? r.rows : 1) * sizeof(**out));
	for (i = 0; i < r.rows; i++) {
		struct secret_resolved *x = &(*out)[i];
		struct buf value;
		int k;

		x->key = db_get(&r, i, 0);
		x->secret_id = db_get(&r, i, 1);
		x->environment_id = db_get(&r, i, 2);
		x->version = (int)strtol(db_get(&r, i, 3), NULL, 10);
		for (k = 0; k < n; k++)
			if (strcmp(order[k].id, x->environment_id) == 0)
				x->environment = order[k].slug;
		buf_init(&value, a);
		st = secrets_open(a, org_id, project_id, x->secret_id, x->environment_id, x->version,
				  db_get(&r, i, 4), &value);
		if (st != DB_OK) {
			log_msg(LOG_ERROR, "secrets.unreadable",
				"secret %s version %d in environment %s does not open", x->secret_id,
				x->version, x->environment_id);
			return st;
		}
		x->value = value.data;
		x->value_len = value.len;
	}
	*count = (size_t)r.rows;
	return DB_OK;
}

enum db_status
secrets_import_one(struct arena *a, const char *org_id, const char *project_id,
		   const char *environment_id, const char *user_id, const char *key,
		   const char *value, size_t n, enum secrets_import_result *result)
{
	struct secret s;
	struct db_result r;
	const char *params[3] = {org_id, project_id, key};
	enum db_status st;
	int version;

	*result = SECRETS_UNCHANGED;
	if ((st = one_secret(a, &st_by_key, params, &s)) != DB_OK)
		return st;
	if (s.id == NULL) {
		if ((st = secrets_create(a, org_id, project_id, key, NULL, "", NULL, &s)) != DB_OK)
			return st;
		*result = SECRETS_CREATED;
	} else {
		const char *cur[3] = {org_id, s.id, environment_id};

		if (db_exec(a, &st_current, cur, &r) != DB_OK)
			return r.status;
		if (r.rows > 0) {
			struct buf old;

			buf_init(&old, a);
			st = secrets_open(a, org_id, project_id, s.id, environment_id,
					  (int)strtol(db_get(&r, 0, 0), NULL, 10), db_get(&r, 0, 1), &old);
			if (st != DB_OK)
				return st;
			if (old.len == n && crypto_eq(old.data, value, n))
				return DB_OK;
		}
		*result = SECRETS_UPDATED;
	}
	return secrets_write_value(a, org_id, project_id, s.id, environment_id, user_id, value, n,
				   &version);
}
