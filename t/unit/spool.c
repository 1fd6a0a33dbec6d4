/* Unit tests for lib/spool.c's record lines: what a worker writes is what
 * shush-worker reads back, client text cannot break out of its field, and
 * a record that does not fit or is incomplete is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/shush.h"
#include "tap.h"

int
main(void)
{
	struct arena *a = arena_new(4096);
	struct audit_event ev, back;
	char line[SPOOL_RECORD_MAX], big[SPOOL_RECORD_MAX];
	int n;

	memset(&ev, 0, sizeof(ev));
	ev.org_id = "org1";
	ev.actor_type = "apiKey";
	ev.actor_id = "key1";
	ev.action = "secret.read";
	ev.target_type = "environment";
	ev.target_id = "env1";
	ev.project_id = "proj1";
	ev.environment = "development";
	ev.ip = "127.0.0.1";
	ev.user_agent = "ua \"quoted\" \\ back\x01\n\"},\"org\":\"evil";
	ev.request_id = "rid1";
	ev.metadata = "{\"runtime\":true,\"count\":3}";

	n = spool_format(&ev, 1764000000123LL, line, sizeof(line));
	ok(n > 0 && line[n - 1] == '\n', "one line, newline-terminated");
	ok(memchr(line, '\n', (size_t)n - 1) == NULL, "no newline inside the record");
	ok(spool_parse(a, line, (size_t)n - 1, &back) == 0, "it parses back");
	is_str(back.org_id, "org1", "org");
	is_str(back.actor_type, "apiKey", "actor type");
	is_str(back.actor_id, "key1", "actor");
	is_str(back.action, "secret.read", "action");
	is_str(back.target_type, "environment", "target type");
	is_str(back.target_id, "env1", "target id");
	is_str(back.project_id, "proj1", "project");
	is_str(back.environment, "development", "environment");
	is_str(back.ip, "127.0.0.1", "ip");
	is_str(back.user_agent, ev.user_agent, "user agent, byte for byte, its quotes harmless");
	is_str(back.request_id, "rid1", "request id");
	is_str(back.metadata, "{\"runtime\":true,\"count\":3}", "metadata");
	ok(back.at_ms == 1764000000123LL, "at in milliseconds");

	ev.project_id = NULL;
	ev.environment = NULL;
	ev.metadata = NULL;
	n = spool_format(&ev, 1, line, sizeof(line));
	ok(n > 0 && spool_parse(a, line, (size_t)n - 1, &back) == 0 && back.project_id == NULL &&
		   back.environment == NULL && back.metadata == NULL,
	   "absent optional fields stay absent");

	memset(big, 'u', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ev.user_agent = big;
	ok(spool_format(&ev, 1, line, sizeof(line)) == -1, "a record that does not fit: -1");
	ev.user_agent = "x";
	ev.target_id = NULL;
	ok(spool_format(&ev, 1, line, sizeof(line)) == -1, "an incomplete event: -1");

	ok(spool_parse(a, "{\"at\":1,\"org\":\"o\"}", 19, &back) == -1, "an incomplete record: -1");
	ok(spool_parse(a, "{\"at\":1,\"org\":", 14, &back) == -1, "a torn record: -1");
	ok(spool_parse(a, "[]", 2, &back) == -1, "not an object: -1");
	/* spool_dir_check: what shushd check and serve say about the dir. */
	{
		char tmpl[] = "/tmp/shush-spool-unit-XXXXXX", path[128], err[256];
		struct stat st;
		FILE *f;

		ok(mkdtemp(tmpl) != NULL, "a scratch directory");
		snprintf(path, sizeof(path), "%s/spool", tmpl);
		ok(spool_dir_check(path, err, sizeof(err)) == 0, "a missing directory is created");
		ok(stat(path, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
		   "mode 0700");
		ok(spool_dir_check(path, err, sizeof(err)) == 0, "an existing one is fine");
		snprintf(path, sizeof(path), "%s/file", tmpl);
		f = fopen(path, "w");
		if (f != NULL)
			fclose(f);
		err[0] = '\0';
		ok(spool_dir_check(path, err, sizeof(err)) == -1 && strstr(err, "SHUSH_SPOOL_DIR") &&
			   strstr(err, "not a directory"),
		   "a file is refused, naming SHUSH_SPOOL_DIR: %s", err);
		snprintf(path, sizeof(path), "%s/no/such/parent", tmpl);
		ok(spool_dir_check(path, err, sizeof(err)) == -1 && strstr(err, "cannot be created"),
		   "an uncreatable one is refused: %s", err);
		snprintf(path, sizeof(path), "rm -rf '%s'", tmpl);
		ok(system(path) == 0, "scratch removed");
	}
	arena_free(a);
	return done_testing();
}
