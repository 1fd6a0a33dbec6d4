#!/usr/bin/perl
# /v1/projects/:projectId/environments: list and PATCH names and parents
# (REFERENCE.md "Environments", API.md §4); inheritance order and cycles.
use strict;
use warnings;
BEGIN { unless ($ENV{SHUSH_URL}) { print "1..0 # SKIP no stack\n"; exit 0 } }
use FindBin qw($Bin);
use lib $Bin;
use ApiTest;
use ProjTest;
use JSON::PP ();
use Test::More;

my $T = team('env');
my ($O, $A, $E, $V, $F) = map { $T->{$_}{cookie} } qw(owner admin engineer viewer foreign);

sub envs { my ($c, $pid) = @_; return get_($c, "/v1/projects/$pid/environments") }
sub patch { my ($c, $pid, $list) = @_; return write_('PATCH', $c, "/v1/projects/$pid/environments",
	ref $list eq 'ARRAY' ? { environments => $list } : $list) }
sub slugs_parents { return [ map { [ $_->{slug}, $_->{parents} ] } @{ $_[0] } ] }
sub generations {
	my ($pid) = @_;
	return { map { split /\|/ } split /\n/, psql('SELECT slug, generation FROM environment WHERE project_id = '
		. sql_quote($pid)) };
}

my $p = new_project($O, name => 'Env test');
my $P = $p->{id};

subtest 'GET: the defaults in position order' => sub {
	my $r = envs($V, $P);
	is($r->{status}, 200, 'viewer: 200') or diag $r->{body};
	is_deeply($r->{json}, { items => $p->{environments}, nextCursor => undef },
		'{items, nextCursor:null}, the project\'s environments');
	$r = envs($F, $P);
	is($r->{status}, 404, "another org's owner: 404");
	my $m = envs($F, rid());
	is_deeply($r->{json}, $m->{json}, 'exactly like a missing one');
	is(envs(undef, $P)->{status}, 401, 'no credential: 401');
};

subtest 'PATCH: parents, names, only the listed ones; generations bumped; audited' => sub {
	my $g0 = generations($P);
	my $r = patch($A, $P, [ { slug => 'staging', parents => ['production'] },
		{ slug => 'development', name => 'Dev', parents => [ 'staging', 'production' ] } ]);
	is($r->{status}, 200, 'admin: 200') or diag $r->{body};
	is_deeply([ sort keys %{ $r->{json} } ], [qw(items nextCursor)], '{items, nextCursor}');
	is_deeply(slugs_parents($r->{json}{items}),
		[ [ 'development', [ 'staging', 'production' ] ], [ 'staging', ['production'] ],
		  [ 'production', [] ] ], 'all environments, parents in the given order');
	is($r->{json}{items}[0]{name}, 'Dev', 'name changed');
	is($r->{json}{items}[1]{name}, 'Staging', 'a name not given is kept');
	is($r->{json}{items}[0]{id}, $p->{environments}[0]{id}, 'ids are kept');
	is_deeply(envs($O, $P)->{json}{items}, $r->{json}{items}, 'GET agrees');
	my $g1 = generations($P);
	ok($g1->{$_} > $g0->{$_}, "generation of $_ bumped") for sort keys %$g0;
	my $ev = events($T->{org}, 'environment.updated');
	is(scalar @$ev, 1, 'one environment.updated event');
	is($ev->[0]{project_id}, $P, 'project_id set');
	my $meta = JSON::PP::decode_json($ev->[0]{metadata});
	is_deeply([ map { $_->{slug} } @{ $meta->{changes} } ], [qw(staging development)], 'metadata names the changes');

	$r = patch($A, $P, [ { slug => 'production', name => 'Prod' } ]);
	is($r->{status}, 200, 'only a name: 200');
	is_deeply(slugs_parents($r->{json}{items})->[0], [ 'development', [ 'staging', 'production' ] ],
		'unlisted environments untouched');
	$r = patch($A, $P, [ { slug => 'development', parents => [] } ]);
	is_deeply($r->{json}{items}[0]{parents}, [], 'parents [] clears them');
	$r = patch($A, $P, [ { slug => 'development', parents => undef } ]);
	is($r->{status}, 200, 'parents null: unchanged');
	$r = patch($A, $P, []);
	is($r->{status}, 200, 'empty list: 200, nothing changes');
	is(scalar @{ events($T->{org}, 'environment.updated') }, 4, 'and no event for it (a listed environment with nothing new still is an event)');
};

