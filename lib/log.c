/*
 * Logs: one JSON object per line on stderr, written with one write(2) so
 * lines of concurrent workers never interleave. Callers pass no secrets;
 * the access line carries the path without its query string.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shush.h"

#define LOG_LINE_MAX 4096

static const char *program = "shush";
static enum log_level min_level = LOG_INFO;
static char request_id[64];
static const char *const level_names[LOG__MAX] = {"debug", "info", "warn", "error"};

void
log_init(const char *prog)
{
	program = prog;
}

void
log_set_level(enum log_level l)
{
	min_level = l;
}

void
log_set_request_id(const char *id)
{
	if (id == NULL) {
		request_id[0] = '\0';
		return;
	}
	snprintf(request_id, sizeof(request_id), "%s", id);
}

static size_t
put_raw(char *out, size_t pos, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (pos + n + 3 > cap)
		n = cap > pos + 3 ? cap - pos - 3 : 0;
	memcpy(out + pos, s, n);
	return pos + n;
}

static void
emit(char *line, size_t pos)
{
	ssize_t w;
	size_t off = 0;

	line[pos++] = '}';
	line[pos++] = '\n';
	while (off < pos) {
		w = write(STDERR_FILENO, line + off, pos - off);
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

static size_t
head(char *line, size_t cap, enum log_level l, const char *event)
{
	char ts[32];
	char pid[24];
	size_t pos = 0;

	time_iso8601(time_now_ms(), ts);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	pos = put_raw(line, pos, cap, "{\"ts\":\"");
	pos = put_raw(line, pos, cap, ts);
	pos = put_raw(line, pos, cap, "\",\"level\":\"");
	pos = put_raw(line, pos, cap, level_names[l]);
	pos = put_raw(line, pos, cap, "\",\"program\":\"");
	pos = json_escape_into(line, pos, cap, program, NULL);
	pos = put_raw(line, pos, cap, "\",\"pid\":");
	pos = put_raw(line, pos, cap, pid);
	if (request_id[0] != '\0') {
		pos = put_raw(line, pos, cap, ",\"reqId\":\"");
		pos = json_escape_into(line, pos, cap, request_id, NULL);
		pos = put_raw(line, pos, cap, "\"");
	}
	pos = put_raw(line, pos, cap, ",\"event\":\"");
	pos = json_escape_into(line, pos, cap, event, NULL);
	pos = put_raw(line, pos, cap, "\"");
	return pos;
}

void
log_msg(enum log_level l, const char *event, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	char msg[LOG_LINE_MAX / 2];
	va_list ap;
	size_t pos;

	if (l < min_level || l >= LOG__MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pos = head(line, sizeof(line), l, event);
	pos = put_raw(line, pos, sizeof(line), ",\"msg\":\"");
	pos = json_escape_into(line, pos, sizeof(line), msg, NULL);
	pos = put_raw(line, pos, sizeof(line), "\"");
	emit(line, pos);
}

void
log_access(const char *method, const char *path, int status, int64_t us, size_t bytes_out,
	   const char *remote_addr)
{
	char line[LOG_LINE_MAX];
	char num[96];
	size_t pos;

	if (LOG_INFO < min_level)
		return;
	pos = head(line, sizeof(line), LOG_INFO, "request");
	pos = put_raw(line, pos, sizeof(line), ",\"method\":\"");
	pos = json_escape_into(line, pos, sizeof(line), method != NULL ? method : "", NULL);
	pos = put_raw(line, pos, sizeof(line), "\",\"path\":\"");
	pos = json_escape_into(line, pos, sizeof(line), path != NULL ? path : "", NULL);
	pos = put_raw(line, pos, sizeof(line), "\",\"remoteAddr\":\"");
	pos = json_escape_into(line, pos, sizeof(line), remote_addr != NULL ? remote_addr : "",
			       NULL);
	if (us < 0)
		us = 0;
	snprintf(num, sizeof(num), "\",\"status\":%d,\"ms\":%lld.%03lld,\"bytes\":%zu", status,
		 (long long)(us / 1000), (long long)(us % 1000), bytes_out);
	pos = put_raw(line, pos, sizeof(line), num);
	emit(line, pos);
}
