/*
 * shush secrets list|get|set|delete, with a personal token, through the
 * /v1 secrets routes (API.md §4); and the helpers the other commands
 * share: the project for --project, an environment's resolved secrets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

const char *
cli_project_id(const struct cli_cred *c, const char *project, int *rc)
{
	struct cli_res r;
	const char *cursor = NULL;

	/* An id first: one request. */
	if ((*rc = cli_http(c, "GET", arena_printf(cli_arena, "/v1/projects/%s",
						    cli_escape(project)),
			    NULL, NULL, 0, &r)) != CLI_OK)
		return NULL;
	if (r.status == 200) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(r.json, "id");

		if (cJSON_IsString(id))
			return id->valuestring;
	}
	if (r.status != 404 && r.status != 200) {
		*rc = cli_http_fail(c, &r);
		return NULL;
	}
	/* Else a slug (or the name) among the org's projects. */
	for (;;) {
		const cJSON *items, *it, *next;
		const char *path = cursor == NULL
					   ? "/v1/projects?limit=200"
					   : arena_printf(cli_arena, "/v1/projects?limit=200&cursor=%s",
							  cli_escape(cursor));

		if ((*rc = cli_http(c, "GET", path, NULL, NULL, 0, &r)) != CLI_OK)
			return NULL;
		if (r.status != 200) {
			*rc = cli_http_fail(c, &r);
			return NULL;
		}
		items = cJSON_GetObjectItemCaseSensitive(r.json, "items");
		cJSON_ArrayForEach(it, items)
		{
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
			const cJSON *slug = cJSON_GetObjectItemCaseSensitive(it, "slug");
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");

			if (!cJSON_IsString(id))
				continue;
			if ((cJSON_IsString(slug) && strcmp(slug->valuestring, project) == 0) ||
			    (cJSON_IsString(name) && strcmp(name->valuestring, project) == 0))
				return id->valuestring;
		}
		next = cJSON_GetObjectItemCaseSensitive(r.json, "nextCursor");
		if (!cJSON_IsString(next) || next->valuestring[0] == '\0')
			break;
		cursor = next->valuestring;
	}
	cli_warn("no project '%s' in the current org (NOT_FOUND)", project);
	*rc = CLI_API;
	return NULL;
}

cJSON *
cli_fetch_env(const struct cli_cred *c, const char *project, const char *env, int *rc)
{
	struct cli_res r;
	cJSON *obj;

	if (project == NULL) {
		if ((*rc = cli_http(c, "GET", "/runtime/v1/secrets", NULL, NULL, 0, &r)) !=
		    CLI_OK)
			return NULL;
		if (r.status != 200) {
			*rc = cli_http_fail(c, &r);
			if (r.status == 401 && c->token_from_env)
				cli_warn("(with a personal token, give --project and --env)");
			return NULL;
		}
		obj = cJSON_GetObjectItemCaseSensitive(r.json, "secrets");
	} else {
		const char *pid = cli_project_id(c, project, rc);

		if (pid == NULL)
			return NULL;
		if ((*rc = cli_http(c, "GET",
				    arena_printf(cli_arena,
						 "/v1/projects/%s/secrets/export?environment=%s"
						 "&format=json",
						 cli_escape(pid), cli_escape(env)),
				    NULL, NULL, 0, &r)) != CLI_OK)
			return NULL;
		if (r.status != 200) {
			*rc = cli_http_fail(c, &r);
			return NULL;
		}
		obj = r.json;
	}
	if (!cJSON_IsObject(obj)) {
		cli_warn("the server's answer is not a set of secrets");
		*rc = CLI_API;
		return NULL;
	}
	*rc = CLI_OK;
	return obj;
}

/* The secret with this key (list item, values without plaintext), or NULL
 * with *rc CLI_OK when there is none, or NULL with *rc an exit code. */
static const cJSON *
find_secret(const struct cli_cred *c, const char *pid, const char *key, int *rc)
{
	struct cli_res r;
	const char *cursor = NULL;

	for (;;) {
		const cJSON *it, *next;
		const char *path = arena_printf(cli_arena, "/v1/projects/%s/secrets?limit=200%s%s",
						cli_escape(pid), cursor ? "&cursor=" : "",
						cursor ? cli_escape(cursor) : "");

		if ((*rc = cli_http(c, "GET", path, NULL, NULL, 0, &r)) != CLI_OK)
			return NULL;
		if (r.status != 200) {
			*rc = cli_http_fail(c, &r);
			return NULL;
		}
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r.json, "items"))
		{
			const cJSON *k = cJSON_GetObjectItemCaseSensitive(it, "key");

			if (cJSON_IsString(k) && strcmp(k->valuestring, key) == 0)
				return it;
		}
		next = cJSON_GetObjectItemCaseSensitive(r.json, "nextCursor");
		if (!cJSON_IsString(next) || next->valuestring[0] == '\0')
			break;
		cursor = next->valuestring;
	}
	*rc = CLI_OK;
	return NULL;
}

static const char *
secret_id(const cJSON *s)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(s, "id");

	return cJSON_IsString(id) ? id->valuestring : "";
}

