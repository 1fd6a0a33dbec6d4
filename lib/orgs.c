/*
 * Organizations and membership, in better-auth's organization-plugin
 * tables ("organization", "member", "invitation").
 */
#include <string.h>

#include "shush.h"

static struct db_stmt st_membership = {
	"orgs_membership",
	"SELECT m.id, m.role, m.\"removedAt\" IS NOT NULL FROM member m "
	"JOIN organization o ON o.id = m.\"organizationId\" "
	"WHERE m.\"organizationId\" = $1 AND m.\"userId\" = $2",
	2, 0};

enum db_status
orgs_membership(struct arena *a, const char *org_id, const char *user_id, struct membership *m)
{
	struct db_result r;
	const char *params[2] = {org_id, user_id};
	const char *removed;

	memset(m, 0, sizeof(*m));
	m->role = -1;
	if (db_exec(a, &st_membership, params, &r) != DB_OK)
		return r.status;
	if (r.rows == 0)
		return DB_OK;
	removed = db_get(&r, 0, 2);
	if (removed != NULL && removed[0] == 't')
		return DB_OK;
	m->member_id = db_get(&r, 0, 0);
	m->role = rbac_role_parse(db_get(&r, 0, 1));
	return DB_OK;
}

/* ------------------------------------------------------------------ */
/* The organizations themselves (REFERENCE.md "Organizations"). */

/* Timestamps leave PostgreSQL already in the API's format. */
#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* better-auth keeps JavaScript dates: milliseconds, no more. */
#define NOW_MS "date_trunc('milliseconds', now())"

/* id, name, slug, createdAt, the caller's role */
#define ORG_COLS "o.id, o.name, o.slug, " ISO("o.\"createdAt\"")

static struct db_stmt st_list_mine = {
	"orgs_list_mine",
	"SELECT " ORG_COLS ", m.role FROM member m "
	"JOIN organization o ON o.id = m.\"organizationId\" "
	"WHERE m.\"userId\" = $1 AND m.\"removedAt\" IS NULL "
	"ORDER BY o.\"createdAt\", o.id",
	1, 0};

static struct db_stmt st_get = {
	"orgs_get",
	"SELECT " ORG_COLS ", m.role FROM organization o "
	"JOIN member m ON m.\"organizationId\" = o.id "
	"WHERE o.id = $1 AND m.\"userId\" = $2 AND m.\"removedAt\" IS NULL",
	2, 0};

/* The org and its owner in one statement; a taken slug inserts nothing and
 * leaves the transaction usable (no error), so a derived slug can retry. */
static struct db_stmt st_create = {
	"orgs_create",
	"WITH o AS (INSERT INTO organization (id, name, slug, logo, \"createdAt\", metadata) "
	"VALUES ($1, $2, $3, NULL, " NOW_MS ", NULL) ON CONFLICT (slug) DO NOTHING RETURNING *), "
	"m AS (INSERT INTO member (id, \"organizationId\", \"userId\", role, \"createdAt\") "
	"SELECT $4, o.id, $5, 'owner', o.\"createdAt\" FROM o RETURNING id) "
	"SELECT " ORG_COLS ", 'owner', (SELECT id FROM m) FROM o",
	5, 0};

/* NULL leaves a column as it is; the old values come back for the audit. */
static struct db_stmt st_update = {
	"orgs_update",
	"WITH old AS (SELECT id, name, slug FROM organization WHERE id = $1 FOR UPDATE) "
	"UPDATE organization o SET name = COALESCE($2, o.name), slug = COALESCE($3, o.slug) "
	"FROM old WHERE o.id = old.id RETURNING " ORG_COLS ", old.name, old.slug",
	3, 0};

/* Every session pointing at the org loses it, then the org goes; the
 * foreign keys cascade to members, invitations, audit and the rest. */
static struct db_stmt st_delete = {
	"orgs_delete",
	"WITH s AS (UPDATE session SET \"activeOrganizationId\" = NULL "
	"WHERE \"activeOrganizationId\" = $1 RETURNING 1) "
	"DELETE FROM organization WHERE id = $1 "
	"RETURNING id, (SELECT count(*) FROM s), pg_notify('" RUNTIME_NOTIFY_CHANNEL "', id)",
	1, 0};

static struct db_stmt st_set_active = {
	"orgs_set_active",
	"UPDATE session SET \"activeOrganizationId\" = $2, \"updatedAt\" = " NOW_MS " WHERE id = $1",
	2, 0};

/* The switch: the session moves only to an org where its user is a live
 * member, checked in the same statement. */
static struct db_stmt st_switch = {
	"orgs_switch",
	"WITH t AS (SELECT " ORG_COLS ", m.role FROM organization o "
	"JOIN member m ON m.\"organizationId\" = o.id "
	"WHERE o.id = $2 AND m.\"userId\" = $3 AND m.\"removedAt\" IS NULL), "
	"s AS (UPDATE session SET \"activeOrganizationId\" = t.id, \"updatedAt\" = " NOW_MS " "
	"FROM t WHERE session.id = $1 AND session.\"userId\" = $3 RETURNING session.id) "
	"SELECT t.*, (SELECT count(*) FROM s) FROM t",
	3, 0};

