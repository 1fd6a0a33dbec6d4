/*
 * Time: the wall clock in milliseconds, ISO 8601 as JavaScript's
 * Date.toISOString() writes it, and PostgreSQL's timestamptz text output
 * (DateStyle ISO, any session time zone) back to milliseconds.
 */
#include <stdio.h>
#include <string.h>

#include "shush.h"

static int64_t iso_secs = INT64_MIN;
static char iso_head[32]; /* YYYY-MM-DDTHH:MM:SS of iso_secs */

void
time_iso8601(int64_t unix_ms, char out[32])
{
	/* Floor division, so that times before 1970 keep a positive ms part. */
	int64_t secs = unix_ms / 1000, ms = unix_ms % 1000;
	time_t t;
	struct tm tm;

	if (ms < 0) {
		ms += 1000;
		secs -= 1;
	}
	/* The date and time of day change once a second: formatted then, and
	 * the milliseconds written by hand (every log line and audit record
	 * stamps one). */
	if (secs != iso_secs) {
		t = (time_t)secs;
		if (gmtime_r(&t, &tm) == NULL) {
			snprintf(out, 32, "1970-01-01T00:00:00.000Z");
			return;
		}
		/* Bounded fields keep the compiler's length analysis happy. */
		snprintf(iso_head, sizeof(iso_head), "%04d-%02d-%02dT%02d:%02d:%02d",
			 (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100, tm.tm_mday % 100,
			 tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100);
		iso_secs = secs;
	}
	memcpy(out, iso_head, 19);
	out[19] = '.';
	out[20] = (char)('0' + ms / 100);
	out[21] = (char)('0' + ms / 10 % 10);
	out[22] = (char)('0' + ms % 10);
	out[23] = 'Z';
	out[24] = '\0';
}

int64_t
time_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
time_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (int64_t)time(NULL) * 1000;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads exactly n digits at *p; -1 when any is missing. */
static long
digits(const char **p, int n)
{
	long v = 0;
	int i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)(*p)[i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	return v;
}

static int
is_leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(long y, long m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/*
 * "YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM[:SS]]", as PostgreSQL prints a
 * timestamptz with DateStyle ISO: 1 to 6 fractional digits (truncated to
 * milliseconds), the offset as hours with optional minutes and seconds.
 * Years of 4 to 6 digits; BC dates and infinities are rejected.
 */
int
time_parse_pg(const char *s, int64_t *unix_ms)
{
	const char *p = s;
	long year, mon, day, hour, min, sec, ms = 0, off = 0, oh, om = 0, os = 0;
	int ydigits = 0, fdigits, sign;
	struct tm tm;
	time_t t;

	if (s == NULL)
		return -1;
	while (ydigits < 7 && p[ydigits] >= '0' && p[ydigits] <= '9')
		ydigits++;
	if (ydigits < 4 || ydigits > 6)
		return -1;
	year = digits(&p, ydigits);
	if (*p++ != '-' || (mon = digits(&p, 2)) < 0 || *p++ != '-' || (day = digits(&p, 2)) < 0)
		return -1;
	if (*p != ' ' && *p != 'T')
		return -1;
	p++;
	if ((hour = digits(&p, 2)) < 0 || *p++ != ':' || (min = digits(&p, 2)) < 0 ||
	    *p++ != ':' || (sec = digits(&p, 2)) < 0)
		return -1;
	if (*p == '.') {
		p++;
		for (fdigits = 0; p[fdigits] >= '0' && p[fdigits] <= '9'; fdigits++)
			if (fdigits < 3)
				ms = ms * 10 + (p[fdigits] - '0');
		if (fdigits < 1 || fdigits > 6)
			return -1;
		for (; fdigits < 3; fdigits++)
			ms *= 10;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if ((oh = digits(&p, 2)) < 0)
		return -1;
	if (*p == ':') {
		p++;
		if ((om = digits(&p, 2)) < 0)
			return -1;
		if (*p == ':') {
			p++;
			if ((os = digits(&p, 2)) < 0)
				return -1;
		}
	}
	if (*p != '\0')
		return -1;
	if (year < 1 || mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) ||
	    hour > 23 || min > 59 || sec > 59 || oh > 15 || om > 59 || os > 59)
		return -1;
	off = sign * (oh * 3600 + om * 60 + os);

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)(year - 1900);
	tm.tm_mon = (int)(mon - 1);
	tm.tm_mday = (int)day;
	tm.tm_hour = (int)hour;
	tm.tm_min = (int)min;
	tm.tm_sec = (int)sec;
	t = timegm(&tm);
	if (t == (time_t)-1 && !(year == 1969 && mon == 12 && day == 31 && hour == 23 &&
				 min == 59 && sec == 59))
		return -1;
	*unix_ms = ((int64_t)t - off) * 1000 + ms;
	return 0;
}
