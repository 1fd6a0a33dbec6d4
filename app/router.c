/*
 * Matches method and path against the route table. Routing comes before
 * authentication: an unknown path is 404, another method 405 with Allow.
 * Where two patterns match (…/secrets/export and …/secrets/:id), the one
 * with fewer parameters wins: a literal segment beats a parameter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

#define PARAM_MAX_LEN 512

/* Matches one pattern; fills params on success and returns their count,
 * or -1 when the path does not match. */
static int
match_pattern(const char *pattern, const char *path, struct param *params, struct arena *a)
{
	const char *p = pattern, *s = path;
	int n = 0;

	while (*p != '\0' && *s != '\0') {
		size_t plen, slen;

		if (*p != '/' || *s != '/')
			return -1;
		p++;
		s++;
		plen = strcspn(p, "/");
		slen = strcspn(s, "/");
		if (*p == ':') {
			if (slen == 0 || slen > PARAM_MAX_LEN || n >= ROUTE_PARAMS_MAX)
				return -1;
			if (params != NULL) {
				params[n].name = arena_strndup(a, p + 1, plen - 1);
				params[n].value = arena_strndup(a, s, slen);
			}
			n++;
		} else if (plen != slen || memcmp(p, s, plen) != 0) {
			return -1;
		}
		p += plen;
		s += slen;
	}
	return *p == '\0' && *s == '\0' ? n : -1;
}

/* Each pattern's literal head (up to its first parameter): a path that
 * does not start with it cannot match, whatever follows. Computed once. */
static size_t *literal_len;

static int
may_match(size_t i, const char *path, size_t path_len)
{
	size_t n = literal_len != NULL ? literal_len[i] : 0;

	return n <= path_len && memcmp(routes[i].path, path, n) == 0;
}

enum route_match
router_match(struct request *rq, char *allow, size_t allowlen)
{
	size_t i, path_len = strlen(rq->path);
	int best = -1, best_params = ROUTE_PARAMS_MAX + 1;
	const char *best_pattern = NULL;
	size_t used;

	if (literal_len == NULL && (literal_len = calloc(routes_count, sizeof(*literal_len))) != NULL)
		for (i = 0; i < routes_count; i++)
			literal_len[i] = strcspn(routes[i].path, ":");
	/* The best pattern for this path, whatever the method. */
	for (i = 0; i < routes_count; i++) {
		int n;

		if (!may_match(i, rq->path, path_len))
			continue;
		n = match_pattern(routes[i].path, rq->path, NULL, NULL);
		if (n >= 0 && n < best_params) {
			best_params = n;
			best_pattern = routes[i].path;
		}
	}
	if (best_pattern == NULL)
		return ROUTE_NOT_FOUND;
	for (i = 0; i < routes_count && best < 0; i++)
		if (routes[i].path == best_pattern || strcmp(routes[i].path, best_pattern) == 0)
			if (strcmp(routes[i].method, rq->method) == 0)
				best = (int)i;
	if (best < 0) {
		/* 405: every method of the pattern, in table order. */
		allow[0] = '\0';
		for (i = 0; i < routes_count; i++) {
			if (strcmp(routes[i].path, best_pattern) != 0)
				continue;
			used = strlen(allow);
			snprintf(allow + used, allowlen - used, "%s%s", used > 0 ? ", " : "",
				 routes[i].method);
		}
		return ROUTE_BAD_METHOD;
	}
	rq->route = &routes[best];
	rq->nparams = match_pattern(best_pattern, rq->path, rq->params, rq->arena);
	return ROUTE_FOUND;
}
