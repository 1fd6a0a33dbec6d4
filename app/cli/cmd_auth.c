/*
 * shush login (device-code flow, API.md §8) and shush whoami.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char *
jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long
jnum(const cJSON *o, const char *name, long dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e7
		       ? (long)v->valuedouble
		       : dflt;
}

static void
sleep_s(long s)
{
	struct timespec ts = { .tv_sec = s, .tv_nsec = 0 };

	while (nanosleep(&ts, &ts) < 0)
		;
}

/* "Name <email>" of a user object. */
static const char *
user_line(const cJSON *u)
{
	const char *name = jstr(u, "name"), *email = jstr(u, "email");

	if (email == NULL)
		return "(unknown user)";
	if (name == NULL || name[0] == '\0')
		return email;
	return arena_printf(cli_arena, "%s <%s>", name, email);
}

/* POST /v1/auth/cli/start, then POST /v1/auth/cli/enable every interval
 * seconds: AUTHORIZATION_PENDING keeps polling, SLOW_DOWN adds 5 s,
 * EXPIRED_TOKEN / ACCESS_DENIED stop (CLI_AUTH). */
int
cmd_login(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_cred c;
	struct cli_res r;
	const char *device, *ucode, *uri, *full;
	long interval, expires;
	time_t deadline;
	int i, rc, net_fail = 0;
	cJSON *body;

	if ((i = cli_parse(argc, argv, "u", &o)) < 0)
		return o.help ? CLI_OK : CLI_USAGE;
	if (i != argc) {
		cli_warn("login: unexpected argument '%s'", argv[i]);
		return CLI_USAGE;
	}
	if ((rc = cli_cred_resolve(&c, o.url, 0)) != CLI_OK)
		return rc;
	c.token[0] = '\0'; /* the flow itself is anonymous */
	{
		/* The approval page shows which machine asks. */
		char host[64] = "";
		cJSON *sb = cJSON_CreateObject();

		arena_defer(cli_arena, (void (*)(void *))cJSON_Delete, sb);
		if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
			memcpy(host, "unknown host", sizeof("unknown host"));
		host[sizeof(host) - 1] = '\0';
		cJSON_AddStringToObject(sb, "clientName",
					arena_printf(cli_arena, "shush CLI on %s", host));
		if ((rc = cli_http_json(&c, "POST", "/v1/auth/cli/start", sb, &r)) != CLI_OK)
			return rc;
	}
	if (r.status != 200 && r.status != 201)
		return cli_http_fail(&c, &r);
	device = jstr(r.json, "deviceCode");
	ucode = jstr(r.json, "userCode");
	uri = jstr(r.json, "verificationUri");
	full = jstr(r.json, "verificationUriComplete");
	if (device == NULL || ucode == NULL || uri == NULL) {
		cli_warn("the server's answer to /v1/auth/cli/start is not a device code");
		return CLI_API;
	}
	interval = jnum(r.json, "interval", 5);
	if (interval < 1)
		interval = 1;
	expires = jnum(r.json, "expiresIn", 900);
	deadline = time(NULL) + expires;

	fprintf(stderr, "To sign in, open %s\nand enter the code: %s\n", uri, ucode);
	if (full != NULL)
		fprintf(stderr, "(or open %s)\n", full);
	fprintf(stderr, "Waiting for approval...\n");
	fflush(stderr);

	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "deviceCode", device);
	arena_defer(cli_arena, (void (*)(void *))cJSON_Delete, body);
	for (;;) {
		const char *code;

		sleep_s(interval);
		if (time(NULL) > deadline + interval) {
			cli_warn("the code expired before it was approved: run `shush login` "
				 "again (EXPIRED_TOKEN)");
			return CLI_AUTH;
		}
		rc = cli_http_json(&c, "POST", "/v1/auth/cli/enable", body, &r);
		if (rc != CLI_OK) {
			if (++net_fail >= 5)
				return rc;
			continue; /* a network hiccup: keep polling */
		}
		net_fail = 0;
		if (r.status == 200 || r.status == 201)
			break;
		code = cli_err_code(&r);
		if (r.status == 400 && strcmp(code, "AUTHORIZATION_PENDING") == 0) {
			long iv = jnum(r.json, "interval", interval);

			if (iv > interval && iv < 600)
				interval = iv;
			continue;
		}
		if (r.status == 400 && strcmp(code, "SLOW_DOWN") == 0) {
			long iv = jnum(r.json, "interval", 0);

			interval = (iv > interval && iv < 600) ? iv : interval + 5;
			continue;
		}
		if (r.status == 429 || r.status == 503) {
			if (r.retry_after > interval)
				interval = r.retry_after;
			continue;
		}
		if (strcmp(code, "EXPIRED_TOKEN") == 0) {
			cli_warn("the code expired before it was approved: run `shush login` "
				 "again (EXPIRED_TOKEN)");
			return CLI_AUTH;
		}
		if (strcmp(code, "ACCESS_DENIED") == 0) {
			cli_warn("the sign-in was denied in the browser (ACCESS_DENIED)");
			return CLI_AUTH;
		}
		rc = cli_http_fail(&c, &r);
		return rc == CLI_API ? CLI_AUTH : rc;
	}
	{
		const char *key = jstr(r.json, "apiKey");
		const cJSON *user = cJSON_GetObjectItemCaseSensitive(r.json, "user");

		if (key == NULL) {
			cli_warn("the server approved the code but sent no token");
			return CLI_API;
		}
		if (cli_config_save(c.url, key) < 0)
			return CLI_USAGE;
		printf("Logged in to %s as %s\n", c.url, user_line(user));
		if (getenv("SHUSH_TOKEN") != NULL && getenv("SHUSH_TOKEN")[0] != '\0')
			cli_warn("note: SHUSH_TOKEN is set and overrides the stored token");
	}
	return CLI_OK;
}

