/*
 * libshush: the core of shush, everything that is not HTTP plumbing.
 * Nothing here knows FastCGI. Grouped by module; every exported name
 * carries its module's prefix.
 */
#ifndef SHUSH_H
#define SHUSH_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SHUSH_VERSION "0.1.0"

#if defined(__GNUC__)
#define SHUSH_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SHUSH_PRINTF(a, b)
#endif

/* ---------------------------------------------------------------- arena */
/* Per-request bump allocator. Everything a request allocates comes from
 * here and dies at arena_reset(); cleanups (PQclear, cJSON_Delete) are
 * registered with arena_defer() and run at reset, newest first. */
struct arena;

struct arena *arena_new(size_t chunk_size);
void arena_free(struct arena *a);
void arena_reset(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);       /* zeroed, aborts on OOM */
char *arena_strdup(struct arena *a, const char *s); /* NULL -> NULL */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) SHUSH_PRINTF(2, 3);
int arena_defer(struct arena *a, void (*fn)(void *), void *p);
size_t arena_used(const struct arena *a);

/* Growable byte buffer living in an arena. */
struct buf {
	struct arena *arena;
	char *data; /* always NUL-terminated */
	size_t len;
	size_t cap;
};
void buf_init(struct buf *b, struct arena *a);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) SHUSH_PRINTF(2, 3);
/* Appends s as a JSON string literal, quotes included. */
void buf_json_string(struct buf *b, const char *s, size_t n);

/* ------------------------------------------------------------------ jcs */
/* RFC 8785 canonical JSON of a cJSON value (declared as void * so this
 * header does not need cJSON). -1 for NaN/Infinity or an invalid value. */
int jcs_write(struct buf *b, const void *cjson_value);

/* --------------------------------------------------------------- config */
/* Table-driven configuration from the environment (see config.c). */
enum config_key {
	CFG_DATABASE_URL,
	CFG_REDIS_URL,
	CFG_MASTER_KEK_B64,
	CFG_MASTER_KEK_PREVIOUS_B64,
	CFG_BETTER_AUTH_SECRET,
	CFG_BETTER_AUTH_URL,
	CFG_BETTER_AUTH_TRUSTED_ORIGINS,
	CFG_SOCKET,
	CFG_SOCKET_MODE,
	CFG_WORKERS,
	CFG_RATE_LIMIT_AUTH,
	CFG_RATE_LIMIT_CODES,
	CFG_LOG_LEVEL,
	CFG_DB_TIMEOUT,
	CFG_SMTP_URL,
	CFG_SMTP_FROM,
	CFG__MAX
};

enum config_type { CONFIG_STRING, CONFIG_INT, CONFIG_URL, CONFIG_KEY32, CONFIG_KEYLIST };

struct config_def {
	enum config_key key;
	const char *name;      /* environment variable */
	enum config_type type;
	const char *fallback;  /* NULL: no default */
	int required;
	int secret;            /* never printed */
	long min, max;         /* CONFIG_INT bounds */
	const char *help;
};

extern const struct config_def config_defs[CFG__MAX];

/* Loads and validates every variable; on failure writes a sentence naming
 * the variable into err and returns -1. */
int config_load(char *err, size_t errlen);
const char *config_str(enum config_key k); /* "" when unset */
long config_int(enum config_key k);
int config_is_set(enum config_key k);
/* The 32-byte master key (valid after config_load). */
const unsigned char *config_master_kek(void);
/* 1 when BETTER_AUTH_URL is https. */
int config_public_https(void);

/* ------------------------------------------------------------------ log */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG__MAX };

void log_init(const char *program);
void log_set_level(enum log_level l);
/* The request id carried into every line until cleared with NULL. */
void log_set_request_id(const char *id);
/* One JSON object per line on stderr: ts, level, program, pid, reqId,
 * event, msg. msg is printf-formatted and JSON-escaped; callers never pass
 * secrets, cookies or passwords. */
void log_msg(enum log_level l, const char *event, const char *fmt, ...) SHUSH_PRINTF(3, 4);
/* The access line of one request. */
void log_access(const char *method, const char *path, int status, double ms, size_t bytes_out,
		const char *remote_addr);

/* --------------------------------------------------------------- crypto */
int crypto_random(void *p, size_t n);
/* n random characters of [A-Za-z0-9] into out (n+1 bytes). */
int crypto_random_alnum(char *out, size_t n);
void crypto_sha256(const void *p, size_t n, unsigned char out[32]);
void crypto_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
			unsigned char out[32]);
