-- 007_apikeys.sql — API keys (API.md §4): environment keys for the runtime
-- routes and personal tokens (kind 'user') that act as their user on /v1.
--
-- Only the hex SHA-256 of the whole key ("shush_" + 43 of [A-Za-z0-9]) is
-- stored; prefix (its first 12 characters) is kept for display. A key
-- authenticates while revoked_at is NULL or in the future (rotation with a
-- grace period sets the old key's revoked_at ahead) and expires_at is NULL
-- or in the future.
--
-- Environment keys belong to their org (org_id, cascading with it). A
-- personal token belongs to its user only: org_id stays NULL (deleting an
-- org must not delete the people's tokens) and active_org_id is the org it
-- acts in, cleared when that org is deleted (POST /v1/orgs/current moves it).
create table api_key (
	id             text        not null primary key,
	org_id         text        references "organization" ("id") on delete cascade,
	kind           text        not null check (kind in ('environment', 'user')),
	project_id     text        references project (id) on delete cascade,
	environment_id text        references environment (id) on delete cascade,
	user_id        text        not null references "user" ("id") on delete cascade,
	name           text        not null,
	prefix         text        not null,
	hash           text        not null unique,
	active_org_id  text        references "organization" ("id") on delete set null,
	created_at     timestamptz not null default date_trunc('milliseconds', now()),
	last_used_at   timestamptz,
	expires_at     timestamptz,
	revoked_at     timestamptz,
	check ((kind = 'environment') = (project_id is not null and environment_id is not null)),
	check (kind = 'user' or org_id is not null),
	check (kind = 'user' or active_org_id is null)
);
create index api_key_project_idx on api_key (project_id, created_at, id) where kind = 'environment';
create index api_key_user_idx on api_key (user_id, created_at, id) where kind = 'user';
create index api_key_org_idx on api_key (org_id);

-- Bumped (value + 1) by every revoke, rotate, delete or expiry change of any
-- key: a worker caching authenticated keys compares it and drops its cache
-- when it moved (apikeys_generation / apikeys_bump_generation).
create table apikey_generation (
	one        boolean not null primary key default true check (one),
	generation bigint  not null
);
insert into apikey_generation (one, generation) values (true, 1);
