#!/usr/bin/perl
# /v1/access: members, invitations, the permission catalog (REFERENCE.md
# "Access", API.md §1, §3, §4) and our accept route. Orgs come from
# POST /v1/orgs when it answers 201, else straight from psql; members of
# other roles are seated with psql so each rule can be tried by each role.
use strict;
use warnings;
BEGIN { unless ($ENV{SHUSH_URL}) { print "1..0 # SKIP no stack\n"; exit 0 } }
use FindBin qw($Bin);
use lib $Bin;
use ApiTest;
use Test::More;
use File::Temp ();
use POSIX ();
binmode(Test::More->builder->$_, ":encoding(UTF-8)") for qw(output failure_output todo_output);

my $ISO = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
my $ID = qr/^[A-Za-z0-9]{32}$/;
my @MEMBER_KEYS = sort qw(id userId email name role createdAt);
my @INV_KEYS = sort qw(id email role status expiresAt createdAt);
my $RUN = join '', map { ('a' .. 'z', 0 .. 9)[int rand 36] } 1 .. 8;

# ------------------------------------------------------------------ helpers

sub rand_id { join '', map { ('A' .. 'Z', 'a' .. 'z', 0 .. 9)[int rand 62] } 1 .. 32 }
sub q_ { sql_quote($_[0]) }