/* Constant-time comparison; 1 when equal. Lengths are not secret. */
int crypto_eq(const void *a, const void *b, size_t n);
/* Standard base64 with padding; out must hold 4*((n+2)/3)+1 bytes. */
size_t crypto_b64_encode(const unsigned char *p, size_t n, char *out);
/* Returns decoded length or -1; out must hold 3*(strlen/4)+3 bytes. */
long crypto_b64_decode(const char *s, size_t slen, unsigned char *out, size_t outcap);
void crypto_hex(const unsigned char *p, size_t n, char *out); /* out: 2n+1 */
int crypto_unhex(const char *s, size_t slen, unsigned char *out, size_t outcap);
void crypto_wipe(void *p, size_t n);

/* ------------------------------------------------------------- password */
/* better-auth's format: "<salt hex 32>:<scrypt key hex 128>", scrypt
 * N=16384 r=16 p=1 dkLen=64 over the NFKC-normalised password, the salt's
 * hex string as salt input. */
#define PASSWORD_HASH_LEN (32 + 1 + 128)
int password_hash(const char *password, char out[PASSWORD_HASH_LEN + 1]);
/* 1 match, 0 mismatch, -1 malformed stored hash. */
int password_verify(const char *password, const char *stored);
/* Burns the same time as a verification (unknown e-mail). */
void password_dummy_verify(const char *password);

/* ------------------------------------------------------------------- db */
/* One libpq connection per process; statements prepared lazily per
 * connection; the connection is re-established transparently. */
struct db_stmt {
	const char *name;
	const char *sql;
	int nparams;
	unsigned prepared_gen; /* connection generation it was prepared on */
};

enum db_status {
	DB_OK = 0,
	DB_UNAVAILABLE, /* connection lost or server down: 503 */
	DB_CONFLICT,    /* unique violation: 409 */
	DB_INVALID,     /* check/foreign key/not-null, bad text representation: 422 */
	DB_SERIALIZE,   /* serialization failure/deadlock: retry */
	DB_ERROR        /* anything else: 500 */
};

struct db_result {
	void *res; /* PGresult*, freed by the arena */
	int rows;
	enum db_status status;
};

int db_connect(void);
void db_disconnect(void);
int db_ping(void);
/* Runs a prepared statement; params may be NULL for SQL NULL. */
enum db_status db_exec(struct arena *a, struct db_stmt *st, const char *const *params,
		       struct db_result *out);
const char *db_get(const struct db_result *r, int row, int col); /* NULL for SQL NULL */
int db_is_null(const struct db_result *r, int row, int col);
enum db_status db_begin(void);
enum db_status db_commit(void);
void db_rollback(void);
/* Runs plain SQL with no parameters (migrations, admin). */
enum db_status db_simple(const char *sql, char *err, size_t errlen);
const char *db_status_name(enum db_status s);

/* -------------------------------------------------------------- migrate */
/* Applies the files dir/NNN_name.sql not yet recorded; counts them in *applied. */
int migrate_apply(const char *dir, int *applied, char *err, size_t errlen);

/* ------------------------------------------------------------------- kv */
/* Redis: caches and counters only; every call degrades (returns -1) when
 * Redis is down, and nothing is lost then. */
int kv_connect(void);
int kv_ping(void);
/* Increments a counter that expires after ttl seconds; returns the new
 * value, or -1 when Redis is unavailable. */
long kv_incr_window(const char *key, int ttl_seconds, long *ttl_left);

/* ----------------------------------------------------------------- time */
/* ISO 8601 UTC with milliseconds into out (25 bytes). */
void time_iso8601(int64_t unix_ms, char out[32]);
int64_t time_now_ms(void);
/* Parses PostgreSQL's timestamptz text (ISO style, UTC session) to ms. */
int time_parse_pg(const char *s, int64_t *unix_ms);

/* 32 characters of [A-Za-z0-9], better-auth's id and token alphabet. */
#define ID_LEN 32
void id_new(char out[ID_LEN + 1]);

/* ------------------------------------------------------------ ratelimit */
/* Fixed one-minute windows in Redis, with a per-process fallback when Redis
 * is down. Returns 0 allowed, or the seconds to wait. limit 0 = unlimited. */
int ratelimit_hit(const char *bucket, const char *who, long limit);

/* ----------------------------------------------------------------- rbac */
/* Permissions of API.md §3; PERM_NONE for routes any authenticated actor
 * (or anyone, for AUTH_NONE) may call. */
