/*
 * Access: members, invitations, the permission catalog (REFERENCE.md
 * "Access", API.md §3 and §4), plus our accept route. The pipeline has
 * already checked the route's permission; the rules here are the ones
 * about whom a change touches: an admin cannot grant owner, change or
 * remove an owner, or change their own role; the last owner can be neither
 * demoted nor removed. The caller's role is rq->actor.role, from the
 * credential; nothing in a body names who acts.
 */
#include <string.h>

#include "app.h"

#define ID_MAX 64
#define EMAIL_IN_MAX 1024
#define ROLE_IN_MAX 64
#define INVITATION_TTL (7L * 24 * 3600)

/* Answers an error, keeping nothing of an open transaction. */
static void
refuse(struct response *rs, int status, const char *code, const char *message,
       const char *field)
{
	db_rollback();
	http_error(rs, status, code, message, field);
}

static void
page_error(struct response *rs, enum db_status st)
{
	if (st == DB_INVALID)
		http_error(rs, 400, "VALIDATION_ERROR", "cursor is not valid", "cursor");
	else
		http_db_error(rs, st);
}

static cJSON *
member_fill(cJSON *o, const struct member *m)
{
	cJSON_AddStringToObject(o, "id", m->id);
	cJSON_AddStringToObject(o, "userId", m->user_id);
	cJSON_AddStringToObject(o, "email", m->email);
	cJSON_AddStringToObject(o, "name", m->name != NULL ? m->name : "");
	cJSON_AddStringToObject(o, "role", m->role);
	cJSON_AddStringToObject(o, "createdAt", m->created_at);
	return o;
}

static cJSON *
invitation_fill(cJSON *o, const struct invitation *inv)
{
	cJSON_AddStringToObject(o, "id", inv->id);
	cJSON_AddStringToObject(o, "email", inv->email);
	json_add_nullable(o, "role", inv->role);
	cJSON_AddStringToObject(o, "status", inv->status);
	cJSON_AddStringToObject(o, "expiresAt", inv->expires_at);
	cJSON_AddStringToObject(o, "createdAt", inv->created_at);
	return o;
}

/* Audit metadata: a JSON object of string members, NULL values left out. */
static const char *
meta(struct arena *a, const char *k1, const char *v1, const char *k2, const char *v2,
     const char *k3, const char *v3)
{
	const char *k[3] = {k1, k2, k3}, *v[3] = {v1, v2, v3};
	struct buf b;
	int i, first = 1;

	buf_init(&b, a);
	buf_putc(&b, '{');
	for (i = 0; i < 3; i++) {
		if (k[i] == NULL || v[i] == NULL)
			continue;
		if (!first)
			buf_putc(&b, ',');
		first = 0;
		buf_json_string(&b, k[i], strlen(k[i]));
		buf_putc(&b, ':');
		buf_json_string(&b, v[i], strlen(v[i]));
	}
	buf_putc(&b, '}');
	return b.data;
}

/* Reads and checks {role}: -1 with a 400 naming the field. */
static int
body_role(struct request *rq, struct response *rs, int *role)
{
	const char *s = NULL;

	if (json_get_string(rq, rs, "role", &s, 1, ROLE_IN_MAX) < 0)
		return -1;
	if ((*role = rbac_role_parse(s)) < 0) {
		http_error(rs, 400, "VALIDATION_ERROR",
			   "role must be exactly one of owner, admin, engineer, viewer", "role");
		return -1;
	}
	return 0;
}

static const char *
path_id(struct request *rq, const char *name)
{
	const char *id = http_param(rq, name);

	return id != NULL && id[0] != '\0' && strlen(id) <= ID_MAX ? id : NULL;
}

/* ------------------------------------------------------------ members */

/* GET /v1/access/members?limit&cursor: 200 {items:[Member],nextCursor},
 * live members oldest first; 400 bad limit or cursor; 401; 403
 * NO_ACTIVE_ORGANIZATION, NOT_A_MEMBER; 503. */
