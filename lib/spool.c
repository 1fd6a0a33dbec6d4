/*
 * The audit spool (issue 5): runtime reads are recorded without a round
 * trip to PostgreSQL. Each shushd worker appends one line per read to its
 * own file in SHUSH_SPOOL_DIR with a single write(2) on an O_APPEND
 * descriptor, and holds the file under an exclusive flock(2) for as long
 * as it writes to it. shush-worker ships complete lines into the org's
 * audit chain and records how far each file is shipped (audit_spool) in
 * the same transaction as the events, so every record is chained exactly
 * once; once a file's writer is gone (the lock is free) and every complete
 * line is in, the file is deleted. A read whose record cannot be appended
 * is refused by the caller, never served unrecorded.
 *
 * What survives what: a worker crash loses nothing (the bytes are in the
 * kernel); a torn last line (the worker died inside write(2), or the disk
 * filled) belongs to a read that was refused and is dropped with a
 * warning. A host crash can lose the records of the moments before the
 * page cache reached the disk, as with any log written without fsync.
 *
 * A record is one JSON object per line (never a secret value):
 *   {"at":ms,"org":…,"actor":…,"action":…,"tt":…,"tid":…,"project":…,
 *    "env":…,"ip":…,"ua":…,"rid":…,"meta":{…}}
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "shush.h"

#define SPOOL_SUFFIX ".spool"
#define SPOOL_ROTATE_BYTES (64L * 1024 * 1024) /* a worker starts a new file past this */
#define SHIP_CHUNK (1024 * 1024)               /* bytes read per shipping transaction */
/* Events per shipping transaction: it holds the org's chain head from its
 * first insert to its commit, and the org's own writes queue behind it. */
#define SHIP_MAX_EVENTS 256

/* ----------------------------------------------------------------- writer */

static int spool_fd = -1;
static long spool_size;

/* A bounded line: appends that do not fit set overflow. */
struct line {
	char *p;
	size_t len, cap;
	int overflow;
};

