/*
 * The HTTP side of shushd: requests, responses, the route table, the
 * pipeline. Handlers live in res_<section>.c, one per section of the API
 * reference.
 */
#ifndef SHUSH_APP_H
#define SHUSH_APP_H

#include <cjson/cJSON.h>

#include "../lib/shush.h"

#define HTTP_BODY_MAX (1024 * 1024)
#define ROUTE_PARAMS_MAX 4
#define RESPONSE_HEADERS_MAX 16

enum auth_kind {
	AUTH_NONE,    /* public */
	AUTH_SESSION, /* better-auth cookie, or a personal token (kind user) */
	AUTH_APIKEY,  /* Bearer shush_… of kind environment (runtime) */
	AUTH_SCIM,    /* Bearer scim_… */
	AUTH_STRIPE,  /* Stripe-Signature */
	AUTH__MAX
};


/* Route needs no org context (me, orgs list/create, auth). */
#define ROUTE_NO_ORG 0x1
/* Route answers something other than JSON (XML, redirects). */
#define ROUTE_RAW 0x2
/* Route also takes a text/plain body, left unparsed (dotenv import). */
#define ROUTE_TEXT 0x4

struct request;
struct response;
typedef void (*handler_fn)(struct request *, struct response *);

struct route {
	const char *method;
	const char *path; /* with :params */
	handler_fn handler; /* NULL: 501 NOT_IMPLEMENTED */
	enum auth_kind auth;
	enum perm perm;
	unsigned flags;
	const char *issue; /* the issue that builds it, while it is not built */
};

extern const struct route routes[];
extern const size_t routes_count;

struct param {
	const char *name;
	const char *value;
};

struct actor {
	const char *user_id;
	const char *org_id;    /* the org the request acts in (routes with an org) */
	const char *member_id;
	enum rbac_role role;
	struct user user;
	struct session session; /* session.id NULL when a personal token */
	const char *session_token;
	int via_cookie;
	/* The API key the request came with (key.id NULL when none): an
	 * environment key on AUTH_APIKEY routes (org_id = key.org_id, no
	 * user_id), or a personal token (kind "user") on AUTH_SESSION routes,
	 * acting as its user in key.active_org_id. */
	struct apikey key;
};

struct request {
	struct arena *arena;
	const char *method;
	const char *path;  /* decoded path, no query */
	const char *query; /* raw query string, "" when none */
	const char *content_type;
	const char *body;
	size_t body_len;
	const char *cookie;
	const char *authorization;
	const char *origin;
	const char *referer;
	const char *user_agent;
	const char *remote_addr;
	const char *request_id;
	const char *https;
	const char *if_none_match;
	const char *idempotency_key; /* Idempotency-Key, NULL when absent */
	const char *sec_fetch_site, *sec_fetch_mode, *sec_fetch_dest;
	const struct route *route;
	struct param params[ROUTE_PARAMS_MAX];
	int nparams;
	struct actor actor;
	cJSON *json; /* parsed body, when the body is JSON */
};

struct header {
	const char *name;
	const char *value;
};

struct response {
	struct arena *arena;
	int status;
	const char *content_type;
	struct header headers[RESPONSE_HEADERS_MAX];
	int nheaders;
	struct buf body;
	const char *request_id;
	int done; /* a handler or the pipeline has answered */
	/* Streaming answers (exports): fcgi.c sets the writer; a handler
	 * calls http_stream_begin, then http_stream_write per piece. */
	void *stream_ctx;
	int (*stream_write)(void *ctx, const char *p, size_t n);
	int streaming;
	size_t streamed;
};

/* router.c */
enum route_match { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD };
enum route_match router_match(struct request *rq, char *allow, size_t allowlen);

/* pipeline.c: the whole path of one request after fcgi.c has read it. */
void pipeline_run(struct request *rq, struct response *rs);
const char *pipeline_auth_name(enum auth_kind k);

/* The one permission check (the pipeline runs it with the route's
 * permission): 0, or -1 with a 403 FORBIDDEN answered. */
int app_require(struct request *rq, struct response *rs, enum perm perm);
/* ?reveal=true|false on a list whose route needs secret:list: values are
 * shown only to roles that also hold secret:read. -1 answered (400, 403). */
int app_reveal(struct request *rq, struct response *rs, int *reveal);

/* The audit event of this request's change, in its transaction: actor,
 * org, IP, user agent and request id come from the request. */
enum db_status app_audit(struct request *rq, const char *action, const char *target_type,
			 const char *target_id, const char *project_id, const char *environment,
			 const char *metadata_json);
/* One transaction per mutating handler: begin (answering 503 when it
 * cannot), commit (answering on failure), or fail (rollback and answer). A
 * failed audit append goes through tx_fail too: the change is not kept. */
