/*
 * Unit tests for lib/keyring.c: the pure layer (seal/open with a given DEK,
 * the master-key wrap, additional data, the sealed format) always; the
 * database layer (org keys, lazy creation, rotate-kek, rekey of sealed
 * rows, the cache) when the stack's configuration is in the environment
 * (t/run.sh exports it), against throwaway orgs it deletes afterwards.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/shush.h"
#include "tap.h"

static struct arena *A;

static void
test_seal_open(void)
{
	unsigned char dek[KEYRING_DEK_LEN], other[KEYRING_DEK_LEN];
	const char *aad = "place-1", *msg = "hunter2\nwith \"quotes\" and \xc3\xa9";
	struct buf s1, s2, p;
	uint32_t v = 0;
	size_t i, n = strlen(msg);
	int fails = 0;

	crypto_random(dek, sizeof(dek));
	crypto_random(other, sizeof(other));
	buf_init(&s1, A);
	buf_init(&s2, A);
	buf_init(&p, A);
	ok(keyring_seal_with(dek, 7, aad, strlen(aad), msg, n, &s1) == 0, "seal");
	is_int((long long)s1.len, (long long)(n + KEYRING_OVERHEAD), "sealed length = n + 33");
	is_int((unsigned char)s1.data[0], KEYRING_FORMAT, "first byte is the format version");
	ok(keyring_sealed_version(s1.data, s1.len, &v) == 0 && v == 7, "DEK version in the header");
	ok(memmem(s1.data, s1.len, msg, n) == NULL, "no plaintext in the sealed bytes");
	ok(keyring_open_with(dek, aad, strlen(aad), s1.data, s1.len, &p) == 0 && p.len == n &&
		   memcmp(p.data, msg, n) == 0,
	   "open gives the plaintext back");
	keyring_seal_with(dek, 7, aad, strlen(aad), msg, n, &s2);
	ok(s1.len == s2.len && memcmp(s1.data, s2.data, s1.len) != 0,
	   "two seals of the same value differ (fresh nonce)");

	p.len = 0;
	ok(keyring_open_with(dek, "place-2", 7, s1.data, s1.len, &p) < 0, "other aad fails");
	ok(keyring_open_with(dek, NULL, 0, s1.data, s1.len, &p) < 0, "no aad fails");
	ok(keyring_open_with(other, aad, strlen(aad), s1.data, s1.len, &p) < 0, "other DEK fails");
	ok(keyring_open_with(dek, aad, strlen(aad), s1.data, s1.len - 1, &p) < 0, "truncated fails");
	ok(keyring_open_with(dek, aad, strlen(aad), s1.data, KEYRING_OVERHEAD - 1, &p) < 0,
	   "shorter than the overhead fails");
	for (i = 0; i < s1.len; i++) {
		s1.data[i] ^= 0x01;
		p.len = 0;
		fails += keyring_open_with(dek, aad, strlen(aad), s1.data, s1.len, &p) < 0;
		s1.data[i] ^= 0x01;
	}
	is_int(fails, (long long)s1.len, "flipping any bit (header, nonce, data, tag) fails");

	s1.data[0] = 2;
	ok(keyring_sealed_version(s1.data, s1.len, &v) < 0, "unknown format version refused");
	ok(keyring_open_with(dek, aad, strlen(aad), s1.data, s1.len, &p) < 0,
	   "unknown format version does not open");
	s1.data[0] = KEYRING_FORMAT;

	buf_init(&s1, A);
	buf_init(&p, A);
	ok(keyring_seal_with(dek, 1, "", 0, "", 0, &s1) == 0 && s1.len == KEYRING_OVERHEAD &&
		   keyring_open_with(dek, "", 0, s1.data, s1.len, &p) == 0 && p.len == 0,
	   "empty value round trip");
	{
		char *big = arena_alloc(A, KEYRING_VALUE_MAX + 1);

		memset(big, 'x', KEYRING_VALUE_MAX + 1);
		buf_init(&s1, A);
		ok(keyring_seal_with(dek, 1, "", 0, big, KEYRING_VALUE_MAX, &s1) == 0,
		   "64 KiB seals");
		buf_init(&p, A);
		ok(keyring_open_with(dek, "", 0, s1.data, s1.len, &p) == 0 &&
			   p.len == KEYRING_VALUE_MAX,
		   "64 KiB opens");
		buf_init(&s1, A);
		ok(keyring_seal_with(dek, 1, "", 0, big, KEYRING_VALUE_MAX + 1, &s1) < 0,
		   "64 KiB + 1 refused");
	}
	ok(keyring_seal_with(dek, 0, "", 0, "x", 1, &s1) < 0, "DEK version 0 refused");
}

static void
test_aad(void)
{
	struct buf a1, a2;

	buf_init(&a1, A);
	buf_init(&a2, A);
	keyring_aad(&a1, "org", "p", "s", "e", 1);
	keyring_aad(&a2, "org", "p", "s", "e", 1);
	ok(a1.len == a2.len && memcmp(a1.data, a2.data, a1.len) == 0, "aad is deterministic");
	keyring_aad(&a2, "org", "p", "s", "e", 2);
	ok(a1.len != a2.len || memcmp(a1.data, a2.data, a1.len) != 0, "version changes the aad");
	keyring_aad(&a1, "org", "ab", "c", "e", 1);
	keyring_aad(&a2, "org", "a", "bc", "e", 1);
	ok(a1.len != a2.len || memcmp(a1.data, a2.data, a1.len) != 0,
	   "fields are length-prefixed (ab|c differs from a|bc)");
	keyring_aad(&a1, "org", "", "s", "", 1);
	keyring_aad_shared(&a2, "org", "s", 1);
	ok(a1.len != a2.len || memcmp(a1.data, a2.data, a1.len) != 0,
	   "shared-secret aad is a domain of its own");
	keyring_aad(&a1, "org", "p", "s", "e", 1);
	keyring_aad(&a1, "org", "p", "s", "e", 1);
	keyring_aad(&a2, "org", "p", "s", "e", 1);
	ok(a1.len == a2.len, "keyring_aad replaces, does not append");
}

static void
test_wrap(void)
{
	unsigned char kek[KEYRING_DEK_LEN], kek2[KEYRING_DEK_LEN], dek[KEYRING_DEK_LEN],
		back[KEYRING_DEK_LEN], w[KEYRING_WRAPPED_LEN], h[32];
	char id[KEYRING_KEK_ID_MAX], hex[65], want[64];

	crypto_random(kek, sizeof(kek));
	crypto_random(kek2, sizeof(kek2));
	crypto_random(dek, sizeof(dek));
	ok(keyring_master_wrap(kek, "org1", 1, dek, w) == 0, "wrap");
	ok(memmem(w, sizeof(w), dek, sizeof(dek)) == NULL, "no DEK in the wrapped bytes");
	ok(keyring_master_unwrap(kek, "org1", 1, w, sizeof(w), back) == 0 &&
		   memcmp(back, dek, sizeof(dek)) == 0,
	   "unwrap gives the DEK back");
	ok(keyring_master_unwrap(kek2, "org1", 1, w, sizeof(w), back) < 0, "other KEK fails");
	ok(keyring_master_unwrap(kek, "org2", 1, w, sizeof(w), back) < 0, "other org fails");
	ok(keyring_master_unwrap(kek, "org1", 2, w, sizeof(w), back) < 0, "other version fails");
	ok(keyring_master_unwrap(kek, "org1", 1, w, sizeof(w) - 1, back) < 0, "short fails");
	w[20] ^= 1;
	ok(keyring_master_unwrap(kek, "org1", 1, w, sizeof(w), back) < 0, "tampered fails");
	keyring_master_kek_id(kek, id);
	crypto_sha256(kek, sizeof(kek), h);
	crypto_hex(h, 32, hex);
	snprintf(want, sizeof(want), "master:%.16s", hex);
	is_str(id, want, "kek id is master: + 16 hex of SHA-256 of the key");
}

/* ------------------------------------------------------------- database */

