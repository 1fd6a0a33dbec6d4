/*
 * People and their sessions, in better-auth's own tables ("user",
 * "session", "account"), so that a better-auth server sharing the database
 * sees the same people and sessions.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shush.h"

#define EMAIL_MAX_LEN 254

/* Timestamps leave PostgreSQL already in the API's format. */
#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* better-auth keeps JavaScript dates: milliseconds, no more. */
#define NOW_MS "date_trunc('milliseconds', now())"
#define MS(col) "(extract(epoch FROM " col ") * 1000)::bigint"

#define USER_COLS                                                                          \
	"u.id, u.name, u.email, u.\"emailVerified\", u.image, " ISO("u.\"createdAt\"") ", " \
	ISO("u.\"updatedAt\"")

#define SESSION_COLS                                                                      \
	"s.id, s.token, s.\"userId\", " ISO("s.\"expiresAt\"") ", " ISO("s.\"createdAt\"") \
	", " ISO("s.\"updatedAt\"") ", s.\"ipAddress\", s.\"userAgent\", "                \
	"s.\"activeOrganizationId\", " MS("s.\"expiresAt\"") ", " MS("s.\"updatedAt\"")

static struct db_stmt st_by_email = {
	"users_by_email",
	"SELECT " USER_COLS ", a.password FROM \"user\" u "
	"LEFT JOIN account a ON a.\"userId\" = u.id AND a.\"providerId\" = 'credential' "
	"WHERE u.email = $1 LIMIT 1",
	1, 0};

static struct db_stmt st_by_id = {
	"users_by_id", "SELECT " USER_COLS " FROM \"user\" u WHERE u.id = $1", 1, 0};

static struct db_stmt st_insert_user = {
	"users_insert",
	"WITH u AS (INSERT INTO \"user\" (id, name, email, \"emailVerified\", image, "
	"\"createdAt\", \"updatedAt\") VALUES ($1, $2, $3, false, NULL, " NOW_MS ", " NOW_MS ") "
	"RETURNING *), a AS (INSERT INTO account (id, \"accountId\", \"providerId\", \"userId\", "
	"password, \"createdAt\", \"updatedAt\") SELECT $4, u.id, 'credential', u.id, $5, " NOW_MS ", "
	"" NOW_MS " FROM u) SELECT " USER_COLS " FROM u",
	5, 0};

static struct db_stmt st_update_user = {
	"users_update",
	"UPDATE \"user\" u SET name = CASE WHEN $2::boolean THEN $3 ELSE name END, "
	"image = CASE WHEN $4::boolean THEN $5 ELSE image END, \"updatedAt\" = " NOW_MS " "
	"WHERE u.id = $1 RETURNING " USER_COLS,
	5, 0};

static struct db_stmt st_session_insert = {
	"session_insert",
	"INSERT INTO session AS s (id, token, \"userId\", \"expiresAt\", \"ipAddress\", "
	"\"userAgent\", \"createdAt\", \"updatedAt\") VALUES ($1, $2, $3, "
	"" NOW_MS " + make_interval(secs => $4::bigint), $5, $6, " NOW_MS ", " NOW_MS ") RETURNING " SESSION_COLS,
	6, 0};

/* One round trip for the session and its user: this runs on every
 * cookie-authenticated request. */
static struct db_stmt st_session_find = {
	"session_find",
	"SELECT " SESSION_COLS ", " USER_COLS " FROM session s JOIN \"user\" u ON u.id = s.\"userId\" "
	"WHERE s.token = $1 AND s.\"expiresAt\" > " NOW_MS "",
	1, 0};

static struct db_stmt st_session_extend = {
	"session_extend",
	"UPDATE session s SET \"expiresAt\" = " NOW_MS " + make_interval(secs => $2::bigint), "
	"\"updatedAt\" = " NOW_MS " WHERE s.id = $1 RETURNING " SESSION_COLS,
	2, 0};

static struct db_stmt st_session_delete = {
	"session_delete", "DELETE FROM session WHERE token = $1", 1, 0};

/* zod's email() as better-auth 1.7.25 applies it, so that every address
 * one side accepts the other accepts too (ASCII only, dotted local part,
 * a letters-only top-level domain). */
int
users_email_valid(const char *e)
{
	static regex_t re;
	static int compiled;

	if (e == NULL)
		return 0;
	if (!compiled) {
		if (regcomp(&re,
			    "^([A-Za-z0-9_'+-]+\\.)*[A-Za-z0-9_'+-]*[A-Za-z0-9_+-]"
			    "@([A-Za-z0-9][A-Za-z0-9-]*\\.)+[A-Za-z][A-Za-z]+$",
			    REG_EXTENDED | REG_NOSUB) != 0)
			return 0;
		compiled = 1;
	}
	return strlen(e) <= EMAIL_MAX_LEN && regexec(&re, e, 0, NULL, 0) == 0;
}

