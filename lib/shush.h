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
/* A copy of client-supplied text fit to be stored and shown (a User-Agent):
 * every invalid UTF-8 byte and control character becomes '?', and it is
 * cut at a character boundary to at most max bytes. NULL -> NULL. */
char *arena_clean_text(struct arena *a, const char *s, size_t max);
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
/* The same into a fixed line (log lines, spool records): appends s
 * escaped at out[pos], leaving room for 8 more bytes, and returns the new
 * position; a string that does not fit is cut there, and *cut (when not
 * NULL) set to 1. */
size_t json_escape_into(char *out, size_t pos, size_t cap, const char *s, int *cut);

/* ------------------------------------------------------------------ jcs */
/* RFC 8785 canonical JSON of a cJSON value (declared as void * so this
 * header does not need cJSON). -1 for NaN/Infinity or an invalid value. */
int jcs_write(struct buf *b, const void *cjson_value);

/* --------------------------------------------------------------- dotenv */
/* Import and export (API.md §5, lib/dotenv.c documents the grammar). */
#define DOTENV_MAX_KEY 256             /* ^[A-Za-z_][A-Za-z0-9_]{0,255}$ */
#define DOTENV_MAX_VALUE 65536         /* bytes of a value, after unquoting */
#define DOTENV_MAX_PAIRS 10000
#define DOTENV_MAX_TEXT (16u << 20)    /* bytes of a whole file */

struct dotenv_pair {
	const char *key;
	const char *value; /* UTF-8 without NUL, value_len bytes (parsed ones are
			    * NUL-terminated too; NULL is "" to the writers) */
	size_t value_len;
	int line;          /* 1-based line of the (last) assignment; 0 if unknown */
};

/* 1 when key matches ^[A-Za-z_][A-Za-z0-9_]{0,255}$. */
int dotenv_key_valid(const char *key);
/* Parses a dotenv file into arena pairs, in the order keys first appear;
 * a repeated key keeps its first place and takes its last value (last
 * wins). -1 on the first malformed line: *bad_line is its 1-based number,
 * *why a short reason (a constant, never a value), *pairs NULL, *count 0.
 * On success *pairs is never NULL (even for an empty file). */
int dotenv_parse(struct arena *a, const char *text, size_t n, struct dotenv_pair **pairs,
		 size_t *count, int *bad_line, const char **why);
/* Serialisers, keys sorted (bytewise); line is ignored. -1, with nothing
 * appended, for an invalid key, a repeated key, or a value that is not
 * UTF-8 without NUL. json: one flat object {"KEY":"value",...}. shell:
 * "export KEY='...'" lines ('\'' for a quote): sh and bash yield every
 * value byte for byte and execute nothing. dotenv: KEY=value lines that
 * dotenv_parse reads back exactly, quoted per value so that the npm dotenv
 * package reads them too wherever it can represent the value. */
