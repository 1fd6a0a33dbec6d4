/*
 * FastCGI <-> struct request / struct response. Reads the params nginx
 * passes and at most HTTP_BODY_MAX bytes of body (CONTENT_LENGTH is never
 * trusted beyond that), and writes the whole answer with one call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "app.h"
#include "fcgi.h"

static const char *
param(FCGX_Request *req, struct arena *a, const char *name)
{
	const char *v = FCGX_GetParam(name, req->envp);

	return v != NULL ? arena_strdup(a, v) : NULL;
}

/* Reads the body; -1 with a 413 already set when it is over the cap. */
static int
read_body(FCGX_Request *fr, struct request *rq, struct response *rs)
{
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
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
request_path(FCGX_Request *fr, struct arena *a)
{
	const char *doc = FCGX_GetParam("DOCUMENT_URI", fr->envp);
	const char *uri = FCGX_GetParam("REQUEST_URI", fr->envp);

	if (doc != NULL && *doc != '\0')
		return arena_strdup(a, doc);
	if (uri == NULL)
		return "/";
	return arena_strndup(a, uri, strcspn(uri, "?"));
}

static void
write_response(FCGX_Request *fr, struct response *rs)
{
	struct buf out;
	int i;

	buf_init(&out, rs->arena);
	buf_printf(&out, "Status: %d %s\r\n", rs->status, http_reason(rs->status));
	if (rs->content_type != NULL)
		buf_printf(&out, "Content-Type: %s\r\n", rs->content_type);
	for (i = 0; i < rs->nheaders; i++)
		buf_printf(&out, "%s: %s\r\n", rs->headers[i].name, rs->headers[i].value);
	if (rs->status != 204 && rs->status != 304)
		buf_printf(&out, "Content-Length: %zu\r\n\r\n", rs->body.len);
	else
		buf_puts(&out, "\r\n");
	if (rs->status != 204 && rs->status != 304)
		buf_append(&out, rs->body.data, rs->body.len);
	FCGX_PutStr(out.data, (int)out.len, fr->out);
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

void
fcgi_handle(FCGX_Request *fr, struct arena *a)
{
	struct request rq;
	struct response rs;
	int64_t start = time_now_ms();

	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	rq.arena = a;
	rs.arena = a;
	buf_init(&rs.body, a);
	rs.stream_ctx = fr->out;
	rs.stream_write = stream_write;
	rq.request_id = param(fr, a, "REQUEST_ID");
	rs.request_id = rq.request_id;
	log_set_request_id(rq.request_id);
	rq.method = param(fr, a, "REQUEST_METHOD");
	if (rq.method == NULL)
		rq.method = "GET";
	rq.path = request_path(fr, a);
	rq.query = param(fr, a, "QUERY_STRING");
	if (rq.query == NULL)
		rq.query = "";
	rq.content_type = param(fr, a, "CONTENT_TYPE");
	rq.cookie = param(fr, a, "HTTP_COOKIE");
	rq.authorization = param(fr, a, "HTTP_AUTHORIZATION");
	rq.origin = param(fr, a, "HTTP_ORIGIN");
	rq.referer = param(fr, a, "HTTP_REFERER");
	/* Stored with sessions and audit events: valid UTF-8, bounded. */
	rq.user_agent = arena_clean_text(a, FCGX_GetParam("HTTP_USER_AGENT", fr->envp), 512);
	rq.remote_addr = param(fr, a, "REMOTE_ADDR");
	rq.https = param(fr, a, "HTTPS");
	rq.if_none_match = param(fr, a, "HTTP_IF_NONE_MATCH");
	rq.idempotency_key = param(fr, a, "HTTP_IDEMPOTENCY_KEY");
	rq.sec_fetch_site = param(fr, a, "HTTP_SEC_FETCH_SITE");
	rq.sec_fetch_mode = param(fr, a, "HTTP_SEC_FETCH_MODE");
	rq.sec_fetch_dest = param(fr, a, "HTTP_SEC_FETCH_DEST");
	if (rq.remote_addr == NULL)
		rq.remote_addr = "";

	if (read_body(fr, &rq, &rs) == 0)
		pipeline_run(&rq, &rs);
	if (!rs.streaming)
		write_response(fr, &rs);
	log_access(rq.method, rq.path, rs.status, (double)(time_now_ms() - start),
		   rs.streaming ? rs.streamed : rs.body.len, rq.remote_addr);
	log_set_request_id(NULL);
}
