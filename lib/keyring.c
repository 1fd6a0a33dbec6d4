/*
 * The keyring: each org's data keys (DEKs), wrapped by a key-encryption key
 * (KEK) from a provider, and the sealing of values under them.
 *
 * Layers, bottom up:
 *   - AES-256-GCM through OpenSSL's EVP (gcm()), and the pure functions
 *     keyring_seal_with / keyring_open_with / keyring_master_wrap / …,
 *     which take their keys as arguments (t/unit/keyring.c);
 *   - KEK providers, a table of {wrap, unwrap, id}: the master key now
 *     (MASTER_KEK_B64, older keys from MASTER_KEK_PREVIOUS_B64 still
 *     unwrap), AWS KMS later. Callers never see which one an org uses;
 *   - the per-process DEK cache: a fixed table in pages locked in memory
 *     (best effort) and excluded from core dumps, entries expiring after
 *     SHUSH_DEK_CACHE_SECONDS and wiped on eviction, expiry and
 *     keyring_forget_all;
 *   - the org_key table (schema/db/005_keyring.sql): one row per DEK
 *     version, exactly one current;
 *   - keyring_seal / keyring_open / keyring_state / keyring_rotate_kek /
 *     keyring_rekey.
 *
 * A sealed value: format version (1 byte, KEYRING_FORMAT), DEK version (4
 * bytes, big-endian), nonce (12 random bytes), ciphertext, tag (16 bytes).
 * The GCM additional data is those 5 header bytes followed by the caller's
 * aad (keyring_aad for secret values), so neither the header nor the place
 * a value belongs to can be changed without the value failing to open.
 *
 * Concurrency with a re-key: keyring_seal reads the org's current row with
 * FOR KEY SHARE in the caller's transaction; the re-key locks the rows FOR
 * UPDATE before it makes a new version current, so it waits for every
 * transaction still sealing under the old version, and every seal after
 * it uses the new one. Values sealed before that are visible to the
 * re-key's batches, which start after the switch.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "shush.h"

#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define NOW_MS "date_trunc('milliseconds', now())"

#define ORG_ID_MAX 256 /* longer ids are refused (ours are 32 characters) */
#define WRAP_DOMAIN "shush.dek.v1"
#define REKEY_BATCH_DEFAULT 500
#define REKEY_BATCH_MAX 10000
#define REKEY_RETRIES 5

/* ------------------------------------------------------------ AES-GCM */

/* One AES-256-GCM pass. enc: in -> out and tag written; !enc: in -> out,
 * tag checked. Additional data is aad1 ‖ aad2. 0, or -1 (including a tag
 * that does not verify). */
static int
gcm(int enc, const unsigned char key[KEYRING_DEK_LEN], const unsigned char nonce[KEYRING_NONCE_LEN],
    const void *aad1, size_t aad1len, const void *aad2, size_t aad2len, const unsigned char *in,
    size_t n, unsigned char *out, unsigned char tag[KEYRING_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx;
	int len = 0, rc = -1;

	if (n > INT_MAX || aad1len > INT_MAX || aad2len > INT_MAX)
		return -1;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, KEYRING_NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
		goto fail;
	if (aad1len > 0 &&
	    EVP_CipherUpdate(ctx, NULL, &len, aad1, (int)aad1len) != 1)
		goto fail;
	if (aad2len > 0 &&
	    EVP_CipherUpdate(ctx, NULL, &len, aad2, (int)aad2len) != 1)
		goto fail;
	if (n > 0 && EVP_CipherUpdate(ctx, out, &len, in, (int)n) != 1)
		goto fail;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, KEYRING_TAG_LEN, tag) != 1)
		goto fail;
	if (EVP_CipherFinal_ex(ctx, out + (n > 0 ? (size_t)len : 0), &len) != 1)
		goto fail;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, KEYRING_TAG_LEN, tag) != 1)
		goto fail;
	rc = 0;
fail:
	EVP_CIPHER_CTX_free(ctx);
	if (rc < 0 && n > 0)
		OPENSSL_cleanse(out, n); /* never hand out unauthenticated plaintext */
	return rc;
}

static void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* ------------------------------------------------------- pure layer */

struct wipe_span {
	void *p;
	size_t n;
};

static void
wipe_span(void *arg)
{
	struct wipe_span *w = arg;

	OPENSSL_cleanse(w->p, w->n);
}

/* Room for extra more bytes at out->data + out->len, without leaving a copy
 * of what we will write behind in an abandoned buffer. */
static unsigned char *
buf_room(struct buf *out, size_t extra)
{
	if (out->len + extra + 1 > out->cap) {
		size_t cap = out->len + extra + 1;
		char *p = arena_alloc(out->arena, cap);

		if (out->len > 0)
			memcpy(p, out->data, out->len);
		out->data = p;
		out->cap = cap;
	}
	return (unsigned char *)out->data + out->len;
}

int
keyring_seal_with(const unsigned char dek[KEYRING_DEK_LEN], uint32_t dek_version, const void *aad,
		  size_t aadlen, const void *plaintext, size_t n, struct buf *out)
{
	unsigned char *p;

	if (n > KEYRING_VALUE_MAX || dek_version == 0)
		return -1;
	p = buf_room(out, KEYRING_OVERHEAD + n);
	p[0] = KEYRING_FORMAT;
	put_u32(p + 1, dek_version);
	if (crypto_random(p + KEYRING_HEADER_LEN, KEYRING_NONCE_LEN) < 0)
		return -1;
	if (gcm(1, dek, p + KEYRING_HEADER_LEN, p, KEYRING_HEADER_LEN, aad, aadlen, plaintext, n,
		p + KEYRING_HEADER_LEN + KEYRING_NONCE_LEN,
		p + KEYRING_HEADER_LEN + KEYRING_NONCE_LEN + n) < 0)
		return -1;
	out->len += KEYRING_OVERHEAD + n;
	out->data[out->len] = '\0';
	return 0;
}

int
keyring_sealed_version(const void *sealed, size_t n, uint32_t *dek_version)
{
	const unsigned char *p = sealed;

	if (p == NULL || n < KEYRING_OVERHEAD || p[0] != KEYRING_FORMAT)
		return -1;
	*dek_version = get_u32(p + 1);
	return *dek_version > 0 ? 0 : -1;
}

