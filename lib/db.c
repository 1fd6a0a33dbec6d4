/*
 * PostgreSQL through libpq: one connection per process, statements prepared
 * lazily on each connection, SQLSTATEs mapped to what the API answers.
 * A lost connection is re-established on the next call, so a restarted
 * server is picked up without restarting shush.
 */
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>

#include <libpq-fe.h>

#include "shush.h"

static PGconn *conn;
static unsigned conn_gen = 1;
static int in_tx;
static int64_t last_fail_ms;
static uint32_t connects_at_fail;

/* The runtime world (issue 5): counters in an anonymous shared mapping the
 * master creates before forking, so every worker of this host reads them
 * with atomic loads. A worker that commits a transaction which touched the
 * world (a project's environments or keys, or anything wider) bumps the
 * project's stripe, or the global generation, right after COMMIT returns,
 * before its response is sent (so the next request on any worker of this
 * host misses its cache: read-your-writes on one host); the master's
 * listener does the same on every NOTIFY shush_runtime (other hosts'
 * writes, eventually). NULL: no cache. */
static struct runtime_world *world;
#define PENDING_MAX 8
static int world_pending;                  /* a global bump is due */
static char pending_projects[PENDING_MAX][ID_LEN + 1];
static int npending;

int
runtime_world_init(void)
{
	void *p;

	if (world != NULL)
		return 0;
	p = mmap(NULL, sizeof(*world), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	world = p;
	__atomic_store_n(&world->generation, 1, __ATOMIC_SEQ_CST);
	return 0;
}

struct runtime_world *
runtime_world(void)
{
	return world;
}

/* 0 (caches off) also while the listener is not LISTENing: other hosts'
 * writes would then go unnoticed here. */
uint64_t
runtime_world_load(void)
{
	if (world == NULL || !__atomic_load_n(&world->listener_up, __ATOMIC_ACQUIRE))
		return 0;
	return __atomic_load_n(&world->generation, __ATOMIC_ACQUIRE);
}

/* FNV-1a of the id: which stripe a project's entries hang on. */
static unsigned
stripe_of(const char *project_id)
{
	uint32_t h = 2166136261u;
	const unsigned char *p;

	for (p = (const unsigned char *)(project_id != NULL ? project_id : ""); *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return h & (RUNTIME_STRIPES - 1);
}

uint64_t
runtime_world_stripe(const char *project_id)
{
	if (world == NULL)
		return 0;
	return __atomic_load_n(&world->stripes[stripe_of(project_id)], __ATOMIC_ACQUIRE);
}

uint64_t
runtime_world_writes(void)
{
	return world != NULL ? __atomic_load_n(&world->writes, __ATOMIC_ACQUIRE) : 0;
}

void
runtime_world_bump(void)
{
	if (world != NULL)
		__atomic_add_fetch(&world->generation, 1, __ATOMIC_SEQ_CST);
}

void
runtime_world_bump_project(const char *project_id)
{
	if (world == NULL)
		return;
	/* The stripe first: a fill that reads writes after this sees it
	 * moved, one that read it before finds its stripe changed. */
	__atomic_add_fetch(&world->stripes[stripe_of(project_id)], 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&world->writes, 1, __ATOMIC_SEQ_CST);
}

void
db_world_touch(void)
{
	if (in_tx)
		world_pending = 1;
	else
		runtime_world_bump(); /* autocommit: already committed */
}

void
db_world_touch_project(const char *project_id)
{
	int i;

	if (project_id == NULL) {
		db_world_touch();
		return;
	}
	if (!in_tx) {
		runtime_world_bump_project(project_id);
		return;
	}
	for (i = 0; i < npending; i++)
		if (strcmp(pending_projects[i], project_id) == 0)
			return;
	if (npending == PENDING_MAX || strlen(project_id) > ID_LEN) {
		world_pending = 1; /* too many to list: everything */
		return;
	}
	memcpy(pending_projects[npending++], project_id, strlen(project_id) + 1);
}

/* At the end of a transaction that touched the world: committed or not,
 * one more increment only costs the caches a miss. */
static void
world_settle(void)
{
	int i;

	if (world_pending)
		runtime_world_bump();
	else
		for (i = 0; i < npending; i++)
			runtime_world_bump_project(pending_projects[i]);
	world_pending = 0;
	npending = 0;
}

/* After a failed connect, callers get DB_UNAVAILABLE at once for a short
 * while instead of each paying for a new attempt, unless another process
 * of this host has connected since (the server is back). */
#define RECONNECT_BACKOFF_MS 200

static const char *const status_names[] = {
	[DB_OK] = "ok", [DB_UNAVAILABLE] = "unavailable", [DB_CONFLICT] = "conflict",
	[DB_INVALID] = "invalid", [DB_SERIALIZE] = "serialization", [DB_ERROR] = "error",
};

const char *
db_status_name(enum db_status s)
{
	return status_names[s];
}

static uint32_t
connects_seen(void)
{
	return world != NULL ? __atomic_load_n(&world->db_connects, __ATOMIC_ACQUIRE) : 0;
}

/* Whether an idle connection is still alive, without a round trip: a
 * server that shut down or restarted has sent its FATAL notice and closed
 * the socket. A worker never LISTENs, so anything readable on an idle
 * connection means it is going away; a rare false alarm (a parameter
 * report) only costs a reconnect. */
static int
conn_alive(void)
{
	struct pollfd pfd;

	if (PQstatus(conn) != CONNECTION_OK)
		return 0;
	if (in_tx)
		return 1;
	pfd.fd = PQsocket(conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return 0;
	return poll(&pfd, 1, 0) == 0;
}

static void
notice_quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int
db_connect(void)
{
	char timeout[16];
	const char *keys[] = {"dbname", "connect_timeout", "options", "application_name", NULL};
	const char *vals[5];

	if (conn != NULL && conn_alive())
		return 0;
	if (last_fail_ms != 0 && time_now_ms() - last_fail_ms < RECONNECT_BACKOFF_MS &&
	    connects_seen() == connects_at_fail)
		return -1;
	if (conn != NULL)
		PQfinish(conn);
	snprintf(timeout, sizeof(timeout), "%ld", config_int(CFG_DB_TIMEOUT));
	vals[0] = config_str(CFG_DATABASE_URL);
	vals[1] = timeout;
	vals[2] = "-c TimeZone=UTC -c DateStyle=ISO -c statement_timeout=30000";
	vals[3] = "shush";
	vals[4] = NULL;
	conn = PQconnectdbParams(keys, vals, 1);
	in_tx = 0;
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		/* libpq's message names host and port, never the password. */
		log_msg(LOG_WARN, "db.connect_failed", "%s",
			conn != NULL ? PQerrorMessage(conn) : "out of memory");
		if (conn != NULL)
			PQfinish(conn);
		conn = NULL;
		last_fail_ms = time_now_ms();
		connects_at_fail = connects_seen();
		return -1;
	}
	PQsetNoticeProcessor(conn, notice_quiet, NULL);
	last_fail_ms = 0;
	if (world != NULL)
		__atomic_add_fetch(&world->db_connects, 1, __ATOMIC_RELEASE);
	conn_gen++;
	return 0;
}

void
db_disconnect(void)
{
	if (conn != NULL)
		PQfinish(conn);
	conn = NULL;
	in_tx = 0;
}

static enum db_status
map_sqlstate(const char *state)
{
	if (state == NULL)
		return DB_UNAVAILABLE; /* no server answer at all */
	if (strcmp(state, "23505") == 0)
		return DB_CONFLICT;
	if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0)
		return DB_INVALID;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
		return DB_SERIALIZE;
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
	    strcmp(state, "53300") == 0)
		return DB_UNAVAILABLE;
	return DB_ERROR;
}

