#!/usr/bin/perl
# The authorization matrix (issue 3, item 6), generated from the route table:
# every route of `shushd routes` × every actor gets exactly the expected class
# of answer.
#
# Actors: owner, admin, engineer and viewer of org A; a signed-in person who
# belongs to no org (no active org); the owner of another org B, acting on org
# A's ids; no credential; and the owner again through a personal token
# (Authorization: Bearer shush_…, kind user), which must get exactly the
# owner's answers. Then every route with environment keys (of the right
# environment, of another, revoked, expired): every /v1 route 401
# INVALID_API_KEY (API.md §6).
#
# Expected (API.md §1-§3, DESIGN.md §3, app/pipeline.c):
#   unbuilt row (501)        every actor: 501 NOT_IMPLEMENTED (routing first)
#   auth none                public: the fixture's status (never 401/403/5xx)
#   auth apikey/scim/stripe  none of these actors holds such a credential: 401
#   auth session             no credential: 401
#     scope org              no active org: 403 NO_ACTIVE_ORGANIZATION;
#                            role without the row's permission: 403 FORBIDDEN;
#                            role with it: the fixture's success status;
#                            other org's owner with an id of org A in the
#                            path: 404, answered exactly like a missing id
#     scope user             every signed-in actor: the success status (the
#                            other org's owner with org A ids in the path: 404)
#
# %FIX below has one row per BUILT route, keyed "METHOD PATH" as the route
# table prints it. A built route without a row fails the test, and so does a
# row naming no route. A row:
#   ok          the success status for an actor allowed to act
#   body        a JSON body (hash) or sub($actor) returning one; must succeed
#   query       a query string appended to the path
#   destructive 1: run after the others; its prep must make fresh objects
#   prep        sub($actor) run before that actor's request, returning
#               { params => {name => id}, body => …, cookie => … (undef: none),
#                 expect => status (override), missing_body => … (what a
#                 missing id looks like in the body, for the 404 comparison) }
#               Path params default to a random (missing) id.
# Core Perl modules only.
use strict;
use warnings;
BEGIN { unless ($ENV{SHUSH_URL}) { print "1..0 # SKIP no stack\n"; exit 0 } }
use FindBin qw($Bin);
use lib $Bin;
use ApiTest;
use Test::More;
use Time::HiRes ();
use Digest::SHA qw(hmac_sha256_base64);
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use HTTP::Tiny ();

# HTTP::Tiny writes a request's head and body separately: with Nagle and
# delayed ACKs every request with a body then costs 40 ms. This test sends
# hundreds of them, so its connections set TCP_NODELAY.
{
	no warnings 'redefine';
	my $connect = \&HTTP::Tiny::Handle::connect;
	*HTTP::Tiny::Handle::connect = sub {
		my $h = $connect->(@_);
		setsockopt($h->{fh}, IPPROTO_TCP, TCP_NODELAY, 1) if $h && $h->{fh};
		return $h;
	};
}

my $T0 = Time::HiRes::time();
my $BIN = $ENV{SHUSH_BIN_DIR} || "$Bin/../../build";

# ------------------------------------------------------------ the route table

my (@ROUTES, %ROUTE);
{
	open(my $fh, '-|', "$BIN/shushd", 'routes') or BAIL_OUT("$BIN/shushd routes: $!");
	while (my $l = <$fh>) {
		chomp $l;
		next unless length $l;
		my @f = split /\t/, $l, -1;
		BAIL_OUT("shushd routes: unexpected line '$l'")
			unless @f == 6 && $f[0] =~ /^[A-Z]+$/ && $f[1] =~ m{^/}
			&& $f[2] =~ /^(?:none|session|apikey|scim|stripe)$/ && length $f[3]
			&& $f[4] =~ /^(?:built|501)$/ && $f[5] =~ /^(?:org|user)$/;
		my $rt = { method => $f[0], path => $f[1], auth => $f[2], perm => $f[3],
			   built => $f[4] eq 'built', scope => $f[5], key => "$f[0] $f[1]" };
		BAIL_OUT("shushd routes: $rt->{key} twice") if $ROUTE{ $rt->{key} };
		push @ROUTES, $rt;
		$ROUTE{ $rt->{key} } = $rt;
	}
	close $fh or BAIL_OUT("shushd routes exited with $?");
	BAIL_OUT('shushd routes printed no routes') unless @ROUTES;
}
sub built { my $r = $ROUTE{ $_[0] }; return $r && $r->{built} }

# ------------------------------------------------------------ roles

# A copy of lib/rbac.c's table (API.md §3): the lowest role holding each
# permission. Checked against GET /v1/access/permissions once that answers.
my @ROLES = qw(owner admin engineer viewer);
my %RANK = (owner => 0, admin => 1, engineer => 2, viewer => 3);
my %MIN_ROLE = (
	'org:read' => 'viewer', 'project:read' => 'viewer', 'member:read' => 'viewer',
	'secret:list' => 'viewer',
	'secret:read' => 'engineer', 'secret:write' => 'engineer', 'secret:delete' => 'engineer',
	'secret:rotate' => 'engineer', 'secret:export' => 'engineer',
	'secret:import' => 'engineer', 'folder:write' => 'engineer',
	'project:write' => 'admin', 'environment:write' => 'admin',
	'rotation_policy:write' => 'admin', 'apikey:manage' => 'admin',
	'webhook:manage' => 'admin', 'integration:manage' => 'admin',
	'shared_secret:write' => 'admin', 'audit:read' => 'admin', 'member:manage' => 'admin',
	'invitation:manage' => 'admin', 'scim:manage' => 'admin', 'org:update' => 'admin',
	'org:delete' => 'owner', 'org:security' => 'owner', 'kms:manage' => 'owner',
	'sso:manage' => 'owner', 'billing:manage' => 'owner',
);
my %COPY;
for my $r (@ROLES) {
	$COPY{$r} = [ sort grep { $RANK{$r} <= $RANK{ $MIN_ROLE{$_} } } keys %MIN_ROLE ];
}
my %HOLDS;    # role => {perm => 1}, from the catalog when it answers, else the copy
sub use_roles { my ($t) = @_; %HOLDS = map { $_ => { map { $_ => 1 } @{ $t->{$_} } } } @ROLES }
use_roles(\%COPY);
sub allows { my ($role, $perm) = @_; return $perm eq 'none' || $HOLDS{$role}{$perm} }