int
keyring_open_with(const unsigned char dek[KEYRING_DEK_LEN], const void *aad, size_t aadlen,
		  const void *sealed, size_t n, struct buf *out)
{
	const unsigned char *p = sealed;
	unsigned char tag[KEYRING_TAG_LEN], *dst;
	uint32_t v;
	size_t m;
	struct wipe_span *w;

	if (keyring_sealed_version(sealed, n, &v) < 0)
		return -1;
	m = n - KEYRING_OVERHEAD;
	if (m > KEYRING_VALUE_MAX)
		return -1;
	memcpy(tag, p + n - KEYRING_TAG_LEN, KEYRING_TAG_LEN);
	dst = buf_room(out, m);
	if (gcm(0, dek, p + KEYRING_HEADER_LEN, p, KEYRING_HEADER_LEN, aad, aadlen,
		p + KEYRING_HEADER_LEN + KEYRING_NONCE_LEN, m, dst, tag) < 0)
		return -1;
	/* The plaintext is wiped when the arena is reset. */
	if (m > 0) {
		w = arena_alloc(out->arena, sizeof(*w));
		w->p = dst;
		w->n = m;
		arena_defer(out->arena, wipe_span, w);
	}
	out->len += m;
	out->data[out->len] = '\0';
	return 0;
}

/* Additional data of a wrapped DEK: domain, org id (length-prefixed) and
 * DEK version. -1 when the org id is too long. */
static int
wrap_aad(const char *org_id, uint32_t dek_version, unsigned char *aad, size_t *aadlen)
{
	size_t olen = strlen(org_id), d = sizeof(WRAP_DOMAIN) - 1;

	if (olen == 0 || olen > ORG_ID_MAX)
		return -1;
	memcpy(aad, WRAP_DOMAIN, d);
	put_u32(aad + d, (uint32_t)olen);
	memcpy(aad + d + 4, org_id, olen);
	put_u32(aad + d + 4 + olen, dek_version);
	*aadlen = d + 4 + olen + 4;
	return 0;
}

int
keyring_master_wrap(const unsigned char kek[KEYRING_DEK_LEN], const char *org_id,
		    uint32_t dek_version, const unsigned char dek[KEYRING_DEK_LEN],
		    unsigned char out[KEYRING_WRAPPED_LEN])
{
	unsigned char aad[sizeof(WRAP_DOMAIN) + 8 + ORG_ID_MAX];
	size_t aadlen;

	if (wrap_aad(org_id, dek_version, aad, &aadlen) < 0 ||
	    crypto_random(out, KEYRING_NONCE_LEN) < 0)
		return -1;
	return gcm(1, kek, out, aad, aadlen, NULL, 0, dek, KEYRING_DEK_LEN,
		   out + KEYRING_NONCE_LEN, out + KEYRING_NONCE_LEN + KEYRING_DEK_LEN);
}

int
keyring_master_unwrap(const unsigned char kek[KEYRING_DEK_LEN], const char *org_id,
		      uint32_t dek_version, const unsigned char *wrapped, size_t n,
		      unsigned char dek[KEYRING_DEK_LEN])
{
	unsigned char aad[sizeof(WRAP_DOMAIN) + 8 + ORG_ID_MAX], tag[KEYRING_TAG_LEN];
	size_t aadlen;

	if (n != KEYRING_WRAPPED_LEN || wrap_aad(org_id, dek_version, aad, &aadlen) < 0)
		return -1;
	memcpy(tag, wrapped + KEYRING_NONCE_LEN + KEYRING_DEK_LEN, KEYRING_TAG_LEN);
	return gcm(0, kek, wrapped, aad, aadlen, NULL, 0, wrapped + KEYRING_NONCE_LEN,
		   KEYRING_DEK_LEN, dek, tag);
}

void
keyring_master_kek_id(const unsigned char kek[KEYRING_DEK_LEN], char out[KEYRING_KEK_ID_MAX])
{
	unsigned char h[32];
	char hex[17];

	crypto_sha256(kek, KEYRING_DEK_LEN, h);
	crypto_hex(h, 8, hex);
	snprintf(out, KEYRING_KEK_ID_MAX, "master:%s", hex);
}

static void
put_field(struct buf *b, const char *s, size_t n)
{
	unsigned char len[4];

	put_u32(len, (uint32_t)n);
	buf_append(b, len, 4);
	buf_append(b, s, n);
}

static void
put_str(struct buf *b, const char *s)
{
	if (s == NULL)
		s = "";
	put_field(b, s, strlen(s));
}

void
keyring_aad(struct buf *out, const char *org_id, const char *project_id, const char *secret_id,
	    const char *environment_id, int version)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", version);
	out->len = 0;
	put_str(out, "secret_version");
	put_str(out, org_id);
	put_str(out, project_id);
	put_str(out, secret_id);
	put_str(out, environment_id);
	put_str(out, v);
}

void
keyring_aad_shared(struct buf *out, const char *org_id, const char *shared_secret_id, int version)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", version);
	out->len = 0;
	put_str(out, "shared_secret_version");
	put_str(out, org_id);
	put_str(out, shared_secret_id);
	put_str(out, v);
}

/* ------------------------------------------------------- KEK providers */

/* Provider answers: 0, PROVIDER_FAILED (no key unwraps / refused), or
 * PROVIDER_DOWN (unreachable: 503). */
#define PROVIDER_FAILED (-1)
#define PROVIDER_DOWN (-2)

/* What a provider needs to know about the KEK it is asked to use. */
struct kek_ref {
	const char *org_id;
	uint32_t dek_version;
	const char *kms_key_arn; /* kms only */
};

struct keyring_provider {
	const char *name; /* org_key.provider */
	/* Wraps dek with the provider's current KEK into out; kek_id gets its id. */
	int (*wrap)(struct arena *a, const struct kek_ref *ref,
		    const unsigned char dek[KEYRING_DEK_LEN], struct buf *out, const char **kek_id);
	/* Unwraps with any KEK of the provider that works. */
	int (*unwrap)(struct arena *a, const struct kek_ref *ref, const unsigned char *wrapped,
		      size_t n, unsigned char dek[KEYRING_DEK_LEN]);
	/* The id of the KEK wrap would use now. */
	int (*id)(struct arena *a, const struct kek_ref *ref, const char **kek_id);
};

