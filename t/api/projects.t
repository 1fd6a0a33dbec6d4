#!/usr/bin/perl
# /v1/projects: list, fetch, create (default environments), delete
# (REFERENCE.md "Projects", API.md §3, §4).
use strict;
use warnings;
BEGIN { unless ($ENV{SHUSH_URL}) { print "1..0 # SKIP no stack\n"; exit 0 } }
use FindBin qw($Bin);
use lib $Bin;
use ApiTest;
use ProjTest;
use JSON::PP ();
use Test::More;

my $ISO = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
my $RUN = run_tag();
my $T = team('proj');
my ($O, $A, $E, $V, $F) = map { $T->{$_}{cookie} } qw(owner admin engineer viewer foreign);
my @KEYS = sort qw(id name slug description createdAt environments);

my $p;
subtest 'POST /v1/projects: 201 Project with the default environments, audited' => sub {
	my $r = write_('POST', $A, '/v1/projects',
		{ name => '  Payments API ', slug => "payments-$RUN", description => "Cards\nand wallets" });
	is($r->{status}, 201, 'status 201') or diag $r->{body};
	$p = $r->{json};
	is_deeply([ sort keys %$p ], \@KEYS, 'exactly the Project keys');
	like($p->{id}, qr/^[A-Za-z0-9]{32}$/, 'id');
	is($p->{name}, 'Payments API', 'name trimmed');
	is($p->{slug}, "payments-$RUN", 'slug as given');
	is($p->{description}, "Cards\nand wallets", 'description (newlines allowed)');
	like($p->{createdAt}, $ISO, 'createdAt');
	is_deeply([ map { [ $_->{slug}, $_->{name}, $_->{parents} ] } @{ $p->{environments} } ],
		[ [ 'development', 'Development', [] ], [ 'staging', 'Staging', [] ],
		  [ 'production', 'Production', [] ] ], 'development, staging, production; no parents');
	like($_->{id}, qr/^[A-Za-z0-9]{32}$/, "environment $_->{slug} has an id") for @{ $p->{environments} };
	is_deeply([ sort keys %{ $p->{environments}[0] } ], [ sort qw(id slug name parents) ],
		'Environment keys');
	my $ev = events($T->{org}, 'project.created');
	is(scalar @$ev, 1, 'one project.created event');
	is($ev->[0]{target_id}, $p->{id}, 'target: the project');
	is($ev->[0]{project_id}, $p->{id}, 'project_id set');
	is_deeply(JSON::PP::decode_json($ev->[0]{metadata}), { name => 'Payments API', slug => "payments-$RUN" },
		'metadata {name, slug}');
};

subtest 'slug: derived, suffixed when taken, 409 when a given one is taken' => sub {
	my $a = new_project($O, name => "Web App $RUN");
	is($a->{slug}, "web-app-$RUN", 'derived from name');
	is($a->{description}, undef, 'no description: null');
	my $b = new_project($O, name => "Web App $RUN", description => '   ');
	like($b->{slug}, qr/^web-app-$RUN-[a-z0-9]{6}$/, 'derived and taken: random suffix');
	is($b->{description}, undef, 'blank description: null');
	my $c = new_project($O, name => "\x{65e5}\x{672c}");
	like($c->{slug}, qr/^project-[a-z0-9]{6}$/, 'nothing usable in the name: project-…');
	my $r = write_('POST', $O, '/v1/projects', { name => 'Again', slug => "payments-$RUN" });
	is($r->{status}, 409, 'given slug taken: 409');
	is($r->{json}{code}, 'SLUG_TAKEN', 'SLUG_TAKEN');
	is($r->{json}{field}, 'slug', 'field slug');
	# the same slug in another org is fine
	my $f = new_project($F, name => 'Theirs', slug => "payments-$RUN");
	is($f->{slug}, "payments-$RUN", 'the same slug in another org: 201');
};

