/*
 * The path of one request after fcgi.c has read it, front-loaded like
 * httpd's: route, then content type and JSON, then the route's
 * authentication, the Origin rule, the Idempotency-Key step, the one
 * permission check, the handler. Every refusal leaves through http_error().
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
	if ((rq->route->flags & ROUTE_TEXT) && rq->content_type != NULL &&
	    strncasecmp(rq->content_type, "text/plain", 10) == 0 &&
	    strchr("; \t", rq->content_type[10]) != NULL)
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
		/* A personal token (Bearer shush_…) wins over any cookie; an
		 * environment key is refused here (401 INVALID_API_KEY). */
		if (auth_bearer_key(rq) != NULL)
			return auth_apikey(rq, rs, "user");
		return auth_session(rq, rs);
	case AUTH_APIKEY:
		return auth_apikey(rq, rs, "environment");
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

	ac->org_id = ac->key.id != NULL ? ac->key.active_org_id : ac->session.active_org_id;
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
	return app_require(rq, rs, rq->route->perm);
}

int
app_require(struct request *rq, struct response *rs, enum perm perm)
{
	if (rbac_allows(rq->actor.role, perm))
		return 0;
	http_error(rs, 403, "FORBIDDEN",
		   arena_printf(rq->arena, "Your role (%s) does not grant %s",
				rbac_role_name(rq->actor.role), rbac_perm_name(perm)),
		   NULL);
	return -1;
}

int
app_reveal(struct request *rq, struct response *rs, int *reveal)
{
	const char *v = http_query(rq, "reveal");

	*reveal = 0;
	if (v != NULL && strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
		http_error(rs, 400, "VALIDATION_ERROR", "reveal must be true or false", "reveal");
		return -1;
	}
	*reveal = v != NULL && strcmp(v, "true") == 0;
	return *reveal ? app_require(rq, rs, PERM_SECRET_READ) : 0;
}

/* ------------------------------------------------------ Idempotency-Key */
/* API.md §1, for the writes of session-authenticated routes: the first
 * answer to a key is kept 24 h and replayed to a repeat of the same
 * request by the same user; the key is claimed before the handler runs so
 * that concurrent duplicates never both run the change. */

struct idem_step {
	struct idem_request r;
	const char *claim; /* NULL: no key (or not this kind of route) */
};

/* The headers of an answer worth replaying; never Set-Cookie. */
static const char *const idem_kept_headers[] = {"Location", "Retry-After"};

static int
idem_applies(const struct request *rq)
{
	static const char *const methods[] = {"POST", "PATCH", "PUT", "DELETE"};
	size_t i;

	if (rq->idempotency_key == NULL || rq->route->auth != AUTH_SESSION)
		return 0;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(rq->method, methods[i]) == 0)
			return 1;
	return 0;
}

static int
idem_header_kept(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(idem_kept_headers) / sizeof(idem_kept_headers[0]); i++)
		if (strcasecmp(name, idem_kept_headers[i]) == 0)
			return 1;
	return 0;
}

/* The stored answer, after whatever this request's authentication set
 * (a refreshed session cookie is this request's, not a replayed one). */
static void
idem_replay(struct request *rq, struct response *rs, const struct idem_record *rec)
{
	cJSON *hs = cJSON_Parse(rec->headers != NULL ? rec->headers : "[]");
	const cJSON *h;

	if (hs != NULL)
		arena_defer(rq->arena, cjson_delete, hs);
	cJSON_ArrayForEach(h, hs)
	{
		const cJSON *n = cJSON_GetArrayItem(h, 0), *v = cJSON_GetArrayItem(h, 1);

		if (cJSON_IsString(n) && cJSON_IsString(v) && idem_header_kept(n->valuestring))
			http_header(rs, arena_strdup(rq->arena, n->valuestring),
				    arena_strdup(rq->arena, v->valuestring));
	}
	http_header(rs, "Idempotent-Replayed", "true");
	rs->status = rec->status;
	rs->content_type = rec->content_type;
	rs->body.len = 0;
	buf_append(&rs->body, rec->body, rec->body_len);
	rs->done = 1;
}

/* Before the handler: 0 to run it (holding the key's claim when one came),
 * -1 when answered here (a replay, or a refusal). */
static int
idem_begin(struct request *rq, struct response *rs, struct idem_step *is)
{
	struct idem_record rec;
	enum db_status st;
	char *hash;

	memset(is, 0, sizeof(*is));
	if (!idem_applies(rq))
		return 0;
	if (!idem_key_valid(rq->idempotency_key)) {
		http_error(rs, 400, "VALIDATION_ERROR",
			   "Idempotency-Key must be 1 to 255 printable ASCII characters",
			   "Idempotency-Key");
		return -1;
	}
	hash = arena_alloc(rq->arena, 65);
	idem_body_hash(rq->body, rq->body_len, hash);
	is->r.user_id = rq->actor.user_id;
	is->r.key = rq->idempotency_key;
	is->r.method = rq->method;
	is->r.path = rq->query[0] == '\0' ? rq->path
					  : arena_printf(rq->arena, "%s?%s", rq->path, rq->query);
	is->r.body_sha256 = hash;
	if ((st = idem_claim(rq->arena, &is->r, &rec)) != DB_OK) {
		http_db_error(rs, st);
		return -1;
	}
	switch (rec.state) {
	case IDEM_CLAIMED:
		is->claim = rec.claim;
		return 0;
	case IDEM_MISMATCH:
		http_error(rs, 422, "IDEMPOTENCY_KEY_REUSED",
			   "This Idempotency-Key was used with another request (method, path or "
			   "body)",
			   "Idempotency-Key");
		return -1;
	case IDEM_PENDING:
		http_header(rs, "Retry-After", "1");
		http_error(rs, 409, "IDEMPOTENCY_KEY_IN_PROGRESS",
			   "A request with this Idempotency-Key is still being processed", NULL);
		return -1;
	case IDEM_DONE:
		idem_replay(rq, rs, &rec);
		return -1;
	}
	return -1;
}

