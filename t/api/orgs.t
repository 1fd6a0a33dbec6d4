#!/usr/bin/perl
# /v1/orgs: list mine, create, get / switch / update / delete the active org
# (REFERENCE.md "Organizations", API.md §3, §4). Members of other roles are
# seated with psql (the members API is tested elsewhere) and switch to the
# org themselves.
use strict;
use warnings;
BEGIN { unless ($ENV{SHUSH_URL}) { print "1..0 # SKIP no stack\n"; exit 0 } }
use FindBin qw($Bin);
use lib $Bin;
use ApiTest;
use Test::More;
binmode(Test::More->builder->$_, ":encoding(UTF-8)") for qw(output failure_output todo_output);

my @ORG_KEYS = sort qw(id name slug role createdAt);
my $ISO = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
my $RUN = join '', map { ('a' .. 'z', 0 .. 9)[int rand 36] } 1 .. 8;    # slugs unique per run

# ------------------------------------------------------------------ helpers

sub get_  { my ($c, $p) = @_; req('GET', $p, { (defined $c ? (cookie => $c) : ()) }) }
sub write_ {
	my ($m, $c, $p, $json) = @_;
	return req($m, $p, { (defined $c ? (cookie => $c, origin => 1) : ()),
		(defined $json ? (json => $json) : ()) });
}
sub mine     { get_($_[0], '/v1/orgs/me') }
sub current  { get_($_[0], '/v1/orgs/current') }
sub create   { write_('POST', $_[0], '/v1/orgs', $_[1]) }
sub switch   { write_('POST', $_[0], '/v1/orgs/current', { orgId => $_[1] }) }
sub patch    { write_('PATCH', $_[0], '/v1/orgs/current', $_[1]) }
sub delete_  { write_('DELETE', $_[0], '/v1/orgs/current') }

sub slug { my ($t) = @_; return "$t-$RUN" }

# A new org of the user (201 expected); returns its Org object.
sub new_org {
	my ($u, $name, $slug) = @_;
	my $r = create($u->{cookie}, { name => $name, (defined $slug ? (slug => $slug) : ()) });
	die "create org failed: $r->{status} $r->{body}" unless $r->{status} == 201;
	return $r->{json};
}

# Another session (another device) of the same person.
sub sign_in {
	my ($u) = @_;
	my $r = req('POST', '/api/auth/sign-in/email',
		{ json => { email => $u->{email}, password => $u->{password} } });
	die "sign-in failed: $r->{status} $r->{body}" unless $r->{status} == 200;
	return session_cookie($r);
}

sub active_org_of {
	my ($c) = @_;
	my $r = get_($c, '/api/auth/get-session');
	return $r->{json}{session}{activeOrganizationId};
}

# Seats a user in an org with a role, as the members API would.
sub seat {
	my ($org_id, $user_id, $role) = @_;
	my $id = join '', map { ('A' .. 'Z', 'a' .. 'z', 0 .. 9)[int rand 62] } 1 .. 32;
	psql(sprintf(q{INSERT INTO member (id, "organizationId", "userId", role, "createdAt")
		VALUES (%s, %s, %s, %s, now())}, sql_quote($id), sql_quote($org_id),
		sql_quote($user_id), sql_quote($role)));
	return $id;
}

sub events {
	my ($org_id) = @_;
	return [ map { { seq => $_->[0], action => $_->[1], actor_id => $_->[2], org_id => $_->[3],
			target_type => $_->[4], target_id => $_->[5], metadata => $_->[6],
			prev_hash => $_->[7], hash => $_->[8] } }
		Stack::psql(sprintf(q{SELECT seq, action, actor_id, org_id, target_type, target_id,
			metadata, prev_hash, hash FROM audit_event WHERE org_id = %s ORDER BY seq},
			sql_quote($org_id)), conf('DATABASE_URL')) ];
}

sub head_of {
	my ($org_id) = @_;
	my $h = psql(sprintf('SELECT seq, hash FROM audit_head WHERE org_id = %s', sql_quote($org_id)));
	return $h eq '' ? undef : [ split /\|/, $h ];
}

sub count_rows {
	my ($sql) = @_;
	return 0 + psql($sql);
}