static int
list(const struct cli_cred *c, const char *pid, const char *env)
{
	struct cli_res r;
	const char *cursor = NULL;
	int rc;

	for (;;) {
		const cJSON *it, *next;
		const char *path = arena_printf(
			cli_arena, "/v1/projects/%s/secrets?limit=200%s%s%s%s", cli_escape(pid),
			env ? "&environment=" : "", env ? cli_escape(env) : "",
			cursor ? "&cursor=" : "", cursor ? cli_escape(cursor) : "");

		if ((rc = cli_http(c, "GET", path, NULL, NULL, 0, &r)) != CLI_OK)
			return rc;
		if (r.status != 200)
			return cli_http_fail(c, &r);
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r.json, "items"))
		{
			const cJSON *k = cJSON_GetObjectItemCaseSensitive(it, "key");
			const cJSON *vals = cJSON_GetObjectItemCaseSensitive(it, "values");
			const cJSON *v;

			if (!cJSON_IsString(k))
				continue;
			fputs(k->valuestring, stdout);
			if (env != NULL) {
				const cJSON *ev = cJSON_GetObjectItemCaseSensitive(vals, env);
				const cJSON *ver = cJSON_GetObjectItemCaseSensitive(ev, "version");
				const cJSON *at = cJSON_GetObjectItemCaseSensitive(ev, "updatedAt");

				if (cJSON_IsNumber(ver))
					printf("\tv%d\t%s", ver->valueint,
					       cJSON_IsString(at) ? at->valuestring : "");
				else
					fputs("\t-", stdout);
			} else {
				const char *sep = "\t";

				cJSON_ArrayForEach(v, vals)
				{
					printf("%s%s", sep, v->string);
					sep = ",";
				}
			}
			fputc('\n', stdout);
		}
		next = cJSON_GetObjectItemCaseSensitive(r.json, "nextCursor");
		if (!cJSON_IsString(next) || next->valuestring[0] == '\0')
			break;
		cursor = next->valuestring;
	}
	return CLI_OK;
}

static int
get(const struct cli_cred *c, const char *pid, const char *env, const char *key)
{
	struct cli_res r;
	const cJSON *s, *val;
	int rc;

	if ((s = find_secret(c, pid, key, &rc)) == NULL) {
		if (rc == CLI_OK) {
			cli_warn("no secret %s in this project (NOT_FOUND)", key);
			rc = CLI_API;
		}
		return rc;
	}
	if ((rc = cli_http(c, "GET",
			   arena_printf(cli_arena, "/v1/projects/%s/secrets/%s", cli_escape(pid),
					cli_escape(secret_id(s))),
			   NULL, NULL, 0, &r)) != CLI_OK)
		return rc;
	if (r.status != 200)
		return cli_http_fail(c, &r);
	val = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r.json, "values"),
						 env),
		"value");
	if (!cJSON_IsString(val)) {
		cli_warn("%s has no value in %s (NOT_FOUND)", key, env);
		return CLI_API;
	}
	fputs(val->valuestring, stdout);
	fputc('\n', stdout);
	return CLI_OK;
}

/* Standard input, verbatim, at most 64 KiB (+1 to notice more). */
static const char *
read_stdin(int *rc)
{
	struct buf b;
	char chunk[4096];
	size_t n;

	buf_init(&b, cli_arena);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		buf_append(&b, chunk, n);
		if (b.len > DOTENV_MAX_VALUE) {
			cli_warn("the value is longer than %d bytes", DOTENV_MAX_VALUE);
			*rc = CLI_USAGE;
			return NULL;
		}
	}
	if (ferror(stdin)) {
		cli_warn("cannot read standard input");
		*rc = CLI_USAGE;
		return NULL;
	}
	if (strlen(b.data) != b.len) {
		cli_warn("a value cannot contain a NUL byte");
		*rc = CLI_USAGE;
		return NULL;
	}
	return b.data;
}

static int
set(const struct cli_cred *c, const char *pid, const char *env, const char *key,
    const char *value)
{
	struct cli_res r;
	const cJSON *s, *ver;
	cJSON *body, *vals;
	int rc, created;

	if ((s = find_secret(c, pid, key, &rc)) == NULL && rc != CLI_OK)
		return rc;
	body = cJSON_CreateObject();
	arena_defer(cli_arena, (void (*)(void *))cJSON_Delete, body);
	vals = cJSON_AddObjectToObject(body, "values");
	if (cJSON_AddStringToObject(vals, env, value) == NULL) {
		cli_warn("out of memory");
		return CLI_USAGE;
	}
	created = s == NULL;
	if (created) {
		cJSON_AddStringToObject(body, "key", key);
		rc = cli_http_json(c, "POST",
				   arena_printf(cli_arena, "/v1/projects/%s/secrets",
						cli_escape(pid)),
				   body, &r);
	} else {
		rc = cli_http_json(c, "PATCH",
				   arena_printf(cli_arena, "/v1/projects/%s/secrets/%s",
						cli_escape(pid), cli_escape(secret_id(s))),
				   body, &r);
	}
	if (rc != CLI_OK)
		return rc;
	if (r.status != 200 && r.status != 201)
		return cli_http_fail(c, &r);
	ver = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r.json, "values"),
						 env),
		"version");
	if (cJSON_IsNumber(ver))
		printf("%s %s in %s (version %d)\n", created ? "created" : "updated", key, env,
		       ver->valueint);
	else
		printf("%s %s in %s\n", created ? "created" : "updated", key, env);
	return CLI_OK;
}

