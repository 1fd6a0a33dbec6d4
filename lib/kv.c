/*
 * Redis through hiredis: caches and counters only. Every call has a short
 * timeout and reports failure instead of blocking; callers fall back, so a
 * Redis outage slows nothing down and loses nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "shush.h"

#define KV_TIMEOUT_MS 250
#define KV_RETRY_MS 1000

static redisContext *ctx;
static int64_t last_fail_ms;

struct kv_addr {
	char host[256];
	int port;
	int db;
	char password[256];
};

/* redis://[:password@]host[:port][/db] */
static int
parse_url(const char *url, struct kv_addr *out)
{
	const char *p, *at, *slash, *colon;
	size_t n;

	memset(out, 0, sizeof(*out));
	out->port = 6379;
	if (strncmp(url, "redis://", 8) != 0)
		return -1;
	p = url + 8;
	slash = strchr(p, '/');
	at = strchr(p, '@');
	if (at != NULL && (slash == NULL || at < slash)) {
		const char *pw = memchr(p, ':', (size_t)(at - p));

		if (pw != NULL) {
			n = (size_t)(at - pw - 1);
			if (n >= sizeof(out->password))
				return -1;
			memcpy(out->password, pw + 1, n);
		}
		p = at + 1;
	}
	n = slash != NULL ? (size_t)(slash - p) : strlen(p);
	colon = memchr(p, ':', n);
	if (colon != NULL) {
		char *end;
		long port = strtol(colon + 1, &end, 10);

		if (port <= 0 || port > 65535)
			return -1;
		out->port = (int)port;
		n = (size_t)(colon - p);
	}
	if (n == 0 || n >= sizeof(out->host))
		return -1;
	memcpy(out->host, p, n);
	if (slash != NULL && slash[1] != '\0') {
		char *end;
		long db = strtol(slash + 1, &end, 10);

		if (db < 0 || db > 1000)
			return -1;
		out->db = (int)db;
	}
	return 0;
}

static void
drop(void)
{
	if (ctx != NULL)
		redisFree(ctx);
	ctx = NULL;
	last_fail_ms = time_now_ms();
}

static int
simple(const char *fmt, const char *arg)
{
	redisReply *r = redisCommand(ctx, fmt, arg);
	int ok = r != NULL && r->type != REDIS_REPLY_ERROR;

	if (r != NULL)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

int
kv_connect(void)
{
	struct kv_addr addr;
	struct timeval tv = {0, KV_TIMEOUT_MS * 1000};
	char db[16];

	if (ctx != NULL)
		return 0;
	if (last_fail_ms != 0 && time_now_ms() - last_fail_ms < KV_RETRY_MS)
		return -1;
	if (parse_url(config_str(CFG_REDIS_URL), &addr) < 0) {
		log_msg(LOG_ERROR, "kv.bad_url", "REDIS_URL is malformed");
		last_fail_ms = time_now_ms();
		return -1;
	}
	ctx = redisConnectWithTimeout(addr.host, addr.port, tv);
	if (ctx == NULL || ctx->err) {
		log_msg(LOG_WARN, "kv.connect_failed", "%s:%d: %s", addr.host, addr.port,
			ctx != NULL ? ctx->errstr : "out of memory");
		drop();
		return -1;
	}
	redisSetTimeout(ctx, tv);
	snprintf(db, sizeof(db), "%d", addr.db);
	if ((addr.password[0] != '\0' && simple("AUTH %s", addr.password) < 0) ||
	    (addr.db != 0 && simple("SELECT %s", db) < 0)) {
		log_msg(LOG_WARN, "kv.connect_failed", "AUTH or SELECT refused");
		drop();
		crypto_wipe(&addr, sizeof(addr));
		return -1;
	}
	crypto_wipe(&addr, sizeof(addr));
	last_fail_ms = 0;
	return 0;
}

int
kv_ping(void)
{
	redisReply *r;
	int ok;

	if (kv_connect() < 0)
		return -1;
	r = redisCommand(ctx, "PING");
	ok = r != NULL && r->type == REDIS_REPLY_STATUS;
	if (r != NULL)
		freeReplyObject(r);
	if (!ok)
		drop();
	return ok ? 0 : -1;
}

long
kv_incr_window(const char *key, int ttl_seconds, long *ttl_left)
{
	redisReply *r[3] = {NULL, NULL, NULL};
	char ttl[16];
	long value = -1;
	int i;

	if (kv_connect() < 0)
		return -1;
	snprintf(ttl, sizeof(ttl), "%d", ttl_seconds);
	/* One round trip: create the window if new, count, read its TTL. */
	redisAppendCommand(ctx, "SET %s 0 EX %s NX", key, ttl);
	redisAppendCommand(ctx, "INCR %s", key);
	redisAppendCommand(ctx, "TTL %s", key);
	for (i = 0; i < 3; i++) {
		if (redisGetReply(ctx, (void **)&r[i]) != REDIS_OK || r[i] == NULL) {
			drop();
			goto done;
		}
	}
	if (r[1]->type == REDIS_REPLY_INTEGER)
		value = (long)r[1]->integer;
	if (ttl_left != NULL)
		*ttl_left = r[2]->type == REDIS_REPLY_INTEGER && r[2]->integer > 0
				    ? (long)r[2]->integer
				    : ttl_seconds;
done:
	for (i = 0; i < 3; i++)
		if (r[i] != NULL)
			freeReplyObject(r[i]);
	return value;
}

long
kv_peek_window(const char *key, long *ttl_left)
{
	redisReply *r[2] = {NULL, NULL};
	long value = -1;
	int i;

	if (kv_connect() < 0)
		return -1;
	redisAppendCommand(ctx, "GET %s", key);
	redisAppendCommand(ctx, "TTL %s", key);
	for (i = 0; i < 2; i++) {
		if (redisGetReply(ctx, (void **)&r[i]) != REDIS_OK || r[i] == NULL) {
			drop();
			goto done;
		}
	}
	if (r[0]->type == REDIS_REPLY_STRING)
		value = strtol(r[0]->str, NULL, 10);
	else if (r[0]->type == REDIS_REPLY_NIL)
		value = 0;
	if (ttl_left != NULL)
		*ttl_left = r[1]->type == REDIS_REPLY_INTEGER && r[1]->integer > 0
				    ? (long)r[1]->integer
				    : 0;
done:
	for (i = 0; i < 2; i++)
		if (r[i] != NULL)
			freeReplyObject(r[i]);
	return value;
}
