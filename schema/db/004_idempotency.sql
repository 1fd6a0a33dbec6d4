-- 004_idempotency.sql — the answers remembered for Idempotency-Key (API.md §1).
--
-- One row per (user, key), written by the pipeline around a mutating
-- session-authenticated request:
--   * claimed before the handler runs: status 0 (pending), no answer yet;
--     a concurrent request with the same key finds the row and answers 409
--     IDEMPOTENCY_KEY_IN_PROGRESS instead of running the change twice;
--   * filled after the handler: the answer's status, content type, the
--     headers that matter (a JSON array of [name, value] pairs: Location,
--     Retry-After — never Set-Cookie) and the body, byte for byte;
--   * deleted when the handler answered 5xx (or 429), so the client can retry.
-- A row older than 24 hours counts as absent: it is overwritten when its key
-- is claimed again and swept in bounded batches (created_at index). A pending
-- row left behind by a worker that died mid-request is reclaimable after a
-- few minutes (see lib/idempotency.c).
--
-- It is a cache of answers, not a record: nothing else refers to it.
create table idempotency_key (
	user_id      text        not null references "user" ("id") on delete cascade,
	key          text        not null,
	method       text        not null,
	path         text        not null,
	body_sha256  text        not null, -- hex SHA-256 of the request body as received
	status       integer     not null default 0 check (status = 0 or status between 100 and 599),
	content_type text,
	headers      text        not null default '[]',
	body         bytea,
	created_at   timestamptz not null default now(),
	primary key (user_id, key)
);
create index idempotency_key_created_at_idx on idempotency_key (created_at);
