/*
 * shush-worker: background jobs driven by the PostgreSQL outbox, woken
 * through Redis but correct without it. The jobs themselves (webhook
 * deliveries, integration syncs, rotation-due scans, invitation mail) come
 * with their issues; this is the loop they plug into: it connects, waits,
 * and stops cleanly on SIGTERM or SIGINT.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../../lib/shush.h"

#define TICK_SECONDS 1

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	struct rlimit nocore = {0, 0};
	char err[1024];

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
	setrlimit(RLIMIT_CORE, &nocore);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	(void)db_connect();
	log_msg(LOG_INFO, "worker.started", "shush-worker %s started (no job kinds yet)",
		SHUSH_VERSION);
	while (!stop)
		sleep(TICK_SECONDS);
	db_disconnect();
	log_msg(LOG_INFO, "worker.stopped", "shush-worker stopped");
	return 0;
}
