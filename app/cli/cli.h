/*
 * shush, the command-line client: shared declarations of app/cli/.
 * main.c dispatches commands, http.c talks to the API (libcurl + cJSON),
 * config.c keeps the credentials file, cmd_*.c are the commands.
 */
#ifndef SHUSH_CLI_H
#define SHUSH_CLI_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "../../lib/shush.h"

/* Exit codes (shush(1), EXIT STATUS). */
enum cli_exit {
	CLI_OK = 0,
	CLI_USAGE = 1,   /* bad command line */
	CLI_API = 2,     /* the API answered an error */
	CLI_NETWORK = 3, /* no answer: DNS, connect, TLS, timeout */
	CLI_AUTH = 4,    /* not logged in, or the token was refused */
};

enum cli_token_kind {
	CLI_TOKEN_UNKNOWN = 0, /* SHUSH_TOKEN: environment key or personal token */
	CLI_TOKEN_USER,        /* personal token from `shush login` */
};

/* Where the server and the token come from. */
struct cli_cred {
	char url[2048];
	char token[512];
	int token_kind;         /* enum cli_token_kind */
	int token_from_env;     /* 1: SHUSH_TOKEN */
	int url_from_env;       /* 1: SHUSH_URL */
};

/* ------------------------------------------------------------- config.c */
/* The credentials file: $XDG_CONFIG_HOME/shush/credentials, else
 * $HOME/.config/shush/credentials. -1 when neither variable is usable. */
int cli_config_path(char *out, size_t n, int dir_only);
/* Reads the credentials file into c (missing file: fields stay empty,
 * returns 0); -1 with a message printed when it cannot be read. */
int cli_config_load(struct cli_cred *c);
/* Writes url + token (kind user) to the credentials file, mode 0600 in a
 * directory of mode 0700, atomically (temp file + rename). -1 printed. */
int cli_config_save(const char *url, const char *token);
/* The credentials for a command: SHUSH_URL / SHUSH_TOKEN override the
 * file; url_flag (may be NULL) overrides both for the URL. need_token 1:
 * CLI_AUTH printed when there is none. Returns CLI_OK or an exit code. */
int cli_cred_resolve(struct cli_cred *c, const char *url_flag, int need_token);

/* --------------------------------------------------------------- http.c */
struct cli_res {
	long status;        /* 0 when there was no answer */
	struct buf body;    /* NUL-terminated */
	cJSON *json;        /* parsed body (NULL when not JSON); freed at exit */
	long retry_after;   /* seconds, -1 when absent */
};

int cli_http_init(struct arena *a);
void cli_http_cleanup(void);
/* One request: base URL + path (path already escaped). body may be NULL.
 * Returns CLI_OK when an answer came (any status), CLI_NETWORK printed
 * otherwise. token may be NULL (no Authorization header). */
int cli_http(const struct cli_cred *c, const char *method, const char *path,
	     const char *content_type, const char *body, size_t body_len,
	     struct cli_res *r);
/* The same with a JSON body (NULL: no body); frees nothing. */
int cli_http_json(const struct cli_cred *c, const char *method, const char *path,
		  const cJSON *body, struct cli_res *r);
/* Prints the error of a non-2xx answer and returns its exit code
 * (401: CLI_AUTH with the login hint; else CLI_API). */
int cli_http_fail(const struct cli_cred *c, const struct cli_res *r);
/* The error code of a JSON error body, or "" */
const char *cli_err_code(const struct cli_res *r);
/* curl_easy_escape into the arena. */
char *cli_escape(const char *s);

/* --------------------------------------------------------------- main.c */
extern struct arena *cli_arena;
extern const char *cli_prog;
/* "shush: ..." on stderr. */
void cli_warn(const char *fmt, ...) SHUSH_PRINTF(1, 2);
/* A command: argv[0] is the command name. */
typedef int (*cli_cmd_fn)(int argc, char **argv);

/* Common option parsing for the commands (--project, --env, --format,
 * --url, --help). allowed is a string of the letters of the options the
 * command takes: p e f u a. Returns the index of the first operand, or -1
 * (usage printed, or --help shown: *help set). */
struct cli_opts {
	const char *project, *env, *format, *url;
	int all, help;
};
int cli_parse(int argc, char **argv, const char *allowed, struct cli_opts *o);
/* The same, options anywhere among the operands (GNU permutation; "--"
 * ends the options): operands end up at argv[return value..]. */
int cli_parse_any(int argc, char **argv, const char *allowed, struct cli_opts *o);
/* Prints the command's help (the usage table in main.c) to f. */
void cli_usage(const char *cmd, int to_stderr);

/* ------------------------------------------------------------ commands */
int cmd_login(int argc, char **argv);
int cmd_whoami(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_secrets(int argc, char **argv);

/* cmd_secrets.c: the project id for --project (an id or a slug), or NULL
 * with the error printed and *rc set. */
const char *cli_project_id(const struct cli_cred *c, const char *project, int *rc);
/* Fetches the environment's resolved secrets as a JSON object {KEY:value}
 * (runtime key when project is NULL, else the /v1 export); NULL, *rc set. */
cJSON *cli_fetch_env(const struct cli_cred *c, const char *project, const char *env,
		     int *rc);

#endif