static int
master_id(struct arena *a, const struct kek_ref *ref, const char **kek_id)
{
	char id[KEYRING_KEK_ID_MAX];

	(void)ref;
	keyring_master_kek_id(config_master_kek(), id);
	*kek_id = arena_strdup(a, id);
	return 0;
}

static int
master_wrap(struct arena *a, const struct kek_ref *ref, const unsigned char dek[KEYRING_DEK_LEN],
	    struct buf *out, const char **kek_id)
{
	unsigned char *w = buf_room(out, KEYRING_WRAPPED_LEN);

	if (keyring_master_wrap(config_master_kek(), ref->org_id, ref->dek_version, dek, w) < 0)
		return PROVIDER_FAILED;
	out->len += KEYRING_WRAPPED_LEN;
	out->data[out->len] = '\0';
	return master_id(a, ref, kek_id);
}

/* The current master key, then each of MASTER_KEK_PREVIOUS_B64's, decoded
 * one at a time and wiped after use. */
static int
master_unwrap(struct arena *a, const struct kek_ref *ref, const unsigned char *wrapped, size_t n,
	      unsigned char dek[KEYRING_DEK_LEN])
{
	const char *p = config_str(CFG_MASTER_KEK_PREVIOUS_B64);
	unsigned char k[64];
	int rc = PROVIDER_FAILED;

	(void)a;
	if (keyring_master_unwrap(config_master_kek(), ref->org_id, ref->dek_version, wrapped, n,
				  dek) == 0)
		return 0;
	while (*p != '\0' && rc != 0) {
		size_t len = strcspn(p, ",");

		if (len > 0 && crypto_b64_decode(p, len, k, sizeof(k)) == KEYRING_DEK_LEN &&
		    keyring_master_unwrap(k, ref->org_id, ref->dek_version, wrapped, n, dek) == 0)
			rc = 0;
		OPENSSL_cleanse(k, sizeof(k));
		p += len;
		if (*p == ',')
			p++;
	}
	return rc;
}

static const struct keyring_provider master_provider = {"master", master_wrap, master_unwrap,
							 master_id};

/* kms comes with BYOK (API.md §8): its row is NULL until then, and an org
 * whose key says kms answers 503. */
static const struct keyring_provider *const providers[] = {&master_provider, NULL};
static const char *const provider_names[] = {"master", "kms"};

static const struct keyring_provider *
provider_named(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(provider_names) / sizeof(provider_names[0]); i++)
		if (name != NULL && strcmp(name, provider_names[i]) == 0)
			return providers[i];
	return NULL;
}

/* The provider of orgs that have not chosen another. */
static const struct keyring_provider *
provider_default(void)
{
	return &master_provider;
}

/* ---------------------------------------------------------- DEK cache */

#define CACHE_SLOTS 256
#define CACHE_ORG_MAX 64
#define CACHE_STAMP_MAX 40

struct cache_entry {
	unsigned char dek[KEYRING_DEK_LEN];
	char org_id[CACHE_ORG_MAX];
	char wrapped_at[CACHE_STAMP_MAX];
	uint32_t version;
	int used;
	int64_t loaded_ms; /* monotonic */
	uint64_t last_use;
};

static struct cache_entry *cache;
static int cache_failed;
static uint64_t cache_clock;

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
cache_init(void)
{
	size_t size = sizeof(struct cache_entry) * CACHE_SLOTS;
	void *p;

	if (cache != NULL)
		return 0;
	if (cache_failed)
		return -1;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		cache_failed = 1;
		log_msg(LOG_WARN, "keyring.cache_disabled", "mmap for the DEK cache failed");
		return -1;
	}
#ifdef MADV_DONTDUMP
	if (madvise(p, size, MADV_DONTDUMP) != 0) {
		/* Keys must not reach a core file: no cache rather than that. */
		munmap(p, size);
		cache_failed = 1;
		log_msg(LOG_WARN, "keyring.cache_disabled",
			"madvise(MADV_DONTDUMP) failed: DEKs are not cached");
		return -1;
	}
#endif
#ifdef MADV_WIPEONFORK
	(void)madvise(p, size, MADV_WIPEONFORK);
#endif
	if (mlock(p, size) != 0)
		log_msg(LOG_WARN, "keyring.mlock_failed",
			"mlock of the DEK cache failed (RLIMIT_MEMLOCK?); it may be swapped out");
	cache = p;
	return 0;
}

static void
cache_wipe_entry(struct cache_entry *e)
{
	OPENSSL_cleanse(e, sizeof(*e));
}

static long
cache_ttl_ms(void)
{
	return config_int(CFG_DEK_CACHE_SECONDS) * 1000L;
}

/* The live entry for (org, version), wiping every expired one on the way;
 * NULL when none. */
static struct cache_entry *
cache_find(const char *org_id, uint32_t version)
{
	long ttl = cache_ttl_ms();
	int64_t now;
	struct cache_entry *hit = NULL;
	int i;

	if (cache == NULL)
		return NULL;
	now = mono_ms();
	for (i = 0; i < CACHE_SLOTS; i++) {
		struct cache_entry *e = &cache[i];

		if (!e->used)
			continue;
		if (ttl <= 0 || now - e->loaded_ms >= ttl) {
			cache_wipe_entry(e);
			continue;
		}
		if (hit == NULL && e->version == version && strcmp(e->org_id, org_id) == 0)
			hit = e;
	}
	if (hit != NULL)
		hit->last_use = ++cache_clock;
	return hit;
}

static void
cache_put(const char *org_id, uint32_t version, const char *wrapped_at,
	  const unsigned char dek[KEYRING_DEK_LEN])
{
	struct cache_entry *e, *victim = NULL;
	int i;

	if (cache_ttl_ms() <= 0 || strlen(org_id) >= CACHE_ORG_MAX || cache_init() < 0)
		return;
	if ((e = cache_find(org_id, version)) == NULL) {
		for (i = 0; i < CACHE_SLOTS; i++) {
			if (!cache[i].used) {
				victim = &cache[i];
				break;
			}
			if (victim == NULL || cache[i].last_use < victim->last_use)
				victim = &cache[i];
		}
		e = victim;
	}
	cache_wipe_entry(e);
	memcpy(e->dek, dek, KEYRING_DEK_LEN);
	snprintf(e->org_id, sizeof(e->org_id), "%s", org_id);
	snprintf(e->wrapped_at, sizeof(e->wrapped_at), "%s", wrapped_at != NULL ? wrapped_at : "");
	e->version = version;
	e->used = 1;
	e->loaded_ms = mono_ms();
	e->last_use = ++cache_clock;
}

