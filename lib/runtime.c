/*
 * The runtime API's non-HTTP half (API.md §6): rendering the resolved
 * environment of an environment key in its formats, the strong ETag of a
 * rendered body, If-None-Match, and the resolution of one key.
 *
 * The ETag is a hash of the bytes served, so it is the same on every
 * worker and host for the same content and changes whenever any value the
 * environment resolves changes. The per-worker cache at the end of this
 * file (keys, rendered bodies) is keyed on the host's world generation
 * (lib/db.c); a miss resolves afresh from PostgreSQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shush.h"

static const char *const format_names[RUNTIME_FORMAT__MAX] = {
	[RUNTIME_JSON] = "json",
	[RUNTIME_DOTENV] = "dotenv",
	[RUNTIME_SHELL] = "shell",
};

int
runtime_format_parse(const char *s, enum runtime_format *f)
{
	int i;

	if (s == NULL) {
		*f = RUNTIME_JSON;
		return 0;
	}
	for (i = 0; i < RUNTIME_FORMAT__MAX; i++)
		if (strcmp(s, format_names[i]) == 0) {
			*f = (enum runtime_format)i;
			return 0;
		}
	return -1;
}

const char *
runtime_format_name(enum runtime_format f)
{
	return format_names[f];
}

int
runtime_render(struct buf *b, struct arena *a, enum runtime_format f, const char *environment,
	       const struct secret_resolved *items, size_t n)
{
	struct dotenv_pair *pairs = arena_alloc(a, (n + 1) * sizeof(*pairs));
	size_t i, start = b->len;
	int rc;

	for (i = 0; i < n; i++) {
		pairs[i].key = items[i].key;
		pairs[i].value = items[i].value;
		pairs[i].value_len = items[i].value_len;
		pairs[i].line = 0;
	}
	switch (f) {
	case RUNTIME_DOTENV:
		return dotenv_write_dotenv(b, pairs, n);
	case RUNTIME_SHELL:
		return dotenv_write_shell(b, pairs, n);
	case RUNTIME_JSON:
	case RUNTIME_FORMAT__MAX:
		break;
	}
	buf_puts(b, "{\"environment\":");
	buf_json_string(b, environment, strlen(environment));
	buf_puts(b, ",\"secrets\":");
	if ((rc = dotenv_write_json(b, pairs, n)) < 0) {
		b->len = start;
		b->data[start] = '\0';
		return -1;
	}
	buf_putc(b, '}');
	return 0;
}

void
runtime_etag(enum runtime_format f, const char *body, size_t n, char out[RUNTIME_ETAG_LEN + 1])
{
	unsigned char in[16 + 32], md[32];
	size_t nl = strlen(format_names[f]);

	/* SHA-256(format NUL SHA-256(body)): two formats whose bytes happen
	 * to agree (an empty environment in dotenv and shell) still differ. */
	memset(in, 0, sizeof(in));
	memcpy(in, format_names[f], nl);
	crypto_sha256(body, n, in + 16);
	crypto_sha256(in, sizeof(in), md);
	out[0] = '"';
	crypto_hex(md, sizeof(md), out + 1);
	out[RUNTIME_ETAG_LEN - 1] = '"';
	out[RUNTIME_ETAG_LEN] = '\0';
}

/* RFC 9110 §13.1.2: If-None-Match is a list of entity tags (weak
 * comparison: a W/ prefix is ignored) or "*". */
int
runtime_etag_match(const char *if_none_match, const char *etag)
{
	const char *p = if_none_match;
	size_t elen = strlen(etag);

	if (p == NULL)
		return 0;
	for (;;) {
		const char *q;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			return 0;
		if (*p == '*')
			return 1;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		if (*p != '"') {
			/* Not an entity tag: skip to the next member. */
			p += strcspn(p, ",");
			continue;
		}
		q = strchr(p + 1, '"');
		if (q == NULL)
			return 0;
		if ((size_t)(q + 1 - p) == elen && memcmp(p, etag, elen) == 0)
			return 1;
		p = q + 1;
	}
}

/* The current value of key in the first environment of the resolution
 * order (a text[] of environment ids) that has one. */
