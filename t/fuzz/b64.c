/* libFuzzer: base64 and hex decoding of untrusted input (keys in the
 * configuration, cookie signatures) must never overrun and must round-trip. */
#include <stdlib.h>
#include <string.h>

#include "../../lib/shush.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	unsigned char *out = malloc(size + 4);
	char *enc;
	long n;

	if (out == NULL)
		return 0;
	n = crypto_b64_decode((const char *)data, size, out, size + 4);
	if (n >= 0) {
		enc = malloc(4 * (((size_t)n + 2) / 3) + 1);
		if (enc != NULL) {
			size_t m = crypto_b64_encode(out, (size_t)n, enc);

			/* Strict decoding: only canonical text decodes, so it re-encodes to itself. */
			if (m != size || memcmp(enc, data, size) != 0)
				abort();
			free(enc);
		}
	}
	(void)crypto_unhex((const char *)data, size, out, size + 4);
	free(out);
	return 0;
}