subtest 'PATCH: a new slug creates the environment, appended' => sub {
	my $r = patch($O, $P, [ { slug => 'qa', parents => ['staging'] }, { slug => 'preview-1', name => 'Preview', parents => ['qa'] } ]);
	is($r->{status}, 200, 'status 200') or diag $r->{body};
	is_deeply([ map { $_->{slug} } @{ $r->{json}{items} } ],
		[qw(development staging production qa preview-1)], 'appended in order');
	is($r->{json}{items}[3]{name}, 'qa', 'name defaults to the slug');
	is($r->{json}{items}[4]{name}, 'Preview', 'given name');
	is_deeply($r->{json}{items}[4]{parents}, ['qa'], 'may name one created in the same PATCH');
	like($r->{json}{items}[3]{id}, qr/^[A-Za-z0-9]{32}$/, 'new id');
	is_deeply(get_($O, "/v1/projects/$P")->{json}{environments}, $r->{json}{items}, 'the Project shows them');
};

subtest 'PATCH: cycles are 422 ENVIRONMENT_CYCLE and nothing is written' => sub {
	my $q = new_project($O, name => 'Cycles')->{id};
	my $before = envs($O, $q)->{json};
	my $nev = scalar @{ events($T->{org}, 'environment.updated') };
	for my $c (
		[ 'self parent', [ { slug => 'staging', parents => ['staging'] } ] ],
		[ 'a -> b -> a in one PATCH', [ { slug => 'development', parents => ['staging'] },
			{ slug => 'staging', parents => ['development'] } ] ],
		[ 'three-cycle', [ { slug => 'development', parents => ['staging'] },
			{ slug => 'staging', parents => ['production'] }, { slug => 'production', parents => ['development'] } ] ],
		[ 'a cycle among new ones', [ { slug => 'x1', parents => ['x2'] }, { slug => 'x2', parents => ['x1'] } ] ],
	) {
		my $r = patch($A, $q, $c->[1]);
		is($r->{status}, 422, "$c->[0]: 422") or diag $r->{body};
		is($r->{json}{code}, 'ENVIRONMENT_CYCLE', '  ENVIRONMENT_CYCLE');
		is_deeply(envs($O, $q)->{json}, $before, '  nothing written');
	}
	# a -> b, then b -> a in a second PATCH
	my $r = patch($A, $q, [ { slug => 'development', parents => ['staging'] } ]);
	is($r->{status}, 200, 'development -> staging: 200');
	$before = envs($O, $q)->{json};
	$r = patch($A, $q, [ { slug => 'staging', parents => ['development'] } ]);
	is($r->{status}, 422, 'then staging -> development: 422');
	is($r->{json}{code}, 'ENVIRONMENT_CYCLE', 'ENVIRONMENT_CYCLE');
	like($r->{json}{message}, qr/cycle/i, 'message says cycle');
	is_deeply(envs($O, $q)->{json}, $before, 'nothing written');
	# a long chain e1 -> e2 -> … -> e20 is fine; closing it is a cycle
	my @chain = map { { slug => "e$_", parents => $_ < 20 ? [ 'e' . ($_ + 1) ] : [] } } 1 .. 20;
	$r = patch($A, $q, \@chain);
	is($r->{status}, 200, 'a chain of 20: 200') or diag $r->{body};
	$r = patch($A, $q, [ { slug => 'e20', parents => ['e1'] } ]);
	is($r->{status}, 422, 'closing the chain: 422');
	is($r->{json}{code}, 'ENVIRONMENT_CYCLE', 'ENVIRONMENT_CYCLE');
	# diamonds are not cycles
	$r = patch($A, $q, [ { slug => 'd1', parents => [ 'd2', 'd3' ] }, { slug => 'd2', parents => ['d4'] },
		{ slug => 'd3', parents => ['d4'] }, { slug => 'd4' } ]);
	is($r->{status}, 200, 'a diamond: 200') or diag $r->{body};
	is(scalar @{ events($T->{org}, 'environment.updated') }, $nev + 3, 'events only for what was written');
};

