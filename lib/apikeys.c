/*
 * API keys (007_apikeys.sql, API.md §4): environment keys for the runtime
 * routes, personal tokens (kind "user") acting as their user on /v1.
 *
 * A key is "shush_" + the base62 of 32 random bytes (43 characters); only
 * the hex SHA-256 of the whole key is stored, so a presented key is found
 * by its hash. A key authenticates while revoked_at is NULL or still ahead
 * (rotation grace) and expires_at is NULL or ahead. Every revoke, rotate
 * and delete bumps apikey_generation, the one number a cache of
 * authenticated keys compares.
 *
 * Personal tokens keep org_id NULL (they belong to their user, not to an
 * org); struct apikey shows them with org_id = active_org_id.
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
#define ORG_ISO(col) ISO(col)

/* Over "api_key k LEFT JOIN environment e ON e.id = k.environment_id". */
#define KEY_COLS                                                                             \
	"k.id, coalesce(k.org_id, k.active_org_id), k.kind, k.project_id, k.environment_id, " \
	"e.slug, k.user_id, k.name, k.prefix, k.active_org_id, " ISO("k.created_at") ", "     \
	ISO("k.last_used_at") ", " ISO("k.expires_at") ", " ISO("k.revoked_at") ", "          \
	KEY_US("k.created_at")
#define KEY_FROM(t) " FROM " t " k LEFT JOIN environment e ON e.id = k.environment_id "
enum {
	KC_ID, KC_ORG, KC_KIND, KC_PROJECT, KC_ENV_ID, KC_ENV, KC_USER, KC_NAME, KC_PREFIX,
	KC_ACTIVE, KC_CREATED, KC_USED, KC_EXPIRES, KC_REVOKED, KC_KEY
};
#define LIVE(t) "(" t ".revoked_at IS NULL OR " t ".revoked_at > now()) AND (" t \
	".expires_at IS NULL OR " t ".expires_at > now())"

/* Finds a live key by hash; stamps last_used_at at most once a minute. */
static struct db_stmt st_auth = {
	"apikeys_auth",
	"WITH f AS (SELECT * FROM api_key a WHERE a.hash = $1 AND " LIVE("a") "), "
	"u AS (UPDATE api_key SET last_used_at = " NOW_MS " WHERE id IN (SELECT id FROM f) "
	"AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute') "
	"RETURNING id, last_used_at) "
	"SELECT k.id, coalesce(k.org_id, k.active_org_id), k.kind, k.project_id, "
	"k.environment_id, e.slug, k.user_id, k.name, k.prefix, k.active_org_id, "
	ISO("k.created_at") ", " ISO("coalesce((SELECT u.last_used_at FROM u), k.last_used_at)")
	", " ISO("k.expires_at") ", " ISO("k.revoked_at") ", " KEY_US("k.created_at")
	KEY_FROM("f"),
	1, 0};

static struct db_stmt st_insert = {
	"apikeys_insert",
	"WITH k AS (INSERT INTO api_key (id, org_id, kind, project_id, environment_id, user_id, "
	"name, prefix, hash, active_org_id, expires_at) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::timestamptz) RETURNING *) "
	"SELECT " KEY_COLS KEY_FROM("k"),
	11, 0};

static struct db_stmt st_get = {
	"apikeys_get",
	"SELECT " KEY_COLS KEY_FROM("api_key") "WHERE k.org_id = $1 AND k.project_id = $2 "
	"AND k.id = $3 AND k.kind = 'environment'",
	3, 0};

static struct db_stmt st_list = {
	"apikeys_list",
	"SELECT " KEY_COLS KEY_FROM("api_key") "WHERE k.org_id = $1 AND k.project_id = $2 "
	"AND k.kind = 'environment' "
	"AND ($3::timestamptz IS NULL OR (k.created_at, k.id) > ($3::timestamptz, $4::text)) "
	"ORDER BY k.created_at, k.id LIMIT $5::integer",
	5, 0};

