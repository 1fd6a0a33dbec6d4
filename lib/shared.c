/*
 * Shared secrets (006_vault.sql shared_folder, shared_secret,
 * shared_secret_version): the org-wide store. One value per secret,
 * versioned; every statement names the org it works in, so an id of
 * another org is simply not found.
 *
 * Values are sealed here (keyring_seal) with additional data binding org,
 * shared secret and version (keyring_aad_shared); only ciphertext is
 * stored. Writers of one secret serialise on its row lock (shared_get with
 * lock): the next version is max(version) + 1 read under that lock, and its
 * timestamps are taken under it too (clock_timestamp()), so versions and
 * their times grow together.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shush.h"

#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define CLOCK_MS "date_trunc('milliseconds', clock_timestamp())"
/* A cycle cannot be made (folders do not move); the bound keeps a
 * hand-made one from looping. */
#define FOLDER_DEPTH_MAX "256"

/* ------------------------------------------------------------- folders */

static struct db_stmt st_folder_list = {
	"shared_folders_list",
	"WITH RECURSIVE t AS (SELECT f.id, f.name, f.parent_id, '/' || f.name AS path, 1 AS d "
	"FROM shared_folder f WHERE f.org_id = $1 AND f.parent_id IS NULL "
	"UNION ALL SELECT f.id, f.name, f.parent_id, t.path || '/' || f.name, t.d + 1 "
	"FROM shared_folder f JOIN t ON f.parent_id = t.id "
	"WHERE f.org_id = $1 AND t.d < " FOLDER_DEPTH_MAX ") "
	"SELECT id, name, parent_id, path FROM t ORDER BY path COLLATE \"C\", id",
	1, 0};

static struct db_stmt st_folder_get = {
	"shared_folders_get",
	"WITH RECURSIVE up AS (SELECT f.id, f.parent_id, f.name, 0 AS d FROM shared_folder f "
	"WHERE f.org_id = $1 AND f.id = $2 "
	"UNION ALL SELECT f.id, f.parent_id, f.name, up.d + 1 FROM shared_folder f "
	"JOIN up ON f.id = up.parent_id WHERE f.org_id = $1 AND up.d < " FOLDER_DEPTH_MAX ") "
	"SELECT f.id, f.name, f.parent_id, "
	"(SELECT '/' || string_agg(name, '/' ORDER BY d DESC) FROM up) "
	"FROM shared_folder f WHERE f.org_id = $1 AND f.id = $2",
	2, 0};

/* A missing parent inserts nothing (false in the first column); a sibling
 * with the name neither (NULL in the second), leaving the transaction
 * usable. The parent is locked FOR SHARE: it cannot go before commit. */
static struct db_stmt st_folder_create = {
	"shared_folders_create",
	"WITH parent AS (SELECT $3::text IS NULL OR EXISTS (SELECT 1 FROM shared_folder "
	"WHERE org_id = $2 AND id = $3 FOR SHARE) AS ok), "
	"ins AS (INSERT INTO shared_folder (id, org_id, parent_id, name) "
	"SELECT $1, $2, $3, $4 FROM parent WHERE parent.ok "
	"ON CONFLICT (org_id, coalesce(parent_id, ''), name) DO NOTHING RETURNING id) "
	"SELECT (SELECT ok FROM parent), (SELECT id FROM ins)",
	4, 0};

/* ------------------------------------------------------------- secrets */

#define SHARED_COLS                                                                         \
	"s.id, s.key, s.folder_id, s.note, s.version, " ISO("s.created_at") ", "          \
	ISO("s.updated_at")
enum { SC_ID, SC_KEY, SC_FOLDER, SC_NOTE, SC_VERSION, SC_CREATED, SC_UPDATED, SC_SEALED };

static struct db_stmt st_list = {
	"shared_list",
	"SELECT " SHARED_COLS ", CASE WHEN $5::boolean THEN (SELECT v.value FROM "
	"shared_secret_version v WHERE v.org_id = s.org_id AND v.shared_secret_id = s.id "
	"AND v.version = s.version) END FROM shared_secret s WHERE s.org_id = $1 "
	"AND ($2::text IS NULL OR s.folder_id = $2) "
	"AND ($3::text IS NULL OR s.key COLLATE \"C\" > $3::text COLLATE \"C\") "
	"ORDER BY s.key COLLATE \"C\" LIMIT $4::integer",
	5, 0};

