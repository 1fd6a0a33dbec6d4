/*
 * Members and invitations of an org, in better-auth's organization-plugin
 * tables ("member", "invitation"). Every statement names the org it works
 * in (the accept path, which has none yet, is scoped by the invitee's
 * e-mail instead). Role rules live in the handlers; what is here is the
 * data and the locks those rules need.
 */
#include <stdio.h>
#include <string.h>

#include "shush.h"

/* Timestamps leave PostgreSQL already in the API's format. */
#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* The exact sort key of a row, for keyset cursors (microseconds). */
#define KEY(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
#define NOW_MS "date_trunc('milliseconds', now())"

#define MEMBER_COLS                                                                        \
	"m.id, m.\"userId\", u.email, u.name, m.role, " ISO("m.\"createdAt\"") ", " \
	KEY("m.\"createdAt\"")
enum { MC_ID, MC_USER, MC_EMAIL, MC_NAME, MC_ROLE, MC_CREATED, MC_KEY, MC__N };

/* better-auth's "rejected" shows as canceled; a pending invitation past
 * its expiry as expired. */
#define INV_COLS                                                                          \
	"i.id, i.\"organizationId\", i.email, i.role, CASE WHEN i.status = 'pending' AND "   \
	"i.\"expiresAt\" <= now() THEN 'expired' WHEN i.status = 'rejected' THEN 'canceled' " \
	"ELSE i.status END, " ISO("i.\"expiresAt\"") ", " ISO("i.\"createdAt\"") ", "        \
	KEY("i.\"createdAt\"")
enum { IC_ID, IC_ORG, IC_EMAIL, IC_ROLE, IC_STATUS, IC_EXPIRES, IC_CREATED, IC_KEY, IC__N };

static struct db_stmt st_list = {
	"members_list",
	"SELECT " MEMBER_COLS " FROM member m JOIN \"user\" u ON u.id = m.\"userId\" "
	"WHERE m.\"organizationId\" = $1 AND m.\"removedAt\" IS NULL "
	"AND ($2::timestamptz IS NULL OR (m.\"createdAt\", m.id) > ($2::timestamptz, $3::text)) "
	"ORDER BY m.\"createdAt\", m.id LIMIT $4",
	4, 0};

/* The org's live owners and the target, locked in id order: every change
 * of a role or a seat takes these locks first, so two of them never race
 * past the last-owner rule (a row demoted meanwhile no longer matches when
 * the waiter re-reads it). */
static struct db_stmt st_lock = {
	"members_lock",
	"SELECT " MEMBER_COLS " FROM member m JOIN \"user\" u ON u.id = m.\"userId\" "
	"WHERE m.\"organizationId\" = $1 AND m.\"removedAt\" IS NULL "
	"AND (m.role = 'owner' OR m.id = $2) ORDER BY m.id FOR UPDATE OF m",
	2, 0};

static struct db_stmt st_set_role = {
	"members_set_role",
	"WITH m AS (UPDATE member SET role = $3 WHERE \"organizationId\" = $1 AND id = $2 "
	"AND \"removedAt\" IS NULL RETURNING *) "
	"SELECT " MEMBER_COLS " FROM m JOIN \"user\" u ON u.id = m.\"userId\"",
	3, 0};

static struct db_stmt st_delete = {
	"members_delete", "DELETE FROM member WHERE \"organizationId\" = $1 AND id = $2", 2, 0};

static struct db_stmt st_email_live = {
	"members_email_live",
	"SELECT 1 FROM member m JOIN \"user\" u ON u.id = m.\"userId\" "
	"WHERE m.\"organizationId\" = $1 AND m.\"removedAt\" IS NULL AND lower(u.email) = $2",
	2, 0};

/* A new seat, or a removed member's seat revived; no row when the person
 * already holds a live seat. */
static struct db_stmt st_seat = {
	"members_seat",
	"WITH m AS (INSERT INTO member AS t (id, \"organizationId\", \"userId\", role, "
	"\"createdAt\") VALUES ($1, $2, $3, $4, " NOW_MS ") ON CONFLICT (\"organizationId\", "
	"\"userId\") DO UPDATE SET role = EXCLUDED.role, \"removedAt\" = NULL "
	"WHERE t.\"removedAt\" IS NOT NULL RETURNING *) "
	"SELECT " MEMBER_COLS " FROM m JOIN \"user\" u ON u.id = m.\"userId\"",
	4, 0};

static struct db_stmt st_inv_list = {
	"invitations_list",
	"SELECT " INV_COLS " FROM invitation i WHERE i.\"organizationId\" = $1 "
	"AND i.status = 'pending' AND i.\"expiresAt\" > now() "
	"AND ($2::timestamptz IS NULL OR (i.\"createdAt\", i.id) > ($2::timestamptz, $3::text)) "
	"ORDER BY i.\"createdAt\", i.id LIMIT $4",
	4, 0};

