/*
 * better-auth's e-mail routes under /api/auth, on the same tables and with
 * the same bodies, codes and cookie (API.md §2).
 */
#include <string.h>

#include "app.h"

#define NAME_MAX_LEN 256
#define PASSWORD_MIN 8
#define PASSWORD_MAX 128
#define PASSWORD_MAX_BYTES 1024

/* Characters, as JavaScript's .length would roughly count them. */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c & 0xc0) != 0x80)
			n += c >= 0xf0 ? 2 : 1; /* astral: a surrogate pair in JS */
	}
	return n;
}

/* Per IP and per e-mail; 0 allowed, else a 429 is set. */
static int
rate_limited(struct request *rq, struct response *rs, const char *email)
{
	long limit = config_int(CFG_RATE_LIMIT_AUTH);
	int wait = ratelimit_hit("auth-ip", rq->remote_addr, limit);

	if (wait == 0 && email != NULL)
		wait = ratelimit_hit("auth-email", email, limit);
	if (wait == 0)
		return 0;
	http_header(rs, "Retry-After", arena_printf(rq->arena, "%d", wait));
	http_header(rs, "X-Retry-After", arena_printf(rq->arena, "%d", wait));
	http_error(rs, 429, "TOO_MANY_REQUESTS", "Too many requests. Please try again later.",
		   NULL);
	return -1;
}

/* Reads and checks email (lowercased) and password; -1 with an answer.
 * better-auth names a bad address differently on the two routes. */
static int
credentials(struct request *rq, struct response *rs, const char **email, const char **password,
	    int sign_up)
{
	if (rq->json == NULL) {
		http_error(rs, 400, "VALIDATION_ERROR", "A JSON body is required", NULL);
		return -1;
	}
	if (json_get_string(rq, rs, "email", email, 1, 1024) < 0 ||
	    json_get_string(rq, rs, "password", password, 1, PASSWORD_MAX_BYTES) < 0)
		return -1;
	if (!users_email_valid(*email)) {
		if (sign_up)
			http_error(rs, 400, "VALIDATION_ERROR", "Invalid email address", "email");
		else
			http_error(rs, 400, "INVALID_EMAIL", "Invalid email", "email");
		return -1;
	}
	*email = users_email_lower(rq->arena, *email);
	return 0;
}

static int
session_ttl(struct request *rq, struct response *rs, long *ttl, long *cookie_age)
{
	int remember = 1;

	if (json_get_bool(rq, rs, "rememberMe", &remember) < 0)
		return -1;
	*ttl = remember ? SESSION_TTL : SESSION_SHORT_TTL;
	*cookie_age = remember ? SESSION_TTL : -1;
	return 0;
}

/* POST /api/auth/sign-up/email {name,email,password,rememberMe?}:
 * 200 {token,user} with the session cookie; 400 VALIDATION_ERROR (also a
 * bad address, as better-auth answers), PASSWORD_TOO_SHORT, PASSWORD_TOO_LONG; 403 Origin;
 * 415; 422 USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL; 429; 503. */
