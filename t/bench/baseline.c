/*
 * baseline: the bare FastCGI responder that `make bench` measures shush
 * against. Same shape as shushd (master opens the socket, forks one worker
 * per core, each worker an FCGX_Accept_r loop) but every request gets the
 * same fixed answer, so the ratio target/baseline is the cost of shush itself.
 * A query string holding bytes=N (1..MAX_BODY) asks instead for a text/plain
 * body of exactly N bytes (lines of filler), so that a target with a large
 * answer (the 1,000-secret export) can also be set against a responder that
 * moves just as many bytes through the same nginx.
 *
 *   baseline [SOCKET [WORKERS]]
 *   BASELINE_SOCKET=/path/to/sock BASELINE_WORKERS=2 baseline
 *
 * SOCKET is a unix socket path (or host:port, as FCGX_OpenSocket takes it);
 * WORKERS defaults to the number of online cores. SIGTERM or SIGINT stop the
 * workers and the master, which removes the socket.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_WORKERS 256
#define MAX_BODY (8L << 20)

static volatile sig_atomic_t g_stop;

static void on_stop(int sig)
{
	(void)sig;
	g_stop = 1;
}

static const char RESPONSE[] =
	"Status: 200 OK\r\n"
	"Content-Type: application/json\r\n"
	"\r\n"
	"{\"status\":\"ok\"}";

static const char SIZED_HEAD[] =
	"Status: 200 OK\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"\r\n";

/* N from a "bytes=N" parameter of the query string, 0 when there is none. */
static long wanted_bytes(const char *qs)
{
	const char *p = qs;
	char *end = NULL;
	long n;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, "bytes=", 6) == 0) {
			errno = 0;
			n = strtol(p + 6, &end, 10);
			if (errno != 0 || end == p + 6 || (*end != '\0' && *end != '&') ||
			    n < 1 || n > MAX_BODY)
				return 0;
			return n;
		}
		p = strchr(p, '&');
		if (p != NULL)
			p++;
	}
	return 0;
}

/* Filler shaped like a dotenv export: 50-byte lines. */
static char filler[16384];

static void put_sized(FCGX_Stream *out, long n)
{
	FCGX_PutStr(SIZED_HEAD, (int)(sizeof SIZED_HEAD - 1), out);
	while (n > 0) {
		int k = n > (long)sizeof filler ? (int)sizeof filler : (int)n;
		FCGX_PutStr(filler, k, out);
		n -= k;
	}
}

static int serve(int sock)
{
	FCGX_Request req;

	for (size_t i = 0; i < sizeof filler; i++)
		filler[i] = i % 50 == 49 ? '\n' : i % 50 == 17 ? '=' : 'A' + (char)(i % 26);
	if (FCGX_InitRequest(&req, sock, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		/* Drain any body so nginx never waits on us. */
		char buf[4096];
		long n;

		while (FCGX_GetStr(buf, (int)sizeof buf, req.in) > 0)
			;
		n = wanted_bytes(FCGX_GetParam("QUERY_STRING", req.envp));
		if (n > 0)
			put_sized(req.out, n);
		else
			FCGX_PutStr(RESPONSE, (int)(sizeof RESPONSE - 1), req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}

static pid_t spawn(int sock, pid_t master)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* Worker: default signal dispositions, and die with the master. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != master)
		_exit(0);
	_exit(serve(sock));
}

static int parse_workers(const char *s)
{
	char *end = NULL;
	long n;

	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > MAX_WORKERS)
		return -1;
	return (int)n;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : getenv("BASELINE_SOCKET");
	int nworkers = parse_workers(argc > 2 ? argv[2] : getenv("BASELINE_WORKERS"));
	pid_t workers[MAX_WORKERS];
	pid_t master = getpid();
	struct sigaction sa;
	int sock;
	int unix_path;

	if (path == NULL || *path == '\0') {
		fprintf(stderr, "usage: %s SOCKET [WORKERS] (or BASELINE_SOCKET, BASELINE_WORKERS)\n",
			argv[0]);
		return 2;
	}
	if (nworkers < 0) {
		fprintf(stderr, "baseline: WORKERS must be 1..%d\n", MAX_WORKERS);
		return 2;
	}
	if (nworkers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		nworkers = n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : (int)n;
	}

	if (FCGX_Init() != 0) {
		fprintf(stderr, "baseline: FCGX_Init failed\n");
		return 1;
	}
	unix_path = strchr(path, ':') == NULL;
	if (unix_path)
		unlink(path);
	sock = FCGX_OpenSocket(path, 1024);
	if (sock < 0) {
		fprintf(stderr, "baseline: cannot listen on %s: %s\n", path, strerror(errno));
		return 1;
	}
	/* nginx workers may run as another user (nobody when started as root). */
	if (unix_path && chmod(path, 0666) != 0) {
		fprintf(stderr, "baseline: chmod %s: %s\n", path, strerror(errno));
		return 1;
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (int i = 0; i < nworkers; i++) {
		workers[i] = spawn(sock, master);
		if (workers[i] < 0) {
			fprintf(stderr, "baseline: fork: %s\n", strerror(errno));
			g_stop = 1;
			nworkers = i;
			break;
		}
	}
	fprintf(stderr, "baseline: pid %d, %d workers on %s\n", (int)master, nworkers, path);

	/* Supervise: restart a worker that dies, until told to stop. */
	while (!g_stop) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);

		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < nworkers; i++) {
			if (workers[i] == pid) {
				workers[i] = g_stop ? -1 : spawn(sock, master);
				break;
			}
		}
	}

	for (int i = 0; i < nworkers; i++)
		if (workers[i] > 0)
			kill(workers[i], SIGTERM);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	if (unix_path)
		unlink(path);
	return 0;
}