enum perm {
	PERM_NONE,
	PERM_ORG_READ,
	PERM_ORG_UPDATE,
	PERM_ORG_DELETE,
	PERM_ORG_SECURITY,
	PERM_PROJECT_READ,
	PERM_PROJECT_WRITE,
	PERM_ENVIRONMENT_WRITE,
	PERM_FOLDER_WRITE,
	PERM_SECRET_LIST,
	PERM_SECRET_READ,
	PERM_SECRET_WRITE,
	PERM_SECRET_DELETE,
	PERM_SECRET_ROTATE,
	PERM_SECRET_EXPORT,
	PERM_SECRET_IMPORT,
	PERM_ROTATION_POLICY_WRITE,
	PERM_SHARED_SECRET_WRITE,
	PERM_APIKEY_MANAGE,
	PERM_WEBHOOK_MANAGE,
	PERM_INTEGRATION_MANAGE,
	PERM_AUDIT_READ,
	PERM_MEMBER_READ,
	PERM_MEMBER_MANAGE,
	PERM_INVITATION_MANAGE,
	PERM_SCIM_MANAGE,
	PERM_KMS_MANAGE,
	PERM_SSO_MANAGE,
	PERM_BILLING_MANAGE,
	PERM__MAX
};

enum rbac_role { ROLE_OWNER, ROLE_ADMIN, ROLE_ENGINEER, ROLE_VIEWER, ROLE__MAX };

/* "secret:read"…; "none" for PERM_NONE. */
const char *rbac_perm_name(enum perm p);
const char *rbac_role_name(enum rbac_role r);
/* A sentence for the catalog of GET /v1/access/permissions. */
const char *rbac_perm_description(enum perm p);
/* The permissions a role holds, in catalog order, PERM_NONE left out;
 * returns how many. */
size_t rbac_role_permissions(enum rbac_role r, enum perm out[PERM__MAX]);
/* Exact match only ("admin", never " Admin "); -1 when unknown. */
int rbac_role_parse(const char *s);
/* 1 when the role holds the permission. */
int rbac_allows(enum rbac_role r, enum perm p);

/* ----------------------------------------------------------------- orgs */
struct membership {
	const char *member_id; /* NULL: not a (current) member */
	int role;              /* enum rbac_role, -1 when none */
};

/* The caller's live membership of an org (removed members and gone orgs
 * have none). */
enum db_status orgs_membership(struct arena *a, const char *org_id, const char *user_id,
			       struct membership *m);

/* An org as the caller sees it: role is the caller's (enum rbac_role). */
struct org {
	const char *id, *name, *slug, *created_at;
	int role;
};

#define ORG_SLUG_MIN 2
#define ORG_SLUG_MAX 48
/* 1 when slug matches ^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])$. */
int orgs_slug_valid(const char *slug);
/* A slug from a name: ASCII letters and digits lowercased, every run of
 * anything else one '-', trimmed, at most ORG_SLUG_MAX; may come out
 * shorter than ORG_SLUG_MIN (even ""). */
void orgs_slug_from_name(const char *name, char out[ORG_SLUG_MAX + 1]);
/* The orgs the user is a live member of, oldest first (arena array). */
enum db_status orgs_list_mine(struct arena *a, const char *user_id, struct org **items, int *n);
/* One org with the user's live membership; o->id NULL when none (a foreign
 * org and a missing one look the same). */
enum db_status orgs_get(struct arena *a, const char *org_id, const char *user_id, struct org *o);
/* Creates the org with the user as its owner; DB_CONFLICT when the slug is
 * taken, and the caller's transaction is still usable then. */
enum db_status orgs_create(struct arena *a, const char *name, const char *slug,
			   const char *user_id, struct org *o, const char **member_id);
/* Sets name and/or slug (NULL: unchanged); o->id NULL when the org is gone;
 * DB_CONFLICT when the slug is taken. o->role is left -1. */
enum db_status orgs_update(struct arena *a, const char *org_id, const char *name,
			   const char *slug, struct org *o, const char **old_name,
			   const char **old_slug);
/* Deletes the org (cascading to everything of it) and clears it from every
 * session that has it active. */
enum db_status orgs_delete(struct arena *a, const char *org_id, int *deleted);
/* Stores the session's active org (NULL clears it). */
enum db_status orgs_session_set_active(struct arena *a, const char *session_id,
				       const char *org_id);