sub get_ {
	my ($u, $p) = @_;
	return req('GET', $p, { (defined $u ? (cookie => $u->{cookie}) : ()) });
}
sub write_ {
	my ($m, $u, $p, $json) = @_;
	return req($m, $p, { (defined $u ? (cookie => $u->{cookie}, origin => 1) : ()),
		(defined $json ? (json => $json) : ()) });
}
sub members   { get_($_[0], '/v1/access/members' . ($_[1] // '')) }
sub set_role  { write_('PATCH', $_[0], "/v1/access/members/$_[1]", { role => $_[2] }) }
sub remove    { write_('DELETE', $_[0], "/v1/access/members/$_[1]") }
sub invites   { get_($_[0], '/v1/access/invitations' . ($_[1] // '')) }
sub invite    { write_('POST', $_[0], '/v1/access/invitations', $_[1]) }
sub cancel    { write_('POST', $_[0], "/v1/access/invitations/$_[1]/cancel") }
sub accept_inv{ write_('POST', $_[0], "/v1/access/invitations/$_[1]/accept") }
sub my_perms  { get_($_[0], '/v1/access/members/me/permissions') }

sub activate {
	my ($u, $org) = @_;
	psql(sprintf(q{UPDATE session SET "activeOrganizationId" = %s WHERE token = %s},
		defined $org ? q_($org) : 'NULL', q_($u->{token})));
}

# A new org owned by $u, active in $u's session; returns its id.
sub make_org {
	my ($u, $name) = @_;
	my $r = write_('POST', $u, '/v1/orgs', { name => $name, slug => lc("acc-$name-$RUN") });
	if ($r->{status} == 201 && $r->{json}{id}) {
		activate($u, $r->{json}{id});
		return $r->{json}{id};
	}
	my $org = rand_id();
	psql(sprintf(q{INSERT INTO organization (id, name, slug, "createdAt") VALUES (%s, %s, %s, now())},
		q_($org), q_($name), q_(lc "acc-$name-$RUN")));
	seat($org, $u, 'owner');
	activate($u, $org);
	return $org;
}

# Seats $u in $org with $role (psql), makes it their active org; the member id.
sub seat {
	my ($org, $u, $role) = @_;
	my $id = rand_id();
	psql(sprintf(q{INSERT INTO member (id, "organizationId", "userId", role, "createdAt")
		VALUES (%s, %s, %s, %s, now())}, q_($id), q_($org), q_($u->{user}{id}), q_($role)));
	activate($u, $org);
	return $id;
}

sub member_id_of {
	my ($org, $u) = @_;
	return psql(sprintf(q{SELECT id FROM member WHERE "organizationId" = %s AND "userId" = %s},
		q_($org), q_($u->{user}{id})));
}

sub role_of { psql(sprintf(q{SELECT role FROM member WHERE id = %s}, q_($_[0]))) }

# The newest audit event of an org with that action: {actor_id, target_type,
# target_id, metadata} or undef.
sub last_event {
	my ($org, $action) = @_;
	my @rows = Stack::psql(sprintf(q{SELECT actor_id, target_type, target_id, metadata, actor_type
		FROM audit_event WHERE org_id = %s AND action = %s ORDER BY seq DESC LIMIT 1},
		q_($org), q_($action)), conf('DATABASE_URL'));
	return undef unless @rows;
	my ($a, $tt, $ti, $m, $at) = @{ $rows[0] };
	return { actor_id => $a, target_type => $tt, target_id => $ti, actor_type => $at,
		metadata => JSON::PP->new->decode($m) };
}
sub count_events {
	my ($org, $action) = @_;
	return psql(sprintf(q{SELECT count(*) FROM audit_event WHERE org_id = %s AND action = %s},
		q_($org), q_($action)));
}

sub not5xx {
	my ($r, $what) = @_;
	ok($r->{status} >= 400 && $r->{status} < 500, "$what: 4xx ($r->{status})")
		or diag $r->{body};
	like($r->{json}{code} // '', qr/^[A-Z_]+$/, "$what: an error code");
}

# ------------------------------------------------------------------ fixture

my $own   = signup(tag => 'acc-own', name => 'Olive Owner');
my $adm   = signup(tag => 'acc-adm', name => 'Ada Admin');
my $eng   = signup(tag => 'acc-eng', name => 'Ed Engineer');
my $view  = signup(tag => 'acc-view', name => 'Vera Viewer');
my $other = signup(tag => 'acc-oth', name => 'Otto Otherorg');
my $loner = signup(tag => 'acc-lone', name => 'Lone Noorg');

my $ORG = make_org($own, "Acme $RUN");
my $OWN_M = member_id_of($ORG, $own);
my $ADM_M = seat($ORG, $adm, 'admin');
my $ENG_M = seat($ORG, $eng, 'engineer');
my $VIEW_M = seat($ORG, $view, 'viewer');
my $ORG_B = make_org($other, "Bravo $RUN");
my $OTH_M = member_id_of($ORG_B, $other);
ok($ORG && $OWN_M && $ORG_B && $OTH_M, 'fixture: two orgs, four roles in the first');

# ---------------------------------------------------------- permissions

subtest 'GET /v1/access/permissions: the catalog' => sub {
	is(get_(undef, '/v1/access/permissions')->{status}, 401, 'no credential: 401');
	my $r = get_($loner, '/v1/access/permissions');
	is($r->{status}, 200, 'a signed-in person without an org: 200') or diag $r->{body};
	my $c = $r->{json};
	is_deeply([ sort keys %$c ], [qw(permissions roles)], 'permissions and roles');
	my @names = map { $_->{name} } @{ $c->{permissions} };
	is(scalar @names, 28, '28 permissions');
	ok(!grep({ $_ eq 'none' } @names), '"none" is not a permission');
	ok((!grep { !length($_->{description} // '') } @{ $c->{permissions} }),
		'each has a description');
	is_deeply([ sort keys %{ $c->{roles} } ], [qw(admin engineer owner viewer)], 'four roles');
	is_deeply($c->{roles}{owner}, \@names, 'owner holds every permission');
	is_deeply($c->{roles}{viewer}, [qw(org:read project:read secret:list member:read)],
		'viewer: the four read permissions');
	my %eng = map { $_ => 1 } @{ $c->{roles}{engineer} };
	ok($eng{'secret:read'} && $eng{'secret:export'} && $eng{'folder:write'}
		&& !$eng{'member:manage'} && !$eng{'apikey:manage'}, 'engineer: secrets, not admin work');
	my %adm = map { $_ => 1 } @{ $c->{roles}{admin} };
	ok($adm{'member:manage'} && $adm{'invitation:manage'} && $adm{'org:update'}
		&& !$adm{'org:delete'} && !$adm{'billing:manage'} && !$adm{'kms:manage'},
		'admin: everything but the owner-only permissions');
};

subtest 'GET /v1/access/members/me/permissions' => sub {
	is(get_(undef, '/v1/access/members/me/permissions')->{status}, 401, 'no credential: 401');
	my $r = my_perms($loner);
	is($r->{status}, 403, 'no active org: 403');
	is($r->{json}{code}, 'NO_ACTIVE_ORGANIZATION', 'NO_ACTIVE_ORGANIZATION');
	my $cat = get_($own, '/v1/access/permissions')->{json}{roles};
	for my $p ([ $own, 'owner' ], [ $adm, 'admin' ], [ $eng, 'engineer' ], [ $view, 'viewer' ]) {
		$r = my_perms($p->[0]);
		is($r->{status}, 200, "$p->[1]: 200") or diag $r->{body};
		is($r->{json}{role}, $p->[1], "$p->[1]: role");
		is_deeply($r->{json}{permissions}, $cat->{ $p->[1] }, "$p->[1]: the catalog's list");
	}
};

# -------------------------------------------------------------- members

subtest 'GET /v1/access/members' => sub {
	is(members(undef)->{status}, 401, 'no credential: 401');
	is(members($loner)->{json}{code}, 'NO_ACTIVE_ORGANIZATION', 'no active org: 403');
	my $r = members($view);
	is($r->{status}, 200, 'a viewer lists members (member:read)') or diag $r->{body};
	my @items = @{ $r->{json}{items} };
	is(scalar @items, 4, 'four members');
	ok(exists $r->{json}{nextCursor} && !defined $r->{json}{nextCursor}, 'nextCursor null');
	is_deeply([ sort keys %{ $items[0] } ], \@MEMBER_KEYS, 'Member shape');
	my %by = map { $_->{id} => $_ } @items;
	is($by{$OWN_M}{role}, 'owner', 'owner listed');
	is($by{$OWN_M}{userId}, $own->{user}{id}, 'userId');
	is($by{$OWN_M}{email}, $own->{email}, 'email');
	is($by{$OWN_M}{name}, 'Olive Owner', 'name');
	like($by{$OWN_M}{createdAt}, $ISO, 'createdAt ISO with ms');
	is($by{$VIEW_M}{role}, 'viewer', 'viewer listed with its role');
	ok(!$by{$OTH_M}, "the other org's member is not listed");
	my $b = members($other)->{json}{items};
	is_deeply([ map { $_->{id} } @$b ], [$OTH_M], 'the other org lists only its own');
};

subtest 'members: keyset pagination and bad arguments' => sub {
	my $pu = signup(tag => 'acc-page');
	my $org = make_org($pu, "Paging $RUN");
	my @extra = map { signup(tag => "acc-p$_") } 1 .. 6;
	# Same createdAt for several rows: the id breaks the tie.
	for my $x (@extra) {
		psql(sprintf(q{INSERT INTO member (id, "organizationId", "userId", role, "createdAt")
			VALUES (%s, %s, %s, 'viewer', '2030-01-01T00:00:00Z')}, q_(rand_id()), q_($org),
			q_($x->{user}{id})));
	}
	my $all = members($pu, '?limit=200')->{json}{items};
	is(scalar @$all, 7, 'seven members');
	my (@seen, $cursor, $pages);
	do {
		my $r = members($pu, '?limit=2' . (defined $cursor ? "&cursor=$cursor" : ''));
		is($r->{status}, 200, 'page ' . ++$pages) or diag $r->{body};
		cmp_ok(scalar @{ $r->{json}{items} }, '<=', 2, 'at most limit items');
		push @seen, map { $_->{id} } @{ $r->{json}{items} };
		$cursor = $r->{json}{nextCursor};
		like($cursor, qr/^[A-Za-z0-9_-]+$/, 'cursor is URL-safe') if defined $cursor;
		# A member joining meanwhile (sorting before the cursor) neither
		# shifts nor repeats the rows still to come.
		seat($org, signup(tag => 'acc-late'), 'viewer') if $pages == 2;
	} while (defined $cursor && $pages < 10);
	is($pages, 4, 'four pages of two');
	is_deeply([ @seen[0 .. 6] ], [ map { $_->{id} } @$all ], 'the same members, in order, once');
	my %u; $u{$_}++ for @seen;
	ok(!grep({ $_ > 1 } values %u), 'no member twice');

	for my $bad ('0', '201', '-1', 'abc', '1.5', '', '10x', '99999999999999999999', '%zz') {
		my $r = members($pu, "?limit=$bad");
		is($r->{status}, 400, "limit=$bad: 400");
		is($r->{json}{field}, 'limit', "limit=$bad: field limit");
	}
	is(members($pu, '?limit=1')->{status}, 200, 'limit=1: 200');
	is(members($pu, '?limit=200')->{status}, 200, 'limit=200: 200');
	for my $bad ('abc', 'AAAA', 'x' x 300, '%zz', 'fA', 'MjAyNi0wMS0wMVQwMDowMDowMC4wMDAwMDBafA',
		'bm9wZQ', 'J3x4Jw') {
		my $r = members($pu, "?cursor=$bad");
		is($r->{status}, 400, "cursor=" . substr($bad, 0, 20) . ": 400");
		is($r->{json}{field}, 'cursor', 'field cursor');
	}
	# A cursor of this org's list replayed in another org only pages there.
	my $first = members($pu, '?limit=1')->{json}{nextCursor};
	my $r = members($other, "?cursor=$first");
	is($r->{status}, 200, "another org's cursor: 200, its own rows");
	ok(!grep({ my $i = $_->{id}; grep { $_ eq $i } @seen } @{ $r->{json}{items} }),
		'no row of the first org');
};

subtest 'PATCH /v1/access/members/:memberId' => sub {
	my $m = seat($ORG, signup(tag => 'acc-t1'), 'engineer');
	activate($own, $ORG);
	is(write_('PATCH', undef, "/v1/access/members/$m", { role => 'admin' })->{status}, 401,
		'no credential: 401');
	my $r = req('PATCH', "/v1/access/members/$m", { cookie => $own->{cookie},
		json => { role => 'admin' } });
	is($r->{status}, 403, 'a cookie without Origin: 403');
	is(role_of($m), 'engineer', 'nothing changed');

	$r = set_role($own, $m, 'admin');
	is($r->{status}, 200, 'owner: engineer -> admin: 200') or diag $r->{body};
	is_deeply([ sort keys %{ $r->{json} } ], \@MEMBER_KEYS, 'answers the Member');
	is($r->{json}{id}, $m, 'the member');
	is($r->{json}{role}, 'admin', 'the new role');
	is(role_of($m), 'admin', 'stored');
	my $ev = last_event($ORG, 'member.role_changed');
	ok($ev, 'audit: member.role_changed');
	is($ev->{actor_id}, $own->{user}{id}, 'audit actor: the owner');
	is($ev->{target_id}, $m, 'audit target: the member');
	is($ev->{metadata}{from}, 'engineer', 'metadata.from');
	is($ev->{metadata}{to}, 'admin', 'metadata.to');

	my $n = count_events($ORG, 'member.role_changed');
	$r = set_role($own, $m, 'admin');
	is($r->{status}, 200, 'the same role again: 200');
	is(count_events($ORG, 'member.role_changed'), $n, 'no change, no event');

	for my $bad (' Admin ', 'Admin', 'ADMIN', 'admin ', '', 'member', 'root') {
		my $d = $bad;
		$r = set_role($own, $m, $bad);
		is($r->{status}, 400, "role '$d': 400");
		is($r->{json}{field}, 'role', "role '$d': field role");
	}
	for my $bad (1, JSON::PP::true, [], { role => 'admin' }) {
		$r = write_('PATCH', $own, "/v1/access/members/$m", { role => $bad });
		is($r->{status}, 400, 'role of the wrong type: 400');
		is($r->{json}{field}, 'role', 'field role');
	}
	$r = write_('PATCH', $own, "/v1/access/members/$m", {});
	is($r->{status}, 400, 'no role: 400');
	$r = write_('PATCH', $own, "/v1/access/members/$m");
	is($r->{status}, 400, 'no body: 400');
	is(role_of($m), 'admin', 'bad input changed nothing');

	$r = set_role($eng, $m, 'viewer');
	is($r->{status}, 403, 'engineer: 403');
	is($r->{json}{code}, 'FORBIDDEN', 'FORBIDDEN');
	is(set_role($view, $m, 'viewer')->{status}, 403, 'viewer: 403');
	is(role_of($m), 'admin', 'unchanged');

	# Body fields never say who acts.
	$r = write_('PATCH', $view, "/v1/access/members/$m", { role => 'viewer', userId =>
		$own->{user}{id}, orgId => $ORG, role_of_caller => 'owner' });
	is($r->{status}, 403, 'userId/orgId in the body change nothing: 403');
};

subtest 'PATCH: the admin rules' => sub {
	my $m = seat($ORG, signup(tag => 'acc-t2'), 'viewer');
	activate($adm, $ORG);
	my $r = set_role($adm, $m, 'engineer');
	is($r->{status}, 200, 'admin: viewer -> engineer: 200') or diag $r->{body};
	$r = set_role($adm, $m, 'owner');
	is($r->{status}, 403, 'admin grants owner: 403');
	is($r->{json}{code}, 'CANNOT_GRANT_OWNER', 'CANNOT_GRANT_OWNER');
	is(role_of($m), 'engineer', 'unchanged');
	$r = set_role($adm, $OWN_M, 'viewer');
	is($r->{status}, 403, "admin changes an owner's role: 403");
	is($r->{json}{code}, 'CANNOT_MODIFY_OWNER', 'CANNOT_MODIFY_OWNER');
	is(role_of($OWN_M), 'owner', 'the owner stays owner');
	$r = set_role($adm, $ADM_M, 'viewer');
	is($r->{status}, 403, 'admin changes their own role: 403');
	is($r->{json}{code}, 'CANNOT_CHANGE_OWN_ROLE', 'CANNOT_CHANGE_OWN_ROLE');
	is(role_of($ADM_M), 'admin', 'unchanged');
	$r = set_role($adm, $ADM_M, 'owner');
	is($r->{status}, 403, 'admin promotes themselves to owner: 403');
	is(role_of($ADM_M), 'admin', 'unchanged');

	$r = set_role($own, $m, 'owner');
	is($r->{status}, 200, 'the owner grants owner: 200');
	is(role_of($m), 'owner', 'a second owner');
	$r = set_role($own, $m, 'viewer');
	is($r->{status}, 200, 'an owner demotes another owner: 200');
};

subtest 'the last owner' => sub {
	my $o1 = signup(tag => 'acc-lo1');
	my $o2 = signup(tag => 'acc-lo2');
	my $a1 = signup(tag => 'acc-la1');
	my $org = make_org($o1, "Lastowner $RUN");
	my $m1 = member_id_of($org, $o1);
	my $m2 = seat($org, $o2, 'owner');
	my $ma = seat($org, $a1, 'admin');

	is(set_role($o1, $m2, 'admin')->{status}, 200, 'two owners: one demotes the other');
	my $r = set_role($o1, $m1, 'admin');
	is($r->{status}, 403, 'the last owner demotes themselves: 403');
	is($r->{json}{code}, 'LAST_OWNER', 'LAST_OWNER');
	$r = remove($o1, $m1);
	is($r->{status}, 403, 'the last owner removes themselves: 403');
	is($r->{json}{code}, 'LAST_OWNER', 'LAST_OWNER');
	$r = remove($a1, $m1);
	is($r->{status}, 403, 'an admin removes the owner: 403');
	is($r->{json}{code}, 'CANNOT_MODIFY_OWNER', 'CANNOT_MODIFY_OWNER');
	is(role_of($m1), 'owner', 'still the owner');

	is(set_role($o1, $m2, 'owner')->{status}, 200, 'a second owner again');
	# Both owners demote each other at once: one must lose.
	my @pids;
	my $dir = File::Temp::tempdir(CLEANUP => 1);
	for my $p ([ $o1, $m2, 'a' ], [ $o2, $m1, 'b' ]) {
		my $pid = fork;
		die "fork: $!" unless defined $pid;
		if (!$pid) {
			my $rr = set_role($p->[0], $p->[1], 'viewer');
			open my $fh, '>', "$dir/$p->[2]" or die;
			print $fh $rr->{status};
			close $fh;
			POSIX::_exit(0);
		}
		push @pids, $pid;
	}
	waitpid($_, 0) for @pids;
	my @st = map { open my $fh, '<', "$dir/$_" or die; scalar <$fh> } qw(a b);
	is_deeply([ sort @st ], [ 200, 403 ], 'concurrent demotions: one 200, one 403');
	is(psql(sprintf(q{SELECT count(*) FROM member WHERE "organizationId" = %s AND role = 'owner'},
		q_($org))), 1, 'exactly one owner is left');

	my $owner = role_of($m1) eq 'owner' ? $o1 : $o2;
	my $om = role_of($m1) eq 'owner' ? $m1 : $m2;
	is(remove($owner, $om)->{json}{code}, 'LAST_OWNER', 'and that one cannot leave');
};

subtest 'DELETE /v1/access/members/:memberId' => sub {
	my $gone = signup(tag => 'acc-gone');
	my $m = seat($ORG, $gone, 'engineer');
	is(my_perms($gone)->{status}, 200, 'the member can act in the org');
	is(remove(undef, $m)->{status}, 401, 'no credential: 401');
	is(req('DELETE', "/v1/access/members/$m", { cookie => $adm->{cookie} })->{status}, 403,
		'no Origin: 403');
	my $r = remove($eng, $m);
	is($r->{status}, 403, 'engineer: 403');
	is($r->{json}{code}, 'FORBIDDEN', 'FORBIDDEN');
	is(remove($view, $m)->{status}, 403, 'viewer: 403');

	activate($adm, $ORG);
	$r = remove($adm, $m);
	is($r->{status}, 204, 'admin removes an engineer: 204') or diag $r->{body};
	is($r->{body}, '', 'no body');
	is(psql(sprintf(q{SELECT count(*) FROM member WHERE id = %s}, q_($m))), 0, 'the seat is gone');
	$r = my_perms($gone);
	is($r->{status}, 403, 'the removed member: 403 on the very next request');
	is($r->{json}{code}, 'NOT_A_MEMBER', 'NOT_A_MEMBER');
	is(members($gone)->{json}{code}, 'NOT_A_MEMBER', 'on every org route');
	ok(!grep({ $_->{id} eq $m } @{ members($own)->{json}{items} }), 'no longer listed');
	my $ev = last_event($ORG, 'member.removed');
	ok($ev, 'audit: member.removed');
	is($ev->{actor_id}, $adm->{user}{id}, 'actor: the admin');
	is($ev->{target_id}, $m, 'target: the member');
	is($ev->{metadata}{userId}, $gone->{user}{id}, 'metadata.userId');
	is(remove($adm, $m)->{status}, 404, 'removing again: 404');

	# A member of the org marked removed (SCIM) is not a member either.
	my $scim = signup(tag => 'acc-scim');
	my $sm = seat($ORG, $scim, 'viewer');
	psql(sprintf(q{UPDATE member SET "removedAt" = now() WHERE id = %s}, q_($sm)));
	is(my_perms($scim)->{json}{code}, 'NOT_A_MEMBER', 'removedAt set: NOT_A_MEMBER');
	ok(!grep({ $_->{id} eq $sm } @{ members($own)->{json}{items} }), 'and not listed');
	is(remove($own, $sm)->{status}, 404, 'nor removable again: 404');
	is(set_role($own, $sm, 'admin')->{status}, 404, 'nor re-roled: 404');

	# An admin may leave.
	my $a2 = signup(tag => 'acc-a2');
	my $am = seat($ORG, $a2, 'admin');
	is(remove($a2, $am)->{status}, 204, 'an admin removes themselves (leaves): 204');
	is(my_perms($a2)->{json}{code}, 'NOT_A_MEMBER', 'and is out');
};

subtest 'foreign and missing member ids: 404 alike' => sub {
	activate($other, $ORG_B);
	my $missing = set_role($other, rand_id(), 'viewer');
	is($missing->{status}, 404, 'a missing id: 404');
	my $foreign = set_role($other, $VIEW_M, 'viewer');
	is($foreign->{status}, 404, "another org's member id: 404");
	is_deeply($foreign->{json}, $missing->{json}, 'the same answer');
	is(role_of($VIEW_M), 'viewer', 'untouched');
	$missing = remove($other, rand_id());
	$foreign = remove($other, $ENG_M);
	is($foreign->{status}, 404, "DELETE another org's member: 404");
	is_deeply($foreign->{json}, $missing->{json}, 'the same answer as a missing id');
	is(role_of($ENG_M), 'engineer', 'still seated');
	is(set_role($own, 'x' x 300, 'viewer')->{status}, 404, 'an absurdly long id: 404');
	is(remove($own, 'x' x 300)->{status}, 404, 'DELETE an absurdly long id: 404');
	is(set_role($own, 'me', 'viewer')->{status}, 404, '"me" is not a member id');
};

# ---------------------------------------------------------- invitations

my $BASE = conf('BETTER_AUTH_URL') // '';
$BASE =~ s{/+$}{};

subtest 'POST /v1/access/invitations' => sub {
	my $email = rand_email('acc-inv');
	(my $mixed = $email) =~ s/^(\w)/\U$1/;
	$mixed =~ s/example/EXAMPLE/;
	is(invite(undef, { email => $email, role => 'engineer' })->{status}, 401,
		'no credential: 401');
	my $r = invite($eng, { email => $email, role => 'viewer' });
	is($r->{status}, 403, 'engineer: 403');
	is($r->{json}{code}, 'FORBIDDEN', 'FORBIDDEN');
	is(invite($view, { email => $email, role => 'viewer' })->{status}, 403, 'viewer: 403');

	activate($own, $ORG);
	$r = invite($own, { email => $mixed, role => 'engineer' });
	is($r->{status}, 201, 'owner invites: 201') or diag $r->{body};
	my $inv = $r->{json};
	is_deeply([ sort keys %$inv ], \@INV_KEYS, 'Invitation shape');
	like($inv->{id}, $ID, 'id: 32 alnum');
	is($inv->{email}, $email, 'email lowercased');
	is($inv->{role}, 'engineer', 'role');
	is($inv->{status}, 'pending', 'pending');
	like($inv->{createdAt}, $ISO, 'createdAt ISO');
	like($inv->{expiresAt}, $ISO, 'expiresAt ISO');
	my $days = psql(sprintf(q{SELECT round(extract(epoch FROM "expiresAt" - "createdAt") / 86400)
		FROM invitation WHERE id = %s}, q_($inv->{id})));
	is($days, 7, 'expires after 7 days');
	is(psql(sprintf(q{SELECT "inviterId" FROM invitation WHERE id = %s}, q_($inv->{id}))),
		$own->{user}{id}, 'inviter: the caller');

	my @mail = Stack::psql(sprintf(q{SELECT to_address, org_id FROM mail_outbox
		WHERE to_address = %s}, q_($email)), conf('DATABASE_URL'));
	is(scalar @mail, 1, 'one mail in the outbox');
	my $out = psql(sprintf(q{SELECT body FROM mail_outbox WHERE to_address = %s}, q_($email)));
	my $subj = psql(sprintf(q{SELECT subject FROM mail_outbox WHERE to_address = %s}, q_($email)));
	is($mail[0][1], $ORG, 'mail of the org');
	like($subj, qr/\QAcme $RUN\E/, 'subject names the org');
	like($out, qr/\Q$BASE\/invitations\/$inv->{id}\E/, 'body has the accept link');
	like($out, qr/\QAcme $RUN\E/, 'body names the org');
	unlike($out, qr/password|secret|token/i, 'no secret in the mail');

	my $ev = last_event($ORG, 'invitation.created');
	ok($ev, 'audit: invitation.created');
	is($ev->{target_id}, $inv->{id}, 'target: the invitation');
	is($ev->{metadata}{email}, $email, 'metadata.email');
	is($ev->{metadata}{role}, 'engineer', 'metadata.role');

	$r = invite($own, { email => $email, role => 'viewer' });
	is($r->{status}, 409, 'the same address again: 409');
	is($r->{json}{code}, 'ALREADY_INVITED', 'ALREADY_INVITED');
	is(invite($own, { email => uc $email, role => 'viewer' })->{json}{code}, 'ALREADY_INVITED',
		'in capitals too');
	$r = invite($own, { email => $view->{email}, role => 'viewer' });
	is($r->{status}, 409, 'a live member: 409');
	is($r->{json}{code}, 'ALREADY_MEMBER', 'ALREADY_MEMBER');
	$r = invite($other, { email => $email, role => 'viewer' });
	is($r->{status}, 201, 'another org may invite the same address: 201');

	activate($adm, $ORG);
	$r = invite($adm, { email => rand_email('acc-own2'), role => 'owner' });
	is($r->{status}, 403, 'admin invites an owner: 403');
	is($r->{json}{code}, 'CANNOT_GRANT_OWNER', 'CANNOT_GRANT_OWNER');
	$r = invite($adm, { email => rand_email('acc-adm2'), role => 'admin' });
	is($r->{status}, 201, 'admin invites an admin: 201');
	$r = invite($own, { email => rand_email('acc-own3'), role => 'owner' });
	is($r->{status}, 201, 'owner invites an owner: 201');

	for my $bad ('', 'plain', 'a@b', '@example.com', 'a@example', "a b\@example.com",
		"caf\x{e9}\@example.com", 'a@example.c0m', ('x' x 250) . '@example.com', 'a..b@example.com') {
		$r = invite($own, { email => $bad, role => 'viewer' });
		is($r->{status}, 400, "email '" . substr($bad, 0, 30) . "': 400");
		is($r->{json}{field}, 'email', 'field email');
	}
	for my $bad (undef, 5, [], {}) {
		$r = invite($own, { email => $bad, role => 'viewer' });
		is($r->{status}, 400, 'email missing or of the wrong type: 400');
		is($r->{json}{field}, 'email', 'field email');
	}
	for my $bad (' Admin ', 'Admin', 'member', '', undef, 3) {
		$r = invite($own, { email => rand_email('acc-r'), role => $bad });
		is($r->{status}, 400, 'role ' . ($bad // 'null') . ': 400');
		is($r->{json}{field}, 'role', 'field role');
	}
	is(invite($own, undef)->{status}, 400, 'no body: 400');
	$r = req('POST', '/v1/access/invitations', { cookie => $own->{cookie}, origin => 1,
		body => 'email=a@b.c', headers => { 'Content-Type' => 'application/x-www-form-urlencoded' } });
	is($r->{status}, 415, 'a form body: 415');
	$r = req('POST', '/v1/access/invitations', { cookie => $own->{cookie}, origin => 1,
		json => '{"email":' });
	is($r->{status}, 400, 'broken JSON: 400');
	$r = req('POST', '/v1/access/invitations', { cookie => $own->{cookie}, origin => 1,
		json => '["a"]' });
	is($r->{status}, 400, 'a JSON array: 400');
};

subtest 'GET /v1/access/invitations' => sub {
	my $iu = signup(tag => 'acc-il');
	my $org = make_org($iu, "Invlist $RUN");
	my @ids = map { invite($iu, { email => rand_email("acc-l$_"), role => 'viewer' })->{json}{id} }
		1 .. 5;
	ok(!grep({ !defined } @ids), 'five invitations');
	is(invites(undef)->{status}, 401, 'no credential: 401');
	my $vu = signup(tag => 'acc-iv');
	seat($org, $vu, 'viewer');
	is(invites($vu)->{status}, 403, 'viewer: 403');
	my $eu = signup(tag => 'acc-ie');
	seat($org, $eu, 'engineer');
	is(invites($eu)->{json}{code}, 'FORBIDDEN', 'engineer: 403 FORBIDDEN');

	my $r = invites($iu);
	is($r->{status}, 200, 'owner: 200') or diag $r->{body};
	is_deeply([ map { $_->{id} } @{ $r->{json}{items} } ], \@ids, 'all five, oldest first');
	is_deeply([ sort keys %{ $r->{json}{items}[0] } ], \@INV_KEYS, 'Invitation shape');
	ok(!defined $r->{json}{nextCursor}, 'nextCursor null');

	cancel($iu, $ids[1]);
	psql(sprintf(q{UPDATE invitation SET "expiresAt" = now() - interval '1 minute' WHERE id = %s},
		q_($ids[2])));
	$r = invites($iu);
	is_deeply([ map { $_->{id} } @{ $r->{json}{items} } ], [ @ids[0, 3, 4] ],
		'canceled and expired ones are not listed');
	ok(!grep({ $_->{status} ne 'pending' } @{ $r->{json}{items} }), 'all pending');

	my (@seen, $cursor, $n);
	do {
		$r = invites($iu, '?limit=2' . (defined $cursor ? "&cursor=$cursor" : ''));
		is($r->{status}, 200, 'page ' . ++$n);
		push @seen, map { $_->{id} } @{ $r->{json}{items} };
		$cursor = $r->{json}{nextCursor};
	} while (defined $cursor && $n < 5);
	is_deeply(\@seen, [ @ids[0, 3, 4] ], 'paged: the same three');
	is(invites($iu, '?limit=0')->{json}{field}, 'limit', 'limit=0: 400 limit');
	is(invites($iu, '?limit=201')->{status}, 400, 'limit=201: 400');
	is(invites($iu, '?cursor=garbage!')->{json}{field}, 'cursor', 'bad cursor: 400 cursor');

	# The expired invitation can be invited again.
	my $again = psql(sprintf(q{SELECT email FROM invitation WHERE id = %s}, q_($ids[2])));
	is(invite($iu, { email => $again, role => 'viewer' })->{status}, 201,
		'an address whose invitation expired can be invited again');
	is(invites($other)->{status}, 200, 'the other org lists its own');
	ok(!grep({ my $i = $_->{id}; grep { $_ eq $i } @ids } @{ invites($other)->{json}{items} }),
		'none of this org');
};

subtest 'POST /v1/access/invitations/:id/cancel' => sub {
	activate($own, $ORG);
	my $inv = invite($own, { email => rand_email('acc-c'), role => 'viewer' })->{json};
	is(cancel(undef, $inv->{id})->{status}, 401, 'no credential: 401');
	is(cancel($eng, $inv->{id})->{status}, 403, 'engineer: 403');
	is(cancel($view, $inv->{id})->{status}, 403, 'viewer: 403');
	my $missing = cancel($other, rand_id());
	my $foreign = cancel($other, $inv->{id});
	is($foreign->{status}, 404, "another org's invitation: 404");
	is_deeply($foreign->{json}, $missing->{json}, 'answered like a missing id');

	activate($adm, $ORG);
	my $r = cancel($adm, $inv->{id});
	is($r->{status}, 200, 'admin cancels: 200') or diag $r->{body};
	is_deeply([ sort keys %{ $r->{json} } ], \@INV_KEYS, 'Invitation shape');
	is($r->{json}{status}, 'canceled', 'status canceled');
	is($r->{json}{id}, $inv->{id}, 'the invitation');
	my $ev = last_event($ORG, 'invitation.canceled');
	ok($ev, 'audit: invitation.canceled');
	is($ev->{target_id}, $inv->{id}, 'target');
	is($ev->{actor_id}, $adm->{user}{id}, 'actor: the admin');
	$r = cancel($adm, $inv->{id});
	is($r->{status}, 409, 'canceled again: 409');
	is($r->{json}{code}, 'INVITATION_CANCELED', 'INVITATION_CANCELED');
	$r = write_('POST', $adm, "/v1/access/invitations/$inv->{id}/cancel", {});
	is($r->{status}, 409, 'with {} as body: the same 409');

	my $exp = invite($own, { email => rand_email('acc-ce'), role => 'viewer' })->{json};
	psql(sprintf(q{UPDATE invitation SET "expiresAt" = now() - interval '1 second' WHERE id = %s},
		q_($exp->{id})));
	$r = cancel($own, $exp->{id});
	is($r->{status}, 200, 'an expired invitation can be canceled: 200');
};

subtest 'POST /v1/access/invitations/:id/accept' => sub {
	my $newbie = signup(tag => 'acc-new', name => 'Nina Newbie');
	my $stranger = signup(tag => 'acc-str');
	activate($own, $ORG);
	my $inv = invite($own, { email => uc $newbie->{email}, role => 'engineer' })->{json};
	ok($inv && $inv->{id}, 'invited');

	is(accept_inv(undef, $inv->{id})->{status}, 401, 'no credential: 401');
	my $r = req('POST', "/v1/access/invitations/$inv->{id}/accept",
		{ cookie => $newbie->{cookie} });
	is($r->{status}, 403, 'a cookie without Origin: 403');
	my $wrong = accept_inv($stranger, $inv->{id});
	is($wrong->{status}, 404, 'someone else: 404');
	my $missing = accept_inv($stranger, rand_id());
	is_deeply($wrong->{json}, $missing->{json}, 'answered exactly like a missing id');
	is(accept_inv($own, $inv->{id})->{status}, 404, 'even an owner of the org: 404');
	is(accept_inv($newbie, rand_id())->{status}, 404, 'a missing id: 404');

	is(my_perms($newbie)->{json}{code}, 'NO_ACTIVE_ORGANIZATION', 'before: no org');
	$r = accept_inv($newbie, $inv->{id});
	is($r->{status}, 200, 'the invited person accepts: 200') or diag $r->{body};
	is_deeply($r->{json}, { orgId => $ORG, role => 'engineer' }, '{orgId, role}');
	$r = my_perms($newbie);
	is($r->{status}, 200, 'the org is now their active org');
	is($r->{json}{role}, 'engineer', 'with the invited role');
	my $gs = get_($newbie, '/api/auth/get-session');
	is($gs->{json}{session}{activeOrganizationId}, $ORG, 'session.activeOrganizationId');
	my ($mem) = grep { $_->{userId} eq $newbie->{user}{id} } @{ members($own)->{json}{items} };
	ok($mem, 'listed as a member');
	is($mem->{role}, 'engineer', 'as engineer');
	is(psql(sprintf(q{SELECT status FROM invitation WHERE id = %s}, q_($inv->{id}))), 'accepted',
		'the invitation is accepted');
	my $ev = last_event($ORG, 'member.added');
	ok($ev, 'audit: member.added in the org');
	is($ev->{actor_id}, $newbie->{user}{id}, 'actor: the accepting person');
	is($ev->{target_id}, $mem->{id}, 'target: the new member');
	is($ev->{metadata}{invitationId}, $inv->{id}, 'metadata.invitationId');

	$r = accept_inv($newbie, $inv->{id});
	is($r->{status}, 409, 'accepted again: 409');
	is($r->{json}{code}, 'INVITATION_ACCEPTED', 'INVITATION_ACCEPTED');
	is(cancel($own, $inv->{id})->{json}{code}, 'INVITATION_ACCEPTED',
		'an accepted invitation cannot be canceled: 409');

	# Canceled, expired.
	my $p2 = signup(tag => 'acc-p2');
	my $c = invite($own, { email => $p2->{email}, role => 'viewer' })->{json};
	cancel($own, $c->{id});
	$r = accept_inv($p2, $c->{id});
	is($r->{status}, 409, 'a canceled invitation: 409');
	is($r->{json}{code}, 'INVITATION_CANCELED', 'INVITATION_CANCELED');
	my $e = invite($own, { email => $p2->{email}, role => 'viewer' })->{json};
	psql(sprintf(q{UPDATE invitation SET "expiresAt" = now() - interval '1 second' WHERE id = %s},
		q_($e->{id})));
	$r = accept_inv($p2, $e->{id});
	is($r->{status}, 409, 'an expired invitation: 409');
	is($r->{json}{code}, 'INVITATION_EXPIRED', 'INVITATION_EXPIRED');
	is(my_perms($p2)->{json}{code}, 'NO_ACTIVE_ORGANIZATION', 'not seated by either');

	# A removed member comes back through a new invitation.
	my $back = signup(tag => 'acc-back');
	my $bm = seat($ORG, $back, 'admin');
	is(remove($own, $bm)->{status}, 204, 'removed');
	my $bi = invite($own, { email => $back->{email}, role => 'viewer' })->{json};
	$r = accept_inv($back, $bi->{id});
	is($r->{status}, 200, 'a removed member accepts a new invitation: 200') or diag $r->{body};
	is($r->{json}{role}, 'viewer', 'with the new role');
	is(my_perms($back)->{json}{role}, 'viewer', 'and acts as viewer');

	# A SCIM-removed seat (removedAt) is revived.
	my $sc = signup(tag => 'acc-scb');
	my $sm = seat($ORG, $sc, 'engineer');
	psql(sprintf(q{UPDATE member SET "removedAt" = now() WHERE id = %s}, q_($sm)));
	my $si = invite($own, { email => $sc->{email}, role => 'viewer' })->{json};
	ok($si && $si->{id}, 'a removed (removedAt) member can be invited');
	$r = accept_inv($sc, $si->{id});
	is($r->{status}, 200, 'and accept: 200');
	is(psql(sprintf(q{SELECT role || ',' || ("removedAt" IS NULL) FROM member WHERE id = %s},
		q_($sm))), 'viewer,true', 'the same seat, revived with the new role');

	# Accepting into a second org moves the active org there.
	my $bi2 = invite($other, { email => $newbie->{email}, role => 'viewer' })->{json};
	$r = accept_inv($newbie, $bi2->{id});
	is($r->{status}, 200, 'a second org: 200');
	is($r->{json}{orgId}, $ORG_B, 'its id');
	is(my_perms($newbie)->{json}{role}, 'viewer', 'now acting in the second org');
};

# --------------------------------------------------------- fail closed

subtest 'a change whose audit event cannot be written keeps nothing' => sub {
	my $fo = signup(tag => 'acc-fo');
	my $org = make_org($fo, "Failclosed $RUN");
	my $victim = signup(tag => 'acc-fv');
	my $vm = seat($org, $victim, 'engineer');
	my $fn = "acc_fail_$RUN";
	psql(qq{CREATE FUNCTION $fn() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
		IF NEW.org_id = ${\ q_($org)} THEN RAISE EXCEPTION 'audit refused'; END IF;
		RETURN NEW; END \$\$});
	psql(qq{CREATE TRIGGER $fn BEFORE INSERT ON audit_event FOR EACH ROW EXECUTE FUNCTION $fn()});
	my $ok = eval {
		my $r = set_role($fo, $vm, 'admin');
		is($r->{status}, 500, 'role change: 500');
		ok($r->{json}{requestId}, 'with the request id');
		is(role_of($vm), 'engineer', 'the role is not changed');
		is(remove($fo, $vm)->{status}, 500, 'removal: 500');
		is(role_of($vm), 'engineer', 'the member is still there');
		my $email = rand_email('acc-fi');
		is(invite($fo, { email => $email, role => 'viewer' })->{status}, 500, 'invitation: 500');
		is(psql(sprintf(q{SELECT count(*) FROM invitation WHERE email = %s}, q_($email))), 0,
			'no invitation kept');
		is(psql(sprintf(q{SELECT count(*) FROM mail_outbox WHERE to_address = %s}, q_($email))),
			0, 'no mail queued');
		1;
	};
	my $err = $@;
	psql(qq{DROP TRIGGER $fn ON audit_event});
	psql(qq{DROP FUNCTION $fn()});
	die $err unless $ok;
	is(set_role($fo, $vm, 'admin')->{status}, 200, 'with the audit working again: 200');
};

# --------------------------------------------------------- never a 5xx

subtest 'bad input is a 4xx, never a 5xx' => sub {
	activate($own, $ORG);
	my @bodies = ('null', '"x"', '1', '[]', '{"role":{"a":1}}', '{"role":"' . ('a' x 70000) . '"}',
		'{"email":"' . ('a' x 5000) . '@example.com","role":" viewer"}', '{"role":"\\u0000"}',
		"{\"role\":\"\xff\xfe\"}", '{"email":["a@b.co"],"role":"Viewer"}');
	for my $b (@bodies) {
		for my $rt ([ 'PATCH', "/v1/access/members/$ENG_M" ], [ 'POST', '/v1/access/invitations' ]) {
			my $r = req($rt->[0], $rt->[1], { cookie => $own->{cookie}, origin => 1,
				body => $b, headers => { 'Content-Type' => 'application/json' } });
			not5xx($r, "$rt->[0] $rt->[1] " . substr($b, 0, 24));
		}
	}
	for my $p ('/v1/access/members/%00', '/v1/access/members/%ZZ', '/v1/access/members/a%2Fb',
		'/v1/access/invitations/%00/cancel', '/v1/access/invitations/' . ('z' x 2000) . '/accept') {
		my $r = req('POST', $p, { cookie => $own->{cookie}, origin => 1, json => {} });
		ok($r->{status} < 500, "POST $p: no 5xx ($r->{status})");
		$r = req('PATCH', $p, { cookie => $own->{cookie}, origin => 1, json => { role => 'viewer' } });
		ok($r->{status} < 500, "PATCH $p: no 5xx ($r->{status})");
	}
	for my $q ('?limit=1&limit=2', '?cursor=' . ('A' x 5000), '?limit=%00', '?cursor=%00',
		'?limit=' . ('9' x 400)) {
		ok(members($own, $q)->{status} < 500, "members$q: no 5xx");
		ok(invites($own, $q)->{status} < 500, "invitations$q: no 5xx");
	}
	is(role_of($ENG_M), 'engineer', 'nothing changed along the way');
};

done_testing;
