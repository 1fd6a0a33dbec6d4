/*
 * shush run, shush export, shush import (API.md §5, §6).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Runtime key (no --project) or personal token (--project and --env):
 * checks the pair of options against the token; CLI_OK or an exit code. */
static int
check_scope(const char *cmd, const struct cli_opts *o, const struct cli_cred *c)
{
	if ((o->project == NULL) != (o->env == NULL)) {
		cli_warn("%s: give both --project and --env, or neither", cmd);
		cli_usage(cmd, 1);
		return CLI_USAGE;
	}
	if (o->project == NULL && c->token_kind == CLI_TOKEN_USER) {
		cli_warn("%s: the stored token is a personal token: give --project and --env "
			 "(or set SHUSH_TOKEN to an environment key)",
			 cmd);
		return CLI_USAGE;
	}
	return CLI_OK;
}

int
cmd_run(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_cred c;
	const cJSON *secrets, *it;
	int i, rc;

	if ((i = cli_parse(argc, argv, "pe", &o)) < 0)
		return o.help ? CLI_OK : CLI_USAGE;
	if (i >= argc) {
		cli_warn("run: which command? shush run [--project P --env E] -- COMMAND [ARG...]");
		return CLI_USAGE;
	}
	if ((rc = cli_cred_resolve(&c, NULL, 1)) != CLI_OK)
		return rc;
	if ((rc = check_scope("run", &o, &c)) != CLI_OK)
		return rc;
	if ((secrets = cli_fetch_env(&c, o.project, o.env, &rc)) == NULL)
		return rc;
	cJSON_ArrayForEach(it, secrets)
	{
		if (!cJSON_IsString(it) || !dotenv_key_valid(it->string)) {
			cli_warn("run: the server sent an entry that is not KEY=value; not running");
			return CLI_API;
		}
		if (setenv(it->string, it->valuestring, 1) < 0) {
			cli_warn("run: cannot set %s: %s", it->string, strerror(errno));
			return CLI_USAGE;
		}
	}
	fflush(NULL);
	cli_http_cleanup();
	execvp(argv[i], argv + i);
	rc = errno;
	if (rc == ENOENT || rc == ENOTDIR) {
		fprintf(stderr, "shush: %s: command not found\n", argv[i]);
		_exit(127);
	}
	fprintf(stderr, "shush: %s: %s\n", argv[i], strerror(rc));
	_exit(126);
}

int
cmd_export(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_cred c;
	struct cli_res r;
	const char *format;
	int i, rc;

	if ((i = cli_parse(argc, argv, "pef", &o)) < 0)
		return o.help ? CLI_OK : CLI_USAGE;
	if (i != argc) {
		cli_warn("export: unexpected argument '%s'", argv[i]);
		return CLI_USAGE;
	}
	format = o.format != NULL ? o.format : "dotenv";
	if (strcmp(format, "dotenv") != 0 && strcmp(format, "shell") != 0 &&
	    strcmp(format, "json") != 0) {
		cli_warn("export: --format is dotenv, shell or json, not '%s'", format);
		return CLI_USAGE;
	}
	if ((rc = cli_cred_resolve(&c, NULL, 1)) != CLI_OK)
		return rc;
	if ((rc = check_scope("export", &o, &c)) != CLI_OK)
		return rc;
	if (o.project == NULL && strcmp(format, "json") == 0) {
		/* The runtime's JSON is {environment,secrets}: print the flat
		 * object, the same bytes as the /v1 export. */
		const cJSON *secrets = cli_fetch_env(&c, NULL, NULL, &rc), *it;
		struct dotenv_pair *pairs;
		struct buf b;
		size_t n = 0;

		if (secrets == NULL)
			return rc;
		pairs = arena_alloc(cli_arena,
				    sizeof(*pairs) * ((size_t)cJSON_GetArraySize(secrets) + 1));
		cJSON_ArrayForEach(it, secrets)
		{
			if (!cJSON_IsString(it))
				continue;
			pairs[n].key = it->string;
			pairs[n].value = it->valuestring;
			pairs[n].value_len = strlen(it->valuestring);
			n++;
		}
		buf_init(&b, cli_arena);
		if (dotenv_write_json(&b, pairs, n) < 0) {
			cli_warn("export: the server sent a key or value JSON cannot carry");
			return CLI_API;
		}
		buf_putc(&b, '\n');
		fwrite(b.data, 1, b.len, stdout);
		return fflush(stdout) == 0 ? CLI_OK : CLI_USAGE;
	}
	if (o.project == NULL) {
		rc = cli_http(&c, "GET",
			      arena_printf(cli_arena, "/runtime/v1/secrets?format=%s", format), NULL,
			      NULL, 0, &r);
	} else {
		const char *pid = cli_project_id(&c, o.project, &rc);

		if (pid == NULL)
			return rc;
		rc = cli_http(&c, "GET",
			      arena_printf(cli_arena,
					   "/v1/projects/%s/secrets/export?environment=%s&format=%s",
					   cli_escape(pid), cli_escape(o.env), format),
			      NULL, NULL, 0, &r);
	}
	if (rc != CLI_OK)
		return rc;
	if (r.status != 200)
		return cli_http_fail(&c, &r);
	fwrite(r.body.data, 1, r.body.len, stdout);
	if (strcmp(format, "json") == 0 && (r.body.len == 0 || r.body.data[r.body.len - 1] != '\n'))
		fputc('\n', stdout);
	return fflush(stdout) == 0 ? CLI_OK : CLI_USAGE;
}