static struct db_stmt st_get = {
	"shared_get",
	"SELECT " SHARED_COLS ", CASE WHEN $3::boolean THEN (SELECT v.value FROM "
	"shared_secret_version v WHERE v.org_id = s.org_id AND v.shared_secret_id = s.id "
	"AND v.version = s.version) END FROM shared_secret s WHERE s.org_id = $1 AND s.id = $2",
	3, 0};

static struct db_stmt st_lock = {
	"shared_lock",
	"SELECT " SHARED_COLS ", NULL FROM shared_secret s WHERE s.org_id = $1 AND s.id = $2 "
	"FOR UPDATE",
	2, 0};

/* Version 1, whose value put_version stores next. The folder must be the
 * org's: the caller checks (shared_folders_get), the foreign key alone
 * would accept another org's. */
static struct db_stmt st_insert = {
	"shared_insert",
	"WITH c AS (SELECT " CLOCK_MS " AS t), "
	"s AS (INSERT INTO shared_secret (id, org_id, key, folder_id, note, version, "
	"created_at, updated_at) SELECT $1, $2, $3, $4, coalesce($5, ''), 1, c.t, c.t FROM c "
	"RETURNING *) SELECT " SHARED_COLS ", NULL FROM s",
	5, 0};

static struct db_stmt st_update = {
	"shared_update",
	"WITH s AS (UPDATE shared_secret SET key = coalesce($3, key), note = coalesce($4, note), "
	"folder_id = CASE WHEN $5::boolean THEN $6 ELSE folder_id END, "
	"version = coalesce($7::integer, version), updated_at = " CLOCK_MS " "
	"WHERE org_id = $1 AND id = $2 RETURNING *) SELECT " SHARED_COLS ", NULL FROM s",
	7, 0};

static struct db_stmt st_next_version = {
	"shared_next_version",
	"SELECT coalesce(max(version), 0) + 1 FROM shared_secret_version "
	"WHERE org_id = $1 AND shared_secret_id = $2",
	2, 0};

static struct db_stmt st_put_version = {
	"shared_put_version",
	"INSERT INTO shared_secret_version (org_id, shared_secret_id, version, value, created_at, "
	"created_by) VALUES ($1, $2, $3::integer, $4::bytea, " CLOCK_MS ", $5)",
	5, 0};

static struct db_stmt st_delete = {
	"shared_delete",
	"DELETE FROM shared_secret WHERE org_id = $1 AND id = $2 RETURNING key",
	2, 0};

static struct db_stmt st_versions = {
	"shared_versions",
	"SELECT v.version, " ISO("v.created_at") ", v.created_by, v.value "
	"FROM shared_secret_version v WHERE v.org_id = $1 AND v.shared_secret_id = $2 "
	"AND ($3::integer IS NULL OR v.version < $3::integer) "
	"ORDER BY v.version DESC LIMIT $4::integer",
	4, 0};

/* ------------------------------------------------------------- helpers */

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

/* Cursors, opaque to clients: base64url (no padding) of the sort key. */

static enum db_status
read_secret(const struct db_result *r, int row, struct shared_secret *s)
{
	memset(s, 0, sizeof(*s));
	s->id = db_get(r, row, SC_ID);
	s->key = db_get(r, row, SC_KEY);
	s->folder_id = db_get(r, row, SC_FOLDER);
	s->note = db_get(r, row, SC_NOTE);
	if (s->note == NULL)
		s->note = "";
	s->created_at = db_get(r, row, SC_CREATED);
	s->updated_at = db_get(r, row, SC_UPDATED);
	s->sealed = db_get(r, row, SC_SEALED);
	if (parse_int(db_get(r, row, SC_VERSION), &s->version) < 0)
		return DB_ERROR;
	return DB_OK;
}

/* One secret from a statement's result; s->id NULL when no row. */
static enum db_status
one_secret(struct arena *a, struct db_stmt *st, const char *const *params,
	   struct shared_secret *s)
{
	struct db_result r;