static int
show_key(const struct cli_cred *c, const cJSON *j)
{
	const char *exp = jstr(j, "expiresAt");

	printf("environment key %s (%s)\n", jstr(j, "name") ? jstr(j, "name") : "?",
	       jstr(j, "keyId") ? jstr(j, "keyId") : "?");
	printf("  project:     %s\n", jstr(j, "projectId") ? jstr(j, "projectId") : "?");
	printf("  environment: %s\n", jstr(j, "environment") ? jstr(j, "environment") : "?");
	printf("  org:         %s\n", jstr(j, "orgId") ? jstr(j, "orgId") : "?");
	printf("  expires:     %s\n", exp != NULL ? exp : "never");
	printf("  server:      %s\n", c->url);
	return CLI_OK;
}

/* GET /runtime/v1/ for an environment key, GET /v1/me for a personal
 * token; a SHUSH_TOKEN of unknown kind tries the runtime first. */
int
cmd_whoami(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_cred c;
	struct cli_res r;
	int i, rc;

	if ((i = cli_parse(argc, argv, "", &o)) < 0)
		return o.help ? CLI_OK : CLI_USAGE;
	if (i != argc) {
		cli_warn("whoami: unexpected argument '%s'", argv[i]);
		return CLI_USAGE;
	}
	if ((rc = cli_cred_resolve(&c, NULL, 1)) != CLI_OK)
		return rc;
	if (c.token_kind != CLI_TOKEN_USER) {
		if ((rc = cli_http(&c, "GET", "/runtime/v1/", NULL, NULL, 0, &r)) != CLI_OK)
			return rc;
		if (r.status == 200)
			return show_key(&c, r.json);
		if (r.status != 401)
			return cli_http_fail(&c, &r);
	}
	if ((rc = cli_http(&c, "GET", "/v1/me", NULL, NULL, 0, &r)) != CLI_OK)
		return rc;
	if (r.status != 200)
		return cli_http_fail(&c, &r);
	printf("%s (%s)\n", user_line(r.json), jstr(r.json, "id") ? jstr(r.json, "id") : "?");
	printf("  server: %s\n", c.url);
	return CLI_OK;
}