/* Serialises invitations of one address to one org until commit. */
static struct db_stmt st_inv_email_lock = {
	"invitations_email_lock",
	"SELECT pg_advisory_xact_lock(hashtextextended('shush.invitation:' || $1 || ':' || $2, 0))",
	2, 0};

static struct db_stmt st_inv_pending = {
	"invitations_pending",
	"SELECT 1 FROM invitation WHERE \"organizationId\" = $1 AND lower(email) = $2 "
	"AND status = 'pending' AND \"expiresAt\" > now() LIMIT 1",
	2, 0};

static struct db_stmt st_inv_insert = {
	"invitations_insert",
	"WITH i AS (INSERT INTO invitation (id, \"organizationId\", email, role, status, "
	"\"expiresAt\", \"createdAt\", \"inviterId\") VALUES ($1, $2, $3, $4, 'pending', "
	"" NOW_MS " + make_interval(secs => $5::bigint), " NOW_MS ", $6) RETURNING *) "
	"SELECT " INV_COLS ", o.name FROM i JOIN organization o ON o.id = i.\"organizationId\"",
	6, 0};

static struct db_stmt st_inv_lock = {
	"invitations_lock",
	"SELECT " INV_COLS " FROM invitation i WHERE i.id = $1 AND i.\"organizationId\" = $2 "
	"FOR UPDATE",
	2, 0};

static struct db_stmt st_inv_lock_invitee = {
	"invitations_lock_invitee",
	"SELECT " INV_COLS " FROM invitation i WHERE i.id = $1 AND lower(i.email) = lower($2) "
	"FOR UPDATE",
	2, 0};

static struct db_stmt st_inv_set_status = {
	"invitations_set_status",
	"UPDATE invitation i SET status = $3 WHERE i.id = $1 AND i.\"organizationId\" = $2 "
	"RETURNING " INV_COLS,
	3, 0};

/* Cursors: lib/cursor.c. */

/* --------------------------------------------------------------- rows */

static void
read_member(const struct db_result *r, int row, struct member *m)
{
	m->id = db_get(r, row, MC_ID);
	m->user_id = db_get(r, row, MC_USER);
	m->email = db_get(r, row, MC_EMAIL);
	m->name = db_get(r, row, MC_NAME);
	m->role = db_get(r, row, MC_ROLE);
	m->created_at = db_get(r, row, MC_CREATED);
}

static void
read_invitation(const struct db_result *r, int row, struct invitation *inv)
{
	inv->id = db_get(r, row, IC_ID);
	inv->org_id = db_get(r, row, IC_ORG);
	inv->email = db_get(r, row, IC_EMAIL);
	inv->role = db_get(r, row, IC_ROLE);
	inv->status = db_get(r, row, IC_STATUS);
	inv->expires_at = db_get(r, row, IC_EXPIRES);
	inv->created_at = db_get(r, row, IC_CREATED);
	inv->org_name = NULL;
}

/* One page of a keyset list: limit+1 rows asked, the extra one only says
 * that there is a next page. */
static enum db_status
page(struct arena *a, struct db_stmt *st, const char *org_id, int limit, const char *cursor,
     struct db_result *r, int *n, int key_col, int id_col, const char **next)
{
	const char *key = NULL, *id = NULL, *params[4];
	char lim[16];

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
	if (db_exec(a, st, params, r) != DB_OK)
		return r->status;
	*n = r->rows > limit ? limit : r->rows;
	if (r->rows > limit)
		*next = cursor_encode_stamp(a, db_get(r, *n - 1, key_col), db_get(r, *n - 1, id_col));
	return DB_OK;
}

/* ------------------------------------------------------------ members */

enum db_status
members_list(struct arena *a, const char *org_id, int limit, const char *cursor,
	     struct member *items, int *n, const char **next)
{
	struct db_result r;
	enum db_status st;
	int i;

	if ((st = page(a, &st_list, org_id, limit, cursor, &r, n, MC_KEY, MC_ID, next)) != DB_OK)
		return st;
	for (i = 0; i < *n; i++)
		read_member(&r, i, &items[i]);
	return DB_OK;
}

enum db_status
members_lock(struct arena *a, const char *org_id, const char *member_id, struct member *target,
	     int *owners)
{
	struct db_result r;
	const char *params[2] = {org_id, member_id};
	int i;

	memset(target, 0, sizeof(*target));
	*owners = 0;
	if (db_exec(a, &st_lock, params, &r) != DB_OK)
		return r.status;
	for (i = 0; i < r.rows; i++) {
		const char *role = db_get(&r, i, MC_ROLE);

		if (role != NULL && strcmp(role, "owner") == 0)
			(*owners)++;
		if (strcmp(db_get(&r, i, MC_ID), member_id) == 0)
			read_member(&r, i, target);
	}
	return DB_OK;
}