static void
read_org(const struct db_result *r, int row, struct org *o)
{
	o->id = db_get(r, row, 0);
	o->name = db_get(r, row, 1);
	o->slug = db_get(r, row, 2);
	o->created_at = db_get(r, row, 3);
	o->role = rbac_role_parse(db_get(r, row, 4));
}

static int
slug_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int
orgs_slug_valid(const char *slug)
{
	size_t i, n = strlen(slug);

	if (n < ORG_SLUG_MIN || n > ORG_SLUG_MAX || !slug_char(slug[0]) || !slug_char(slug[n - 1]))
		return 0;
	for (i = 1; i + 1 < n; i++)
		if (!slug_char(slug[i]) && slug[i] != '-')
			return 0;
	return 1;
}

void
orgs_slug_from_name(const char *name, char out[ORG_SLUG_MAX + 1])
{
	size_t n = 0;
	int dash = 0;

	for (; *name != '\0' && n < ORG_SLUG_MAX; name++) {
		char c = *name;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (slug_char(c)) {
			if (dash && n > 0)
				out[n++] = '-';
			dash = 0;
			if (n < ORG_SLUG_MAX)
				out[n++] = c;
		} else {
			dash = 1;
		}
	}
	while (n > 0 && out[n - 1] == '-')
		n--;
	out[n] = '\0';
}

enum db_status
orgs_list_mine(struct arena *a, const char *user_id, struct org **items, int *n)
{
	struct db_result r;
	const char *params[1] = {user_id};
	int i;

	*items = NULL;
	*n = 0;
	if (db_exec(a, &st_list_mine, params, &r) != DB_OK)
		return r.status;
	if (r.rows == 0)
		return DB_OK;
	*items = arena_alloc(a, (size_t)r.rows * sizeof(**items));
	for (i = 0; i < r.rows; i++)
		read_org(&r, i, &(*items)[i]);
	*n = r.rows;
	return DB_OK;
}

enum db_status
orgs_get(struct arena *a, const char *org_id, const char *user_id, struct org *o)
{
	struct db_result r;
	const char *params[2] = {org_id, user_id};

	memset(o, 0, sizeof(*o));
	o->role = -1;
	if (db_exec(a, &st_get, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		read_org(&r, 0, o);
	return DB_OK;
}

enum db_status
orgs_create(struct arena *a, const char *name, const char *slug, const char *user_id,
	    struct org *o, const char **member_id)
{
	struct db_result r;
	char org_id[ID_LEN + 1], mem_id[ID_LEN + 1];
	const char *params[5] = {org_id, name, slug, mem_id, user_id};

	memset(o, 0, sizeof(*o));
	o->role = -1;
	*member_id = NULL;
	id_new(org_id);
	id_new(mem_id);
	if (db_exec(a, &st_create, params, &r) != DB_OK)
		return r.status;
	if (r.rows == 0)
		return DB_CONFLICT; /* the slug is taken */
	read_org(&r, 0, o);
	*member_id = db_get(&r, 0, 5);
	return DB_OK;
}

enum db_status
orgs_update(struct arena *a, const char *org_id, const char *name, const char *slug,
	    struct org *o, const char **old_name, const char **old_slug)
{
	struct db_result r;
	const char *params[3] = {org_id, name, slug};

	memset(o, 0, sizeof(*o));
	o->role = -1;
	*old_name = *old_slug = NULL;
	if (db_exec(a, &st_update, params, &r) != DB_OK)
		return r.status;
	if (r.rows == 0)
		return DB_OK;
	o->id = db_get(&r, 0, 0);
	o->name = db_get(&r, 0, 1);
	o->slug = db_get(&r, 0, 2);
	o->created_at = db_get(&r, 0, 3);
	*old_name = db_get(&r, 0, 4);
	*old_slug = db_get(&r, 0, 5);
	return DB_OK;
}

enum db_status
orgs_delete(struct arena *a, const char *org_id, int *deleted)
{
	struct db_result r;
	const char *params[1] = {org_id};

	*deleted = 0;
	if (db_exec(a, &st_delete, params, &r) != DB_OK)
		return r.status;
	*deleted = r.rows > 0;
	if (*deleted)
		db_world_touch(); /* its keys went with it */
	return DB_OK;
}

enum db_status
orgs_session_set_active(struct arena *a, const char *session_id, const char *org_id)
{
	struct db_result r;
	const char *params[2] = {session_id, org_id};

	return db_exec(a, &st_set_active, params, &r);
}

enum db_status
orgs_switch(struct arena *a, const char *session_id, const char *user_id, const char *org_id,
	    struct org *o)
{
	struct db_result r;
	const char *params[3] = {session_id, org_id, user_id};

	memset(o, 0, sizeof(*o));
	o->role = -1;
	if (db_exec(a, &st_switch, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		read_org(&r, 0, o);
	return DB_OK;
}
