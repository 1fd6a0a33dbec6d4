/* libFuzzer: PostgreSQL timestamp parsing; a parsed time must format and
 * parse back to itself. */
#include <stdlib.h>
#include <string.h>

#include "../../lib/shush.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char s[128], iso[32];
	int64_t ms, back;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (time_parse_pg(s, &ms) == 0 && ms >= 0 && ms < 253402300800000LL) {
		time_iso8601(ms, iso);
		/* PostgreSQL's own spelling of the same instant. */
		iso[10] = ' ';
		memcpy(iso + 23, "+00", 4);
		if (time_parse_pg(iso, &back) != 0 || back != ms)
			abort();
	}
	return 0;
}
