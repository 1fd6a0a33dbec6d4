/* Unit tests of lib/idempotency.c without a database: which keys are
 * valid, and the body hash. */
#include <string.h>

#include "../../lib/shush.h"
#include "tap.h"

int
main(void)
{
	char key[IDEM_KEY_MAX + 2], hash[65];
	char c[2] = {0, 0};
	int i, printable_ok = 1;

	ok(!idem_key_valid(NULL), "NULL: invalid");
	ok(!idem_key_valid(""), "empty: invalid");
	ok(idem_key_valid("a"), "one character");
	ok(idem_key_valid("550e8400-e29b-41d4-a716-446655440000"), "a UUID");
	ok(idem_key_valid("with spaces ~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./"), "printable ASCII");
	memset(key, 'k', IDEM_KEY_MAX);
	key[IDEM_KEY_MAX] = '\0';
	ok(idem_key_valid(key), "255 characters");
	key[IDEM_KEY_MAX] = 'k';
	key[IDEM_KEY_MAX + 1] = '\0';
	ok(!idem_key_valid(key), "256 characters: invalid");
	for (i = 1; i < 256; i++) {
		c[0] = (char)i;
		if (idem_key_valid(c) != (i >= 0x20 && i <= 0x7e))
			printable_ok = 0;
	}
	ok(printable_ok, "exactly the bytes 0x20..0x7e are accepted");
	ok(!idem_key_valid("ab\tcd"), "a tab: invalid");
	ok(!idem_key_valid("caf\xc3\xa9"), "UTF-8: invalid");

	idem_body_hash("", 0, hash);
	is_str(hash, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "SHA-256 of the empty body");
	idem_body_hash(NULL, 0, hash);
	is_str(hash, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "no body hashes as the empty one");
	idem_body_hash("{\"name\":\"x\"}", 12, hash);
	is_str(hash, "0229d37e33daae149bf40543a5ce1db4459d10f830d5139279aa2bfd5f6485a1",
	       "SHA-256 of a JSON body");
	return done_testing();
}
