/*
 * Forward-only migrations: schema/db/NNN_*.sql applied once each, in name
 * order, each in its own transaction, under an advisory lock so that
 * several hosts starting at once apply each file exactly once.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shush.h"

#define MIGRATE_LOCK "7301990011"
#define MIGRATE_FILES_MAX 512
#define MIGRATE_FILE_MAX (4 * 1024 * 1024)

static struct db_stmt st_applied = {
	"migrate_applied", "SELECT 1 FROM shush_migrations WHERE name = $1", 1, 0};
static struct db_stmt st_record = {
	"migrate_record", "INSERT INTO shush_migrations (name) VALUES ($1)", 1, 0};

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
read_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *data;
	long n;

	if (f == NULL) {
		snprintf(err, errlen, "cannot open %s", path);
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > MIGRATE_FILE_MAX ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		snprintf(err, errlen, "cannot read %s (or larger than 4 MiB)", path);
		return NULL;
	}
	data = malloc((size_t)n + 1);
	if (data == NULL || fread(data, 1, (size_t)n, f) != (size_t)n) {
		free(data);
		fclose(f);
		snprintf(err, errlen, "cannot read %s", path);
		return NULL;
	}
	data[n] = '\0';
	fclose(f);
	return data;
}

static int
apply_one(struct arena *a, const char *dir, const char *name, int *applied, char *err,
	  size_t errlen)
{
	struct db_result r;
	const char *params[1] = {name};
	char path[4096];
	char *sql;
	enum db_status st;

	if (db_exec(a, &st_applied, params, &r) != DB_OK) {
		snprintf(err, errlen, "cannot read shush_migrations");
		return -1;
	}
	if (r.rows > 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((sql = read_file(path, err, errlen)) == NULL)
		return -1;
	if (db_begin() != DB_OK) {
		free(sql);
		snprintf(err, errlen, "cannot begin a transaction");
		return -1;
	}
	st = db_simple(sql, err, errlen);
	free(sql);
	if (st == DB_OK && db_exec(a, &st_record, params, &r) != DB_OK) {
		st = DB_ERROR;
		snprintf(err, errlen, "cannot record %s", name);
	}
	if (st != DB_OK || db_commit() != DB_OK) {
		size_t used = strlen(err);

		db_rollback();
		snprintf(err + used, errlen - used, " (in %s)", name);
		return -1;
	}
	log_msg(LOG_INFO, "migrate.applied", "%s", name);
	(*applied)++;
	return 0;
}

int
migrate_apply(const char *dir, int *applied, char *err, size_t errlen)
{
	struct arena *a;
	DIR *d;
	struct dirent *e;
	char *names[MIGRATE_FILES_MAX];
	size_t n = 0, i;
	int rc = 0;

	*applied = 0;
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "cannot open the migrations directory %s", dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL && n < MIGRATE_FILES_MAX) {
		size_t len = strlen(e->d_name);

		if (len > 4 && strcmp(e->d_name + len - 4, ".sql") == 0 && e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);

	if (db_simple("CREATE TABLE IF NOT EXISTS shush_migrations ("
		      " name text PRIMARY KEY,"
		      " applied_at timestamptz NOT NULL DEFAULT now())",
		      err, errlen) != DB_OK ||
	    db_simple("SELECT pg_advisory_lock(" MIGRATE_LOCK ")", err, errlen) != DB_OK) {
		rc = -1;
		goto done;
	}
	a = arena_new(16 * 1024);
	for (i = 0; i < n && rc == 0; i++)
		rc = apply_one(a, dir, names[i], applied, err, errlen);
	arena_free(a);
	{
		char ignored[64];

		(void)db_simple("SELECT pg_advisory_unlock(" MIGRATE_LOCK ")", ignored,
				sizeof(ignored));
	}
done:
	for (i = 0; i < n; i++)
		free(names[i]);
	return rc;
}
