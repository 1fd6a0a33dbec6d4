/* Unit tests of lib/projects.c's environment graph: the inheritance order
 * (environments_resolve) and cycle detection (environments_find_cycle), and
 * the environment slug rule. */
#include <string.h>

#include "../../lib/shush.h"
#include "tap.h"

#define N_MAX 64

static struct environment envs[N_MAX];
static const char *parents[N_MAX][N_MAX];
static int n;

/* spec: "dev:staging,prod qa:dev prod:" — slug:parents separated by spaces. */
static void
graph(const char *spec)
{
	static char buf[4096];
	char *p = buf, *tok;

	memset(envs, 0, sizeof(envs));
	n = 0;
	snprintf(buf, sizeof(buf), "%s", spec);
	while ((tok = p) != NULL && *tok != '\0') {
		char *sp = strchr(tok, ' '), *colon, *q;

		if (sp != NULL) {
			*sp = '\0';
			p = sp + 1;
		} else {
			p = NULL;
		}
		colon = strchr(tok, ':');
		*colon = '\0';
		envs[n].slug = tok;
		envs[n].parents = parents[n];
		q = colon + 1;
		while (*q != '\0') {
			char *comma = strchr(q, ',');

			if (comma != NULL)
				*comma = '\0';
			parents[n][envs[n].nparents++] = q;
			if (comma == NULL)
				break;
			q = comma + 1;
		}
		n++;
	}
}

/* The resolution order from slug, as "a b c". */
static const char *
order_of(const char *slug)
{
	static char out[1024];
	int order[N_MAX], k, i, start = -1;
	size_t len = 0;

	for (i = 0; i < n; i++)
		if (strcmp(envs[i].slug, slug) == 0)
			start = i;
	k = environments_resolve(envs, n, start, order);
	out[0] = '\0';
	for (i = 0; i < k; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", i ? " " : "",
					envs[order[i]].slug);
	return out;
}

int
main(void)
{
	int c;

	graph("dev:staging,prod staging:prod prod:");
	is_str(order_of("dev"), "dev staging prod", "dev: itself, staging, then prod once");
	is_str(order_of("staging"), "staging prod", "staging: itself, prod");
	is_str(order_of("prod"), "prod", "no parents: itself");
	is_int(environments_find_cycle(envs, n), -1, "no cycle");
	is_str(order_of("nope"), "", "unknown start: nothing");

	graph("a:b,c b:d c:e d: e:");
	is_str(order_of("a"), "a b d c e", "depth first, parents in order");

	graph("a:c,b b:c c:");
	is_str(order_of("a"), "a c b", "a parent met again is skipped");

	graph("a:b,missing b:");
	is_str(order_of("a"), "a b", "a parent that does not exist is skipped");
	is_int(environments_find_cycle(envs, n), -1, "and is no cycle");

	graph("a:a");
	ok(environments_find_cycle(envs, n) == 0, "self parent: a cycle");
	graph("a:b b:a");
	ok(environments_find_cycle(envs, n) >= 0, "a -> b -> a: a cycle");
	is_str(order_of("a"), "a b", "resolution over a cycle still terminates");
	graph("x: a:b b:c c:a");
	c = environments_find_cycle(envs, n);
	ok(c >= 1 && c <= 3, "three-cycle found, on an environment of the cycle (%d)", c);
	graph("d1:d2,d3 d2:d4 d3:d4 d4:");
	is_int(environments_find_cycle(envs, n), -1, "a diamond is no cycle");
	is_str(order_of("d1"), "d1 d2 d4 d3", "diamond order");

	{
		static char spec[4096];
		size_t len = 0;
		int i;

		for (i = 0; i < 60; i++)
			len += (size_t)snprintf(spec + len, sizeof(spec) - len, "%se%d:%s%d",
						i ? " " : "", i, i < 59 ? "e" : "", i < 59 ? i + 1 : -1);
		/* e59's parent "-1" does not exist */
		graph(spec);
		is_int(environments_find_cycle(envs, n), -1, "a chain of 60: no cycle");
		ok(strncmp(order_of("e0"), "e0 e1 e2", 8) == 0, "chain order starts e0 e1 e2");
		parents[59][0] = "e0";
		ok(environments_find_cycle(envs, n) >= 0, "closing the chain of 60: a cycle");
	}

	ok(environments_slug_valid("a"), "one letter is a slug");
	ok(environments_slug_valid("preview-1"), "preview-1");
	ok(!environments_slug_valid(""), "empty is not");
	ok(!environments_slug_valid("-a"), "leading dash is not");
	ok(!environments_slug_valid("a-"), "trailing dash is not");
	ok(!environments_slug_valid("Prod"), "upper case is not");
	ok(!environments_slug_valid("a,b"), "a comma is not");
	ok(environments_slug_valid("abcdefghijklmnopqrstuvwxyz0123456789abcdefghijkl"), "48 characters");
	ok(!environments_slug_valid("abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklm"),
	   "49 characters are not");
	return done_testing();
}