subtest 'inheritance order: depth first, parents in order, each once' => sub {
	# Checked through the database the way lib/projects.c resolves it would
	# be over-engineering here; the resolution is unit-tested (t/unit/projects.c).
	# This checks that the stored graph is the one PATCH was given.
	my $q = new_project($O, name => 'Order')->{id};
	my $r = patch($A, $q, [ { slug => 'production', parents => [] }, { slug => 'staging', parents => ['production'] },
		{ slug => 'development', parents => [ 'staging', 'production' ] } ]);
	is($r->{status}, 200, 'status 200');
	is(psql('SELECT array_to_string(parents, \',\') FROM environment WHERE project_id = ' . sql_quote($q)
		. q{ AND slug = 'development'}), 'staging,production', 'stored parents keep their order');
};

subtest 'PATCH: bad input' => sub {
	my $q = new_project($O, name => 'Bad input')->{id};
	my $before = envs($O, $q)->{json};
	for my $c (
		[ {}, 400, 'VALIDATION_ERROR', 'environments' ],
		[ { environments => {} }, 400, 'VALIDATION_ERROR', 'environments' ],
		[ { environments => 'x' }, 400, 'VALIDATION_ERROR', 'environments' ],
		[ [ 'staging' ], 400, 'VALIDATION_ERROR', 'environments[0]' ],
		[ [ {} ], 400, 'VALIDATION_ERROR', 'environments[0].slug' ],
		[ [ { slug => 5 } ], 400, 'VALIDATION_ERROR', 'environments[0].slug' ],
		[ [ { slug => 'Bad Slug' } ], 422, 'INVALID_SLUG', 'environments[0].slug' ],
		[ [ { slug => '-x' } ], 422, 'INVALID_SLUG', 'environments[0].slug' ],
		[ [ { slug => 'x' x 49 } ], 422, 'INVALID_SLUG', 'environments[0].slug' ],
		[ [ { slug => 'staging', name => '' } ], 400, 'VALIDATION_ERROR', 'environments[0].name' ],
		[ [ { slug => 'staging', name => 3 } ], 400, 'VALIDATION_ERROR', 'environments[0].name' ],
		[ [ { slug => 'staging', parents => 'production' } ], 400, 'VALIDATION_ERROR', 'environments[0].parents' ],
		[ [ { slug => 'staging', parents => [1] } ], 400, 'VALIDATION_ERROR', 'environments[0].parents[0]' ],
		[ [ { slug => 'staging', parents => [ 'production', 'production' ] } ], 422, 'VALIDATION_ERROR',
			'environments[0].parents[1]' ],
		[ [ { slug => 'staging', parents => ['nope'] } ], 422, 'UNKNOWN_ENVIRONMENT', 'environments[0].parents[0]' ],
		[ [ { slug => 'staging', parents => ['Bad Slug'] } ], 422, 'UNKNOWN_ENVIRONMENT', 'environments[0].parents[0]' ],
		[ [ { slug => 'staging' }, { slug => 'staging' } ], 422, 'VALIDATION_ERROR', 'environments[1].slug' ],
		[ [ map { { slug => "n$_" } } 1 .. 65 ], 422, 'TOO_MANY_ENVIRONMENTS', 'environments' ],
		[ [ map { { slug => "n$_" } } 1 .. 62 ], 422, 'TOO_MANY_ENVIRONMENTS', 'environments[61].slug' ],
	) {
		my ($body, $st, $code, $field) = @$c;
		my $r = patch($A, $q, $body);
		my $what = substr(json_enc($body), 0, 80);
		is($r->{status}, $st, "$what: $st") or diag $r->{body};
		is($r->{json}{code}, $code, "  $code");
		is($r->{json}{field}, $field, "  field $field");
	}
	is_deeply(envs($O, $q)->{json}, $before, 'nothing was written by any of them');
};

subtest 'PATCH: roles, foreign org, no credential' => sub {
	for my $who ([ 'viewer', $V ], [ 'engineer', $E ]) {
		my $r = patch($who->[1], $P, [ { slug => 'staging', name => 'S' } ]);
		is($r->{status}, 403, "$who->[0]: 403");
		is($r->{json}{code}, 'FORBIDDEN', 'FORBIDDEN');
	}
	my $r = patch($F, $P, [ { slug => 'staging', name => 'S' } ]);
	is($r->{status}, 404, "another org's owner: 404");
	my $m = patch($F, rid(), [ { slug => 'staging', name => 'S' } ]);
	is_deeply($r->{json}, $m->{json}, 'exactly like a missing one');
	is(patch(undef, $P, [ { slug => 'staging' } ])->{status}, 401, 'no credential: 401');
};

done_testing;