int tx_begin(struct response *rs);
/* Runs body in one transaction, again when it meets a serialization
 * failure, a deadlock or a unique race it lost; body answers its own
 * refusals (rs->done: rolled back). 0 committed (the caller answers), -1
 * answered. */
typedef enum db_status (*tx_body)(struct request *, struct response *, void *);
int tx_run(struct request *rq, struct response *rs, tx_body body, void *ctx);
int tx_commit(struct response *rs);
void tx_fail(struct response *rs, enum db_status st);

/* http.c: the one response helper and the one error helper. */
void http_header(struct response *rs, const char *name, const char *value);
void http_json(struct response *rs, int status, cJSON *body);     /* takes ownership */
void http_json_raw(struct response *rs, int status, const char *json);
void http_no_content(struct response *rs);
/* Sends status and headers now (no Content-Length); the body follows in
 * pieces, so an answer of any size needs bounded memory. */
int http_stream_begin(struct response *rs, int status, const char *content_type);
int http_stream_write(struct response *rs, const char *p, size_t n);
void http_error(struct response *rs, int status, const char *code, const char *message,
		const char *field);
/* Maps a database status to the error answer (503 + Retry-After, 409…). */
void http_db_error(struct response *rs, enum db_status st);
/* Percent-decodes ('+' as space when form) into the arena; NULL when an
 * escape is malformed or would produce a NUL byte. */
char *http_url_decode(struct arena *a, const char *s, size_t n, int form);
const char *http_param(const struct request *rq, const char *name);
/* Value of a query argument, URL-decoded in the arena; NULL when absent. */
const char *http_query(const struct request *rq, const char *name);
/* Value of a cookie; NULL when absent. */
const char *http_cookie(const struct request *rq, const char *name);
const char *http_reason(int status);

/* Lists (API.md §1): ?limit= 1..200 (default 50) and the opaque ?cursor=
 * (NULL when absent); -1 with a 400 naming the argument. http_list answers
 * 200 {items,nextCursor} and takes items. */
#define PAGE_LIMIT_DEFAULT 50
#define PAGE_LIMIT_MAX 200
#define PAGE_CURSOR_MAX 512
int http_page(struct request *rq, struct response *rs, int *limit, const char **cursor);
void http_list(struct request *rq, struct response *rs, cJSON *items, const char *next_cursor);
/* The compact JSON text of o in the arena (audit metadata); NULL on OOM. */
const char *json_text(struct arena *a, cJSON *o);
/* {"name":…,"slug":…} as text (audit metadata of orgs and projects). */
const char *json_name_slug(struct arena *a, const char *name, const char *slug);
/* A secret's note: absent leaves *out alone, null is "", else a UTF-8
 * string of at most SECRET_NOTE_MAX characters; -1 answered (400, 422). */
int json_get_note(struct request *rq, struct response *rs, const char **out);
/* A string member, or null when v is NULL. */
void json_add_nullable(cJSON *o, const char *name, const char *v);

/* Typed getters on the JSON body: on a wrong type they answer 400 naming
 * the field and return -1. Absent fields leave *out alone and return 0. */
int json_get_string(struct request *rq, struct response *rs, const char *field, const char **out,
		    int required, size_t maxlen);
int json_get_bool(struct request *rq, struct response *rs, const char *field, int *out);
/* Root cJSON values freed with the arena; never attach one to another
 * value (children come from cJSON_Create* and belong to their parent). */
cJSON *json_object(struct arena *a);
cJSON *json_array(struct arena *a);

/* auth.c */
int auth_session(struct request *rq, struct response *rs);
int auth_find_session(struct request *rq, struct response *rs, struct session *s,
		      struct user *u, int *stale);
int auth_login_origin_ok(struct request *rq, struct response *rs);
int auth_origin_ok(struct request *rq, struct response *rs);
const char *auth_cookie_name(void);
/* The key of "Authorization: Bearer shush_…" (whatever follows shush_),
 * NULL when there is none. */
const char *auth_bearer_key(const struct request *rq);
/* Authenticates the bearer key, which must be of kind ("environment": the
 * key and its org go into rq->actor; "user": a personal token, the actor
 * is its user acting in the token's org, session.id NULL). -1 with 401
 * INVALID_API_KEY for a missing, malformed, unknown, revoked or expired
 * key or one of the other kind (503 when PostgreSQL failed). */
int auth_apikey(struct request *rq, struct response *rs, const char *kind);
/* Sets the session cookie (max_age < 0: session cookie) or clears it. */
void auth_set_cookie(struct response *rs, const char *token, long max_age);
void auth_clear_cookie(struct response *rs);
/* better-auth's user and session objects, unowned: attach them to a root
 * made with json_object(). */
cJSON *auth_user_json(const struct user *u);
cJSON *auth_session_json(const struct session *s);