void
res_access_members_list(struct request *rq, struct response *rs)
{
	struct member *items;
	const char *cursor, *next;
	enum db_status st;
	cJSON *arr;
	int limit, n, i;

	if (http_page(rq, rs, &limit, &cursor) < 0)
		return;
	items = arena_alloc(rq->arena, sizeof(*items) * (size_t)limit);
	st = members_list(rq->arena, rq->actor.org_id, limit, cursor, items, &n, &next);
	if (st != DB_OK) {
		page_error(rs, st);
		return;
	}
	arr = cJSON_CreateArray();
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, member_fill(cJSON_CreateObject(), &items[i]));
	http_list(rq, rs, arr, next);
}

/* PATCH /v1/access/members/:memberId {role}: 200 Member; 400 role missing
 * or not exact; 401; 403 FORBIDDEN (role lacks member:manage),
 * CANNOT_CHANGE_OWN_ROLE, CANNOT_GRANT_OWNER, CANNOT_MODIFY_OWNER,
 * LAST_OWNER, bad Origin; 404 no such member in the org; 415; 500 the
 * audit event could not be written (nothing kept); 503. */
void
res_access_member_patch(struct request *rq, struct response *rs)
{
	const char *id = path_id(rq, "memberId");
	enum rbac_role caller = rq->actor.role;
	struct member t, m;
	enum db_status st;
	int role, cur, owners;

	if (body_role(rq, rs, &role) < 0)
		return;
	if (id == NULL) {
		http_error(rs, 404, "NOT_FOUND", "No such member", NULL);
		return;
	}
	if (tx_begin(rs) < 0)
		return;
	if ((st = members_lock(rq->arena, rq->actor.org_id, id, &t, &owners)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (t.id == NULL) {
		refuse(rs, 404, "NOT_FOUND", "No such member", NULL);
		return;
	}
	cur = rbac_role_parse(t.role);
	if (caller != ROLE_OWNER && strcmp(t.id, rq->actor.member_id) == 0) {
		refuse(rs, 403, "CANNOT_CHANGE_OWN_ROLE", "You cannot change your own role", NULL);
		return;
	}
	if (caller != ROLE_OWNER && role == ROLE_OWNER) {
		refuse(rs, 403, "CANNOT_GRANT_OWNER", "Only an owner can make someone an owner",
		       "role");
		return;
	}
	if (caller != ROLE_OWNER && cur == ROLE_OWNER) {
		refuse(rs, 403, "CANNOT_MODIFY_OWNER", "Only an owner can change an owner's role",
		       NULL);
		return;
	}
	if (cur == ROLE_OWNER && role != ROLE_OWNER && owners <= 1) {
		refuse(rs, 403, "LAST_OWNER",
		       "The last owner cannot be demoted: make someone else an owner first", NULL);
		return;
	}
	if (cur == role) { /* nothing changes, nothing to record */
		db_rollback();
		http_json(rs, 200, member_fill(json_object(rq->arena), &t));
		return;
	}
	st = members_set_role(rq->arena, rq->actor.org_id, id, rbac_role_name((enum rbac_role)role),
			      &m);
	if (st == DB_OK && m.id == NULL) /* locked above: cannot vanish */
		st = DB_ERROR;
	if (st != DB_OK ||
	    (st = app_audit(rq, "member.role_changed", "member", m.id, NULL, NULL,
			    meta(rq->arena, "from", t.role, "to", m.role, "userId", m.user_id))) !=
		DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (tx_commit(rs) < 0)
		return;
	http_json(rs, 200, member_fill(json_object(rq->arena), &m));
}

/* DELETE /v1/access/members/:memberId: 204, the seat is gone and the
 * person's next request to the org is refused; 401; 403 FORBIDDEN,
 * CANNOT_MODIFY_OWNER, LAST_OWNER, bad Origin; 404 no such member in the
 * org; 500 audit failed (nothing kept); 503. */
void
res_access_member_delete(struct request *rq, struct response *rs)
{
	const char *id = path_id(rq, "memberId");
	struct member t;
	enum db_status st;
	int cur, owners;

	if (id == NULL) {
		http_error(rs, 404, "NOT_FOUND", "No such member", NULL);
		return;
	}
	if (tx_begin(rs) < 0)
		return;
	if ((st = members_lock(rq->arena, rq->actor.org_id, id, &t, &owners)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (t.id == NULL) {
		refuse(rs, 404, "NOT_FOUND", "No such member", NULL);
		return;
	}
	cur = rbac_role_parse(t.role);
	if (rq->actor.role != ROLE_OWNER && cur == ROLE_OWNER) {
		refuse(rs, 403, "CANNOT_MODIFY_OWNER", "Only an owner can remove an owner", NULL);
		return;
	}
	if (cur == ROLE_OWNER && owners <= 1) {
		refuse(rs, 403, "LAST_OWNER",
		       "The last owner cannot be removed: make someone else an owner first", NULL);
		return;
	}
	if ((st = members_delete(rq->arena, rq->actor.org_id, id)) != DB_OK ||
	    (st = app_audit(rq, "member.removed", "member", t.id, NULL, NULL,
			    meta(rq->arena, "userId", t.user_id, "email", t.email, "role",
				 t.role))) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (tx_commit(rs) < 0)
		return;
	http_no_content(rs);
}

/* -------------------------------------------------------- invitations */

/* GET /v1/access/invitations?limit&cursor: 200 {items:[Invitation],
 * nextCursor}, pending and unexpired, oldest first; 400 bad limit or
 * cursor; 401; 403; 503. */
void
res_access_invitations_list(struct request *rq, struct response *rs)
{
	struct invitation *items;
	const char *cursor, *next;
	enum db_status st;
	cJSON *arr;
	int limit, n, i;

	if (http_page(rq, rs, &limit, &cursor) < 0)
		return;
	items = arena_alloc(rq->arena, sizeof(*items) * (size_t)limit);
	st = invitations_list(rq->arena, rq->actor.org_id, limit, cursor, items, &n, &next);
	if (st != DB_OK) {
		page_error(rs, st);
		return;
	}
	arr = cJSON_CreateArray();
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, invitation_fill(cJSON_CreateObject(), &items[i]));
	http_list(rq, rs, arr, next);
}

/* The invitation mail: who invites, to what, the accept link. Never a
 * secret. */
static enum db_status
invitation_mail(struct request *rq, const struct invitation *inv)
{
	const char *base = config_str(CFG_BETTER_AUTH_URL);
	size_t blen = strlen(base);
	const char *inviter = rq->actor.user.name != NULL && rq->actor.user.name[0] != '\0'
				      ? rq->actor.user.name
				      : rq->actor.user.email;
	const char *org = inv->org_name != NULL ? inv->org_name : "an organization";
	const char *subject, *body;

	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	subject = arena_printf(rq->arena, "You are invited to join %s on shush", org);
	body = arena_printf(rq->arena,
			    "%s (%s) invited you to join the organization \"%s\" on shush as %s.\n"
			    "\n"
			    "Accept the invitation:\n"
			    "%.*s/invitations/%s\n"
			    "\n"
			    "Sign in (or sign up) as %s to accept it. The invitation expires at "
			    "%s.\n"
			    "\n"
			    "If you did not expect this invitation, you can ignore this message.\n",
			    inviter, rq->actor.user.email, org, inv->role, (int)blen, base, inv->id,
			    inv->email, inv->expires_at);
	return mail_enqueue(rq->arena, rq->actor.org_id, inv->email, subject, body);
}

/* POST /v1/access/invitations {email,role}: 201 Invitation (pending, 7
 * days), with its mail queued; 400 email or role missing or invalid (role
 * must be exact); 401; 403 FORBIDDEN, CANNOT_GRANT_OWNER, bad Origin; 409
 * ALREADY_MEMBER, ALREADY_INVITED; 415; 500 audit failed (nothing kept);
 * 503. */
void
res_access_invitation_create(struct request *rq, struct response *rs)
{
	const char *email = NULL;
	struct invitation inv;
	enum db_status st;
	int role, member, invited;

	if (rq->json == NULL) {
		http_error(rs, 400, "VALIDATION_ERROR", "A JSON body {email, role} is required",
			   "email");
		return;
	}
	if (json_get_string(rq, rs, "email", &email, 1, EMAIL_IN_MAX) < 0)
		return;
	if (!users_email_valid(email)) {
		http_error(rs, 400, "VALIDATION_ERROR", "Invalid email address", "email");
		return;
	}
	email = users_email_lower(rq->arena, email);
	if (body_role(rq, rs, &role) < 0)
		return;
	if (rq->actor.role != ROLE_OWNER && role == ROLE_OWNER) {
		http_error(rs, 403, "CANNOT_GRANT_OWNER", "Only an owner can invite an owner", "role");
		return;
	}
	if (tx_begin(rs) < 0)
		return;
	if ((st = invitations_check_email(rq->arena, rq->actor.org_id, email, &member,
					  &invited)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (member) {
		refuse(rs, 409, "ALREADY_MEMBER", "That person is already a member", "email");
		return;
	}
	if (invited) {
		refuse(rs, 409, "ALREADY_INVITED", "That address already has a pending invitation",
		       "email");
		return;
	}
	if ((st = invitations_create(rq->arena, rq->actor.org_id, rq->actor.user_id, email,
				     rbac_role_name((enum rbac_role)role), INVITATION_TTL, &inv)) !=
		DB_OK ||
	    (st = invitation_mail(rq, &inv)) != DB_OK ||
	    (st = app_audit(rq, "invitation.created", "invitation", inv.id, NULL, NULL,
			    meta(rq->arena, "email", inv.email, "role", inv.role, NULL, NULL))) !=
		DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (tx_commit(rs) < 0)
		return;
	http_json(rs, 201, invitation_fill(json_object(rq->arena), &inv));
}

/* 409 for an invitation that is no longer pending; 0 when it is. */
static int
not_pending(struct response *rs, const struct invitation *inv, int expired_too)
{
	if (strcmp(inv->status, "accepted") == 0)
		refuse(rs, 409, "INVITATION_ACCEPTED", "The invitation was already accepted", NULL);
	else if (strcmp(inv->status, "canceled") == 0)
		refuse(rs, 409, "INVITATION_CANCELED", "The invitation was canceled", NULL);
	else if (strcmp(inv->status, "expired") == 0 && expired_too)
		refuse(rs, 409, "INVITATION_EXPIRED", "The invitation has expired", NULL);
	else if (strcmp(inv->status, "pending") != 0 && strcmp(inv->status, "expired") != 0)
		refuse(rs, 409, "INVITATION_NOT_PENDING", "The invitation is no longer pending",
		       NULL);
	else
		return 0;
	return -1;
}

/* POST /v1/access/invitations/:id/cancel: 200 Invitation, status
 * canceled (an expired one can be canceled too); 401; 403 FORBIDDEN, bad
 * Origin; 404 no such invitation in the org; 409 INVITATION_ACCEPTED,
 * INVITATION_CANCELED; 500 audit failed (nothing kept); 503. */
void
res_access_invitation_cancel(struct request *rq, struct response *rs)
{
	const char *id = path_id(rq, "id");
	struct invitation inv, done;
	enum db_status st;

	if (id == NULL) {
		http_error(rs, 404, "NOT_FOUND", "No such invitation", NULL);
		return;
	}
	if (tx_begin(rs) < 0)
		return;
	if ((st = invitations_lock(rq->arena, rq->actor.org_id, id, &inv)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (inv.id == NULL) {
		refuse(rs, 404, "NOT_FOUND", "No such invitation", NULL);
		return;
	}
	if (not_pending(rs, &inv, 0) < 0)
		return;
	st = invitations_set_status(rq->arena, rq->actor.org_id, id, "canceled", &done);
	if (st == DB_OK && done.id == NULL) /* locked above: cannot vanish */
		st = DB_ERROR;
	if (st != DB_OK ||
	    (st = app_audit(rq, "invitation.canceled", "invitation", done.id, NULL, NULL,
			    meta(rq->arena, "email", done.email, "role", done.role, NULL, NULL))) !=
		DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (tx_commit(rs) < 0)
		return;
	http_json(rs, 200, invitation_fill(json_object(rq->arena), &done));
}

/* POST /v1/access/invitations/:id/accept (no org needed): 200
 * {orgId,role}; the caller is seated (or a removed seat revived) and the
 * org becomes the session's active org. Only the person the invitation
 * was sent to: anyone else gets 404, as for an unknown id. 401; 403 bad
 * Origin; 409 INVITATION_ACCEPTED, INVITATION_CANCELED,
 * INVITATION_EXPIRED, INVITATION_NOT_PENDING, INVITATION_INVALID (a role
 * shush does not know), ALREADY_MEMBER; 500 audit failed (nothing kept);
 * 503. */
void
res_access_invitation_accept(struct request *rq, struct response *rs)
{
	const char *id = path_id(rq, "id");
	struct actor *ac = &rq->actor;
	struct invitation inv, done;
	struct member m;
	struct org joined;
	enum db_status st;
	int role;
	cJSON *o;

	if (id == NULL || ac->user.email == NULL) {
		http_error(rs, 404, "NOT_FOUND", "No such invitation", NULL);
		return;
	}
	if (tx_begin(rs) < 0)
		return;
	if ((st = invitations_lock_for_invitee(rq->arena, id, ac->user.email, &inv)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (inv.id == NULL) {
		refuse(rs, 404, "NOT_FOUND", "No such invitation", NULL);
		return;
	}
	if (not_pending(rs, &inv, 1) < 0)
		return;
	if ((role = rbac_role_parse(inv.role)) < 0) {
		refuse(rs, 409, "INVITATION_INVALID", "The invitation names a role shush does not have",
		       NULL);
		return;
	}
	if ((st = members_seat(rq->arena, inv.org_id, ac->user_id, inv.role, &m)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (m.id == NULL) {
		refuse(rs, 409, "ALREADY_MEMBER", "You are already a member of this organization",
		       NULL);
		return;
	}
	if ((st = invitations_set_status(rq->arena, inv.org_id, inv.id, "accepted", &done)) !=
		DB_OK ||
	    (ac->session.id != NULL &&
	     (st = orgs_session_set_active(rq->arena, ac->session.id, inv.org_id)) != DB_OK) ||
	    (ac->session.id == NULL && ac->key.id != NULL &&
	     (st = apikeys_switch_org(rq->arena, ac->key.id, ac->user_id, inv.org_id, &joined)) !=
		     DB_OK)) {
		tx_fail(rs, st);
		return;
	}
	/* The event belongs to the org just joined, the accepting person its
	 * actor. */
	ac->org_id = inv.org_id;
	ac->member_id = m.id;
	ac->role = (enum rbac_role)role;
	if ((st = app_audit(rq, "member.added", "member", m.id, NULL, NULL,
			    meta(rq->arena, "userId", m.user_id, "role", m.role, "invitationId",
				 inv.id))) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (tx_commit(rs) < 0)
		return;
	ac->session.active_org_id = inv.org_id;
	o = json_object(rq->arena);
	cJSON_AddStringToObject(o, "orgId", inv.org_id);
	cJSON_AddStringToObject(o, "role", m.role);
	http_json(rs, 200, o);
}

/* -------------------------------------------------------- permissions */

static cJSON *
perm_names(enum rbac_role r)
{
	enum perm list[PERM__MAX];
	size_t n = rbac_role_permissions(r, list), i;
	cJSON *arr = cJSON_CreateArray();

	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(rbac_perm_name(list[i])));
	return arr;
}

/* GET /v1/access/permissions (no org needed): 200 {permissions:[{name,
 * description}], roles:{owner:[…],admin:[…],engineer:[…],viewer:[…]}}; 401. */
void
res_access_permissions(struct request *rq, struct response *rs)
{
	cJSON *o = json_object(rq->arena), *perms, *roles;
	int p, r;

	perms = cJSON_AddArrayToObject(o, "permissions");
	for (p = PERM_NONE + 1; p < PERM__MAX; p++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "name", rbac_perm_name((enum perm)p));
		cJSON_AddStringToObject(e, "description", rbac_perm_description((enum perm)p));
		cJSON_AddItemToArray(perms, e);
	}
	roles = cJSON_AddObjectToObject(o, "roles");
	for (r = 0; r < ROLE__MAX; r++)
		cJSON_AddItemToObject(roles, rbac_role_name((enum rbac_role)r),
				      perm_names((enum rbac_role)r));
	http_json(rs, 200, o);
}

/* GET /v1/access/members/me/permissions: 200 {role,permissions:[…]} in
 * the active org; 401; 403 NO_ACTIVE_ORGANIZATION, NOT_A_MEMBER; 503. */
void
res_access_my_permissions(struct request *rq, struct response *rs)
{
	cJSON *o = json_object(rq->arena);

	cJSON_AddStringToObject(o, "role", rbac_role_name(rq->actor.role));
	cJSON_AddItemToObject(o, "permissions", perm_names(rq->actor.role));
	http_json(rs, 200, o);
}
