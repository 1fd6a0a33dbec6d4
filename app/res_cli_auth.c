/*
 * CLI auth (REFERENCE.md "CLI auth", API.md §8): the device flow of
 * `shush login`, with RFC 8628 semantics. start hands the CLI a device
 * code (kept secret by the CLI, only its hash is stored) and a user code
 * the person approves on the page at verificationUri (web/device/, served
 * by nginx); enable, polled by the CLI, mints one personal token (kind
 * "user") per approval, in the org that was the approver's active org.
 */
#include <string.h>

#include "app.h"

/* The error shape with the current interval, which the CLI honours. */
static void
poll_error(struct request *rq, struct response *rs, const char *code, const char *message,
	   int interval)
{
	cJSON *o = json_object(rq->arena);

	cJSON_AddStringToObject(o, "code", code);
	cJSON_AddStringToObject(o, "message", message);
	if (interval > 0)
		cJSON_AddNumberToObject(o, "interval", interval);
	http_json(rs, 400, o);
}

/* BETTER_AUTH_URL without trailing slashes, + "/device". */
static const char *
verification_uri(struct arena *a)
{
	const char *base = config_str(CFG_BETTER_AUTH_URL);
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	return arena_printf(a, "%.*s/device", (int)n, base);
}

/* POST /v1/auth/cli/start {clientName?}: 200 {deviceCode, userCode,
 * verificationUri, verificationUriComplete, expiresIn, interval}; 400 a
 * clientName that is not 1..128 characters of text; 413; 415; 503. */
