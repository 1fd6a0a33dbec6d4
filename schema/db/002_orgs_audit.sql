-- Organizations, members and invitations live in better-auth's tables
-- (001). This adds shush's own: the audit chain and the mail outbox.

-- The audit trail: one row per event, hash-chained per org. Every column
-- that the API shows is part of the hashed canonical event, so a row altered
-- by hand breaks the chain (shushd audit-verify finds the first bad link).
create table audit_event (
	org_id       text        not null references "organization" ("id") on delete cascade,
	seq          bigint      not null,
	id           text        not null unique,
	at           timestamptz not null,
	actor_type   text        not null check (actor_type in ('user', 'apiKey', 'scim', 'system')),
	actor_id     text        not null,
	actor_email  text,
	action       text        not null,
	target_type  text        not null,
	target_id    text        not null,
	project_id   text,
	environment  text,
	ip           text        not null,
	user_agent   text        not null,
	request_id   text        not null,
	metadata     text        not null default '{}', -- canonical JSON text, kept byte for byte
	prev_hash    text        not null,
	hash         text        not null,
	primary key (org_id, seq)
);
create index audit_event_org_action_idx on audit_event (org_id, action, seq);
create index audit_event_org_actor_idx on audit_event (org_id, actor_id, seq);
create index audit_event_org_project_idx on audit_event (org_id, project_id, seq);
create index audit_event_org_at_idx on audit_event (org_id, at);

-- The head of each org's chain; its row lock serialises appends per org.
create table audit_head (
	org_id  text   not null primary key references "organization" ("id") on delete cascade,
	seq     bigint not null,
	hash    text   not null
);

-- Outgoing mail. shush-worker sends rows through SMTP_URL; without it they
-- stay here (make run, tests), readable by an operator.
create table mail_outbox (
	id          text        not null primary key,
	org_id      text        references "organization" ("id") on delete cascade,
	to_address  text        not null,
	subject     text        not null,
	body        text        not null,
	created_at  timestamptz not null default now(),
	attempts    integer     not null default 0,
	last_error  text,
	next_attempt_at timestamptz not null default now(),
	sent_at     timestamptz
);
create index mail_outbox_pending_idx on mail_outbox (next_attempt_at) where sent_at is null;