static struct db_stmt st_resolve_one = {
	"runtime_resolve_one",
	"SELECT s.key, s.id, sv.environment_id, sv.version, v.value "
	"FROM secret s JOIN secret_value sv ON sv.secret_id = s.id "
	"JOIN secret_version v ON v.secret_id = sv.secret_id "
	"AND v.environment_id = sv.environment_id AND v.version = sv.version "
	"WHERE s.org_id = $1 AND s.project_id = $2 AND s.key = $3 "
	"AND sv.environment_id = ANY($4::text[]) "
	"ORDER BY array_position($4::text[], sv.environment_id) LIMIT 1",
	4, 0};

enum db_status
runtime_resolve_one(struct arena *a, const char *org_id, const char *project_id,
		    const struct environment *order, int n, const char *key,
		    struct secret_resolved *out)
{
	struct db_result r;
	struct buf ids, value;
	const char *params[4];
	enum db_status st;
	int i;

	memset(out, 0, sizeof(*out));
	buf_init(&ids, a);
	buf_putc(&ids, '{');
	for (i = 0; i < n; i++) {
		/* Ids come from PostgreSQL; still, nothing but [A-Za-z0-9_-]
		 * goes into the array literal. */
		if (!id_plausible(order[i].id))
			return DB_INVALID;
		buf_printf(&ids, "%s%s", i > 0 ? "," : "", order[i].id);
	}
	buf_putc(&ids, '}');
	params[0] = org_id;
	params[1] = project_id;
	params[2] = key;
	params[3] = ids.data;
	if (db_exec(a, &st_resolve_one, params, &r) != DB_OK)
		return r.status;
	if (r.rows == 0)
		return DB_OK;
	out->key = db_get(&r, 0, 0);
	out->secret_id = db_get(&r, 0, 1);
	out->environment_id = db_get(&r, 0, 2);
	out->version = (int)strtol(db_get(&r, 0, 3), NULL, 10);
	for (i = 0; i < n; i++)
		if (strcmp(order[i].id, out->environment_id) == 0)
			out->environment = order[i].slug;
	buf_init(&value, a);
	st = secrets_open(a, org_id, project_id, out->secret_id, out->environment_id, out->version,
			  db_get(&r, 0, 4), &value);
	if (st != DB_OK) {
		log_msg(LOG_ERROR, "secrets.unreadable",
			"secret %s version %d in environment %s does not open", out->secret_id,
			out->version, out->environment_id);
		memset(out, 0, sizeof(*out));
		return st;
	}
	out->value = value.data;
	out->value_len = value.len;
	return DB_OK;
}

/* ------------------------------------------------------------------ cache */
/*
 * The per-worker warm path (issue 5). Two set-associative tables (8 ways,
 * least recently used out), private to the worker process: key hash ->
 * authenticated environment key (65,536 entries: with 10k keys of a busy
 * host no set overflows, which under LRU and keys taken in turn would
 * make every key of that set miss every time), and (environment id,
 * format) -> rendered body, ETag and item count (16,384 entries within
 * RUNTIME_BODY_BUDGET bytes). Every
 * entry carries the world generation (runtime_world_load) and its
 * project's stripe (runtime_world_stripe) as read BEFORE the PostgreSQL
 * reads that filled it; a hit needs both to equal the current ones, so a
 * write committed before either was published invalidates it, and a
 * write to another project (another stripe) does not. A key entry is also checked against
 * its expires_at / revoked_at with the clock (a grace or an expiry runs out
 * with no write), and is trusted at most RUNTIME_KEY_TTL_MS (10 minutes:
 * a safety net, invalidation is the generation's job). lastUsedAt of a
 * key served from here is stamped by shush-worker from the audit spool.
 * Generation 0 (no shared memory) disables both tables.
 */
#define WAYS 8
#define KEY_SETS 8192  /* x 8 ways: 65,536 keys, 88 bytes a slot */
#define BODY_SETS 2048 /* x 8 ways: 16,384 bodies */
#define RUNTIME_BODY_BUDGET (64L * 1024 * 1024) /* bytes of bodies per worker */
#define RUNTIME_KEY_TTL_MS 600000

/* One allocation: the key and the strings its fields point into. */
struct key_entry {
	struct apikey k;
	char strings[];
};

struct key_slot {
	unsigned char hash[32];
	uint64_t gen, sgen, used; /* sgen: the stripe of the key's project */
	int64_t filled_ms, expires_ms, revoked_ms;
	struct key_entry *e; /* NULL: empty */
};

