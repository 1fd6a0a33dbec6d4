/* Unit tests for lib/crypto.c. */
#include <stdlib.h>
#include <string.h>

#include "../../lib/shush.h"
#include "tap.h"

static void
hex_of(const unsigned char *p, size_t n, char *out)
{
	crypto_hex(p, n, out);
}

static void
test_sha256(void)
{
	unsigned char h[32];
	char hex[65];

	crypto_sha256("", 0, h);
	hex_of(h, 32, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "sha256 of empty");
	crypto_sha256(NULL, 0, h);
	hex_of(h, 32, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "sha256 of NULL, 0");
	crypto_sha256("abc", 3, h);
	hex_of(h, 32, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	       "sha256 of abc");
}

static void
test_hmac(void)
{
	unsigned char mac[32], longkey[100];
	char hex[65];

	/* RFC 4231 test case 2 */
	crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	hex_of(mac, 32, hex);
	is_str(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	       "hmac-sha256 RFC 4231 case 2");
	crypto_hmac_sha256(NULL, 0, NULL, 0, mac);
	hex_of(mac, 32, hex);
	is_str(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
	       "hmac-sha256 with empty key and message");
	memset(longkey, 'k', sizeof(longkey));
	crypto_hmac_sha256(longkey, sizeof(longkey), "data", 4, mac);
	hex_of(mac, 32, hex);
	is_str(hex, "09380ee4b802da2363bc96e8e0d133ba275458ea8ddbc564f986fc12b31f8cb1",
	       "hmac-sha256 with a key longer than the block");
}

/*
 * better-auth's signed session cookie: token "." base64(HMAC-SHA256(secret,
 * token)), URI-encoded. Vectors from better-call 1.4.5's signCookieValue
 * (better-auth 1.7.25) and node:crypto createHmac, which agree.
 */
static void
test_cookie_signature(void)
{
	static const struct {
		const char *secret, *token, *sig;
	} v[] = {
		{"better-auth-secret-0123456789abcdefghij", "AbCdEfGhIjKlMnOpQrStUvWxYz012345",
		 "By50/iIvmPkIxnWddWCcXSlyg2YeT5imkG6j6pVlZmY="},
		{"s\xc3\xa9" "cret\xe2\x9c\x93", "AbCdEfGhIjKlMnOpQrStUvWxYz012345",
		 "aD7hYtleJnZ9oijlMEItTup/lP2exekP9S+V8asNyFk="},
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		unsigned char mac[32], back[36];
		char b64[45];
		size_t n;

		crypto_hmac_sha256(v[i].secret, strlen(v[i].secret), v[i].token,
				   strlen(v[i].token), mac);
		n = crypto_b64_encode(mac, sizeof(mac), b64);
		is_int((long long)n, 44, "cookie signature is 44 base64 chars");
		is_str(b64, v[i].sig, "cookie signature matches better-auth");
		is_int(crypto_b64_decode(v[i].sig, strlen(v[i].sig), back, sizeof(back)), 32,
		       "cookie signature decodes to 32 bytes");
		ok(crypto_eq(back, mac, 32), "decoded signature equals the HMAC");
	}
}

