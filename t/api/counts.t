#!/usr/bin/perl
# /v1/projects/:projectId/counts and /env-counts (REFERENCE.md "Counts").
use strict;
use warnings;
BEGIN { unless ($ENV{SHUSH_URL}) { print "1..0 # SKIP no stack\n"; exit 0 } }
use FindBin qw($Bin);
use lib $Bin;
use ApiTest;
use ProjTest;
use Test::More;

my $T = team('cnt');
my ($O, $A, $E, $V, $F) = map { $T->{$_}{cookie} } qw(owner admin engineer viewer foreign);
my $p = new_project($O, name => 'Counted');
my $P = $p->{id};
my %ENV_ID = map { $_->{slug} => $_->{id} } @{ $p->{environments} };

sub secret {
	my ($key, @envs) = @_;
	my $id = rid();
	my $sql = sprintf(q{INSERT INTO secret (id, org_id, project_id, key) VALUES (%s, %s, %s, %s);},
		sql_quote($id), sql_quote($T->{org}), sql_quote($P), sql_quote($key));
	for my $e (@envs) {
		$sql .= sprintf(q{INSERT INTO secret_version (org_id, secret_id, environment_id, version, value, created_by)
			VALUES (%s, %s, %s, 1, '\x00', 'test'); INSERT INTO secret_value (org_id, secret_id, environment_id,
			version, updated_by) VALUES (%s, %s, %s, 1, 'test');},
			map { sql_quote($_) } $T->{org}, $id, $ENV_ID{$e}, $T->{org}, $id, $ENV_ID{$e});
	}
	psql($sql);
}

subtest 'a new project' => sub {
	my $r = get_($V, "/v1/projects/$P/counts");
	is($r->{status}, 200, 'viewer: 200') or diag $r->{body};
	is_deeply($r->{json}, { secrets => 0, folders => 0, environments => 3, apiKeys => 0, webhooks => 0,
		integrations => 0 }, 'three environments, nothing else');
	$r = get_($V, "/v1/projects/$P/env-counts");
	is($r->{status}, 200, 'env-counts: 200') or diag $r->{body};
	is_deeply($r->{json}, { items => [ map { { environment => $_, secrets => 0 } } qw(development staging production) ],
		nextCursor => undef }, 'zero per environment, position order');
};

subtest 'with folders, secrets and values' => sub {
	write_('POST', $E, "/v1/projects/$P/folders", { name => $_ }) for qw(a b);
	secret('ONE', qw(development production));
	secret('TWO', qw(development));
	secret('THREE');
	write_('PATCH', $A, "/v1/projects/$P/environments", { environments => [ { slug => 'qa', parents => ['staging'] } ] });
	my $r = get_($V, "/v1/projects/$P/counts");
	is_deeply($r->{json}, { secrets => 3, folders => 2, environments => 4, apiKeys => 0, webhooks => 0,
		integrations => 0 }, 'counts') or diag $r->{body};
	$r = get_($V, "/v1/projects/$P/env-counts");
	is_deeply($r->{json}{items}, [ { environment => 'development', secrets => 2 },
		{ environment => 'staging', secrets => 0 }, { environment => 'production', secrets => 1 },
		{ environment => 'qa', secrets => 0 } ], 'values set in each environment (inherited ones not counted)');
	# another project of the org does not count here
	my $q = new_project($O, name => 'Elsewhere');
	write_('POST', $E, "/v1/projects/$q->{id}/folders", { name => 'z' });
	is(get_($V, "/v1/projects/$P/counts")->{json}{folders}, 2, "another project's folder not counted");
};

subtest 'foreign org, missing, no credential' => sub {
	for my $path ("/v1/projects/$P/counts", "/v1/projects/$P/env-counts") {
		my $r = get_($F, $path);
		is($r->{status}, 404, "$path as another org's owner: 404");
		(my $mp = $path) =~ s/\Q$P\E/rid()/e;
		is_deeply($r->{json}, get_($F, $mp)->{json}, '  exactly like a missing one');
		is(get_(undef, $path)->{status}, 401, '  no credential: 401');
		my $lone = signup(tag => 'cnt-lone');
		$r = get_($lone->{cookie}, $path);
		is($r->{status}, 403, '  no active org: 403');
	}
};

done_testing;
