/*
 * Roles and permissions as data (API.md §3): which role holds which
 * permission is one table, read by the one permission check.
 */
#include <string.h>

#include "shush.h"

static const char *const perm_names[PERM__MAX] = {
	[PERM_NONE] = "none",
	[PERM_ORG_READ] = "org:read",
	[PERM_ORG_UPDATE] = "org:update",
	[PERM_ORG_DELETE] = "org:delete",
	[PERM_ORG_SECURITY] = "org:security",
	[PERM_PROJECT_READ] = "project:read",
	[PERM_PROJECT_WRITE] = "project:write",
	[PERM_ENVIRONMENT_WRITE] = "environment:write",
	[PERM_FOLDER_WRITE] = "folder:write",
	[PERM_SECRET_LIST] = "secret:list",
	[PERM_SECRET_READ] = "secret:read",
	[PERM_SECRET_WRITE] = "secret:write",
	[PERM_SECRET_DELETE] = "secret:delete",
	[PERM_SECRET_ROTATE] = "secret:rotate",
	[PERM_SECRET_EXPORT] = "secret:export",
	[PERM_SECRET_IMPORT] = "secret:import",
	[PERM_ROTATION_POLICY_WRITE] = "rotation_policy:write",
	[PERM_SHARED_SECRET_WRITE] = "shared_secret:write",
	[PERM_APIKEY_MANAGE] = "apikey:manage",
	[PERM_WEBHOOK_MANAGE] = "webhook:manage",
	[PERM_INTEGRATION_MANAGE] = "integration:manage",
	[PERM_AUDIT_READ] = "audit:read",
	[PERM_MEMBER_READ] = "member:read",
	[PERM_MEMBER_MANAGE] = "member:manage",
	[PERM_INVITATION_MANAGE] = "invitation:manage",
	[PERM_SCIM_MANAGE] = "scim:manage",
	[PERM_KMS_MANAGE] = "kms:manage",
	[PERM_SSO_MANAGE] = "sso:manage",
	[PERM_BILLING_MANAGE] = "billing:manage",
};

/* What each permission lets a role do, for the catalog of
 * GET /v1/access/permissions. */
static const char *const perm_descriptions[PERM__MAX] = {
	[PERM_NONE] = "Any signed-in person",
	[PERM_ORG_READ] = "See the organization and its settings",
	[PERM_ORG_UPDATE] = "Rename the organization and change its settings",
	[PERM_ORG_DELETE] = "Delete the organization and all of its data",
	[PERM_ORG_SECURITY] = "Manage two-factor requirements, encryption and key rotation",
	[PERM_PROJECT_READ] = "See projects and their environments",
	[PERM_PROJECT_WRITE] = "Create and delete projects",
	[PERM_ENVIRONMENT_WRITE] = "Change environments and their inheritance",
	[PERM_FOLDER_WRITE] = "Create, rename, move and delete folders",
	[PERM_SECRET_LIST] = "List secret keys and metadata, without values",
	[PERM_SECRET_READ] = "Read secret values and their versions",
	[PERM_SECRET_WRITE] = "Create and update secrets",
	[PERM_SECRET_DELETE] = "Delete secrets",
	[PERM_SECRET_ROTATE] = "Mark secrets as rotated",
	[PERM_SECRET_EXPORT] = "Export an environment's resolved secrets",
	[PERM_SECRET_IMPORT] = "Import secrets from a dotenv file",
	[PERM_ROTATION_POLICY_WRITE] = "Set and clear rotation policies",
	[PERM_SHARED_SECRET_WRITE] = "Create, update and delete org-wide shared secrets",
	[PERM_APIKEY_MANAGE] = "Create, rotate, revoke and delete API keys",
	[PERM_WEBHOOK_MANAGE] = "Manage webhooks and see their deliveries",
	[PERM_INTEGRATION_MANAGE] = "Manage integrations that push secrets to other systems",
	[PERM_AUDIT_READ] = "Read and export the audit log",
	[PERM_MEMBER_READ] = "See the organization's members",
	[PERM_MEMBER_MANAGE] = "Change members' roles and remove members",
	[PERM_INVITATION_MANAGE] = "Invite people and cancel invitations",
	[PERM_SCIM_MANAGE] = "Manage SCIM provisioning tokens",
	[PERM_KMS_MANAGE] = "Bring your own key: manage the AWS KMS key-encryption key",
	[PERM_SSO_MANAGE] = "Manage SAML single sign-on",
	[PERM_BILLING_MANAGE] = "Manage the plan and billing",
};