struct body_slot {
	char *env_id; /* NULL: empty */
	enum runtime_format format;
	uint64_t gen, sgen, used;
	struct runtime_cached c;
};

static struct key_slot key_slots[KEY_SETS * WAYS];
static struct body_slot body_slots[BODY_SETS * WAYS];
static uint64_t lru_clock;
static size_t body_bytes;

/* Where a put goes in its set: the same entry's way, else an empty one,
 * else the least recently used. */
struct way {
	int same, empty;
	uint64_t used;
};

static int
pick_way(const struct way way[WAYS])
{
	int w, best = 0;

	for (w = 0; w < WAYS; w++)
		if (way[w].same)
			return w;
	for (w = 0; w < WAYS; w++)
		if (way[w].empty)
			return w;
	for (w = 1; w < WAYS; w++)
		if (way[w].used < way[best].used)
			best = w;
	return best;
}

static int64_t
stamp_ms(const char *iso)
{
	char tmp[48];
	size_t n;
	int64_t ms;

	if (iso == NULL)
		return INT64_MAX;
	n = strlen(iso);
	if (n == 0 || n + 4 > sizeof(tmp))
		return INT64_MIN; /* unparseable: never trusted from cache */
	memcpy(tmp, iso, n + 1);
	if (tmp[n - 1] == 'Z')
		memcpy(tmp + n - 1, "+00", 4);
	if (time_parse_pg(tmp, &ms) < 0)
		return INT64_MIN;
	return ms;
}

int
runtime_key_get(const char *presented, uint64_t gen, int64_t now_ms, struct apikey *k)
{
	unsigned char h[32];
	struct key_slot *set, *s = NULL;
	int w;

	if (gen == 0 || !apikeys_format_valid(presented))
		return 0;
	crypto_sha256(presented, strlen(presented), h);
	set = &key_slots[(((unsigned)h[0] | (unsigned)h[1] << 8) & (KEY_SETS - 1)) * WAYS];
	for (w = 0; w < WAYS; w++)
		if (set[w].e != NULL && crypto_eq(set[w].hash, h, sizeof(h)))
			s = &set[w];
	if (s == NULL || s->gen != gen || s->sgen != runtime_world_stripe(s->e->k.project_id))
		return 0;
	if (now_ms >= s->expires_ms || now_ms >= s->revoked_ms ||
	    now_ms - s->filled_ms >= RUNTIME_KEY_TTL_MS || now_ms < s->filled_ms)
		return 0;
	s->used = ++lru_clock;
	*k = s->e->k;
	return 1;
}

static const char *
copy_field(char **p, const char *v)
{
	size_t n;
	char *out;

	if (v == NULL)
		return NULL;
	n = strlen(v) + 1;
	memcpy(*p, v, n);
	out = *p;
	*p += n;
	return out;
}

