/*
 * The path of one request after fcgi.c has read it, front-loaded like
 * httpd's: route, then content type and JSON, then the route's
 * authentication, the Origin rule, the one permission check, the handler.
 * Every refusal leaves through http_error().
 */
#include <string.h>
#include <strings.h>

#include "app.h"

static const char *const auth_names[AUTH__MAX] = {"none", "session", "apikey", "scim",
						  "stripe"};

const char *
pipeline_auth_name(enum auth_kind k)
{
	return auth_names[k];
}

static int
is_write(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* application/json, optionally with parameters (charset=utf-8). */
static int
is_json_type(const char *ct)
{
	size_t n = strcspn(ct, "; \t");

	return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
	       (n == 21 && strncasecmp(ct, "application/scim+json", 21) == 0);
}

static int
body_is_blank(const struct request *rq)
{
	size_t i;

	for (i = 0; i < rq->body_len; i++)
		if (rq->body[i] != ' ' && rq->body[i] != '\t' && rq->body[i] != '\r' &&
		    rq->body[i] != '\n')
			return 0;
	return 1;
}

/* 1 when a string in the JSON text escapes U+0000: C strings would cut the
 * value there (a password prefix would then match), and PostgreSQL text
 * cannot hold it, so such bodies are refused whole. */
static int
json_has_nul_escape(const char *p, size_t n)
{
	size_t i;
	int in_string = 0;

	for (i = 0; i < n; i++) {
		if (!in_string) {
			in_string = p[i] == '"';
			continue;
		}
		if (p[i] == '"') {
			in_string = 0;
		} else if (p[i] == '\\') {
			if (i + 5 < n && p[i + 1] == 'u' && memcmp(p + i + 2, "0000", 4) == 0)
				return 1;
			i++; /* the escaped character */
		}
	}
	return 0;
}

static void
cjson_delete(void *p)
{
	cJSON_Delete(p);
}

/* 415 for a body that is not JSON, 400 for JSON that does not parse or is
 * not an object. Empty bodies are fine: a POST without input takes none. */
static int
read_json(struct request *rq, struct response *rs)
{
	if (rq->body_len == 0 || body_is_blank(rq))
		return 0;
	if (rq->content_type == NULL || !is_json_type(rq->content_type)) {
		http_error(rs, 415, "UNSUPPORTED_MEDIA_TYPE",
			   "The body must be JSON (Content-Type: application/json)", NULL);
		return -1;
	}
	if (memchr(rq->body, '\0', rq->body_len) != NULL ||
	    json_has_nul_escape(rq->body, rq->body_len)) {
		http_error(rs, 400, "INVALID_JSON", "The body is not valid JSON", NULL);
		return -1;
	}
	rq->json = cJSON_ParseWithLength(rq->body, rq->body_len);
	if (rq->json == NULL) {
		http_error(rs, 400, "INVALID_JSON", "The body is not valid JSON", NULL);
		return -1;
	}
	arena_defer(rq->arena, cjson_delete, rq->json);
	if (!cJSON_IsObject(rq->json)) {
		http_error(rs, 400, "INVALID_JSON", "The body must be a JSON object", NULL);
		return -1;
	}
	return 0;
}

static int
authenticate(struct request *rq, struct response *rs)
{
	switch (rq->route->auth) {
	case AUTH_NONE:
		return 0;
	case AUTH_SESSION:
		return auth_session(rq, rs);
	case AUTH_APIKEY:
	case AUTH_SCIM:
	case AUTH_STRIPE:
	case AUTH__MAX:
		break;
	}
	/* Kinds whose issue is not built yet never let anyone in. */
	http_error(rs, 401, "UNAUTHORIZED", "Authentication required", NULL);
	return -1;
}

/* The org the request acts in, the caller's membership and role in it,
 * and the one permission check of the route. Handlers check no roles. */
static int
org_context(struct request *rq, struct response *rs)
{
	struct actor *ac = &rq->actor;
	struct membership m;
	enum db_status st;

	ac->org_id = ac->session.active_org_id;
	if (ac->org_id == NULL || ac->org_id[0] == '\0') {
		http_error(rs, 403, "NO_ACTIVE_ORGANIZATION",
			   "No active organization: create one or switch to one", NULL);
		return -1;
	}
	if ((st = orgs_membership(rq->arena, ac->org_id, ac->user_id, &m)) != DB_OK) {
		http_db_error(rs, st);
		return -1;
	}
	if (m.member_id == NULL || m.role < 0) {
		http_error(rs, 403, "NOT_A_MEMBER", "You are not a member of the active organization",
			   NULL);
		return -1;
	}
	ac->member_id = m.member_id;
	ac->role = (enum rbac_role)m.role;
	if (!rbac_allows(ac->role, rq->route->perm)) {
		http_error(rs, 403, "FORBIDDEN",
			   arena_printf(rq->arena, "Your role (%s) does not grant %s",
					rbac_role_name(ac->role), rbac_perm_name(rq->route->perm)),
			   NULL);
		return -1;
	}
	return 0;
}

enum db_status
app_audit(struct request *rq, const char *action, const char *target_type, const char *target_id,
	  const char *project_id, const char *environment, const char *metadata_json)
{
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.org_id = rq->actor.org_id;
	ev.actor_type = "user";
	ev.actor_id = rq->actor.user_id;
	ev.actor_email = rq->actor.user.email;
	ev.action = action;
	ev.target_type = target_type;
	ev.target_id = target_id;
	ev.project_id = project_id;
	ev.environment = environment;
	ev.ip = rq->remote_addr;
	ev.user_agent = rq->user_agent;
	ev.request_id = rq->request_id;
	ev.metadata = metadata_json;
	return audit_append(rq->arena, &ev, NULL);
}

int
tx_begin(struct response *rs)
{
	enum db_status st = db_begin();

	if (st != DB_OK) {
		http_db_error(rs, st);
		return -1;
	}
	return 0;
}

int
tx_commit(struct response *rs)
{
	enum db_status st = db_commit();

	if (st != DB_OK) {
		db_rollback();
		http_db_error(rs, st);
		return -1;
	}
	return 0;
}

void
tx_fail(struct response *rs, enum db_status st)
{
	db_rollback();
	http_db_error(rs, st);
}

void
pipeline_run(struct request *rq, struct response *rs)
{
	char allow[128];
	const struct route *rt;

	switch (router_match(rq, allow, sizeof(allow))) {
	case ROUTE_NOT_FOUND:
		http_error(rs, 404, "NOT_FOUND", "No such route", NULL);
		return;
	case ROUTE_BAD_METHOD:
		http_header(rs, "Allow", arena_strdup(rq->arena, allow));
		http_error(rs, 405, "METHOD_NOT_ALLOWED", "Method not allowed on this route", NULL);
		return;
	case ROUTE_FOUND:
		break;
	}
	rt = rq->route;
	if (rt->handler == NULL) {
		http_error(rs, 501, "NOT_IMPLEMENTED",
			   arena_printf(rq->arena, "%s %s is not implemented yet (%s)", rt->method,
					rt->path, rt->issue),
			   NULL);
		return;
	}
	if (!(rt->flags & ROUTE_RAW) && read_json(rq, rs) < 0)
		return;
	/* A cookie-carrying write needs a trusted Origin, before anything
	 * else looks at the cookie (CSRF). */
	if (is_write(rq->method) && rq->cookie != NULL && rq->cookie[0] != '\0' &&
	    !auth_origin_ok(rq, rs))
		return;
	if (authenticate(rq, rs) < 0)
		return;
	if (rt->auth == AUTH_SESSION && !(rt->flags & ROUTE_NO_ORG) && org_context(rq, rs) < 0)
		return;
	rt->handler(rq, rs);
	/* A handler that answered without closing its transaction keeps
	 * nothing. */
	db_rollback();
	if (!rs->done)
		http_error(rs, 500, "INTERNAL_ERROR", "The handler gave no answer", NULL);
}