sub desc { my ($v) = @_; return ref $v ? json_enc($v) : defined $v ? "'$v'" : 'null' }

my $owner = signup(tag => 'orgs-owner', name => 'Olivia Owner');
my $O = $owner->{cookie};

# ----------------------------------------------------------------- the tests

subtest 'a new person: no orgs, no active org' => sub {
	my $r = mine($O);
	is($r->{status}, 200, 'GET /v1/orgs/me: 200') or diag $r->{body};
	is_deeply($r->{json}, { items => [], nextCursor => undef }, 'empty list, nextCursor null');
	for my $c ([ 'GET', sub { current($O) } ], [ 'PATCH', sub { patch($O, { name => 'x' }) } ],
		[ 'DELETE', sub { delete_($O) } ]) {
		$r = $c->[1]->();
		is($r->{status}, 403, "$c->[0] /v1/orgs/current without an active org: 403");
		is($r->{json}{code}, 'NO_ACTIVE_ORGANIZATION', 'NO_ACTIVE_ORGANIZATION');
	}
};

my $acme;
subtest 'POST /v1/orgs creates, owner, active org, audited' => sub {
	my $r = create($O, { name => 'Acme Corp', slug => slug('acme') });
	is($r->{status}, 201, 'status 201') or diag $r->{body};
	like(hdr($r, 'Content-Type'), qr{^application/json}, 'JSON');
	$acme = $r->{json};
	is_deeply([ sort keys %$acme ], \@ORG_KEYS, 'exactly {id,name,slug,role,createdAt}');
	like($acme->{id}, qr/^[A-Za-z0-9]{32}$/, 'id: 32 alnum');
	is($acme->{name}, 'Acme Corp', 'name');
	is($acme->{slug}, slug('acme'), 'slug as given');
	is($acme->{role}, 'owner', 'the creator is owner');
	like($acme->{createdAt}, $ISO, 'createdAt ISO with ms');

	is(active_org_of($O), $acme->{id}, "it is the session's activeOrganizationId");
	$r = current($O);
	is($r->{status}, 200, 'GET /v1/orgs/current: 200') or diag $r->{body};
	is_deeply($r->{json}, $acme, 'the same Org');
	$r = mine($O);
	is_deeply($r->{json}{items}, [$acme], '/v1/orgs/me lists it');
	ok(exists $r->{json}{nextCursor} && !defined $r->{json}{nextCursor}, 'nextCursor null');

	is(psql(sprintf(q{SELECT role FROM member WHERE "organizationId" = %s AND "userId" = %s
		AND "removedAt" IS NULL}, sql_quote($acme->{id}), sql_quote($owner->{user}{id}))),
		'owner', 'member row: owner');
	my $ev = events($acme->{id});
	is(scalar @$ev, 1, 'one audit event');
	is($ev->[0]{action}, 'org.created', 'action org.created');
	is($ev->[0]{actor_id}, $owner->{user}{id}, 'actor: the creator');
	is($ev->[0]{org_id}, $acme->{id}, 'org: the new org');
	is($ev->[0]{target_type}, 'organization', 'target type');
	is($ev->[0]{target_id}, $acme->{id}, 'target id');
	is($ev->[0]{prev_hash}, '0' x 64, 'first event of the chain');
	is_deeply(head_of($acme->{id}), [ 1, $ev->[0]{hash} ], 'chain head at the event');
};

