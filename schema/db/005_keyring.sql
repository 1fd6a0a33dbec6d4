-- 005_keyring.sql — each org's data keys (DEKs), wrapped by a key-encryption
-- key (KEK); see lib/keyring.c and DESIGN.md §4.
--
-- One table, one row per DEK version of an org; exactly one row per org is
-- current (the partial unique index). New values are sealed under the
-- current version; older versions stay only while a re-key (`shushd rekey`)
-- still has values to move off them, and are deleted once nothing uses them.
-- A sealed value names its DEK version in its header, so opening never
-- guesses.
--
-- wrapped_dek is what the provider made of the 32-byte DEK:
--   master: nonce (12) ‖ AES-256-GCM ciphertext (32) ‖ tag (16) under the
--           master key, additional data binding org id and dek_version;
--   kms:    the KMS ciphertext blob (later: BYOK).
-- kek_id names the KEK that wrapped it, never the key itself: for the master
-- key 'master:' + the first 16 hex digits of SHA-256 of the 32 key bytes
-- (`echo KEY_B64 | base64 -d | sha256sum`), so an operator can tell which
-- orgs still need `rotate-kek` before dropping an old key from
-- MASTER_KEK_PREVIOUS_B64.
-- The database never holds a DEK or a value in clear.
create table org_key (
	org_id         text        not null references "organization" ("id") on delete cascade,
	dek_version    integer     not null check (dek_version > 0),
	current        boolean     not null default true,
	provider       text        not null check (provider in ('master', 'kms')),
	kek_id         text        not null,
	wrapped_dek    bytea       not null,
	kms_key_arn    text,
	dek_created_at timestamptz not null default date_trunc('milliseconds', now()),
	wrapped_at     timestamptz not null default date_trunc('milliseconds', now()),
	primary key (org_id, dek_version),
	check (provider <> 'master' or (octet_length(wrapped_dek) = 60 and kms_key_arn is null)),
	check (provider <> 'kms' or kms_key_arn is not null)
);
create unique index org_key_current_uidx on org_key (org_id) where current;
