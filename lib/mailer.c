/*
 * Outgoing mail, the sending side of the mail_outbox table (lib/mail.c
 * enqueues rows inside the caller's transaction; shush-worker drains them
 * here). mailer_send speaks SMTP through libcurl; mailer_run_once is the
 * job: it claims due rows, sends them, and records the outcome with
 * exponential backoff. Without SMTP_URL nothing is sent and the rows stay
 * in the table as the outbox (make run, tests).
 *
 * Neither the SMTP URL's credentials nor a mail's body ever reach a log
 * line or last_error.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "shush.h"

#define MAILER_BATCH 20          /* rows per mailer_run_once */
#define MAILER_MAX_ATTEMPTS 10   /* failed attempts before giving up */
#define MAILER_BACKOFF_BASE 30   /* seconds, doubled per failed attempt */
#define MAILER_BACKOFF_CAP 3600  /* at most an hour between attempts */
#define MAILER_LEASE_SECONDS 300 /* a claimed row is invisible this long */
#define MAILER_CONNECT_TIMEOUT 10
#define MAILER_TOTAL_TIMEOUT 30
#define MAILER_LINE_MAX 998 /* RFC 5322 2.1.1, without CRLF */
#define MAILER_ADDR_MAX 320

static volatile sig_atomic_t stop_requested;

void
mailer_request_stop(void)
{
	stop_requested = 1;
}

/* ------------------------------------------------------------ checks */

/* An addr-spec as we accept it: one address, printable, no whitespace and
 * none of the characters that would let it break out of "<…>" in the SMTP
 * envelope or the header. Bytes >= 0x80 pass (internationalised
 * addresses; the server decides). */
static const char *
addr_problem(const char *s)
{
	const char *at = NULL;
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		if (c == '\r' || c == '\n')
			return "contains CR or LF";
		if (c < 0x20 || c == 0x7f)
			return "contains a control character";
		if (c == ' ' || strchr("<>()[],;:\"\\", c) != NULL)
			return "is not a single plain address";
		if (c == '@')
			at = s + n;
	}
	if (n == 0 || n > MAILER_ADDR_MAX)
		return "is empty or too long";
	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return "is not of the form local@domain";
	return NULL;
}

/* Header text (subject, display name): no CR/LF (header injection), no
 * other control character. */
static const char *
header_problem(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\r' || c == '\n')
			return "contains CR or LF (header injection refused)";
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return "contains a control character";
	}
	return NULL;
}

/* SMTP_FROM is "addr" or "Display Name <addr>". */
struct from_parts {
	const char *display; /* NULL when none */
	const char *addr;
};

static int
parse_from(struct arena *a, const char *from, struct from_parts *out, const char **problem)
{
	const char *lt = strrchr(from, '<');
	const char *p;

	out->display = NULL;
	out->addr = from;
	*problem = header_problem(from);
	if (*problem != NULL)
		return -1;
	if (lt != NULL) {
		const char *gt = strchr(lt, '>');
		size_t dn = (size_t)(lt - from);

		if (gt == NULL || gt[1] != '\0') {
			*problem = "has an unbalanced <address>";
			return -1;
		}
		out->addr = arena_strndup(a, lt + 1, (size_t)(gt - lt - 1));
		while (dn > 0 && (from[dn - 1] == ' ' || from[dn - 1] == '\t'))
			dn--;
		p = from;
		while (dn > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			dn--;
		}
		if (dn >= 2 && p[0] == '"' && p[dn - 1] == '"') {
			p++;
			dn -= 2;
		}
		if (dn > 0)
			out->display = arena_strndup(a, p, dn);
	}
	*problem = addr_problem(out->addr);
	return *problem != NULL ? -1 : 0;
}

/* The parts of SMTP_URL we look at, through curl_url(). */
struct smtp_target {
	int tls_implicit; /* smtps:// */
	int has_login;
	int loopback;
	char user[256], password[256]; /* only to scrub them from messages */
};

static int
is_loopback(const char *host)
{
	return strcasecmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	       strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
}

static void
url_part(CURLU *u, CURLUPart part, unsigned flags, char *out, size_t cap)
{
	char *v = NULL;

	out[0] = '\0';
	if (curl_url_get(u, part, &v, flags) == CURLUE_OK && v != NULL) {
		snprintf(out, cap, "%s", v);
		curl_free(v);
	}
}

