/*
 * Fixed one-minute windows. Counted in Redis so every worker and host sees
 * the same count; while Redis is down each process counts alone, so the
 * limit still holds per worker rather than vanishing.
 */
#include <stdio.h>
#include <string.h>

#include "shush.h"

#define WINDOW_SECONDS 60
#define LOCAL_SLOTS 1024

struct local_slot {
	unsigned char key[32];
	int64_t window_start_ms;
	long count;
};

static struct local_slot local[LOCAL_SLOTS];

static long
local_hit(const char *key, long *ttl_left)
{
	unsigned char h[32];
	struct local_slot *s;
	int64_t now = time_now_ms();
	unsigned idx;

	crypto_sha256(key, strlen(key), h);
	idx = ((unsigned)h[0] << 8 | h[1]) % LOCAL_SLOTS;
	s = &local[idx];
	if (memcmp(s->key, h, sizeof(h)) != 0 || now - s->window_start_ms >= WINDOW_SECONDS * 1000) {
		memcpy(s->key, h, sizeof(h));
		s->window_start_ms = now;
		s->count = 0;
	}
	*ttl_left = WINDOW_SECONDS - (now - s->window_start_ms) / 1000;
	return ++s->count;
}

/* The subject (an e-mail, an IP) is hashed so it never sits in Redis in
 * clear and the key length stays bounded. */
static void
window_key(const char *bucket, const char *who, char *key, size_t n)
{
	unsigned char h[32];
	char hex[65];

	crypto_sha256(who, strlen(who), h);
	crypto_hex(h, 16, hex);
	snprintf(key, n, "shush:rl:%s:%s", bucket, hex);
}

/* The local window's count without counting. */
static long
local_peek(const char *key, long *ttl_left)
{
	unsigned char h[32];
	const struct local_slot *s;
	int64_t now = time_now_ms();

	crypto_sha256(key, strlen(key), h);
	s = &local[((unsigned)h[0] << 8 | h[1]) % LOCAL_SLOTS];
	if (memcmp(s->key, h, sizeof(h)) != 0 || now - s->window_start_ms >= WINDOW_SECONDS * 1000)
		return 0;
	*ttl_left = WINDOW_SECONDS - (now - s->window_start_ms) / 1000;
	return s->count;
}

int
ratelimit_peek(const char *bucket, const char *who, long limit)
{
	char key[512];
	long count, ttl_left = WINDOW_SECONDS;

	if (limit <= 0)
		return 0;
	window_key(bucket, who, key, sizeof(key));
	count = kv_peek_window(key, &ttl_left);
	if (count < 0)
		count = local_peek(key, &ttl_left);
	if (count < limit)
		return 0;
	return ttl_left > 0 ? (int)ttl_left : 1;
}

int
ratelimit_hit(const char *bucket, const char *who, long limit)
{
	char key[512];
	long count, ttl_left = WINDOW_SECONDS;

	if (limit <= 0)
		return 0;
	window_key(bucket, who, key, sizeof(key));
	count = kv_incr_window(key, WINDOW_SECONDS, &ttl_left);
	if (count < 0)
		count = local_hit(key, &ttl_left);
	if (count <= limit)
		return 0;
	return ttl_left > 0 ? (int)ttl_left : 1;
}