static void
line_put(struct line *l, const char *s, size_t n)
{
	if (l->overflow || l->len + n >= l->cap) {
		l->overflow = 1;
		return;
	}
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

static void
line_puts(struct line *l, const char *s)
{
	line_put(l, s, strlen(s));
}

/* ,"name":"escaped" — or nothing when v is NULL. */
static void
line_field(struct line *l, const char *name, const char *v)
{
	int cut = 0;

	if (v == NULL)
		return;
	line_puts(l, ",\"");
	line_puts(l, name);
	line_puts(l, "\":\"");
	if (!l->overflow)
		l->len = json_escape_into(l->p, l->len, l->cap, v, &cut);
	l->overflow |= cut;
	line_put(l, "\"", 1);
}

int
spool_format(const struct audit_event *ev, int64_t at_ms, char *out, size_t cap)
{
	struct line l = {out, 0, cap, 0};
	char num[32];

	if (ev->org_id == NULL || ev->actor_type == NULL || ev->actor_id == NULL ||
	    ev->action == NULL || ev->target_type == NULL || ev->target_id == NULL)
		return -1;
	snprintf(num, sizeof(num), "{\"at\":%lld", (long long)at_ms);
	line_puts(&l, num);
	line_field(&l, "org", ev->org_id);
	line_field(&l, "type", ev->actor_type);
	line_field(&l, "actor", ev->actor_id);
	line_field(&l, "action", ev->action);
	line_field(&l, "tt", ev->target_type);
	line_field(&l, "tid", ev->target_id);
	line_field(&l, "project", ev->project_id);
	line_field(&l, "env", ev->environment);
	line_field(&l, "ip", ev->ip);
	line_field(&l, "ua", ev->user_agent);
	line_field(&l, "rid", ev->request_id);
	if (ev->metadata != NULL) {
		/* The caller's own JSON object (never client text). */
		line_puts(&l, ",\"meta\":");
		line_puts(&l, ev->metadata);
	}
	line_puts(&l, "}\n");
	if (l.overflow)
		return -1;
	out[l.len] = '\0';
	return (int)l.len;
}

/* A fresh file: created under a name the shipper ignores, locked, then
 * renamed into place, so the shipper never sees an unlocked live file. */
static int
writer_open(void)
{
	const char *dir = config_str(CFG_SPOOL_DIR);
	char host[64], base[160], tmp[PATH_MAX], path[PATH_MAX];
	unsigned char rnd[4];
	char rhex[9];
	size_t i;
	int fd;

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "host");
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0'; i++)
		if (!((host[i] >= 'a' && host[i] <= 'z') || (host[i] >= 'A' && host[i] <= 'Z') ||
		      (host[i] >= '0' && host[i] <= '9') || host[i] == '-'))
			host[i] = '-';
	crypto_random(rnd, sizeof(rnd));
	crypto_hex(rnd, sizeof(rnd), rhex);
	snprintf(base, sizeof(base), "%s.%ld.%lld.%s", host, (long)getpid(),
		 (long long)time_now_ms(), rhex);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.new", dir, base) >= sizeof(tmp) ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s%s", dir, base, SPOOL_SUFFIX) >=
		sizeof(path))
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		log_msg(LOG_ERROR, "spool.open_failed", "cannot create a spool file in %s: %s", dir,
			strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || rename(tmp, path) < 0) {
		log_msg(LOG_ERROR, "spool.open_failed", "cannot lock or place %s: %s", path,
			strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	spool_fd = fd;
	spool_size = 0;
	return 0;
}

void
spool_writer_close(void)
{
	if (spool_fd >= 0)
		close(spool_fd); /* releases the lock: the shipper may finish the file */
	spool_fd = -1;
}

int
spool_append(const struct audit_event *ev)
{
	char line[SPOOL_RECORD_MAX];
	int n;
	ssize_t w;

	if ((n = spool_format(ev, time_now_ms(), line, sizeof(line))) < 0) {
		log_msg(LOG_ERROR, "spool.record_too_long", "an audit record does not fit a line");
		return -1;
	}
	if (spool_fd < 0 && writer_open() < 0)
		return -1;
	w = write(spool_fd, line, (size_t)n);
	if (w != n) {
		/* A short write leaves a torn line: this file takes no more
		 * records (the shipper drops its torn tail), the next read
		 * opens a new one. */
		log_msg(LOG_ERROR, "spool.write_failed", "audit spool write failed: %s",
			w < 0 ? strerror(errno) : "short write");
		spool_writer_close();
		return -1;
	}
	spool_size += n;
	if (spool_size >= SPOOL_ROTATE_BYTES)
		spool_writer_close();
	return 0;
}

int
spool_dir_check(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "SHUSH_SPOOL_DIR %s cannot be created: %s", dir,
			 strerror(errno));
		return -1;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "SHUSH_SPOOL_DIR %s is not a directory", dir);
		return -1;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		snprintf(err, errlen, "SHUSH_SPOOL_DIR %s is not writable: %s", dir,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- shipper */

static struct db_stmt st_row = {
	"spool_row", "INSERT INTO audit_spool (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", 1,
	0};
static struct db_stmt st_lock = {
	"spool_lock", "SELECT shipped FROM audit_spool WHERE name = $1 FOR UPDATE", 1, 0};
static struct db_stmt st_advance = {
	"spool_advance",
	"UPDATE audit_spool SET shipped = $2::bigint, updated_at = now() WHERE name = $1", 2, 0};
/* lastUsedAt of the environment keys a batch's reads used: the read's own
 * time, never moving back, and at most once a minute per key like the
 * authenticating query (the warm path does not stamp it). */
static struct db_stmt st_last_used = {
	"spool_last_used",
	"UPDATE api_key k SET last_used_at = u.at FROM (SELECT id, max(at) AS at FROM "
	"unnest($1::text[], $2::timestamptz[]) AS x(id, at) GROUP BY id) u "
	"WHERE k.id = u.id AND (k.last_used_at IS NULL OR "
	"k.last_used_at < u.at - interval '1 minute')",
	2, 0};
static struct db_stmt st_forget = {"spool_forget", "DELETE FROM audit_spool WHERE name = $1", 1,
				   0};

static const char *
get_str(struct arena *a, const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? arena_strdup(a, v->valuestring) : NULL;
}

int
spool_parse(struct arena *a, const char *line, size_t len, struct audit_event *ev)
{
	cJSON *o = cJSON_ParseWithLength(line, len);
	const cJSON *at, *meta;
	int rc = -1;

	memset(ev, 0, sizeof(*ev));
	if (o == NULL || !cJSON_IsObject(o))
		goto out;
	at = cJSON_GetObjectItemCaseSensitive(o, "at");
	meta = cJSON_GetObjectItemCaseSensitive(o, "meta");
	if (!cJSON_IsNumber(at) || at->valuedouble < 1 || at->valuedouble > 1e15)
		goto out;
	ev->at_ms = (int64_t)at->valuedouble;
	ev->org_id = get_str(a, o, "org");
	ev->actor_type = get_str(a, o, "type");
	ev->actor_id = get_str(a, o, "actor");
	ev->action = get_str(a, o, "action");
	ev->target_type = get_str(a, o, "tt");
	ev->target_id = get_str(a, o, "tid");
	ev->project_id = get_str(a, o, "project");
	ev->environment = get_str(a, o, "env");
	ev->ip = get_str(a, o, "ip");
	ev->user_agent = get_str(a, o, "ua");
	ev->request_id = get_str(a, o, "rid");
	if (meta != NULL) {
		char *m;

		if (!cJSON_IsObject(meta) || (m = cJSON_PrintUnformatted(meta)) == NULL)
			goto out;
		ev->metadata = arena_strdup(a, m);
		cJSON_free(m);
	}
	if (ev->org_id == NULL || ev->actor_type == NULL || ev->actor_id == NULL ||
	    ev->action == NULL || ev->target_type == NULL || ev->target_id == NULL)
		goto out;
	rc = 0;
out:
	cJSON_Delete(o);
	return rc;
}

static enum db_status
stamp_last_used(struct arena *a, const struct audit_event *evs, long n)
{
	struct db_result r;
	struct buf ids, ats;
	const char *p[2];
	char at[32];
	long i, k = 0;

	buf_init(&ids, a);
	buf_init(&ats, a);
	buf_putc(&ids, '{');
	buf_putc(&ats, '{');
	for (i = 0; i < n; i++) {
		const char *id = evs[i].actor_id;

		/* Key ids are [A-Za-z0-9_-]: nothing to quote in the literal. */
		if (strcmp(evs[i].actor_type, "apiKey") != 0 || evs[i].at_ms <= 0 ||
		    !id_plausible(id))
			continue;
		time_iso8601(evs[i].at_ms, at);
		buf_printf(&ids, "%s%s", k > 0 ? "," : "", id);
		buf_printf(&ats, "%s%s", k > 0 ? "," : "", at);
		k++;
	}
	if (k == 0)
		return DB_OK;
	buf_putc(&ids, '}');
	buf_putc(&ats, '}');
	p[0] = ids.data;
	p[1] = ats.data;
	return db_exec(a, &st_last_used, p, &r);
}

/* One transaction: the complete lines after the shipped offset, at most a
 * chunk, chained; the offset moved past them. *lines is how many complete
 * lines were consumed (0: nothing complete left). */
static enum db_status
ship_batch(struct arena *a, int fd, const char *name, char *chunk, long *lines, long *events)
{
	struct db_result r;
	struct audit_event *evs;
	const char *p[2];
	char off[24];
	long long shipped;
	ssize_t n;
	size_t used, start, i;
	long nev = 0, nlines = 0;
	enum db_status st;

	*lines = *events = 0;
	p[0] = name;
	if ((st = db_begin()) != DB_OK)
		return st;
	if ((st = db_exec(a, &st_row, p, &r)) != DB_OK || (st = db_exec(a, &st_lock, p, &r)) != DB_OK)
		goto fail;
	shipped = strtoll(db_get(&r, 0, 0), NULL, 10);
	n = pread(fd, chunk, SHIP_CHUNK, (off_t)shipped);
	if (n < 0) {
		log_msg(LOG_ERROR, "spool.read_failed", "cannot read spool file %s: %s", name,
			strerror(errno));
		st = DB_ERROR;
		goto fail;
	}
	for (used = (size_t)n; used > 0 && chunk[used - 1] != '\n'; used--)
		;
	if (used == 0) {
		db_rollback();
		return DB_OK;
	}
	evs = arena_alloc(a, SHIP_MAX_EVENTS * sizeof(*evs));
	for (start = 0, i = 0; i < used && nev < SHIP_MAX_EVENTS; i++) {
		if (chunk[i] != '\n')
			continue;
		if (spool_parse(a, chunk + start, i - start, &evs[nev]) == 0)
			nev++;
		else
			log_msg(LOG_ERROR, "spool.bad_record",
				"spool file %s: an unreadable record at byte %lld skipped", name,
				shipped + (long long)start);
		nlines++;
		start = i + 1;
	}
	used = start;
	/* Everything else before the chain heads are locked: they are held
	 * only for the inserts, the offset and the commit. */
	if (nev > 0 && (st = stamp_last_used(a, evs, nev)) != DB_OK)
		goto fail;
	if (nev > 0 && (st = audit_append_many(a, evs, (size_t)nev)) != DB_OK)
		goto fail;
	snprintf(off, sizeof(off), "%lld", shipped + (long long)used);
	p[1] = off;
	if ((st = db_exec(a, &st_advance, p, &r)) != DB_OK)
		goto fail;
	if ((st = db_commit()) != DB_OK)
		return st;
	*lines = nlines;
	*events = nev;
	return DB_OK;
fail:
	db_rollback();
	return st;
}

/* Ships one file, at most max_batches transactions of it; deletes it when
 * its writer is gone and all is in. */
static enum db_status
ship_file(struct arena *a, int dfd, const char *name, char *chunk, long *events,
	  int max_batches, volatile const int *stop)
{
	struct db_result r;
	const char *p[1] = {name};
	long lines = 0, n;
	int fd, writer_gone = 0, batches = 0;
	enum db_status st = DB_OK;
	struct stat sb;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return DB_OK; /* deleted meanwhile by another shipper */
	for (;;) {
		if ((st = ship_batch(a, fd, name, chunk, &lines, &n)) != DB_OK)
			break;
		*events += n;
		arena_reset(a);
		if (lines > 0) {
			if ((stop != NULL && *stop) || ++batches >= max_batches)
				break;
			continue;
		}
		/* Nothing complete left. If the writer is gone, one more pass
		 * takes what it wrote just before it let go, then the file
		 * goes. */
		if (writer_gone)
			break;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0)
			break;
		writer_gone = 1;
	}
	if (st == DB_OK && writer_gone && lines == 0) {
		if ((st = db_begin()) == DB_OK && (st = db_exec(a, &st_lock, p, &r)) == DB_OK) {
			long long shipped = r.rows > 0 ? strtoll(db_get(&r, 0, 0), NULL, 10) : 0;

			if (fstat(fd, &sb) == 0 && sb.st_size > shipped)
				log_msg(LOG_WARN, "spool.torn_tail",
					"spool file %s ends in %lld byte(s) of a torn record "
					"(a refused read); dropped",
					name, (long long)sb.st_size - shipped);
			/* The file first: a crash between the two leaves a row
			 * without a file (harmless), never a file without its
			 * offset (shipped twice). */
			if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT) {
				log_msg(LOG_ERROR, "spool.unlink_failed", "cannot delete %s: %s",
					name, strerror(errno));
				db_rollback();
			} else if ((st = db_exec(a, &st_forget, p, &r)) == DB_OK) {
				st = db_commit();
			} else {
				db_rollback();
			}
		} else {
			db_rollback();
		}
		arena_reset(a);
	}
	close(fd);
	return st;
}