int dotenv_write_json(struct buf *b, const struct dotenv_pair *pairs, size_t count);
int dotenv_write_shell(struct buf *b, const struct dotenv_pair *pairs, size_t count);
int dotenv_write_dotenv(struct buf *b, const struct dotenv_pair *pairs, size_t count);

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
	CFG_DEK_CACHE_SECONDS,
	CFG_SPOOL_DIR,
	CFG_SPOOL_CATCHUP_MB,
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
void log_access(const char *method, const char *path, int status, int64_t us, size_t bytes_out,
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
/* The 32 bytes p as a big-endian number in base 62 (0-9, A-Z, a-z), left
 * padded with '0' to exactly 43 characters; out: 44 bytes. */
#define CRYPTO_BASE62_32_LEN 43
void crypto_base62(const unsigned char p[32], char out[CRYPTO_BASE62_32_LEN + 1]);

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
/* The counter of such a window without counting: its value (0 when there
 * is none), or -1 when Redis is unavailable. */
long kv_peek_window(const char *key, long *ttl_left);

/* ----------------------------------------------------------------- time */
/* ISO 8601 UTC with milliseconds into out (25 bytes). */
void time_iso8601(int64_t unix_ms, char out[32]);
int64_t time_now_ms(void);
/* Microseconds of a monotonic clock, for durations. */
int64_t time_mono_us(void);
/* Parses PostgreSQL's timestamptz text (ISO style, UTC session) to ms. */
int time_parse_pg(const char *s, int64_t *unix_ms);

/* 32 characters of [A-Za-z0-9], better-auth's id and token alphabet. */
#define ID_LEN 32
void id_new(char out[ID_LEN + 1]);

/* 1 when s could be an id of ours (1..64 of [A-Za-z0-9_-]): anything else
 * is a miss without asking the database. */
#define ID_PLAUSIBLE_MAX 64
int id_plausible(const char *s);

/* --------------------------------------------------------------- cursor */
/* Keyset cursors: base64url of the last row's sort key. decode: NULL for
 * anything encode did not make. The stamp forms carry "createdAt to the
 * microsecond|id". */
const char *cursor_encode(struct arena *a, const char *raw);
char *cursor_decode(struct arena *a, const char *cursor);
const char *cursor_encode_stamp(struct arena *a, const char *stamp, const char *id);
int cursor_decode_stamp(struct arena *a, const char *cursor, const char **stamp,
			const char **id);

/* ------------------------------------------------------------ ratelimit */
/* Fixed one-minute windows in Redis, with a per-process fallback when Redis
 * is down. Returns 0 allowed, or the seconds to wait. limit 0 = unlimited. */
int ratelimit_hit(const char *bucket, const char *who, long limit);
/* Whether the window is already full (limit hits counted), without
 * counting this one: 0 when another hit is allowed, else the seconds to
 * wait. For limits on failures (wrong codes): peek before trying, hit on a
 * failure. */
int ratelimit_peek(const char *bucket, const char *who, long limit);

/* ---------------------------------------------------------- idempotency */
/* Idempotency-Key (API.md §1): the first answer to a mutating request,
 * kept per (user, key) for 24 h in idempotency_key (lib/idempotency.c). */
#define IDEM_KEY_MAX 255

/* 1 when key is 1..IDEM_KEY_MAX printable ASCII characters (0x20..0x7e). */
int idem_key_valid(const char *key);
/* Hex SHA-256 of the request body (NULL or empty: of ""). */
void idem_body_hash(const void *body, size_t n, char out[65]);

/* What a key is bound to: the user, and the request it first came with. */
struct idem_request {
	const char *user_id, *key, *method, *path, *body_sha256;
};

enum idem_state {
	IDEM_CLAIMED,  /* the key is ours: run the handler, then store or release */
	IDEM_PENDING,  /* another request holds it and has not answered yet */
	IDEM_DONE,     /* answered before: replay status, headers, body */
	IDEM_MISMATCH  /* the key came with another method, path or body */
};

struct idem_record {
	enum idem_state state;
	const char *claim;        /* IDEM_CLAIMED: the claim's token */
	int status;               /* IDEM_DONE: the stored answer… */
	const char *content_type; /* NULL when none */
	const char *headers;      /* JSON array of [name, value] pairs */
	unsigned char *body;
	size_t body_len;
};

/* Claims the key (a pending row, committed at once; rows older than 24 h
 * and abandoned claims count as absent), or says who holds it. Runs outside
 * any transaction. */
enum db_status idem_claim(struct arena *a, const struct idem_request *r, struct idem_record *out);
/* Fills our claim with the answer (after the handler committed). */
enum db_status idem_store(struct arena *a, const struct idem_request *r, const char *claim,
			  int status, const char *content_type, const char *headers_json,
			  const void *body, size_t n);
/* Gives the claim up (the answer is not to be kept: 5xx), so a retry runs. */
enum db_status idem_release(struct arena *a, const struct idem_request *r, const char *claim);
/* Deletes one bounded batch of rows older than 24 h, at most once a minute
 * per process (*deleted 0 otherwise). */
enum db_status idem_sweep(struct arena *a, int *deleted);

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

/* ------------------------------------------------------------- projects */
/* Projects, their environments (with inheritance) and folders (006_vault.sql).
 * Every call takes the org: a project, environment or folder of another org
 * is not found, exactly like a missing one. Rows as strings; timestamps
 * already in the API's format. */
struct project {
	const char *id, *name, *slug, *description, *created_at; /* description may be NULL */
};

struct environment {
	const char *id, *slug, *name;
	const char **parents; /* slugs, in inheritance order */
	int nparents;
	int position;
	long long generation;
};

struct folder {
	const char *id, *name, *parent_id, *path; /* parent_id NULL at the top; path "/a/b" */
};

/* Project slugs follow the org slug rule (orgs_slug_valid), unique per org. */
#define PROJECT_NAME_MAX 128 /* characters */
#define PROJECT_DESCRIPTION_MAX 1024 /* characters */
#define ENV_SLUG_MAX 48  /* environment slugs: the org slug rule, 1..48 chars */
#define ENV_MAX 64       /* environments per project */
#define FOLDER_NAME_MAX 128 /* characters, no '/' */

/* One project of the org; p->id NULL when none. */
enum db_status projects_get(struct arena *a, const char *org_id, const char *project_id,
			    struct project *p);
/* Same, inside the caller's transaction, and locks the project row FOR
 * SHARE (FOR UPDATE when exclusive) so it cannot be deleted until commit. */
enum db_status projects_lock(struct arena *a, const char *org_id, const char *project_id,
			     int exclusive, struct project *p);
/* Keyset page, oldest first (created_at, id): at most limit rows into items
 * (room for limit); *next the opaque cursor of the next page, NULL on the
 * last; DB_INVALID for a cursor this module did not hand out. */
enum db_status projects_list(struct arena *a, const char *org_id, int limit, const char *cursor,
			     struct project *items, int *n, const char **next);
/* Creates the project with development, staging and production (in that
 * order, no parents), inside the caller's transaction; DB_CONFLICT when
 * the slug is taken in the org (the transaction is still usable then).
 * The environments come back in *envs (arena array of *nenvs). */
enum db_status projects_create(struct arena *a, const char *org_id, const char *name,
			       const char *slug, const char *description, struct project *p,
			       struct environment **envs, int *nenvs);
/* Deletes the project and everything in it; *deleted 0 when none. */
enum db_status projects_delete(struct arena *a, const char *org_id, const char *project_id,
			       int *deleted);

/* The project's environments in position order (arena array); *n 0 when the
 * project has none (or is not the org's). */
enum db_status environments_list(struct arena *a, const char *org_id, const char *project_id,
				 struct environment **items, int *n);
/* The environments of several projects at once (a page of projects), in
 * (project, position) order: project_of[i] is the project of items[i]. */
enum db_status environments_list_many(struct arena *a, const char *org_id,
				      const char *const *project_ids, int nprojects,
				      struct environment **items, const char ***project_of,
				      int *n);
/* One environment by slug; e->id NULL when none. */
enum db_status environments_get(struct arena *a, const char *org_id, const char *project_id,
				const char *slug, struct environment *e);
/* Where a value of environment env_slug is looked up, in order: the
 * environment itself, then its parents in order, recursively, depth first,
 * each environment once (a slug already met is skipped). *order is an arena
 * array of *n environments (id, slug… as in environments_list), [0] being
 * env_slug itself; *n 0 when the project or environment does not exist.
 * The first of them holding a value is the value's source environment. */
enum db_status environments_resolution_order(struct arena *a, const char *org_id,
					     const char *project_id, const char *env_slug,
					     struct environment **order, int *n);
/* The same walk over an already loaded list (no database): indexes into
 * envs, start first; returns how many were written into order (room for n). */
int environments_resolve(const struct environment *envs, int n, int start, int *order);
/* -1 when the parents graph of envs has no cycle (parents naming a slug not
 * in envs are ignored), else the index of an environment on a cycle. */
int environments_find_cycle(const struct environment *envs, int n);
/* Bumps the generation of every environment of the project (whatever
 * changed, runtime caches of any of them re-resolve); inside the caller's
 * transaction, after a write that changes what some environment resolves to. */
enum db_status environments_bump_generation(struct arena *a, const char *org_id,
					    const char *project_id);

/* 1 when slug is an environment slug: 1..48 of a-z, 0-9 and '-', starting
 * and ending with a letter or digit. */
int environments_slug_valid(const char *slug);
/* Serialises environment changes of the project until commit (a
 * transaction-scoped advisory lock): two PATCHes cannot together make a
 * cycle that neither makes alone. */
enum db_status environments_serialize(struct arena *a, const char *project_id);
/* Inserts an environment (parents: slugs, nparents of them); DB_CONFLICT
 * when the slug exists in the project. */
enum db_status environments_create(struct arena *a, const char *org_id, const char *project_id,
				   const char *slug, const char *name, const char *const *parents,
				   int nparents, int position);
/* Sets name (NULL: unchanged) and/or parents (set_parents 0: unchanged). */
enum db_status environments_update(struct arena *a, const char *org_id, const char *project_id,
				   const char *slug, const char *name, int set_parents,
				   const char *const *parents, int nparents);

/* One folder of the project, with its path; f->id NULL when none. */
enum db_status folders_get(struct arena *a, const char *org_id, const char *project_id,
			   const char *folder_id, struct folder *f);
/* Every folder of the project with its path, in path order (arena array). */
enum db_status folders_list(struct arena *a, const char *org_id, const char *project_id,
			    struct folder **items, int *n);
/* Serialises structural folder changes (create, move, delete) of the
 * project until commit, so no two moves make a cycle together. */
enum db_status folders_serialize(struct arena *a, const char *project_id);
/* Creates a folder under parent_id (NULL: at the top); f->id NULL when the
 * parent is not a folder of the project; DB_CONFLICT when a sibling has the
 * name (the transaction is still usable then). */
enum db_status folders_create(struct arena *a, const char *org_id, const char *project_id,
			      const char *parent_id, const char *name, struct folder *f);
/* Locks the folder FOR UPDATE (secrets and subfolders cannot be added to it
 * until commit) and counts everything below it; f->id NULL when none. */
enum db_status folders_lock(struct arena *a, const char *org_id, const char *project_id,
			    const char *folder_id, struct folder *f, long *subfolders,
			    long *secrets);
/* *yes 1 when candidate is folder_id itself or one of its descendants. */
enum db_status folders_is_within(struct arena *a, const char *org_id, const char *folder_id,
				 const char *candidate, int *yes);
/* Renames (name NULL: unchanged) and/or moves (set_parent: to parent_id,
 * NULL the top); f gets the folder as it is now; DB_CONFLICT on a sibling
 * with the name (the transaction is still usable then). */
enum db_status folders_update(struct arena *a, const char *org_id, const char *project_id,
			      const char *folder_id, const char *name, int set_parent,
			      const char *parent_id, struct folder *f);
/* Deletes the folder with everything below it (subfolders, secrets). */
enum db_status folders_delete(struct arena *a, const char *org_id, const char *project_id,
			      const char *folder_id, int *deleted);

/* GET …/counts. webhooks and integrations stay 0 until their tables
 * exist; apiKeys counts the project's environment keys. */
struct project_counts {
	long secrets, folders, environments, api_keys, webhooks, integrations;
};
enum db_status projects_counts(struct arena *a, const char *org_id, const char *project_id,
			       struct project_counts *c);
/* Secrets with a value set (not inherited) in each environment, in
 * position order: slugs[i], counts[i] (arena arrays). */
enum db_status environments_secret_counts(struct arena *a, const char *org_id,
					  const char *project_id, const char ***slugs,
					  long **counts, int *n);

/* -------------------------------------------------------------- secrets */
/* Project secrets with per-environment versioned values (006_vault.sql).
 * Every call takes the org and the project: a secret of another org or
 * project is not found, exactly like a missing one. Values are sealed with
 * keyring_seal under additional data binding org, project, secret,
 * environment and version (keyring_aad); only ciphertext reaches the
 * database. Rows as strings; timestamps already in the API's format. */
#define SECRET_KEY_MAX 256            /* ^[A-Za-z_][A-Za-z0-9_]{0,255}$ */
#define SECRET_VALUE_MAX (64 * 1024)  /* bytes of UTF-8, no NUL */
#define SECRET_NOTE_MAX 1024          /* characters */
#define SECRET_TAGS_MAX 32
#define SECRET_TAG_MAX 64             /* characters */
#define SECRET_POLICY_DAYS_MAX 3650

/* The current value of a secret in one environment. */
struct secret_value {
	const char *environment_id, *environment; /* id and slug */
	int position;                             /* the environment's */
	int version;
	const char *updated_at, *updated_by;
	const char *sealed; /* bytea text of the ciphertext; NULL unless asked for */
	const char *value;  /* the plaintext, once the caller opened it (secrets_open) */
};

struct secret {
	const char *id, *project_id, *key, *folder_id, *note; /* folder_id may be NULL */
	const char *tags_json;                                /* a JSON array of strings */
	const char *last_rotated_at, *created_at;             /* last_rotated_at may be NULL */
	struct secret_value *values; /* environment order; see secrets_load_values */
	int nvalues;
};

struct secret_version {
	const char *environment_id, *environment;
	int version;
	const char *created_at, *created_by;
	const char *sealed; /* bytea text */
	const char *value;  /* the plaintext, once the caller opened it */
};

struct secret_policy {
	int interval_days; /* 0: none */
	const char *next_due_at;
};

/* 1 when key matches ^[A-Za-z_][A-Za-z0-9_]{0,255}$. */
int secrets_key_valid(const char *key);
/* Keyset page by key (bytewise), at most limit rows into items (room for
 * limit); folder_id NULL for any; *next NULL on the last page; DB_INVALID
 * for a cursor this module did not hand out. Values are not loaded. */
enum db_status secrets_list(struct arena *a, const char *org_id, const char *project_id,
			    const char *folder_id, int limit, const char *cursor,
			    struct secret *items, int *n, const char **next);
/* Loads the current values of n secrets (one project), in environment
 * order; environment_id NULL for all; sealed 1 to fetch the ciphertexts. */
enum db_status secrets_load_values(struct arena *a, const char *org_id, struct secret *items,
				   int n, const char *environment_id, int sealed);
/* One secret, without values; lock 1 takes its row FOR UPDATE (every
 * writer of the secret does, so writers serialise); s->id NULL when none. */
enum db_status secrets_get(struct arena *a, const char *org_id, const char *project_id,
			   const char *id, int lock, struct secret *s);
/* Creates a secret without values; DB_CONFLICT when the key is taken in the
 * project (the transaction is aborted then). tags_json: a JSON array of
 * strings, or NULL for none. */
enum db_status secrets_create(struct arena *a, const char *org_id, const char *project_id,
			      const char *key, const char *folder_id, const char *note,
			      const char *tags_json, struct secret *s);
/* Changes what is given (NULL: unchanged; folder changes when set_folder,
 * to folder_id, NULL being none); s->id NULL when none; DB_CONFLICT when
 * the new key is taken. */
enum db_status secrets_update(struct arena *a, const char *org_id, const char *project_id,
			      const char *id, const char *key, const char *note,
			      const char *tags_json, int set_folder, const char *folder_id,
			      struct secret *s);
/* Writes a new version of the secret's value in an environment, sealed:
 * the version is the highest ever written there + 1. The caller holds the
 * secret's row lock (secrets_get with lock). *version gets it. */
enum db_status secrets_write_value(struct arena *a, const char *org_id, const char *project_id,
				   const char *secret_id, const char *environment_id,
				   const char *user_id, const char *value, size_t n, int *version);
/* Removes the secret's value in an environment (its versions stay);
 * *removed 0 when it had none. */
enum db_status secrets_remove_value(struct arena *a, const char *org_id, const char *secret_id,
				    const char *environment_id, int *removed);
/* Opens a sealed value of the secret (bytea text as loaded) into out;
 * DB_INVALID when it does not open there (moved, tampered, malformed). */
enum db_status secrets_open(struct arena *a, const char *org_id, const char *project_id,
			    const char *secret_id, const char *environment_id, int version,
			    const char *sealed, struct buf *out);
/* Deletes the secret with its values, versions and policy; *key gets its
 * key, NULL when there was none. */
enum db_status secrets_delete(struct arena *a, const char *org_id, const char *project_id,
			      const char *id, const char **key);
/* Marks the secret rotated now and moves its policy's next due date to
 * now + interval; s->id NULL when none. */
enum db_status secrets_rotate(struct arena *a, const char *org_id, const char *project_id,
			      const char *id, struct secret *s);
/* Versions, newest first (a version's created_at is taken under the
 * secret's lock, so it grows with the version), with their ciphertexts;
 * environment_id NULL for all; keyset pages as secrets_list. */
enum db_status secrets_versions(struct arena *a, const char *org_id, const char *secret_id,
				const char *environment_id, int limit, const char *cursor,
				struct secret_version *items, int *n, const char **next);
/* The secret's rotation policy; p->interval_days 0 when none. */
enum db_status secrets_policy_get(struct arena *a, const char *org_id, const char *secret_id,
				  struct secret_policy *p);
/* Sets it: next due interval_days after the last rotation (or creation). */
enum db_status secrets_policy_set(struct arena *a, const char *org_id, const char *secret_id,
				  int interval_days, struct secret_policy *p);
enum db_status secrets_policy_delete(struct arena *a, const char *org_id, const char *secret_id,
				     int *deleted);

/* One key of a resolved environment: its value and where it came from. */
struct secret_resolved {
	const char *key, *secret_id;
	const char *environment_id, *environment; /* the source environment */
	int version;
	const char *value;
	size_t value_len;
};
/* The resolved view of an environment (order from
 * environments_resolution_order): every key with the value of the first
 * environment in order that has one, keys sorted bytewise, values opened. */
enum db_status secrets_resolve(struct arena *a, const char *org_id, const char *project_id,
			       const struct environment *order, int n,
			       struct secret_resolved **out, size_t *count);

enum secrets_import_result { SECRETS_CREATED, SECRETS_UPDATED, SECRETS_UNCHANGED };
/* Sets key's value in one environment as an import does: creates the
 * secret when the project has no such key, writes a new version when the
 * value differs, nothing when it is the same. Inside the caller's
 * transaction (it locks the secret's row). */
enum db_status secrets_import_one(struct arena *a, const char *org_id, const char *project_id,
				  const char *environment_id, const char *user_id,
				  const char *key, const char *value, size_t n,
				  enum secrets_import_result *result);

/* ------------------------------------------------------- shared secrets */
/* Org-wide shared secrets and their folders (006_vault.sql shared_*): one
 * value per secret, versioned. Every call takes the org: an id of another
 * org is not found, exactly like a missing one. Values are sealed with
 * keyring_seal under keyring_aad_shared (org, shared secret, version); only
 * ciphertext reaches the database. Keys and value limits as project
 * secrets (secrets_key_valid, SECRET_VALUE_MAX, SECRET_NOTE_MAX); keys are
 * unique per org. Folders are struct folder (path "/a/b"). Rows as
 * strings; timestamps already in the API's format. */
struct shared_secret {
	const char *id, *key, *folder_id, *note, *created_at, *updated_at;
	int version;        /* the current version */
	const char *sealed; /* the current version's bytea text, when loaded */
	const char *value;  /* the plaintext, once the caller opened it */
};
struct shared_secret_version {
	int version;
	const char *created_at, *created_by;
	const char *sealed; /* bytea text */
	const char *value;  /* once opened */
};

/* Every shared folder of the org with its path, in path order (arena array). */
enum db_status shared_folders_list(struct arena *a, const char *org_id, struct folder **items,
				   int *n);
/* One shared folder of the org, with its path; f->id NULL when none. */
enum db_status shared_folders_get(struct arena *a, const char *org_id, const char *folder_id,
				  struct folder *f);
/* Creates a shared folder under parent_id (NULL: at the top); f->id NULL
 * when the parent is not a shared folder of the org; DB_CONFLICT when a
 * sibling has the name (the transaction is still usable then). */
enum db_status shared_folders_create(struct arena *a, const char *org_id, const char *parent_id,
				     const char *name, struct folder *f);
/* Keyset page by key (bytewise): at most limit rows into items (room for
 * limit); folder_id NULL for all; sealed 1 loads each current value's
 * ciphertext (s->sealed). DB_INVALID for a cursor not handed out here. */
enum db_status shared_list(struct arena *a, const char *org_id, const char *folder_id,
			   int limit, const char *cursor, int sealed, struct shared_secret *items,
			   int *n, const char **next);
/* One shared secret; lock 1 takes its row FOR UPDATE (writers serialise
 * there); sealed 1 loads the current value's ciphertext. s->id NULL when
 * none. */
enum db_status shared_get(struct arena *a, const char *org_id, const char *id, int lock,
			  int sealed, struct shared_secret *s);
/* Inserts the secret with value as version 1 (by user_id); DB_CONFLICT
 * when the key is taken in the org. s gets the row. */
enum db_status shared_create(struct arena *a, const char *org_id, const char *user_id,
			     const char *key, const char *folder_id, const char *note,
			     const char *value, size_t n, struct shared_secret *s);
/* Sets key and note (NULL: unchanged) and the folder (set_folder: to
 * folder_id, NULL none), and, when value is not NULL, writes it as the next
 * version; call with the row locked (shared_get lock 1). s gets the row as
 * it is now; DB_CONFLICT when the new key is taken. */
enum db_status shared_update(struct arena *a, const char *org_id, const char *id,
			     const char *user_id, const char *key, const char *note,
			     int set_folder, const char *folder_id, const char *value, size_t n,
			     struct shared_secret *s);
/* Deletes it with its versions; *key the deleted key, NULL when none. */
enum db_status shared_delete(struct arena *a, const char *org_id, const char *id,
			     const char **key);
/* Versions newest first, keyset pages (cursor as handed out in *next). */
enum db_status shared_versions(struct arena *a, const char *org_id, const char *id, int limit,
			       const char *cursor, struct shared_secret_version *items, int *n,
			       const char **next);
/* Opens a stored value of (id, version); DB_INVALID when it does not
 * authenticate there (moved or tampered ciphertext). */
enum db_status shared_open(struct arena *a, const char *org_id, const char *id, int version,
			   const char *sealed, struct buf *out);

/* -------------------------------------------------------------- keyring */
/* Each org has a 256-bit data key (DEK), wrapped by a key-encryption key
 * (KEK) from a provider (the master key now; AWS KMS later). Values are
 * sealed with AES-256-GCM under the DEK with a fresh 96-bit nonce and
 * additional data binding them to their place (see keyring_aad), so a
 * ciphertext copied elsewhere fails to open. Unwrapped DEKs are cached per
 * process for a bounded time in memory excluded from core dumps. */

/* Creates and stores the org's first DEK, inside the caller's transaction. */
enum db_status keyring_create_org_key(struct arena *a, const char *org_id);
/* Seals plaintext for org_id with additional data aad; out gets the
 * self-describing ciphertext (format version, DEK version, nonce, data,
 * tag) as bytes. DB_UNAVAILABLE when the KEK provider or database is down. */
enum db_status keyring_seal(struct arena *a, const char *org_id, const void *aad, size_t aadlen,
			    const void *plaintext, size_t n, struct buf *out);
/* Opens what keyring_seal made; DB_INVALID when it does not authenticate
 * (wrong place, tampered), DB_UNAVAILABLE when the key is unreachable. */
enum db_status keyring_open(struct arena *a, const char *org_id, const void *aad, size_t aadlen,
			    const void *ciphertext, size_t n, struct buf *out);
/* The additional data of a secret value: org, project, secret, environment
 * and version, length-prefixed so no two places share a string. */
void keyring_aad(struct buf *out, const char *org_id, const char *project_id,
		 const char *secret_id, const char *environment_id, int version);
/* Drops every cached DEK (wiped). */
void keyring_forget_all(void);
/* The additional data of a shared secret's value: org, shared secret and
 * version, length-prefixed, in a domain apart from keyring_aad's. */
void keyring_aad_shared(struct buf *out, const char *org_id, const char *shared_secret_id,
			int version);

#define KEYRING_DEK_LEN 32
#define KEYRING_FORMAT 1      /* first byte of every sealed value */
#define KEYRING_HEADER_LEN 5  /* format version, DEK version (big-endian) */
#define KEYRING_NONCE_LEN 12
#define KEYRING_TAG_LEN 16
#define KEYRING_OVERHEAD (KEYRING_HEADER_LEN + KEYRING_NONCE_LEN + KEYRING_TAG_LEN)
#define KEYRING_VALUE_MAX (64 * 1024) /* plaintext bytes keyring_seal accepts */
#define KEYRING_WRAPPED_LEN (KEYRING_NONCE_LEN + KEYRING_DEK_LEN + KEYRING_TAG_LEN)
#define KEYRING_KEK_ID_MAX 64

/* An org's encryption state (API.md §4 "Encryption state"), strings in
 * the arena, timestamps in the API's format; kms_key_arn NULL unless kms. */
struct keyring_state {
	const char *provider, *kek_id, *dek_created_at, *wrapped_at, *kms_key_arn;
	int dek_version;
};
/* The state of the org's current DEK; creates the org's key first when it
 * has none (orgs older than the keyring), so call it in a transaction. */
enum db_status keyring_state(struct arena *a, const char *org_id, struct keyring_state *out);
/* Re-wraps every DEK version of the org under its provider's current KEK
 * (the current master key), inside the caller's transaction; *from_kek_id
 * gets the KEK that wrapped the current DEK before, *count how many
 * versions were re-wrapped. The DEKs themselves do not change. */
enum db_status keyring_rotate_kek(struct arena *a, const char *org_id, struct keyring_state *out,
				  const char **from_kek_id, int *count);
/* shushd rotate-kek: the same in its own transaction, audited
 * org.kek_rotated with actor system; DB_INVALID when there is no such org. */
enum db_status keyring_rotate_kek_admin(struct arena *a, const char *org_id,
					struct keyring_state *out, const char **from_kek_id,
					int *count);
/* Up to limit org ids after `after` ("" first), in id order (arena array). */
enum db_status keyring_list_orgs(struct arena *a, const char *after, int limit, const char ***ids,
				 int *n);

/* shushd rekey: a fresh DEK version becomes current, every sealed value of
 * the org is re-encrypted under it in batches (one transaction each,
 * online), then the old versions are deleted and `org.rekeyed` is audited
 * (actor system). An interrupted run is finished by the next one instead
 * of starting another version. progress (may be NULL) is told each batch. */
struct keyring_rekey_result {
	int from_version, to_version;
	long long reencrypted, remaining; /* remaining > 0: old versions kept */
	int retired;                      /* old versions deleted */
};
typedef void (*keyring_progress_fn)(void *ctx, const char *what, long long done,
				    long long total);
enum db_status keyring_rekey(struct arena *a, const char *org_id, int batch,
			     keyring_progress_fn progress, void *ctx,
			     struct keyring_rekey_result *out);

/* The pure layer under the above, given the keys (unit-tested without a
 * database). 0, or -1 when sealing fails / the input does not open. */
int keyring_seal_with(const unsigned char dek[KEYRING_DEK_LEN], uint32_t dek_version,
		      const void *aad, size_t aadlen, const void *plaintext, size_t n,
		      struct buf *out);
int keyring_open_with(const unsigned char dek[KEYRING_DEK_LEN], const void *aad, size_t aadlen,
		      const void *sealed, size_t n, struct buf *out);
/* The DEK version a sealed value names; -1 when it is not one (too short,
 * unknown format version). */
int keyring_sealed_version(const void *sealed, size_t n, uint32_t *dek_version);
/* The master-key provider's wrap: out = nonce ‖ ciphertext ‖ tag, with
 * additional data binding org and DEK version. */
int keyring_master_wrap(const unsigned char kek[KEYRING_DEK_LEN], const char *org_id,
			uint32_t dek_version, const unsigned char dek[KEYRING_DEK_LEN],
			unsigned char out[KEYRING_WRAPPED_LEN]);
int keyring_master_unwrap(const unsigned char kek[KEYRING_DEK_LEN], const char *org_id,
			  uint32_t dek_version, const unsigned char *wrapped, size_t n,
			  unsigned char dek[KEYRING_DEK_LEN]);
/* "master:" + the first 16 hex digits of SHA-256 of the key. */
void keyring_master_kek_id(const unsigned char kek[KEYRING_DEK_LEN],
			   char out[KEYRING_KEK_ID_MAX]);

/* bytea text I/O for sealed values: "\\x…" hex, in the arena. */
const char *db_bytea_param(struct arena *a, const void *p, size_t n);
/* Decodes a bytea column's text; -1 when malformed. */
int db_bytea_value(const char *text, struct buf *out);

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
	int64_t at_ms;          /* when it happened; 0: now */
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
/* Appends events of any orgs inside the caller's transaction, each org's
 * in the given order; events of an org that no longer exists are dropped
 * (its trail went with it). For shush-worker's spool shipping. */
enum db_status audit_append_many(struct arena *a, const struct audit_event *evs, size_t n);
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

/* ---------------------------------------------------------------- spool */
/* Runtime reads' audit records, appended by shushd workers without a
 * round trip and shipped into the chain by shush-worker (lib/spool.c). */
#define SPOOL_RECORD_MAX 4096
/* One record's line (with its newline) into out; its length, or -1 when
 * the event is incomplete or does not fit. */
int spool_format(const struct audit_event *ev, int64_t at_ms, char *out, size_t cap);
/* A line's event, strings in a; -1 when it is not a complete record. */
int spool_parse(struct arena *a, const char *line, size_t len, struct audit_event *ev);
/* Appends one record with one write(2); -1 when it could not be appended
 * (the caller refuses the read). */
int spool_append(const struct audit_event *ev);
void spool_writer_close(void);
/* Creates dir (0700) when missing; -1 with a sentence when unusable. */
int spool_dir_check(const char *dir, char *err, size_t errlen);
/* Ships complete records of every spool file in dir into the audit chain
 * (exactly once), at most max_batches transactions per file, deleting
 * files whose writer is gone once all is in; *events is how many were
 * chained. Stops early when *stop becomes non-zero. */
enum db_status spool_ship(struct arena *a, const char *dir, int max_batches, long *events,
			  volatile const int *stop);
/* Bytes written to the spool and not chained yet. */
enum db_status spool_backlog(struct arena *a, const char *dir, long long *bytes);

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

/* -------------------------------------------------------------- apikeys */
/* API keys (API.md §4, 007_apikeys.sql): "shush_" + 43 of [A-Za-z0-9];
 * only the hex SHA-256 of the whole key is stored. kind "environment":
 * one environment of a project, the runtime routes (AUTH_APIKEY); kind
 * "user": a personal token that acts as its user on every /v1 route, in
 * its active_org_id. Rows as strings; timestamps in the API's format. */
#define APIKEY_PREFIX "shush_"
#define APIKEY_LEN (6 + 43)       /* whole key, without NUL */
#define APIKEY_DISPLAY_PREFIX 12  /* characters kept in prefix */
#define APIKEY_NAME_MAX 128       /* characters */
#define APIKEY_GRACE_MAX 86400    /* rotate graceSeconds */

struct apikey {
	const char *id, *org_id, *kind, *project_id, *environment_id,
		*environment /* slug; NULL for user keys */, *user_id, *name, *prefix,
		*active_org_id, *created_at, *last_used_at, *expires_at, *revoked_at;
};

/* 1 when s is "shush_" + exactly 43 of [A-Za-z0-9]. */
int apikeys_format_valid(const char *s);
/* The key presented (the whole "shush_…"): k->id NULL when malformed,
 * unknown, revoked (revoked_at <= now) or expired. Stamps last_used_at at
 * most once a minute per key. Outside or inside a transaction. */
enum db_status apikeys_authenticate(struct arena *a, const char *presented, struct apikey *k);
/* Mints a key (inside the caller's transaction): key_out gets the
 * plaintext (NUL-terminated, shown once), k the row. kind "environment"
 * takes project_id and environment_id (active_org_id NULL); kind "user"
 * neither: it is stored with no org of its own (org_id NULL, so deleting
 * an org never deletes people's tokens) and acts in active_org_id (NULL:
 * org_id; may be both NULL); k->org_id then shows active_org_id.
 * expires_at ISO or NULL. */
enum db_status apikeys_create(struct arena *a, const char *org_id, const char *kind,
			      const char *project_id, const char *environment_id,
			      const char *user_id, const char *name, const char *expires_at,
			      const char *active_org_id, char key_out[50], struct apikey *k);
/* One environment key of the project; k->id NULL when none. */
enum db_status apikeys_get(struct arena *a, const char *org_id, const char *project_id,
			   const char *id, struct apikey *k);
/* Keyset page of the project's environment keys, oldest first; like
 * projects_list (items has room for limit; DB_INVALID for a bad cursor). */
enum db_status apikeys_list(struct arena *a, const char *org_id, const char *project_id,
			    int limit, const char *cursor, struct apikey *items, int *n,
			    const char **next);
/* The user's personal tokens (kind "user", any org), same paging. */
enum db_status apikeys_list_user(struct arena *a, const char *user_id, int limit,
				 const char *cursor, struct apikey *items, int *n,
				 const char **next);
/* Sets revoked_at = now() + grace_seconds unless it is already earlier;
 * k gets the row after; k->id NULL when none. Bumps the generation. */
enum db_status apikeys_revoke(struct arena *a, const char *org_id, const char *project_id,
			      const char *id, int grace_seconds, struct apikey *k);
/* Hard delete of an environment key; *deleted 0 when none. Bumps. */
enum db_status apikeys_delete(struct arena *a, const char *org_id, const char *project_id,
			      const char *id, int *deleted);
/* Hard delete of one of the user's personal tokens; *deleted 0 when none
 * (someone else's looks missing). Bumps. */
enum db_status apikeys_delete_user(struct arena *a, const char *user_id, const char *id,
				   int *deleted);
/* POST /v1/orgs/current with a personal token: sets its active_org_id if
 * its user is a live member of org_id; o->id NULL (nothing changed)
 * otherwise. */
enum db_status apikeys_switch_org(struct arena *a, const char *key_id, const char *user_id,
				  const char *org_id, struct org *o);
/* The generation of apikey_generation: it moves on every revoke, rotate,
 * delete or expiry change, so a cache of authenticated keys can be dropped
 * when it differs. -1 when PostgreSQL failed. A cache must still check a
 * cached key's revoked_at and expires_at against the clock itself: a
 * rotation grace or an expiry runs out with no write at all. */
long long apikeys_generation(struct arena *a);
/* Bumps it, inside the caller's transaction, and NOTIFYs
 * APIKEY_NOTIFY_CHANNEL with the new generation and RUNTIME_NOTIFY_CHANNEL
 * with the key's project (delivered at commit); project_id NULL for a
 * personal token, which no runtime cache holds. */
#define APIKEY_NOTIFY_CHANNEL "shush_apikeys"
enum db_status apikeys_bump_generation(struct arena *a, const char *project_id);

/* -------------------------------------------------------------- runtime */
/* The world (lib/db.c): counters in memory shared by shushd's master, its
 * listener and its workers, that runtime cache entries are checked
 * against. generation is global: any change invalidates every entry of
 * this host. stripes[] scope the rest: a write inside a project bumps the
 * stripe its id hashes to, which invalidates only the entries of the
 * projects on that stripe. writes counts stripe bumps (a cache fill whose
 * project is unknown until its query checks it did not move meanwhile).
 * listener_up is 1 while the listener holds LISTEN RUNTIME_NOTIFY_CHANNEL,
 * whose payload "p:PROJECT_ID" bumps that project's stripe and anything
 * else the generation. */
#define RUNTIME_NOTIFY_CHANNEL "shush_runtime"
#define RUNTIME_STRIPES 4096
struct runtime_world {
	uint64_t generation;
	uint32_t listener_up;
	/* Successful PostgreSQL connects by any process of this host: a worker
	 * backing off after a failed connect tries again as soon as another
	 * one got through (the server is back). */
	uint32_t db_connects;
	uint64_t writes;
	uint64_t stripes[RUNTIME_STRIPES];
};
/* Creates the mapping (the master, before forking); -1 on failure. */
int runtime_world_init(void);
struct runtime_world *runtime_world(void);
/* An atomic load of listener_up and one of the counter; 0 (caches off)
 * when there is no mapping or the listener is down. */
uint64_t runtime_world_load(void);
/* The stripe of a project, and the count of stripe bumps (0 without a
 * mapping). */
uint64_t runtime_world_stripe(const char *project_id);
uint64_t runtime_world_writes(void);
void runtime_world_bump(void);
void runtime_world_bump_project(const char *project_id);
/* Called by every write that a runtime cache depends on, after its
 * statement (which also pg_notify()s RUNTIME_NOTIFY_CHANNEL): bumps the
 * generation (db_world_touch) or the project's stripe at the end of the
 * current transaction, or at once outside one. */
void db_world_touch(void);
void db_world_touch_project(const char *project_id);
/* The runtime API's rendering (API.md §6, lib/runtime.c). */
enum runtime_format { RUNTIME_JSON, RUNTIME_DOTENV, RUNTIME_SHELL, RUNTIME_FORMAT__MAX };
#define RUNTIME_ETAG_LEN (1 + 64 + 1) /* '"' + hex SHA-256 + '"' */
/* ?format=: NULL is json; -1 for anything but json, dotenv, shell. */
int runtime_format_parse(const char *s, enum runtime_format *f);
const char *runtime_format_name(enum runtime_format f);
/* The resolved environment (secrets_resolve's items, keys sorted) in a
 * format: json {"environment":E,"secrets":{"KEY":"value",…}}; dotenv and
 * shell exactly as the /v1 export writes them. -1, nothing appended, for
 * a value a format cannot carry. */
int runtime_render(struct buf *b, struct arena *a, enum runtime_format f, const char *environment,
		   const struct secret_resolved *items, size_t n);
/* The strong ETag of a rendered body: '"' + hex SHA-256 over the format
 * and the body's SHA-256 + '"', the same on every worker and host. */
void runtime_etag(enum runtime_format f, const char *body, size_t n,
		  char out[RUNTIME_ETAG_LEN + 1]);
/* 1 when an If-None-Match header (a list of entity tags, or "*") matches
 * etag (weak comparison, RFC 9110 §13.1.2); 0 when absent or not. */
int runtime_etag_match(const char *if_none_match, const char *etag);
/* One key of the resolved environment (order from
 * environments_resolution_order), its value opened; out->key NULL when no
 * environment in order has a value for it. */
enum db_status runtime_resolve_one(struct arena *a, const char *org_id, const char *project_id,
				   const struct environment *order, int n, const char *key,
				   struct secret_resolved *out);
/* The per-worker warm path (lib/runtime.c). gen is runtime_world_load()
 * read BEFORE the PostgreSQL reads whose result is put; a get hits only
 * for the same gen (0: never) and the same stripe of the entry's project.
 * runtime_key_put takes runtime_world_writes() read before the query too,
 * and keeps nothing if any stripe moved meanwhile. runtime_key_get also
 * requires the cached expires_at / revoked_at to be ahead of now_ms, and
 * the entry younger than ten minutes; k's strings live in the cache until
 * the next put. */
int runtime_key_get(const char *presented, uint64_t gen, int64_t now_ms, struct apikey *k);
void runtime_key_put(const char *presented, uint64_t gen, uint64_t writes, int64_t now_ms,
		     const struct apikey *k);
struct runtime_cached {
	char *body;
	size_t len, count;
	char etag[RUNTIME_ETAG_LEN + 1];
};
/* sgen: runtime_world_stripe() of the environment's project, read before
 * the query (get: now). */
const struct runtime_cached *runtime_body_get(const char *env_id, enum runtime_format f,
					      uint64_t gen, uint64_t sgen);
void runtime_body_put(const char *env_id, enum runtime_format f, uint64_t gen, uint64_t sgen,
		      const char *body, size_t len, const char *etag, size_t count);

/* --------------------------------------------------------------- device */
/* The CLI device flow (API.md §8, RFC 8628 semantics; lib/device.c,
 * 008_device.sql). Only the SHA-256 of a device code is stored. */
#define DEVICE_CODE_LEN 40          /* [A-Za-z0-9] */
#define DEVICE_USER_CODE_LEN 8      /* letters of the alphabet, no dash */
#define DEVICE_USER_CODE_ALPHABET "BCDFGHJKLMNPQRSTVWXZ"
#define DEVICE_TTL_SECONDS 900
#define DEVICE_INTERVAL 5           /* seconds; + 5 on each SLOW_DOWN */
#define DEVICE_CLIENT_NAME_MAX 128  /* characters */

/* 8 random letters of the alphabet (uniform); -1 when no randomness. */
int device_user_code_new(char out[DEVICE_USER_CODE_LEN + 1]);
/* What a person typed, case-insensitive, the dash optional (only between
 * the halves): the stored form; -1 when it cannot be a user code. */
int device_user_code_normalize(const char *in, char out[DEVICE_USER_CODE_LEN + 1]);
/* "BCDFGHJK" -> "BCDF-GHJK". */
void device_user_code_format(const char *code, char out[DEVICE_USER_CODE_LEN + 2]);
/* Hex SHA-256 of a device code. */
void device_code_hash(const char *device_code, char out[65]);

struct device_start {
	const char *id;
	char device_code[DEVICE_CODE_LEN + 1];
	char user_code[DEVICE_USER_CODE_LEN + 1]; /* normalized */
	int expires_in, interval;
};
/* A new pending flow (its own statement, no transaction needed); sweeps a
 * few long-expired rows first. */
enum db_status device_start(struct arena *a, const char *client_name, const char *client_ip,
			    struct device_start *out);

struct device_decision {
	const char *id; /* NULL: no pending, unexpired flow has that code */
	const char *client_name, *client_ip;
};
/* Approves (or denies) the pending, unexpired flow of the normalized user
 * code, recording the person and the org the token will start in; inside
 * the caller's transaction. */
enum db_status device_decide(struct arena *a, const char *user_code, int approve,
			     const char *user_id, const char *org_id, struct device_decision *out);

enum device_state {
	DEVICE_INVALID_GRANT, /* unknown, or already used */
	DEVICE_PENDING,
	DEVICE_SLOW_DOWN,     /* pending, polled sooner than interval */
	DEVICE_EXPIRED,
	DEVICE_DENIED,
	DEVICE_APPROVED       /* mint now, then device_consume */
};
struct device_poll {
	enum device_state state;
	const char *id, *user_id, *active_org_id, *client_name;
	int interval; /* seconds, after this poll */
};
/* One poll of the device code, inside the caller's transaction: locks the
 * row (FOR UPDATE) until it ends, so that one approval mints one token;
 * records the poll of a pending flow (a SLOW_DOWN grows the interval). */
enum db_status device_poll(struct arena *a, const char *device_code, struct device_poll *out);
/* Marks the approved flow used, naming the key minted for it. */
enum db_status device_consume(struct arena *a, const char *id, const char *api_key_id);

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
