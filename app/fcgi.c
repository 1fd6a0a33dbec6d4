/*
 * FastCGI <-> struct request / struct response. Reads the params nginx
 * passes and at most HTTP_BODY_MAX bytes of body (CONTENT_LENGTH is never
 * trusted beyond that), and writes the whole answer with one call.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "app.h"
#include "fcgi.h"

/* The FastCGI parameters the pipeline reads, taken in one pass over the
 * environment nginx sent (no copies: it lives until FCGX_Finish_r). */
struct fcgi_params {
	const char *request_id, *method, *document_uri, *request_uri, *query, *content_type,
		*content_length, *cookie, *authorization, *origin, *referer, *user_agent,
		*remote_addr, *https, *if_none_match, *idempotency_key, *sec_fetch_site,
		*sec_fetch_mode, *sec_fetch_dest;
};

#define P(name, field) {name, sizeof(name) - 1, offsetof(struct fcgi_params, field)}
static const struct {
	const char *name;
	size_t len;
	size_t off;
} param_table[] = {
	P("REQUEST_ID", request_id),
	P("REQUEST_METHOD", method),
	P("DOCUMENT_URI", document_uri),
	P("REQUEST_URI", request_uri),
	P("QUERY_STRING", query),
	P("CONTENT_TYPE", content_type),
	P("CONTENT_LENGTH", content_length),
	P("HTTP_COOKIE", cookie),
	P("HTTP_AUTHORIZATION", authorization),
	P("HTTP_ORIGIN", origin),
	P("HTTP_REFERER", referer),
	P("HTTP_USER_AGENT", user_agent),
	P("REMOTE_ADDR", remote_addr),
	P("HTTPS", https),
	P("HTTP_IF_NONE_MATCH", if_none_match),
	P("HTTP_IDEMPOTENCY_KEY", idempotency_key),
	P("HTTP_SEC_FETCH_SITE", sec_fetch_site),
	P("HTTP_SEC_FETCH_MODE", sec_fetch_mode),
	P("HTTP_SEC_FETCH_DEST", sec_fetch_dest),
};
#undef P

static void
scan_params(char **envp, struct fcgi_params *fp)
{
	size_t i, n;
	char **e;

	memset(fp, 0, sizeof(*fp));
	for (e = envp; e != NULL && *e != NULL; e++) {
		const char *eq = strchr(*e, '=');

		if (eq == NULL)
			continue;
		n = (size_t)(eq - *e);
		for (i = 0; i < sizeof(param_table) / sizeof(param_table[0]); i++)
			if (param_table[i].len == n && memcmp(param_table[i].name, *e, n) == 0) {
				/* The first one wins, as FCGX_GetParam does. */
				const char **slot = (const char **)((char *)fp + param_table[i].off);

				if (*slot == NULL)
					*slot = eq + 1;
				break;
			}
	}
}

