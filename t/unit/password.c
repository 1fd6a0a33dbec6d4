/*
 * Unit tests for lib/password.c. Each scrypt costs ~100 ms, so the cases
 * are chosen to need about a dozen of them.
 */
#include <string.h>
#include <time.h>

#include "../../lib/shush.h"
#include "tap.h"

/*
 * Produced by better-auth 1.7.25's own hashPassword (import from
 * "better-auth/crypto", @better-auth/utils 0.5.1, node 20) with
 * t/peers/vectors/password.mjs.
 */
static const struct {
	const char *password, *hash;
} ba[] = {
	{"correct horse battery staple",
	 "d52d0fa2fb75920568b65246c90fe3da:e241bebd10e85f36e7690bfd30a0b0223da8689604f186048f6ead5603"
	 "b6be74204536b814859a2adddced116b94d9e7777fa9c604edefc77bef0664a7150c4c"},
	/* "ｐａｓｓｗｏｒｄ１２３", full-width: NFKC makes it "password123" */
	{"\xef\xbd\x90\xef\xbd\x81\xef\xbd\x93\xef\xbd\x93\xef\xbd\x97\xef\xbd\x8f\xef\xbd\x92\xef"
	 "\xbd\x84\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93",
	 "3796ce9eb25bb8b7ce9529a2ef91ba35:1c7cf544aedf2cca0bcdec6f9616725f3dad38805975467bcba04e097d"
	 "37472075a4a1e43b34fee18c77f3b22cbdc41e3d936be0d5270d217770fe7ce1f561b1"},
	/* "pässwörd ﬁ Å", precomposed, with the U+FB01 ligature */
	{"p\xc3\xa4ssw\xc3\xb6rd \xef\xac\x81 \xc3\x85",
	 "c8de7915db2a438c6c464b6ed5d86355:30cc191fea797a83eae3c53bdd0925924b1e4daf4704854de0fa949c90"
	 "616cf1407560c17235a3ef636ad6ef504838b365cedfea6e7393acfd4f051ade44dc0c"},
	/* 128 times "x" (built in main) */
	{NULL,
	 "cc08562b1c8b5a4567a140bfffd91627:aba05f816985781ad5d7b02993860f049907d2bcd6cdb24257a337df32"
	 "c51271a0d74538c5bd468f393d4850d05265a5bbb9d42536e0664a03ca31cc35a47afc"},
};

/* CPU time, not wall time: other processes on a busy machine would make
 * the comparison below flaky. */
static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
well_formed(const char *h)
{
	size_t i;

	if (strlen(h) != PASSWORD_HASH_LEN || h[32] != ':')
		return 0;
	for (i = 0; i < PASSWORD_HASH_LEN; i++)
		if (i != 32 && strchr("0123456789abcdef", h[i]) == NULL)
			return 0;
	return 1;
}