static struct db_stmt st_list_user = {
	"apikeys_list_user",
	"SELECT " KEY_COLS KEY_FROM("api_key") "WHERE k.user_id = $1 AND k.kind = 'user' "
	"AND ($2::timestamptz IS NULL OR (k.created_at, k.id) > ($2::timestamptz, $3::text)) "
	"ORDER BY k.created_at, k.id LIMIT $4::integer",
	4, 0};

/* revoked_at moves only earlier: a grace never postpones a revocation. */
static struct db_stmt st_revoke = {
	"apikeys_revoke",
	"WITH k AS (UPDATE api_key SET revoked_at = least(coalesce(revoked_at, 'infinity'), "
	NOW_MS " + make_interval(secs => $4::integer)) "
	"WHERE org_id = $1 AND project_id = $2 AND id = $3 AND kind = 'environment' "
	"RETURNING *) SELECT " KEY_COLS KEY_FROM("k"),
	4, 0};

static struct db_stmt st_delete = {
	"apikeys_delete",
	"DELETE FROM api_key WHERE org_id = $1 AND project_id = $2 AND id = $3 "
	"AND kind = 'environment' RETURNING id",
	3, 0};

static struct db_stmt st_delete_user = {
	"apikeys_delete_user",
	"DELETE FROM api_key WHERE user_id = $1 AND id = $2 AND kind = 'user' RETURNING id",
	2, 0};

/* The token moves only to an org where its user is a live member, checked
 * in the same statement (orgs_switch does the same for a session). */
static struct db_stmt st_switch = {
	"apikeys_switch",
	"WITH t AS (SELECT o.id, o.name, o.slug, " ORG_ISO("o.\"createdAt\"") ", m.role "
	"FROM organization o JOIN member m ON m.\"organizationId\" = o.id "
	"WHERE o.id = $2 AND m.\"userId\" = $3 AND m.\"removedAt\" IS NULL), "
	"k AS (UPDATE api_key SET active_org_id = t.id FROM t "
	"WHERE api_key.id = $1 AND api_key.user_id = $3 AND api_key.kind = 'user' "
	"RETURNING api_key.id) "
	"SELECT t.*, (SELECT count(*) FROM k) FROM t",
	3, 0};

static struct db_stmt st_generation = {
	"apikeys_generation",
	"SELECT generation FROM apikey_generation",
	0, 0};

/* NOTIFY is delivered at commit, so a listener never sees a generation
 * whose change it cannot read yet. */
static struct db_stmt st_bump = {
	"apikeys_bump",
	"WITH g AS (UPDATE apikey_generation SET generation = generation + 1 "
	"RETURNING generation) SELECT generation, pg_notify('" APIKEY_NOTIFY_CHANNEL "', "
	"generation::text), pg_notify('" RUNTIME_NOTIFY_CHANNEL "', "
	"COALESCE('p:' || $1::text, 'keys')) FROM g",
	1, 0};

static void
read_key(const struct db_result *r, int row, struct apikey *k)
{
	k->id = db_get(r, row, KC_ID);
	k->org_id = db_get(r, row, KC_ORG);
	k->kind = db_get(r, row, KC_KIND);
	k->project_id = db_get(r, row, KC_PROJECT);
	k->environment_id = db_get(r, row, KC_ENV_ID);
	k->environment = db_get(r, row, KC_ENV);
	k->user_id = db_get(r, row, KC_USER);
	k->name = db_get(r, row, KC_NAME);
	k->prefix = db_get(r, row, KC_PREFIX);
	k->active_org_id = db_get(r, row, KC_ACTIVE);
	k->created_at = db_get(r, row, KC_CREATED);
	k->last_used_at = db_get(r, row, KC_USED);
	k->expires_at = db_get(r, row, KC_EXPIRES);
	k->revoked_at = db_get(r, row, KC_REVOKED);
}

static int
alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int
apikeys_format_valid(const char *s)
{
	size_t i, plen = strlen(APIKEY_PREFIX);

	if (s == NULL || strncmp(s, APIKEY_PREFIX, plen) != 0)
		return 0;
	for (i = plen; i < APIKEY_LEN; i++)
		if (!alnum(s[i]))
			return 0;
	return s[APIKEY_LEN] == '\0';
}

