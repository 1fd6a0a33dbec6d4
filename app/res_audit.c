/*
 * Audit (REFERENCE.md "Audit"): the org's hash-chained trail, newest first
 * in pages, or all of it oldest first as a streamed export that anyone can
 * verify offline (API.md §4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

#define FILTER_MAX_LEN 256

/* An ISO 8601 instant for a filter, in PostgreSQL's spelling; NULL with a
 * 400 set when malformed. */
static const char *
instant(struct request *rq, struct response *rs, const char *name, const char *v)
{
	char *pg;
	size_t n;
	int64_t ms;

	if (v == NULL)
		return NULL;
	n = strlen(v);
	pg = arena_strdup(rq->arena, v);
	if (n > 1 && (pg[n - 1] == 'Z' || pg[n - 1] == 'z'))
		pg = arena_printf(rq->arena, "%.*s+00", (int)(n - 1), v);
	if (n > 64 || time_parse_pg(pg, &ms) < 0) {
		http_error(rs, 400, "VALIDATION_ERROR",
			   arena_printf(rq->arena, "%s must be an ISO 8601 time", name), name);
		return NULL;
	}
	return pg;
}

/* Reads the filters; -1 with a 400 set. */
static int
read_filter(struct request *rq, struct response *rs, struct audit_filter *f)
{
	static const char *const names[] = {"action", "actorId", "projectId"};
	const char **slots[] = {&f->action, &f->actor_id, &f->project_id};
	const char *from = http_query(rq, "from"), *to = http_query(rq, "to");
	size_t i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = http_query(rq, names[i]);

		if (v != NULL && (v[0] == '\0' || strlen(v) > FILTER_MAX_LEN)) {
			http_error(rs, 400, "VALIDATION_ERROR",
				   arena_printf(rq->arena, "%s must be 1 to %d characters", names[i],
						FILTER_MAX_LEN),
				   names[i]);
			return -1;
		}
		*slots[i] = v;
	}
	if ((from != NULL && (f->from = instant(rq, rs, "from", from)) == NULL) ||
	    (to != NULL && (f->to = instant(rq, rs, "to", to)) == NULL))
		return -1;
	return 0;
}

/* The page arguments; the cursor is the seq of the last event shown. */
static int
read_page(struct request *rq, struct response *rs, int *limit, long long *seq)
{
	const char *cursor;
	char *end;

	if (http_page(rq, rs, limit, &cursor) < 0)
		return -1;
	*seq = 0;
	if (cursor != NULL) {
		*seq = strtoll(cursor, &end, 10);
		if (*end != '\0' || *seq < 1 || strlen(cursor) > 19 || cursor[0] < '0' ||
		    cursor[0] > '9') {
			http_error(rs, 400, "VALIDATION_ERROR", "cursor is not valid", "cursor");
			return -1;
		}
	}
	return 0;
}

/* GET /v1/audit?action=&actorId=&projectId=&from=&to=&limit=&cursor=:
 * 200 {items,nextCursor}, newest first; 400 bad filter or page; 401; 403
 * (audit:read: owner and admin); 503. */
void
res_audit_list(struct request *rq, struct response *rs)
{
	struct audit_filter f;
	int limit;
	long long cursor, next;
	cJSON *items;
	enum db_status st;

	if (read_filter(rq, rs, &f) < 0 || read_page(rq, rs, &limit, &cursor) < 0)
		return;
	items = cJSON_CreateArray();
	if ((st = audit_list(rq->arena, rq->actor.org_id, &f, limit, cursor, items, &next)) !=
	    DB_OK) {
		cJSON_Delete(items);
		http_db_error(rs, st);
		return;
	}
	http_list(rq, rs, items, next > 0 ? arena_printf(rq->arena, "%lld", next) : NULL);
}

static const char *const csv_columns[] = {
	"id", "at", "actor.type", "actor.id", "actor.email", "action", "target.type", "target.id",
	"orgId", "projectId", "environment", "ip", "userAgent", "requestId", "metadata",
	"prevHash", "hash",
};