void
runtime_key_put(const char *presented, uint64_t gen, uint64_t writes, int64_t now_ms,
		const struct apikey *k)
{
	const char *const f[] = {k->id, k->org_id, k->kind, k->project_id, k->environment_id,
				 k->environment, k->user_id, k->name, k->prefix, k->active_org_id,
				 k->created_at, k->last_used_at, k->expires_at, k->revoked_at};
	unsigned char h[32];
	struct key_slot *set, *s;
	struct key_entry *e;
	struct way way[WAYS];
	size_t total = 0, i;
	char *p;
	int w;

	if (gen == 0 || k->id == NULL || !apikeys_format_valid(presented))
		return;
	/* The key's project was unknown before the query: if any project's
	 * stripe moved since, this answer may predate a change to it. */
	if (runtime_world_writes() != writes)
		return;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		total += f[i] != NULL ? strlen(f[i]) + 1 : 0;
	if ((e = malloc(sizeof(*e) + total + 1)) == NULL)
		return;
	crypto_sha256(presented, strlen(presented), h);
	set = &key_slots[(((unsigned)h[0] | (unsigned)h[1] << 8) & (KEY_SETS - 1)) * WAYS];
	for (w = 0; w < WAYS; w++) {
		way[w].same = set[w].e != NULL && crypto_eq(set[w].hash, h, sizeof(h));
		way[w].empty = set[w].e == NULL;
		way[w].used = set[w].used;
	}
	s = &set[pick_way(way)];
	free(s->e);
	memset(s, 0, sizeof(*s));
	memset(&e->k, 0, sizeof(e->k));
	p = e->strings;
	e->k.id = copy_field(&p, k->id);
	e->k.org_id = copy_field(&p, k->org_id);
	e->k.kind = copy_field(&p, k->kind);
	e->k.project_id = copy_field(&p, k->project_id);
	e->k.environment_id = copy_field(&p, k->environment_id);
	e->k.environment = copy_field(&p, k->environment);
	e->k.user_id = copy_field(&p, k->user_id);
	e->k.name = copy_field(&p, k->name);
	e->k.prefix = copy_field(&p, k->prefix);
	e->k.active_org_id = copy_field(&p, k->active_org_id);
	e->k.created_at = copy_field(&p, k->created_at);
	e->k.last_used_at = copy_field(&p, k->last_used_at);
	e->k.expires_at = copy_field(&p, k->expires_at);
	e->k.revoked_at = copy_field(&p, k->revoked_at);
	s->e = e;
	memcpy(s->hash, h, sizeof(h));
	s->gen = gen;
	s->sgen = runtime_world_stripe(e->k.project_id);
	s->used = ++lru_clock;
	s->filled_ms = now_ms;
	s->expires_ms = stamp_ms(k->expires_at);
	s->revoked_ms = stamp_ms(k->revoked_at);
}

/* FNV-1a of the environment id and format: placement only (a hit still
 * compares the id), so nothing here needs to resist collisions. */
static struct body_slot *
body_set(const char *env_id, enum runtime_format f)
{
	uint32_t h = 2166136261u;
	const unsigned char *p;

	for (p = (const unsigned char *)env_id; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	h = (h ^ (unsigned)f) * 16777619u;
	return &body_slots[(h & (BODY_SETS - 1)) * WAYS];
}

static void
body_clear(struct body_slot *s)
{
	body_bytes -= s->env_id != NULL ? s->c.len : 0;
	free(s->env_id);
	free(s->c.body);
	memset(s, 0, sizeof(*s));
}

const struct runtime_cached *
runtime_body_get(const char *env_id, enum runtime_format f, uint64_t gen, uint64_t sgen)
{
	struct body_slot *set;
	int w;

	if (gen == 0 || env_id == NULL)
		return NULL;
	set = body_set(env_id, f);
	for (w = 0; w < WAYS; w++) {
		struct body_slot *s = &set[w];

		if (s->env_id != NULL && s->format == f && strcmp(s->env_id, env_id) == 0) {
			if (s->gen != gen || s->sgen != sgen)
				return NULL;
			s->used = ++lru_clock;
			return &s->c;
		}
	}
	return NULL;
}

void
runtime_body_put(const char *env_id, enum runtime_format f, uint64_t gen, uint64_t sgen,
		 const char *body, size_t len, const char *etag, size_t count)
{
	struct body_slot *set, *s;
	struct way way[WAYS];
	char *id, *copy;
	int w;

	if (gen == 0 || env_id == NULL || strlen(etag) != RUNTIME_ETAG_LEN)
		return;
	set = body_set(env_id, f);
	for (w = 0; w < WAYS; w++) {
		way[w].same = set[w].env_id != NULL && set[w].format == f &&
			      strcmp(set[w].env_id, env_id) == 0;
		way[w].empty = set[w].env_id == NULL;
		way[w].used = set[w].used;
	}
	s = &set[pick_way(way)];
	body_clear(s);
	/* Over the budget the body is served, not kept. */
	if (body_bytes + len > (size_t)RUNTIME_BODY_BUDGET)
		return;
	id = strdup(env_id);
	copy = malloc(len + 1);
	if (id == NULL || copy == NULL) {
		free(id);
		free(copy);
		return;
	}
	memcpy(copy, body, len);
	copy[len] = '\0';
	s->env_id = id;
	s->format = f;
	s->gen = gen;
	s->sgen = sgen;
	s->used = ++lru_clock;
	s->c.body = copy;
	s->c.len = len;
	s->c.count = count;
	memcpy(s->c.etag, etag, RUNTIME_ETAG_LEN + 1);
	body_bytes += len;
}