/* Classifies a failed result; drops a broken connection. */
static enum db_status
failure(PGresult *res, const char *what)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	enum db_status st = map_sqlstate(state);

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		st = DB_UNAVAILABLE;
		db_disconnect();
	}
	if (st == DB_ERROR || st == DB_UNAVAILABLE)
		log_msg(st == DB_ERROR ? LOG_ERROR : LOG_WARN, "db.error", "%s: %s %s", what,
			state != NULL ? state : "-",
			res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
					? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
					: ""
				    : "no result");
	return st;
}

static void
clear_result(void *p)
{
	PQclear(p);
}

enum db_status
db_exec(struct arena *a, struct db_stmt *st, const char *const *params, struct db_result *out)
{
	PGresult *res;
	ExecStatusType es;
	int was_tx = in_tx;

	memset(out, 0, sizeof(*out));
	if (db_connect() < 0)
		return out->status = DB_UNAVAILABLE;
	if (st->prepared_gen != conn_gen) {
		res = PQprepare(conn, st->name, st->sql, st->nparams, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			out->status = failure(res, st->name);
			PQclear(res);
			/* Outside a transaction, a connection that died while idle
			 * gets one fresh try. */
			if (out->status == DB_UNAVAILABLE && !was_tx && db_connect() == 0)
				return db_exec(a, st, params, out);
			return out->status;
		}
		PQclear(res);
		st->prepared_gen = conn_gen;
	}
	res = PQexecPrepared(conn, st->name, st->nparams, params, NULL, NULL, 0);
	es = PQresultStatus(res);
	if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
		out->status = failure(res, st->name);
		PQclear(res);
		return out->status;
	}
	arena_defer(a, clear_result, res);
	out->res = res;
	out->rows = PQntuples(res);
	out->status = DB_OK;
	return DB_OK;
}