/* Makes org_id the session's active org if the user is a live member of
 * it; o->id NULL (and nothing changed) otherwise. */
enum db_status orgs_switch(struct arena *a, const char *session_id, const char *user_id,
			   const char *org_id, struct org *o);

/* ---------------------------------------------------------------- audit */
struct audit_event {
	const char *org_id;
	const char *actor_type; /* user, apiKey, scim, system */
	const char *actor_id, *actor_email;
	const char *action;     /* dotted: member.role_changed */
	const char *target_type, *target_id;
	const char *project_id, *environment; /* NULL when none */
	const char *ip, *user_agent, *request_id;
	const char *metadata;   /* a JSON object's text, or NULL; never a secret */
};

struct audit_filter {
	const char *action, *actor_id, *project_id, *from, *to; /* NULL: any */
};

/* One row met by audit_scan: the event without its hash (a cJSON object),
 * and the stored hashes. */
struct audit_row {
	long long seq;
	void *event;
	const char *hash, *prev_hash;
};
typedef int (*audit_scan_fn)(const struct audit_row *row, void *ctx); /* non-zero stops */

/* Appends one event inside the caller's transaction; any failure must
 * abort the change it records (fail closed). */
enum db_status audit_append(struct arena *a, const struct audit_event *ev,
			    char id_out[ID_LEN + 1]);
/* Newest first into items_array (a cJSON array), at most limit; *next_seq
 * is the cursor for the next page, 0 when none. */
enum db_status audit_list(struct arena *a, const char *org_id, const struct audit_filter *f,
			  int limit, long long before_seq, void *items_array, long long *next_seq);
/* Oldest first, in bounded memory. */
enum db_status audit_scan(const char *org_id, const struct audit_filter *f, audit_scan_fn fn,
			  void *ctx);
/* Re-computes a row's hash from its content and prevHash. */
int audit_row_hash(struct arena *a, const struct audit_row *row, char hash[65]);

struct audit_verify {
	long long events;     /* events checked */
	long long broken_seq; /* 0 when the chain is intact */
	char problem[256];    /* the first broken link, in a sentence */
	char head[65];
};
/* Re-computes an org's whole chain, oldest first, in bounded memory. */
enum db_status audit_verify(const char *org_id, struct audit_verify *out);

/* ---------------------------------------------------------------- users */
/* better-auth's user/session/account tables. Rows returned as strings. */
struct user {
	const char *id, *name, *email, *image, *created_at, *updated_at;
	int email_verified;
};

struct session {
	const char *id, *token, *user_id, *expires_at, *created_at, *updated_at;
	const char *ip_address, *user_agent, *active_org_id;
	int64_t expires_ms, updated_ms;
};

enum db_status users_find_by_email(struct arena *a, const char *email, struct user *u,
				   const char **password_hash);
enum db_status users_find_by_id(struct arena *a, const char *id, struct user *u);
enum db_status users_create(struct arena *a, const char *name, const char *email,
			    const char *password_hash, struct user *u);
enum db_status users_update(struct arena *a, const char *id, const char *name, int set_name,
			    const char *image, int set_image, struct user *u);
/* Creates a session lasting ttl seconds. */
enum db_status users_session_create(struct arena *a, const char *user_id, long ttl,
				    const char *ip, const char *ua, struct session *s);
/* Looks a live session and its user up by the token, in one query; DB_OK
 * with s->id NULL if none. */
enum db_status users_session_find(struct arena *a, const char *token, struct session *s,
				  struct user *u);
enum db_status users_session_extend(struct arena *a, struct session *s, long ttl);
enum db_status users_session_delete(struct arena *a, const char *token);
/* An address better-auth's sign-up accepts too (zod's email(), at most
 * 254 bytes); 1 when valid. */
int users_email_valid(const char *email);
/* The address as stored: ASCII lowercased, in the arena. */
char *users_email_lower(struct arena *a, const char *email);

/* -------------------------------------------------------------- members */
/* Members and invitations (better-auth's "member" and "invitation"). Rows
 * as strings; timestamps already in the API's format. */
struct member {
	const char *id, *user_id, *email, *name, *role, *created_at;
};

struct invitation {
	const char *id, *org_id, *email, *role, *expires_at, *created_at;
	const char *status;   /* pending, accepted, canceled or expired (computed) */
	const char *org_name; /* invitations_create only */
};

/* Keyset pages, oldest first: at most limit rows into items (room for
 * limit), *n of them; *next the opaque cursor of the next page, NULL on
 * the last. cursor NULL for the first page; DB_INVALID for a cursor this
 * module did not hand out. */
