/*
 * shushd: the prefork master and its FastCGI workers, and the admin
 * subcommands (migrate, check, routes).
 *
 * The master opens the socket (or takes it from systemd), forks one worker
 * per core, replaces a worker that dies, drains on SIGTERM/SIGINT and
 * replaces workers one at a time on SIGHUP. Workers block SIGTERM while
 * they serve a request, so one in flight always finishes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <libpq-fe.h>

#include "app.h"
#include "fcgi.h"

#define WORKERS_MAX 256
#define DRAIN_SECONDS 30
#define BACKLOG 1024
#define ARENA_CHUNK (64 * 1024)

struct worker {
	pid_t pid;
	unsigned gen;       /* configuration generation it was started for */
	int64_t started_ms;
	int retiring;       /* sent SIGTERM, waiting for it to exit */
};

static volatile sig_atomic_t got_term, got_hup, got_chld;
static struct worker workers[WORKERS_MAX];
static int nworkers;
static unsigned generation = 1;
static int listen_fd = -1;
static pid_t listener_pid = -1;

/* ---------------------------------------------------------------- worker */

static volatile sig_atomic_t worker_stop;

static void
on_worker_term(int sig)
{
	(void)sig;
	worker_stop = 1;
}

static void
worker_main(void)
{
	FCGX_Request req;
	struct arena *a = arena_new(ARENA_CHUNK);
	struct sigaction sa;
	sigset_t term;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_worker_term;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a blocked accept() must return */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_BLOCK, &term, NULL);

	/* Secrets never reach a core file. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	FCGX_InitRequest(&req, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
	(void)db_connect();
	(void)kv_connect();
	log_msg(LOG_DEBUG, "worker.ready", "worker ready");
	for (;;) {
		int rc;

		sigprocmask(SIG_UNBLOCK, &term, NULL);
		if (worker_stop) {
			sigprocmask(SIG_BLOCK, &term, NULL);
			break;
		}
		rc = FCGX_Accept_r(&req);
		sigprocmask(SIG_BLOCK, &term, NULL);
		if (rc < 0) {
			if (worker_stop)
				break;
			if (errno != EINTR)
				usleep(10000); /* transient accept error: do not spin */
			continue;
		}
		fcgi_handle(&req, a);
		FCGX_Finish_r(&req);
		arena_reset(a);
	}
	FCGX_Free(&req, 1);
	arena_free(a);
	keyring_forget_all();
	spool_writer_close();
	db_disconnect();
	log_msg(LOG_DEBUG, "worker.exit", "worker drained and stopped");
	exit(0);
}

/* -------------------------------------------------------------- listener */

/*
 * The runtime listener: a child of the master (not a worker) holding its
 * own connection with LISTEN shush_runtime, incrementing the shared world
 * generation on every notification, i.e. after every committed write on
 * any host that runtime caches depend on. Workers of this host also bump
 * it themselves after their own commits, so read-your-writes on one host
 * never waits for this. On (re)connecting it bumps once (notifications
 * may have been missed while it was away) and marks listener_up; while it
 * is down, listener_up is 0 and it retries with backoff (100 ms .. 5 s).
 */
static volatile sig_atomic_t listener_stop;

static void
on_listener_term(int sig)
{
	(void)sig;
	listener_stop = 1;
}

static PGconn *
listener_connect(void)
{
	const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
	const char *vals[4];
	PGconn *c;
	PGresult *res;

	vals[0] = config_str(CFG_DATABASE_URL);
	vals[1] = "5";
	vals[2] = "shush-listener";
	vals[3] = NULL;
	c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return NULL;
	}
	res = PQexec(c, "LISTEN " RUNTIME_NOTIFY_CHANNEL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		PQclear(res);
		PQfinish(c);
		return NULL;
	}
	PQclear(res);
	return c;
}