subtest 'POST /v1/projects: bad input' => sub {
	for my $c ([ {}, 400, 'VALIDATION_ERROR', 'name' ], [ { name => '' }, 400, 'VALIDATION_ERROR', 'name' ],
		[ { name => '   ' }, 400, 'VALIDATION_ERROR', 'name' ], [ { name => 5 }, 400, 'VALIDATION_ERROR', 'name' ],
		[ { name => 'x' x 129 }, 400, 'VALIDATION_ERROR', 'name' ],
		[ { name => "a\x01b" }, 400, 'VALIDATION_ERROR', 'name' ],
		[ { name => 'ok', slug => 7 }, 400, 'VALIDATION_ERROR', 'slug' ],
		[ { name => 'ok', slug => 'Bad Slug' }, 422, 'INVALID_SLUG', 'slug' ],
		[ { name => 'ok', slug => 'a' }, 422, 'INVALID_SLUG', 'slug' ],
		[ { name => 'ok', slug => '-ab' }, 422, 'INVALID_SLUG', 'slug' ],
		[ { name => 'ok', description => [] }, 400, 'VALIDATION_ERROR', 'description' ],
		[ { name => 'ok', description => 'd' x 1025 }, 400, 'VALIDATION_ERROR', 'description' ]) {
		my ($body, $st, $code, $field) = @$c;
		my $r = write_('POST', $O, '/v1/projects', $body);
		is($r->{status}, $st, json_enc($body) . ": $st") or diag $r->{body};
		is($r->{json}{code}, $code, "  $code");
		is($r->{json}{field}, $field, "  field $field");
	}
	my $r = write_('POST', $O, '/v1/projects', '[1]');
	is($r->{status}, 400, 'a JSON array body: 400');
	$r = write_('POST', $O, '/v1/projects', '{"name":');
	is($r->{status}, 400, 'malformed JSON: 400');
	$r = write_('POST', $O, '/v1/projects', { name => 'x' x 128 });
	is($r->{status}, 201, '128 characters: 201');
	$r = write_('POST', $O, '/v1/projects', { name => "\x{e9}" x 128 });
	is($r->{status}, 201, '128 non-ASCII characters: 201') or diag $r->{body};
};

subtest 'GET /v1/projects/:projectId' => sub {
	my $r = get_($V, "/v1/projects/$p->{id}");
	is($r->{status}, 200, 'viewer: 200') or diag $r->{body};
	is_deeply($r->{json}, $p, 'the same Project as created');
	$r = get_($O, '/v1/projects/' . rid());
	is($r->{status}, 404, 'missing: 404');
	is($r->{json}{code}, 'NOT_FOUND', 'NOT_FOUND');
	my $missing = $r;
	$r = get_($F, "/v1/projects/$p->{id}");
	is($r->{status}, 404, "another org's owner: 404");
	is_deeply($r->{json}, $missing->{json}, 'exactly like a missing one');
	for my $odd ('%FF%FE', 'x' x 300, 'a%27b', 'a%00b') {
		$r = get_($O, "/v1/projects/$odd");
		ok($r->{status} == 404 || $r->{status} == 400, "odd id $odd: 404/400, no 5xx")
			or diag $r->{body};
	}
	$r = get_(undef, "/v1/projects/$p->{id}");
	is($r->{status}, 401, 'no credential: 401');
};

subtest 'GET /v1/projects: keyset pages, oldest first, only this org' => sub {
	my $t = team('projlist');
	my @made = map { new_project($t->{owner}{cookie}, name => "L$_") } 1 .. 5;
	new_project($t->{foreign}{cookie}, name => 'Not yours');
	my $r = get_($t->{viewer}{cookie}, '/v1/projects');
	is($r->{status}, 200, 'viewer: 200') or diag $r->{body};
	is_deeply($r->{json}{items}, \@made, 'all five, oldest first, full Project objects');
	ok(exists $r->{json}{nextCursor} && !defined $r->{json}{nextCursor}, 'nextCursor null');
	my (@seen, $cur);
	for my $i (1 .. 5) {
		$r = get_($t->{owner}{cookie}, '/v1/projects?limit=2' . (defined $cur ? "&cursor=$cur" : ''));
		is($r->{status}, 200, "page $i: 200") or last;
		push @seen, @{ $r->{json}{items} };
		$cur = $r->{json}{nextCursor};
		last unless defined $cur;
	}
	is_deeply([ map { $_->{id} } @seen ], [ map { $_->{id} } @made ], 'pages of 2 give all five once, in order');
	# a project created between pages appears at the end
	$r = get_($t->{owner}{cookie}, '/v1/projects?limit=3');
	my $late = new_project($t->{owner}{cookie}, name => 'Late');
	my $r2 = get_($t->{owner}{cookie}, "/v1/projects?limit=3&cursor=$r->{json}{nextCursor}");
	is_deeply([ map { $_->{id} } @{ $r->{json}{items} }, @{ $r2->{json}{items} } ],
		[ map { $_->{id} } @made, $late ], 'stable under an insert between pages');
	for my $q ('limit=0', 'limit=201', 'limit=x', 'cursor=%%%', 'cursor=bm9wZQ', 'cursor=' . ('A' x 600)) {
		$r = get_($t->{owner}{cookie}, "/v1/projects?$q");
		is($r->{status}, 400, "?$q: 400") or diag $r->{body};
	}
	$r = get_(undef, '/v1/projects');
	is($r->{status}, 401, 'no credential: 401');
	my $lone = signup(tag => 'proj-lone');
	$r = get_($lone->{cookie}, '/v1/projects');
	is($r->{status}, 403, 'no active org: 403');
	is($r->{json}{code}, 'NO_ACTIVE_ORGANIZATION', 'NO_ACTIVE_ORGANIZATION');
};

