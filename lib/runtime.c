/*
 * The runtime API's non-HTTP half (API.md §6): rendering the resolved
 * environment of an environment key in its formats, the strong ETag of a
 * rendered body, If-None-Match, and the resolution of one key.
 *
 * First version: nothing is cached across requests. Every runtime read
 * resolves the environment afresh from PostgreSQL (so a write acknowledged
 * by /v1 is visible on the very next read, on every worker and host), and
 * the ETag is a hash of the bytes served, so it is the same on every
 * worker and host for the same content and changes whenever any value the
 * environment resolves changes. The warm path of issue 5 (a per-worker
 * cache keyed on the environment generations) replaces the resolution on a
 * hit; the rendering and the ETag stay these.
 */
#include <stdlib.h>
#include <string.h>

#include "shush.h"

static const char *const format_names[RUNTIME_FORMAT__MAX] = {
	[RUNTIME_JSON] = "json",
	[RUNTIME_DOTENV] = "dotenv",
	[RUNTIME_SHELL] = "shell",
};

int
runtime_format_parse(const char *s, enum runtime_format *f)
{
	int i;

	if (s == NULL) {
		*f = RUNTIME_JSON;
		return 0;
	}
	for (i = 0; i < RUNTIME_FORMAT__MAX; i++)
		if (strcmp(s, format_names[i]) == 0) {
			*f = (enum runtime_format)i;
			return 0;
		}
	return -1;
}

const char *
runtime_format_name(enum runtime_format f)
{
	return format_names[f];
}

int
runtime_render(struct buf *b, struct arena *a, enum runtime_format f, const char *environment,
	       const struct secret_resolved *items, size_t n)
{
	struct dotenv_pair *pairs = arena_alloc(a, (n + 1) * sizeof(*pairs));
	size_t i, start = b->len;
	int rc;

	for (i = 0; i < n; i++) {
		pairs[i].key = items[i].key;
		pairs[i].value = items[i].value;
		pairs[i].value_len = items[i].value_len;
		pairs[i].line = 0;
	}
	switch (f) {
	case RUNTIME_DOTENV:
		return dotenv_write_dotenv(b, pairs, n);
	case RUNTIME_SHELL:
		return dotenv_write_shell(b, pairs, n);
	case RUNTIME_JSON:
	case RUNTIME_FORMAT__MAX:
		break;
	}
	buf_puts(b, "{\"environment\":");
	buf_json_string(b, environment, strlen(environment));
	buf_puts(b, ",\"secrets\":");
	if ((rc = dotenv_write_json(b, pairs, n)) < 0) {
		b->len = start;
		b->data[start] = '\0';
		return -1;
	}
	buf_putc(b, '}');
	return 0;
}

void
runtime_etag(enum runtime_format f, const char *body, size_t n, char out[RUNTIME_ETAG_LEN + 1])
{
	unsigned char in[16 + 32], md[32];
	size_t nl = strlen(format_names[f]);

	/* SHA-256(format NUL SHA-256(body)): two formats whose bytes happen
	 * to agree (an empty environment in dotenv and shell) still differ. */
	memset(in, 0, sizeof(in));
	memcpy(in, format_names[f], nl);
	crypto_sha256(body, n, in + 16);
	crypto_sha256(in, sizeof(in), md);
	out[0] = '"';
	crypto_hex(md, sizeof(md), out + 1);
	out[RUNTIME_ETAG_LEN - 1] = '"';
	out[RUNTIME_ETAG_LEN] = '\0';
}

/* RFC 9110 §13.1.2: If-None-Match is a list of entity tags (weak
 * comparison: a W/ prefix is ignored) or "*". */
int
runtime_etag_match(const char *if_none_match, const char *etag)
{
	const char *p = if_none_match;
	size_t elen = strlen(etag);

	if (p == NULL)
		return 0;
	for (;;) {
		const char *q;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			return 0;
		if (*p == '*')
			return 1;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		if (*p != '"') {
			/* Not an entity tag: skip to the next member. */
			p += strcspn(p, ",");
			continue;
		}
		q = strchr(p + 1, '"');
		if (q == NULL)
			return 0;
		if ((size_t)(q + 1 - p) == elen && memcmp(p, etag, elen) == 0)
			return 1;
		p = q + 1;
	}
}

/* The current value of key in the first environment of the resolution
 * order (a text[] of environment ids) that has one. */
static struct db_stmt st_resolve_one = {
	"runtime_resolve_one",
	"SELECT s.key, s.id, sv.environment_id, sv.version, v.value "
	"FROM secret s JOIN secret_value sv ON sv.secret_id = s.id "
	"JOIN secret_version v ON v.secret_id = sv.secret_id "
	"AND v.environment_id = sv.environment_id AND v.version = sv.version "
	"WHERE s.org_id = $1 AND s.project_id = $2 AND s.key = $3 "
	"AND sv.environment_id = ANY($4::text[]) "
	"ORDER BY array_position($4::text[], sv.environment_id) LIMIT 1",
	4, 0};

enum db_status
runtime_resolve_one(struct arena *a, const char *org_id, const char *project_id,
		    const struct environment *order, int n, const char *key,
		    struct secret_resolved *out)
{
	struct db_result r;
	struct buf ids, value;
	const char *params[4];
	enum db_status st;
	int i;

	memset(out, 0, sizeof(*out));
	buf_init(&ids, a);
	buf_putc(&ids, '{');
	for (i = 0; i < n; i++) {
		/* Ids come from PostgreSQL; still, nothing but [A-Za-z0-9_-]
		 * goes into the array literal. */
		if (order[i].id == NULL || order[i].id[0] == '\0' ||
		    order[i].id[strspn(order[i].id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
						    "tuvwxyz0123456789_-")] != '\0')
			return DB_INVALID;
		buf_printf(&ids, "%s%s", i > 0 ? "," : "", order[i].id);
	}
	buf_putc(&ids, '}');
	params[0] = org_id;
	params[1] = project_id;
	params[2] = key;
	params[3] = ids.data;
	if (db_exec(a, &st_resolve_one, params, &r) != DB_OK)
		return r.status;
	if (r.rows == 0)
		return DB_OK;
	out->key = db_get(&r, 0, 0);
	out->secret_id = db_get(&r, 0, 1);
	out->environment_id = db_get(&r, 0, 2);
	out->version = (int)strtol(db_get(&r, 0, 3), NULL, 10);
	for (i = 0; i < n; i++)
		if (strcmp(order[i].id, out->environment_id) == 0)
			out->environment = order[i].slug;
	buf_init(&value, a);
	st = secrets_open(a, org_id, project_id, out->secret_id, out->environment_id, out->version,
			  db_get(&r, 0, 4), &value);
	if (st != DB_OK) {
		log_msg(LOG_ERROR, "secrets.unreadable",
			"secret %s version %d in environment %s does not open", out->secret_id,
			out->version, out->environment_id);
		memset(out, 0, sizeof(*out));
		return st;
	}
	out->value = value.data;
	out->value_len = value.len;
	return DB_OK;
}
