/* Unit tests of lib/device.c's pure parts: user codes (alphabet, uniform
 * draw, normalisation of what people type, display form) and the device
 * code's hash. */
#include <string.h>

#include "../../lib/shush.h"
#include "tap.h"

static int
in_alphabet(const char *s)
{
	for (; *s != '\0'; s++)
		if (strchr(DEVICE_USER_CODE_ALPHABET, *s) == NULL)
			return 0;
	return 1;
}

int
main(void)
{
	char c[DEVICE_USER_CODE_LEN + 1], shown[DEVICE_USER_CODE_LEN + 2], h[65];
	int counts[20] = {0}, i, j, all_ok = 1, min, max;

	ok(strlen(DEVICE_USER_CODE_ALPHABET) == 20, "the alphabet has 20 letters");
	for (i = 0; i < 2000; i++) {
		if (device_user_code_new(c) < 0 || strlen(c) != DEVICE_USER_CODE_LEN ||
		    !in_alphabet(c))
			all_ok = 0;
		for (j = 0; j < DEVICE_USER_CODE_LEN; j++)
			counts[strchr(DEVICE_USER_CODE_ALPHABET, c[j]) - DEVICE_USER_CODE_ALPHABET]++;
	}
	ok(all_ok, "2000 codes: 8 letters of the alphabet each");
	min = max = counts[0];
	for (i = 1; i < 20; i++) {
		min = counts[i] < min ? counts[i] : min;
		max = counts[i] > max ? counts[i] : max;
	}
	/* 16000 letters, 800 expected each; a biased draw (byte % 20 without
	 * rejection) is within this too, but a broken one is not. */
	ok(min > 600 && max < 1000, "every letter drawn about as often (min %d, max %d)", min, max);

	ok(device_user_code_normalize("BCDF-GHJK", c) == 0, "BCDF-GHJK");
	is_str(c, "BCDFGHJK", "... stored without the dash");
	ok(device_user_code_normalize("bcdfghjk", c) == 0, "lower case, no dash");
	is_str(c, "BCDFGHJK", "... upper-cased");
	ok(device_user_code_normalize("zzzz-zzzz", c) == 0 && strcmp(c, "ZZZZZZZZ") == 0,
	   "zzzz-zzzz");
	ok(device_user_code_normalize("", c) < 0, "empty: refused");
	ok(device_user_code_normalize("BCDF-GHJ", c) < 0, "7 letters: refused");
	ok(device_user_code_normalize("BCDFGHJKL", c) < 0, "9 letters: refused");
	ok(device_user_code_normalize("BCDF-GHJKBCDF", c) < 0, "long: refused");
	ok(device_user_code_normalize("ABCD-EFGH", c) < 0, "vowels: refused");
	ok(device_user_code_normalize("BCD1-GHJK", c) < 0, "digits: refused");
	ok(device_user_code_normalize("BC-DFGHJK", c) < 0, "a dash elsewhere: refused");
	ok(device_user_code_normalize("BCDF--GHJK", c) < 0, "two dashes: refused");
	ok(device_user_code_normalize(" BCDF-GHJK", c) < 0, "spaces: refused");

	device_user_code_format("BCDFGHJK", shown);
	is_str(shown, "BCDF-GHJK", "display form BCDF-GHJK");

	device_code_hash("abc", h);
	is_str(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	       "device code hash: hex SHA-256");
	return done_testing();
}
