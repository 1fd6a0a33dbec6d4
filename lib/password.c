/*
 * Password hashing in better-auth's format, so that hashes written by shush
 * and by a better-auth server sharing the database are interchangeable:
 *
 *   "<salt>:<key>"  salt = 16 random bytes as 32 lowercase hex characters,
 *                   key  = scrypt(NFKC(password), salt, N=16384, r=16, p=1,
 *                          dkLen=64) as 128 lowercase hex characters,
 *
 * where the salt's hex *string* (not its bytes) is scrypt's salt input, as
 * in @better-auth/utils' password.node.ts.
 */
#include <stdlib.h>
#include <string.h>

#include <uninorm.h>
#include <unistr.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "shush.h"

#define SCRYPT_N 16384
#define SCRYPT_R 16
#define SCRYPT_P 1
#define KEY_LEN 64
#define SALT_BYTES 16
#define SALT_HEX (2 * SALT_BYTES)
#define KEY_HEX (2 * KEY_LEN)
/* scrypt needs 128*N*r bytes (32 MiB) plus a little; node passes 64 MiB. */
#define SCRYPT_MAXMEM ((uint64_t)64 * 1024 * 1024 + 1024 * 1024)

/* Fixed salt for password_dummy_verify ("Shush dummy salt" in hex): any
 * well-formed salt will do. */
static const char dummy_salt[SALT_HEX + 1] = "53687573682064756d6d792073616c74";

/* scrypt over the NFKC form of password, salt being salt_hex's characters.
 * -1 when the password is not valid UTF-8 (or OpenSSL fails). */
static int
derive(const char *password, const char *salt_hex, unsigned char key[KEY_LEN])
{
	const uint8_t *in = (const uint8_t *)password;
	size_t inlen = strlen(password);
	uint8_t *norm = NULL;
	size_t normlen = 0;
	int rc = -1;

	if (u8_check(in, inlen) != NULL)
		goto fail;
	norm = u8_normalize(UNINORM_NFKC, in, inlen, NULL, &normlen);
	if (norm == NULL)
		goto fail;
	/* OpenSSL rejects a NULL password even when empty. */
	if (EVP_PBE_scrypt(normlen > 0 ? (const char *)norm : "", normlen,
			   (const unsigned char *)salt_hex, SALT_HEX, SCRYPT_N, SCRYPT_R, SCRYPT_P,
			   SCRYPT_MAXMEM, key, KEY_LEN) != 1)
		goto fail;
	rc = 0;
fail:
	if (norm != NULL) {
		crypto_wipe(norm, normlen);
		free(norm);
	}
	if (rc < 0)
		crypto_wipe(key, KEY_LEN);
	return rc;
}

/* One scrypt's worth of time with nothing to show for it. */
static void
burn(const char *password)
{
	unsigned char key[KEY_LEN];

	if (password == NULL || derive(password, dummy_salt, key) < 0)
		(void)derive("", dummy_salt, key);
	crypto_wipe(key, sizeof(key));
}

int
password_hash(const char *password, char out[PASSWORD_HASH_LEN + 1])
{
	unsigned char salt[SALT_BYTES];
	unsigned char key[KEY_LEN];
	char salt_hex[SALT_HEX + 1];

	out[0] = '\0';
	if (password == NULL || crypto_random(salt, sizeof(salt)) < 0)
		return -1;
	crypto_hex(salt, sizeof(salt), salt_hex);
	crypto_wipe(salt, sizeof(salt));
	if (derive(password, salt_hex, key) < 0)
		return -1;
	memcpy(out, salt_hex, SALT_HEX);
	out[SALT_HEX] = ':';
	crypto_hex(key, sizeof(key), out + SALT_HEX + 1);
	crypto_wipe(key, sizeof(key));
	return 0;
}

static int
all_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strchr("0123456789abcdefABCDEF", s[i]) == NULL || s[i] == '\0')
			return 0;
	return 1;
}

int
password_verify(const char *password, const char *stored)
{
	unsigned char key[KEY_LEN];
	char key_hex[KEY_HEX + 1];
	char salt_hex[SALT_HEX + 1];
	int match;

	if (stored == NULL || strlen(stored) != PASSWORD_HASH_LEN || stored[SALT_HEX] != ':' ||
	    !all_hex(stored, SALT_HEX) || !all_hex(stored + SALT_HEX + 1, KEY_HEX))
		return -1;
	memcpy(salt_hex, stored, SALT_HEX);
	salt_hex[SALT_HEX] = '\0';
	if (password == NULL || derive(password, salt_hex, key) < 0) {
		/* Not valid UTF-8: matches nothing, but takes the same time. */
		burn(NULL);
		return 0;
	}
	/* better-auth compares the lowercase hex strings; so do we. */
	crypto_hex(key, sizeof(key), key_hex);
	match = crypto_eq(key_hex, stored + SALT_HEX + 1, KEY_HEX);
	crypto_wipe(key, sizeof(key));
	crypto_wipe(key_hex, sizeof(key_hex));
	return match;
}

void
password_dummy_verify(const char *password)
{
	burn(password);
}