static int
parse_target(const char *url, struct smtp_target *t, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char scheme[16], host[256], pw_raw[256];
	int rc = -1;

	memset(t, 0, sizeof(*t));
	if (u == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* The message never quotes the URL: it may carry a password. */
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		snprintf(err, errlen, "SMTP_URL is not a valid URL");
		goto done;
	}
	url_part(u, CURLUPART_SCHEME, 0, scheme, sizeof(scheme));
	url_part(u, CURLUPART_HOST, 0, host, sizeof(host));
	url_part(u, CURLUPART_USER, CURLU_URLDECODE, t->user, sizeof(t->user));
	url_part(u, CURLUPART_PASSWORD, CURLU_URLDECODE, t->password, sizeof(t->password));
	url_part(u, CURLUPART_PASSWORD, 0, pw_raw, sizeof(pw_raw));
	if (strcmp(scheme, "smtp") != 0 && strcmp(scheme, "smtps") != 0) {
		snprintf(err, errlen, "SMTP_URL must start with smtp:// or smtps://");
		goto done;
	}
	if (host[0] == '\0') {
		snprintf(err, errlen, "SMTP_URL has no host");
		goto done;
	}
	t->tls_implicit = strcmp(scheme, "smtps") == 0;
	t->has_login = t->user[0] != '\0' || t->password[0] != '\0';
	t->loopback = is_loopback(host);
	rc = 0;
done:
	crypto_wipe(pw_raw, sizeof(pw_raw));
	curl_url_cleanup(u);
	return rc;
}

/* Replaces every occurrence of secret in s by "***" (in place; s only
 * shrinks). */
static void
scrub(char *s, const char *secret)
{
	size_t n = strlen(secret);
	char *p;

	if (n < 3)
		return; /* too short to scrub without mangling the message */
	while ((p = strstr(s, secret)) != NULL) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
}

int
mailer_check_config(const char *smtp_url, const char *from, char *err, size_t errlen)
{
	struct smtp_target t;
	struct arena *a;
	struct from_parts fp;
	const char *problem;
	int rc;

	err[0] = '\0';
	if (parse_target(smtp_url, &t, err, errlen) < 0)
		return -1;
	crypto_wipe(&t, sizeof(t));
	a = arena_new(1024);
	rc = parse_from(a, from, &fp, &problem);
	if (rc < 0)
		snprintf(err, errlen, "SMTP_FROM %s", problem);
	arena_free(a);
	return rc;
}

/* ------------------------------------------------------------ message */

/* Appends an unstructured header value: as is when it is short printable
 * ASCII, else as RFC 2047 "B" encoded-words of UTF-8, each at most 75
 * characters, folded onto continuation lines. */
static void
put_header_text(struct buf *b, const char *s)
{
	size_t n = strlen(s), i, start;
	int plain = n <= 900 && strstr(s, "=?") == NULL;

	for (i = 0; plain && i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			plain = 0;
	if (plain) {
		buf_append(b, s, n);
		return;
	}
	/* 39 bytes -> 52 base64 characters; "=?UTF-8?B?" + 52 + "?=" = 64,
	 * so even the first line ("Subject: " + word) stays under 78. */
	for (start = 0; start < n;) {
		size_t len = n - start > 39 ? 39 : n - start;
		char enc[64];

		/* Never split a UTF-8 sequence: back off continuation bytes. */
		while (len > 1 && start + len < n && ((unsigned char)s[start + len] & 0xc0) == 0x80)
			len--;
		crypto_b64_encode((const unsigned char *)s + start, len, enc);
		if (start > 0)
			buf_puts(b, "\r\n ");
		buf_printf(b, "=?UTF-8?B?%s?=", enc);
		start += len;
	}
}

/* A display name: an atom-ish ASCII name is quoted, anything else encoded. */
static void
put_display_name(struct buf *b, const char *s)
{
	const char *p;

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			break;
	if (*p != '\0' || strlen(s) > 200) {
		put_header_text(b, s);
		return;
	}
	buf_putc(b, '"');
	for (p = s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *p);
	}
	buf_putc(b, '"');
}

