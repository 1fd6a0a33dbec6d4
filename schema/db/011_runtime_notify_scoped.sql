-- 011_runtime_notify_scoped.sql — invalidation of the runtime warm path,
-- scoped to a project (issue 5).
--
-- 009's statement-level triggers notified shush_runtime with a table name,
-- which every host's listener took as "everything changed": each secret
-- write anywhere (it bumps its project's environment generations) emptied
-- every runtime cache of every host. Row-level now, with the project as
-- payload ("p:" || project_id): the listener bumps only that project's
-- stripe of the shared counters. Identical payloads within a transaction
-- are delivered once, so a write touching every environment of a project
-- is still one notification. A personal token (no project) is in no
-- runtime cache: "keys". Anything else a listener receives still means
-- "everything" (e.g. NOTIFY shush_runtime, 'all' by hand).
create function shush_runtime_notify_project() returns trigger language plpgsql as $$
begin
	if tg_op in ('UPDATE', 'DELETE') then
		perform pg_notify('shush_runtime', coalesce('p:' || old.project_id, 'keys'));
	end if;
	if tg_op = 'UPDATE' and new.project_id is distinct from old.project_id then
		perform pg_notify('shush_runtime', coalesce('p:' || new.project_id, 'keys'));
	end if;
	return null;
end
$$;

drop trigger api_key_runtime_notify on api_key;
create trigger api_key_runtime_notify
	after update of revoked_at, expires_at, active_org_id, kind, environment_id, org_id,
		project_id
	or delete on api_key
	for each row execute function shush_runtime_notify_project();

drop trigger environment_runtime_notify on environment;
create trigger environment_runtime_notify
	after update or delete on environment
	for each row execute function shush_runtime_notify_project();

-- The application notifies with the key's project itself when it bumps
-- the key generation; to empty every runtime cache by hand:
-- NOTIFY shush_runtime, 'all'.
drop trigger apikey_generation_runtime_notify on apikey_generation;