enum db_status members_list(struct arena *a, const char *org_id, int limit, const char *cursor,
			    struct member *items, int *n, const char **next);
/* In the caller's transaction: locks the org's live owners and the live
 * member member_id (in id order, so concurrent role changes and removals
 * serialise) and counts the owners; target->id NULL when the org has no
 * such live member. */
enum db_status members_lock(struct arena *a, const char *org_id, const char *member_id,
			    struct member *target, int *owners);
enum db_status members_set_role(struct arena *a, const char *org_id, const char *member_id,
				const char *role, struct member *m);
enum db_status members_delete(struct arena *a, const char *org_id, const char *member_id);
/* 1 in *yes when a live member of the org has that (lowercased) address. */
enum db_status members_email_is_member(struct arena *a, const char *org_id, const char *email,
				       int *yes);
/* Seats a person: a new member, or a removed one revived with role;
 * m->id NULL when they already hold a live seat. */
enum db_status members_seat(struct arena *a, const char *org_id, const char *user_id,
			    const char *role, struct member *m);

/* Pending, unexpired invitations of the org. */
enum db_status invitations_list(struct arena *a, const char *org_id, int limit,
				const char *cursor, struct invitation *items, int *n,
				const char **next);
/* In the caller's transaction: serialises invitations of this (lowercased)
 * address to the org until commit, then says whether the address is a
 * live member or has a pending, unexpired invitation. */
enum db_status invitations_check_email(struct arena *a, const char *org_id, const char *email,
				       int *member, int *invited);
/* A pending invitation expiring after ttl_seconds; sets inv->org_name. */
enum db_status invitations_create(struct arena *a, const char *org_id, const char *inviter_id,
				  const char *email, const char *role, long ttl_seconds,
				  struct invitation *inv);
/* Locks the org's invitation id; inv->id NULL when the org has none. */
enum db_status invitations_lock(struct arena *a, const char *org_id, const char *id,
				struct invitation *inv);
/* Locks invitation id when it was sent to email (any org): the accept
 * path, scoped by the invitee; inv->id NULL otherwise. */
enum db_status invitations_lock_for_invitee(struct arena *a, const char *id, const char *email,
					    struct invitation *inv);
enum db_status invitations_set_status(struct arena *a, const char *org_id, const char *id,
				      const char *status, struct invitation *inv);

/* ----------------------------------------------------------------- mail */
/* Queues one message in mail_outbox, inside the caller's transaction;
 * shush-worker sends it. org_id may be NULL. Control characters in the
 * subject become spaces; an address with spaces, controls, '<', '>' or
 * ',' is DB_INVALID. Never put a secret in a message. */
enum db_status mail_enqueue(struct arena *a, const char *org_id, const char *to,
			    const char *subject, const char *body);

/* --------------------------------------------------------------- mailer */
/* The sending side of mail_outbox (mail.c enqueues): SMTP through libcurl
 * to SMTP_URL (smtp:// with STARTTLS when offered — required when the URL
 * carries a password for a non-loopback host — or smtps://; credentials
 * from the URL's userinfo). Never logs the URL's password or a body. */
#define MAILER_PERMANENT (-2) /* mailer_send: retrying cannot help */

/* Sends one text/plain UTF-8 message. 0 sent; -1 failed, worth retrying;
 * MAILER_PERMANENT for a refused input (CR/LF in to or subject, a bad
 * address) or a permanent SMTP rejection (5xx). err gets the reason,
 * without secrets. */
int mailer_send(const char *smtp_url, const char *from, const char *to, const char *subject,
		const char *body, char *err, size_t errlen);
/* Validates SMTP_URL (scheme, host) and SMTP_FROM; -1 with a sentence. */
int mailer_check_config(const char *smtp_url, const char *from, char *err, size_t errlen);
/* The shush-worker job: sends up to 20 due rows (each claimed with a
 * lease, FOR UPDATE SKIP LOCKED), marks them sent or schedules a retry
 * (30 s x 2^(attempts-1), at most 1 h; gives up after 10 attempts or a
 * permanent failure: next_attempt_at = infinity, last_error "gave up …").
 * Does nothing without SMTP_URL. 0, or -1 when PostgreSQL failed. */
int mailer_run_once(struct arena *a, int *sent);
/* Async-signal-safe: mailer_run_once finishes the current send and stops. */
void mailer_request_stop(void);

#endif