static int
is_spool_name(const char *n)
{
	size_t len = strlen(n), sl = strlen(SPOOL_SUFFIX);

	return n[0] != '.' && len > sl && strcmp(n + len - sl, SPOOL_SUFFIX) == 0;
}

enum db_status
spool_ship(struct arena *a, const char *dir, int max_batches, long *events,
	   volatile const int *stop)
{
	DIR *d;
	struct dirent *e;
	char *chunk;
	enum db_status st = DB_OK;

	*events = 0;
	if ((d = opendir(dir)) == NULL) {
		log_msg(LOG_ERROR, "spool.dir", "cannot open SHUSH_SPOOL_DIR %s: %s", dir,
			strerror(errno));
		return DB_ERROR;
	}
	if ((chunk = malloc(SHIP_CHUNK)) == NULL) {
		closedir(d);
		return DB_ERROR;
	}
	while ((e = readdir(d)) != NULL && st == DB_OK) {
		if (!is_spool_name(e->d_name))
			continue;
		if (stop != NULL && *stop)
			break;
		st = ship_file(a, dirfd(d), e->d_name, chunk, events, max_batches, stop);
	}
	free(chunk);
	closedir(d);
	return st;
}

static struct db_stmt st_offsets = {"spool_offsets", "SELECT name, shipped FROM audit_spool",
				    0, 0};

enum db_status
spool_backlog(struct arena *a, const char *dir, long long *bytes)
{
	struct db_result r;
	struct stat sb;
	DIR *d;
	struct dirent *e;
	int i;
	enum db_status st;

	*bytes = 0;
	if ((st = db_exec(a, &st_offsets, NULL, &r)) != DB_OK)
		return st;
	if ((d = opendir(dir)) == NULL)
		return DB_ERROR;
	while ((e = readdir(d)) != NULL) {
		long long shipped = 0;

		if (!is_spool_name(e->d_name) || fstatat(dirfd(d), e->d_name, &sb, 0) < 0)
			continue;
		for (i = 0; i < r.rows; i++)
			if (strcmp(db_get(&r, i, 0), e->d_name) == 0)
				shipped = strtoll(db_get(&r, i, 1), NULL, 10);
		if (sb.st_size > shipped)
			*bytes += sb.st_size - shipped;
	}
	closedir(d);
	return DB_OK;
}