struct export_ctx {
	struct response *rs;
	struct arena *a;
	int csv;
	int failed;
};

/* RFC 4180: quoted when it holds a comma, quote or line break. */
static void
csv_field(struct buf *b, const char *s)
{
	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

static const char *
member_string(const cJSON *o, const char *path)
{
	const char *dot = strchr(path, '.');
	const cJSON *v;

	if (dot != NULL) {
		char head[16];

		snprintf(head, sizeof(head), "%.*s", (int)(dot - path), path);
		o = cJSON_GetObjectItemCaseSensitive(o, head);
		path = dot + 1;
	}
	v = cJSON_GetObjectItemCaseSensitive(o, path);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
export_row(const struct audit_row *row, void *p)
{
	struct export_ctx *x = p;
	cJSON *ev = row->event;
	struct buf b;
	size_t i;

	arena_reset(x->a);
	buf_init(&b, x->a);
	cJSON_AddStringToObject(ev, "hash", row->hash);
	if (x->csv) {
		for (i = 0; i < sizeof(csv_columns) / sizeof(csv_columns[0]); i++) {
			if (i > 0)
				buf_putc(&b, ',');
			if (strcmp(csv_columns[i], "metadata") == 0) {
				struct buf m;

				buf_init(&m, x->a);
				jcs_write(&m, cJSON_GetObjectItemCaseSensitive(ev, "metadata"));
				csv_field(&b, m.data);
			} else {
				csv_field(&b, member_string(ev, csv_columns[i]));
			}
		}
		buf_puts(&b, "\r\n");
	} else {
		jcs_write(&b, ev);
		buf_putc(&b, '\n');
	}
	if (http_stream_write(x->rs, b.data, b.len) < 0) {
		x->failed = 1;
		return 1; /* the client went away */
	}
	return 0;
}

/* GET /v1/audit/export?format=csv|json (+ the list's filters): 200, every
 * event in the filter oldest first, streamed (json is NDJSON of the events
 * as the API shows them, canonical); 400 bad format or filter; 401; 403;
 * 503 when the database is down before the first byte. */
void
res_audit_export(struct request *rq, struct response *rs)
{
	const char *format = http_query(rq, "format");
	struct audit_filter f;
	struct export_ctx x;
	enum db_status st;
	int csv;

	if (format == NULL)
		format = "json";
	if (strcmp(format, "csv") != 0 && strcmp(format, "json") != 0) {
		http_error(rs, 400, "VALIDATION_ERROR", "format must be csv or json", "format");
		return;
	}
	csv = format[0] == 'c';
	if (read_filter(rq, rs, &f) < 0)
		return;
	/* Fail before the first byte rather than send half a file. */
	if (db_ping() < 0) {
		http_db_error(rs, DB_UNAVAILABLE);
		return;
	}
	http_header(rs, "Content-Disposition",
		    csv ? "attachment; filename=\"audit.csv\"" : "attachment; filename=\"audit.ndjson\"");
	http_header(rs, "Cache-Control", "no-store");
	if (http_stream_begin(rs, 200, csv ? "text/csv; charset=utf-8" : "application/x-ndjson") < 0)
		return;
	memset(&x, 0, sizeof(x));
	x.rs = rs;
	x.csv = csv;
	x.a = arena_new(64 * 1024);
	if (csv) {
		struct buf h;
		size_t i;

		buf_init(&h, x.a);
		for (i = 0; i < sizeof(csv_columns) / sizeof(csv_columns[0]); i++)
			buf_printf(&h, "%s%s", i > 0 ? "," : "", csv_columns[i]);
		buf_puts(&h, "\r\n");
		http_stream_write(rs, h.data, h.len);
	}
	st = audit_scan(rq->actor.org_id, &f, export_row, &x);
	if (st != DB_OK)
		log_msg(LOG_ERROR, "audit.export_cut", "export stopped early: %s", db_status_name(st));
	arena_free(x.a);
}