	memset(s, 0, sizeof(*s));
	if (db_exec(a, st, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		return read_secret(&r, 0, s);
	return DB_OK;
}

static void
read_folder(const struct db_result *r, int row, struct folder *f)
{
	f->id = db_get(r, row, 0);
	f->name = db_get(r, row, 1);
	f->parent_id = db_get(r, row, 2);
	f->path = db_get(r, row, 3);
}

/* ------------------------------------------------------------- folders */

enum db_status
shared_folders_list(struct arena *a, const char *org_id, struct folder **items, int *n)
{
	struct db_result r;
	const char *params[1] = {org_id};
	int i;

	*items = NULL;
	*n = 0;
	if (db_exec(a, &st_folder_list, params, &r) != DB_OK)
		return r.status;
	*items = arena_alloc(a, (size_t)(r.rows > 0 ? r.rows : 1) * sizeof(**items));
	for (i = 0; i < r.rows; i++)
		read_folder(&r, i, &(*items)[i]);
	*n = r.rows;
	return DB_OK;
}

enum db_status
shared_folders_get(struct arena *a, const char *org_id, const char *folder_id, struct folder *f)
{
	struct db_result r;
	const char *params[2] = {org_id, folder_id};

	memset(f, 0, sizeof(*f));
	if (!id_plausible(folder_id))
		return DB_OK;
	if (db_exec(a, &st_folder_get, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		read_folder(&r, 0, f);
	return DB_OK;
}

enum db_status
shared_folders_create(struct arena *a, const char *org_id, const char *parent_id,
		      const char *name, struct folder *f)
{
	struct db_result r;
	char id[ID_LEN + 1];
	const char *params[4] = {id, org_id, parent_id, name};
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
	return shared_folders_get(a, org_id, id, f);
}

/* ------------------------------------------------------------- secrets */

enum db_status
shared_list(struct arena *a, const char *org_id, const char *folder_id, int limit,
	    const char *cursor, int sealed, struct shared_secret *items, int *n,
	    const char **next)
{
	const char *after = NULL, *params[5];
	char lim[16];
	struct db_result r;
	enum db_status st;
	int i;

	*n = 0;
	*next = NULL;
	if (limit < 1)
		return DB_INVALID;
	if (cursor != NULL &&
	    ((after = cursor_decode(a, cursor)) == NULL || !secrets_key_valid(after)))
		return DB_INVALID;
	if (folder_id != NULL && !id_plausible(folder_id))
		return DB_OK;
	snprintf(lim, sizeof(lim), "%d", limit + 1);
	params[0] = org_id;
	params[1] = folder_id;
	params[2] = after;
	params[3] = lim;
	params[4] = sealed ? "true" : "false";
	if (db_exec(a, &st_list, params, &r) != DB_OK)
		return r.status;
	*n = r.rows > limit ? limit : r.rows;
	for (i = 0; i < *n; i++)
		if ((st = read_secret(&r, i, &items[i])) != DB_OK)
			return st;
	if (r.rows > limit)
		*next = cursor_encode(a, items[*n - 1].key);
	return DB_OK;
}

enum db_status
shared_get(struct arena *a, const char *org_id, const char *id, int lock, int sealed,
	   struct shared_secret *s)
{
	const char *params[3] = {org_id, id, sealed ? "true" : "false"};
	enum db_status st;

	memset(s, 0, sizeof(*s));
	if (!id_plausible(id))
		return DB_OK;
	if (!lock)
		return one_secret(a, &st_get, params, s);
	if ((st = one_secret(a, &st_lock, params, s)) != DB_OK || s->id == NULL || !sealed)
		return st;
	return one_secret(a, &st_get, params, s);
}

/* The next version of a locked secret: value sealed for it and stored. */
static enum db_status
put_version(struct arena *a, const char *org_id, const char *id, const char *user_id,
	    const char *value, size_t n, int *version)
{
	struct db_result r;
	struct buf aad, sealed;
	const char *params[5];
	char ver[16];
	enum db_status st;

	*version = 0;
	params[0] = org_id;
	params[1] = id;
	if (db_exec(a, &st_next_version, params, &r) != DB_OK)
		return r.status;
	if (r.rows != 1 || parse_int(db_get(&r, 0, 0), version) < 0 || *version < 1)
		return DB_ERROR;
	buf_init(&aad, a);
	buf_init(&sealed, a);
	keyring_aad_shared(&aad, org_id, id, *version);
	if ((st = keyring_seal(a, org_id, aad.data, aad.len, value, n, &sealed)) != DB_OK)
		return st;
	snprintf(ver, sizeof(ver), "%d", *version);
	params[2] = ver;
	params[3] = db_bytea_param(a, sealed.data, sealed.len);
	params[4] = user_id;
	if (db_exec(a, &st_put_version, params, &r) != DB_OK)
		return r.status;
	return DB_OK;
}

/* Sets the row's fields, and its version when version > 0. */
static enum db_status
update_row(struct arena *a, const char *org_id, const char *id, const char *key,
	   const char *note, int set_folder, const char *folder_id, int version,
	   struct shared_secret *s)
{
	const char *params[7];
	char ver[16];

	snprintf(ver, sizeof(ver), "%d", version);
	params[0] = org_id;
	params[1] = id;
	params[2] = key;
	params[3] = note;
	params[4] = set_folder ? "true" : "false";
	params[5] = set_folder ? folder_id : NULL;
	params[6] = version > 0 ? ver : NULL;
	return one_secret(a, &st_update, params, s);
}

enum db_status
shared_create(struct arena *a, const char *org_id, const char *user_id, const char *key,
	      const char *folder_id, const char *note, const char *value, size_t n,
	      struct shared_secret *s)
{
	char id[ID_LEN + 1];
	const char *params[5];
	enum db_status st;
	int version;

	id_new(id);
	params[0] = id;
	params[1] = org_id;
	params[2] = key;
	params[3] = folder_id;
	params[4] = note;
	if ((st = one_secret(a, &st_insert, params, s)) != DB_OK)
		return st;
	if (s->id == NULL)
		return DB_ERROR;
	if ((st = put_version(a, org_id, s->id, user_id, value, n, &version)) != DB_OK)
		return st;
	return version == s->version ? DB_OK : DB_ERROR;
}

enum db_status
shared_update(struct arena *a, const char *org_id, const char *id, const char *user_id,
	      const char *key, const char *note, int set_folder, const char *folder_id,
	      const char *value, size_t n, struct shared_secret *s)
{
	enum db_status st;
	int version = 0;

	memset(s, 0, sizeof(*s));
	if (!id_plausible(id))
		return DB_OK;
	if (value != NULL &&
	    (st = put_version(a, org_id, id, user_id, value, n, &version)) != DB_OK)
		return st;
	return update_row(a, org_id, id, key, note, set_folder, folder_id, version, s);
}

enum db_status
shared_delete(struct arena *a, const char *org_id, const char *id, const char **key)
{
	struct db_result r;
	const char *params[2] = {org_id, id};

	*key = NULL;
	if (!id_plausible(id))
		return DB_OK;
	if (db_exec(a, &st_delete, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		*key = db_get(&r, 0, 0);
	return DB_OK;
}

enum db_status
shared_versions(struct arena *a, const char *org_id, const char *id, int limit,
		const char *cursor, struct shared_secret_version *items, int *n,
		const char **next)
{
	const char *params[4] = {org_id, id, NULL, NULL};
	char lim[16];
	struct db_result r;
	int i, before;

	*n = 0;
	*next = NULL;
	if (limit < 1)
		return DB_INVALID;
	if (cursor != NULL) {
		/* "v<version>": the page continues below it */
		const char *raw = cursor_decode(a, cursor);

		if (raw == NULL || raw[0] != 'v' || parse_int(raw + 1, &before) < 0 || before < 1)
			return DB_INVALID;
		params[2] = raw + 1;
	}
	if (!id_plausible(id))
		return DB_OK;
	snprintf(lim, sizeof(lim), "%d", limit + 1);
	params[3] = lim;
	if (db_exec(a, &st_versions, params, &r) != DB_OK)
		return r.status;
	*n = r.rows > limit ? limit : r.rows;
	for (i = 0; i < *n; i++) {
		struct shared_secret_version *v = &items[i];

		memset(v, 0, sizeof(*v));
		if (parse_int(db_get(&r, i, 0), &v->version) < 0)
			return DB_ERROR;
		v->created_at = db_get(&r, i, 1);
		v->created_by = db_get(&r, i, 2);
		v->sealed = db_get(&r, i, 3);
	}
	if (r.rows > limit)
		*next = cursor_encode(a, arena_printf(a, "v%d", items[*n - 1].version));
	return DB_OK;
}

enum db_status
shared_open(struct arena *a, const char *org_id, const char *id, int version,
	    const char *sealed, struct buf *out)
{
	struct buf aad, bytes;

	buf_init(&aad, a);
	buf_init(&bytes, a);
	out->len = 0;
	if (sealed == NULL || db_bytea_value(sealed, &bytes) < 0)
		return DB_INVALID;
	keyring_aad_shared(&aad, org_id, id, version);
	return keyring_open(a, org_id, aad.data, aad.len, bytes.data, bytes.len, out);
}