static void
cache_drop(const char *org_id, uint32_t version)
{
	struct cache_entry *e = cache_find(org_id, version);

	if (e != NULL)
		cache_wipe_entry(e);
}

void
keyring_forget_all(void)
{
	if (cache != NULL)
		OPENSSL_cleanse(cache, sizeof(struct cache_entry) * CACHE_SLOTS);
}

/* ------------------------------------------------------------ org_key */

/* One org_key row as strings. */
struct key_row {
	uint32_t version;
	const char *provider, *kek_id, *kms_key_arn, *dek_created_at, *wrapped_at;
	struct buf wrapped;
	int current;
};

#define KEY_COLS                                                                               \
	"dek_version, provider, kek_id, wrapped_dek, kms_key_arn, " ISO("dek_created_at") ", " \
	ISO("wrapped_at") ", current"

/* FOR KEY SHARE: a re-key's switch (FOR UPDATE) waits for the sealers. */
static struct db_stmt st_current = {
	"keyring_current",
	"SELECT " KEY_COLS " FROM org_key WHERE org_id = $1 AND current FOR KEY SHARE", 1, 0};

static struct db_stmt st_version = {
	"keyring_version",
	"SELECT " KEY_COLS " FROM org_key WHERE org_id = $1 AND dek_version = $2::integer", 2, 0};

static struct db_stmt st_lock_all = {
	"keyring_lock_all",
	"SELECT " KEY_COLS " FROM org_key WHERE org_id = $1 ORDER BY dek_version FOR UPDATE", 1, 0};

/* rotate-kek changes no key column: sealers (FOR KEY SHARE) go on. */
static struct db_stmt st_lock_rewrap = {
	"keyring_lock_rewrap",
	"SELECT " KEY_COLS " FROM org_key WHERE org_id = $1 ORDER BY dek_version "
	"FOR NO KEY UPDATE",
	1, 0};

static struct db_stmt st_next_version = {
	"keyring_next_version",
	"SELECT COALESCE(max(dek_version), 0) + 1 FROM org_key WHERE org_id = $1", 1, 0};

/* A concurrent creator (or a current version made meanwhile) wins quietly:
 * the caller reads the current row again. */
static struct db_stmt st_insert = {
	"keyring_insert",
	"INSERT INTO org_key (org_id, dek_version, current, provider, kek_id, wrapped_dek, "
	"kms_key_arn) VALUES ($1, $2::integer, $3::boolean, $4, $5, $6, $7) "
	"ON CONFLICT DO NOTHING RETURNING dek_version",
	7, 0};

static struct db_stmt st_rewrap = {
	"keyring_rewrap",
	"UPDATE org_key SET kek_id = $3, wrapped_dek = $4, wrapped_at = " NOW_MS
	" WHERE org_id = $1 AND dek_version = $2::integer",
	4, 0};

static struct db_stmt st_uncurrent = {
	"keyring_uncurrent", "UPDATE org_key SET current = false WHERE org_id = $1 AND current", 1,
	0};

static struct db_stmt st_retire = {
	"keyring_retire",
	"DELETE FROM org_key WHERE org_id = $1 AND NOT current RETURNING dek_version", 1, 0};

static int
read_row(const struct db_result *r, int i, struct key_row *k, struct arena *a)
{
	memset(k, 0, sizeof(*k));
	k->version = (uint32_t)strtoul(db_get(r, i, 0), NULL, 10);
	k->provider = db_get(r, i, 1);
	k->kek_id = db_get(r, i, 2);
	buf_init(&k->wrapped, a);
	if (db_bytea_value(db_get(r, i, 3), &k->wrapped) < 0)
		return -1;
	k->kms_key_arn = db_get(r, i, 4);
	k->dek_created_at = db_get(r, i, 5);
	k->wrapped_at = db_get(r, i, 6);
	k->current = db_get(r, i, 7) != NULL && db_get(r, i, 7)[0] == 't';
	return 0;
}

static enum db_status
provider_status(int rc)
{
	return rc == PROVIDER_DOWN ? DB_UNAVAILABLE : DB_ERROR;
}

/* Unwraps row k of org_id through its provider. DB_UNAVAILABLE when the
 * provider is down or none of its keys opens it (a misconfigured master
 * key list is an outage, not bad input). */
static enum db_status
unwrap_row(struct arena *a, const char *org_id, const struct key_row *k,
	   unsigned char dek[KEYRING_DEK_LEN])
{
	const struct keyring_provider *p = provider_named(k->provider);
	struct kek_ref ref = {org_id, k->version, k->kms_key_arn};
	int rc;

	if (p == NULL) {
		log_msg(LOG_ERROR, "keyring.no_provider",
			"org %s: DEK version %u is wrapped by provider %s, which is not available",
			org_id, k->version, k->provider != NULL ? k->provider : "?");
		return DB_UNAVAILABLE;
	}
	rc = p->unwrap(a, &ref, (const unsigned char *)k->wrapped.data, k->wrapped.len, dek);
	if (rc != 0) {
		OPENSSL_cleanse(dek, KEYRING_DEK_LEN);
		log_msg(LOG_ERROR, "keyring.unwrap_failed",
			"org %s: no configured key of provider %s unwraps DEK version %u (wrapped "
			"by %s)",
			org_id, k->provider, k->version, k->kek_id != NULL ? k->kek_id : "?");
		return DB_UNAVAILABLE;
	}
	return DB_OK;
}

/* A new DEK version for org_id wrapped by provider p (kms_key_arn for
 * kms), inserted as current or not. *inserted 0 when a concurrent
 * transaction inserted that version (or a current one) first. */