# ------------------------------------------------------------ helpers

sub rid { return join '', map { ('A' .. 'Z', 'a' .. 'z', 0 .. 9)[int rand 62] } 1 .. 32 }
sub q_ { return sql_quote($_[0]) }

sub new_actor {
	my ($name, %a) = @_;
	my $u = signup(tag => "mx-$name", name => "Matrix $name");
	return { name => $name, user_id => $u->{user}{id}, email => $u->{email},
		 password => $u->{password}, cookie => $u->{cookie}, token => $u->{token}, %a };
}

# A second session of the actor (its own activeOrganizationId), in $org or
# in none; undef for the actor without credentials. Minted in the database
# with the cookie signed as API.md §2 says (sign-in's scrypt would cost
# ~150 ms each); through sign-in when that cannot be done.
my $MINT = 1;
sub fresh_session {
	my ($a, $org) = @_;
	return undef unless $a->{user_id};
	return 'BEARER:' . personal_token($a->{user_id}, $org) if $a->{bearer};
	my $secret = conf('BETTER_AUTH_SECRET');
	if ($MINT && defined $secret && length $secret) {
		my $token = rid();
		psql(qq{INSERT INTO session (id, "expiresAt", token, "createdAt", "updatedAt", "userId", }
			. qq{"activeOrganizationId") VALUES (} . q_(rid())
			. q{, date_trunc('milliseconds', now()) + interval '1 day', } . q_($token)
			. q{, date_trunc('milliseconds', now()), date_trunc('milliseconds', now()), }
			. q_($a->{user_id}) . ', ' . (defined $org ? q_($org) : 'NULL') . ')');
		my $sig = hmac_sha256_base64($token, $secret);
		$sig .= '=' while length($sig) % 4;
		(my $v = "$token.$sig") =~ s{([+/=])}{sprintf '%%%02X', ord $1}ge;
		return session_cookie_name() . "=$v";
	}
	my $r = req('POST', '/api/auth/sign-in/email', { origin => 1,
		json => { email => $a->{email}, password => $a->{password} } });
	die "sign-in of $a->{name} failed: $r->{status} $r->{body}\n" unless $r->{status} == 200;
	set_active($r->{json}{token}, $org);
	return session_cookie($r);
}

# API keys minted in the database ("shush_" + 43 base62; only the SHA-256
# is stored): a personal token of a user acting in $org (undef: none), and
# an environment key of project $p's environment $env.
sub new_key_text { return 'shush_' . join '', map { ('A' .. 'Z', 'a' .. 'z', 0 .. 9)[int rand 62] } 1 .. 43 }
sub personal_token {
	my ($uid, $org) = @_;
	my $key = new_key_text();
	psql('INSERT INTO api_key (id, kind, user_id, name, prefix, hash, active_org_id) VALUES ('
		. join(', ', q_(rid()), q_('user'), q_($uid), q_('matrix'), q_(substr($key, 0, 12)),
		q_(Digest::SHA::sha256_hex($key)), defined $org ? q_($org) : 'NULL') . ')');
	return $key;
}
sub env_key {
	my ($org, $p, $env, $uid, %o) = @_;
	my $key = new_key_text();
	my $id = rid();
	psql('INSERT INTO api_key (id, org_id, kind, project_id, environment_id, user_id, name, '
		. 'prefix, hash, expires_at, revoked_at) SELECT ' . join(', ', q_($id), q_($org),
		q_('environment'), q_($p)) . ', e.id, ' . join(', ', q_($uid), q_('matrix'),
		q_(substr($key, 0, 12)), q_(Digest::SHA::sha256_hex($key))) . ', '
		. ($o{expired} ? "now() - interval '1 minute'" : 'NULL') . ', '
		. ($o{revoked} ? "now() - interval '1 minute'" : 'NULL')
		. ' FROM environment e WHERE e.project_id = ' . q_($p) . ' AND e.slug = ' . q_($env));
	return wantarray ? ($key, $id) : $key;
}

sub set_active {
	my ($token, $org) = @_;
	psql(qq{UPDATE session SET "activeOrganizationId" = } . (defined $org ? q_($org) : 'NULL')
		. ' WHERE token = ' . q_($token));
}

sub seat_sql {
	my ($org, $uid, $role) = @_;
	my $mid = rid();
	return ($mid, qq{INSERT INTO member (id, "organizationId", "userId", role, "createdAt") }
		. 'VALUES (' . join(', ', map { q_($_) } $mid, $org, $uid, $role) . ', now());');
}

# An org made in the database: %seats is user id => role.
sub psql_org {
	my ($name, %seats) = @_;
	my $id = rid();
	my $sql = qq{INSERT INTO organization (id, name, slug, "createdAt") VALUES (}
		. join(', ', q_($id), q_($name), q_('mx-' . lc $id)) . ', now());';
	$sql .= (seat_sql($id, $_, $seats{$_}))[1] for sort keys %seats;
	psql($sql);
	return $id;
}

# A new org owned by $owner: through POST /v1/orgs when built, else psql.
sub new_org {
	my ($owner, $name) = @_;
	return psql_org($name, $owner->{user_id} => 'owner') unless built('POST /v1/orgs');
	my $r = send_req('POST', '/v1/orgs', fresh_session($owner), { name => "$name " . rid() });
	die "POST /v1/orgs as $owner->{name}: $r->{status} $r->{body}\n"
		unless $r->{status} == 201 && $r->{json} && $r->{json}{id};
	return $r->{json}{id};
}

sub seat {
	my ($org, $a, $role) = @_;
	my ($mid, $sql) = seat_sql($org, $a->{user_id}, $role);
	psql($sql);
	return $mid;
}

# A person who exists only to be changed or removed: a member of $org.
sub victim {
	my ($org, $role) = @_;
	my $uid = rid();
	my ($mid, $sql) = seat_sql($org, $uid, $role // 'viewer');
	psql(qq{INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt") }
		. 'VALUES (' . join(', ', q_($uid), q_('Matrix Victim'), q_(rand_email('mx-victim')))
		. ', false, now(), now());' . $sql);
	return $mid;
}

my $OWNER;    # set below
sub invitation {
	my ($org, $email, $inviter) = @_;
	my $id = rid();
	psql(qq{INSERT INTO invitation (id, "organizationId", email, role, status, "expiresAt", }
		. qq{"createdAt", "inviterId") VALUES (}
		. join(', ', map { q_($_) } $id, $org, lc $email, 'viewer', 'pending')
		. q{, now() + interval '7 days', now(), } . q_(($inviter // $OWNER)->{user_id}) . ')');
	return $id;
}

# ------------------------------------------------------------ actors and orgs

my ($ORG_A, $ORG_B, @ACTORS, $ADMIN, $ENGINEER, $VIEWER, $NONMEMBER, $FOREIGN, $ANON, $SIGNIN,
    $OWNER_TOKEN);

subtest 'setup: actors, org A, org B' => sub {
	$OWNER = new_actor('owner', role => 'owner');
	$ADMIN = new_actor('admin', role => 'admin');
	$ENGINEER = new_actor('engineer', role => 'engineer');
	$VIEWER = new_actor('viewer', role => 'viewer');
	$NONMEMBER = new_actor('non-member');
	$FOREIGN = new_actor('other-org-owner', role => 'owner', foreign => 1);
	$ANON = { name => 'no-credential' };
	$SIGNIN = new_actor('sign-in-target');
	@ACTORS = ($OWNER, $ADMIN, $ENGINEER, $VIEWER, $NONMEMBER, $FOREIGN, $ANON);

	for my $pair ([ $OWNER, \$ORG_A, 'Matrix A' ], [ $FOREIGN, \$ORG_B, 'Matrix B' ]) {
		my ($a, $ref, $name) = @$pair;
		if (built('POST /v1/orgs')) {
			my $r = req('POST', '/v1/orgs', { cookie => $a->{cookie}, origin => 1,
				json => { name => "$name $$" } });
			is($r->{status}, 201, "POST /v1/orgs as $a->{name}: 201") or diag $r->{body};
			$$ref = $r->{json}{id} if $r->{json};
			my $s = req('GET', '/api/auth/get-session', { cookie => $a->{cookie} });
			is($s->{json} && $s->{json}{session}{activeOrganizationId}, $$ref,
				"the new org is $a->{name}'s active org");
		} else {
			$$ref = psql_org("$name $$", $a->{user_id} => 'owner');
			set_active($a->{token}, $$ref);
		}
		BAIL_OUT("no org for $a->{name}") unless $$ref;
		$a->{org} = $$ref;
	}

	if (built('POST /v1/access/invitations') && built('POST /v1/access/invitations/:id/accept')) {
		for my $a ($ADMIN, $ENGINEER, $VIEWER) {
			my $r = req('POST', '/v1/access/invitations', { cookie => $OWNER->{cookie},
				origin => 1, json => { email => $a->{email}, role => $a->{role} } });
			is($r->{status}, 201, "owner invites $a->{name}: 201") or diag $r->{body};
			my $id = $r->{json} && $r->{json}{id} // '';
			$r = req('POST', "/v1/access/invitations/$id/accept",
				{ cookie => $a->{cookie}, origin => 1 });
			is($r->{status}, 200, "$a->{name} accepts: 200") or diag $r->{body};
			is_deeply($r->{json}, { orgId => $ORG_A, role => $a->{role} },
				"accept answers {orgId, role}") or diag $r->{body};
		}
	} else {
		psql(join '', map { (seat_sql($ORG_A, $_->{user_id}, $_->{role}))[1] }
			$ADMIN, $ENGINEER, $VIEWER);
		set_active($_->{token}, $ORG_A) for $ADMIN, $ENGINEER, $VIEWER;
	}
	$_->{org} = $ORG_A for $ADMIN, $ENGINEER, $VIEWER;

	# A minted session is a real one; else sign-in makes them.
	my $s = req('GET', '/api/auth/get-session', { cookie => fresh_session($VIEWER, $ORG_A) });
	my $ok = $s->{status} == 200 && ref $s->{json} eq 'HASH'
		&& ($s->{json}{user}{id} // '') eq $VIEWER->{user_id}
		&& ($s->{json}{session}{activeOrganizationId} // '') eq $ORG_A;
	if (!$ok) {
		diag "a session minted in the database is not accepted ($s->{status} $s->{body}): "
			. 'fresh sessions come from sign-in';
		$MINT = 0;
	}
	my %roles = map { @$_ } psql_rows(qq{SELECT "userId", role FROM member WHERE "organizationId" = }
		. q_($ORG_A) . ' AND "removedAt" IS NULL');
	is_deeply(\%roles, { map { $_->{user_id} => $_->{role} } $OWNER, $ADMIN, $ENGINEER, $VIEWER },
		'org A has exactly owner, admin, engineer and viewer');
	# The owner once more, through a personal token acting in org A.
	$OWNER_TOKEN = { %$OWNER, name => 'owner-token', bearer => 1,
		cookie => 'BEARER:' . personal_token($OWNER->{user_id}, $ORG_A) };
	push @ACTORS, $OWNER_TOKEN;
	BAIL_OUT('setup failed') unless Test::More->builder->is_passing;
};

sub psql_rows { return map { [ split /\|/, $_, -1 ] } grep { length } split /\n/, psql($_[0]) }

# ------------------------------------------------------------ permissions

subtest 'permissions: the catalog and the copy of the table agree' => sub {
	my @unknown = map { "$_->{key}: $_->{perm}" }
		grep { $_->{perm} ne 'none' && !$MIN_ROLE{ $_->{perm} } } @ROUTES;
	is_deeply(\@unknown, [], "every route's permission is in the table")
		or diag 'add them to %MIN_ROLE in t/api/matrix.t (API.md §3)';
	if (!built('GET /v1/access/permissions')) {
		pass('GET /v1/access/permissions is not built: the copy of lib/rbac.c decides');
		return;
	}
	my $r = req('GET', '/v1/access/permissions', { cookie => $OWNER->{cookie} });
	is($r->{status}, 200, 'GET /v1/access/permissions: 200') or diag $r->{body};
	my $roles = $r->{json} && ref $r->{json} eq 'HASH' && $r->{json}{roles};
	if (ref $roles ne 'HASH') {
		fail('the catalog has roles') or diag $r->{body};
		return;
	}
	my %server = map { $_ => [ sort @{ $roles->{$_} || [] } ] } keys %$roles;
	is_deeply(\%server, \%COPY, 'roles of the catalog = the table of API.md §3')
		or diag explain { catalog => \%server, copy => \%COPY };
	my %named = map { $_->{name} => 1 } @{ $r->{json}{permissions} || [] };
	is_deeply([ sort keys %named ], [ sort keys %MIN_ROLE ], 'the catalog names every permission');
	use_roles(\%server) if keys %server;
};

# ------------------------------------------------------------ fixtures

# The org that invitations to be accepted come from: owned by someone who is
# none of the actors, so that every actor can join it.
my ($ORG_E);
sub accept_org { return $ORG_E //= psql_org("Matrix E $$", $SIGNIN->{user_id} => 'owner') }

# A project of org A with the default environments, made in the database:
# one shared (project_a()), or a fresh one (project_a(1)) for destructive rows.
my $PROJECT_A;
sub project_a {
	my ($fresh) = @_;
	return $PROJECT_A if $PROJECT_A && !$fresh;
	my $id = rid();
	my $sql = 'INSERT INTO project (id, org_id, name, slug) VALUES ('
		. join(', ', map { q_($_) } $id, $ORG_A, "Matrix project $id", 'mx-' . lc $id) . ');';
	my $pos = 0;
	$sql .= 'INSERT INTO environment (id, org_id, project_id, slug, name, position) VALUES ('
		. join(', ', map { q_($_) } rid(), $ORG_A, $id, $_, ucfirst $_) . ', ' . $pos++ . ');'
		for qw(development staging production);
	psql($sql);
	$PROJECT_A = $id unless $fresh;
	return $id;
}
# A fresh, empty top-level folder in the shared project of org A.
sub folder_a {
	my $id = rid();
	psql('INSERT INTO folder (id, org_id, project_id, name) VALUES ('
		. join(', ', map { q_($_) } $id, $ORG_A, project_a(), "mx-$id") . ')');
	return $id;
}
sub in_project_a { return { params => { projectId => project_a() } } }
# A fresh environment key of the shared project of org A.
sub mx_apikey {
	my (undef, $id) = env_key($ORG_A, project_a(), 'production', $OWNER->{user_id});
	return { params => { projectId => project_a(), id => $id } };
}

# Someone with an org of their own, outside org A, who approves device codes.
my $MX_APPROVER;
sub mx_device_approver {
	return $MX_APPROVER if $MX_APPROVER;
	$MX_APPROVER = new_actor('device-approver');
	$MX_APPROVER->{cookie} = fresh_session($MX_APPROVER, new_org($MX_APPROVER, 'Matrix devices'));
	return $MX_APPROVER;
}

# A fresh device flow: {deviceCode, userCode}.
sub mx_device_flow {
	my $r = req('POST', '/v1/auth/cli/start', { json => { clientName => 'matrix' } });
	die "cli/start: $r->{status} $r->{body}\n" unless $r->{status} == 200;
	return $r->{json};
}

# Secrets: a project of org A made by its owner, and fresh secrets in it
# (through the API: values are sealed by the server).
my $MX_SECRET_PROJECT;
sub mx_secret_project {
	return $MX_SECRET_PROJECT if $MX_SECRET_PROJECT;
	my $r = req('POST', '/v1/projects', { cookie => $OWNER->{cookie}, origin => 1,
		json => { name => 'Matrix secrets ' . rid() } });
	die "POST /v1/projects: $r->{status} $r->{body}\n" unless $r->{status} == 201;
	return $MX_SECRET_PROJECT = $r->{json}{id};
}
sub mx_secret {
	my ($policy) = @_;
	my $p = mx_secret_project();
	my $r = req('POST', "/v1/projects/$p/secrets", { cookie => $OWNER->{cookie}, origin => 1,
		json => { key => 'MX_' . rid(), values => { development => 'matrix value' } } });
	die "POST secrets: $r->{status} $r->{body}\n" unless $r->{status} == 201;
	my $id = $r->{json}{id};
	if ($policy) {
		$r = req('POST', "/v1/projects/$p/secrets/$id/rotation-policy", { cookie => $OWNER->{cookie},
			origin => 1, json => { intervalDays => 30 } });
		die "POST rotation-policy: $r->{status} $r->{body}\n" unless $r->{status} == 201;
	}
	return { params => { projectId => $p, id => $id } };
}
my $MX_POLICY_SECRET;
sub mx_policy_secret { return $MX_POLICY_SECRET //= mx_secret(1) }

# Shared secrets: a fresh one of org A, made by its owner through the API.
sub mx_shared {
	my $r = req('POST', '/v1/orgs/current/shared-secrets', { cookie => $OWNER->{cookie},
		origin => 1, json => { key => 'MX_SHARED_' . rid(), value => 'matrix shared' } });
	die "POST shared-secrets: $r->{status} $r->{body}\n" unless $r->{status} == 201;
	return { params => { id => $r->{json}{id} } };
}

my %FIX = (
	# Health and better-auth's routes (public)
	'GET /health' => { ok => 200 },
	'POST /api/auth/sign-up/email' => { ok => 200, body => sub {
		{ name => 'Matrix Sign-up', email => rand_email('mx-su'), password => 'matrix-pass-' . rid() } } },
	'POST /api/auth/sign-in/email' => { ok => 200,
		body => sub { { email => $SIGNIN->{email}, password => $SIGNIN->{password} } } },
	'POST /api/auth/sign-out' => { ok => 200, destructive => 1,
		prep => sub { { cookie => fresh_session($_[0]) } } },
	'GET /api/auth/get-session' => { ok => 200 },

	# Me
	'GET /v1/me' => { ok => 200 },
	'PATCH /v1/me' => { ok => 200, body => sub { { name => "Matrix $_[0]{name}" } } },

	# Organizations
	'GET /v1/orgs/me' => { ok => 200 },

	# CLI device flow: each actor gets a flow of its own.
	'POST /v1/auth/cli/start' => { ok => 200, body => { clientName => 'matrix' } },
	# Approving needs an active org (the minted token starts in it).
	'POST /v1/auth/cli/approve' => { ok => 200, prep => sub {
		my ($a) = @_;
		my $p = { body => { userCode => mx_device_flow()->{userCode} } };
		$p->{expect} = 403 if $a->{cookie} && !$a->{org};
		return $p;
	} },
	# Approved by a person outside org A (the answer names the approver);
	# the poll is public and mints once.
	'POST /v1/auth/cli/enable' => { ok => 200, prep => sub {
		my $f = mx_device_flow();
		my $r = req('POST', '/v1/auth/cli/approve', { cookie => mx_device_approver()->{cookie},
			origin => 1, json => { userCode => $f->{userCode} } });
		die "approve: $r->{status} $r->{body}\n" unless $r->{status} == 200;
		return { body => { deviceCode => $f->{deviceCode} } };
	} },
	# Creating one makes it the session's active org: a fresh session each.
	'POST /v1/orgs' => { ok => 201, destructive => 1,
		body => sub { { name => 'Matrix New ' . rid() } },
		prep => sub { { cookie => fresh_session($_[0]) } } },
	'GET /v1/orgs/current' => { ok => 200 },
	# Switch, in a fresh session: members of A into A; the others try A,
	# which must answer like an org that does not exist.
	'POST /v1/orgs/current' => { ok => 200, prep => sub {
		my ($a) = @_;
		my $p = { cookie => fresh_session($a), body => { orgId => $ORG_A } };
		if (!$a->{org} || $a->{org} ne $ORG_A) {
			$p->{expect} = 404;
			$p->{missing_body} = { orgId => rid() };
		}
		return $p;
	} },
	'PATCH /v1/orgs/current' => { ok => 200, body => sub { { name => "Matrix $_[0]{name}'s org" } } },
	'GET /v1/orgs/current/encryption' => { ok => 200 },
	'POST /v1/orgs/current/rotate-kek' => { ok => 200, body => {} },
	# Each actor in a fresh org of its own, holding its role there.
	'DELETE /v1/orgs/current' => { ok => 204, destructive => 1, prep => sub {
		my ($a) = @_;
		return {} unless $a->{role};
		my $d;
		if ($a->{role} eq 'owner') {
			$d = new_org($a, 'Matrix doomed');
		} else {
			$d = new_org($OWNER, 'Matrix doomed');
			seat($d, $a, $a->{role});
		}
		return { cookie => fresh_session($a, $d) };
	} },

	# Access
	'GET /v1/access/members' => { ok => 200 },
	'PATCH /v1/access/members/:memberId' => { ok => 200, body => { role => 'engineer' },
		prep => sub { { params => { memberId => victim($ORG_A) } } } },
	'DELETE /v1/access/members/:memberId' => { ok => 204, destructive => 1,
		prep => sub { { params => { memberId => victim($ORG_A) } } } },
	'GET /v1/access/invitations' => { ok => 200 },
	'POST /v1/access/invitations' => { ok => 201,
		body => sub { { email => rand_email('mx-inv'), role => 'engineer' } } },
	'POST /v1/access/invitations/:id/cancel' => { ok => 200, destructive => 1,
		prep => sub { { params => { id => invitation($ORG_A, rand_email('mx-cancel')) } } } },
	# Accepting makes the org active: a fresh session. Each signed-in actor
	# accepts an invitation addressed to them; the other org's owner tries
	# one of org A addressed to someone else (404, like a missing one).
	'POST /v1/access/invitations/:id/accept' => { ok => 200, destructive => 1, prep => sub {
		my ($a) = @_;
		my $to_me = $a->{user_id} && !$a->{foreign};
		my $id = $to_me ? invitation($a->{bearer} ? psql_org("Matrix E2 $$",
					$SIGNIN->{user_id} => 'owner') : accept_org(), $a->{email}, $SIGNIN)
				: invitation($ORG_A, rand_email('mx-someone'));
		return { params => { id => $id }, cookie => fresh_session($a) };
	} },
	'GET /v1/access/permissions' => { ok => 200 },
	'GET /v1/access/members/me/permissions' => { ok => 200 },

	# Projects, environments, folders, counts (issue 4): ids of org A
	'GET /v1/projects' => { ok => 200 },
	'GET /v1/projects/:projectId' => { ok => 200, prep => \&in_project_a },
	'POST /v1/projects' => { ok => 201, body => sub { { name => 'Matrix project ' . rid() } } },
	'DELETE /v1/projects/:projectId' => { ok => 204, destructive => 1,
		prep => sub { { params => { projectId => project_a(1) } } } },
	'GET /v1/projects/:projectId/environments' => { ok => 200, prep => \&in_project_a },
	'PATCH /v1/projects/:projectId/environments' => { ok => 200, prep => \&in_project_a,
		body => sub { { environments => [ { slug => 'staging', name => "Staging $_[0]{name}" } ] } } },
	'GET /v1/projects/:projectId/folders' => { ok => 200, prep => \&in_project_a },
	'POST /v1/projects/:projectId/folders' => { ok => 201, prep => \&in_project_a,
		body => sub { { name => 'mx-' . rid() } } },
	'PATCH /v1/projects/:projectId/folders/:id' => { ok => 200,
		body => sub { { name => 'mx-' . rid() } },
		prep => sub { { params => { projectId => project_a(), id => folder_a() } } } },
	'DELETE /v1/projects/:projectId/folders/:id' => { ok => 204, destructive => 1,
		prep => sub { { params => { projectId => project_a(), id => folder_a() } } } },
	'GET /v1/projects/:projectId/counts' => { ok => 200, prep => \&in_project_a },
	'GET /v1/projects/:projectId/env-counts' => { ok => 200, prep => \&in_project_a },

	# Audit
	'GET /v1/audit' => { ok => 200 },
	'GET /v1/audit/export' => { ok => 200, query => 'format=json' },

	# Secrets
	'GET /v1/projects/:projectId/secrets' => { ok => 200,
		prep => sub { { params => { projectId => mx_secret_project() } } } },
	'GET /v1/projects/:projectId/secrets/:id' => { ok => 200, prep => sub { mx_secret() } },
	'POST /v1/projects/:projectId/secrets' => { ok => 201,
		body => sub { { key => 'MX_' . rid(), values => { development => 'matrix' } } },
		prep => sub { { params => { projectId => mx_secret_project() } } } },
	'PATCH /v1/projects/:projectId/secrets/:id' => { ok => 200,
		body => { values => { development => 'matrix 2' } }, prep => sub { mx_secret() } },
	'DELETE /v1/projects/:projectId/secrets/:id' => { ok => 204, destructive => 1,
		prep => sub { mx_secret() } },
	'POST /v1/projects/:projectId/secrets/:id/rotate' => { ok => 200,
		prep => sub { mx_secret() } },
	'GET /v1/projects/:projectId/secrets/:id/versions' => { ok => 200,
		prep => sub { mx_secret() } },
	'GET /v1/projects/:projectId/secrets/:id/rotation-policy' => { ok => 200,
		prep => sub { mx_policy_secret() } },
	'POST /v1/projects/:projectId/secrets/:id/rotation-policy' => { ok => 201,
		body => { intervalDays => 30 }, prep => sub { mx_secret() } },
	'DELETE /v1/projects/:projectId/secrets/:id/rotation-policy' => { ok => 204,
		destructive => 1, prep => sub { mx_secret(1) } },
	'GET /v1/projects/:projectId/secrets/export' => { ok => 200,
		query => 'environment=development&format=json',
		prep => sub { mx_secret(); { params => { projectId => mx_secret_project() } } } },
	'POST /v1/projects/:projectId/secrets/import' => { ok => 200,
		query => 'environment=development',
		body => sub { { content => 'MX_IMPORTED_' . rid() . "=from matrix\n" } },
		prep => sub { { params => { projectId => mx_secret_project() } } } },

	# Shared secrets (org-wide; folder create, secret write routes are ours)
	'GET /v1/orgs/current/shared-folders' => { ok => 200 },
	'POST /v1/orgs/current/shared-folders' => { ok => 201,
		body => sub { { name => 'mx-' . rid() } } },
	'GET /v1/orgs/current/shared-secrets' => { ok => 200 },
	'GET /v1/orgs/current/shared-secrets/:id' => { ok => 200, prep => sub { mx_shared() } },
	'POST /v1/orgs/current/shared-secrets' => { ok => 201,
		body => sub { { key => 'MX_SHARED_' . rid(), value => 'matrix' } } },
	'PATCH /v1/orgs/current/shared-secrets/:id' => { ok => 200,
		body => { value => 'matrix 2' }, prep => sub { mx_shared() } },
	'DELETE /v1/orgs/current/shared-secrets/:id' => { ok => 204, destructive => 1,
		prep => sub { mx_shared() } },
	'GET /v1/orgs/current/shared-secrets/:id/versions' => { ok => 200,
		prep => sub { mx_shared() } },
	# Runtime (environment keys; no actor here holds one: 401 for all,
	# t/api/runtime.t covers keys)
	'GET /runtime/v1/' => { ok => 200 },
	'GET /runtime/v1/secrets' => { ok => 200 },
	'GET /runtime/v1/secrets/:key' => { ok => 200 },

	# API keys (issue 5): a fresh environment key of org A's project each
	'GET /v1/projects/:projectId/api-keys' => { ok => 200, prep => sub { in_project_a() } },
	'POST /v1/projects/:projectId/api-keys' => { ok => 201,
		body => { name => 'matrix key', environment => 'production' },
		prep => sub { in_project_a() } },
	'POST /v1/projects/:projectId/api-keys/:id/rotate' => { ok => 200, body => {},
		prep => sub { mx_apikey() } },
	'POST /v1/projects/:projectId/api-keys/:id/revoke' => { ok => 200,
		prep => sub { mx_apikey() } },
	'DELETE /v1/projects/:projectId/api-keys/:id' => { ok => 204, prep => sub { mx_apikey() } },
	# Personal tokens (ours): one's own; the other org's owner tries the
	# owner's (404, like a missing one)
	'GET /v1/me/tokens' => { ok => 200 },
	'DELETE /v1/me/tokens/:id' => { ok => 204, prep => sub {
		my ($a) = @_;
		return {} unless $a->{user_id};
		my $uid = $a->{foreign} ? $OWNER->{user_id} : $a->{user_id};
		my $key = personal_token($uid, $ORG_A);
		my ($id) = map { $_->[0] } psql_rows('SELECT id FROM api_key WHERE hash = '
			. q_(Digest::SHA::sha256_hex($key)));
		return { params => { id => $id } };
	} },
);

# ------------------------------------------------------------ the matrix

sub expected {
	my ($rt, $fx, $a, $p) = @_;
	return { status => 501, code => 'NOT_IMPLEMENTED', class => '501 NOT_IMPLEMENTED' }
		unless $rt->{built};
	if ($rt->{auth} eq 'none') {
		my $s = $p->{expect} // $fx->{ok};
		return { status => $s, class => "public, $s" };
	}
	return { status => 401, class => "401 (no $rt->{auth} credential)" }
		if $rt->{auth} ne 'session';
	return { status => 401, class => '401 (no credential)' } unless $a->{cookie};
	if ($rt->{scope} eq 'org') {
		return { status => 403, code => 'NO_ACTIVE_ORGANIZATION',
			 class => '403 NO_ACTIVE_ORGANIZATION' } unless $a->{role};
		return { status => 403, code => 'FORBIDDEN',
			 class => "403 FORBIDDEN ($a->{role} lacks $rt->{perm})" }
			unless allows($a->{role}, $rt->{perm});
	}
	if ($a->{foreign} && $rt->{path} =~ /:/) {
		return { status => 404, like_missing => 1, class => "404 (org A's id, from org B)" };
	}
	my $s = $p->{expect} // $fx->{ok};
	return { status => $s, like_missing => $s == 404 && defined $p->{missing_body},
		 class => $s == $fx->{ok} ? "success $s" : "$s" };
}

sub fill {
	my ($path, $params) = @_;
	$path =~ s{:(\w+)}{ $params->{$1} // rid() }ge;
	return $path;
}

sub show {
	my ($r) = @_;
	my $b = $r->{body} // '';
	$b = substr($b, 0, 400) . '…' if length $b > 400;
	return "$r->{status} $b";
}

my $REQUESTS = 0;
sub send_req {
	my ($method, $path, $cookie, $body) = @_;
	$REQUESTS++;
	if (defined $cookie && $cookie =~ /^BEARER:(.*)$/) {
		return req($method, $path, { headers => { Authorization => "Bearer $1" },
			(defined $body ? (json => $body) : ()) });
	}
	return req($method, $path, { (defined $cookie ? (cookie => $cookie) : ()),
		($method ne 'GET' && $method ne 'HEAD' ? (origin => 1) : ()),
		(defined $body ? (json => $body) : ()) });
}

sub run_cell {
	my ($rt, $fx, $a) = @_;
	my $p = {};
	my $body;
	if ($rt->{built} && $fx) {
		$p = $fx->{prep} ? eval { $fx->{prep}->($a) } : {};
		if (!$p) {
			fail("$rt->{key} as $a->{name}: the fixture's prep died: $@");
			return;
		}
		$body = exists $p->{body} ? $p->{body}
			: ref $fx->{body} eq 'CODE' ? $fx->{body}->($a) : $fx->{body};
	}
	my $cookie = exists $p->{cookie} ? $p->{cookie} : $a->{cookie};
	$cookie = undef unless $a->{cookie};    # the actor without credentials stays so
	my $want = expected($rt, $fx, $a, $p);
	my $q = $rt->{built} && $fx && $fx->{query} ? "?$fx->{query}" : '';
	my $path = fill($rt->{path}, $p->{params} || {}) . $q;
	my $r = send_req($rt->{method}, $path, $cookie, $body);
	my $code = $r->{json} && ref $r->{json} eq 'HASH' ? $r->{json}{code} // '' : '';
	my $good = $r->{status} == $want->{status} && (!$want->{code} || $code eq $want->{code});
	if ($rt->{auth} eq 'none' && $rt->{built}) {    # public, whatever the fixture says
		$good &&= $r->{status} != 401 && $r->{status} != 403 && $r->{status} < 500;
	}
	# Nothing of one org reaches the other: no answer to an outsider names
	# a member of A, none to a member of A names B's owner.
	my @secret = !$a->{user_id} || !$a->{org} || $a->{foreign}
		? map { $_->{email} } $OWNER, $ADMIN, $ENGINEER, $VIEWER : ($FOREIGN->{email});
	my @leak = grep { index($r->{body}, $_) >= 0 } @secret;
	ok($good && !@leak, "$a->{name}: $want->{class}")
		or diag "$rt->{method} $path as $a->{name}: expected $want->{class}, got " . show($r)
			. (@leak ? "\n  and the answer names @leak, of the other org" : '');
	return unless $good && $want->{like_missing};
	# The same request with a missing id (path, or body) must answer the same.
	my $mpath = fill($rt->{path}, {}) . $q;
	my $mbody = defined $p->{missing_body} ? $p->{missing_body} : $body;
	my $m = send_req($rt->{method}, $mpath, $cookie, $mbody);
	my $mcode = $m->{json} && ref $m->{json} eq 'HASH' ? $m->{json}{code} // '' : '';
	ok($m->{status} == $r->{status} && $mcode eq $code,
		"$a->{name}: org A's id answers exactly like a missing one")
		or diag "$rt->{method} as $a->{name}: org A's id got " . show($r)
			. "; a missing id ($rt->{method} $mpath) got " . show($m);
}

my @order = ((grep { !($FIX{ $_->{key} } && $FIX{ $_->{key} }{destructive}) } @ROUTES),
	     (grep { $FIX{ $_->{key} } && $FIX{ $_->{key} }{destructive} } @ROUTES));
my $built = grep { $_->{built} } @ROUTES;

for my $rt (@order) {
	my $fx = $FIX{ $rt->{key} };
	if ($rt->{built} && !$fx) {
		fail("$rt->{key} is built but has no fixture row");
		diag "$rt->{key} ($rt->{auth}, $rt->{perm}, scope $rt->{scope}) is built: add a row "
			. "for it to %FIX in t/api/matrix.t (ids, a body that succeeds, the success status)";
		next;
	}
	subtest "$rt->{key} [$rt->{auth} $rt->{perm} $rt->{scope}"
		. ($rt->{built} ? '' : ' 501') . ']' => sub {
		run_cell($rt, $fx, $_) for @ACTORS;
	};
}

subtest 'every fixture row names a route of the table' => sub {
	for my $k (sort keys %FIX) {
		ok($ROUTE{$k}, "fixture '$k' is a route")
			or diag "'$k' is in %FIX of t/api/matrix.t but not in `shushd routes`";
		ok(defined $FIX{$k}{ok} && $FIX{$k}{ok} =~ /^[1-5]\d\d$/, "fixture '$k' has a status");
	}
};

# Environment keys never authenticate /v1 (API.md §6): of the right
# environment, of another, revoked or expired, every /v1 route answers 401
# INVALID_API_KEY; on the runtime, revoked and expired ones are 401 too.
subtest 'environment keys on every route' => sub {
	my $p = project_a();
	my %keys = (
		'environment key' => scalar env_key($ORG_A, $p, 'production', $OWNER->{user_id}),
		'key of another environment' => scalar env_key($ORG_A, $p, 'staging', $OWNER->{user_id}),
		'revoked key' => scalar env_key($ORG_A, $p, 'production', $OWNER->{user_id}, revoked => 1),
		'expired key' => scalar env_key($ORG_A, $p, 'production', $OWNER->{user_id}, expired => 1),
	);
	for my $rt (grep { $_->{built} && $_->{auth} ne 'none' } @ROUTES) {
		my $path = fill($rt->{path}, { projectId => $p });
		for my $k (sort keys %keys) {
			my $r = send_req($rt->{method}, $path, "BEARER:$keys{$k}");
			my $code = $r->{json} && ref $r->{json} eq 'HASH' ? $r->{json}{code} // '' : '';
			if ($rt->{auth} eq 'apikey' && $k !~ /revoked|expired/) {
				ok($r->{status} != 401, "$rt->{key} with the $k: not 401")
					or diag show($r);
				next;
			}
			ok($r->{status} == 401 && ($rt->{auth} ne 'session' && $rt->{auth} ne 'apikey'
				|| $code eq 'INVALID_API_KEY'), "$rt->{key} with the $k: 401 INVALID_API_KEY")
				or diag show($r);
		}
	}
};

# The effective permissions of each actor agree with the catalog.
if (built('GET /v1/access/members/me/permissions')) {
	subtest 'members/me/permissions of each member' => sub {
		for my $a (grep { $_->{role} } @ACTORS) {
			my $r = send_req('GET', '/v1/access/members/me/permissions', $a->{cookie});
			is($r->{status}, 200, "$a->{name}: 200") or next;
			is($r->{json}{role}, $a->{role}, "$a->{name}: role");
			is_deeply([ sort @{ $r->{json}{permissions} || [] } ], [ sort keys %{ $HOLDS{ $a->{role} } } ],
				"$a->{name}: the permissions of $a->{role}");
		}
	};
}

note sprintf('matrix: %d routes (%d built) x %d actors; %d requests in %.1f s',
	scalar @ROUTES, $built, scalar @ACTORS, $REQUESTS, Time::HiRes::time() - $T0);
done_testing;
