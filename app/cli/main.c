/*
 * shush(1): the command-line client of shush. One table of commands, each
 * with its usage text; `shush COMMAND --help` prints it. Exit codes:
 * 0 ok, 1 usage, 2 API error, 3 network error, 4 not logged in or token
 * refused (a command run by `shush run` exits with its own status).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct arena *cli_arena;
const char *cli_prog = "shush";

struct command {
	const char *name;
	cli_cmd_fn fn;
	const char *summary;
	const char *usage; /* full help */
};

static const struct command commands[] = {
	{ "login", cmd_login, "sign in with a device code and store a personal token",
	  "usage: shush login [--url URL]\n"
	  "\n"
	  "Signs in through the device-code flow: prints a code and a URL; open the\n"
	  "URL in a browser where you are signed in, check the code and approve it.\n"
	  "The personal token is stored in $XDG_CONFIG_HOME/shush/credentials\n"
	  "(default ~/.config/shush/credentials), mode 0600.\n"
	  "\n"
	  "  --url URL   the shush server (default: SHUSH_URL, else the stored one)\n" },
	{ "whoami", cmd_whoami, "show who the token belongs to",
	  "usage: shush whoami\n"
	  "\n"
	  "Shows the environment key (project, environment) or the person the token\n"
	  "belongs to, and the server.\n" },
	{ "run", cmd_run, "run a command with the secrets in its environment",
	  "usage: shush run [--project P --env E] -- COMMAND [ARG...]\n"
	  "\n"
	  "Fetches the environment's secrets and executes COMMAND with them added to\n"
	  "its environment (overriding variables of the same name). The exit status\n"
	  "is COMMAND's; 127 when COMMAND is not found.\n"
	  "\n"
	  "Without --project/--env the token must be an environment key (SHUSH_TOKEN):\n"
	  "its own environment is used. With a personal token give both:\n"
	  "  -p, --project P   project id or slug\n"
	  "  -e, --env E       environment slug (development, staging, production...)\n" },
	{ "secrets", cmd_secrets, "list, get, set or delete secrets (personal token)",
	  "usage: shush secrets list   --project P [--env E]\n"
	  "       shush secrets get    --project P --env E KEY\n"
	  "       shush secrets set    --project P --env E KEY [VALUE|-]\n"
	  "       shush secrets delete --project P (--env E | --all) KEY\n"
	  "\n"
	  "list prints the keys (never values); get prints one value; set creates or\n"
	  "updates KEY in E (VALUE \"-\" or omitted: read from standard input, so it\n"
	  "stays out of the shell history); delete removes KEY's value in E, or with\n"
	  "--all the whole secret in every environment.\n"
	  "\n"
	  "  -p, --project P   project id or slug\n"
	  "  -e, --env E       environment slug\n"
	  "  -a, --all         (delete) every environment\n" },
	{ "export", cmd_export, "print the environment as dotenv, shell or JSON",
	  "usage: shush export [--format dotenv|shell|json] [--project P --env E]\n"
	  "\n"
	  "Prints every resolved secret of the environment (values included):\n"
	  "  dotenv   KEY=value lines (default)\n"
	  "  shell    export KEY='value' lines, safe to source in sh or bash\n"
	  "  json     one flat object {\"KEY\":\"value\"}\n"
	  "\n"
	  "An environment key (SHUSH_TOKEN) exports its own environment; a personal\n"
	  "token needs --project and --env.\n"
	  "  -f, --format F    dotenv, shell or json\n"
	  "  -p, --project P   project id or slug\n"
	  "  -e, --env E       environment slug\n" },
	{ "import", cmd_import, "import a dotenv file into an environment",
	  "usage: shush import --project P --env E FILE\n"
	  "\n"
	  "Imports a dotenv file (\"-\": standard input) into environment E: keys are\n"
	  "created or updated; prints the counts. A malformed line writes nothing.\n"
	  "  -p, --project P   project id or slug\n"
	  "  -e, --env E       environment slug\n" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("shush: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage_all(FILE *f)
{
	size_t i;

	fputs("usage: shush [--version] [--help] COMMAND [ARGS]\n\ncommands:\n", f);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fputs("\n`shush COMMAND --help` for a command's options; man shush for the rest.\n"
	      "environment: SHUSH_URL, SHUSH_TOKEN, XDG_CONFIG_HOME\n",
	      f);
}

void
cli_usage(const char *cmd, int to_stderr)
{
	FILE *f = to_stderr ? stderr : stdout;
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, cmd) == 0) {
			fputs(commands[i].usage, f);
			return;
		}
	usage_all(f);
}

static int
parse(int argc, char **argv, const char *allowed, struct cli_opts *o, int permute)
{
	static const struct option longopts[] = {
		{ "project", required_argument, NULL, 'p' },
		{ "env", required_argument, NULL, 'e' },
		{ "environment", required_argument, NULL, 'e' },
		{ "format", required_argument, NULL, 'f' },
		{ "url", required_argument, NULL, 'u' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	optind = 0; /* GNU: full reinitialisation */
	opterr = 0;
	/* "+": stop at the first operand (shush run -- cmd -x). */
	while ((ch = getopt_long(argc, argv, permute ? ":p:e:f:u:ah" : "+:p:e:f:u:ah", longopts,
				 NULL)) != -1) {
		if (ch == 'h') {
			o->help = 1;
			cli_usage(argv[0], 0);
			return -1;
		}
		if (ch == '?' || ch == ':' || strchr(allowed, ch) == NULL) {
			if (ch == ':')
				cli_warn("%s: option %s needs a value", argv[0],
					 argv[optind - 1]);
			else
				cli_warn("%s: unknown option %s", argv[0], argv[optind - 1]);
			cli_usage(argv[0], 1);
			return -1;
		}
		switch (ch) {
		case 'p': o->project = optarg; break;
		case 'e': o->env = optarg; break;
		case 'f': o->format = optarg; break;
		case 'u': o->url = optarg; break;
		case 'a': o->all = 1; break;
		default: break;
		}
	}
	return optind;
}

int
cli_parse(int argc, char **argv, const char *allowed, struct cli_opts *o)
{
	return parse(argc, argv, allowed, o, 0);
}

int
cli_parse_any(int argc, char **argv, const char *allowed, struct cli_opts *o)
{
	return parse(argc, argv, allowed, o, 1);
}

int
main(int argc, char **argv)
{
	size_t i;
	int rc;

	if (argc < 2) {
		usage_all(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("shush %s\n", SHUSH_VERSION);
		return CLI_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc > 2) {
			cli_usage(argv[2], 0);
			return CLI_OK;
		}
		usage_all(stdout);
		return CLI_OK;
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, argv[1]) == 0)
			break;
	if (i == NCOMMANDS) {
		cli_warn("unknown command '%s'", argv[1]);
		usage_all(stderr);
		return CLI_USAGE;
	}
	cli_arena = arena_new(64 * 1024);
	if (cli_http_init(cli_arena) < 0) {
		cli_warn("cannot start libcurl");
		return CLI_NETWORK;
	}
	rc = commands[i].fn(argc - 1, argv + 1);
	cli_http_cleanup();
	arena_free(cli_arena);
	return rc;
}
