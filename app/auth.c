/*
 * Sessions the better-auth way: the cookie holds `token.signature`, the
 * signature being base64(HMAC-SHA256(BETTER_AUTH_SECRET, token)); the token
 * names a row of "session". Also the Origin rule for cookie-carrying writes.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app.h"

#define TOKEN_MAX 256

/* better-auth's cookies; "__Secure-" in front when the public URL is https. */
static const char *
cookie_name(struct arena *a, const char *base)
{
	return arena_printf(a, "%sbetter-auth.%s", config_public_https() ? "__Secure-" : "", base);
}

const char *
auth_cookie_name(void)
{
	return config_public_https() ? "__Secure-better-auth.session_token"
				     : "better-auth.session_token";
}

static void
sign(const char *token, char sig[64])
{
	unsigned char mac[32];
	const char *secret = config_str(CFG_BETTER_AUTH_SECRET);

	crypto_hmac_sha256(secret, strlen(secret), token, strlen(token), mac);
	crypto_b64_encode(mac, sizeof(mac), sig);
}

/* encodeURIComponent of base64: '+', '/' and '=' are escaped. */
static void
uri_encode_b64(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '+')
			buf_puts(b, "%2B");
		else if (*s == '/')
			buf_puts(b, "%2F");
		else if (*s == '=')
			buf_puts(b, "%3D");
		else
			buf_putc(b, *s);
	}
}

static void
set_signed_cookie(struct response *rs, const char *base, const char *value, long max_age)
{
	struct buf b;
	char sig[64];

	sign(value, sig);
	buf_init(&b, rs->arena);
	buf_printf(&b, "%s=%s.", cookie_name(rs->arena, base), value);
	uri_encode_b64(&b, sig);
	if (max_age >= 0)
		buf_printf(&b, "; Max-Age=%ld", max_age);
	buf_puts(&b, "; Path=/; HttpOnly; SameSite=Lax");
	if (config_public_https())
		buf_puts(&b, "; Secure");
	http_header(rs, "Set-Cookie", b.data);
}

/* max_age < 0 is a rememberMe:false session: a browser-session cookie, and
 * better-auth's signed dont_remember marker so no side stretches it. */
void
auth_set_cookie(struct response *rs, const char *token, long max_age)
{
	set_signed_cookie(rs, "session_token", token, max_age);
	if (max_age < 0)
		set_signed_cookie(rs, "dont_remember", "true", -1);
}