static enum db_status
insert_version(struct arena *a, const char *org_id, uint32_t version, int current,
	       const struct keyring_provider *p, const char *kms_key_arn, int *inserted)
{
	unsigned char dek[KEYRING_DEK_LEN];
	struct kek_ref ref = {org_id, version, kms_key_arn};
	struct buf w;
	struct db_result r;
	const char *kek_id = NULL, *params[7];
	char vs[16];
	int rc;

	*inserted = 0;
	buf_init(&w, a);
	if (crypto_random(dek, sizeof(dek)) < 0)
		return DB_ERROR;
	rc = p->wrap(a, &ref, dek, &w, &kek_id);
	OPENSSL_cleanse(dek, sizeof(dek));
	if (rc != 0)
		return provider_status(rc);
	snprintf(vs, sizeof(vs), "%u", version);
	params[0] = org_id;
	params[1] = vs;
	params[2] = current ? "true" : "false";
	params[3] = p->name;
	params[4] = kek_id;
	params[5] = db_bytea_param(a, w.data, w.len);
	params[6] = kms_key_arn;
	if (db_exec(a, &st_insert, params, &r) != DB_OK)
		return r.status;
	*inserted = r.rows == 1;
	return DB_OK;
}

/* The org's current row (locked FOR KEY SHARE); creates the org's first
 * key when it has none. */
static enum db_status
load_current(struct arena *a, const char *org_id, struct key_row *k)
{
	struct db_result r;
	const char *params[1] = {org_id};
	int tries, inserted;
	enum db_status st;

	if (org_id == NULL || org_id[0] == '\0' || strlen(org_id) > ORG_ID_MAX)
		return DB_INVALID;
	for (tries = 0; tries < 3; tries++) {
		if (db_exec(a, &st_current, params, &r) != DB_OK)
			return r.status;
		if (r.rows == 1)
			return read_row(&r, 0, k, a) == 0 ? DB_OK : DB_ERROR;
		if (db_exec(a, &st_next_version, params, &r) != DB_OK)
			return r.status;
		st = insert_version(a, org_id, (uint32_t)strtoul(db_get(&r, 0, 0), NULL, 10), 1,
				    provider_default(), NULL, &inserted);
		if (st != DB_OK)
			return st;
	}
	return DB_ERROR;
}

/* The DEK of version k (the row at hand), from the cache when it is there
 * and was cached from the same wrapping, else unwrapped and cached. */
static enum db_status
dek_of_row(struct arena *a, const char *org_id, const struct key_row *k,
	   unsigned char dek[KEYRING_DEK_LEN])
{
	struct cache_entry *e = cache_find(org_id, k->version);
	enum db_status st;

	if (e != NULL && k->wrapped_at != NULL && strcmp(e->wrapped_at, k->wrapped_at) == 0) {
		memcpy(dek, e->dek, KEYRING_DEK_LEN);
		return DB_OK;
	}
	if (e != NULL) /* re-wrapped since: unwrap again, through the provider */
		cache_wipe_entry(e);
	if ((st = unwrap_row(a, org_id, k, dek)) != DB_OK)
		return st;
	cache_put(org_id, k->version, k->wrapped_at, dek);
	return DB_OK;
}

/* The DEK of a version a sealed value names. */
static enum db_status
dek_of_version(struct arena *a, const char *org_id, uint32_t version,
	       unsigned char dek[KEYRING_DEK_LEN])
{
	struct cache_entry *e;
	struct db_result r;
	struct key_row k;
	const char *params[2];
	char vs[16];

	if (org_id == NULL || org_id[0] == '\0' || strlen(org_id) > ORG_ID_MAX)
		return DB_INVALID;
	if ((e = cache_find(org_id, version)) != NULL) {
		memcpy(dek, e->dek, KEYRING_DEK_LEN);
		return DB_OK;
	}
	snprintf(vs, sizeof(vs), "%u", version);
	params[0] = org_id;
	params[1] = vs;
	if (db_exec(a, &st_version, params, &r) != DB_OK)
		return r.status;
	if (r.rows != 1) {
		log_msg(LOG_WARN, "keyring.no_such_version",
			"org %s has no DEK version %u (a value from elsewhere, or retired)", org_id,
			version);
		return DB_INVALID;
	}
	if (read_row(&r, 0, &k, a) < 0)
		return DB_ERROR;
	return dek_of_row(a, org_id, &k, dek);
}

static void
fill_state(const struct key_row *k, struct keyring_state *out)
{
	out->provider = k->provider;
	out->kek_id = k->kek_id;
	out->dek_created_at = k->dek_created_at;
	out->wrapped_at = k->wrapped_at;
	out->kms_key_arn = k->kms_key_arn;
	out->dek_version = (int)k->version;
}

/* --------------------------------------------------------- public API */

enum db_status
keyring_create_org_key(struct arena *a, const char *org_id)
{
	struct key_row k;

	return load_current(a, org_id, &k);
}

enum db_status
keyring_seal(struct arena *a, const char *org_id, const void *aad, size_t aadlen,
	     const void *plaintext, size_t n, struct buf *out)
{
	unsigned char dek[KEYRING_DEK_LEN];
	struct key_row k;
	enum db_status st;
	int rc;

	if (n > KEYRING_VALUE_MAX)
		return DB_INVALID;
	if ((st = load_current(a, org_id, &k)) != DB_OK ||
	    (st = dek_of_row(a, org_id, &k, dek)) != DB_OK)
		return st;
	rc = keyring_seal_with(dek, k.version, aad, aadlen, plaintext, n, out);
	OPENSSL_cleanse(dek, sizeof(dek));
	return rc == 0 ? DB_OK : DB_ERROR;
}

enum db_status
keyring_open(struct arena *a, const char *org_id, const void *aad, size_t aadlen,
	     const void *ciphertext, size_t n, struct buf *out)
{
	unsigned char dek[KEYRING_DEK_LEN];
	uint32_t version;
	enum db_status st;
	int rc;

	if (keyring_sealed_version(ciphertext, n, &version) < 0)
		return DB_INVALID;
	if ((st = dek_of_version(a, org_id, version, dek)) != DB_OK)
		return st;
	rc = keyring_open_with(dek, aad, aadlen, ciphertext, n, out);
	OPENSSL_cleanse(dek, sizeof(dek));
	return rc == 0 ? DB_OK : DB_INVALID;
}

enum db_status
keyring_state(struct arena *a, const char *org_id, struct keyring_state *out)
{
	struct key_row k;
	enum db_status st;

	memset(out, 0, sizeof(*out));
	if ((st = load_current(a, org_id, &k)) != DB_OK)
		return st;
	fill_state(&k, out);
	return DB_OK;
}

