/*
 * Outgoing mail: queued in mail_outbox inside the caller's transaction, so
 * a message exists exactly when the change that sends it was committed.
 * shush-worker delivers the rows (through SMTP_URL); without it they stay
 * in the table, readable by an operator and by the tests.
 */
#include <string.h>

#include "shush.h"

#define MAIL_ADDRESS_MAX 254
#define MAIL_SUBJECT_MAX 998 /* RFC 5322 line limit */

static struct db_stmt st_enqueue = {
	"mail_enqueue",
	"INSERT INTO mail_outbox (id, org_id, to_address, subject, body) VALUES ($1, $2, $3, $4, $5)",
	5, 0};

/* A header value on one line: control characters (CR and LF above all,
 * which would let a value smuggle in headers) become spaces. */
static char *
one_line(struct arena *a, const char *s)
{
	char *o = arena_strndup(a, s, strnlen(s, MAIL_SUBJECT_MAX));
	char *p;

	for (p = o; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return o;
}

enum db_status
mail_enqueue(struct arena *a, const char *org_id, const char *to, const char *subject,
	     const char *body)
{
	struct db_result r;
	char id[ID_LEN + 1];
	const char *params[5];
	const char *p;

	if (to == NULL || to[0] == '\0' || strlen(to) > MAIL_ADDRESS_MAX || subject == NULL ||
	    body == NULL)
		return DB_INVALID;
	for (p = to; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == ',')
			return DB_INVALID;
	id_new(id);
	params[0] = id;
	params[1] = org_id;
	params[2] = to;
	params[3] = one_line(a, subject);
	params[4] = body;
	return db_exec(a, &st_enqueue, params, &r);
}
