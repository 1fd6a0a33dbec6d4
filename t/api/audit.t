#!/usr/bin/perl
# Audit trail: GET /v1/audit (pages, filters), GET /v1/audit/export (NDJSON
# and CSV, oldest first, streamed), the hash chain verified offline here and
# by `shushd audit-verify`, fail-closed writes, and a 100k-event export in
# bounded memory.
use strict;
use warnings;
use lib 't/lib', 't/api';
use Test::More;
use Digest::SHA qw(sha256_hex);
use JSON::PP;
use ApiTest;

plan skip_all => 'no stack (run through make check)' unless $ENV{SHUSH_URL};

my $JSON = JSON::PP->new->utf8->canonical;
my $bin = ($ENV{SHUSH_BIN_DIR} // 'build') . '/shushd';

sub api {
	my ($u, $method, $path, $body) = @_;
	return ApiTest::req($method, $path,
		{ cookie => $u->{cookie}, origin => 1, (defined $body ? (json => $body) : ()) });
}

# RFC 8785 for these events (ASCII names, strings, objects): JSON::PP's
# canonical output is the same text.
sub chain_ok {
	my ($ev, $prev) = @_;
	my %e = %$ev;
	my $hash = delete $e{hash};
	return $e{prevHash} eq $prev && sha256_hex($e{prevHash} . $JSON->encode(\%e)) eq $hash;
}

my $owner = ApiTest::signup();
my $r = api($owner, POST => '/v1/orgs', { name => 'Audit Org' });
is($r->{status}, 201, 'org created') or BAIL_OUT("POST /v1/orgs: $r->{status} $r->{body}");
my $org = $r->{json}{id};
for my $i (1 .. 4) {
	is(api($owner, PATCH => '/v1/orgs/current', { name => "Audit Org $i" })->{status}, 200,
		"change $i");
}

# --- list --------------------------------------------------------------
$r = api($owner, GET => '/v1/audit');
is($r->{status}, 200, 'GET /v1/audit');
my @items = @{ $r->{json}{items} };
cmp_ok(scalar @items, '>=', 5, 'five events or more');
is($items[0]{action}, 'org.updated', 'newest first');
is($items[-1]{action}, 'org.created', 'the first event is the creation');
is($items[-1]{prevHash}, '0' x 64, 'the first event chains from 64 zeros');
is($items[0]{orgId}, $org, 'orgId');
is($items[0]{actor}{type}, 'user', 'actor type');
is($items[0]{actor}{id}, $owner->{user}{id}, 'actor id');
is($items[0]{actor}{email}, $owner->{email}, 'actor email');
like($items[0]{at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'at in ISO 8601 ms');
ok($items[0]{requestId} && defined $items[0]{ip} && defined $items[0]{userAgent}, 'from where');
my $prev = '0' x 64;
my $good = 1;
for my $ev (reverse @items) { $good &&= chain_ok($ev, $prev); $prev = $ev->{hash} }
ok($good, 'the chain verifies offline (sha256 of prevHash + RFC 8785 event)');

$r = api($owner, GET => '/v1/audit?limit=2');
is(scalar @{ $r->{json}{items} }, 2, 'limit=2');
ok($r->{json}{nextCursor}, 'a next cursor');
my $r2 = api($owner, GET => "/v1/audit?limit=2&cursor=$r->{json}{nextCursor}");
is($r2->{json}{items}[0]{id}, $items[2]{id}, 'the next page continues where the first ended');
$r = api($owner, GET => '/v1/audit?action=org.created');
is(scalar @{ $r->{json}{items} }, 1, 'filter by action');
$r = api($owner, GET => "/v1/audit?actorId=$owner->{user}{id}&limit=200");
is(scalar @{ $r->{json}{items} }, scalar @items, 'filter by actor');
$r = api($owner, GET => '/v1/audit?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00.000Z');
is_deeply($r->{json}{items}, [], 'filter by time range');
is($r->{json}{nextCursor}, undef, 'no cursor past the end');
for my $bad ('limit=0', 'limit=201', 'limit=x', 'cursor=abc', 'from=yesterday', 'action=') {
	$r = api($owner, GET => "/v1/audit?$bad");
	is($r->{status}, 400, "$bad is 400");
}

# --- export ------------------------------------------------------------
$r = api($owner, GET => '/v1/audit/export?format=json');
is($r->{status}, 200, 'export json');
like($r->{headers}{'content-type'}, qr{^application/x-ndjson}, 'NDJSON');
my @lines = map { $JSON->decode($_) } split /\n/, $r->{body};
is(scalar @lines, scalar @items, 'every event');
is($lines[0]{action}, 'org.created', 'oldest first');
$prev = '0' x 64;
$good = 1;
for my $ev (@lines) { $good &&= chain_ok($ev, $prev); $prev = $ev->{hash} }
ok($good, 'the export verifies offline');
$r = api($owner, GET => '/v1/audit/export?format=csv');
is($r->{status}, 200, 'export csv');
like($r->{headers}{'content-type'}, qr{^text/csv}, 'CSV');
my @rows = split /\r\n/, $r->{body};
like($rows[0], qr/^id,at,actor\.type,/, 'a header row');
is(scalar @rows, scalar(@items) + 1, 'a row per event');
is(api($owner, GET => '/v1/audit/export?format=xml')->{status}, 400, 'unknown format 400');

# --- audit-verify ------------------------------------------------------
sub verify {
	my $out = `'$bin' audit-verify --org '$org' 2>&1`;
	return ($? >> 8, $out);
}
my ($rc, $out) = verify();
is($rc, 0, 'audit-verify accepts the chain') or diag $out;
like($out, qr/ok: .*\b${\ scalar @items} event/, 'and counts the events');
ApiTest::psql("UPDATE audit_event SET action = 'org.tampered' WHERE org_id = '$org' AND seq = 2");
($rc, $out) = verify();
is($rc, 1, 'audit-verify refuses a row altered by hand');
like($out, qr/event 2\b/, 'and names the first broken link') or diag $out;
ApiTest::psql("UPDATE audit_event SET action = 'org.updated' WHERE org_id = '$org' AND seq = 2");
is((verify())[0], 0, 'restored, the chain verifies again');
my $meta = ApiTest::psql("SELECT metadata FROM audit_event WHERE org_id = '$org' AND seq = 3");
ApiTest::psql("UPDATE audit_event SET metadata = '{\"x\":1}' WHERE org_id = '$org' AND seq = 3");
is((verify())[0], 1, 'altered metadata is found');
ApiTest::psql("UPDATE audit_event SET metadata = " . ApiTest::sql_quote($meta) . " WHERE org_id = '$org' AND seq = 3");
is((verify())[0], 0, 'restored metadata verifies');
my $n = scalar @items;
my $last = ApiTest::psql("SELECT row_to_json(a)::text FROM audit_event a WHERE org_id = '$org' AND seq = $n");
ApiTest::psql("DELETE FROM audit_event WHERE org_id = '$org' AND seq = $n");
($rc, $out) = verify();
is($rc, 1, 'a row cut off the end is found through the chain head') or diag $out;
ApiTest::psql("INSERT INTO audit_event SELECT * FROM json_populate_record(NULL::audit_event, '$last'::json)");
is((verify())[0], 0, 'restored');

# --- fail closed ---------------------------------------------------------
ApiTest::psql(<<"SQL");
CREATE OR REPLACE FUNCTION shush_test_audit_fail() RETURNS trigger LANGUAGE plpgsql AS
  \$\$BEGIN RAISE EXCEPTION 'audit disabled by the test'; END\$\$;
CREATE TRIGGER shush_test_audit_fail BEFORE INSERT ON audit_event FOR EACH ROW
  WHEN (NEW.org_id = '$org') EXECUTE FUNCTION shush_test_audit_fail();
SQL
$r = api($owner, PATCH => '/v1/orgs/current', { name => 'Never Kept' });
is($r->{status}, 500, 'a change whose audit event cannot be written is 500');
ok($r->{json}{requestId}, 'with the request id');
isnt(api($owner, GET => '/v1/orgs/current')->{json}{name}, 'Never Kept', 'and the change was not kept');
ApiTest::psql("DROP TRIGGER shush_test_audit_fail ON audit_event; DROP FUNCTION shush_test_audit_fail()");
is(api($owner, PATCH => '/v1/orgs/current', { name => 'Kept' })->{status}, 200, 'writes again');
is((verify())[0], 0, 'the chain is intact after the refused write');

# --- 100k events export in bounded memory --------------------------------
SKIP: {
	my $master = do { local @ARGV = ("$ENV{SHUSH_STACK_DIR}/run/shushd.pid"); my $p = <>; $p =~ s/\D//g; $p };
	skip 'no shushd pid', 4 unless $master;
	my $big = ApiTest::signup();
	is(api($big, POST => '/v1/orgs', { name => 'Big Audit' })->{status}, 201, 'second org');
	my $borg = ApiTest::psql(qq{SELECT "activeOrganizationId" FROM session WHERE token = '$big->{token}'});
	ApiTest::psql(<<"SQL");
INSERT INTO audit_event (org_id, seq, id, at, actor_type, actor_id, actor_email, action,
  target_type, target_id, ip, user_agent, request_id, metadata, prev_hash, hash)
SELECT '$borg', 1000 + g, 'bulk' || g || '$borg', now(), 'system', 'bulk', NULL, 'bulk.event',
  'thing', 'id' || g, '127.0.0.1', 'bulk-loader/1', 'req' || g, '{"n":' || g || '}',
  repeat('0', 64), repeat('f', 64)
FROM generate_series(1, 100000) g;
SQL
	my @workers = grep { /^\d+$/ } map { chomp; $_ } `pgrep -P $master`;
	my $hwm = sub {
		my $max = 0;
		for my $w (@workers) {
			open my $fh, '<', "/proc/$w/status" or next;
			while (<$fh>) { $max = $1 if /^VmHWM:\s+(\d+)/ && $1 > $max }
		}
		return $max;
	};
	my $before = $hwm->();
	my ($lines, $bytes) = (0, 0);
	my $res = HTTP::Tiny->new(timeout => 300)->get(ApiTest::url() . '/v1/audit/export?format=json',
		{ headers => { Cookie => $big->{cookie} },
		  data_callback => sub { $bytes += length $_[0]; $lines += ($_[0] =~ tr/\n//) } });
	my $after = $hwm->();
	is($res->{status}, 200, 'exported');
	cmp_ok($lines, '>=', 100000, "every event streamed ($lines lines, $bytes bytes)");
	diag sprintf('worker peak RSS: %.1f MiB before, %.1f MiB after a %.1f MiB export of %d events',
		$before / 1024, $after / 1024, $bytes / 1048576, $lines);
	# ASan's quarantine keeps freed memory out of reuse on purpose, so the
	# bound is only meaningful for an uninstrumented build.
	my $asan = do { local $/; open my $fh, '<:raw', $bin or die $!; <$fh> =~ /__asan_init/ };
	SKIP: {
		skip 'sanitizer build: freed memory sits in ASan quarantine', 1 if $asan;
		cmp_ok($after - $before, '<', 64 * 1024, 'worker memory stays bounded (peak grew < 64 MiB)');
	}
}

done_testing;
