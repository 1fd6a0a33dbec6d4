/* Unit tests for lib/time.c. Expected values from JavaScript's Date. */
#include <string.h>

#include "../../lib/shush.h"
#include "tap.h"

static void
iso(int64_t ms, const char *want)
{
	char out[32];

	memset(out, 'x', sizeof(out));
	time_iso8601(ms, out);
	is_str(out, want, want);
}

static void
parses(const char *s, int64_t want)
{
	int64_t got = 12345;
	int rc = time_parse_pg(s, &got);

	ok(rc == 0 && got == want, "parse '%s' -> %lld (rc %d, got %lld)", s, (long long)want, rc,
	   (long long)got);
}

static void
rejects(const char *s)
{
	int64_t got = 12345;

	ok(time_parse_pg(s, &got) == -1 && got == 12345, "reject '%s'", s);
}

int
main(void)
{
	int64_t now, before;
	char buf[32];

	/* time_iso8601: Date.prototype.toISOString */
	iso(0, "1970-01-01T00:00:00.000Z");
	iso(1795867200000, "2026-11-28T12:00:00.000Z");
	iso(1795867200123, "2026-11-28T12:00:00.123Z");
	iso(1709251199999, "2024-02-29T23:59:59.999Z");
	iso(951782400000, "2000-02-29T00:00:00.000Z");
	iso(-1, "1969-12-31T23:59:59.999Z");
	iso(-1000, "1969-12-31T23:59:59.000Z");
	iso(-1001, "1969-12-31T23:59:58.999Z");
	iso(253402300799999, "9999-12-31T23:59:59.999Z");
	iso(-62135596800000, "0001-01-01T00:00:00.000Z");
	time_iso8601(1795867200000, buf);
	is_int((long long)strlen(buf), 24, "24 characters");

	/* time_now_ms */
	before = (int64_t)time(NULL) * 1000;
	now = time_now_ms();
	ok(now >= before && now < before + 2000, "time_now_ms agrees with time(2)");
	ok(now > 1767225600000, "and is after 2026-01-01");
	ok(time_now_ms() >= now, "and does not go backwards between two calls");

	/* time_parse_pg: what PostgreSQL prints for timestamptz with
	 * DateStyle ISO, in UTC and other session time zones. */
	parses("2026-11-28 12:00:00+00", 1795867200000);
	parses("2026-11-28 12:00:00.123456+00", 1795867200123);
	parses("2026-11-28 12:00:00.123+00", 1795867200123);
	parses("2026-11-28 12:00:00.1+00", 1795867200100);
	parses("2026-11-28 12:00:00.12+00", 1795867200120);
	parses("2026-11-28 12:00:00.999999+00", 1795867200999);
	parses("2026-11-28 12:00:00.000001+00", 1795867200000);
	parses("2026-11-28 12:00:00+00:00", 1795867200000);
	parses("2026-11-28T12:00:00+00", 1795867200000);
	parses("2026-11-28 12:00:00+05:30", 1795847400000);
	parses("2026-11-28 12:00:00-08", 1795896000000);
	parses("2026-11-28 12:00:00.5-08:00", 1795896000500);
	parses("2026-11-28 12:00:00+05:30:15", 1795847385000);
	parses("2024-02-29 23:59:59.999+00", 1709251199999);
	parses("2000-02-29 00:00:00+00", 951782400000);
	parses("1970-01-01 00:00:00+00", 0);
	parses("1969-12-31 23:59:59+00", -1000);
	parses("1969-12-31 23:59:59.5+00", -500);
	parses("1970-01-01 01:00:00+01", 0);
	parses("0001-01-01 00:00:00+00", -62135596800000);
	parses("9999-12-31 23:59:59.999+00", 253402300799999);
	parses("10000-01-01 00:00:00+00", 253402300800000);
	parses("2026-12-31 23:59:59+00", 1798761599000);

	rejects("");
	rejects("infinity");
	rejects("-infinity");
	rejects("2026-11-28");
	rejects("2026-11-28 12:00:00");
	rejects("2026-11-28 12:00:00Z");
	rejects("2026-11-28 12:00:00+0");
	rejects("2026-11-28 12:00:00+000");
	rejects("2026-11-28 12:00:00+00:0");
	rejects("2026-11-28 12:00:00+00:00:0");
	rejects("2026-11-28 12:00:00+16");
	rejects("2026-11-28 12:00:00+00:60");
	rejects("2026-11-28 12:00:00.+00");
	rejects("2026-11-28 12:00:00.1234567+00");
	rejects("2026-11-28 12:00:00+00 ");
	rejects(" 2026-11-28 12:00:00+00");
	rejects("2026-11-28 12:00:00+00 BC");
	rejects("2026-11-28  12:00:00+00");
	rejects("2026-11-28 12:00+00");
	rejects("2026-11-28 12:00:0+00");
	rejects("026-11-28 12:00:00+00");
	rejects("1234567-11-28 12:00:00+00");
	rejects("0000-01-01 00:00:00+00");
	rejects("2026-00-01 12:00:00+00");
	rejects("2026-13-01 12:00:00+00");
	rejects("2026-11-00 12:00:00+00");
	rejects("2026-11-31 12:00:00+00");
	rejects("2023-02-29 12:00:00+00");
	rejects("1900-02-29 12:00:00+00");
	rejects("2026-11-28 24:00:00+00");
	rejects("2026-11-28 12:60:00+00");
	rejects("2026-11-28 12:00:60+00");
	rejects("2026/11/28 12:00:00+00");
	rejects("2026-11-28 12-00-00+00");
	rejects("2026-1a-28 12:00:00+00");
	rejects("2026-11-28 12:00:00.12a+00");
	ok(time_parse_pg(NULL, &now) == -1, "reject NULL");

	return done_testing();
}