const char *
db_get(const struct db_result *r, int row, int col)
{
	if (r->res == NULL || row >= r->rows || PQgetisnull(r->res, row, col))
		return NULL;
	return PQgetvalue(r->res, row, col);
}

int
db_is_null(const struct db_result *r, int row, int col)
{
	return r->res == NULL || PQgetisnull(r->res, row, col);
}

static enum db_status
command(const char *sql)
{
	PGresult *res;
	enum db_status st = DB_OK;

	if (db_connect() < 0)
		return DB_UNAVAILABLE;
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		st = failure(res, sql);
	PQclear(res);
	return st;
}

enum db_status
db_begin(void)
{
	enum db_status st = command("BEGIN");

	in_tx = st == DB_OK;
	return st;
}

enum db_status
db_commit(void)
{
	enum db_status st = command("COMMIT");

	in_tx = 0;
	world_settle();
	return st;
}

void
db_rollback(void)
{
	if (conn != NULL && PQstatus(conn) == CONNECTION_OK &&
	    PQtransactionStatus(conn) != PQTRANS_IDLE)
		(void)command("ROLLBACK");
	in_tx = 0;
	world_settle();
}

int
db_ping(void)
{
	PGresult *res;
	int ok;

	if (db_connect() < 0)
		return -1;
	res = PQexec(conn, "SELECT 1");
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		(void)failure(res, "ping");
	PQclear(res);
	return ok ? 0 : -1;
}

enum db_status
db_simple(const char *sql, char *err, size_t errlen)
{
	PGresult *res;
	enum db_status st = DB_OK;
	ExecStatusType es;

	if (db_connect() < 0) {
		snprintf(err, errlen, "cannot connect to PostgreSQL");
		return DB_UNAVAILABLE;
	}
	res = PQexec(conn, sql);
	es = PQresultStatus(res);
	if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(res));
		st = failure(res, "sql");
	}
	PQclear(res);
	return st;
}

const char *
db_bytea_param(struct arena *a, const void *p, size_t n)
{
	char *out = arena_alloc(a, 2 * n + 3);

	out[0] = '\\';
	out[1] = 'x';
	crypto_hex(p, n, out + 2);
	return out;
}

int
db_bytea_value(const char *text, struct buf *out)
{
	size_t n;
	unsigned char *bytes;

	out->len = 0;
	if (text == NULL || text[0] != '\\' || text[1] != 'x')
		return -1;
	n = strlen(text + 2);
	if (n % 2 != 0)
		return -1;
	bytes = arena_alloc(out->arena, n / 2 + 1);
	if (crypto_unhex(text + 2, n, bytes, n / 2 + 1) < 0)
		return -1;
	buf_append(out, bytes, n / 2);
	return 0;
}
