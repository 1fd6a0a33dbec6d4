/* Me: the signed-in person's own profile (REFERENCE.md "Me"). */
#include <string.h>

#include "app.h"

#define NAME_MAX_LEN 256
#define IMAGE_MAX_LEN 2048

static void
answer_me(struct request *rq, struct response *rs, const struct user *u)
{
	cJSON *o = json_object(rq->arena);

	cJSON_AddStringToObject(o, "id", u->id);
	cJSON_AddStringToObject(o, "email", u->email);
	cJSON_AddStringToObject(o, "name", u->name != NULL ? u->name : "");
	if (u->image != NULL)
		cJSON_AddStringToObject(o, "image", u->image);
	else
		cJSON_AddNullToObject(o, "image");
	cJSON_AddBoolToObject(o, "emailVerified", u->email_verified);
	cJSON_AddStringToObject(o, "createdAt", u->created_at);
	http_json(rs, 200, o);
}

/* GET /v1/me: 200 the user; 401 without a session. */
void
res_me_get(struct request *rq, struct response *rs)
{
	answer_me(rq, rs, &rq->actor.user);
}

/* PATCH /v1/me {name?, image?}: 200 the user; 400 wrong types or lengths,
 * 401, 403 bad Origin, 415, 503. image may be null to remove it. */
void
res_me_patch(struct request *rq, struct response *rs)
{
	const char *name = NULL, *image = NULL;
	cJSON *img = rq->json != NULL ? cJSON_GetObjectItemCaseSensitive(rq->json, "image") : NULL;
	int set_image = img != NULL;
	struct user u;
	enum db_status st;

	if (json_get_string(rq, rs, "name", &name, 0, NAME_MAX_LEN) < 0)
		return;
	if (name != NULL && name[0] == '\0') {
		http_error(rs, 400, "VALIDATION_ERROR", "name must not be empty", "name");
		return;
	}
	if (set_image && !cJSON_IsNull(img) &&
	    json_get_string(rq, rs, "image", &image, 0, IMAGE_MAX_LEN) < 0)
		return;
	st = users_update(rq->arena, rq->actor.user_id, name, name != NULL, image, set_image, &u);
	if (st != DB_OK) {
		http_db_error(rs, st);
		return;
	}
	if (u.id == NULL) {
		http_error(rs, 401, "UNAUTHORIZED", "Sign in first", NULL);
		return;
	}
	answer_me(rq, rs, &u);
}
