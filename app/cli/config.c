/*
 * shush(1) configuration: the credentials file written by `shush login`
 * ($XDG_CONFIG_HOME/shush/credentials, else ~/.config/shush/credentials),
 * mode 0600 in a directory of mode 0700, "key=value" lines:
 *
 *   url=https://shush.example.com
 *   token=shush_…
 *   kind=user
 *
 * SHUSH_URL and SHUSH_TOKEN override what the file says.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int
cli_config_path(char *out, size_t n, int dir_only)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int len;

	/* XDG: a relative XDG_CONFIG_HOME is invalid and ignored. */
	if (xdg != NULL && xdg[0] == '/')
		len = snprintf(out, n, "%s/shush%s", xdg, dir_only ? "" : "/credentials");
	else if (home != NULL && home[0] != '\0')
		len = snprintf(out, n, "%s/.config/shush%s", home,
			       dir_only ? "" : "/credentials");
	else
		return -1;
	return (len < 0 || (size_t)len >= n) ? -1 : 0;
}

/* Copies a value into a fixed field; -1 when it does not fit. */
static int
set_field(char *dst, size_t n, const char *v)
{
	size_t len = strlen(v);

	if (len >= n)
		return -1;
	memcpy(dst, v, len + 1);
	return 0;
}

int
cli_config_load(struct cli_cred *c)
{
	char path[4096], line[4096];
	struct stat st;
	FILE *f;
	int lineno = 0, rc = 0;

	if (cli_config_path(path, sizeof(path), 0) < 0)
		return 0;
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		fprintf(stderr, "shush: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0)
		fprintf(stderr, "shush: warning: %s is readable by others (chmod 600 it)\n",
			path);
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);
		char *eq;

		lineno++;
		if (len > 0 && line[len - 1] != '\n' && !feof(f)) {
			fprintf(stderr, "shush: %s:%d: line too long\n", path, lineno);
			rc = -1;
			break;
		}
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if ((eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		if (strcmp(line, "url") == 0) {
			if (set_field(c->url, sizeof(c->url), eq + 1) < 0)
				rc = -1;
		} else if (strcmp(line, "token") == 0) {
			if (set_field(c->token, sizeof(c->token), eq + 1) < 0)
				rc = -1;
		} else if (strcmp(line, "kind") == 0) {
			c->token_kind = strcmp(eq + 1, "user") == 0 ? CLI_TOKEN_USER
								    : CLI_TOKEN_UNKNOWN;
		}
		if (rc < 0) {
			fprintf(stderr, "shush: %s:%d: value too long\n", path, lineno);
			break;
		}
	}
	memset(line, 0, sizeof(line));
	fclose(f);
	return rc;
}

/* mkdir -p of the directory (the last component mode 0700). */
static int
make_dir(const char *dir)
{
	char tmp[4096];
	size_t len = strlen(dir), i;
	struct stat st;

	if (len >= sizeof(tmp))
		return -1;
	memcpy(tmp, dir, len + 1);
	for (i = 1; i < len; i++) {
		if (tmp[i] != '/')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		tmp[i] = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -1;
	if (stat(tmp, &st) < 0 || !S_ISDIR(st.st_mode))
		return -1;
	if ((st.st_mode & 0777) != 0700 && chmod(tmp, 0700) < 0)
		return -1;
	return 0;
}

int
cli_config_save(const char *url, const char *token)
{
	char dir[4096], path[4096], tmp[4200];
	const char *text;
	size_t len, off = 0;
	int fd = -1, n;

	if (cli_config_path(dir, sizeof(dir), 1) < 0 ||
	    cli_config_path(path, sizeof(path), 0) < 0) {
		fputs("shush: cannot find the configuration directory (set HOME or "
		      "XDG_CONFIG_HOME)\n",
		      stderr);
		return -1;
	}
	if (make_dir(dir) < 0) {
		fprintf(stderr, "shush: cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	n = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -1;
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		goto fail;
	if (fchmod(fd, 0600) < 0)
		goto fail;
	text = arena_printf(cli_arena, "# written by shush login; keep it private\n"
				       "url=%s\ntoken=%s\nkind=user\n",
			    url, token);
	len = strlen(text);
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	memset((char *)text, 0, len);
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "shush: cannot write %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	return -1;
}

/* Strips trailing slashes of a base URL. */
static void
trim_url(char *u)
{
	size_t len = strlen(u);

	while (len > 0 && u[len - 1] == '/')
		u[--len] = '\0';
}

int
cli_cred_resolve(struct cli_cred *c, const char *url_flag, int need_token)
{
	const char *eurl = getenv("SHUSH_URL");
	const char *etok = getenv("SHUSH_TOKEN");

	memset(c, 0, sizeof(*c));
	if (cli_config_load(c) < 0)
		return CLI_USAGE;
	if (eurl != NULL && eurl[0] != '\0') {
		if (set_field(c->url, sizeof(c->url), eurl) < 0) {
			fputs("shush: SHUSH_URL is too long\n", stderr);
			return CLI_USAGE;
		}
		c->url_from_env = 1;
	}
	if (url_flag != NULL && set_field(c->url, sizeof(c->url), url_flag) < 0) {
		fputs("shush: --url is too long\n", stderr);
		return CLI_USAGE;
	}
	if (etok != NULL && etok[0] != '\0') {
		if (set_field(c->token, sizeof(c->token), etok) < 0) {
			fputs("shush: SHUSH_TOKEN is too long\n", stderr);
			return CLI_AUTH;
		}
		c->token_from_env = 1;
		c->token_kind = CLI_TOKEN_UNKNOWN;
	}
	trim_url(c->url);
	if (c->url[0] == '\0') {
		fputs("shush: no server: run `shush login --url URL` or set SHUSH_URL\n", stderr);
		return need_token ? CLI_AUTH : CLI_USAGE;
	}
	if (strncmp(c->url, "https://", 8) != 0 && strncmp(c->url, "http://", 7) != 0) {
		fprintf(stderr, "shush: the server URL must start with https:// or http://\n");
		return CLI_USAGE;
	}
	if (need_token && c->token[0] == '\0') {
		fputs("shush: not logged in: run `shush login` or set SHUSH_TOKEN\n", stderr);
		return CLI_AUTH;
	}
	return CLI_OK;
}