static int
sql(const char *fmt, ...) SHUSH_PRINTF(1, 2);

static int
sql(const char *fmt, ...)
{
	char q[8192], err[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	if (db_simple(q, err, sizeof(err)) != DB_OK) {
		diag("SQL failed: %s", err);
		return -1;
	}
	return 0;
}

static struct db_stmt st_value = {
	"t_value", "SELECT value FROM secret_version WHERE secret_id = $1 AND version = 1", 1, 0};
static struct db_stmt st_shared = {
	"t_shared", "SELECT value FROM shared_secret_version WHERE shared_secret_id = $1", 1, 0};
static struct db_stmt st_keys = {
	"t_keys", "SELECT count(*), max(dek_version) FROM org_key WHERE org_id = $1", 1, 0};
static struct db_stmt st_audit = {
	"t_audit",
	"SELECT actor_type FROM audit_event WHERE org_id = $1 AND action = 'org.rekeyed'", 1, 0};

static int
fetch(struct db_stmt *st, const char *id, struct buf *out)
{
	struct db_result r;
	const char *params[1] = {id};

	buf_init(out, A);
	if (db_exec(A, st, params, &r) != DB_OK || r.rows != 1)
		return -1;
	return db_bytea_value(db_get(&r, 0, 0), out);
}

static void
test_db(void)
{
	char org[ID_LEN + 1], org2[ID_LEN + 1], id[KEYRING_KEK_ID_MAX];
	struct keyring_state ks;
	struct keyring_rekey_result rr;
	struct buf aad, aad2, sealed, plain, stored;
	struct db_result r;
	const char *from = NULL, *params[1];
	const char *msg = "s3cr3t value";
	int count = 0;
	uint32_t v = 0;

	id_new(org);
	id_new(org2);
	if (sql("INSERT INTO organization (id, name, slug, \"createdAt\") VALUES "
		"('%s', 'k', 'k-%s', now()), ('%s', 'k2', 'k-%s', now())",
		org, org, org2, org2) < 0) {
		ok(0, "create test orgs");
		return;
	}
	keyring_master_kek_id(config_master_kek(), id);

	ok(db_begin() == DB_OK && keyring_create_org_key(A, org) == DB_OK && db_commit() == DB_OK,
	   "create the org key");
	ok(keyring_state(A, org, &ks) == DB_OK, "state");
	is_str(ks.provider, "master", "provider master");
	is_str(ks.kek_id, id, "kek id of the configured master key");
	is_int(ks.dek_version, 1, "DEK version 1");
	ok(ks.kms_key_arn == NULL, "no kms arn");

	buf_init(&aad, A);
	buf_init(&aad2, A);
	buf_init(&sealed, A);
	buf_init(&plain, A);
	keyring_aad(&aad, org, "p1", "s1", "e1", 1);
	keyring_aad(&aad2, org, "p1", "s2", "e1", 1);
	ok(keyring_seal(A, org, aad.data, aad.len, msg, strlen(msg), &sealed) == DB_OK, "seal");
	ok(keyring_open(A, org, aad.data, aad.len, sealed.data, sealed.len, &plain) == DB_OK &&
		   plain.len == strlen(msg) && memcmp(plain.data, msg, plain.len) == 0,
	   "open");
	keyring_forget_all();
	plain.len = 0;
	ok(keyring_open(A, org, aad.data, aad.len, sealed.data, sealed.len, &plain) == DB_OK &&
		   plain.len == strlen(msg),
	   "open after the cache is forgotten (unwraps again)");
	plain.len = 0;
	is_int(keyring_open(A, org, aad2.data, aad2.len, sealed.data, sealed.len, &plain),
	       DB_INVALID, "a ciphertext moved to another secret does not open");
	is_int(keyring_open(A, org2, aad.data, aad.len, sealed.data, sealed.len, &plain), DB_INVALID,
	       "nor in another org");
	ok(keyring_seal(A, org, "", 0, "x", KEYRING_VALUE_MAX + 1, &sealed) == DB_INVALID,
	   "over 64 KiB is DB_INVALID");

	/* An org from before the keyring: its key is made on first use. */
	buf_init(&sealed, A);
	ok(db_begin() == DB_OK &&
		   keyring_seal(A, org2, "a", 1, msg, strlen(msg), &sealed) == DB_OK &&
		   db_commit() == DB_OK,
	   "lazy key creation on seal");
	ok(keyring_state(A, org2, &ks) == DB_OK && ks.dek_version == 1, "org2 has DEK version 1");

	/* rotate-kek: same DEK, new wrapping. */
	ok(db_begin() == DB_OK && keyring_rotate_kek(A, org, &ks, &from, &count) == DB_OK &&
		   db_commit() == DB_OK,
	   "rotate-kek");
	is_int(count, 1, "one version re-wrapped");
	is_str(from, id, "from the master key");
	keyring_forget_all();
	buf_init(&plain, A);
	ok(keyring_open(A, org, aad.data, aad.len, sealed.data, 0, &plain) == DB_INVALID,
	   "empty input is DB_INVALID");

	/* rekey: one secret value and one shared secret value. */
	buf_init(&sealed, A);
	if (sql("INSERT INTO project (id, org_id, name, slug) VALUES ('p-x%.20s', '%s', 'p', 'p');"
		"INSERT INTO environment (id, org_id, project_id, slug, name, position) VALUES "
		"('e-x%.20s', '%s', 'p-x%.20s', 'dev', 'dev', 0);"
		"INSERT INTO secret (id, org_id, project_id, key) VALUES "
		"('s-x%.20s', '%s', 'p-x%.20s', 'K');"
		"INSERT INTO shared_secret (id, org_id, key, version) VALUES ('h-x%.20s', '%s', 'H', 1)",
		org, org, org, org, org, org, org, org, org, org) < 0) {
		ok(0, "vault rows");
		goto cleanup;
	}
	{
		char pid[64], eid[64], sid[64], hid[64];
		struct buf hs;

		snprintf(pid, sizeof(pid), "p-x%.20s", org);
		snprintf(eid, sizeof(eid), "e-x%.20s", org);
		snprintf(sid, sizeof(sid), "s-x%.20s", org);
		snprintf(hid, sizeof(hid), "h-x%.20s", org);
		keyring_aad(&aad, org, pid, sid, eid, 1);
		keyring_aad_shared(&aad2, org, hid, 1);
		buf_init(&hs, A);
		ok(keyring_seal(A, org, aad.data, aad.len, msg, strlen(msg), &sealed) == DB_OK &&
			   keyring_seal(A, org, aad2.data, aad2.len, "shared!", 7, &hs) == DB_OK,
		   "seal a secret value and a shared one");
		sql("INSERT INTO secret_version (org_id, secret_id, environment_id, version, value, "
		    "created_by) VALUES ('%s', '%s', '%s', 1, '%s', 'u')",
		    org, sid, eid, db_bytea_param(A, sealed.data, sealed.len));
		sql("INSERT INTO shared_secret_version (org_id, shared_secret_id, version, value, "
		    "created_by) VALUES ('%s', '%s', 1, '%s', 'u')",
		    org, hid, db_bytea_param(A, hs.data, hs.len));

		ok(keyring_rekey(A, org, 1, NULL, NULL, &rr) == DB_OK, "rekey");
		is_int(rr.from_version, 1, "from version 1");
		is_int(rr.to_version, 2, "to version 2");
		is_int(rr.reencrypted, 2, "two values re-encrypted");
		is_int(rr.remaining, 0, "none left");
		is_int(rr.retired, 1, "version 1 retired");
		params[0] = org;
		ok(db_exec(A, &st_keys, params, &r) == DB_OK && strcmp(db_get(&r, 0, 0), "1") == 0 &&
			   strcmp(db_get(&r, 0, 1), "2") == 0,
		   "one key row left, version 2");
		ok(db_exec(A, &st_audit, params, &r) == DB_OK && r.rows == 1 &&
			   strcmp(db_get(&r, 0, 0), "system") == 0,
		   "org.rekeyed audited, actor system");
		ok(fetch(&st_value, sid, &stored) == 0 &&
			   keyring_sealed_version(stored.data, stored.len, &v) == 0 && v == 2,
		   "the stored secret value is under version 2");
		keyring_forget_all();
		buf_init(&plain, A);
		ok(keyring_open(A, org, aad.data, aad.len, stored.data, stored.len, &plain) ==
				   DB_OK &&
			   plain.len == strlen(msg) && memcmp(plain.data, msg, plain.len) == 0,
		   "and opens to the same value");
		buf_init(&plain, A);
		ok(fetch(&st_shared, hid, &stored) == 0 &&
			   keyring_open(A, org, aad2.data, aad2.len, stored.data, stored.len,
					&plain) == DB_OK &&
			   plain.len == 7 && memcmp(plain.data, "shared!", 7) == 0,
		   "the shared value too");
		buf_init(&plain, A);
		is_int(keyring_open(A, org, aad.data, aad.len, sealed.data, sealed.len, &plain),
		       DB_INVALID, "a copy sealed under the retired version no longer opens");
		buf_init(&sealed, A);
		ok(keyring_seal(A, org, "z", 1, "z", 1, &sealed) == DB_OK &&
			   keyring_sealed_version(sealed.data, sealed.len, &v) == 0 && v == 2,
		   "new seals use version 2");
		ok(keyring_rekey(A, org, 0, NULL, NULL, &rr) == DB_OK && rr.to_version == 3 &&
			   rr.reencrypted == 2 && rr.retired == 1,
		   "a second rekey goes to version 3");
	}
cleanup:
	sql("DELETE FROM organization WHERE id IN ('%s', '%s')", org, org2);
}

int
main(void)
{
	char err[512];

	log_init("t-keyring");
	A = arena_new(64 * 1024);
	test_seal_open();
	test_aad();
	test_wrap();
	if (getenv("DATABASE_URL") == NULL || getenv("MASTER_KEK_B64") == NULL) {
		diag("no stack configuration in the environment: database tests skipped");
	} else if (config_load(err, sizeof(err)) < 0) {
		diag("configuration: %s: database tests skipped", err);
	} else if (db_connect() < 0) {
		ok(0, "connect to PostgreSQL");
	} else {
		test_db();
		db_disconnect();
	}
	keyring_forget_all();
	arena_free(A);
	return done_testing();
}