static int
del(const struct cli_cred *c, const char *pid, const char *env, int all, const char *key)
{
	struct cli_res r;
	const cJSON *s;
	int rc;

	if ((s = find_secret(c, pid, key, &rc)) == NULL) {
		if (rc == CLI_OK) {
			cli_warn("no secret %s in this project (NOT_FOUND)", key);
			rc = CLI_API;
		}
		return rc;
	}
	if (all) {
		rc = cli_http(c, "DELETE",
			      arena_printf(cli_arena, "/v1/projects/%s/secrets/%s",
					   cli_escape(pid), cli_escape(secret_id(s))),
			      NULL, NULL, 0, &r);
		if (rc != CLI_OK)
			return rc;
		if (r.status != 204 && r.status != 200)
			return cli_http_fail(c, &r);
		printf("deleted %s (every environment)\n", key);
	} else {
		cJSON *body = cJSON_CreateObject();

		arena_defer(cli_arena, (void (*)(void *))cJSON_Delete, body);
		cJSON_AddNullToObject(cJSON_AddObjectToObject(body, "values"), env);
		rc = cli_http_json(c, "PATCH",
				   arena_printf(cli_arena, "/v1/projects/%s/secrets/%s",
						cli_escape(pid), cli_escape(secret_id(s))),
				   body, &r);
		if (rc != CLI_OK)
			return rc;
		if (r.status != 200)
			return cli_http_fail(c, &r);
		printf("deleted %s in %s\n", key, env);
	}
	return CLI_OK;
}

int
cmd_secrets(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_cred c;
	const char *sub, *pid, *key = NULL, *value = NULL;
	int i, rc, nargs;

	if ((i = cli_parse(argc, argv, "pea", &o)) < 0)
		return o.help ? CLI_OK : CLI_USAGE;
	if (i >= argc) {
		cli_warn("secrets: which one: list, get, set or delete?");
		cli_usage("secrets", 1);
		return CLI_USAGE;
	}
	sub = argv[i];
	/* Options may follow the subcommand too: shush secrets get K --env E. */
	{
		struct cli_opts o2;
		int j = cli_parse_any(argc - i, argv + i, "pea", &o2);

		if (j < 0)
			return o2.help ? CLI_OK : CLI_USAGE;
		if (o2.project)
			o.project = o2.project;
		if (o2.env)
			o.env = o2.env;
		o.all |= o2.all;
		argv += i;
		argc -= i;
		i = j;
	}
	/* GNU getopt permutes: the operands now sit at argv[i..]. */
	nargs = argc - i;
	if (strcmp(sub, "list") == 0) {
		if (nargs != 0)
			goto usage;
	} else if (strcmp(sub, "get") == 0 || strcmp(sub, "delete") == 0) {
		if (nargs != 1)
			goto usage;
		key = argv[i];
	} else if (strcmp(sub, "set") == 0) {
		if (nargs != 1 && nargs != 2)
			goto usage;
		key = argv[i];
		value = nargs == 2 ? argv[i + 1] : "-";
	} else {
		cli_warn("secrets: unknown subcommand '%s'", sub);
		goto usage;
	}
	if (o.project == NULL) {
		cli_warn("secrets %s: --project is required", sub);
		goto usage;
	}
	if (strcmp(sub, "delete") == 0) {
		if ((o.env == NULL) == (o.all == 0)) {
			cli_warn("secrets delete: give --env E or --all (not both)");
			goto usage;
		}
	} else if (o.env == NULL && strcmp(sub, "list") != 0) {
		cli_warn("secrets %s: --env is required", sub);
		goto usage;
	}
	if (key != NULL && !dotenv_key_valid(key)) {
		cli_warn("'%s' is not a valid key (letters, digits and _, not starting with a "
			 "digit)",
			 key);
		return CLI_USAGE;
	}
	if (value != NULL && strcmp(value, "-") == 0 && (value = read_stdin(&rc)) == NULL)
		return rc;
	if ((rc = cli_cred_resolve(&c, NULL, 1)) != CLI_OK)
		return rc;
	if ((pid = cli_project_id(&c, o.project, &rc)) == NULL)
		return rc;
	if (strcmp(sub, "list") == 0)
		return list(&c, pid, o.env);
	if (strcmp(sub, "get") == 0)
		return get(&c, pid, o.env, key);
	if (strcmp(sub, "set") == 0)
		return set(&c, pid, o.env, key, value);
	return del(&c, pid, o.env, o.all, key);
usage:
	cli_usage("secrets", 1);
	return CLI_USAGE;
}
