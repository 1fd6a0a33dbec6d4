/*
 * THE route table: one row per endpoint, in the order of the API reference.
 * Each row names its handler, how the caller authenticates and the one
 * permission the pipeline checks. A row without a handler answers 501
 * NOT_IMPLEMENTED and names the issue that builds it.
 */
#include "app.h"

#define R(m, p, h, a, perm, fl) {m, p, h, a, perm, fl, NULL}
#define TODO(m, p, a, perm, fl, iss) {m, p, NULL, a, perm, fl, iss}

#define NONE AUTH_NONE
#define SESS AUTH_SESSION
#define KEY AUTH_APIKEY
#define SCIM AUTH_SCIM
#define STRIPE AUTH_STRIPE
#define NO_ORG ROUTE_NO_ORG

const struct route routes[] = {
	/* Health */
	R("GET", "/health", res_health_get, NONE, PERM_NONE, NO_ORG),

	/* better-auth compatible sign-in (API.md §2) */
	R("POST", "/api/auth/sign-up/email", res_auth_sign_up, NONE, PERM_NONE, NO_ORG),
	R("POST", "/api/auth/sign-in/email", res_auth_sign_in, NONE, PERM_NONE, NO_ORG),
	R("POST", "/api/auth/sign-out", res_auth_sign_out, NONE, PERM_NONE, NO_ORG),
	R("GET", "/api/auth/get-session", res_auth_get_session, NONE, PERM_NONE, NO_ORG),
	TODO("POST", "/api/auth/two-factor/verify-totp", NONE, PERM_NONE, NO_ORG, "identity"),

	/* Me */
	R("GET", "/v1/me", res_me_get, SESS, PERM_NONE, NO_ORG),
	R("PATCH", "/v1/me", res_me_patch, SESS, PERM_NONE, NO_ORG),
	/* Personal tokens (ours: the reference has none) */
	R("GET", "/v1/me/tokens", res_me_tokens_list, SESS, PERM_NONE, NO_ORG),
	R("DELETE", "/v1/me/tokens/:id", res_me_tokens_delete, SESS, PERM_NONE, NO_ORG),

	/* Organizations */
	R("GET", "/v1/orgs/me", res_orgs_list_mine, SESS, PERM_NONE, NO_ORG),
	R("POST", "/v1/orgs", res_orgs_create, SESS, PERM_NONE, NO_ORG),
	R("GET", "/v1/orgs/current", res_orgs_current_get, SESS, PERM_ORG_READ, 0),
	R("POST", "/v1/orgs/current", res_orgs_current_switch, SESS, PERM_NONE, NO_ORG),
	R("PATCH", "/v1/orgs/current", res_orgs_current_patch, SESS, PERM_ORG_UPDATE, 0),
	R("DELETE", "/v1/orgs/current", res_orgs_current_delete, SESS, PERM_ORG_DELETE, 0),
	TODO("POST", "/v1/orgs/current/2fa/setup", SESS, PERM_NONE, 0, "identity"),
	R("GET", "/v1/orgs/current/encryption", res_orgs_encryption_get, SESS, PERM_ORG_READ, 0),
	R("POST", "/v1/orgs/current/rotate-kek", res_orgs_rotate_kek, SESS, PERM_ORG_SECURITY, 0),

	/* Projects */
	R("GET", "/v1/projects", res_projects_list, SESS, PERM_PROJECT_READ, 0),
	R("GET", "/v1/projects/:projectId", res_projects_get, SESS, PERM_PROJECT_READ, 0),
	R("POST", "/v1/projects", res_projects_create, SESS, PERM_PROJECT_WRITE, 0),
	R("DELETE", "/v1/projects/:projectId", res_projects_delete, SESS, PERM_PROJECT_WRITE, 0),

	/* Environments */
	R("GET", "/v1/projects/:projectId/environments", res_environments_list, SESS,
	  PERM_PROJECT_READ, 0),
	R("PATCH", "/v1/projects/:projectId/environments", res_environments_patch, SESS,
	  PERM_ENVIRONMENT_WRITE, 0),

	/* Folders */
	R("GET", "/v1/projects/:projectId/folders", res_folders_list, SESS, PERM_PROJECT_READ, 0),
	R("POST", "/v1/projects/:projectId/folders", res_folders_create, SESS, PERM_FOLDER_WRITE,
	  0),
	R("PATCH", "/v1/projects/:projectId/folders/:id", res_folders_patch, SESS,
	  PERM_FOLDER_WRITE, 0),
	R("DELETE", "/v1/projects/:projectId/folders/:id", res_folders_delete, SESS,
	  PERM_FOLDER_WRITE, 0),

	/* Secrets */
	R("GET", "/v1/projects/:projectId/secrets", res_secrets_list, SESS,
	  PERM_SECRET_LIST, 0),
	R("GET", "/v1/projects/:projectId/secrets/:id", res_secrets_get, SESS,
	  PERM_SECRET_READ, 0),
	R("POST", "/v1/projects/:projectId/secrets", res_secrets_create, SESS,
	  PERM_SECRET_WRITE, 0),
	R("PATCH", "/v1/projects/:projectId/secrets/:id", res_secrets_patch, SESS,
	  PERM_SECRET_WRITE, 0),
	R("DELETE", "/v1/projects/:projectId/secrets/:id", res_secrets_delete, SESS,
	  PERM_SECRET_DELETE, 0),
	R("POST", "/v1/projects/:projectId/secrets/:id/rotate", res_secrets_rotate, SESS,
	  PERM_SECRET_ROTATE, 0),
	R("GET", "/v1/projects/:projectId/secrets/:id/versions", res_secrets_versions, SESS,
	  PERM_SECRET_READ, 0),
	R("GET", "/v1/projects/:projectId/secrets/export", res_secrets_export, SESS,
	  PERM_SECRET_EXPORT, 0),
	R("POST", "/v1/projects/:projectId/secrets/import", res_secrets_import, SESS,
	  PERM_SECRET_IMPORT, ROUTE_TEXT),
	R("GET", "/v1/projects/:projectId/secrets/:id/rotation-policy",
	  res_secrets_policy_get, SESS, PERM_SECRET_LIST, 0),
	R("POST", "/v1/projects/:projectId/secrets/:id/rotation-policy",
	  res_secrets_policy_set, SESS, PERM_ROTATION_POLICY_WRITE, 0),
	R("DELETE", "/v1/projects/:projectId/secrets/:id/rotation-policy",
	  res_secrets_policy_delete, SESS, PERM_ROTATION_POLICY_WRITE, 0),

	/* Shared secrets (folder create, secret create/update/delete are ours) */
	R("GET", "/v1/orgs/current/shared-folders", res_shared_folders_list, SESS,
	  PERM_SECRET_LIST, 0),
	R("POST", "/v1/orgs/current/shared-folders", res_shared_folders_create, SESS,
	  PERM_SHARED_SECRET_WRITE, 0),
	R("GET", "/v1/orgs/current/shared-secrets", res_shared_list, SESS, PERM_SECRET_LIST, 0),
	R("GET", "/v1/orgs/current/shared-secrets/:id", res_shared_get, SESS, PERM_SECRET_READ,
	  0),
	R("POST", "/v1/orgs/current/shared-secrets", res_shared_create, SESS,
	  PERM_SHARED_SECRET_WRITE, 0),
	R("PATCH", "/v1/orgs/current/shared-secrets/:id", res_shared_patch, SESS,
	  PERM_SHARED_SECRET_WRITE, 0),
	R("DELETE", "/v1/orgs/current/shared-secrets/:id", res_shared_delete, SESS,
	  PERM_SHARED_SECRET_WRITE, 0),
	R("GET", "/v1/orgs/current/shared-secrets/:id/versions", res_shared_versions, SESS,
	  PERM_SECRET_READ, 0),

	/* API keys */
	R("GET", "/v1/projects/:projectId/api-keys", res_apikeys_list, SESS, PERM_APIKEY_MANAGE,
	  0),
	R("POST", "/v1/projects/:projectId/api-keys", res_apikeys_create, SESS,
	  PERM_APIKEY_MANAGE, 0),
	R("POST", "/v1/projects/:projectId/api-keys/:id/rotate", res_apikeys_rotate, SESS,
	  PERM_APIKEY_MANAGE, 0),
	R("POST", "/v1/projects/:projectId/api-keys/:id/revoke", res_apikeys_revoke, SESS,
	  PERM_APIKEY_MANAGE, 0),
	R("DELETE", "/v1/projects/:projectId/api-keys/:id", res_apikeys_delete, SESS,
	  PERM_APIKEY_MANAGE, 0),

	/* Webhooks */
	TODO("GET", "/v1/projects/:projectId/webhooks", SESS, PERM_WEBHOOK_MANAGE, 0, "webhooks"),
	TODO("POST", "/v1/projects/:projectId/webhooks", SESS, PERM_WEBHOOK_MANAGE, 0,
	     "webhooks"),
	TODO("PATCH", "/v1/projects/:projectId/webhooks/:id", SESS, PERM_WEBHOOK_MANAGE, 0,
	     "webhooks"),
	TODO("DELETE", "/v1/projects/:projectId/webhooks/:id", SESS, PERM_WEBHOOK_MANAGE, 0,
	     "webhooks"),
	TODO("POST", "/v1/projects/:projectId/webhooks/:id/test", SESS, PERM_WEBHOOK_MANAGE, 0,
	     "webhooks"),
	TODO("GET", "/v1/projects/:projectId/webhooks/:id/deliveries", SESS, PERM_WEBHOOK_MANAGE,
	     0, "webhooks"),

	/* Integrations */
	TODO("GET", "/v1/projects/:projectId/integrations", SESS, PERM_INTEGRATION_MANAGE, 0,
	     "integrations"),
	TODO("POST", "/v1/projects/:projectId/integrations", SESS, PERM_INTEGRATION_MANAGE, 0,
	     "integrations"),
	TODO("GET", "/v1/projects/:projectId/integrations/sync-status", SESS,
	     PERM_INTEGRATION_MANAGE, 0, "integrations"),
	TODO("DELETE", "/v1/projects/:projectId/integrations/:id", SESS, PERM_INTEGRATION_MANAGE,
	     0, "integrations"),

	/* Audit */
	R("GET", "/v1/audit", res_audit_list, SESS, PERM_AUDIT_READ, 0),
	R("GET", "/v1/audit/export", res_audit_export, SESS, PERM_AUDIT_READ, 0),

	/* Access (members + invitations) */
	R("GET", "/v1/access/members", res_access_members_list, SESS, PERM_MEMBER_READ, 0),
	R("PATCH", "/v1/access/members/:memberId", res_access_member_patch, SESS,
	  PERM_MEMBER_MANAGE, 0),
	R("DELETE", "/v1/access/members/:memberId", res_access_member_delete, SESS,
	  PERM_MEMBER_MANAGE, 0),
	R("GET", "/v1/access/invitations", res_access_invitations_list, SESS,
	  PERM_INVITATION_MANAGE, 0),
	R("POST", "/v1/access/invitations", res_access_invitation_create, SESS,
	  PERM_INVITATION_MANAGE, 0),
	R("POST", "/v1/access/invitations/:id/cancel", res_access_invitation_cancel, SESS,
	  PERM_INVITATION_MANAGE, 0),
	R("POST", "/v1/access/invitations/:id/accept", res_access_invitation_accept, SESS,
	  PERM_NONE, NO_ORG),
	R("GET", "/v1/access/permissions", res_access_permissions, SESS, PERM_NONE, NO_ORG),
	R("GET", "/v1/access/members/me/permissions", res_access_my_permissions, SESS, PERM_NONE,
	  0),

	/* Counts */
	R("GET", "/v1/projects/:projectId/counts", res_counts_get, SESS, PERM_PROJECT_READ, 0),
	R("GET", "/v1/projects/:projectId/env-counts", res_counts_env, SESS, PERM_PROJECT_READ, 0),

	/* CLI auth (device-code flow) */
	R("POST", "/v1/auth/cli/start", res_cli_start, NONE, PERM_NONE, NO_ORG),
	R("POST", "/v1/auth/cli/approve", res_cli_approve, SESS, PERM_NONE, NO_ORG),
	R("POST", "/v1/auth/cli/enable", res_cli_enable, NONE, PERM_NONE, NO_ORG),

	/* Runtime */
	R("GET", "/runtime/v1/", res_runtime_introspect, KEY, PERM_NONE, NO_ORG),
	R("GET", "/runtime/v1/secrets", res_runtime_secrets, KEY, PERM_NONE, NO_ORG),
	R("GET", "/runtime/v1/secrets/:key", res_runtime_secret, KEY, PERM_NONE, NO_ORG),

	/* Billing */
	TODO("GET", "/v1/billing/current", SESS, PERM_ORG_READ, 0, "billing"),
	TODO("POST", "/v1/billing/checkout", SESS, PERM_BILLING_MANAGE, 0, "billing"),
	TODO("POST", "/v1/billing/portal", SESS, PERM_BILLING_MANAGE, 0, "billing"),
	TODO("POST", "/v1/billing/webhook", STRIPE, PERM_NONE, NO_ORG, "billing"),

	/* BYOK (KMS) */
	TODO("GET", "/v1/orgs/current/kms", SESS, PERM_KMS_MANAGE, 0, "kms"),
	TODO("POST", "/v1/orgs/current/kms/test", SESS, PERM_KMS_MANAGE, 0, "kms"),
	TODO("POST", "/v1/orgs/current/kms/enable", SESS, PERM_KMS_MANAGE, 0, "kms"),
	TODO("DELETE", "/v1/orgs/current/kms", SESS, PERM_KMS_MANAGE, 0, "kms"),

	/* SSO (SAML) and SCIM tokens */
	TODO("GET", "/v1/sso/by-domain", NONE, PERM_NONE, NO_ORG, "identity"),
	TODO("GET", "/v1/sso/saml/metadata", NONE, PERM_NONE, NO_ORG | ROUTE_RAW, "identity"),
	TODO("GET", "/v1/sso/saml/connections", SESS, PERM_SSO_MANAGE, 0, "identity"),
	TODO("POST", "/v1/sso/saml/connections", SESS, PERM_SSO_MANAGE, 0, "identity"),
	TODO("DELETE", "/v1/sso/saml/connections/:clientID", SESS, PERM_SSO_MANAGE, 0,
	     "identity"),
	TODO("GET", "/v1/sso/saml/authorize", NONE, PERM_NONE, NO_ORG | ROUTE_RAW, "identity"),
	TODO("POST", "/v1/sso/saml/acs", NONE, PERM_NONE, NO_ORG | ROUTE_RAW, "identity"),
	TODO("GET", "/v1/sso/saml/oauth-callback", NONE, PERM_NONE, NO_ORG | ROUTE_RAW,
	     "identity"),
	TODO("GET", "/v1/sso/scim/tokens", SESS, PERM_SCIM_MANAGE, 0, "identity"),
	TODO("POST", "/v1/sso/scim/tokens", SESS, PERM_SCIM_MANAGE, 0, "identity"),
	TODO("DELETE", "/v1/sso/scim/tokens/:id", SESS, PERM_SCIM_MANAGE, 0, "identity"),

	/* SCIM v2 */
	TODO("GET", "/scim/v2/ServiceProviderConfig", SCIM, PERM_NONE, NO_ORG, "identity"),
	TODO("GET", "/scim/v2/Users", SCIM, PERM_NONE, NO_ORG, "identity"),
	TODO("POST", "/scim/v2/Users", SCIM, PERM_NONE, NO_ORG, "identity"),
	TODO("GET", "/scim/v2/Users/:id", SCIM, PERM_NONE, NO_ORG, "identity"),
	TODO("PATCH", "/scim/v2/Users/:id", SCIM, PERM_NONE, NO_ORG, "identity"),
	TODO("DELETE", "/scim/v2/Users/:id", SCIM, PERM_NONE, NO_ORG, "identity"),
	TODO("GET", "/scim/v2/Groups", SCIM, PERM_NONE, NO_ORG, "identity"),
	TODO("GET", "/scim/v2/Groups/:id", SCIM, PERM_NONE, NO_ORG, "identity"),
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);