subtest 'slug derived from the name' => sub {
	my $g = new_org($owner, "Hello, World!  $RUN ");
	is($g->{slug}, "hello-world-$RUN", 'lowercased, runs of others one dash, trimmed');
	is($g->{name}, "Hello, World!  $RUN", 'name trimmed of surrounding space');
	my $g2 = new_org($owner, "hello world $RUN");
	like($g2->{slug}, qr/^hello-world-$RUN-[a-z0-9]{6}$/, 'a taken derived slug gets a suffix');
	isnt($g2->{id}, $g->{id}, 'a second org');
	my $s = new_org($owner, '!!')->{slug};
	like($s, qr/^org-[a-z0-9]{6}$/, "nothing usable in the name: org-... ($s)");
	$s = new_org($owner, "\x{65e5}\x{672c}")->{slug};
	like($s, qr/^org-[a-z0-9]{6}$/, "non-ASCII name: org-... ($s)");
	$s = new_org($owner, 'Q')->{slug};
	like($s, qr/^q-[a-z0-9]{6}$/, "one character: padded ($s)");
	$s = new_org($owner, ('Long' x 30) . $RUN)->{slug};
	ok(length($s) >= 2 && length($s) <= 48 && $s =~ /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])$/,
		"a long name gives a valid slug ($s)");
	is(new_org($owner, "\x{e9}" x 128, slug('e128'))->{name}, "\x{e9}" x 128,
		'128 two-byte characters: 201');
	is(new_org($owner, 'n' x 128, slug('n128'))->{name}, 'n' x 128, '128 characters: 201');
	is(switch($O, $acme->{id})->{status}, 200, 'back to acme');
};