void
auth_clear_cookie(struct response *rs)
{
	static const char *const names[] = {"session_token", "session_data", "dont_remember"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		http_header(rs, "Set-Cookie",
			    arena_printf(rs->arena, "%s=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax%s",
					 cookie_name(rs->arena, names[i]),
					 config_public_https() ? "; Secure" : ""));
}

/* The value of a validly signed cookie, or NULL. */
static const char *
signed_cookie(struct request *rq, const char *base)
{
	const char *raw = http_cookie(rq, cookie_name(rq->arena, base));
	char *value, *dot;
	char want[64];

	if (raw == NULL || strlen(raw) > TOKEN_MAX)
		return NULL;
	value = http_url_decode(rq->arena, raw, strlen(raw), 0);
	if (value == NULL || (dot = strrchr(value, '.')) == NULL || dot == value)
		return NULL;
	*dot = '\0';
	sign(value, want);
	if (strlen(dot + 1) != strlen(want) || !crypto_eq(dot + 1, want, strlen(want)))
		return NULL;
	return value;
}

/* The live session of the request's cookie, refreshed exactly as
 * better-auth does: due when expiresAt - 7 d + 1 d has passed, unless the
 * signed dont_remember cookie marks a rememberMe:false session. 0 and
 * s->id NULL when there is none (*stale set when a validly signed cookie
 * names a session that is gone); -1 with an answer set when the database
 * failed. */
int
auth_find_session(struct request *rq, struct response *rs, struct session *s, struct user *u,
		  int *stale)
{
	const char *token = signed_cookie(rq, "session_token");
	const char *dont_remember = signed_cookie(rq, "dont_remember");
	enum db_status st;
	int64_t now = time_now_ms();

	memset(s, 0, sizeof(*s));
	memset(u, 0, sizeof(*u));
	if (stale != NULL)
		*stale = 0;
	if (token == NULL)
		return 0;
	if ((st = users_session_find(rq->arena, token, s, u)) != DB_OK) {
		http_db_error(rs, st);
		return -1;
	}
	if (s->id == NULL) {
		if (stale != NULL)
			*stale = 1;
		return 0;
	}
	if ((dont_remember == NULL || strcmp(dont_remember, "true") != 0) &&
	    s->expires_ms - SESSION_TTL * 1000 + SESSION_UPDATE_AGE * 1000 <= now) {
		if ((st = users_session_extend(rq->arena, s, SESSION_TTL)) != DB_OK) {
			http_db_error(rs, st);
			return -1;
		}
		auth_set_cookie(rs, s->token, SESSION_TTL);
	}
	return 0;
}

int
auth_session(struct request *rq, struct response *rs)
{
	struct actor *ac = &rq->actor;

	if (auth_find_session(rq, rs, &ac->session, &ac->user, NULL) < 0)
		return -1;
	if (ac->session.id == NULL) {
		http_error(rs, 401, "UNAUTHORIZED", "Sign in first", NULL);
		return -1;
	}
	ac->user_id = ac->user.id;
	ac->session_token = ac->session.token;
	ac->via_cookie = 1;
	return 0;
}

/* scheme://host[:port] of a URL, lower-cased, in the arena. */
static const char *
origin_of(struct arena *a, const char *url)
{
	const char *p = strstr(url, "://");
	char *o;
	size_t i, n;

	if (p == NULL)
		return NULL;
	n = (size_t)(p - url) + 3 + strcspn(p + 3, "/?#");
	o = arena_strndup(a, url, n);
	for (i = 0; o[i] != '\0'; i++)
		if (o[i] >= 'A' && o[i] <= 'Z')
			o[i] = (char)(o[i] - 'A' + 'a');
	return o;
}

static int
trusted(struct arena *a, const char *origin)
{
	const char *own = origin_of(a, config_str(CFG_BETTER_AUTH_URL));
	const char *list = config_str(CFG_BETTER_AUTH_TRUSTED_ORIGINS);

	if (own != NULL && strcmp(origin, own) == 0)
		return 1;
	while (*list != '\0') {
		size_t n = strcspn(list, ",");
		const char *item = arena_strndup(a, list, n);
		const char *o;

		while (*item == ' ')
			item++;
		o = origin_of(a, item);
		if (o != NULL && strcmp(origin, o) == 0)
			return 1;
		list += n;
		if (*list == ',')
			list++;
	}
	return 0;
}

/* Sign-in and sign-up check the Origin as better-auth does: also without
 * a cookie whenever a browser (Sec-Fetch-*) or an Origin/Referer is seen,
 * and a cross-site top-level navigation may never sign anyone in. */
int
auth_login_origin_ok(struct request *rq, struct response *rs)
{
	int browser = rq->sec_fetch_site != NULL || rq->sec_fetch_mode != NULL ||
		      rq->sec_fetch_dest != NULL;

	if (rq->sec_fetch_site != NULL && strcmp(rq->sec_fetch_site, "cross-site") == 0 &&
	    rq->sec_fetch_mode != NULL && strcmp(rq->sec_fetch_mode, "navigate") == 0) {
		http_error(rs, 403, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED",
			   "Cross-site navigation login blocked", NULL);
		return 0;
	}
	if (browser || (rq->origin != NULL && rq->origin[0] != '\0') ||
	    (rq->referer != NULL && rq->referer[0] != '\0') ||
	    (rq->cookie != NULL && rq->cookie[0] != '\0'))
		return auth_origin_ok(rq, rs);
	return 1;
}

int
auth_origin_ok(struct request *rq, struct response *rs)
{
	const char *src = rq->origin;
	const char *origin;

	if (src == NULL || *src == '\0' || strcmp(src, "null") == 0)
		src = rq->referer;
	if (src == NULL || *src == '\0' || strcmp(src, "null") == 0) {
		http_error(rs, 403, "MISSING_OR_NULL_ORIGIN", "Missing or null Origin", NULL);
		return 0;
	}
	origin = origin_of(rq->arena, src);
	if (origin == NULL || !trusted(rq->arena, origin)) {
		http_error(rs, 403, "INVALID_ORIGIN", "Invalid origin", NULL);
		return 0;
	}
	return 1;
}

cJSON *
auth_user_json(const struct user *u)
{
	cJSON *o = cJSON_CreateObject();

	json_add_nullable(o, "id", u->id);
	json_add_nullable(o, "email", u->email);
	json_add_nullable(o, "name", u->name);
	json_add_nullable(o, "image", u->image);
	cJSON_AddBoolToObject(o, "emailVerified", u->email_verified);
	json_add_nullable(o, "createdAt", u->created_at);
	json_add_nullable(o, "updatedAt", u->updated_at);
	return o;
}

cJSON *
auth_session_json(const struct session *s)
{
	cJSON *o = cJSON_CreateObject();

	json_add_nullable(o, "id", s->id);
	json_add_nullable(o, "expiresAt", s->expires_at);
	json_add_nullable(o, "token", s->token);
	json_add_nullable(o, "createdAt", s->created_at);
	json_add_nullable(o, "updatedAt", s->updated_at);
	json_add_nullable(o, "ipAddress", s->ip_address);
	json_add_nullable(o, "userAgent", s->user_agent);
	json_add_nullable(o, "userId", s->user_id);
	json_add_nullable(o, "activeOrganizationId", s->active_org_id);
	return o;
}

/* ------------------------------------------------------------ API keys */

const char *
auth_bearer_key(const struct request *rq)
{
	const char *h = rq->authorization;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	for (h += 7; *h == ' '; h++)
		;
	return strncmp(h, APIKEY_PREFIX, strlen(APIKEY_PREFIX)) == 0 ? h : NULL;
}

static void
invalid_key(struct response *rs)
{
	http_error(rs, 401, "INVALID_API_KEY", "Invalid, revoked or expired API key", NULL);
}

int
auth_apikey(struct request *rq, struct response *rs, const char *kind)
{
	struct actor *ac = &rq->actor;
	const char *presented = auth_bearer_key(rq);
	struct apikey k;
	enum db_status st;

	if (presented == NULL) {
		invalid_key(rs);
		return -1;
	}
	/* Environment keys: the worker's cache first (lib/runtime.c). The
	 * world generation is read before the query whose answer is cached. */
	if (strcmp(kind, "environment") == 0) {
		uint64_t gen = runtime_world_load(), writes = runtime_world_writes();
		int64_t now = time_now_ms();

		if (!runtime_key_get(presented, gen, now, &k)) {
			if ((st = apikeys_authenticate(rq->arena, presented, &k)) != DB_OK) {
				http_db_error(rs, st);
				return -1;
			}
			if (k.id != NULL && strcmp(k.kind, kind) == 0)
				runtime_key_put(presented, gen, writes, now, &k);
		}
	} else if ((st = apikeys_authenticate(rq->arena, presented, &k)) != DB_OK) {
		http_db_error(rs, st);
		return -1;
	}
	if (k.id == NULL || strcmp(k.kind, kind) != 0) {
		invalid_key(rs);
		return -1;
	}
	ac->key = k;
	ac->via_cookie = 0;
	if (strcmp(kind, "environment") == 0) {
		ac->org_id = k.org_id;
		return 0;
	}
	/* A personal token: its user, in the token's org; no session. */
	if ((st = users_find_by_id(rq->arena, k.user_id, &ac->user)) != DB_OK) {
		http_db_error(rs, st);
		return -1;
	}
	if (ac->user.id == NULL) {
		invalid_key(rs);
		return -1;
	}
	ac->user_id = ac->user.id;
	ac->session.active_org_id = k.active_org_id;
	return 0;
}
