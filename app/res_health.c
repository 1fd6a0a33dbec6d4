/* Health: PostgreSQL and Redis liveness (REFERENCE.md "Health"). */
#include "app.h"

/* GET /health: 200 both up; 503 with the failing part "down". */
void
res_health_get(struct request *rq, struct response *rs)
{
	int pg = db_ping() == 0;
	int redis = kv_ping() == 0;
	cJSON *o = json_object(rq->arena);

	cJSON_AddStringToObject(o, "status", pg && redis ? "ok" : "degraded");
	cJSON_AddStringToObject(o, "postgres", pg ? "ok" : "down");
	cJSON_AddStringToObject(o, "redis", redis ? "ok" : "down");
	if (!(pg && redis))
		http_header(rs, "Retry-After", "5");
	http_json(rs, pg && redis ? 200 : 503, o);
}