subtest 'POST /v1/orgs bad input: 4xx naming the field, nothing created' => sub {
	my $before = count_rows(sprintf(q{SELECT count(*) FROM member WHERE "userId" = %s},
		sql_quote($owner->{user}{id})));
	my @cases = (
		[ {}, 400, 'name', 'no name' ],
		[ { name => undef }, 400, 'name', 'name null' ],
		(map { [ { name => $_ }, 400, 'name', 'name ' . desc($_) ] }
			1, 0, 1.5, JSON::PP::true, JSON::PP::false, [], ['a'], {}, { a => 'b' }),
		[ { name => '' }, 400, 'name', 'empty name' ],
		[ { name => "  \t " }, 400, 'name', 'blank name' ],
		[ { name => 'n' x 129 }, 400, 'name', 'name of 129 characters' ],
		[ { name => "\x{e9}" x 129 }, 400, 'name', 'name of 129 two-byte characters' ],
		[ { name => 'x' x 5000 }, 400, 'name', 'name of 5000 bytes' ],
		[ { name => "a\x01b" }, 400, 'name', 'control character in name' ],
		[ { name => "a\nb" }, 400, 'name', 'newline in name' ],
		(map { [ { name => 'Ok', slug => $_ }, 400, 'slug', 'slug ' . desc($_) ] }
			1, JSON::PP::true, [], {}, ['a-b']),
		(map { [ { name => 'Ok', slug => $_ }, 422, 'slug', 'slug ' . desc($_) ] }
			'', 'a', 'A1', 'Ab', '-ab', 'ab-', 'a_b', 'a b', 'a.b', "ab\x{e9}", 'x' x 49,
			' ab', 'ab ', "ab\n", '--'),
	);
	for my $c (@cases) {
		my ($body, $status, $field, $what) = @$c;
		my $r = create($O, $body);
		is($r->{status}, $status, "$what: $status") or diag $r->{body};
		is($r->{json}{field}, $field, "$what: field $field");
		like($r->{json}{code} // '', qr/^[A-Z_]+$/, "$what: error code");
	}
	my $r = create($O, { name => 'Dup', slug => slug('acme') });
	is($r->{status}, 409, 'a taken slug: 409') or diag $r->{body};
	is($r->{json}{code}, 'SLUG_TAKEN', 'SLUG_TAKEN');
	is($r->{json}{field}, 'slug', 'field slug');
	is(create($O, { name => 'Max', slug => 'm' . ('-' x 46) . $RUN =~ s/^(.).*/$1/r })->{status},
		201, 'slug of 48 with dashes inside: 201');
	is(create($O, { name => 'Two', slug => 'z' . substr($RUN, 0, 1) . substr($RUN, -1) })->{status},
		201, 'short slug: 201');

	$r = req('POST', '/v1/orgs', { cookie => $O, origin => 1, body => 'name=x',
		headers => { 'Content-Type' => 'application/x-www-form-urlencoded' } });
	is($r->{status}, 415, 'not JSON: 415');
	$r = req('POST', '/v1/orgs', { cookie => $O, origin => 1, json => '{"name":' });
	is($r->{status}, 400, 'broken JSON: 400');
	$r = req('POST', '/v1/orgs', { cookie => $O, origin => 1, json => '["x"]' });
	is($r->{status}, 400, 'a JSON array: 400');
	$r = req('POST', '/v1/orgs', { cookie => $O, origin => 1, body => '' });
	is($r->{status}, 400, 'no body: 400 (name is required)');
	$r = req('POST', '/v1/orgs', { cookie => $O, json => { name => 'CSRF' } });
	is($r->{status}, 403, 'no Origin with a cookie: 403');
	is($r->{json}{code}, 'MISSING_OR_NULL_ORIGIN', 'MISSING_OR_NULL_ORIGIN');
	is(count_rows(sprintf(q{SELECT count(*) FROM member WHERE "userId" = %s},
		sql_quote($owner->{user}{id}))), $before + 2, 'only the two good requests created orgs');
	is(switch($O, $acme->{id})->{status}, 200, 'back to acme');
};

subtest 'missing or bad credential: 401 on every route' => sub {
	for my $c ([ 'GET', '/v1/orgs/me' ], [ 'POST', '/v1/orgs', { name => 'x' } ],
		[ 'GET', '/v1/orgs/current' ], [ 'POST', '/v1/orgs/current', { orgId => $acme->{id} } ],
		[ 'PATCH', '/v1/orgs/current', { name => 'x' } ], [ 'DELETE', '/v1/orgs/current' ]) {
		my ($m, $p, $j) = @$c;
		my $r = req($m, $p, { (defined $j ? (json => $j) : ()) });
		is($r->{status}, 401, "$m $p without a credential: 401");
		like($r->{json}{code} // '', qr/^[A-Z_]+$/, 'error code');
		(my $bad = $O) =~ s/.$/$& eq 'A' ? 'B' : 'A'/e;
		$r = req($m, $p, { cookie => $bad, origin => 1, (defined $j ? (json => $j) : ()) });
		is($r->{status}, 401, "$m $p with a tampered cookie: 401");
	}
	is(current($O)->{json}{name}, 'Acme Corp', 'nothing changed');
};

# Three more people, seated in acme with a role each, switched to it.
my %P;
for my $role (qw(admin engineer viewer)) {
	$P{$role} = signup(tag => "orgs-$role", name => ucfirst $role);
	$P{$role}{member_id} = seat($acme->{id}, $P{$role}{user}{id}, $role);
}

subtest 'POST /v1/orgs/current switches, for members only' => sub {
	for my $role (qw(admin engineer viewer)) {
		my $c = $P{$role}{cookie};
		my $r = current($c);
		is($r->{status}, 403, "$role before switching: 403");
		is($r->{json}{code}, 'NO_ACTIVE_ORGANIZATION', 'NO_ACTIVE_ORGANIZATION');
		$r = switch($c, $acme->{id});
		is($r->{status}, 200, "$role switches to acme: 200") or diag $r->{body};
		is_deeply([ sort keys %{ $r->{json} } ], \@ORG_KEYS, 'an Org');
		is($r->{json}{id}, $acme->{id}, 'acme');
		is($r->{json}{role}, $role, "role $role");
		is(active_org_of($c), $acme->{id}, 'stored on the session');
		is(current($c)->{json}{role}, $role, "GET current: role $role");
		my $m = mine($c)->{json}{items};
		is_deeply([ map { "$_->{id}:$_->{role}" } @$m ], ["$acme->{id}:$role"],
			'/v1/orgs/me: acme, with the role');
	}

	my $other = signup(tag => 'orgs-other', name => 'Other Owner');
	my $foreign = new_org($other, 'Foreign Inc', slug('foreign'));
	my $r = switch($O, $foreign->{id});
	is($r->{status}, 404, "another org's id: 404");
	my $missing = switch($O, 'Z' x 32);
	is($missing->{status}, 404, 'an id of no org: 404');
	is($r->{json}{code}, $missing->{json}{code}, 'the same code for both');
	is($r->{json}{message}, $missing->{json}{message}, 'the same message for both');
	is(switch($O, '')->{status}, 404, 'an empty id: 404');
	is(switch($O, 'x' x 5000)->{status}, 404, 'a long id: 404');
	is(switch($O, "\x{e9}\x{1F600}")->{status}, 404, 'a unicode id: 404');
	is(active_org_of($O), $acme->{id}, 'the session kept acme');
	is(current($other->{cookie})->{json}{id}, $foreign->{id}, 'the other owner is untouched');

	for my $v (undef, 1, JSON::PP::true, [], {}, [ $acme->{id} ]) {
		$r = write_('POST', $O, '/v1/orgs/current', { orgId => $v });
		is($r->{status}, 400, 'orgId ' . desc($v) . ': 400');
		is($r->{json}{field}, 'orgId', 'field orgId');
	}
	$r = write_('POST', $O, '/v1/orgs/current', {});
	is($r->{status}, 400, 'no orgId: 400');
	$r = req('POST', '/v1/orgs/current', { cookie => $O, origin => 1, body => '' });
	is($r->{status}, 400, 'no body: 400');
	$r = req('POST', '/v1/orgs/current', { cookie => $O, json => { orgId => $acme->{id} } });
	is($r->{status}, 403, 'no Origin with a cookie: 403');

	# Another device of the owner: its own active org.
	my $O2 = sign_in($owner);
	ok(!defined active_org_of($O2), 'a new session starts without an active org');
	my $beta = new_org($owner, 'Beta', slug('beta'));    # on the first session
	is(active_org_of($O), $beta->{id}, 'first session: beta (just created)');
	ok(!defined active_org_of($O2), 'second session: still none');
	is(switch($O2, $acme->{id})->{status}, 200, 'second session switches to acme');
	is(active_org_of($O2), $acme->{id}, 'second session: acme');
	is(active_org_of($O), $beta->{id}, 'first session: still beta');
	is(current($O)->{json}{id}, $beta->{id}, 'GET current follows each session');
	is(current($O2)->{json}{id}, $acme->{id}, '... on both');
	is(switch($O, $acme->{id})->{json}{id}, $acme->{id}, 'first session back to acme');
	$r = mine($O);
	my %ids = map { $_->{id} => $_->{role} } @{ $r->{json}{items} };
	ok($ids{ $acme->{id} } && $ids{ $beta->{id} } && !$ids{ $foreign->{id} },
		'/v1/orgs/me: mine, not the foreign one');
	ok(!grep({ $_ ne 'owner' } values %ids), 'owner of all of them');
	is(count_rows(sprintf(q{SELECT count(*) FROM audit_event WHERE org_id = %s
		AND action NOT IN ('org.created')}, sql_quote($acme->{id}))), 0,
		'switching writes no org change');
};

subtest 'GET /v1/orgs/current for every role' => sub {
	for my $role (qw(admin engineer viewer)) {
		my $r = current($P{$role}{cookie});
		is($r->{status}, 200, "$role: 200");
		is($r->{json}{role}, $role, "role $role");
		is($r->{json}{name}, 'Acme Corp', 'name');
	}
};

subtest 'PATCH /v1/orgs/current' => sub {
	my $h0 = head_of($acme->{id});
	my $r = patch($O, { name => 'Acme Industries' });
	is($r->{status}, 200, 'owner renames: 200') or diag $r->{body};
	is_deeply([ sort keys %{ $r->{json} } ], \@ORG_KEYS, 'an Org');
	is($r->{json}{name}, 'Acme Industries', 'new name');
	is($r->{json}{slug}, slug('acme'), 'slug untouched');
	is($r->{json}{role}, 'owner', 'role owner');
	is($r->{json}{createdAt}, $acme->{createdAt}, 'createdAt untouched');
	is(current($P{viewer}{cookie})->{json}{name}, 'Acme Industries', 'members see it');
	my $ev = events($acme->{id});
	my $last = $ev->[-1];
	is($last->{action}, 'org.updated', 'audit: org.updated');
	is($last->{actor_id}, $owner->{user}{id}, 'audit: actor');
	is($last->{org_id}, $acme->{id}, 'audit: org');
	is($last->{target_id}, $acme->{id}, 'audit: target');
	is_deeply(JSON::PP->new->decode($last->{metadata}),
		{ name => { from => 'Acme Corp', to => 'Acme Industries' } }, 'audit: from and to');
	is($last->{seq}, $h0->[0] + 1, 'the chain grew by one');
	is($last->{prev_hash}, $h0->[1], 'prevHash is the previous head');
	is_deeply(head_of($acme->{id}), [ $last->{seq}, $last->{hash} ], 'head advanced');

	$r = patch($P{admin}{cookie}, { slug => slug('acme-ind'), name => 'Acme Ind.' });
	is($r->{status}, 200, 'admin changes slug and name: 200') or diag $r->{body};
	is($r->{json}{slug}, slug('acme-ind'), 'new slug');
	is($r->{json}{role}, 'admin', 'role admin');
	$last = events($acme->{id})->[-1];
	is($last->{actor_id}, $P{admin}{user}{id}, 'audit: the admin acted');
	is_deeply(JSON::PP->new->decode($last->{metadata}),
		{ name => { from => 'Acme Industries', to => 'Acme Ind.' },
		  slug => { from => slug('acme'), to => slug('acme-ind') } }, 'audit: both fields');

	for my $role (qw(engineer viewer)) {
		$r = patch($P{$role}{cookie}, { name => "by $role" });
		is($r->{status}, 403, "$role: 403");
		is($r->{json}{code}, 'FORBIDDEN', 'FORBIDDEN');
	}
	is(current($O)->{json}{name}, 'Acme Ind.', 'unchanged by them');

	my $n = scalar @{ events($acme->{id}) };
	$r = patch($O, {});
	is($r->{status}, 200, '{}: 200');
	is($r->{json}{name}, 'Acme Ind.', 'unchanged');
	$r = req('PATCH', '/v1/orgs/current', { cookie => $O, origin => 1, body => '' });
	is($r->{status}, 200, 'empty body: 200');
	is(scalar @{ events($acme->{id}) }, $n, 'no event for no change');
	$r = patch($O, { slug => slug('acme-ind') });
	is($r->{status}, 200, 'its own slug again: 200');

	my $beta_slug = slug('beta');
	for my $c (
		[ { slug => $beta_slug }, 409, 'slug', 'slug of another org' ],
		[ { name => '' }, 400, 'name', 'empty name' ],
		[ { name => ' ' }, 400, 'name', 'blank name' ],
		[ { name => 'n' x 129 }, 400, 'name', 'name of 129' ],
		[ { name => "x\x{7f}" }, 400, 'name', 'DEL in name' ],
		(map { [ { name => $_ }, 400, 'name', 'name ' . desc($_) ] } 1, JSON::PP::false, [], {}),
		(map { [ { slug => $_ }, 400, 'slug', 'slug ' . desc($_) ] } 7, JSON::PP::true, [], {}),
		(map { [ { slug => $_ }, 422, 'slug', 'slug ' . desc($_) ] } '', 'A', 'Acme', '-x', 'x-',
			'x' x 49),
		[ { name => 'Good', slug => 'Bad!' }, 422, 'slug', 'one bad field refuses all' ],
	) {
		my ($body, $status, $field, $what) = @$c;
		$r = patch($O, $body);
		is($r->{status}, $status, "$what: $status") or diag $r->{body};
		is($r->{json}{field}, $field, "$what: field $field");
	}
	is(scalar @{ events($acme->{id}) }, $n + 1, 'only the good PATCH wrote an event');
	$r = current($O);
	is($r->{json}{name}, 'Acme Ind.', 'name kept');
	is($r->{json}{slug}, slug('acme-ind'), 'slug kept');

	$r = req('PATCH', '/v1/orgs/current', { cookie => $O, json => { name => 'CSRF' } });
	is($r->{status}, 403, 'no Origin with a cookie: 403');
	$r = req('PATCH', '/v1/orgs/current', { cookie => $O, origin => 'http://evil.example',
		json => { name => 'CSRF' } });
	is($r->{status}, 403, 'untrusted Origin: 403');
	is(current($O)->{json}{name}, 'Acme Ind.', 'not renamed');
};

subtest 'userId, orgId and role in a body change nothing of who acts' => sub {
	my $victim = signup(tag => 'orgs-victim', name => 'Victim');
	my $vorg = new_org($victim, 'Victim Org', slug('victim'));

	# The viewer claims to be the victim, owner, in the victim's org.
	my $r = patch($P{viewer}{cookie}, { name => 'pwned', orgId => $vorg->{id}, role => 'owner',
		userId => $victim->{user}{id} });
	is($r->{status}, 403, 'a viewer stays a viewer: 403');
	is(current($victim->{cookie})->{json}{name}, 'Victim Org', "the victim's org is untouched");

	# The owner names another org: their own active org changes.
	$r = patch($O, { name => 'Acme Again', orgId => $vorg->{id}, role => 'viewer',
		userId => $victim->{user}{id} });
	is($r->{status}, 200, 'owner PATCH with foreign ids: 200');
	is($r->{json}{id}, $acme->{id}, 'it changed the active org');
	is($r->{json}{role}, 'owner', 'role from the membership');
	is(current($victim->{cookie})->{json}{name}, 'Victim Org', 'not the named one');
	is(events($acme->{id})->[-1]{actor_id}, $owner->{user}{id}, 'audited as the caller');
	is(scalar @{ events($vorg->{id}) }, 1, "nothing in the victim's trail but its creation");

	# Create with someone else's ids: the caller owns it, in the new org.
	$r = create($P{viewer}{cookie}, { name => 'Mine', slug => slug('mine'),
		userId => $victim->{user}{id}, orgId => $vorg->{id}, role => 'viewer' });
	is($r->{status}, 201, 'create with foreign ids: 201') or diag $r->{body};
	my $mine = $r->{json};
	is($mine->{role}, 'owner', 'the caller is owner');
	is(psql(sprintf(q{SELECT string_agg("userId" || ':' || role, ',') FROM member
		WHERE "organizationId" = %s}, sql_quote($mine->{id}))),
		"$P{viewer}{user}{id}:owner", 'one member: the caller, owner');
	my $ev = events($mine->{id});
	is($ev->[0]{actor_id}, $P{viewer}{user}{id}, 'audit actor: the caller');
	is($ev->[0]{org_id}, $mine->{id}, 'audit org: the new org');
	is(scalar @{ events($vorg->{id}) }, 1, "still nothing in the victim's trail");
	is(switch($P{viewer}{cookie}, $acme->{id})->{status}, 200, 'viewer back to acme');

	# Switch names the target org only through orgId; role/userId do not help.
	$r = write_('POST', $P{viewer}{cookie}, '/v1/orgs/current',
		{ orgId => $vorg->{id}, userId => $victim->{user}{id}, role => 'owner' });
	is($r->{status}, 404, "switching into the victim's org with their userId: 404");
	is(active_org_of($P{viewer}{cookie}), $acme->{id}, 'still acme');
};

subtest 'a removed member loses the org on the very next request' => sub {
	my $c = $P{engineer}{cookie};
	is(current($c)->{status}, 200, 'engineer: 200 before');
	psql(sprintf(q{UPDATE member SET "removedAt" = now() WHERE id = %s},
		sql_quote($P{engineer}{member_id})));
	my $r = current($c);
	is($r->{status}, 403, 'the next request: 403');
	is($r->{json}{code}, 'NOT_A_MEMBER', 'NOT_A_MEMBER');
	$r = patch($c, { name => 'x' });
	is($r->{json}{code}, 'NOT_A_MEMBER', 'PATCH: NOT_A_MEMBER');
	is_deeply(mine($c)->{json}{items}, [], 'gone from /v1/orgs/me');
	is(switch($c, $acme->{id})->{status}, 404, 'cannot switch back: 404');
	psql(sprintf(q{UPDATE member SET "removedAt" = NULL WHERE id = %s},
		sql_quote($P{engineer}{member_id})));
	is(current($c)->{status}, 200, 'restored: 200 again');
};

subtest 'DELETE /v1/orgs/current: wrong roles' => sub {
	for my $role (qw(admin engineer viewer)) {
		my $r = delete_($P{$role}{cookie});
		is($r->{status}, 403, "$role: 403");
		is($r->{json}{code}, 'FORBIDDEN', 'FORBIDDEN');
	}
	my $r = req('DELETE', '/v1/orgs/current', { cookie => $O });
	is($r->{status}, 403, 'owner without Origin: 403');
	is(current($O)->{status}, 200, 'acme still there');
};

subtest 'the audit trail fails closed' => sub {
	my $poison = signup(tag => 'orgs-poison', name => 'Poison');
	my $PC = $poison->{cookie};
	my $porg = new_org($poison, 'Poisoned', slug('poison'));
	my $fn = "shush_test_orgs_fail_$$";
	my $uid = sql_quote($poison->{user}{id});
	psql(qq{CREATE FUNCTION $fn() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
		IF NEW.actor_id = $uid THEN RAISE EXCEPTION 'audit refused by test'; END IF;
		RETURN NEW; END \$\$});
	psql(qq{CREATE TRIGGER $fn BEFORE INSERT ON audit_event FOR EACH ROW EXECUTE FUNCTION $fn()});
	my $ok = eval {
		my $r = create($PC, { name => 'Never', slug => slug('never') });
		is($r->{status}, 500, 'create: 500 when the event cannot be written');
		ok(defined $r->{json}{requestId}, '500 carries the requestId');
		is(count_rows(sprintf('SELECT count(*) FROM organization WHERE slug = %s',
			sql_quote(slug('never')))), 0, 'no org was created');
		is(active_org_of($PC), $porg->{id}, 'the session still has its org');

		$r = patch($PC, { name => 'Renamed' });
		is($r->{status}, 500, 'PATCH: 500');
		is(current($PC)->{json}{name}, 'Poisoned', 'the name was not changed');

		$r = delete_($PC);
		is($r->{status}, 500, 'DELETE: 500');
		$r = current($PC);
		is($r->{status}, 200, 'the org is still there');
		is(count_rows(sprintf(q{SELECT count(*) FROM member WHERE "organizationId" = %s},
			sql_quote($porg->{id}))), 1, 'its member too');
		1;
	};
	my $err = $@;
	psql("DROP TRIGGER IF EXISTS $fn ON audit_event");
	psql("DROP FUNCTION IF EXISTS $fn()");
	die $err unless $ok;
	is(patch($PC, { name => 'Renamed' })->{status}, 200, 'with the audit back: 200');
	is(delete_($PC)->{status}, 204, 'and DELETE works');
};

subtest 'DELETE /v1/orgs/current by the owner: gone for everyone at once' => sub {
	my $O2 = sign_in($owner);
	is(switch($O2, $acme->{id})->{status}, 200, "the owner's second session on acme too");
	my $id = $acme->{id};
	my $r = delete_($O);
	is($r->{status}, 204, 'status 204') or diag $r->{body};
	is($r->{body}, '', 'no body');

	for my $who ([ 'owner', $O ], [ 'owner, other session', $O2 ],
		map { [ $_, $P{$_}{cookie} ] } qw(admin engineer viewer)) {
		my ($w, $c) = @$who;
		$r = current($c);
		is($r->{status}, 403, "$w: GET current 403");
		like($r->{json}{code}, qr/^(?:NO_ACTIVE_ORGANIZATION|NOT_A_MEMBER)$/, "$w: $r->{json}{code}");
		is(patch($c, { name => 'ghost' })->{status}, 403, "$w: PATCH 403");
		is(delete_($c)->{status}, 403, "$w: DELETE 403");
		ok(!defined active_org_of($c), "$w: the session has no active org");
		ok(!grep({ $_->{id} eq $id } @{ mine($c)->{json}{items} }), "$w: gone from /v1/orgs/me");
		is(switch($c, $id)->{status}, 404, "$w: switching to it: 404");
	}
	my $q = sql_quote($id);
	is(count_rows("SELECT count(*) FROM organization WHERE id = $q"), 0, 'org row gone');
	is(count_rows(qq{SELECT count(*) FROM member WHERE "organizationId" = $q}), 0, 'members gone');
	is(count_rows("SELECT count(*) FROM audit_event WHERE org_id = $q"), 0, 'its audit trail gone');
	is(count_rows("SELECT count(*) FROM audit_head WHERE org_id = $q"), 0, 'its chain head gone');
	is(count_rows(qq{SELECT count(*) FROM session WHERE "activeOrganizationId" = $q}), 0,
		'no session points at it');
	is(create($O, { name => 'Reborn', slug => slug('acme-ind') })->{status}, 201,
		'its slug is free again');
};

done_testing;
