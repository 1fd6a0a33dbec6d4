-- The vault (issue 4): projects, environments with inheritance, folders,
-- secrets with per-environment versions, rotation policies, shared secrets.
-- Every table carries org_id and cascades from its org, so deleting an org
-- removes its data for good. Values are sealed (AES-256-GCM under the org's
-- DEK, see lib/keyring.c) and stored as bytea: no plaintext value is ever
-- in the database.

create table project (
	id          text        not null primary key,
	org_id      text        not null references "organization" ("id") on delete cascade,
	name        text        not null,
	slug        text        not null,
	description text,
	created_at  timestamptz not null default date_trunc('milliseconds', now()),
	unique (org_id, slug)
);
create index project_org_idx on project (org_id, created_at, id);

-- parents: slugs of this project's environments, in inheritance order.
-- generation is bumped by every write that changes what the environment
-- resolves to (runtime caches compare it).
create table environment (
	id          text        not null primary key,
	org_id      text        not null references "organization" ("id") on delete cascade,
	project_id  text        not null references project (id) on delete cascade,
	slug        text        not null,
	name        text        not null,
	parents     text[]      not null default '{}',
	position    integer     not null,
	generation  bigint      not null default 1,
	created_at  timestamptz not null default date_trunc('milliseconds', now()),
	unique (project_id, slug)
);

create table folder (
	id          text        not null primary key,
	org_id      text        not null references "organization" ("id") on delete cascade,
	project_id  text        not null references project (id) on delete cascade,
	parent_id   text        references folder (id) on delete cascade,
	name        text        not null,
	created_at  timestamptz not null default date_trunc('milliseconds', now())
);
create unique index folder_name_uidx on folder (project_id, coalesce(parent_id, ''), name);

create table secret (
	id              text        not null primary key,
	org_id          text        not null references "organization" ("id") on delete cascade,
	project_id      text        not null references project (id) on delete cascade,
	key             text        not null,
	folder_id       text        references folder (id) on delete cascade,
	note            text        not null default '',
	tags            text[]      not null default '{}',
	last_rotated_at timestamptz,
	created_at      timestamptz not null default date_trunc('milliseconds', now()),
	updated_at      timestamptz not null default date_trunc('milliseconds', now()),
	unique (project_id, key)
);

-- Every write of an environment's value is a new version (value sealed with
-- additional data binding org, project, secret, environment and version).
create table secret_version (
	org_id         text        not null references "organization" ("id") on delete cascade,
	secret_id      text        not null references secret (id) on delete cascade,
	environment_id text        not null references environment (id) on delete cascade,
	version        integer     not null check (version > 0),
	value          bytea       not null,
	created_at     timestamptz not null default date_trunc('milliseconds', now()),
	created_by     text        not null,
	primary key (secret_id, environment_id, version)
);

-- The current version of each (secret, environment); absent = no value there
-- (the environment inherits). Its row lock serialises concurrent writers.
create table secret_value (
	org_id         text    not null references "organization" ("id") on delete cascade,
	secret_id      text    not null references secret (id) on delete cascade,
	environment_id text    not null references environment (id) on delete cascade,
	version        integer not null,
	updated_at     timestamptz not null default date_trunc('milliseconds', now()),
	updated_by     text    not null,
	primary key (secret_id, environment_id)
);
create index secret_value_env_idx on secret_value (environment_id);

create table rotation_policy (
	secret_id        text        not null primary key references secret (id) on delete cascade,
	org_id           text        not null references "organization" ("id") on delete cascade,
	interval_days    integer     not null check (interval_days between 1 and 3650),
	next_due_at      timestamptz not null,
	last_notified_at timestamptz,
	created_at       timestamptz not null default date_trunc('milliseconds', now()),
	updated_at       timestamptz not null default date_trunc('milliseconds', now())
);
create index rotation_policy_due_idx on rotation_policy (next_due_at);

-- Org-wide shared secrets: one value, versioned.
create table shared_folder (
	id          text        not null primary key,
	org_id      text        not null references "organization" ("id") on delete cascade,
	parent_id   text        references shared_folder (id) on delete cascade,
	name        text        not null,
	created_at  timestamptz not null default date_trunc('milliseconds', now())
);
create unique index shared_folder_name_uidx on shared_folder (org_id, coalesce(parent_id, ''), name);

create table shared_secret (
	id          text        not null primary key,
	org_id      text        not null references "organization" ("id") on delete cascade,
	key         text        not null,
	folder_id   text        references shared_folder (id) on delete cascade,
	note        text        not null default '',
	version     integer     not null,
	created_at  timestamptz not null default date_trunc('milliseconds', now()),
	updated_at  timestamptz not null default date_trunc('milliseconds', now()),
	unique (org_id, key)
);

create table shared_secret_version (
	org_id           text        not null references "organization" ("id") on delete cascade,
	shared_secret_id text        not null references shared_secret (id) on delete cascade,
	version          integer     not null check (version > 0),
	value            bytea       not null,
	created_at       timestamptz not null default date_trunc('milliseconds', now()),
	created_by       text        not null,
	primary key (shared_secret_id, version)
);
