/* Unit tests of lib/orgs.c's slug rules (API.md §4, POST /v1/orgs). */
#include <string.h>

#include "../../lib/shush.h"
#include "tap.h"

static const char *
derive(const char *name)
{
	static char out[ORG_SLUG_MAX + 1];

	orgs_slug_from_name(name, out);
	return out;
}

int
main(void)
{
	static const char *const good[] = {"ab", "a1", "00", "acme", "acme-corp", "a--b",
					   "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijkl"};
	static const char *const bad[] = {"", "a", "A1", "Acme", "-ab", "ab-", "a_b", "a b",
					  "a.b", "ab\xc3\xa9", "-", "--",
					  "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklm"};
	char longname[300];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(orgs_slug_valid(good[i]), "'%s' is a slug", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!orgs_slug_valid(bad[i]), "'%s' is not a slug", bad[i]);

	is_str(derive("Acme Corp"), "acme-corp", "lowercased, space to dash");
	is_str(derive("  Hello,  World!! "), "hello-world", "runs to one dash, trimmed");
	is_str(derive("a_b.c"), "a-b-c", "punctuation");
	is_str(derive("Caf\xc3\xa9 du Monde"), "caf-du-monde", "non-ASCII is a separator");
	is_str(derive("\xe6\x97\xa5\xe6\x9c\xac"), "", "nothing usable: empty");
	is_str(derive("!!"), "", "only punctuation: empty");
	is_str(derive("Q"), "q", "one character");
	is_str(derive("R2-D2"), "r2-d2", "digits and dashes kept");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	is_int((long)strlen(derive(longname)), ORG_SLUG_MAX, "cut at 48");
	memset(longname, 'y', 47);
	memcpy(longname + 47, " zzz", 5);
	longname[47] = '\0';
	is_str(derive(longname), longname, "47 characters stay as they are");
	longname[47] = ' ';
	ok(strlen(derive(longname)) == 47 && derive(longname)[46] == 'y',
	   "no dash left at the cut");
	ok(orgs_slug_valid(derive("Acme Corp 2026")), "a derived slug of a normal name is valid");
	return done_testing();
}