enum db_status
keyring_rotate_kek(struct arena *a, const char *org_id, struct keyring_state *out,
		   const char **from_kek_id, int *count)
{
	struct db_result r;
	struct key_row cur, k;
	const char *params[4];
	enum db_status st;
	int i;

	*count = 0;
	*from_kek_id = NULL;
	/* Creates the key of an org older than the keyring, then locks all. */
	if ((st = load_current(a, org_id, &cur)) != DB_OK)
		return st;
	*from_kek_id = cur.kek_id;
	params[0] = org_id;
	if (db_exec(a, &st_lock_rewrap, params, &r) != DB_OK)
		return r.status;
	for (i = 0; i < r.rows; i++) {
		unsigned char dek[KEYRING_DEK_LEN];
		const struct keyring_provider *p;
		struct kek_ref ref;
		struct buf w;
		const char *kek_id = NULL;
		char vs[16];
		int rc;
		struct db_result u;

		if (read_row(&r, i, &k, a) < 0)
			return DB_ERROR;
		if ((p = provider_named(k.provider)) == NULL)
			return DB_UNAVAILABLE;
		if ((st = unwrap_row(a, org_id, &k, dek)) != DB_OK)
			return st;
		ref.org_id = org_id;
		ref.dek_version = k.version;
		ref.kms_key_arn = k.kms_key_arn;
		buf_init(&w, a);
		rc = p->wrap(a, &ref, dek, &w, &kek_id);
		OPENSSL_cleanse(dek, sizeof(dek));
		if (rc != 0)
			return provider_status(rc);
		snprintf(vs, sizeof(vs), "%u", k.version);
		params[1] = vs;
		params[2] = kek_id;
		params[3] = db_bytea_param(a, w.data, w.len);
		if (db_exec(a, &st_rewrap, params, &u) != DB_OK)
			return u.status;
		/* The DEK is the same; the next use unwraps the new wrapping. */
		cache_drop(org_id, k.version);
		(*count)++;
	}
	return keyring_state(a, org_id, out);
}

/* ------------------------------------------------------------- re-key */

/* Every column that holds sealed values, with how to find its rows in
 * keyset order and the additional data they were sealed with. A new kind
 * of sealed value must be listed here, or a re-key cannot retire the old
 * DEK. Select parameters: $1 org, the cursor ($2…), the current version's
 * 4 bytes, the batch size; columns: the cursor keys, the value, extras.
 * Update parameters: $1 org, the keys ($2…), the new value. */
struct sealed_source {
	const char *name;
	struct db_stmt *count, *select, *update;
	int nkeys;
	const char *const *cursor0;
	void (*aad)(struct buf *b, const char *org_id, const struct db_result *r, int row);
};

static struct db_stmt st_sv_count = {
	"keyring_sv_count",
	"SELECT count(*) FROM secret_version WHERE org_id = $1 "
	"AND substring(value from 2 for 4) <> $2",
	2, 0};
static struct db_stmt st_sv_select = {
	"keyring_sv_select",
	"SELECT v.secret_id, v.environment_id, v.version, v.value, s.project_id "
	"FROM secret_version v JOIN secret s ON s.id = v.secret_id "
	"WHERE v.org_id = $1 AND (v.secret_id, v.environment_id, v.version) > ($2, $3, $4::integer) "
	"AND substring(v.value from 2 for 4) <> $5 "
	"ORDER BY v.secret_id, v.environment_id, v.version LIMIT $6::integer FOR UPDATE OF v",
	6, 0};
static struct db_stmt st_sv_update = {
	"keyring_sv_update",
	"UPDATE secret_version SET value = $5 WHERE org_id = $1 AND secret_id = $2 "
	"AND environment_id = $3 AND version = $4::integer",
	5, 0};

static void
sv_aad(struct buf *b, const char *org_id, const struct db_result *r, int row)
{
	keyring_aad(b, org_id, db_get(r, row, 4), db_get(r, row, 0), db_get(r, row, 1),
		    (int)strtol(db_get(r, row, 2), NULL, 10));
}

static struct db_stmt st_ssv_count = {
	"keyring_ssv_count",
	"SELECT count(*) FROM shared_secret_version WHERE org_id = $1 "
	"AND substring(value from 2 for 4) <> $2",
	2, 0};
static struct db_stmt st_ssv_select = {
	"keyring_ssv_select",
	"SELECT shared_secret_id, version, value FROM shared_secret_version "
	"WHERE org_id = $1 AND (shared_secret_id, version) > ($2, $3::integer) "
	"AND substring(value from 2 for 4) <> $4 "
	"ORDER BY shared_secret_id, version LIMIT $5::integer FOR UPDATE",
	5, 0};
static struct db_stmt st_ssv_update = {
	"keyring_ssv_update",
	"UPDATE shared_secret_version SET value = $4 WHERE org_id = $1 AND shared_secret_id = $2 "
	"AND version = $3::integer",
	4, 0};

static void
ssv_aad(struct buf *b, const char *org_id, const struct db_result *r, int row)
{
	keyring_aad_shared(b, org_id, db_get(r, row, 0), (int)strtol(db_get(r, row, 1), NULL, 10));
}

static const char *const sv_cursor0[] = {"", "", "0"};
static const char *const ssv_cursor0[] = {"", "0"};

static const struct sealed_source sources[] = {
	{"secret_version", &st_sv_count, &st_sv_select, &st_sv_update, 3, sv_cursor0, sv_aad},
	{"shared_secret_version", &st_ssv_count, &st_ssv_select, &st_ssv_update, 2, ssv_cursor0,
	 ssv_aad},
};
#define NSOURCES (sizeof(sources) / sizeof(sources[0]))
#define KEYS_MAX 3

static struct db_stmt st_rekey_lock = {
	"keyring_rekey_lock",
	"SELECT pg_try_advisory_lock(hashtextextended('shush.rekey:' || $1, 0))", 1, 0};
static struct db_stmt st_rekey_unlock = {
	"keyring_rekey_unlock",
	"SELECT pg_advisory_unlock(hashtextextended('shush.rekey:' || $1, 0))", 1, 0};