static void
key_hash(const char *key, char hex[65])
{
	unsigned char h[32];

	crypto_sha256(key, strlen(key), h);
	crypto_hex(h, sizeof(h), hex);
}

enum db_status
apikeys_authenticate(struct arena *a, const char *presented, struct apikey *k)
{
	struct db_result r;
	char hex[65];
	const char *params[1] = {hex};

	memset(k, 0, sizeof(*k));
	if (!apikeys_format_valid(presented))
		return DB_OK;
	key_hash(presented, hex);
	if (db_exec(a, &st_auth, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		read_key(&r, 0, k);
	return DB_OK;
}

enum db_status
apikeys_create(struct arena *a, const char *org_id, const char *kind, const char *project_id,
	       const char *environment_id, const char *user_id, const char *name,
	       const char *expires_at, const char *active_org_id, char key_out[50],
	       struct apikey *k)
{
	struct db_result r;
	unsigned char raw[32];
	char id[ID_LEN + 1], hex[65], prefix[APIKEY_DISPLAY_PREFIX + 1];
	const char *params[11];
	int user = strcmp(kind, "user") == 0;

	memset(k, 0, sizeof(*k));
	key_out[0] = '\0';
	if (!user && strcmp(kind, "environment") != 0)
		return DB_INVALID;
	if (crypto_random(raw, sizeof(raw)) < 0)
		return DB_ERROR;
	memcpy(key_out, APIKEY_PREFIX, strlen(APIKEY_PREFIX));
	crypto_base62(raw, key_out + strlen(APIKEY_PREFIX));
	crypto_wipe(raw, sizeof(raw));
	key_hash(key_out, hex);
	memcpy(prefix, key_out, APIKEY_DISPLAY_PREFIX);
	prefix[APIKEY_DISPLAY_PREFIX] = '\0';
	id_new(id);
	params[0] = id;
	params[1] = user ? NULL : org_id;
	params[2] = kind;
	params[3] = user ? NULL : project_id;
	params[4] = user ? NULL : environment_id;
	params[5] = user_id;
	params[6] = name;
	params[7] = prefix;
	params[8] = hex;
	params[9] = user ? (active_org_id != NULL ? active_org_id : org_id) : NULL;
	params[10] = expires_at;
	if (db_exec(a, &st_insert, params, &r) != DB_OK) {
		crypto_wipe(key_out, APIKEY_LEN);
		key_out[0] = '\0';
		return r.status;
	}
	if (r.rows > 0)
		read_key(&r, 0, k);
	return DB_OK;
}

enum db_status
apikeys_get(struct arena *a, const char *org_id, const char *project_id, const char *id,
	    struct apikey *k)
{
	struct db_result r;
	const char *params[3] = {org_id, project_id, id};

	memset(k, 0, sizeof(*k));
	if (!id_plausible(id) || !id_plausible(project_id))
		return DB_OK;
	if (db_exec(a, &st_get, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		read_key(&r, 0, k);
	return DB_OK;
}

static enum db_status
list_page(struct arena *a, struct db_stmt *st, const char *first, const char *second,
	  int limit, const char *cursor, struct apikey *items, int *n, const char **next)
{
	struct db_result r;
	const char *stamp = NULL, *id = NULL, *params[5];
	char lim[16];
	int i, np = 0;

	*n = 0;
	*next = NULL;
	if (limit < 1)
		return DB_INVALID;
	if (cursor != NULL && cursor_decode_stamp(a, cursor, &stamp, &id) < 0)
		return DB_INVALID;
	snprintf(lim, sizeof(lim), "%d", limit + 1);
	params[np++] = first;
	if (second != NULL)
		params[np++] = second;
	params[np++] = stamp;
	params[np++] = id;
	params[np++] = lim;
	if (db_exec(a, st, params, &r) != DB_OK)
		return r.status;
	*n = r.rows > limit ? limit : r.rows;
	for (i = 0; i < *n; i++)
		read_key(&r, i, &items[i]);
	if (r.rows > limit)
		*next = cursor_encode_stamp(a, db_get(&r, *n - 1, KC_KEY), db_get(&r, *n - 1, KC_ID));
	return DB_OK;
}

enum db_status
apikeys_list(struct arena *a, const char *org_id, const char *project_id, int limit,
	     const char *cursor, struct apikey *items, int *n, const char **next)
{
	return list_page(a, &st_list, org_id, project_id, limit, cursor, items, n, next);
}

enum db_status
apikeys_list_user(struct arena *a, const char *user_id, int limit, const char *cursor,
		  struct apikey *items, int *n, const char **next)
{
	return list_page(a, &st_list_user, user_id, NULL, limit, cursor, items, n, next);
}

enum db_status
apikeys_revoke(struct arena *a, const char *org_id, const char *project_id, const char *id,
	       int grace_seconds, struct apikey *k)
{
	struct db_result r;
	char grace[16];
	const char *params[4] = {org_id, project_id, id, grace};

	memset(k, 0, sizeof(*k));
	if (!id_plausible(id) || !id_plausible(project_id))
		return DB_OK;
	if (grace_seconds < 0 || grace_seconds > APIKEY_GRACE_MAX)
		return DB_INVALID;
	snprintf(grace, sizeof(grace), "%d", grace_seconds);
	if (db_exec(a, &st_revoke, params, &r) != DB_OK)
		return r.status;
	if (r.rows == 0)
		return DB_OK;
	read_key(&r, 0, k);
	return apikeys_bump_generation(a, project_id);
}

enum db_status
apikeys_delete(struct arena *a, const char *org_id, const char *project_id, const char *id,
	       int *deleted)
{
	struct db_result r;
	const char *params[3] = {org_id, project_id, id};

	*deleted = 0;
	if (!id_plausible(id) || !id_plausible(project_id))
		return DB_OK;
	if (db_exec(a, &st_delete, params, &r) != DB_OK)
		return r.status;
	*deleted = r.rows > 0;
	return *deleted ? apikeys_bump_generation(a, project_id) : DB_OK;
}

enum db_status
apikeys_delete_user(struct arena *a, const char *user_id, const char *id, int *deleted)
{
	struct db_result r;
	const char *params[2] = {user_id, id};

	*deleted = 0;
	if (!id_plausible(id))
		return DB_OK;
	if (db_exec(a, &st_delete_user, params, &r) != DB_OK)
		return r.status;
	*deleted = r.rows > 0;
	return *deleted ? apikeys_bump_generation(a, NULL) : DB_OK;
}

enum db_status
apikeys_switch_org(struct arena *a, const char *key_id, const char *user_id, const char *org_id,
		   struct org *o)
{
	struct db_result r;
	const char *params[3] = {key_id, org_id, user_id};

	memset(o, 0, sizeof(*o));
	o->role = -1;
	if (!id_plausible(org_id))
		return DB_OK;
	if (db_exec(a, &st_switch, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0 && strcmp(db_get(&r, 0, 5), "0") != 0) {
		o->id = db_get(&r, 0, 0);
		o->name = db_get(&r, 0, 1);
		o->slug = db_get(&r, 0, 2);
		o->created_at = db_get(&r, 0, 3);
		o->role = rbac_role_parse(db_get(&r, 0, 4));
	}
	return DB_OK;
}

long long
apikeys_generation(struct arena *a)
{
	struct db_result r;

	if (db_exec(a, &st_generation, NULL, &r) != DB_OK || r.rows == 0)
		return -1;
	return strtoll(db_get(&r, 0, 0), NULL, 10);
}

enum db_status
apikeys_bump_generation(struct arena *a, const char *project_id)
{
	struct db_result r;
	const char *params[1] = {project_id};

	if (db_exec(a, &st_bump, params, &r) != DB_OK)
		return r.status;
	if (project_id != NULL) /* personal tokens are in no runtime cache */
		db_world_touch_project(project_id);
	return DB_OK;
}
