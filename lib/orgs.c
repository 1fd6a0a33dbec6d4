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