static void
listener_main(void)
{
	struct runtime_world *w = runtime_world();
	struct sigaction sa;
	int backoff = 100;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_listener_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_NAME, "shush-listener", 0, 0, 0);
	if (listen_fd >= 0)
		close(listen_fd);
	while (!listener_stop) {
		PGconn *c = listener_connect();

		if (c == NULL) {
			log_msg(LOG_WARN, "listener.down", "cannot LISTEN %s; retrying in %d ms",
				RUNTIME_NOTIFY_CHANNEL, backoff);
			usleep((useconds_t)backoff * 1000);
			backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
			continue;
		}
		backoff = 100;
		runtime_world_bump(); /* whatever happened while away */
		__atomic_store_n(&w->listener_up, 1, __ATOMIC_SEQ_CST);
		log_msg(LOG_DEBUG, "listener.up", "listening on %s", RUNTIME_NOTIFY_CHANNEL);
		while (!listener_stop) {
			struct pollfd pfd = {PQsocket(c), POLLIN, 0};
			PGnotify *n;
			int got = 0;

			if (pfd.fd < 0)
				break;
			if (poll(&pfd, 1, 1000) < 0 && errno != EINTR)
				break;
			if (PQconsumeInput(c) == 0)
				break;
			/* "p:ID": one project's stripe; "keys": a personal
			 * token, in no runtime cache; anything else: all. */
			while ((n = PQnotifies(c)) != NULL) {
				if (strncmp(n->extra, "p:", 2) == 0 && n->extra[2] != '\0')
					runtime_world_bump_project(n->extra + 2);
				else if (strcmp(n->extra, "keys") != 0)
					got = 1;
				PQfreemem(n);
			}
			if (got)
				runtime_world_bump();
			if (PQstatus(c) != CONNECTION_OK)
				break;
		}
		__atomic_store_n(&w->listener_up, 0, __ATOMIC_SEQ_CST);
		PQfinish(c);
		if (!listener_stop)
			log_msg(LOG_WARN, "listener.lost", "lost the LISTEN connection; reconnecting");
	}
	exit(0);
}

static void
spawn_listener(void)
{
	pid_t pid;

	if (runtime_world() == NULL)
		return;
	pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERROR, "master.fork_failed", "fork (listener): %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		listener_main();
	}
	listener_pid = pid;
}

/* ---------------------------------------------------------------- master */

static void
on_master_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
}

static int
spawn(void)
{
	pid_t pid;

	if (nworkers >= WORKERS_MAX)
		return -1;
	pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERROR, "master.fork_failed", "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		worker_main();
	}
	workers[nworkers].pid = pid;
	workers[nworkers].gen = generation;
	workers[nworkers].started_ms = time_now_ms();
	workers[nworkers].retiring = 0;
	nworkers++;
	return 0;
}

/* Reaps exited workers; returns how many died without being asked to. */
static int
reap(void)
{
	int status, died = 0, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == listener_pid) {
			listener_pid = -1; /* serve() starts another */
			continue;
		}
		for (i = 0; i < nworkers; i++)
			if (workers[i].pid == pid)
				break;
		if (i == nworkers)
			continue;
		if (!workers[i].retiring) {
			died++;
			if (WIFSIGNALED(status))
				log_msg(LOG_ERROR, "master.worker_died",
					"worker %ld killed by signal %d; replacing it", (long)pid,
					WTERMSIG(status));
			else
				log_msg(LOG_ERROR, "master.worker_died",
					"worker %ld exited with %d; replacing it", (long)pid,
					WEXITSTATUS(status));
		}
		workers[i] = workers[--nworkers];
	}
	return died;
}

static int
retiring_count(void)
{
	int i, n = 0;

	for (i = 0; i < nworkers; i++)
		n += workers[i].retiring;
	return n;
}

/* One step of a rolling restart: with no worker retiring, start a new one
 * and retire one old one. */
static void
roll(void)
{
	int i;

	if (retiring_count() > 0)
		return;
	for (i = 0; i < nworkers; i++) {
		if (workers[i].gen != generation) {
			pid_t old = workers[i].pid;

			workers[i].retiring = 1;
			if (spawn() == 0)
				kill(old, SIGTERM);
			else
				workers[i].retiring = 0;
			return;
		}
	}
}

static void
drain(void)
{
	int64_t deadline = time_now_ms() + DRAIN_SECONDS * 1000;
	int i;

	log_msg(LOG_INFO, "master.draining", "stopping: letting %d worker(s) finish", nworkers);
	close(listen_fd);
	if (listener_pid > 0) {
		kill(listener_pid, SIGTERM);
		(void)waitpid(listener_pid, NULL, 0);
		listener_pid = -1;
	}
	while (nworkers > 0 && time_now_ms() < deadline) {
		/* Re-sent each round: a worker that was between its stop check
		 * and accept() when the first one came is woken by the next. */
		for (i = 0; i < nworkers; i++) {
			workers[i].retiring = 1;
			kill(workers[i].pid, SIGTERM);
		}
		usleep(100000);
		reap();
	}
	for (i = 0; i < nworkers; i++) {
		log_msg(LOG_WARN, "master.kill", "worker %ld did not drain in %d s", (long)workers[i].pid,
			DRAIN_SECONDS);
		kill(workers[i].pid, SIGKILL);
	}
	while (nworkers > 0 && waitpid(-1, NULL, 0) > 0)
		reap();
}