static enum db_status
count_old(struct arena *a, const struct sealed_source *src, const char *org_id,
	  const char *cur_bytes, long long *n)
{
	struct db_result r;
	const char *params[2] = {org_id, cur_bytes};

	if (db_exec(a, src->count, params, &r) != DB_OK)
		return r.status;
	*n = strtoll(db_get(&r, 0, 0), NULL, 10);
	return DB_OK;
}

/* One batch of src in its own transaction: re-encrypts up to batch rows
 * after the cursor (advanced to the last row seen); *seen 0 at the end. */
static enum db_status
rekey_batch(struct arena *a, const struct sealed_source *src, const char *org_id,
	    const unsigned char cur_dek[KEYRING_DEK_LEN], uint32_t cur_version,
	    const char *cur_bytes, const char *batch, const char **cursor, int *seen,
	    long long *done, long long *failed)
{
	const char *params[KEYS_MAX + 4];
	struct db_result r;
	enum db_status st;
	int i, j, np = 0;
	long long ok = 0, bad = 0;

	*seen = 0;
	if ((st = db_begin()) != DB_OK)
		return st;
	params[np++] = org_id;
	for (j = 0; j < src->nkeys; j++)
		params[np++] = cursor[j];
	params[np++] = cur_bytes;
	params[np++] = batch;
	if (db_exec(a, src->select, params, &r) != DB_OK) {
		db_rollback();
		return r.status;
	}
	for (i = 0; i < r.rows; i++) {
		struct buf sealed, plain, aad, fresh;
		struct db_result u;
		unsigned char dek[KEYRING_DEK_LEN];
		uint32_t v;
		int rc;

		buf_init(&sealed, a);
		buf_init(&plain, a);
		buf_init(&aad, a);
		buf_init(&fresh, a);
		if (db_bytea_value(db_get(&r, i, src->nkeys), &sealed) < 0 ||
		    keyring_sealed_version(sealed.data, sealed.len, &v) < 0) {
			log_msg(LOG_ERROR, "keyring.rekey_malformed",
				"org %s: a %s row is not a sealed value", org_id, src->name);
			bad++;
			continue;
		}
		src->aad(&aad, org_id, &r, i);
		if ((st = dek_of_version(a, org_id, v, dek)) != DB_OK) {
			if (st != DB_INVALID) {
				db_rollback();
				return st;
			}
			bad++;
			continue;
		}
		rc = keyring_open_with(dek, aad.data, aad.len, sealed.data, sealed.len, &plain);
		OPENSSL_cleanse(dek, sizeof(dek));
		if (rc < 0) {
			log_msg(LOG_ERROR, "keyring.rekey_unopenable",
				"org %s: a %s row does not open under DEK version %u", org_id,
				src->name, v);
			bad++;
			continue;
		}
		rc = keyring_seal_with(cur_dek, cur_version, aad.data, aad.len, plain.data,
				       plain.len, &fresh);
		OPENSSL_cleanse(plain.data, plain.len);
		if (rc < 0) {
			db_rollback();
			return DB_ERROR;
		}
		np = 0;
		params[np++] = org_id;
		for (j = 0; j < src->nkeys; j++)
			params[np++] = db_get(&r, i, j);
		params[np++] = db_bytea_param(a, fresh.data, fresh.len);
		if (db_exec(a, src->update, params, &u) != DB_OK) {
			db_rollback();
			return u.status;
		}
		ok++;
	}
	if ((st = db_commit()) != DB_OK) {
		db_rollback();
		return st;
	}
	if (r.rows > 0)
		for (j = 0; j < src->nkeys; j++)
			cursor[j] = db_get(&r, r.rows - 1, j);
	*seen = r.rows;
	*done += ok;
	*failed += bad;
	return DB_OK;
}

/* Makes a fresh DEK version current (or finds the one an interrupted
 * re-key made current), in one transaction. */
static enum db_status
rekey_switch(struct arena *a, const char *org_id, struct keyring_rekey_result *out)
{
	struct db_result r;
	struct key_row cur, k;
	const char *params[1] = {org_id};
	const struct keyring_provider *p;
	enum db_status st;
	uint32_t max = 0, min_old = 0;
	int i, inserted;

	if ((st = db_begin()) != DB_OK)
		return st;
	if ((st = load_current(a, org_id, &cur)) != DB_OK)
		goto fail;
	if (db_exec(a, &st_lock_all, params, &r) != DB_OK) {
		st = r.status;
		goto fail;
	}
	for (i = 0; i < r.rows; i++) {
		if (read_row(&r, i, &k, a) < 0) {
			st = DB_ERROR;
			goto fail;
		}
		if (k.version > max)
			max = k.version;
		if (!k.current && (min_old == 0 || k.version < min_old))
			min_old = k.version;
	}
	if (min_old != 0) { /* resume: cur stays current */
		out->from_version = (int)min_old;
		out->to_version = (int)cur.version;
		db_rollback();
		return DB_OK;
	}
	if ((p = provider_named(cur.provider)) == NULL) {
		st = DB_UNAVAILABLE;
		goto fail;
	}
	if (db_exec(a, &st_uncurrent, params, &r) != DB_OK) {
		st = r.status;
		goto fail;
	}
	if ((st = insert_version(a, org_id, max + 1, 1, p, cur.kms_key_arn, &inserted)) != DB_OK)
		goto fail;
	if (!inserted) {
		st = DB_CONFLICT;
		goto fail;
	}
	if ((st = db_commit()) != DB_OK)
		goto fail;
	out->from_version = (int)cur.version;
	out->to_version = (int)(max + 1);
	return DB_OK;
fail:
	db_rollback();
	return st;
}

static enum db_status
rekey_finish(struct arena *a, const char *org_id, const char *cur_bytes,
	     struct keyring_rekey_result *out)
{
	struct db_result r;
	struct audit_event ev;
	const char *params[1] = {org_id};
	enum db_status st;
	size_t s;
	long long n, remaining = 0;