/* Reads the body; -1 with a 413 already set when it is over the cap. */
static int
read_body(FCGX_Request *fr, const char *cl, struct request *rq, struct response *rs)
{
	char *end, *data;
	long long declared = 0;
	size_t got = 0;
	int n;

	if (cl != NULL && *cl != '\0') {
		errno = 0;
		declared = strtoll(cl, &end, 10);
		if (errno != 0 || *end != '\0' || declared < 0) {
			http_error(rs, 400, "BAD_REQUEST", "Content-Length is malformed", NULL);
			return -1;
		}
	}
	if (declared > HTTP_BODY_MAX) {
		http_error(rs, 413, "PAYLOAD_TOO_LARGE", "Request body exceeds 1 MiB", NULL);
		return -1;
	}
	data = arena_alloc(rq->arena, (size_t)declared + 1);
	while (got < (size_t)declared) {
		n = FCGX_GetStr(data + got, (int)((size_t)declared - got), fr->in);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	/* A body longer than declared is not read past the cap either. */
	if (got == (size_t)declared && declared == HTTP_BODY_MAX && FCGX_GetChar(fr->in) != EOF) {
		http_error(rs, 413, "PAYLOAD_TOO_LARGE", "Request body exceeds 1 MiB", NULL);
		return -1;
	}
	data[got] = '\0';
	rq->body = data;
	rq->body_len = got;
	return 0;
}

/* The path to route on: nginx's normalised $uri when passed, else the
 * request URI up to its query string. */
static const char *
request_path(const struct fcgi_params *fp, struct arena *a)
{
	if (fp->document_uri != NULL && *fp->document_uri != '\0')
		return fp->document_uri;
	if (fp->request_uri == NULL)
		return "/";
	return arena_strndup(a, fp->request_uri, strcspn(fp->request_uri, "?"));
}

static int
stream_write(void *ctx, const char *p, size_t n)
{
	FCGX_Stream *out = ctx;

	while (n > 0) {
		int chunk = n > (1 << 30) ? 1 << 30 : (int)n;

		if (FCGX_PutStr(p, chunk, out) != chunk)
			return -1;
		p += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

/* The head into a bounded buffer, then head and body as two writes into
 * libfcgi's stream: the body is never copied on our side. */
static void
write_response(FCGX_Request *fr, struct response *rs)
{
	char head[4096];
	size_t n = 0;
	int i, w, has_body = rs->status != 204 && rs->status != 304;

	w = snprintf(head, sizeof(head), "Status: %d %s\r\n", rs->status,
		     http_reason(rs->status));
	n = w > 0 ? (size_t)w : 0;
	if (rs->content_type != NULL && n < sizeof(head)) {
		w = snprintf(head + n, sizeof(head) - n, "Content-Type: %s\r\n", rs->content_type);
		n += w > 0 ? (size_t)w : 0;
	}
	for (i = 0; i < rs->nheaders && n < sizeof(head); i++) {
		w = snprintf(head + n, sizeof(head) - n, "%s: %s\r\n", rs->headers[i].name,
			     rs->headers[i].value);
		n += w > 0 ? (size_t)w : 0;
	}
	if (n < sizeof(head)) {
		w = has_body ? snprintf(head + n, sizeof(head) - n, "Content-Length: %zu\r\n\r\n",
					rs->body.len)
			     : snprintf(head + n, sizeof(head) - n, "\r\n");
		n += w > 0 ? (size_t)w : 0;
	}
	if (n >= sizeof(head)) {
		/* Headers are ours and short; this would be a bug. */
		log_msg(LOG_ERROR, "http.head_too_long", "response head over %zu bytes", sizeof(head));
		static const char fail[] = "Status: 500 Internal Server Error\r\n"
					   "Content-Type: application/json\r\n\r\n"
					   "{\"code\":\"INTERNAL_ERROR\",\"message\":\"Response too large\"}";
		FCGX_PutStr(fail, (int)sizeof(fail) - 1, fr->out);
		return;
	}
	FCGX_PutStr(head, (int)n, fr->out);
	if (has_body && rs->body.len > 0)
		(void)stream_write(fr->out, rs->body.data, rs->body.len);
}

void
fcgi_handle(FCGX_Request *fr, struct arena *a)
{
	struct request rq;
	struct response rs;
	struct fcgi_params fp;
	int64_t start = time_mono_us();

	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	rq.arena = a;
	rs.arena = a;
	buf_init(&rs.body, a);
	rs.stream_ctx = fr->out;
	rs.stream_write = stream_write;
	scan_params(fr->envp, &fp);
	rq.request_id = fp.request_id;
	rs.request_id = rq.request_id;
	log_set_request_id(rq.request_id);
	rq.method = fp.method != NULL ? fp.method : "GET";
	rq.path = request_path(&fp, a);
	rq.query = fp.query != NULL ? fp.query : "";
	rq.content_type = fp.content_type;
	rq.cookie = fp.cookie;
	rq.authorization = fp.authorization;
	rq.origin = fp.origin;
	rq.referer = fp.referer;
	/* Stored with sessions and audit events: valid UTF-8, bounded. */
	rq.user_agent = arena_clean_text(a, fp.user_agent, 512);
	rq.remote_addr = fp.remote_addr;
	rq.https = fp.https;
	rq.if_none_match = fp.if_none_match;
	rq.idempotency_key = fp.idempotency_key;
	rq.sec_fetch_site = fp.sec_fetch_site;
	rq.sec_fetch_mode = fp.sec_fetch_mode;
	rq.sec_fetch_dest = fp.sec_fetch_dest;
	if (rq.remote_addr == NULL)
		rq.remote_addr = "";

	if (read_body(fr, fp.content_length, &rq, &rs) == 0)
		pipeline_run(&rq, &rs);
	if (!rs.streaming)
		write_response(fr, &rs);
	log_access(rq.method, rq.path, rs.status, time_mono_us() - start,
		   rs.streaming ? rs.streamed : rs.body.len, rq.remote_addr);
	log_set_request_id(NULL);
}
