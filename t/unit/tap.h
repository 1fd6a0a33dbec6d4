/*
 * A tiny TAP producer for the unit tests, header-only: every test file is
 * its own binary and includes this once.
 *
 *   plan(3);                        or nothing, and done_testing() prints it
 *   ok(x == 1, "x is %d", 1);
 *   is_str(got, "want", "name");    NULL-safe
 *   is_int(got, 42, "name");
 *   diag("context %s", s);          a "# " comment line on stdout
 *   return done_testing();          0 when everything passed as planned
 */
#ifndef SHUSH_TAP_H
#define SHUSH_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#if defined(__GNUC__)
#define TAP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TAP_PRINTF(a, b)
#endif

static int tap_planned = -1;
static int tap_run;
static int tap_failed;

static inline void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void diag(const char *fmt, ...) TAP_PRINTF(1, 2);

static inline void
diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static inline int tap_vok(int cond, const char *fmt, va_list ap) TAP_PRINTF(2, 0);

static inline int
tap_vok(int cond, const char *fmt, va_list ap)
{
	tap_run++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	return cond;
}

static inline int ok(int cond, const char *fmt, ...) TAP_PRINTF(2, 3);

static inline int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cond = tap_vok(cond != 0, fmt, ap);
	va_end(ap);
	return cond;
}

static inline int
is_str(const char *got, const char *want, const char *name)
{
	int same = (got == NULL || want == NULL) ? got == want : strcmp(got, want) == 0;

	ok(same, "%s", name != NULL ? name : "");
	if (!same) {
		diag("       got: %s%s%s", got ? "'" : "", got ? got : "NULL", got ? "'" : "");
		diag("  expected: %s%s%s", want ? "'" : "", want ? want : "NULL", want ? "'" : "");
	}
	return same;
}

static inline int
is_int(long long got, long long want, const char *name)
{
	int same = got == want;

	ok(same, "%s", name != NULL ? name : "");
	if (!same) {
		diag("       got: %lld", got);
		diag("  expected: %lld", want);
	}
	return same;
}

/* Prints the plan when none was given; returns the exit status. */
static inline int
done_testing(void)
{
	if (tap_planned < 0) {
		printf("1..%d\n", tap_run);
	} else if (tap_planned != tap_run) {
		diag("planned %d tests but ran %d", tap_planned, tap_run);
		fflush(stdout);
		return 1;
	}
	if (tap_failed > 0)
		diag("failed %d of %d tests", tap_failed, tap_run);
	fflush(stdout);
	return tap_failed > 0 ? 1 : 0;
}

#endif
