/*
 * Primitives: randomness, SHA-256, HMAC-SHA-256, constant-time comparison,
 * base64 and hex. Everything cryptographic comes from OpenSSL; what is ours
 * is the strict validation around EVP_DecodeBlock (which would otherwise
 * skip whitespace, ignore padding when counting, and accept odd lengths).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "shush.h"

/* Largest slices handed to OpenSSL calls that take an int length; multiples
 * of 3 (encode input) and 4 (decode input). */
#define RAND_CHUNK (1 << 20)
#define B64_ENC_CHUNK (3 * (1 << 20))
#define B64_DEC_CHUNK (4 * (1 << 20))

static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static void
fatal(const char *what)
{
	/* A primitive that cannot fail in practice did: never carry on with an
	 * uninitialised digest. */
	fprintf(stderr, "shush: %s failed\n", what);
	abort();
}

int
crypto_random(void *p, size_t n)
{
	unsigned char *q = p;

	while (n > 0) {
		size_t k = n < RAND_CHUNK ? n : RAND_CHUNK;

		if (RAND_bytes(q, (int)k) != 1)
			return -1;
		q += k;
		n -= k;
	}
	return 0;
}

int
crypto_random_alnum(char *out, size_t n)
{
	/* 62 * 4 = 248: bytes >= 248 are rejected so that every character is
	 * equally likely. */
	unsigned char pool[64];
	size_t have = 0, used = 0, i = 0;

	while (i < n) {
		unsigned char b;

		if (used == have) {
			if (crypto_random(pool, sizeof(pool)) < 0) {
				crypto_wipe(pool, sizeof(pool));
				out[0] = '\0';
				return -1;
			}
			have = sizeof(pool);
			used = 0;
		}
		b = pool[used++];
		if (b >= 248)
			continue;
		out[i++] = alnum[b % 62];
	}
	out[n] = '\0';
	crypto_wipe(pool, sizeof(pool));
	return 0;
}

/* Long division of the 32-byte big-endian number by 62, digit by digit
 * from the right; 62^43 > 2^256, so 43 digits always suffice. */
void
crypto_base62(const unsigned char p[32], char out[CRYPTO_BASE62_32_LEN + 1])
{
	static const char digits[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char n[32];
	int i, j;

	memcpy(n, p, sizeof(n));
	for (i = CRYPTO_BASE62_32_LEN - 1; i >= 0; i--) {
		unsigned rem = 0;

		for (j = 0; j < 32; j++) {
			unsigned cur = rem * 256 + n[j];

			n[j] = (unsigned char)(cur / 62);
			rem = cur % 62;
		}
		out[i] = digits[rem];
	}
	out[CRYPTO_BASE62_32_LEN] = '\0';
	crypto_wipe(n, sizeof(n));
}

void
crypto_sha256(const void *p, size_t n, unsigned char out[32])
{
	size_t outlen = 0;

	if (EVP_Q_digest(NULL, "SHA256", NULL, n > 0 ? p : "", n, out, &outlen) != 1 ||
	    outlen != 32)
		fatal("SHA-256");
}

void
crypto_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n, unsigned char out[32])
{
	unsigned int outlen = 0;

	if (keylen > INT_MAX)
		fatal("HMAC-SHA-256 (key too long)");
	/* NULL means "keep the previous key" to parts of OpenSSL's HMAC API:
	 * pass an empty string for an empty key instead. */
	if (HMAC(EVP_sha256(), keylen > 0 ? key : "", (int)keylen,
		 n > 0 ? (const unsigned char *)p : (const unsigned char *)"", n, out,
		 &outlen) == NULL ||
	    outlen != 32)
		fatal("HMAC-SHA-256");
}

int
crypto_eq(const void *a, const void *b, size_t n)
{
	if (n == 0)
		return 1;
	return CRYPTO_memcmp(a, b, n) == 0;
}

size_t
crypto_b64_encode(const unsigned char *p, size_t n, char *out)
{
	size_t len = 0;

	out[0] = '\0';
	while (n > 0) {
		size_t k = n < B64_ENC_CHUNK ? n : B64_ENC_CHUNK;

		len += (size_t)EVP_EncodeBlock((unsigned char *)out + len, p, (int)k);
		p += k;
		n -= k;
	}
	out[len] = '\0';
	return len;
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
crypto_b64_decode(const char *s, size_t slen, unsigned char *out, size_t outcap)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char last[3];
	size_t pad = 0, i, body, total;

	if (slen == 0)
		return 0;
	if (slen % 4 != 0 || slen / 4 > (size_t)LONG_MAX / 3)
		return -1;
	if (u[slen - 1] == '=')
		pad = u[slen - 2] == '=' ? 2 : 1;
	for (i = 0; i < slen - pad; i++)
		if (b64_value(u[i]) < 0)
			return -1;
	/* Canonical form only: the bits the padding leaves over must be zero. */
	if (pad == 1 && (b64_value(u[slen - 2]) & 0x03) != 0)
		return -1;
	if (pad == 2 && (b64_value(u[slen - 3]) & 0x0f) != 0)
		return -1;
	total = 3 * (slen / 4) - pad;
	if (total > outcap)
		return -1;

	/* Every quad but the last straight into out; the last into a scratch
	 * buffer since EVP_DecodeBlock writes 3 bytes whatever the padding. */
	body = slen - 4;
	for (i = 0; i < body;) {
		size_t k = body - i < B64_DEC_CHUNK ? body - i : B64_DEC_CHUNK;

		if (EVP_DecodeBlock(out + 3 * (i / 4), u + i, (int)k) != (int)(3 * (k / 4)))
			return -1;
		i += k;
	}
	if (EVP_DecodeBlock(last, u + body, 4) != 3)
		return -1;
	memcpy(out + 3 * (body / 4), last, 3 - pad);
	crypto_wipe(last, sizeof(last));
	return (long)total;
}

void
crypto_hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes exactly slen hex digits (either case) into slen/2 bytes; 0 or -1
 * (odd length, a non-hex character, or more than outcap bytes). */
int
crypto_unhex(const char *s, size_t slen, unsigned char *out, size_t outcap)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	if (slen % 2 != 0 || slen / 2 > outcap)
		return -1;
	for (i = 0; i < slen; i += 2) {
		int hi = hex_value(u[i]), lo = hex_value(u[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

void
crypto_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}
