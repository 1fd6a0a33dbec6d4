-- 010_audit_spool.sql — the audit spool (issue 5).
--
-- Runtime reads are recorded by each shushd worker in its own append-only
-- file (SHUSH_SPOOL_DIR) without a round trip; shush-worker chains the
-- records into audit_event and moves the file's row here forward in the
-- same transaction, so every record is chained exactly once, whatever
-- crashes when. A file's row goes when the file does.
create table audit_spool (
	name       text        not null primary key, -- the file's name: host.pid.ms.random.spool
	shipped    bigint      not null default 0 check (shipped >= 0), -- bytes already chained
	updated_at timestamptz not null default now()
);
