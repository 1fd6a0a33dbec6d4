/*
 * The one response helper and the one error helper, plus request accessors
 * (path params, query arguments, cookies) and typed JSON getters.
 */
#include <stdio.h>
#include <string.h>

#include <unistr.h>

#include "app.h"

struct reason {
	int status;
	const char *text;
};

static const struct reason reasons[] = {
	{200, "OK"}, {201, "Created"}, {202, "Accepted"}, {204, "No Content"},
	{302, "Found"}, {304, "Not Modified"}, {400, "Bad Request"}, {401, "Unauthorized"},
	{403, "Forbidden"}, {404, "Not Found"}, {405, "Method Not Allowed"}, {409, "Conflict"},
	{413, "Payload Too Large"}, {415, "Unsupported Media Type"},
	{422, "Unprocessable Entity"}, {429, "Too Many Requests"},
	{500, "Internal Server Error"}, {501, "Not Implemented"}, {503, "Service Unavailable"},
};

const char *
http_reason(int status)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].text;
	return "Unknown";
}

void
http_header(struct response *rs, const char *name, const char *value)
{
	if (rs->nheaders >= RESPONSE_HEADERS_MAX) {
		log_msg(LOG_ERROR, "http.too_many_headers", "dropped header %s", name);
		return;
	}
	rs->headers[rs->nheaders].name = name;
	rs->headers[rs->nheaders].value = value;
	rs->nheaders++;
}

static void
cjson_delete(void *p)
{
	cJSON_Delete(p);
}

cJSON *
json_object(struct arena *a)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	arena_defer(a, cjson_delete, o);
	return o;
}

cJSON *
json_array(struct arena *a)
{
	cJSON *o = cJSON_CreateArray();

	if (o == NULL)
		return NULL;
	arena_defer(a, cjson_delete, o);
	return o;
}

void
http_json(struct response *rs, int status, cJSON *body)
{
	char *text = body != NULL ? cJSON_PrintUnformatted(body) : NULL;

	if (text == NULL) {
		http_error(rs, 500, "INTERNAL_ERROR", "Could not encode the response", NULL);
		return;
	}
	http_json_raw(rs, status, text);
	cJSON_free(text);
}

void
http_json_raw(struct response *rs, int status, const char *json)
{
	rs->status = status;
	rs->content_type = "application/json";
	rs->body.len = 0;
	buf_puts(&rs->body, json);
	rs->done = 1;
}

void
http_no_content(struct response *rs)
{
	rs->status = 204;
	rs->content_type = NULL;
	rs->body.len = 0;
	rs->done = 1;
}

int
http_stream_begin(struct response *rs, int status, const char *content_type)
{
	struct buf h;
	int i;

	if (rs->stream_write == NULL)
		return -1;
	buf_init(&h, rs->arena);
	buf_printf(&h, "Status: %d %s\r\nContent-Type: %s\r\n", status, http_reason(status),
		   content_type);
	for (i = 0; i < rs->nheaders; i++)
		buf_printf(&h, "%s: %s\r\n", rs->headers[i].name, rs->headers[i].value);
	buf_puts(&h, "\r\n");
	rs->status = status;
	rs->streaming = 1;
	rs->done = 1;
	return rs->stream_write(rs->stream_ctx, h.data, h.len);
}

int
http_stream_write(struct response *rs, const char *p, size_t n)
{
	rs->streamed += n;
	return rs->stream_write(rs->stream_ctx, p, n);
}