enum db_status
members_set_role(struct arena *a, const char *org_id, const char *member_id, const char *role,
		 struct member *m)
{
	struct db_result r;
	const char *params[3] = {org_id, member_id, role};

	memset(m, 0, sizeof(*m));
	if (db_exec(a, &st_set_role, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		read_member(&r, 0, m);
	return DB_OK;
}

enum db_status
members_delete(struct arena *a, const char *org_id, const char *member_id)
{
	struct db_result r;
	const char *params[2] = {org_id, member_id};

	return db_exec(a, &st_delete, params, &r);
}

enum db_status
members_email_is_member(struct arena *a, const char *org_id, const char *email, int *yes)
{
	struct db_result r;
	const char *params[2] = {org_id, email};

	*yes = 0;
	if (db_exec(a, &st_email_live, params, &r) != DB_OK)
		return r.status;
	*yes = r.rows > 0;
	return DB_OK;
}

enum db_status
members_seat(struct arena *a, const char *org_id, const char *user_id, const char *role,
	     struct member *m)
{
	struct db_result r;
	char id[ID_LEN + 1];
	const char *params[4] = {id, org_id, user_id, role};

	memset(m, 0, sizeof(*m));
	id_new(id);
	if (db_exec(a, &st_seat, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		read_member(&r, 0, m);
	return DB_OK;
}

/* -------------------------------------------------------- invitations */

enum db_status
invitations_list(struct arena *a, const char *org_id, int limit, const char *cursor,
		 struct invitation *items, int *n, const char **next)
{
	struct db_result r;
	enum db_status st;
	int i;

	if ((st = page(a, &st_inv_list, org_id, limit, cursor, &r, n, IC_KEY, IC_ID, next)) !=
	    DB_OK)
		return st;
	for (i = 0; i < *n; i++)
		read_invitation(&r, i, &items[i]);
	return DB_OK;
}

enum db_status
invitations_check_email(struct arena *a, const char *org_id, const char *email, int *member,
			int *invited)
{
	struct db_result r;
	const char *params[2] = {org_id, email};
	enum db_status st;

	*member = *invited = 0;
	if (db_exec(a, &st_inv_email_lock, params, &r) != DB_OK)
		return r.status;
	if ((st = members_email_is_member(a, org_id, email, member)) != DB_OK || *member)
		return st;
	if (db_exec(a, &st_inv_pending, params, &r) != DB_OK)
		return r.status;
	*invited = r.rows > 0;
	return DB_OK;
}

enum db_status
invitations_create(struct arena *a, const char *org_id, const char *inviter_id,
		   const char *email, const char *role, long ttl_seconds, struct invitation *inv)
{
	struct db_result r;
	char id[ID_LEN + 1], secs[24];
	const char *params[6] = {id, org_id, email, role, secs, inviter_id};

	memset(inv, 0, sizeof(*inv));
	id_new(id);
	snprintf(secs, sizeof(secs), "%ld", ttl_seconds);
	if (db_exec(a, &st_inv_insert, params, &r) != DB_OK)
		return r.status;
	if (r.rows != 1)
		return DB_ERROR;
	read_invitation(&r, 0, inv);
	inv->org_name = db_get(&r, 0, IC__N);
	return DB_OK;
}

enum db_status
invitations_lock(struct arena *a, const char *org_id, const char *id, struct invitation *inv)
{
	struct db_result r;
	const char *params[2] = {id, org_id};

	memset(inv, 0, sizeof(*inv));
	if (db_exec(a, &st_inv_lock, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		read_invitation(&r, 0, inv);
	return DB_OK;
}

enum db_status
invitations_lock_for_invitee(struct arena *a, const char *id, const char *email,
			     struct invitation *inv)
{
	struct db_result r;
	const char *params[2] = {id, email};

	memset(inv, 0, sizeof(*inv));
	if (db_exec(a, &st_inv_lock_invitee, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		read_invitation(&r, 0, inv);
	return DB_OK;
}

enum db_status
invitations_set_status(struct arena *a, const char *org_id, const char *id, const char *status,
		       struct invitation *inv)
{
	struct db_result r;
	const char *params[3] = {id, org_id, status};

	memset(inv, 0, sizeof(*inv));
	if (db_exec(a, &st_inv_set_status, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		read_invitation(&r, 0, inv);
	return DB_OK;
}