char *
users_email_lower(struct arena *a, const char *e)
{
	char *o = arena_strdup(a, e);
	char *p;

	for (p = o; p != NULL && *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return o;
}

void
id_new(char out[ID_LEN + 1])
{
	if (crypto_random_alnum(out, ID_LEN) < 0) {
		/* Without randomness no id or token is safe to hand out. */
		log_msg(LOG_ERROR, "crypto.random_failed", "RAND_bytes failed");
		abort();
	}
}

#define SESSION_NCOLS 11

static void
read_user_at(const struct db_result *r, int row, int c, struct user *u)
{
	const char *verified = db_get(r, row, c + 3);

	u->id = db_get(r, row, c);
	u->name = db_get(r, row, c + 1);
	u->email = db_get(r, row, c + 2);
	u->email_verified = verified != NULL && verified[0] == 't';
	u->image = db_get(r, row, c + 4);
	u->created_at = db_get(r, row, c + 5);
	u->updated_at = db_get(r, row, c + 6);
}

static void
read_user(const struct db_result *r, int row, struct user *u)
{
	read_user_at(r, row, 0, u);
}

static void
read_session(const struct db_result *r, int row, struct session *s)
{
	const char *v;

	s->id = db_get(r, row, 0);
	s->token = db_get(r, row, 1);
	s->user_id = db_get(r, row, 2);
	s->expires_at = db_get(r, row, 3);
	s->created_at = db_get(r, row, 4);
	s->updated_at = db_get(r, row, 5);
	s->ip_address = db_get(r, row, 6);
	s->user_agent = db_get(r, row, 7);
	s->active_org_id = db_get(r, row, 8);
	v = db_get(r, row, 9);
	s->expires_ms = v != NULL ? strtoll(v, NULL, 10) : 0;
	v = db_get(r, row, 10);
	s->updated_ms = v != NULL ? strtoll(v, NULL, 10) : 0;
}

enum db_status
users_find_by_email(struct arena *a, const char *email, struct user *u, const char **password_hash)
{
	struct db_result r;
	const char *params[1] = {email};

	memset(u, 0, sizeof(*u));
	*password_hash = NULL;
	if (db_exec(a, &st_by_email, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0) {
		read_user(&r, 0, u);
		*password_hash = db_get(&r, 0, 7);
	}
	return DB_OK;
}

enum db_status
users_find_by_id(struct arena *a, const char *id, struct user *u)
{
	struct db_result r;
	const char *params[1] = {id};

	memset(u, 0, sizeof(*u));
	if (db_exec(a, &st_by_id, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		read_user(&r, 0, u);
	return DB_OK;
}

enum db_status
users_create(struct arena *a, const char *name, const char *email, const char *password_hash,
	     struct user *u)
{
	struct db_result r;
	char user_id[ID_LEN + 1], account_id[ID_LEN + 1];
	const char *params[5] = {user_id, name, email, account_id, password_hash};

	memset(u, 0, sizeof(*u));
	id_new(user_id);
	id_new(account_id);
	if (db_exec(a, &st_insert_user, params, &r) != DB_OK)
		return r.status;
	if (r.rows != 1)
		return DB_ERROR;
	read_user(&r, 0, u);
	return DB_OK;
}

enum db_status
users_update(struct arena *a, const char *id, const char *name, int set_name, const char *image,
	     int set_image, struct user *u)
{
	struct db_result r;
	const char *params[5] = {id, set_name ? "true" : "false", name, set_image ? "true" : "false",
				 image};

	memset(u, 0, sizeof(*u));
	if (db_exec(a, &st_update_user, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		read_user(&r, 0, u);
	return DB_OK;
}

enum db_status
users_session_create(struct arena *a, const char *user_id, long ttl, const char *ip,
		     const char *ua, struct session *s)
{
	struct db_result r;
	char id[ID_LEN + 1], token[ID_LEN + 1], secs[24];
	const char *params[6] = {id, token, user_id, secs, ip, ua};

	memset(s, 0, sizeof(*s));
	id_new(id);
	id_new(token);
	snprintf(secs, sizeof(secs), "%ld", ttl);
	if (db_exec(a, &st_session_insert, params, &r) != DB_OK)
		return r.status;
	if (r.rows != 1)
		return DB_ERROR;
	read_session(&r, 0, s);
	crypto_wipe(token, sizeof(token));
	return DB_OK;
}

enum db_status
users_session_find(struct arena *a, const char *token, struct session *s, struct user *u)
{
	struct db_result r;
	const char *params[1] = {token};

	memset(s, 0, sizeof(*s));
	memset(u, 0, sizeof(*u));
	if (db_exec(a, &st_session_find, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0) {
		read_session(&r, 0, s);
		read_user_at(&r, 0, SESSION_NCOLS, u);
	}
	return DB_OK;
}

enum db_status
users_session_extend(struct arena *a, struct session *s, long ttl)
{
	struct db_result r;
	char secs[24];
	const char *params[2] = {s->id, secs};

	snprintf(secs, sizeof(secs), "%ld", ttl);
	if (db_exec(a, &st_session_extend, params, &r) != DB_OK)
		return r.status;
	if (r.rows > 0)
		read_session(&r, 0, s);
	return DB_OK;
}

enum db_status
users_session_delete(struct arena *a, const char *token)
{
	struct db_result r;
	const char *params[1] = {token};

	return db_exec(a, &st_session_delete, params, &r);
}