void
res_auth_sign_up(struct request *rq, struct response *rs)
{
	const char *name = NULL, *email, *password;
	char hash[PASSWORD_HASH_LEN + 1];
	long ttl, cookie_age;
	struct user u;
	struct session s;
	enum db_status st;
	size_t plen;
	cJSON *o;

	if (!auth_login_origin_ok(rq, rs) || credentials(rq, rs, &email, &password, 1) < 0 ||
	    json_get_string(rq, rs, "name", &name, 1, NAME_MAX_LEN) < 0 ||
	    session_ttl(rq, rs, &ttl, &cookie_age) < 0)
		return;
	plen = utf8_chars(password);
	if (plen < PASSWORD_MIN) {
		http_error(rs, 400, "PASSWORD_TOO_SHORT", "Password too short", "password");
		return;
	}
	if (plen > PASSWORD_MAX) {
		http_error(rs, 400, "PASSWORD_TOO_LONG", "Password too long", "password");
		return;
	}
	if (rate_limited(rq, rs, email) < 0)
		return;
	if (password_hash(password, hash) < 0) {
		http_error(rs, 400, "VALIDATION_ERROR", "password must be valid UTF-8", "password");
		return;
	}
	st = users_create(rq->arena, name, email, hash, &u);
	crypto_wipe(hash, sizeof(hash));
	if (st == DB_CONFLICT) {
		http_error(rs, 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
			   "User already exists. Use another email.", "email");
		return;
	}
	if (st != DB_OK ||
	    (st = users_session_create(rq->arena, u.id, ttl, rq->remote_addr,
				       rq->user_agent != NULL ? rq->user_agent : "", &s)) != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	log_msg(LOG_INFO, "auth.sign_up", "user %s signed up", u.id);
	auth_set_cookie(rs, s.token, cookie_age);
	o = json_object(rq->arena);
	cJSON_AddStringToObject(o, "token", s.token);
	cJSON_AddItemToObject(o, "user", auth_user_json(&u));
	http_json(rs, 200, o);
}

/* POST /api/auth/sign-in/email {email,password,rememberMe?}:
 * 200 {redirect:false,token,user} with the session cookie; 400
 * VALIDATION_ERROR, INVALID_EMAIL; 401 INVALID_EMAIL_OR_PASSWORD (the same
 * work and time for an unknown e-mail); 403 Origin; 415; 429; 503. */
void
res_auth_sign_in(struct request *rq, struct response *rs)
{
	const char *email, *password, *stored = NULL;
	long ttl, cookie_age;
	struct user u;
	struct session s;
	enum db_status st;
	int match;
	cJSON *o;

	if (!auth_login_origin_ok(rq, rs) || credentials(rq, rs, &email, &password, 0) < 0 ||
	    session_ttl(rq, rs, &ttl, &cookie_age) < 0 || rate_limited(rq, rs, email) < 0)
		return;
	if ((st = users_find_by_email(rq->arena, email, &u, &stored)) != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	if (u.id == NULL || stored == NULL) {
		password_dummy_verify(password);
		match = 0;
	} else {
		match = password_verify(password, stored) == 1;
	}
	if (!match) {
		log_msg(LOG_INFO, "auth.sign_in_failed", "wrong e-mail or password");
		http_error(rs, 401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password", NULL);
		return;
	}
	if ((st = users_session_create(rq->arena, u.id, ttl, rq->remote_addr,
				       rq->user_agent != NULL ? rq->user_agent : "", &s)) != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	log_msg(LOG_INFO, "auth.sign_in", "user %s signed in", u.id);
	auth_set_cookie(rs, s.token, cookie_age);
	o = json_object(rq->arena);
	cJSON_AddFalseToObject(o, "redirect");
	cJSON_AddStringToObject(o, "token", s.token);
	cJSON_AddItemToObject(o, "user", auth_user_json(&u));
	http_json(rs, 200, o);
}

/* POST /api/auth/sign-out: 200 {success:true} with better-auth's cookies
 * cleared, with or without a session; 403 Origin; 503. */
void
res_auth_sign_out(struct request *rq, struct response *rs)
{
	struct session s;
	struct user u;
	enum db_status st;
	cJSON *o;

	if (auth_find_session(rq, rs, &s, &u, NULL) < 0)
		return;
	if (s.id != NULL && (st = users_session_delete(rq->arena, s.token)) != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	auth_clear_cookie(rs);
	o = json_object(rq->arena);
	cJSON_AddTrueToObject(o, "success");
	http_json(rs, 200, o);
}

/* GET /api/auth/get-session: 200 {session,user}, or 200 null without a
 * live session (and the cookies cleared when it names a gone one); 503. */
void
res_auth_get_session(struct request *rq, struct response *rs)
{
	struct session s;
	struct user u;
	int stale;
	cJSON *o;

	http_header(rs, "Cache-Control", "no-store");
	http_header(rs, "Pragma", "no-cache");
	if (auth_find_session(rq, rs, &s, &u, &stale) < 0)
		return;
	if (s.id == NULL) {
		if (stale)
			auth_clear_cookie(rs);
		http_json_raw(rs, 200, "null");
		return;
	}
	o = json_object(rq->arena);
	cJSON_AddItemToObject(o, "session", auth_session_json(&s));
	cJSON_AddItemToObject(o, "user", auth_user_json(&u));
	http_json(rs, 200, o);
}