subtest 'roles: viewer and engineer cannot create or delete; 401 without a credential' => sub {
	for my $who ([ 'viewer', $V ], [ 'engineer', $E ]) {
		my $r = write_('POST', $who->[1], '/v1/projects', { name => 'Nope' });
		is($r->{status}, 403, "$who->[0] POST: 403");
		is($r->{json}{code}, 'FORBIDDEN', 'FORBIDDEN');
		$r = write_('DELETE', $who->[1], "/v1/projects/$p->{id}");
		is($r->{status}, 403, "$who->[0] DELETE: 403");
	}
	my $r = write_('POST', undef, '/v1/projects', { name => 'Nope' });
	is($r->{status}, 401, 'POST without a credential: 401');
	$r = write_('DELETE', undef, "/v1/projects/$p->{id}");
	is($r->{status}, 401, 'DELETE without a credential: 401');
	$r = req('POST', '/v1/projects', { cookie => $O, json => { name => 'No origin' } });
	is($r->{status}, 403, 'cookie without Origin: 403');
};

subtest 'DELETE /v1/projects/:projectId: 204, cascades, audited; foreign 404' => sub {
	my $d = new_project($O, name => 'Doomed');
	my $r = write_('POST', $O, "/v1/projects/$d->{id}/folders", { name => 'f' });
	my $fid = $r->{json}{id};
	psql(sprintf(q{INSERT INTO secret (id, org_id, project_id, key, folder_id) VALUES (%s, %s, %s, 'K', %s)},
		sql_quote(rid()), sql_quote($T->{org}), sql_quote($d->{id}), sql_quote($fid)));
	$r = write_('DELETE', $F, "/v1/projects/$d->{id}");
	is($r->{status}, 404, "another org's owner: 404");
	my $m = write_('DELETE', $F, '/v1/projects/' . rid());
	is_deeply($r->{json}, $m->{json}, 'exactly like a missing one');
	$r = write_('DELETE', $A, "/v1/projects/$d->{id}");
	is($r->{status}, 204, 'admin: 204') or diag $r->{body};
	is($r->{body}, '', 'no body');
	is(get_($O, "/v1/projects/$d->{id}")->{status}, 404, 'gone');
	for my $t (qw(project environment folder secret)) {
		my $col = $t eq 'project' ? 'id' : 'project_id';
		is(psql("SELECT count(*) FROM $t WHERE $col = " . sql_quote($d->{id})), '0', "no $t rows left");
	}
	my $ev = events($T->{org}, 'project.deleted');
	is(scalar @$ev, 1, 'one project.deleted event');
	is($ev->[0]{target_id}, $d->{id}, 'target: the project');
	is($ev->[0]{project_id}, $d->{id}, 'project_id set');
	$r = write_('DELETE', $A, "/v1/projects/$d->{id}");
	is($r->{status}, 404, 'again: 404');
};

subtest 'fail closed: no audit, no project' => sub {
	my $t = team('projfc');
	# An audit row that cannot be written: the chain head points nowhere.
	my $before = psql('SELECT count(*) FROM project WHERE org_id = ' . sql_quote($t->{org}));
	psql(q{CREATE OR REPLACE FUNCTION shush_test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN IF NEW.action LIKE 'project.%' AND NEW.org_id = } . sql_quote($t->{org})
		. q{ THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$});
	psql('DROP TRIGGER IF EXISTS shush_test_refuse_' . lc($RUN) . ' ON audit_event');
	psql('CREATE TRIGGER shush_test_refuse_' . lc($RUN)
		. ' BEFORE INSERT ON audit_event FOR EACH ROW EXECUTE FUNCTION shush_test_refuse_audit()');
	my $r = write_('POST', $t->{owner}{cookie}, '/v1/projects', { name => 'Unaudited' });
	my $keep = new_project($t->{foreign}{cookie}, name => 'Other org still works');
	psql('DROP TRIGGER shush_test_refuse_' . lc($RUN) . ' ON audit_event');
	is($r->{status}, 500, 'audit refused: 500');
	like($r->{json}{requestId} // '', qr/./, 'with requestId');
	is(psql('SELECT count(*) FROM project WHERE org_id = ' . sql_quote($t->{org})), $before,
		'no project was kept');
	ok($keep->{id}, 'unrelated orgs unaffected');
};

done_testing;