void
res_cli_start(struct request *rq, struct response *rs)
{
	const char *client_name = NULL, *uri;
	struct device_start d;
	char shown[DEVICE_USER_CODE_LEN + 2];
	enum db_status st;
	cJSON *o;

	if (app_read_text(rq, rs, "clientName", 0, DEVICE_CLIENT_NAME_MAX, 0, &client_name) < 0)
		return;
	if ((st = device_start(rq->arena, client_name, rq->remote_addr, &d)) != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	device_user_code_format(d.user_code, shown);
	uri = verification_uri(rq->arena);
	o = json_object(rq->arena);
	cJSON_AddStringToObject(o, "deviceCode", d.device_code);
	cJSON_AddStringToObject(o, "userCode", shown);
	cJSON_AddStringToObject(o, "verificationUri", uri);
	cJSON_AddStringToObject(o, "verificationUriComplete",
				arena_printf(rq->arena, "%s?user_code=%s", uri, shown));
	cJSON_AddNumberToObject(o, "expiresIn", d.expires_in);
	cJSON_AddNumberToObject(o, "interval", d.interval);
	crypto_wipe(d.device_code, sizeof(d.device_code));
	http_header(rs, "Cache-Control", "no-store");
	http_json(rs, 200, o);
}

static void
too_many(struct request *rq, struct response *rs, int wait)
{
	http_header(rs, "Retry-After", arena_printf(rq->arena, "%d", wait));
	http_error(rs, 429, "TOO_MANY_REQUESTS",
		   "Too many wrong codes. Please try again later.", NULL);
}

/* A wrong code counts against the caller (session and IP): 400, or 429
 * once the window is full. */
static void
wrong_code(struct request *rq, struct response *rs, const char *who)
{
	long limit = config_int(CFG_RATE_LIMIT_CODES);
	int w1 = ratelimit_hit("codes-session", who, limit);
	int w2 = ratelimit_hit("codes-ip", rq->remote_addr, limit);

	if (w1 > 0 || w2 > 0) {
		too_many(rq, rs, w1 > w2 ? w1 : w2);
		return;
	}
	http_error(rs, 400, "INVALID_USER_CODE",
		   "That code is not valid: it may be mistyped, expired or already used",
		   "userCode");
}

/* POST /v1/auth/cli/approve {userCode, deny?} (session or personal token):
 * 200 {status:"approved"|"denied"}, audited device.approved / device.denied
 * in the caller's active org, where the minted token will start; 400
 * INVALID_USER_CODE (wrong, unknown, expired or decided code); 401; 403 bad
 * Origin, NO_ACTIVE_ORGANIZATION, NOT_A_MEMBER; 429 after
 * SHUSH_RATE_LIMIT_CODES wrong codes in a minute (per session and per
 * IP), for any code until the window ends; 503. */
void
res_cli_approve(struct request *rq, struct response *rs)
{
	struct actor *ac = &rq->actor;
	const char *raw = NULL, *org_id, *who;
	char code[DEVICE_USER_CODE_LEN + 1];
	struct membership m;
	struct device_decision d;
	struct buf meta;
	enum db_status st;
	long limit = config_int(CFG_RATE_LIMIT_CODES);
	int deny = 0, w1, w2;
	cJSON *o;

	if (json_get_string(rq, rs, "userCode", &raw, 1, 0) < 0 ||
	    json_get_bool(rq, rs, "deny", &deny) < 0)
		return;
	who = ac->session.id != NULL ? ac->session.id
				     : arena_printf(rq->arena, "key:%s", ac->key.id ? ac->key.id
										    : ac->user_id);
	w1 = ratelimit_peek("codes-session", who, limit);
	w2 = ratelimit_peek("codes-ip", rq->remote_addr, limit);
	if (w1 > 0 || w2 > 0) {
		too_many(rq, rs, w1 > w2 ? w1 : w2);
		return;
	}
	/* The token is minted in the approver's active org: there must be one,
	 * and they must still belong to it. */
	org_id = ac->session.id != NULL ? ac->session.active_org_id : ac->key.active_org_id;
	if (org_id == NULL || org_id[0] == '\0') {
		http_error(rs, 403, "NO_ACTIVE_ORGANIZATION",
			   "No active organization: create one or switch to one, then approve",
			   NULL);
		return;
	}
	if ((st = orgs_membership(rq->arena, org_id, ac->user_id, &m)) != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	if (m.member_id == NULL || m.role < 0) {
		http_error(rs, 403, "NOT_A_MEMBER", "You are not a member of the active organization",
			   NULL);
		return;
	}
	ac->org_id = org_id;
	ac->member_id = m.member_id;
	ac->role = (enum rbac_role)m.role;
	if (device_user_code_normalize(raw, code) < 0) {
		wrong_code(rq, rs, who);
		return;
	}
	if (tx_begin(rs) < 0)
		return;
	if ((st = device_decide(rq->arena, code, !deny, ac->user_id, org_id, &d)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (d.id == NULL) {
		db_rollback();
		wrong_code(rq, rs, who);
		return;
	}
	buf_init(&meta, rq->arena);
	buf_puts(&meta, "{\"clientName\":");
	if (d.client_name != NULL)
		buf_json_string(&meta, d.client_name, strlen(d.client_name));
	else
		buf_puts(&meta, "null");
	buf_puts(&meta, ",\"clientIp\":");
	if (d.client_ip != NULL)
		buf_json_string(&meta, d.client_ip, strlen(d.client_ip));
	else
		buf_puts(&meta, "null");
	buf_putc(&meta, '}');
	if ((st = app_audit(rq, deny ? "device.denied" : "device.approved", "device_code", d.id,
			    NULL, NULL, meta.data)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (tx_commit(rs) < 0)
		return;
	o = json_object(rq->arena);
	cJSON_AddStringToObject(o, "status", deny ? "denied" : "approved");
	http_json(rs, 200, o);
}

/* The apikey.created event of a minted personal token, its user as the
 * actor, in the org it starts in. */
static enum db_status
audit_mint(struct request *rq, const char *org_id, const struct user *u,
	   const struct apikey *k, const char *device_id)
{
	struct audit_event ev;
	struct buf meta;

	buf_init(&meta, rq->arena);
	buf_puts(&meta, "{\"kind\":\"user\",\"name\":");
	buf_json_string(&meta, k->name, strlen(k->name));
	buf_puts(&meta, ",\"via\":\"device\",\"deviceCodeId\":");
	buf_json_string(&meta, device_id, strlen(device_id));
	buf_putc(&meta, '}');
	memset(&ev, 0, sizeof(ev));
	ev.org_id = org_id;
	ev.actor_type = "user";
	ev.actor_id = u->id;
	ev.actor_email = u->email;
	ev.action = "apikey.created";
	ev.target_type = "apiKey";
	ev.target_id = k->id;
	ev.ip = rq->remote_addr;
	ev.user_agent = rq->user_agent;
	ev.request_id = rq->request_id;
	ev.metadata = meta.data;
	return audit_append(rq->arena, &ev, NULL);
}

/* POST /v1/auth/cli/enable {deviceCode}: 400 AUTHORIZATION_PENDING /
 * SLOW_DOWN (a poll sooner than interval after the previous one; the
 * interval grows by 5 s; both carry the current interval) / EXPIRED_TOKEN /
 * ACCESS_DENIED until approved, then once 200 {apiKey, keyId, user}: a
 * personal token (kind "user") of the approver, starting in the org that
 * was their active org, minted under the row's lock so one approval
 * mints one token; 400 INVALID_GRANT for an unknown or used device code;
 * 413; 415; 503. */
void
res_cli_enable(struct request *rq, struct response *rs)
{
	const char *dc = NULL, *name;
	struct device_poll p;
	struct user u;
	struct apikey k;
	char key[APIKEY_LEN + 1];
	enum db_status st;
	cJSON *o;

	if (json_get_string(rq, rs, "deviceCode", &dc, 1, 0) < 0)
		return;
	if (strlen(dc) != DEVICE_CODE_LEN) {
		poll_error(rq, rs, "INVALID_GRANT", "Unknown or already used device code", 0);
		return;
	}
	if (tx_begin(rs) < 0)
		return;
	if ((st = device_poll(rq->arena, dc, &p)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	switch (p.state) {
	case DEVICE_APPROVED:
		break;
	case DEVICE_PENDING:
	case DEVICE_SLOW_DOWN:
		/* The poll is recorded (and the interval grown): keep it. */
		if (tx_commit(rs) < 0)
			return;
		if (p.state == DEVICE_SLOW_DOWN)
			poll_error(rq, rs, "SLOW_DOWN",
				   arena_printf(rq->arena,
						"Polling too fast: wait %d seconds between polls",
						p.interval),
				   p.interval);
		else
			poll_error(rq, rs, "AUTHORIZATION_PENDING",
				   "The code has not been approved yet", p.interval);
		return;
	case DEVICE_EXPIRED:
		db_rollback();
		poll_error(rq, rs, "EXPIRED_TOKEN", "The device code has expired: start again", 0);
		return;
	case DEVICE_DENIED:
		db_rollback();
		poll_error(rq, rs, "ACCESS_DENIED", "The request was denied", 0);
		return;
	case DEVICE_INVALID_GRANT:
	default:
		db_rollback();
		poll_error(rq, rs, "INVALID_GRANT", "Unknown or already used device code", 0);
		return;
	}
	if (p.active_org_id == NULL) {
		/* The org it was approved in is gone: no token. */
		db_rollback();
		poll_error(rq, rs, "ACCESS_DENIED",
			   "The organization this login was approved in no longer exists", 0);
		return;
	}
	if ((st = users_find_by_id(rq->arena, p.user_id, &u)) != DB_OK) {
		tx_fail(rs, st);
		return;
	}
	if (u.id == NULL) {
		db_rollback();
		poll_error(rq, rs, "INVALID_GRANT", "Unknown or already used device code", 0);
		return;
	}
	name = p.client_name != NULL ? p.client_name : "shush CLI";
	if ((st = apikeys_create(rq->arena, p.active_org_id, "user", NULL, NULL, u.id, name, NULL,
				 p.active_org_id, key, &k)) != DB_OK ||
	    (st = device_consume(rq->arena, p.id, k.id)) != DB_OK ||
	    (st = audit_mint(rq, p.active_org_id, &u, &k, p.id)) != DB_OK) {
		crypto_wipe(key, sizeof(key));
		tx_fail(rs, st);
		return;
	}
	if (tx_commit(rs) < 0) {
		crypto_wipe(key, sizeof(key));
		return;
	}
	o = json_object(rq->arena);
	cJSON_AddStringToObject(o, "apiKey", key);
	cJSON_AddStringToObject(o, "keyId", k.id);
	cJSON_AddItemToObject(o, "user", auth_user_json(&u));
	crypto_wipe(key, sizeof(key));
	http_header(rs, "Cache-Control", "no-store");
	http_json(rs, 200, o);
}