static void
put_date(struct buf *b)
{
	static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	buf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", wday[tm.tm_wday],
		   tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		   tm.tm_sec);
}

static void
put_message_id(struct buf *b, const char *from_addr)
{
	unsigned char rnd[16];
	char hex[33];
	const char *domain = strrchr(from_addr, '@');
	const char *p;

	if (crypto_random(rnd, sizeof(rnd)) < 0)
		memset(rnd, 0, sizeof(rnd)); /* unreachable in practice */
	crypto_hex(rnd, sizeof(rnd), hex);
	domain = domain != NULL ? domain + 1 : "";
	for (p = domain; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			break;
	if (*domain == '\0' || *p != '\0')
		domain = "shush.invalid";
	buf_printf(b, "Message-ID: <%s.%lld@%s>\r\n", hex, (long long)time_now_ms(), domain);
}

/* The body with CRLF line endings (bare LF and bare CR become CRLF) and a
 * final CRLF; *longest gets the longest line's length. */
static void
normalise_body(struct buf *out, const char *body, size_t *longest)
{
	size_t line = 0;

	*longest = 0;
	for (; *body != '\0'; body++) {
		if (*body == '\r' || *body == '\n') {
			if (*body == '\r' && body[1] == '\n')
				body++;
			buf_puts(out, "\r\n");
			line = 0;
			continue;
		}
		buf_putc(out, *body);
		if (++line > *longest)
			*longest = line;
	}
	if (out->len < 2 || memcmp(out->data + out->len - 2, "\r\n", 2) != 0)
		buf_puts(out, "\r\n");
}

static void
build_message(struct buf *m, const struct from_parts *fp, const char *to, const char *subject,
	      const char *body)
{
	struct buf nb;
	size_t longest;

	buf_puts(m, "From: ");
	if (fp->display != NULL) {
		put_display_name(m, fp->display);
		buf_printf(m, " <%s>\r\n", fp->addr);
	} else {
		buf_printf(m, "%s\r\n", fp->addr);
	}
	buf_printf(m, "To: %s\r\n", to);
	buf_puts(m, "Subject: ");
	put_header_text(m, subject);
	buf_puts(m, "\r\n");
	put_date(m);
	put_message_id(m, fp->addr);
	buf_puts(m, "MIME-Version: 1.0\r\n"
		    "Content-Type: text/plain; charset=utf-8\r\n");
	buf_init(&nb, m->arena);
	normalise_body(&nb, body, &longest);
	if (longest <= MAILER_LINE_MAX) {
		buf_puts(m, "Content-Transfer-Encoding: 8bit\r\n\r\n");
		buf_append(m, nb.data, nb.len);
		return;
	}
	/* A line too long for SMTP: base64 keeps the text intact. */
	buf_puts(m, "Content-Transfer-Encoding: base64\r\n\r\n");
	for (size_t off = 0; off < nb.len; off += 57) {
		size_t len = nb.len - off > 57 ? 57 : nb.len - off;
		char enc[80];

		crypto_b64_encode((const unsigned char *)nb.data + off, len, enc);
		buf_printf(m, "%s\r\n", enc);
	}
}

struct upload {
	const char *p;
	size_t len, pos;
};

static size_t
read_cb(char *dst, size_t size, size_t nmemb, void *userp)
{
	struct upload *u = userp;
	size_t n = size * nmemb;

	if (n > u->len - u->pos)
		n = u->len - u->pos;
	memcpy(dst, u->p + u->pos, n);
	u->pos += n;
	return n;
}

/* ------------------------------------------------------------ sending */

static int curl_ready;

/* SMTP replies that a retry cannot fix: 5xx, except the authentication
 * ones (530, 534, 535, 538), which an operator fixes in SMTP_URL. */
static int
permanent_reply(CURLcode rc, long code)
{
	if (rc == CURLE_LOGIN_DENIED)
		return 0;
	if (code < 500 || code > 599)
		return 0;
	return code != 530 && code != 534 && code != 535 && code != 538;
}

int
mailer_send(const char *smtp_url, const char *from, const char *to, const char *subject,
	    const char *body, char *err, size_t errlen)
{
	struct arena *a = NULL;
	struct smtp_target t;
	struct from_parts fp;
	struct buf msg;
	struct upload up;
	struct curl_slist *rcpt = NULL;
	CURL *c = NULL;
	CURLcode rc;
	char errbuf[CURL_ERROR_SIZE];
	const char *problem;
	long code = 0;
	int ret = -1;

	err[0] = '\0';
	memset(&t, 0, sizeof(t));
	if ((problem = addr_problem(to)) != NULL) {
		snprintf(err, errlen, "recipient address %s", problem);
		return MAILER_PERMANENT;
	}
	if ((problem = header_problem(subject)) != NULL) {
		snprintf(err, errlen, "subject %s", problem);
		return MAILER_PERMANENT;
	}
	if (parse_target(smtp_url, &t, err, errlen) < 0)
		return -1; /* configuration: a fixed SMTP_URL sends it later */
	a = arena_new(8192);
	if (parse_from(a, from, &fp, &problem) < 0) {
		snprintf(err, errlen, "SMTP_FROM %s", problem);
		goto done;
	}
	buf_init(&msg, a);
	build_message(&msg, &fp, to, subject, body);

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(err, errlen, "libcurl initialisation failed");
			goto done;
		}
		curl_ready = 1;
	}
	c = curl_easy_init();
	rcpt = curl_slist_append(NULL, arena_printf(a, "<%s>", to));
	if (c == NULL || rcpt == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	up.p = msg.data;
	up.len = msg.len;
	up.pos = 0;
	errbuf[0] = '\0';
	/* Credentials come from the URL's userinfo (curl decodes them). */
	curl_easy_setopt(c, CURLOPT_URL, smtp_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)MAILER_CONNECT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)MAILER_TOTAL_TIMEOUT);
	/* smtps:// is TLS from the first byte. smtp:// upgrades with STARTTLS
	 * when the server offers it; with a password to send to a host that
	 * is not this machine, STARTTLS is required so that the password never
	 * crosses the network in clear text. */
	if (t.tls_implicit || (t.has_login && !t.loopback))
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	else
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, arena_printf(a, "<%s>", fp.addr));
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &up);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg.len);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK) {
		ret = 0;
		goto done;
	}
	if (code > 0)
		snprintf(err, errlen, "smtp: %s (reply %ld)",
			 errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc), code);
	else
		snprintf(err, errlen, "smtp: %s", errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	ret = permanent_reply(rc, code) ? MAILER_PERMANENT : -1;
done:
	/* Whatever curl said, the password never leaves this function. */
	scrub(err, t.password);
	crypto_wipe(&t, sizeof(t));
	crypto_wipe(errbuf, sizeof(errbuf));
	curl_slist_free_all(rcpt);
	if (c != NULL)
		curl_easy_cleanup(c);
	if (a != NULL)
		arena_free(a);
	return ret;
}