#define SESSION_TTL (7L * 24 * 3600)
#define SESSION_SHORT_TTL (24L * 3600)
#define SESSION_UPDATE_AGE (24L * 3600)

/* res_projects.c: the project named by the path's :projectId in the
 * actor's org. lock 0: a plain read; 1: inside the caller's transaction,
 * FOR SHARE (it cannot be deleted until commit). -1 with the answer given
 * (404 NOT_FOUND exactly like a missing one, 503; the transaction rolled
 * back) when there is none. */
int app_project(struct request *rq, struct response *rs, int lock, struct project *p);
/* A text field of the body: a string (400 otherwise), trimmed of
 * surrounding whitespace, valid UTF-8, 1..max_chars characters, no control
 * characters (newlines and tabs allowed when multiline). Absent or null
 * leaves *out NULL (400 when required). -1 with a 400 answered. */
int app_read_text(struct request *rq, struct response *rs, const char *field, int required,
		  size_t max_chars, int multiline, const char **out);
/* res_environments.c: Environment {id,slug,name,parents}, unowned. */
cJSON *app_environment_json(const struct environment *e);

/* Handlers, by section of the reference. */
void res_health_get(struct request *, struct response *);
void res_me_get(struct request *, struct response *);
void res_me_patch(struct request *, struct response *);
void res_auth_sign_up(struct request *, struct response *);
void res_auth_sign_in(struct request *, struct response *);
void res_auth_sign_out(struct request *, struct response *);
void res_auth_get_session(struct request *, struct response *);
void res_access_members_list(struct request *, struct response *);
void res_access_member_patch(struct request *, struct response *);
void res_access_member_delete(struct request *, struct response *);
void res_access_invitations_list(struct request *, struct response *);
void res_access_invitation_create(struct request *, struct response *);
void res_access_invitation_cancel(struct request *, struct response *);
void res_access_invitation_accept(struct request *, struct response *);
void res_access_permissions(struct request *, struct response *);
void res_access_my_permissions(struct request *, struct response *);
void res_orgs_list_mine(struct request *, struct response *);
void res_orgs_create(struct request *, struct response *);
void res_orgs_current_get(struct request *, struct response *);
void res_orgs_current_switch(struct request *, struct response *);
void res_orgs_current_patch(struct request *, struct response *);
void res_orgs_current_delete(struct request *, struct response *);
void res_orgs_encryption_get(struct request *, struct response *);
void res_orgs_rotate_kek(struct request *, struct response *);
void res_audit_list(struct request *, struct response *);
void res_audit_export(struct request *, struct response *);
void res_projects_list(struct request *, struct response *);
void res_projects_get(struct request *, struct response *);
void res_projects_create(struct request *, struct response *);
void res_projects_delete(struct request *, struct response *);
void res_environments_list(struct request *, struct response *);
void res_environments_patch(struct request *, struct response *);
void res_folders_list(struct request *, struct response *);
void res_folders_create(struct request *, struct response *);
void res_folders_patch(struct request *, struct response *);
void res_folders_delete(struct request *, struct response *);
void res_counts_get(struct request *, struct response *);
void res_counts_env(struct request *, struct response *);
void res_secrets_list(struct request *, struct response *);
void res_secrets_get(struct request *, struct response *);
void res_secrets_create(struct request *, struct response *);
void res_secrets_patch(struct request *, struct response *);
void res_secrets_delete(struct request *, struct response *);
void res_secrets_rotate(struct request *, struct response *);
void res_secrets_versions(struct request *, struct response *);
void res_secrets_policy_get(struct request *, struct response *);
void res_secrets_policy_set(struct request *, struct response *);
void res_secrets_policy_delete(struct request *, struct response *);

void res_secrets_export(struct request *, struct response *);
void res_secrets_import(struct request *, struct response *);
void res_runtime_introspect(struct request *, struct response *);
void res_runtime_secrets(struct request *, struct response *);
void res_runtime_secret(struct request *, struct response *);
void res_apikeys_list(struct request *, struct response *);
void res_apikeys_create(struct request *, struct response *);
void res_apikeys_rotate(struct request *, struct response *);
void res_apikeys_revoke(struct request *, struct response *);
void res_apikeys_delete(struct request *, struct response *);
void res_me_tokens_list(struct request *, struct response *);
void res_me_tokens_delete(struct request *, struct response *);
void res_shared_folders_list(struct request *, struct response *);
void res_shared_folders_create(struct request *, struct response *);
void res_shared_list(struct request *, struct response *);
void res_shared_get(struct request *, struct response *);
void res_shared_create(struct request *, struct response *);
void res_shared_patch(struct request *, struct response *);
void res_shared_delete(struct request *, struct response *);
void res_shared_versions(struct request *, struct response *);
void res_cli_start(struct request *, struct response *);
void res_cli_approve(struct request *, struct response *);
void res_cli_enable(struct request *, struct response *);

#endif