	if ((st = db_begin()) != DB_OK)
		return st;
	for (s = 0; s < NSOURCES; s++) {
		if ((st = count_old(a, &sources[s], org_id, cur_bytes, &n)) != DB_OK)
			goto fail;
		remaining += n;
	}
	out->remaining = remaining;
	if (remaining > 0) {
		db_rollback();
		return DB_OK;
	}
	if (db_exec(a, &st_retire, params, &r) != DB_OK) {
		st = r.status;
		goto fail;
	}
	out->retired = r.rows;
	memset(&ev, 0, sizeof(ev));
	ev.org_id = org_id;
	ev.actor_type = "system";
	ev.actor_id = "shushd";
	ev.action = "org.rekeyed";
	ev.target_type = "organization";
	ev.target_id = org_id;
	ev.metadata = arena_printf(a,
				   "{\"fromDekVersion\":%d,\"toDekVersion\":%d,"
				   "\"reencrypted\":%lld,\"retiredVersions\":%d}",
				   out->from_version, out->to_version, out->reencrypted,
				   out->retired);
	if ((st = audit_append(a, &ev, NULL)) != DB_OK)
		goto fail;
	return db_commit();
fail:
	db_rollback();
	return st;
}

enum db_status
keyring_rekey(struct arena *a, const char *org_id, int batch, keyring_progress_fn progress,
	      void *ctx, struct keyring_rekey_result *out)
{
	struct arena *scratch = NULL;
	struct db_result r;
	const char *params[1] = {org_id};
	unsigned char cur_dek[KEYRING_DEK_LEN], vbytes[4];
	const char *cur_bytes, *batch_s;
	enum db_status st;
	size_t s;
	int locked = 0;

	memset(out, 0, sizeof(*out));
	if (org_id == NULL || org_id[0] == '\0' || strlen(org_id) > ORG_ID_MAX)
		return DB_INVALID;
	if (batch <= 0)
		batch = REKEY_BATCH_DEFAULT;
	if (batch > REKEY_BATCH_MAX)
		batch = REKEY_BATCH_MAX;
	/* One re-key per org at a time, across hosts: a session lock. */
	if (db_exec(a, &st_rekey_lock, params, &r) != DB_OK)
		return r.status;
	if (db_get(&r, 0, 0) == NULL || db_get(&r, 0, 0)[0] != 't')
		return DB_CONFLICT;
	locked = 1;
	scratch = arena_new(64 * 1024);
	if ((st = rekey_switch(a, org_id, out)) != DB_OK)
		goto done;
	if ((st = dek_of_version(a, org_id, (uint32_t)out->to_version, cur_dek)) != DB_OK)
		goto done;
	put_u32(vbytes, (uint32_t)out->to_version);
	cur_bytes = db_bytea_param(a, vbytes, sizeof(vbytes));
	batch_s = arena_printf(a, "%d", batch);
	for (s = 0; s < NSOURCES; s++) {
		const struct sealed_source *src = &sources[s];
		const char *cursor[KEYS_MAX];
		long long total = 0, done_n = 0, failed = 0;
		int j, seen, tries;

		if ((st = count_old(scratch, src, org_id, cur_bytes, &total)) != DB_OK)
			goto done;
		for (j = 0; j < src->nkeys; j++)
			cursor[j] = src->cursor0[j];
		if (progress != NULL)
			progress(ctx, src->name, 0, total);
		do {
			/* The cursor points into the previous batch's result: copy it
			 * out before the scratch arena is reset. */
			for (j = 0; j < src->nkeys; j++)
				cursor[j] = arena_strdup(a, cursor[j]);
			arena_reset(scratch);
			for (tries = 0;; tries++) {
				st = rekey_batch(scratch, src, org_id, cur_dek, (uint32_t)out->to_version,
						 cur_bytes, batch_s, cursor, &seen, &done_n, &failed);
				if (st != DB_SERIALIZE || tries + 1 >= REKEY_RETRIES)
					break;
			}
			if (st != DB_OK)
				goto done;
			if (progress != NULL && seen > 0)
				progress(ctx, src->name, done_n, total);
		} while (seen > 0);
		out->reencrypted += done_n;
	}
	arena_reset(scratch);
	/* A reader that fetched a value just before its batch committed may
	 * still ask for the old DEK: give it a moment before it goes. */
	if (out->reencrypted > 0)
		sleep(1);
	st = rekey_finish(a, org_id, cur_bytes, out);
done:
	OPENSSL_cleanse(cur_dek, sizeof(cur_dek));
	if (scratch != NULL)
		arena_free(scratch);
	if (locked)
		(void)db_exec(a, &st_rekey_unlock, params, &r);
	return st;
}

/* ------------------------------------------------------ admin commands */

static struct db_stmt st_list_orgs = {
	"keyring_list_orgs",
	"SELECT id FROM organization WHERE id > $1 ORDER BY id LIMIT $2::integer", 2, 0};

enum db_status
keyring_list_orgs(struct arena *a, const char *after, int limit, const char ***ids, int *n)
{
	struct db_result r;
	const char *params[2];
	int i;

	params[0] = after != NULL ? after : "";
	params[1] = arena_printf(a, "%d", limit);
	*n = 0;
	if (db_exec(a, &st_list_orgs, params, &r) != DB_OK)
		return r.status;
	*ids = arena_alloc(a, sizeof(**ids) * (size_t)(r.rows + 1));
	for (i = 0; i < r.rows; i++)
		(*ids)[i] = db_get(&r, i, 0);
	*n = r.rows;
	return DB_OK;
}

enum db_status
keyring_rotate_kek_admin(struct arena *a, const char *org_id, struct keyring_state *out,
			 const char **from_kek_id, int *count)
{
	struct audit_event ev;
	struct buf meta;
	enum db_status st;

	if ((st = db_begin()) != DB_OK)
		return st;
	if ((st = keyring_rotate_kek(a, org_id, out, from_kek_id, count)) != DB_OK)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.org_id = org_id;
	ev.actor_type = "system";
	ev.actor_id = "shushd";
	ev.action = "org.kek_rotated";
	ev.target_type = "organization";
	ev.target_id = org_id;
	buf_init(&meta, a);
	buf_puts(&meta, "{\"fromKekId\":");
	buf_json_string(&meta, *from_kek_id, strlen(*from_kek_id));
	buf_puts(&meta, ",\"toKekId\":");
	buf_json_string(&meta, out->kek_id, strlen(out->kek_id));
	buf_printf(&meta, ",\"dekVersions\":%d}", *count);
	ev.metadata = meta.data;
	if ((st = audit_append(a, &ev, NULL)) != DB_OK)
		goto fail;
	return db_commit();
fail:
	db_rollback();
	return st;
}