/* ------------------------------------------------------------ the job */

/*
 * Claiming. Each row is claimed on its own by one autocommitted statement
 * that takes it with FOR UPDATE SKIP LOCKED and pushes its next_attempt_at
 * MAILER_LEASE_SECONDS ahead (a lease). The send then runs with no
 * transaction open and no row lock held, and a second statement records
 * the outcome.
 *
 * Why not hold the row locks while sending: a batch of 20 sends can take
 * 20 × 30 s, and during that time the locks would block whatever else
 * touches those rows — above all deleting an organization, whose ON DELETE
 * CASCADE would wait (and hit statement_timeout) — and keep a transaction
 * open on the server for minutes. The lease gives the same guarantee
 * across any number of workers and hosts (a row being sent is not due for
 * anyone else: the lease is ten times the longest send), and a worker that
 * dies mid-send only delays that one row by the lease. Delivery is
 * at-least-once either way: a crash between the server's 250 and the
 * UPDATE re-sends the mail after the lease, which SMTP cannot avoid.
 */
static struct db_stmt st_claim = {
	"mailer_claim",
	"UPDATE mail_outbox SET next_attempt_at = now() + make_interval(secs => $1::int) "
	"WHERE id = (SELECT id FROM mail_outbox "
	"WHERE sent_at IS NULL AND next_attempt_at <= now() AND attempts < $2::int "
	"ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
	"RETURNING id, to_address, subject, body, attempts",
	2, 0};

