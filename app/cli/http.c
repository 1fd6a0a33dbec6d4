/*
 * shush(1) HTTP: one libcurl easy handle for the process. Base URL plus a
 * path, bearer token, JSON in and out, timeouts, TLS verification always
 * on, redirects never followed (a bearer token must not travel to another
 * host), http and https only. Errors of the API ({code,message}) become
 * one clear line on stderr and an exit code (shush(1), EXIT STATUS).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

#define CLI_MAX_BODY (64L << 20) /* bytes of an answer we accept */

static CURL *curl;
static struct arena *arena;

int
cli_http_init(struct arena *a)
{
	arena = a;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	curl = curl_easy_init();
	return curl == NULL ? -1 : 0;
}

void
cli_http_cleanup(void)
{
	if (curl != NULL)
		curl_easy_cleanup(curl);
	curl = NULL;
	curl_global_cleanup();
}

char *
cli_escape(const char *s)
{
	char *e = curl_easy_escape(curl, s, 0);
	char *out;

	if (e == NULL) {
		fputs("shush: out of memory\n", stderr);
		exit(CLI_NETWORK);
	}
	out = arena_strdup(arena, e);
	curl_free(e);
	return out;
}

static size_t
on_body(char *p, size_t size, size_t n, void *ud)
{
	struct cli_res *r = ud;
	size_t len = n * size;

	if (r->body.len + len > (size_t)CLI_MAX_BODY)
		return 0; /* aborts the transfer */
	buf_append(&r->body, p, len);
	return len;
}

static size_t
on_header(char *p, size_t size, size_t n, void *ud)
{
	struct cli_res *r = ud;
	size_t len = n * size;
	static const char name[] = "retry-after:";

	if (len > sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0) {
		char tmp[32];
		size_t m = len - (sizeof(name) - 1);
		char *end;
		long v;

		if (m >= sizeof(tmp))
			m = sizeof(tmp) - 1;
		memcpy(tmp, p + sizeof(name) - 1, m);
		tmp[m] = '\0';
		v = strtol(tmp, &end, 10);
		if (end != tmp && v >= 0 && v < 86400)
			r->retry_after = v;
	}
	return len;
}

static long
env_seconds(const char *name, long dflt)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return dflt;
	v = strtol(s, &end, 10);
	return (*end != '\0' || v <= 0 || v > 3600) ? dflt : v;
}

int
cli_http(const struct cli_cred *c, const char *method, const char *path,
	 const char *content_type, const char *body, size_t body_len, struct cli_res *r)
{
	struct curl_slist *h = NULL;
	char errbuf[CURL_ERROR_SIZE];
	const char *url;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	buf_init(&r->body, arena);
	r->retry_after = -1;
	url = arena_printf(arena, "%s%s", c->url, path);

	curl_easy_reset(curl);
	errbuf[0] = '\0';
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, env_seconds("SHUSH_CONNECT_TIMEOUT", 10));
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, env_seconds("SHUSH_TIMEOUT", 60));
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "shush/" SHUSH_VERSION);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, NULL);
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(method, "DELETE") == 0 && body == NULL) {
		/* no body */
	} else {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body != NULL ? body : "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(body != NULL ? body_len : 0));
	}
	h = curl_slist_append(h, "Accept: application/json");
	if (content_type != NULL)
		h = curl_slist_append(h, arena_printf(arena, "Content-Type: %s", content_type));
	else
		h = curl_slist_append(h, "Content-Type:"); /* no form type */
	h = curl_slist_append(h, "Expect:");
	if (c->token[0] != '\0')
		h = curl_slist_append(h, arena_printf(arena, "Authorization: Bearer %s", c->token));
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);

	rc = curl_easy_perform(curl);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h); /* the token is in there: libcurl's memory, freed */
	if (rc != CURLE_OK) {
		const char *why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);

		if (rc == CURLE_WRITE_ERROR && r->body.len + 1 > (size_t)CLI_MAX_BODY)
			why = "the answer is too large";
		fprintf(stderr, "shush: cannot reach %s: %s\n", c->url, why);
		return CLI_NETWORK;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->body.len > 0) {
		r->json = cJSON_ParseWithLength(r->body.data, r->body.len);
		if (r->json != NULL)
			arena_defer(arena, (void (*)(void *))cJSON_Delete, r->json);
	}
	return CLI_OK;
}

int
cli_http_json(const struct cli_cred *c, const char *method, const char *path,
	      const cJSON *body, struct cli_res *r)
{
	char *text = NULL;
	int rc;

	if (body != NULL && (text = cJSON_PrintUnformatted(body)) == NULL) {
		fputs("shush: out of memory\n", stderr);
		return CLI_NETWORK;
	}
	rc = cli_http(c, method, path, body != NULL ? "application/json" : NULL, text,
		      text != NULL ? strlen(text) : 0, r);
	if (text != NULL) {
		/* may hold a secret value (secrets set) */
		memset(text, 0, strlen(text));
		cJSON_free(text);
	}
	return rc;
}

const char *
cli_err_code(const struct cli_res *r)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(r->json, "code");

	return cJSON_IsString(code) ? code->valuestring : "";
}

/* A printable, bounded copy of a server-supplied string. */
static const char *
clean(const char *s, size_t max)
{
	char *out = arena_strndup(arena, s, strnlen(s, max));
	char *p;

	for (p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return out;
}

int
cli_http_fail(const struct cli_cred *c, const struct cli_res *r)
{
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(r->json, "message");
	const char *code = cli_err_code(r);
	const char *text;

	if (r->status == 401) {
		if (c->token[0] == '\0')
			fputs("shush: not logged in: run `shush login` or set SHUSH_TOKEN\n",
			      stderr);
		else
			fprintf(stderr,
				"shush: the token was refused (%s): run `shush login` or check "
				"SHUSH_TOKEN\n",
				code[0] != '\0' ? clean(code, 64) : "HTTP 401");
		return CLI_AUTH;
	}
	if (cJSON_IsString(msg) && msg->valuestring[0] != '\0')
		text = clean(msg->valuestring, 500);
	else
		text = arena_printf(arena, "the server answered HTTP %ld", r->status);
	if (code[0] != '\0')
		fprintf(stderr, "shush: %s (%s)\n", text, clean(code, 64));
	else
		fprintf(stderr, "shush: %s\n", text);
	if (r->retry_after >= 0 && (r->status == 429 || r->status == 503))
		fprintf(stderr, "shush: retry after %ld seconds\n", r->retry_after);
	return CLI_API;
}
