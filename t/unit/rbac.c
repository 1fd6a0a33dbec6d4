/* Unit tests of lib/rbac.c against API.md §3's table. */
#include <string.h>

#include "../../lib/shush.h"
#include "tap.h"

int
main(void)
{
	int p;

	is_int(rbac_role_parse("admin"), ROLE_ADMIN, "admin parses");
	is_int(rbac_role_parse(" Admin "), -1, "\" Admin \" does not");
	is_int(rbac_role_parse("Admin"), -1, "case matters");
	is_int(rbac_role_parse(""), -1, "empty does not");
	is_int(rbac_role_parse(NULL), -1, "NULL does not");
	is_str(rbac_role_name(ROLE_VIEWER), "viewer", "role names");

	for (p = 0; p < PERM__MAX; p++) {
		ok(rbac_perm_name((enum perm)p) != NULL && strlen(rbac_perm_name((enum perm)p)) > 0,
		   "permission %d has a name", p);
		ok(rbac_allows(ROLE_OWNER, (enum perm)p), "owner holds %s",
		   rbac_perm_name((enum perm)p));
	}
	ok(rbac_allows(ROLE_VIEWER, PERM_SECRET_LIST), "viewer lists secrets");
	ok(!rbac_allows(ROLE_VIEWER, PERM_SECRET_READ), "viewer never reads values");
	ok(rbac_allows(ROLE_ENGINEER, PERM_SECRET_EXPORT), "engineer exports");
	ok(!rbac_allows(ROLE_ENGINEER, PERM_APIKEY_MANAGE), "engineer does not manage keys");
	ok(rbac_allows(ROLE_ADMIN, PERM_ORG_UPDATE), "admin updates the org");
	ok(!rbac_allows(ROLE_ADMIN, PERM_ORG_DELETE), "admin does not delete the org");
	ok(!rbac_allows(ROLE_ADMIN, PERM_BILLING_MANAGE), "billing is the owner's");
	ok(!rbac_allows(ROLE_ADMIN, PERM_KMS_MANAGE), "kms is the owner's");
	ok(!rbac_allows((enum rbac_role)ROLE__MAX, PERM_NONE), "an unknown role holds nothing");
	is_str(rbac_perm_name(PERM_SECRET_READ), "secret:read", "names as in the API");

	{
		enum perm list[PERM__MAX];
		size_t n, i;
		int r;

		for (p = 1; p < PERM__MAX; p++)
			ok(strlen(rbac_perm_description((enum perm)p)) > 0,
			   "%s has a description", rbac_perm_name((enum perm)p));
		is_int((int)rbac_role_permissions(ROLE_OWNER, list), PERM__MAX - 1,
		       "owner lists every permission but none");
		is_int((int)list[0], PERM_ORG_READ, "in catalog order");
		n = rbac_role_permissions(ROLE_VIEWER, list);
		is_int((int)n, 4, "viewer lists four");
		is_int((int)list[3], PERM_MEMBER_READ, "the last of them member:read");
		for (r = 0; r < ROLE__MAX; r++) {
			int agree = 1;

			n = rbac_role_permissions((enum rbac_role)r, list);
			for (i = 0; i < n; i++)
				agree &= list[i] != PERM_NONE && rbac_allows((enum rbac_role)r, list[i]);
			ok(agree, "%s: the list agrees with rbac_allows",
			   rbac_role_name((enum rbac_role)r));
		}
	}
	return done_testing();
}
