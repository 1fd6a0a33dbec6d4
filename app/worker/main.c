/*
 * shush-worker: background jobs driven by the PostgreSQL outbox, woken
 * through Redis but correct without it. The jobs themselves (webhook
 * deliveries, integration syncs, rotation-due scans, invitation mail) come
 * with their issues; this is the loop they plug into: it connects, runs
 * each job once a tick, and stops cleanly on SIGTERM or SIGINT (the send
 * in progress finishes and is recorded, then exit 0).
 *
 * Jobs: the audit spool (spool_ship: runtime reads' records chained as
 * they come, paced, looked at every SHIP_TICK_MS when there are none),
 * and mail (mailer_run_once) about once a second when SMTP_URL is set.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/shush.h"

#define SHIP_TICK_MS 100 /* an idle spool is looked at this often */
#define SHIP_BATCHES 1    /* transactions per spool file per tick */
#define SHIP_PACE 3       /* rest per unit of shipping time */
#define MAIL_EVERY 10     /* ticks */

static volatile sig_atomic_t stop;
static volatile int stop_flag; /* what spool_ship watches */

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
	stop_flag = 1;
	mailer_request_stop();
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	struct rlimit nocore = {0, 0};
	char err[1024];
	struct arena *a;
	int smtp, db_down = 0, spool_down = 0;
	unsigned long tick = 0;

	log_init("shush-worker");
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fprintf(stderr, "usage: shush-worker   run background jobs (foreground)\n"
				"Configuration comes from the environment; see README.md.\n");
		return 0;
	}
	if (config_load(err, sizeof(err)) < 0) {
		fprintf(stderr, "shush-worker: configuration error: %s\n", err);
		return 2;
	}
	smtp = config_is_set(CFG_SMTP_URL) && config_str(CFG_SMTP_URL)[0] != '\0';
	if (spool_dir_check(config_str(CFG_SPOOL_DIR), err, sizeof(err)) < 0) {
		fprintf(stderr, "shush-worker: configuration error: %s\n", err);
		return 2;
	}
	if (smtp && mailer_check_config(config_str(CFG_SMTP_URL), config_str(CFG_SMTP_FROM), err,
					sizeof(err)) < 0) {
		fprintf(stderr, "shush-worker: configuration error: %s\n", err);
		return 2;
	}
	setrlimit(RLIMIT_CORE, &nocore);
	/* Background work yields to request serving on a shared host: under a
	 * burst of runtime reads the spool absorbs the records and is chained
	 * as CPU frees up. */
	if (setpriority(PRIO_PROCESS, 0, 10) < 0)
		log_msg(LOG_DEBUG, "worker.nice", "could not lower the priority");
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	(void)db_connect();
	a = arena_new(64 * 1024);
	log_msg(LOG_INFO, "worker.started", "shush-worker %s started (mail: %s)", SHUSH_VERSION,
		smtp ? "SMTP" : "outbox only, SMTP_URL unset");
	while (!stop) {
		long shipped = 0;
		long long backlog = 0;
		int64_t t0 = time_mono_us(), busy;
		struct timespec nap = {0, SHIP_TICK_MS * 1000000L};

		/* Runtime reads into the audit chain; one line when that stops
		 * working and one when it works again. */
		if (spool_ship(a, config_str(CFG_SPOOL_DIR), SHIP_BATCHES, &shipped, &stop_flag) !=
		    DB_OK) {
			if (!spool_down)
				log_msg(LOG_WARN, "worker.spool_paused",
					"audit spool shipping paused (PostgreSQL or the spool directory)");
			spool_down = 1;
		} else if (spool_down) {
			log_msg(LOG_INFO, "worker.spool_resumed", "audit spool shipping resumed");
			spool_down = 0;
		}
		busy = time_mono_us() - t0;
		if (shipped > 0) {
			log_msg(LOG_DEBUG, "worker.spool_shipped", "%ld runtime read(s) chained",
				shipped);
			/* Paced: rest SHIP_PACE times as long as the batch took,
			 * so that chaining (and its PostgreSQL backend) takes
			 * about a quarter of a core from serving and the org's
			 * own writes get its chain head most of the time; the
			 * spool absorbs bursts. Past SHUSH_SPOOL_CATCHUP_MB of
			 * backlog: no rest. */
			if (spool_backlog(a, config_str(CFG_SPOOL_DIR), &backlog) == DB_OK &&
			    backlog > config_int(CFG_SPOOL_CATCHUP_MB) * 1024LL * 1024)
				busy = 0;
			else
				busy *= SHIP_PACE;
			nap.tv_sec = (time_t)(busy / 1000000);
			nap.tv_nsec = (long)(busy % 1000000) * 1000;
		}
		arena_reset(a);
		if (smtp && tick++ % MAIL_EVERY == 0) {
			int sent = 0;

			/* One line when PostgreSQL goes away and one when it is
			 * back, not one a second. */
			if (mailer_run_once(a, &sent) < 0) {
				if (!db_down)
					log_msg(LOG_WARN, "worker.mail_paused",
						"mail job paused: PostgreSQL unavailable");
				db_down = 1;
			} else if (db_down) {
				log_msg(LOG_INFO, "worker.mail_resumed", "mail job resumed");
				db_down = 0;
			}
			arena_reset(a);
		}
		if (!stop && (nap.tv_sec > 0 || nap.tv_nsec > 0))
			nanosleep(&nap, NULL); /* a signal cuts it short */
	}
	arena_free(a);
	db_disconnect();
	log_msg(LOG_INFO, "worker.stopped", "shush-worker stopped");
	return 0;
}