static int
open_socket(void)
{
	const char *fds = getenv("LISTEN_FDS");
	const char *pid = getenv("LISTEN_PID");
	const char *path = config_str(CFG_SOCKET);
	long mode = strtol(config_str(CFG_SOCKET_MODE), NULL, 8);
	int fd;

	/* systemd socket activation: the socket is fd 3. */
	if (fds != NULL && pid != NULL && strtol(pid, NULL, 10) == (long)getpid() &&
	    strtol(fds, NULL, 10) >= 1) {
		log_msg(LOG_INFO, "master.socket", "using the socket passed by systemd");
		return 3;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		log_msg(LOG_ERROR, "master.socket", "cannot remove %s: %s", path, strerror(errno));
		return -1;
	}
	fd = FCGX_OpenSocket(path, BACKLOG);
	if (fd < 0) {
		log_msg(LOG_ERROR, "master.socket", "cannot listen on %s", path);
		return -1;
	}
	if (chmod(path, (mode_t)mode) < 0)
		log_msg(LOG_WARN, "master.socket", "chmod %s: %s", path, strerror(errno));
	log_msg(LOG_INFO, "master.socket", "listening on %s", path);
	return fd;
}

static int
worker_count(void)
{
	long n = config_int(CFG_WORKERS);

	if (n <= 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n <= 0)
		n = 1;
	return n > WORKERS_MAX ? WORKERS_MAX : (int)n;
}

static int
serve(void)
{
	struct sigaction sa;
	struct rlimit nocore = {0, 0};
	sigset_t mask, old;
	int want, i;

	setrlimit(RLIMIT_CORE, &nocore);
	if (FCGX_Init() != 0 || (listen_fd = open_socket()) < 0)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_master_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &old);

	/* Before any fork: the world generation every child shares. */
	if (runtime_world_init() < 0)
		log_msg(LOG_WARN, "master.world", "no shared memory: runtime caches off");
	spawn_listener();
	want = worker_count();
	for (i = 0; i < want; i++)
		spawn();
	log_msg(LOG_INFO, "master.started", "shushd %s serving with %d worker(s)", SHUSH_VERSION,
		want);
	while (!got_term) {
		int64_t backoff_until = 0;

		sigsuspend(&old);
		if (got_chld) {
			got_chld = 0;
			if (reap() > 0 && time_now_ms() - workers[0].started_ms < 1000)
				backoff_until = time_now_ms() + 1000;
		}
		if (got_hup) {
			char err[512];

			got_hup = 0;
			if (config_load(err, sizeof(err)) < 0) {
				log_msg(LOG_ERROR, "master.reload_refused", "%s", err);
			} else {
				generation++;
				want = worker_count();
				log_msg(LOG_INFO, "master.reload",
					"replacing workers one at a time");
			}
		}
		if (got_term)
			break;
		/* A worker that crashes at once is not restarted in a tight loop. */
		if (backoff_until > 0) {
			sigprocmask(SIG_SETMASK, &old, NULL);
			usleep(200000);
			sigprocmask(SIG_BLOCK, &mask, NULL);
		}
		while (nworkers - retiring_count() < want && spawn() == 0)
			;
		if (listener_pid < 0)
			spawn_listener();
		roll();
	}
	drain();
	unlink(config_str(CFG_SOCKET));
	log_msg(LOG_INFO, "master.stopped", "all workers stopped");
	return 0;
}

/* ------------------------------------------------------------ subcommands */

static int
cmd_migrate(void)
{
	char err[1024];
	const char *dir = getenv("SHUSH_SCHEMA_DIR");
	int applied = 0;

	if (dir == NULL || *dir == '\0')
		dir = "schema/db";
	if (migrate_apply(dir, &applied, err, sizeof(err)) < 0) {
		fprintf(stderr, "shushd migrate: %s\n", err);
		return 1;
	}
	fprintf(stderr, "shushd migrate: %d migration(s) applied\n", applied);
	return 0;
}

