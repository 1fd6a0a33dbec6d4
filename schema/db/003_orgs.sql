-- 003_orgs.sql — what the organization routes need beyond better-auth's
-- tables (001) and shush's audit chain (002).
--
-- Deleting an org clears "activeOrganizationId" on every session that points
-- at it (every member loses the org at once); this index keeps that from
-- scanning all sessions. better-auth ignores indexes it does not know.
create index "session_activeOrganizationId_idx" on "session" ("activeOrganizationId")
	where "activeOrganizationId" is not null;