static const char *const role_names[ROLE__MAX] = {"owner", "admin", "engineer", "viewer"};

/* The lowest role that holds each permission: roles are ordered, owner
 * first, so a role holds a permission when it ranks at or above it. */
static const enum rbac_role perm_min_role[PERM__MAX] = {
	[PERM_NONE] = ROLE_VIEWER,
	[PERM_ORG_READ] = ROLE_VIEWER,
	[PERM_PROJECT_READ] = ROLE_VIEWER,
	[PERM_MEMBER_READ] = ROLE_VIEWER,
	[PERM_SECRET_LIST] = ROLE_VIEWER,
	[PERM_SECRET_READ] = ROLE_ENGINEER,
	[PERM_SECRET_WRITE] = ROLE_ENGINEER,
	[PERM_SECRET_DELETE] = ROLE_ENGINEER,
	[PERM_SECRET_ROTATE] = ROLE_ENGINEER,
	[PERM_SECRET_EXPORT] = ROLE_ENGINEER,
	[PERM_SECRET_IMPORT] = ROLE_ENGINEER,
	[PERM_FOLDER_WRITE] = ROLE_ENGINEER,
	[PERM_PROJECT_WRITE] = ROLE_ADMIN,
	[PERM_ENVIRONMENT_WRITE] = ROLE_ADMIN,
	[PERM_ROTATION_POLICY_WRITE] = ROLE_ADMIN,
	[PERM_APIKEY_MANAGE] = ROLE_ADMIN,
	[PERM_WEBHOOK_MANAGE] = ROLE_ADMIN,
	[PERM_INTEGRATION_MANAGE] = ROLE_ADMIN,
	[PERM_SHARED_SECRET_WRITE] = ROLE_ADMIN,
	[PERM_AUDIT_READ] = ROLE_ADMIN,
	[PERM_MEMBER_MANAGE] = ROLE_ADMIN,
	[PERM_INVITATION_MANAGE] = ROLE_ADMIN,
	[PERM_SCIM_MANAGE] = ROLE_ADMIN,
	[PERM_ORG_UPDATE] = ROLE_ADMIN,
	[PERM_ORG_DELETE] = ROLE_OWNER,
	[PERM_ORG_SECURITY] = ROLE_OWNER,
	[PERM_KMS_MANAGE] = ROLE_OWNER,
	[PERM_SSO_MANAGE] = ROLE_OWNER,
	[PERM_BILLING_MANAGE] = ROLE_OWNER,
};

const char *
rbac_perm_name(enum perm p)
{
	return p < PERM__MAX ? perm_names[p] : "none";
}

const char *
rbac_role_name(enum rbac_role r)
{
	return r < ROLE__MAX ? role_names[r] : "";
}

const char *
rbac_perm_description(enum perm p)
{
	return p < PERM__MAX ? perm_descriptions[p] : "";
}

size_t
rbac_role_permissions(enum rbac_role r, enum perm out[PERM__MAX])
{
	size_t n = 0;
	int p;

	for (p = PERM_NONE + 1; p < PERM__MAX; p++)
		if (rbac_allows(r, (enum perm)p))
			out[n++] = (enum perm)p;
	return n;
}

int
rbac_role_parse(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < ROLE__MAX; i++)
		if (strcmp(s, role_names[i]) == 0)
			return i;
	return -1;
}

int
rbac_allows(enum rbac_role r, enum perm p)
{
	return r < ROLE__MAX && p < PERM__MAX && r <= perm_min_role[p];
}