int
cmd_import(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_cred c;
	struct cli_res r;
	struct buf b;
	const char *pid, *file;
	char chunk[8192];
	FILE *f;
	size_t n;
	int i, rc;

	if ((i = cli_parse_any(argc, argv, "pe", &o)) < 0)
		return o.help ? CLI_OK : CLI_USAGE;
	if (argc - i != 1) {
		cli_warn("import: give one FILE (\"-\": standard input)");
		cli_usage("import", 1);
		return CLI_USAGE;
	}
	if (o.project == NULL || o.env == NULL) {
		cli_warn("import: --project and --env are required");
		cli_usage("import", 1);
		return CLI_USAGE;
	}
	file = argv[i];
	if (strcmp(file, "-") == 0)
		f = stdin;
	else if ((f = fopen(file, "re")) == NULL) {
		cli_warn("import: cannot open %s: %s", file, strerror(errno));
		return CLI_USAGE;
	}
	buf_init(&b, cli_arena);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		buf_append(&b, chunk, n);
		if (b.len > DOTENV_MAX_TEXT) {
			cli_warn("import: %s is larger than %u bytes", file, DOTENV_MAX_TEXT);
			if (f != stdin)
				fclose(f);
			return CLI_USAGE;
		}
	}
	rc = ferror(f);
	if (f != stdin)
		fclose(f);
	if (rc) {
		cli_warn("import: cannot read %s", file);
		return CLI_USAGE;
	}
	if ((rc = cli_cred_resolve(&c, NULL, 1)) != CLI_OK)
		return rc;
	if ((pid = cli_project_id(&c, o.project, &rc)) == NULL)
		return rc;
	rc = cli_http(&c, "POST",
		      arena_printf(cli_arena, "/v1/projects/%s/secrets/import?environment=%s",
				   cli_escape(pid), cli_escape(o.env)),
		      "text/plain; charset=utf-8", b.data, b.len, &r);
	memset(b.data, 0, b.len);
	if (rc != CLI_OK)
		return rc;
	if (r.status != 200 && r.status != 201)
		return cli_http_fail(&c, &r);
	{
		const cJSON *cr = cJSON_GetObjectItemCaseSensitive(r.json, "created");
		const cJSON *up = cJSON_GetObjectItemCaseSensitive(r.json, "updated");
		const cJSON *un = cJSON_GetObjectItemCaseSensitive(r.json, "unchanged");

		printf("imported into %s: %d created, %d updated, %d unchanged\n", o.env,
		       cJSON_IsNumber(cr) ? cr->valueint : 0, cJSON_IsNumber(up) ? up->valueint : 0,
		       cJSON_IsNumber(un) ? un->valueint : 0);
	}
	return CLI_OK;
}