static int
cmd_check(void)
{
	char err[512];
	int ok = 1;

	if (spool_dir_check(config_str(CFG_SPOOL_DIR), err, sizeof(err)) < 0) {
		fprintf(stderr, "shushd check: %s\n", err);
		ok = 0;
	}

	if (db_ping() < 0) {
		fprintf(stderr, "shushd check: cannot reach PostgreSQL at DATABASE_URL\n");
		ok = 0;
	}
	if (kv_ping() < 0)
		fprintf(stderr, "shushd check: warning: cannot reach Redis at REDIS_URL "
				"(shush works without it, more slowly)\n");
	if (ok)
		fprintf(stderr, "shushd check: configuration ok\n");
	return ok ? 0 : 1;
}

/* shushd audit-verify --org ID: re-computes the org's chain; 0 intact,
 * 1 broken (naming the first bad link), 2 usage or database error. */
static int
cmd_audit_verify(int argc, char **argv)
{
	struct audit_verify v;
	const char *org = NULL;
	int i;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--org") == 0 && i + 1 < argc)
			org = argv[++i];
		else if (strncmp(argv[i], "--org=", 6) == 0)
			org = argv[i] + 6;
	}
	if (org == NULL || *org == '\0') {
		fprintf(stderr, "usage: shushd audit-verify --org ORG_ID\n");
		return 2;
	}
	if (audit_verify(org, &v) != DB_OK) {
		fprintf(stderr, "shushd audit-verify: cannot read the audit trail from PostgreSQL\n");
		return 2;
	}
	if (v.broken_seq != 0) {
		printf("BROKEN: org %s: %s (first bad link: event %lld; %lld event(s) checked)\n",
		       org, v.problem, v.broken_seq, v.events);
		return 1;
	}
	printf("ok: org %s: %lld event(s), chain intact, head %s\n", org, v.events, v.head);
	return 0;
}

/* The value of --name ID or --name=ID among argv[2..], NULL when absent. */
static const char *
opt_value(int argc, char **argv, const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], name) == 0 && i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
			return argv[i] + n + 1;
	}
	return NULL;
}

static void
rekey_progress(void *ctx, const char *what, long long done, long long total)
{
	printf("rekey: org %s: %s: %lld/%lld re-encrypted\n", (const char *)ctx, what, done, total);
	fflush(stdout);
}

/* shushd rekey --org ID [--batch N]: a fresh DEK for the org, every sealed
 * value re-encrypted under it (online, in batches), the old DEK retired;
 * an interrupted run is finished by the next. 0 done; 1 values left under
 * an old DEK, or another rekey of the org is running; 2 usage, no such
 * org, or PostgreSQL / KEK provider error. */
static int
cmd_rekey(int argc, char **argv)
{
	struct keyring_rekey_result res;
	const char *org = opt_value(argc, argv, "--org"), *b = opt_value(argc, argv, "--batch");
	struct arena *a;
	enum db_status st;
	long batch = 0;
	char *end = NULL;

	if (b != NULL) {
		batch = strtol(b, &end, 10);
		if (end == b || *end != '\0' || batch < 1 || batch > 10000)
			org = NULL;
	}
	if (org == NULL || *org == '\0') {
		fprintf(stderr, "usage: shushd rekey --org ORG_ID [--batch 1..10000]\n");
		return 2;
	}
	a = arena_new(64 * 1024);
	st = keyring_rekey(a, org, (int)batch, rekey_progress, (void *)org, &res);
	arena_free(a);
	keyring_forget_all();
	if (st == DB_CONFLICT) {
		fprintf(stderr, "shushd rekey: another rekey of org %s is running\n", org);
		return 1;
	}
	if (st == DB_INVALID) {
		fprintf(stderr, "shushd rekey: no organization %s\n", org);
		return 2;
	}
	if (st != DB_OK) {
		fprintf(stderr, "shushd rekey: failed (%s); run it again to resume\n",
			db_status_name(st));
		return 2;
	}
	if (res.remaining > 0) {
		printf("INCOMPLETE: org %s: %lld value(s) re-encrypted under DEK version %d; %lld "
		       "value(s) still under older versions (see the log), which are kept\n",
		       org, res.reencrypted, res.to_version, res.remaining);
		return 1;
	}
	printf("ok: org %s: DEK version %d -> %d, %lld value(s) re-encrypted, %d old version(s) "
	       "retired\n",
	       org, res.from_version, res.to_version, res.reencrypted, res.retired);
	return 0;
}