int
main(void)
{
	char x128[129], e128[2 * 128 + 1], h1[PASSWORD_HASH_LEN + 1], h2[PASSWORD_HASH_LEN + 1];
	char upper[PASSWORD_HASH_LEN + 1], bad[PASSWORD_HASH_LEN + 2];
	double t0, t_verify, t_dummy;
	size_t i;

	memset(x128, 'x', 128);
	x128[128] = '\0';
	for (i = 0; i < 128; i++)
		memcpy(e128 + 2 * i, "\xc3\xa9", 2); /* é */
	e128[256] = '\0';

	/* better-auth's hashes verify here. */
	is_int(password_verify(ba[0].password, ba[0].hash), 1, "better-auth vector: ascii");
	is_int(password_verify(ba[1].password, ba[1].hash), 1, "better-auth vector: full-width");
	is_int(password_verify("password123", ba[1].hash), 1,
	       "NFKC: ascii password123 matches the full-width hash");
	is_int(password_verify(ba[2].password, ba[2].hash), 1, "better-auth vector: accents, ligature");
	is_int(password_verify("pa\xcc\x88sswo\xcc\x88rd fi \xe2\x84\xab", ba[2].hash), 1,
	       "NFKC: combining diaereses, 'fi' for the ligature, ANGSTROM SIGN for A-ring");
	t0 = now_ms();
	is_int(password_verify(x128, ba[3].hash), 1, "better-auth vector: 128 characters");
	t_verify = now_ms() - t0;

	/* Our hashes: format, round trip, random salts. */
	is_int(password_hash("correct horse battery staple", h1), 0, "hash");
	ok(well_formed(h1), "hash is <32 hex>:<128 hex>: %s", h1);
	is_int(password_verify("Correct horse battery staple", h1), 0, "wrong password");
	is_int(password_hash(e128, h2), 0, "hash of 128 two-byte characters");
	ok(well_formed(h2), "well formed");
	ok(memcmp(h1, h2, 32) != 0, "salts differ between hashes");
	is_int(password_verify(e128, h2), 1, "round trip of 128 two-byte characters");

	/* Invalid UTF-8 is no password at all. */
	is_int(password_hash("abc\xff", h2), -1, "invalid UTF-8 does not hash");
	is_str(h2, "", "and leaves an empty string");
	is_int(password_hash("\xc3", h2), -1, "truncated UTF-8 does not hash");
	is_int(password_hash("\xed\xa0\x80", h2), -1, "a UTF-8 encoded surrogate does not hash");
	is_int(password_verify("abc\xff", h1), 0, "invalid UTF-8 never matches");

	/* The key compared as better-auth does, as a lowercase hex string. */
	memcpy(upper, ba[0].hash, sizeof(upper));
	for (i = 33; i < PASSWORD_HASH_LEN; i++)
		if (upper[i] >= 'a' && upper[i] <= 'f')
			upper[i] = (char)(upper[i] - 'a' + 'A');
	is_int(password_verify(ba[0].password, upper), 0,
	       "an upper-case key does not match (better-auth compares strings)");

	/* Malformed stored values: no scrypt at all. */
	is_int(password_verify("x", NULL), -1, "NULL stored");
	is_int(password_verify("x", ""), -1, "empty stored");
	is_int(password_verify("x", "abc:def"), -1, "short stored");
	memcpy(bad, ba[0].hash, PASSWORD_HASH_LEN + 1);
	bad[32] = ';';
	is_int(password_verify("x", bad), -1, "no colon");
	memcpy(bad, ba[0].hash, PASSWORD_HASH_LEN + 1);
	bad[5] = 'g';
	is_int(password_verify("x", bad), -1, "non-hex salt");
	memcpy(bad, ba[0].hash, PASSWORD_HASH_LEN + 1);
	bad[100] = 'z';
	is_int(password_verify("x", bad), -1, "non-hex key");
	memcpy(bad, ba[0].hash, PASSWORD_HASH_LEN + 1);
	bad[PASSWORD_HASH_LEN - 1] = '\0';
	is_int(password_verify("x", bad), -1, "key one digit short");
	memcpy(bad, ba[0].hash, PASSWORD_HASH_LEN);
	bad[PASSWORD_HASH_LEN] = '0';
	bad[PASSWORD_HASH_LEN + 1] = '\0';
	is_int(password_verify("x", bad), -1, "key one digit long");
	memcpy(bad, ba[0].hash + 1, PASSWORD_HASH_LEN);
	bad[31] = ':';
	bad[32] = '0';
	is_int(password_verify("x", bad), -1, "colon one place early");

	/* An unknown e-mail costs the same as a known one. */
	t0 = now_ms();
	password_dummy_verify("correct horse battery staple");
	t_dummy = now_ms() - t0;
	ok(t_dummy > t_verify / 3 && t_dummy < t_verify * 3,
	   "dummy verification takes about as long as a real one (%.0f ms vs %.0f ms)", t_dummy,
	   t_verify);
	password_dummy_verify("\xff");
	ok(1, "dummy verification of invalid UTF-8");

	return done_testing();
}