static void
test_b64_vectors(void)
{
	static const struct {
		const char *plain, *b64;
	} v[] = {
		{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
		{"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char enc[16];
		unsigned char dec[16];
		long n;

		is_int((long long)crypto_b64_encode((const unsigned char *)v[i].plain,
						    strlen(v[i].plain), enc),
		       (long long)strlen(v[i].b64), "RFC 4648 encode length");
		is_str(enc, v[i].b64, "RFC 4648 encode");
		n = crypto_b64_decode(v[i].b64, strlen(v[i].b64), dec, strlen(v[i].plain));
		ok(n == (long)strlen(v[i].plain) && memcmp(dec, v[i].plain, (size_t)n) == 0,
		   "RFC 4648 decode '%s' into an exactly-sized buffer", v[i].b64);
	}
	{
		unsigned char dec[8];

		is_int(crypto_b64_decode("Zm9vYmFy", 4, dec, sizeof(dec)), 3,
		       "decode honours slen, not the NUL");
		ok(memcmp(dec, "foo", 3) == 0, "decode of a prefix");
		is_int(crypto_b64_decode("Zm9vYmFy", 8, dec, 5), -1, "decode into too small a buffer");
		is_int(crypto_b64_decode("Zm9vYg==", 8, dec, 4), 4,
		       "padding does not count against outcap");
		is_int(crypto_b64_decode("Zm9vYg==", 8, dec, 3), -1, "but the real length does");
	}
}

static void
test_b64_roundtrip(void)
{
	unsigned char data[64], dec[64 + 3];
	char enc[4 * ((64 + 2) / 3) + 1];
	size_t n;
	int good = 1;

	for (n = 0; n <= 64; n++) {
		size_t elen;
		long dlen;

		crypto_random(data, n);
		elen = crypto_b64_encode(data, n, enc);
		dlen = crypto_b64_decode(enc, elen, dec, sizeof(dec));
		if (elen != 4 * ((n + 2) / 3) || strlen(enc) != elen || dlen != (long)n ||
		    memcmp(dec, data, n) != 0) {
			diag("round trip failed at length %zu", n);
			good = 0;
		}
		/* And all-0xff / all-zero, exercising every padding bit pattern. */
		memset(data, 0xff, n);
		elen = crypto_b64_encode(data, n, enc);
		dlen = crypto_b64_decode(enc, elen, dec, n);
		if (dlen != (long)n || memcmp(dec, data, n) != 0) {
			diag("0xff round trip failed at length %zu", n);
			good = 0;
		}
	}
	ok(good, "base64 round trips for lengths 0..64");
}

static void
test_b64_large(void)
{
	/* Larger than the chunks handed to OpenSSL in one call. */
	size_t n = 7 * 1024 * 1024 + 2;
	unsigned char *data = malloc(n), *dec = malloc(n + 3);
	char *enc = malloc(4 * ((n + 2) / 3) + 1);
	size_t elen;
	long dlen;

	if (data == NULL || dec == NULL || enc == NULL) {
		ok(0, "malloc");
		goto out;
	}
	crypto_random(data, n);
	elen = crypto_b64_encode(data, n, enc);
	is_int((long long)elen, (long long)(4 * ((n + 2) / 3)), "7 MiB encode length");
	dlen = crypto_b64_decode(enc, elen, dec, n);
	ok(dlen == (long)n && memcmp(dec, data, n) == 0, "7 MiB round trip");
out:
	free(data);
	free(dec);
	free(enc);
}

static void
test_b64_invalid(void)
{
	static const char *const bad[] = {
		"Z",        "Zg",        "Zg=",       "Zm9vY",     "====",     "Z===",
		"Zg=a",     "Zg==Zg==",  "=Zg=",      "Zm9v\n",    " Zm9v",    "Zm9v ",
		"Zm 9v",    "Zm9v====",  "Zm9-",      "Zm9_",      "Zh==",     "Zm9=",
		"Zm8=\r\n", "Zm9v\tYmFy", "Zm9vYmFy=", "Zm.v",     "\xc3\xa9xy",
	};
	unsigned char out[32];
	size_t i;
	int good = 1;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (crypto_b64_decode(bad[i], strlen(bad[i]), out, sizeof(out)) != -1) {
			diag("accepted invalid base64 '%s'", bad[i]);
			good = 0;
		}
	ok(good, "invalid base64 rejected (%zu cases)", sizeof(bad) / sizeof(bad[0]));
	is_int(crypto_b64_decode("Zm\0v", 4, out, sizeof(out)), -1, "embedded NUL rejected");
	is_int(crypto_b64_decode("", 0, out, 0), 0, "empty input decodes to nothing");
}

static void
test_hex(void)
{
	unsigned char in[] = {0x00, 0xff, 0x10, 0xab, 0x7f, 0x80}, out[8];
	char hex[13];

	crypto_hex(in, sizeof(in), hex);
	is_str(hex, "00ff10ab7f80", "hex is lowercase");
	crypto_hex(in, 0, hex);
	is_str(hex, "", "hex of nothing");
	is_int(crypto_unhex("00ff10ab7f80", 12, out, sizeof(out)), 0, "unhex");
	ok(memcmp(out, in, sizeof(in)) == 0, "hex round trip");
	is_int(crypto_unhex("00FF10AB7F80", 12, out, 6), 0, "unhex accepts uppercase, exact cap");
	ok(memcmp(out, in, sizeof(in)) == 0, "uppercase round trip");
	is_int(crypto_unhex("", 0, out, 0), 0, "unhex of nothing");
	is_int(crypto_unhex("abc", 3, out, sizeof(out)), -1, "odd length rejected");
	is_int(crypto_unhex("0g", 2, out, sizeof(out)), -1, "non-hex rejected");
	is_int(crypto_unhex("g0", 2, out, sizeof(out)), -1, "non-hex first digit rejected");
	is_int(crypto_unhex("0 ", 2, out, sizeof(out)), -1, "space rejected");
	is_int(crypto_unhex("00ff10", 6, out, 2), -1, "too small a buffer rejected");
	is_int(crypto_unhex("0\0", 2, out, sizeof(out)), -1, "NUL rejected");
}

static void
test_eq(void)
{
	unsigned char a[32], b[32];

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	is_int(crypto_eq(a, b, 32), 1, "crypto_eq equal");
	b[31] ^= 1;
	is_int(crypto_eq(a, b, 32), 0, "crypto_eq differs in the last byte");
	b[31] ^= 1;
	b[0] ^= 0x80;
	is_int(crypto_eq(a, b, 32), 0, "crypto_eq differs in the first byte");
	is_int(crypto_eq(a, b, 0), 1, "crypto_eq of nothing");
	is_int(crypto_eq(NULL, NULL, 0), 1, "crypto_eq of NULL, 0");
}

static int
all_alnum(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

static void
test_random(void)
{
	unsigned char a[32], b[32];
	char s[1001], t[33];
	static char big[62001];
	int counts[256] = {0};
	size_t i;
	int every = 1;

	is_int(crypto_random(a, 0), 0, "crypto_random of nothing");
	is_int(crypto_random(a, sizeof(a)), 0, "crypto_random");
	crypto_random(b, sizeof(b));
	ok(!crypto_eq(a, b, 32), "two random draws differ");

	memset(s, 'x', sizeof(s));
	is_int(crypto_random_alnum(s, 0), 0, "alnum of length 0");
	is_int(s[0], 0, "alnum of length 0 is the empty string");
	is_int(crypto_random_alnum(s, 1), 0, "alnum of length 1");
	ok(strlen(s) == 1 && all_alnum(s, 1), "one alnum char");
	is_int(crypto_random_alnum(s, 32), 0, "alnum of length 32");
	ok(strlen(s) == 32 && all_alnum(s, 32), "32 alnum chars: %s", s);
	crypto_random_alnum(t, 32);
	ok(strcmp(s, t) != 0, "two tokens differ");
	is_int(crypto_random_alnum(s, 1000), 0, "alnum of length 1000");
	ok(strlen(s) == 1000 && all_alnum(s, 1000), "1000 alnum chars");

	/* Every one of the 62 characters shows up in 62000 draws (missing one
	 * has probability about 62 * e^-1000). */
	crypto_random_alnum(big, sizeof(big) - 1);
	for (i = 0; i < sizeof(big) - 1; i++)
		counts[(unsigned char)big[i]]++;
	for (i = 0; i < 256; i++) {
		int want = ((i >= 'A' && i <= 'Z') || (i >= 'a' && i <= 'z') ||
			    (i >= '0' && i <= '9'));

		if ((counts[i] > 0) != want || (want && (counts[i] < 700 || counts[i] > 1300)))
			every = 0;
	}
	ok(every, "all 62 characters appear, roughly uniformly, and nothing else");
}

static void
test_base62(void)
{
	unsigned char n[32];
	char out[CRYPTO_BASE62_32_LEN + 1], key[APIKEY_LEN + 2];
	size_t i;

	memset(n, 0, sizeof(n));
	crypto_base62(n, out);
	is_str(out, "0000000000000000000000000000000000000000000", "base62 of 0: 43 zeros");
	n[31] = 61;
	crypto_base62(n, out);
	is_str(out, "000000000000000000000000000000000000000000z", "base62 of 61");
	memset(n, 0xff, sizeof(n));
	crypto_base62(n, out);
	is_str(out, "yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp1", "base62 of 2^256-1");
	for (i = 0; i < sizeof(n); i++)
		n[i] = (unsigned char)i;
	crypto_base62(n, out);
	is_str(out, "003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf", "base62 of 00 01 .. 1f");

	memcpy(key, "shush_", 6);
	memcpy(key + 6, out, sizeof(out));
	ok(apikeys_format_valid(key), "shush_ + 43 base62 is a key");
	key[48] = '-';
	ok(!apikeys_format_valid(key), "a non-alphanumeric character is not");
	key[48] = '\0';
	ok(!apikeys_format_valid(key), "42 characters are not");
	memcpy(key + 6, out, sizeof(out));
	key[49] = 'x';
	key[50] = '\0';
	ok(!apikeys_format_valid(key), "44 characters are not");
	ok(!apikeys_format_valid("scim_0000000000000000000000000000000000000000000"),
	   "another prefix is not");
	ok(!apikeys_format_valid(NULL), "NULL is not");
}

static void
test_wipe(void)
{
	unsigned char k[16];
	static const unsigned char zero[16];

	memset(k, 0xaa, sizeof(k));
	crypto_wipe(k, sizeof(k));
	ok(memcmp(k, zero, sizeof(k)) == 0, "crypto_wipe zeroes");
	crypto_wipe(NULL, 0);
	ok(1, "crypto_wipe(NULL, 0) is harmless");
}

int
main(void)
{
	test_sha256();
	test_hmac();
	test_cookie_signature();
	test_b64_vectors();
	test_b64_roundtrip();
	test_b64_large();
	test_b64_invalid();
	test_hex();
	test_eq();
	test_random();
	test_base62();
	test_wipe();
	return done_testing();
}