static int
rotate_one(struct arena *a, const char *org)
{
	struct keyring_state k;
	const char *from = NULL;
	int count = 0;
	enum db_status st = keyring_rotate_kek_admin(a, org, &k, &from, &count);

	if (st == DB_INVALID) {
		fprintf(stderr, "shushd rotate-kek: no organization %s\n", org);
		return -1;
	}
	if (st != DB_OK) {
		fprintf(stderr, "shushd rotate-kek: org %s: failed (%s)\n", org, db_status_name(st));
		return -1;
	}
	printf("ok: org %s: %d DEK version(s) re-wrapped, %s -> %s\n", org, count, from, k.kek_id);
	return 0;
}

/* shushd rotate-kek --org ID | --all: re-wraps DEKs under the current
 * master key (after MASTER_KEK_B64 changed and the old key moved to
 * MASTER_KEK_PREVIOUS_B64); once every org is done, the old key can go.
 * 0 all done, 1 some failed, 2 usage. */
static int
cmd_rotate_kek(int argc, char **argv)
{
	const char *org = opt_value(argc, argv, "--org"), *after = "";
	struct arena *a;
	int all = 0, i, n, failed = 0;

	for (i = 2; i < argc; i++)
		all |= strcmp(argv[i], "--all") == 0;
	if ((org == NULL || *org == '\0') == !all) {
		fprintf(stderr, "usage: shushd rotate-kek --org ORG_ID | --all\n");
		return 2;
	}
	a = arena_new(64 * 1024);
	if (!all) {
		failed = rotate_one(a, org) < 0;
	} else {
		for (;;) {
			const char **ids;

			if (keyring_list_orgs(a, after, 100, &ids, &n) != DB_OK) {
				fprintf(stderr, "shushd rotate-kek: cannot list orgs\n");
				failed = 1;
				break;
			}
			if (n == 0)
				break;
			for (i = 0; i < n; i++)
				failed |= rotate_one(a, ids[i]) < 0;
			after = arena_strdup(a, ids[n - 1]);
		}
	}
	arena_free(a);
	keyring_forget_all();
	return failed ? 1 : 0;
}

static int
cmd_routes(void)
{
	size_t i;

	for (i = 0; i < routes_count; i++)
		printf("%s\t%s\t%s\t%s\t%s\t%s\n", routes[i].method, routes[i].path,
		       pipeline_auth_name(routes[i].auth), rbac_perm_name(routes[i].perm),
		       routes[i].handler != NULL ? "built" : "501",
		       routes[i].auth == AUTH_SESSION && !(routes[i].flags & ROUTE_NO_ORG) ? "org"
											     : "user");
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: shushd [serve]     run the FastCGI server (foreground)\n"
		"       shushd migrate     apply schema/db migrations ($SHUSH_SCHEMA_DIR)\n"
		"       shushd check       validate the configuration and exit\n"
		"       shushd routes      print the route table\n"
		"       shushd audit-verify --org ID\n"
		"                          re-compute an org's audit hash chain\n"
		"       shushd rekey --org ID [--batch N]\n"
		"                          re-encrypt an org's values under a fresh data key\n"
		"       shushd rotate-kek --org ID | --all\n"
		"                          re-wrap data keys under the current MASTER_KEK_B64\n"
		"       shushd version\n"
		"Configuration comes from the environment; see README.md.\n");
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "serve";
	char err[1024];

	log_init("shushd");
	if (strcmp(cmd, "routes") == 0)
		return cmd_routes();
	if (strcmp(cmd, "version") == 0) {
		printf("shushd %s\n", SHUSH_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		usage();
		return 0;
	}
	if (config_load(err, sizeof(err)) < 0) {
		fprintf(stderr, "shushd: configuration error: %s\n", err);
		return 2;
	}
	if (strcmp(cmd, "check") == 0)
		return cmd_check();
	if (strcmp(cmd, "migrate") == 0)
		return cmd_migrate();
	if (strcmp(cmd, "audit-verify") == 0)
		return cmd_audit_verify(argc, argv);
	if (strcmp(cmd, "rekey") == 0)
		return cmd_rekey(argc, argv);
	if (strcmp(cmd, "rotate-kek") == 0)
		return cmd_rotate_kek(argc, argv);
	if (strcmp(cmd, "serve") == 0) {
		/* Runtime reads are refused without their audit spool. */
		if (spool_dir_check(config_str(CFG_SPOOL_DIR), err, sizeof(err)) < 0) {
			fprintf(stderr, "shushd: configuration error: %s\n", err);
			return 2;
		}
		return serve();
	}
	usage();
	return 2;
}
