-- 009_runtime_notify.sql — invalidation of the runtime warm path (issue 5).
--
-- shushd's listener holds LISTEN shush_runtime and bumps the host's shared
-- world generation on every notification; every runtime cache entry of
-- that host is then a miss. The application's own writers already
-- pg_notify('shush_runtime') in the transactions that bump environment or
-- API key generations (and bump their own host's counter after COMMIT, for
-- read-your-writes). These statement-level triggers make every other
-- change a cached entry depends on notify too — a revocation, expiry or
-- org switch written by hand or by another host's code path, a cascaded
-- delete of keys or environments, a bump of apikey_generation — so it
-- reaches every host once the listener has it. Not on last_used_at: the
-- once-a-minute stamp must not empty every cache.
create function shush_runtime_notify() returns trigger language plpgsql as $$
begin
	perform pg_notify('shush_runtime', tg_table_name);
	return null;
end
$$;

create trigger api_key_runtime_notify
	after update of revoked_at, expires_at, active_org_id, kind, environment_id, org_id
	or delete on api_key
	for each statement execute function shush_runtime_notify();

create trigger apikey_generation_runtime_notify
	after update on apikey_generation
	for each statement execute function shush_runtime_notify();

create trigger environment_runtime_notify
	after update or delete on environment
	for each statement execute function shush_runtime_notify();