/* Every error of the API leaves through here, in API.md's shape. */
void
http_error(struct response *rs, int status, const char *code, const char *message,
	   const char *field)
{
	struct buf *b = &rs->body;

	rs->status = status;
	rs->content_type = "application/json";
	b->len = 0;
	buf_puts(b, "{\"code\":");
	buf_json_string(b, code, strlen(code));
	buf_puts(b, ",\"message\":");
	buf_json_string(b, message, strlen(message));
	if (field != NULL) {
		buf_puts(b, ",\"field\":");
		buf_json_string(b, field, strlen(field));
	}
	if (status >= 500 && rs->request_id != NULL) {
		buf_puts(b, ",\"requestId\":");
		buf_json_string(b, rs->request_id, strlen(rs->request_id));
	}
	buf_putc(b, '}');
	if (status == 503 || status == 429) {
		int i;

		for (i = 0; i < rs->nheaders; i++)
			if (strcmp(rs->headers[i].name, "Retry-After") == 0)
				break;
		if (i == rs->nheaders)
			http_header(rs, "Retry-After", status == 503 ? "5" : "60");
	}
	rs->done = 1;
}

void
http_db_error(struct response *rs, enum db_status st)
{
	switch (st) {
	case DB_UNAVAILABLE:
	case DB_SERIALIZE:
		http_error(rs, 503, "SERVICE_UNAVAILABLE",
			   "The database is unavailable; try again shortly", NULL);
		break;
	case DB_CONFLICT:
		http_error(rs, 409, "CONFLICT", "That conflicts with an existing resource", NULL);
		break;
	case DB_INVALID:
		http_error(rs, 422, "INVALID_INPUT", "A value breaks a rule of the resource", NULL);
		break;
	default:
		http_error(rs, 500, "INTERNAL_ERROR", "Internal error", NULL);
	}
}