/* Gives the key's claim up, so that a retry runs. */
static void
idem_forget(struct request *rq, const struct idem_step *is)
{
	enum db_status st;

	if (is->claim != NULL && (st = idem_release(rq->arena, &is->r, is->claim)) != DB_OK)
		log_msg(LOG_WARN, "idem.release_failed", "%s", db_status_name(st));
}

/* After the handler (its transaction closed): keep the answer, or give the
 * key up when the answer is not one to repeat (5xx, 429, streamed). */
static void
idem_end(struct request *rq, struct response *rs, const struct idem_step *is)
{
	struct buf hs;
	enum db_status st;
	int i, n = 0, deleted;

	if (is->claim == NULL)
		return;
	if (rs->streaming || rs->status >= 500 || rs->status == 429) {
		idem_forget(rq, is);
		return;
	}
	buf_init(&hs, rq->arena);
	buf_putc(&hs, '[');
	for (i = 0; i < rs->nheaders; i++) {
		if (!idem_header_kept(rs->headers[i].name))
			continue;
		buf_puts(&hs, n++ > 0 ? ",[" : "[");
		buf_json_string(&hs, rs->headers[i].name, strlen(rs->headers[i].name));
		buf_putc(&hs, ',');
		buf_json_string(&hs, rs->headers[i].value, strlen(rs->headers[i].value));
		buf_putc(&hs, ']');
	}
	buf_putc(&hs, ']');
	st = idem_store(rq->arena, &is->r, is->claim, rs->status, rs->content_type, hs.data,
			rs->body.data, rs->body.len);
	if (st != DB_OK) {
		/* The change is made and answered; only its replay is lost. A
		 * claim left pending is taken over after a few minutes. */
		log_msg(LOG_WARN, "idem.store_failed", "%s", db_status_name(st));
		(void)idem_release(rq->arena, &is->r, is->claim);
	}
	if ((st = idem_sweep(rq->arena, &deleted)) != DB_OK)
		log_msg(LOG_WARN, "idem.sweep_failed", "%s", db_status_name(st));
	else if (deleted > 0)
		log_msg(LOG_INFO, "idem.swept", "%d expired keys deleted", deleted);
}

enum db_status
app_audit(struct request *rq, const char *action, const char *target_type, const char *target_id,
	  const char *project_id, const char *environment, const char *metadata_json)
{
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.org_id = rq->actor.org_id;
	if (rq->actor.key.id != NULL && strcmp(rq->actor.key.kind, "environment") == 0) {
		ev.actor_type = "apiKey";
		ev.actor_id = rq->actor.key.id;
	} else { /* a session, or a personal token acting as its user */
		ev.actor_type = "user";
		ev.actor_id = rq->actor.user_id;
		ev.actor_email = rq->actor.user.email;
	}
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

/* Transactions meeting a serialization failure, a deadlock or a lost
 * unique race run again, this many times at most. */
#define TX_RUN_TRIES 8

int
tx_run(struct request *rq, struct response *rs, tx_body body, void *ctx)
{
	enum db_status st;
	int try;

	for (try = 0;; try++) {
		if (tx_begin(rs) < 0)
			return -1;
		st = body(rq, rs, ctx);
		if (rs->done) {
			db_rollback();
			return -1;
		}
		if (st == DB_OK && (st = db_commit()) == DB_OK)
			return 0;
		db_rollback();
		if ((st == DB_SERIALIZE || st == DB_CONFLICT) && try + 1 < TX_RUN_TRIES)
			continue;
		http_db_error(rs, st);
		return -1;
	}
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
	struct idem_step idem;

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
	    !(rt->auth == AUTH_SESSION && auth_bearer_key(rq) != NULL) &&
	    !auth_origin_ok(rq, rs))
		return;
	/* Runtime answers (values, and refusals of keys) are never stored
	 * by any cache along the way. */
	if (rt->auth == AUTH_APIKEY)
		http_header(rs, "Cache-Control", "no-store");
	if (authenticate(rq, rs) < 0)
		return;
	/* Before the org context: a repeat is answered as the first request
	 * was, even when that request took the active org away (DELETE). */
	if (idem_begin(rq, rs, &idem) < 0)
		return;
	if (rt->auth == AUTH_SESSION && !(rt->flags & ROUTE_NO_ORG) && org_context(rq, rs) < 0) {
		idem_forget(rq, &idem); /* nothing ran: the key stays free */
		return;
	}
	rt->handler(rq, rs);
	/* A handler that answered without closing its transaction keeps
	 * nothing. */
	db_rollback();
	if (!rs->done)
		http_error(rs, 500, "INTERNAL_ERROR", "The handler gave no answer", NULL);
	idem_end(rq, rs, &idem);
}