/* last_error keeps the reason of the last failure, also once sent. */
static struct db_stmt st_sent = {
	"mailer_sent", "UPDATE mail_outbox SET sent_at = now() WHERE id = $1", 1, 0};

static struct db_stmt st_failed = {
	"mailer_failed",
	"UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2, "
	"next_attempt_at = CASE WHEN $3::bool THEN 'infinity'::timestamptz "
	"ELSE now() + make_interval(secs => $4::int) END WHERE id = $1",
	4, 0};

/* Seconds to wait after the n-th failed attempt (n >= 1). */
static long
backoff_seconds(int failed)
{
	long s = MAILER_BACKOFF_BASE;

	for (int i = 1; i < failed && s < MAILER_BACKOFF_CAP; i++)
		s *= 2;
	return s < MAILER_BACKOFF_CAP ? s : MAILER_BACKOFF_CAP;
}

static int
parse_int(const char *s)
{
	long v = 0;

	for (; s != NULL && *s >= '0' && *s <= '9' && v < 1000000; s++)
		v = v * 10 + (*s - '0');
	return (int)v;
}

int
mailer_run_once(struct arena *a, int *sent)
{
	const char *url = config_str(CFG_SMTP_URL);
	const char *from = config_str(CFG_SMTP_FROM);
	char lease[16], max_attempts[16];
	const char *claim_params[2] = {lease, max_attempts};

	*sent = 0;
	if (!config_is_set(CFG_SMTP_URL) || url[0] == '\0')
		return 0; /* no SMTP: the table is the outbox */
	snprintf(lease, sizeof(lease), "%d", MAILER_LEASE_SECONDS);
	snprintf(max_attempts, sizeof(max_attempts), "%d", MAILER_MAX_ATTEMPTS);
	for (int i = 0; i < MAILER_BATCH && !stop_requested; i++) {
		struct db_result r, u;
		const char *id, *to, *subject, *body;
		char err[512], reason[640], delay_s[24];
		int attempt, rc, give_up;
		long delay;

		if (db_exec(a, &st_claim, claim_params, &r) != DB_OK)
			return -1;
		if (r.rows == 0)
			break;
		id = db_get(&r, 0, 0);
		to = db_get(&r, 0, 1);
		subject = db_get(&r, 0, 2);
		body = db_get(&r, 0, 3);
		attempt = parse_int(db_get(&r, 0, 4)) + 1;

		rc = mailer_send(url, from, to, subject, body, err, sizeof(err));
		if (rc == 0) {
			const char *p[1] = {id};

			if (db_exec(a, &st_sent, p, &u) != DB_OK) {
				/* Sent, but not recorded: it goes out again after
				 * the lease. */
				log_msg(LOG_ERROR, "mail.unrecorded",
					"mail %s to %s was sent but could not be marked sent (%s)",
					id, to, db_status_name(u.status));
				return -1;
			}
			(*sent)++;
			log_msg(LOG_INFO, "mail.sent", "mail %s to %s sent (attempt %d)", id, to,
				attempt);
			continue;
		}
		give_up = rc == MAILER_PERMANENT || attempt >= MAILER_MAX_ATTEMPTS;
		delay = backoff_seconds(attempt);
		if (give_up)
			snprintf(reason, sizeof(reason), "gave up after %d attempt%s: %s", attempt,
				 attempt == 1 ? "" : "s", err);
		else
			snprintf(reason, sizeof(reason), "%s", err);
		snprintf(delay_s, sizeof(delay_s), "%ld", delay);
		{
			const char *p[4] = {id, reason, give_up ? "true" : "false", delay_s};

			if (db_exec(a, &st_failed, p, &u) != DB_OK)
				return -1; /* the lease retries it */
		}
		if (give_up)
			log_msg(LOG_ERROR, "mail.failed", "mail %s to %s failed for good: %s", id, to,
				reason);
		else
			log_msg(LOG_WARN, "mail.failed",
				"mail %s to %s failed (attempt %d, next in %lds): %s", id, to,
				attempt, delay, err);
	}
	return 0;
}