const char *
http_param(const struct request *rq, const char *name)
{
	int i;

	for (i = 0; i < rq->nparams; i++)
		if (strcmp(rq->params[i].name, name) == 0)
			return rq->params[i].value;
	return NULL;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
http_url_decode(struct arena *a, const char *s, size_t n, int form)
{
	char *out = arena_alloc(a, n + 1);
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return NULL;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return NULL;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (form && s[i] == '+') {
			out[o++] = ' ';
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

const char *
http_query(const struct request *rq, const char *name)
{
	const char *p = rq->query;
	size_t nlen = strlen(name);

	while (p != NULL && *p != '\0') {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		size_t klen = eq != NULL ? (size_t)(eq - p) : len;

		if (klen == nlen && memcmp(p, name, nlen) == 0) {
			if (eq == NULL)
				return "";
			return http_url_decode(rq->arena, eq + 1, len - klen - 1, 1);
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return NULL;
}

const char *
http_cookie(const struct request *rq, const char *name)
{
	const char *p = rq->cookie;
	size_t nlen = strlen(name);

	while (p != NULL && *p != '\0') {
		size_t len;

		while (*p == ' ' || *p == ';')
			p++;
		len = strcspn(p, ";");
		if (len > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=')
			return arena_strndup(rq->arena, p + nlen + 1, len - nlen - 1);
		p += len;
	}
	return NULL;
}

void
json_add_nullable(cJSON *o, const char *name, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

/* 1 when the query has the argument, whatever its value. */
static int
query_has(const struct request *rq, const char *name)
{
	const char *p = rq->query;
	size_t nlen = strlen(name);

	while (p != NULL && *p != '\0') {
		size_t len = strcspn(p, "&");

		if (len >= nlen && memcmp(p, name, nlen) == 0 && (len == nlen || p[nlen] == '='))
			return 1;
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}

int
http_page(struct request *rq, struct response *rs, int *limit, const char **cursor)
{
	const char *l = http_query(rq, "limit");
	size_t i, n;

	*limit = PAGE_LIMIT_DEFAULT;
	*cursor = http_query(rq, "cursor");
	if (l == NULL && query_has(rq, "limit"))
		l = ""; /* present but undecodable */
	if (l != NULL) {
		n = strlen(l);
		*limit = 0;
		for (i = 0; i < n && i < 4; i++) {
			if (l[i] < '0' || l[i] > '9')
				break;
			*limit = *limit * 10 + (l[i] - '0');
		}
		if (n == 0 || i != n || *limit < 1 || *limit > PAGE_LIMIT_MAX) {
			http_error(rs, 400, "VALIDATION_ERROR", "limit must be an integer from 1 to 200",
				   "limit");
			return -1;
		}
	}
	if ((*cursor == NULL && query_has(rq, "cursor")) ||
	    (*cursor != NULL && strlen(*cursor) > PAGE_CURSOR_MAX)) {
		http_error(rs, 400, "VALIDATION_ERROR", "cursor is not valid", "cursor");
		return -1;
	}
	if (*cursor != NULL && (*cursor)[0] == '\0')
		*cursor = NULL;
	return 0;
}

void
http_list(struct request *rq, struct response *rs, cJSON *items, const char *next_cursor)
{
	cJSON *o = json_object(rq->arena);

	cJSON_AddItemToObject(o, "items", items);
	json_add_nullable(o, "nextCursor", next_cursor);
	http_json(rs, 200, o);
}

const char *
json_text(struct arena *a, cJSON *o)
{
	char *p = cJSON_PrintUnformatted(o);
	const char *s;

	if (p == NULL)
		return NULL;
	s = arena_strdup(a, p);
	cJSON_free(p);
	return s;
}

const char *
json_name_slug(struct arena *a, const char *name, const char *slug)
{
	struct buf b;

	buf_init(&b, a);
	buf_puts(&b, "{\"name\":");
	buf_json_string(&b, name, strlen(name));
	buf_puts(&b, ",\"slug\":");
	buf_json_string(&b, slug, strlen(slug));
	buf_putc(&b, '}');
	return b.data;
}

int
json_get_note(struct request *rq, struct response *rs, const char **out)
{
	cJSON *v = rq->json != NULL ? cJSON_GetObjectItemCaseSensitive(rq->json, "note") : NULL;
	size_t n;

	if (v == NULL)
		return 0;
	if (cJSON_IsNull(v)) {
		*out = "";
		return 0;
	}
	if (!cJSON_IsString(v)) {
		http_error(rs, 400, "VALIDATION_ERROR", "note must be a string", "note");
		return -1;
	}
	n = strlen(v->valuestring);
	if (u8_check((const uint8_t *)v->valuestring, n) != NULL) {
		http_error(rs, 400, "VALIDATION_ERROR", "note must be valid UTF-8", "note");
		return -1;
	}
	if (u8_mbsnlen((const uint8_t *)v->valuestring, n) > SECRET_NOTE_MAX) {
		http_error(rs, 422, "VALIDATION_ERROR", "note must be at most 1024 characters",
			   "note");
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

int
json_get_string(struct request *rq, struct response *rs, const char *field, const char **out,
		int required, size_t maxlen)
{
	cJSON *v = rq->json != NULL ? cJSON_GetObjectItemCaseSensitive(rq->json, field) : NULL;
	char msg[160];

	if (v == NULL || cJSON_IsNull(v)) {
		if (!required)
			return 0;
		snprintf(msg, sizeof(msg), "%s is required", field);
		http_error(rs, 400, "VALIDATION_ERROR", msg, field);
		return -1;
	}
	if (!cJSON_IsString(v)) {
		snprintf(msg, sizeof(msg), "%s must be a string", field);
		http_error(rs, 400, "VALIDATION_ERROR", msg, field);
		return -1;
	}
	if (maxlen > 0 && strlen(v->valuestring) > maxlen) {
		snprintf(msg, sizeof(msg), "%s must be at most %zu bytes", field, maxlen);
		http_error(rs, 400, "VALIDATION_ERROR", msg, field);
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

int
json_get_bool(struct request *rq, struct response *rs, const char *field, int *out)
{
	cJSON *v = rq->json != NULL ? cJSON_GetObjectItemCaseSensitive(rq->json, field) : NULL;
	char msg[160];

	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v)) {
		snprintf(msg, sizeof(msg), "%s must be a boolean", field);
		http_error(rs, 400, "VALIDATION_ERROR", msg, field);
		return -1;
	}
	*out = cJSON_IsTrue(v);
	return 0;
}
