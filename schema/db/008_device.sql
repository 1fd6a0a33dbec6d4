-- 008_device.sql — the CLI device flow (API.md §8, RFC 8628 semantics).
--
-- One row per `POST /v1/auth/cli/start`. The device code is a bearer
-- secret held by the CLI: only its hex SHA-256 is stored. The user code is
-- what a person types on the approval page: 8 letters of
-- BCDFGHJKLMNPQRSTVWXZ, stored normalized (upper case, no dash) and unique
-- among pending rows.
--
-- Life of a row: pending → approved | denied (by a signed-in person, who
-- is recorded with the active org the token will start in) → consumed
-- (the one personal token was minted; api_key_id names it). A row past
-- expires_at answers EXPIRED_TOKEN whatever its status (consumed rows
-- answer INVALID_GRANT). interval_seconds starts at 5 and grows by 5 on
-- every SLOW_DOWN; last_polled_at is the previous poll. Rows are swept a
-- while after they expire (lib/device.c).
create table device_code (
	id               text        not null primary key,
	device_code_hash text        not null unique, -- hex SHA-256 of the device code
	user_code        text        not null check (user_code ~ '^[BCDFGHJKLMNPQRSTVWXZ]{8}$'),
	status           text        not null default 'pending'
		check (status in ('pending', 'approved', 'denied', 'consumed')),
	user_id          text        references "user" ("id") on delete cascade,
	active_org_id    text        references "organization" ("id") on delete set null,
	client_name      text,
	client_ip        text,
	interval_seconds integer     not null default 5 check (interval_seconds between 1 and 3600),
	last_polled_at   timestamptz,
	created_at       timestamptz not null default now(),
	expires_at       timestamptz not null,
	decided_at       timestamptz,
	api_key_id       text        references api_key (id) on delete set null,
	check ((status = 'pending') = (user_id is null))
);
create unique index device_code_pending_user_code_idx on device_code (user_code)
	where status = 'pending';
create index device_code_expires_at_idx on device_code (expires_at);
