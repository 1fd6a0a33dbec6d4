#!/usr/bin/perl
# Idempotency-Key (API.md §1) on the writes of session-authenticated routes:
# a repeat of the same request by the same user within 24 h answers the
# first answer (with Idempotent-Replayed: true) without running the change;
# the same key with another request is 422 IDEMPOTENCY_KEY_REUSED; a
# concurrent duplicate is 409 IDEMPOTENCY_KEY_IN_PROGRESS; keys are the
# user's own; rows older than 24 h count as absent. Exercised through
# /v1/orgs, whose writes are built.
use strict;
use warnings;
BEGIN { unless ($ENV{SHUSH_URL}) { print "1..0 # SKIP no stack\n"; exit 0 } }
use FindBin qw($Bin);
use lib $Bin;
use ApiTest;
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use JSON::PP ();
use POSIX ();
use Test::More;
use Time::HiRes qw(time sleep);

my $RUN = join '', map { ('a' .. 'z', 0 .. 9)[int rand 36] } 1 .. 8;
my $N = 0;
sub key_ { return "k-$RUN-" . ++$N }

sub write_ {
	my ($m, $u, $p, $json, $key) = @_;
	return req($m, $p, { cookie => $u->{cookie}, origin => 1,
		(defined $json ? (json => $json) : ()),
		(defined $key ? (headers => { 'Idempotency-Key' => $key }) : ()) });
}

sub count_ { my ($sql) = @_; return 0 + psql($sql) }
sub orgs_named { count_(sprintf('SELECT count(*) FROM organization WHERE name = %s', sql_quote($_[0]))) }
sub row_count {
	my ($u, $key) = @_;
	return count_(sprintf('SELECT count(*) FROM idempotency_key WHERE user_id = %s AND key = %s',
		sql_quote($u->{user}{id}), sql_quote($key)));
}
sub replayed { my ($r) = @_; return (hdr($r, 'Idempotent-Replayed') // '') eq 'true' }

my $alice = signup(tag => 'idem-a', name => 'Alice');
my $bob = signup(tag => 'idem-b', name => 'Bob');

# An expired row planted before any keyed request: some worker's first
# keyed request sweeps it (at most once a minute per worker).
my $OLD_KEY = "old-$RUN";
psql(sprintf(q{INSERT INTO idempotency_key (user_id, key, method, path, body_sha256, status,
	created_at) VALUES (%s, %s, 'POST', '/v1/orgs', %s, 201, now() - interval '3 days')},
	sql_quote($alice->{user}{id}), sql_quote($OLD_KEY), sql_quote('0' x 64)));

subtest 'POST /v1/orgs twice with a key: one org, the same answer replayed' => sub {
	my $k = key_();
	my $name = "Idem One $RUN";
	my $r1 = write_('POST', $alice, '/v1/orgs', { name => $name }, $k);
	is($r1->{status}, 201, 'first: 201') or diag $r1->{body};
	ok(!replayed($r1), 'first: not replayed');
	my $r2 = write_('POST', $alice, '/v1/orgs', { name => $name }, $k);
	is($r2->{status}, 201, 'repeat: 201') or diag $r2->{body};
	ok(replayed($r2), 'repeat: Idempotent-Replayed: true');
	is($r2->{body}, $r1->{body}, 'repeat: the same body, byte for byte');
	is($r2->{json}{id}, $r1->{json}{id}, 'the same org id');
	is(hdr($r2, 'Content-Type'), hdr($r1, 'Content-Type'), 'the same content type');
	ok(hdr($r2, 'X-Request-Id'), 'the repeat has its own X-Request-Id');
	is(orgs_named($name), 1, 'only one org created');
	is(count_(sprintf(q{SELECT count(*) FROM audit_event WHERE org_id = %s AND action = 'org.created'},
		sql_quote($r1->{json}{id}))), 1, 'one org.created event');
	my $r3 = write_('POST', $alice, '/v1/orgs', { name => $name }, $k);
	ok(replayed($r3) && $r3->{body} eq $r1->{body}, 'a third time: replayed again');
	is(orgs_named($name), 1, 'still one org');

	my $r4 = write_('POST', $alice, '/v1/orgs', { name => $name });
	is($r4->{status}, 201, 'without the key: runs (a second org)');
	ok(!replayed($r4), 'not replayed');
	is(orgs_named($name), 2, 'two orgs');
};

subtest 'the same key with another request: 422 IDEMPOTENCY_KEY_REUSED' => sub {
	my $k = key_();
	my $name = "Idem Reuse $RUN";
	my $r = write_('POST', $alice, '/v1/orgs', { name => $name }, $k);
	is($r->{status}, 201, 'first: 201') or diag $r->{body};
	for my $c ([ 'another body', 'POST', '/v1/orgs', { name => "$name 2" } ],
		[ 'another body (an extra field)', 'POST', '/v1/orgs', { name => $name, x => 1 } ],
		[ 'another path', 'POST', '/v1/orgs/current', { orgId => $r->{json}{id} } ],
		[ 'another method', 'PATCH', '/v1/orgs/current', { name => $name } ]) {
		my ($what, $m, $p, $j) = @$c;
		my $x = write_($m, $alice, $p, $j, $k);
		is($x->{status}, 422, "$what: 422") or diag $x->{body};
		is($x->{json}{code}, 'IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_KEY_REUSED');
		is($x->{json}{field}, 'Idempotency-Key', 'field Idempotency-Key');
		ok(!replayed($x), 'not a replay');
	}
	is(orgs_named("$name 2"), 0, 'the other body created nothing');
	my $again = write_('POST', $alice, '/v1/orgs', { name => $name }, $k);
	ok(replayed($again) && $again->{json}{id} eq $r->{json}{id}, 'the original still replays');
};

subtest 'keys are per user' => sub {
	my $k = key_();
	my $name = "Idem Users $RUN";
	my $ra = write_('POST', $alice, '/v1/orgs', { name => $name }, $k);
	my $rb = write_('POST', $bob, '/v1/orgs', { name => $name }, $k);
	is($ra->{status}, 201, 'alice: 201') or diag $ra->{body};
	is($rb->{status}, 201, 'bob, same key and body: 201') or diag $rb->{body};
	ok(!replayed($rb), "bob's is not a replay of alice's");
	isnt($rb->{json}{id}, $ra->{json}{id}, 'two orgs');
	is(orgs_named($name), 2, 'both created');
	my $rb2 = write_('POST', $bob, '/v1/orgs', { name => "$name b" }, $k);
	is($rb2->{status}, 422, "bob's key is bound to bob's first request") or diag $rb2->{body};
	my $ra2 = write_('POST', $alice, '/v1/orgs', { name => $name }, $k);
	ok(replayed($ra2) && $ra2->{json}{id} eq $ra->{json}{id}, "alice's still replays hers");
};

subtest 'bad keys: 400 VALIDATION_ERROR, nothing runs' => sub {
	my $name = "Idem Bad $RUN";
	for my $c ([ '256 characters', 'k' x 256 ], [ 'a control character', "ab\x01cd" ],
		[ 'a tab inside', "ab\tcd" ], [ 'DEL', "ab\x7fcd" ], [ 'non-ASCII', "caf\xc3\xa9" ]) {
		my ($what, $key) = @$c;
		my $r = write_('POST', $alice, '/v1/orgs', { name => $name }, $key);
		is($r->{status}, 400, "$what: 400") or diag $r->{body};
		is($r->{json}{code}, 'VALIDATION_ERROR', 'VALIDATION_ERROR');
		is($r->{json}{field}, 'Idempotency-Key', 'field Idempotency-Key');
	}
	is(orgs_named($name), 0, 'no org created');
	my $k = 'K' x 255;
	my $r = write_('POST', $alice, '/v1/orgs', { name => $name }, $k);
	is($r->{status}, 201, '255 characters: fine') or diag $r->{body};
	$r = write_('POST', $alice, '/v1/orgs', { name => $name }, $k);
	ok(replayed($r), 'and replayed');
	$r = write_('POST', $alice, '/v1/orgs', { name => "$name 2" }, 'a key with spaces ~!@#$%^&*()');
	is($r->{status}, 201, 'printable ASCII with spaces and symbols: fine') or diag $r->{body};
};

subtest 'GETs ignore the header; unauthenticated and non-session routes too' => sub {
	my $r = req('GET', '/v1/orgs/current', { cookie => $alice->{cookie},
		headers => { 'Idempotency-Key' => 'k' x 300 } });
	is($r->{status}, 200, 'GET with a bad key: 200') or diag $r->{body};
	my $k = key_();
	for (1 .. 2) {
		$r = req('GET', '/v1/orgs/me', { cookie => $alice->{cookie},
			headers => { 'Idempotency-Key' => $k } });
		ok($r->{status} == 200 && !replayed($r), "GET with a key, #$_: 200, not replayed");
	}
	is(row_count($alice, $k), 0, 'nothing stored for a GET');
	$r = req('POST', '/v1/orgs', { json => { name => 'x' }, headers => { 'Idempotency-Key' => 'k' x 300 } });
	is($r->{status}, 401, 'no session: 401 before the key is looked at') or diag $r->{body};
	$r = req('POST', '/api/auth/sign-in/email', { json => { email => $alice->{email},
		password => $alice->{password} }, headers => { 'Idempotency-Key' => 'k' x 300 } });
	is($r->{status}, 200, 'sign-in (not a session route) ignores the header') or diag $r->{body};
};

subtest 'PATCH and DELETE /v1/orgs/current: repeats are replayed' => sub {
	my $carol = signup(tag => 'idem-c', name => 'Carol');
	my $g = write_('POST', $carol, '/v1/orgs', { name => "Idem Patch $RUN" });
	is($g->{status}, 201, 'an org') or diag $g->{body};
	my $k = key_();
	my $p1 = write_('PATCH', $carol, '/v1/orgs/current', { name => "Renamed $RUN" }, $k);
	is($p1->{status}, 200, 'PATCH: 200') or diag $p1->{body};
	is($p1->{json}{name}, "Renamed $RUN", 'renamed');
	my $p0 = write_('PATCH', $carol, '/v1/orgs/current', { name => "Other $RUN" });
	is($p0->{json}{name}, "Other $RUN", 'renamed again without a key');
	my $p2 = write_('PATCH', $carol, '/v1/orgs/current', { name => "Renamed $RUN" }, $k);
	is($p2->{status}, 200, 'repeat: 200') or diag $p2->{body};
	ok(replayed($p2), 'repeat: replayed');
	is($p2->{body}, $p1->{body}, 'the first answer, byte for byte');
	my $cur = req('GET', '/v1/orgs/current', { cookie => $carol->{cookie} });
	is($cur->{json}{name}, "Other $RUN", 'the handler did not run again');
	is(count_(sprintf(q{SELECT count(*) FROM audit_event WHERE org_id = %s AND action = 'org.updated'},
		sql_quote($g->{json}{id}))), 2, 'two org.updated events, not three');

	my $kd = key_();
	my $d1 = write_('DELETE', $carol, '/v1/orgs/current', undef, $kd);
	is($d1->{status}, 204, 'DELETE: 204') or diag $d1->{body};
	my $d2 = write_('DELETE', $carol, '/v1/orgs/current', undef, $kd);
	is($d2->{status}, 204, 'repeat: 204, though the org (and so the active org) is gone')
		or diag $d2->{body};
	ok(replayed($d2), 'replayed');
	is($d2->{body}, '', 'no body');
	my $d3 = write_('DELETE', $carol, '/v1/orgs/current');
	is($d3->{status}, 403, 'without the key: 403 NO_ACTIVE_ORGANIZATION') or diag $d3->{body};

	my $kf = key_();
	my $f = write_('PATCH', $carol, '/v1/orgs/current', { name => 'x' }, $kf);
	is($f->{status}, 403, 'refused before the handler (no active org): 403');
	is(row_count($carol, $kf), 0, 'and the key is not kept');
};

subtest '4xx answers of the handler are kept; 5xx never' => sub {
	my $slug = "idem-taken-$RUN";
	my $r = write_('POST', $alice, '/v1/orgs', { name => 'Taken', slug => $slug });
	is($r->{status}, 201, 'an org with a slug') or diag $r->{body};
	my $k = key_();
	my $c1 = write_('POST', $alice, '/v1/orgs', { name => 'Taken 2', slug => $slug }, $k);
	is($c1->{status}, 409, 'slug taken: 409') or diag $c1->{body};
	my $c2 = write_('POST', $alice, '/v1/orgs', { name => 'Taken 2', slug => $slug }, $k);
	is($c2->{status}, 409, 'repeat: 409');
	ok(replayed($c2), 'replayed');
	is($c2->{body}, $c1->{body}, 'the same body');
	is(count_(q{SELECT count(*) FROM idempotency_key WHERE status >= 500}), 0, 'no 5xx row stored');
};

subtest 'a pending key: 409 IDEMPOTENCY_KEY_IN_PROGRESS; abandoned claims are taken over' => sub {
	my $k = key_();
	my $body = json_enc({ name => "Idem Pending $RUN" });
	psql(sprintf(q{INSERT INTO idempotency_key (user_id, key, method, path, body_sha256)
		VALUES (%s, %s, 'POST', '/v1/orgs', %s)}, sql_quote($alice->{user}{id}), sql_quote($k),
		sql_quote(sha256_hex($body))));
	my $r = req('POST', '/v1/orgs', { cookie => $alice->{cookie}, origin => 1, body => $body,
		headers => { 'Content-Type' => 'application/json', 'Idempotency-Key' => $k } });
	is($r->{status}, 409, 'pending: 409') or diag $r->{body};
	is($r->{json}{code}, 'IDEMPOTENCY_KEY_IN_PROGRESS', 'IDEMPOTENCY_KEY_IN_PROGRESS');
	is(hdr($r, 'Retry-After'), '1', 'Retry-After: 1');
	is(orgs_named("Idem Pending $RUN"), 0, 'nothing ran');
	$r = write_('POST', $alice, '/v1/orgs', { name => 'other' }, $k);
	is($r->{status}, 422, 'pending, another body: 422 REUSED') or diag $r->{body};

	psql(sprintf(q{UPDATE idempotency_key SET created_at = now() - interval '10 minutes'
		WHERE user_id = %s AND key = %s}, sql_quote($alice->{user}{id}), sql_quote($k)));
	$r = req('POST', '/v1/orgs', { cookie => $alice->{cookie}, origin => 1, body => $body,
		headers => { 'Content-Type' => 'application/json', 'Idempotency-Key' => $k } });
	is($r->{status}, 201, 'a claim pending for 10 minutes is abandoned: runs') or diag $r->{body};
	is(orgs_named("Idem Pending $RUN"), 1, 'one org');
	is(psql(sprintf(q{SELECT status FROM idempotency_key WHERE user_id = %s AND key = %s},
		sql_quote($alice->{user}{id}), sql_quote($k))), '201', 'the row now holds the answer');
};

subtest 'a key older than 24 h counts as absent' => sub {
	my $k = key_();
	my $name = "Idem Old $RUN";
	my $r1 = write_('POST', $alice, '/v1/orgs', { name => $name }, $k);
	is($r1->{status}, 201, 'first: 201') or diag $r1->{body};
	psql(sprintf(q{UPDATE idempotency_key SET created_at = now() - interval '24 hours 1 minute'
		WHERE user_id = %s AND key = %s}, sql_quote($alice->{user}{id}), sql_quote($k)));
	my $r2 = write_('POST', $alice, '/v1/orgs', { name => $name }, $k);
	is($r2->{status}, 201, 'after 24 h: 201') or diag $r2->{body};
	ok(!replayed($r2), 'not replayed: it ran again');
	isnt($r2->{json}{id}, $r1->{json}{id}, 'a new org');
	is(orgs_named($name), 2, 'two orgs');
	is(row_count($alice, $k), 1, 'one row for the key (taken over)');
	my $r3 = write_('POST', $alice, '/v1/orgs', { name => $name }, $k);
	ok(replayed($r3) && $r3->{json}{id} eq $r2->{json}{id}, 'now the second answer replays');
	psql(sprintf(q{UPDATE idempotency_key SET created_at = now() - interval '23 hours 59 minutes'
		WHERE user_id = %s AND key = %s}, sql_quote($alice->{user}{id}), sql_quote($k)));
	my $r4 = write_('POST', $alice, '/v1/orgs', { name => $name }, $k);
	ok(replayed($r4), 'just under 24 h: still replayed');
};

subtest 'Set-Cookie is never replayed' => sub {
	my $dave = signup(tag => 'idem-d', name => 'Dave');
	# Make the session due for better-auth's refresh: the first answer sets
	# the cookie again.
	psql(sprintf(q{UPDATE session SET "expiresAt" = now() + interval '5 days' WHERE "userId" = %s},
		sql_quote($dave->{user}{id})));
	my $k = key_();
	my $r1 = write_('POST', $dave, '/v1/orgs', { name => "Idem Cookie $RUN" }, $k);
	is($r1->{status}, 201, 'first: 201') or diag $r1->{body};
	ok(scalar @{ $r1->{set_cookies} }, 'first: the refreshed session cookie is set');
	my $r2 = write_('POST', $dave, '/v1/orgs', { name => "Idem Cookie $RUN" }, $k);
	ok(replayed($r2), 'repeat: replayed');
	is(scalar @{ $r2->{set_cookies} }, 0, 'repeat: no Set-Cookie');
	is(count_(q{SELECT count(*) FROM idempotency_key WHERE headers ILIKE '%cookie%'}), 0,
		'no stored answer holds a cookie');
};

subtest 'concurrent duplicates never both run' => sub {
	my $carl = signup(tag => 'idem-e', name => 'Carl');
	my $g = write_('POST', $carl, '/v1/orgs', { name => "Idem Conc Base $RUN" });
	my ($host, $port) = url() =~ m{^http://([^/:]+)(?::(\d+))?} or plan skip_all => 'http only';
	my $dir = tempdir(CLEANUP => 1);
	my (%status, $fivexx, $doubles, $mismatch) = ();
	$fivexx = $doubles = $mismatch = 0;
	for my $i (1 .. 20) {
		my $k = key_();
		my $name = "Idem Conc $RUN $i";
		my $body = json_enc({ name => $name });
		my $bytes = "POST /v1/orgs HTTP/1.1\r\nHost: $host:" . ($port // 80) . "\r\n"
			. "Connection: close\r\nCookie: $carl->{cookie}\r\nOrigin: " . url() . "\r\n"
			. "Content-Type: application/json\r\nIdempotency-Key: $k\r\n"
			. 'Content-Length: ' . length($body) . "\r\n\r\n$body";
		my $at = time + 0.2;
		my @pids;
		for my $c (1 .. 2) {
			my $pid = fork // die "fork: $!";
			if ($pid == 0) {
				my $wait = $at - time;
				sleep $wait if $wait > 0;
				my $r = raw($bytes);
				open my $fh, '>', "$dir/$i-$c" or POSIX::_exit(1);
				print {$fh} JSON::PP->new->canonical->encode({ status => $r->{status},
					code => $r->{json} ? $r->{json}{code} : undef,
					id => $r->{json} ? $r->{json}{id} : undef,
					replayed => replayed($r) ? 1 : 0,
					retry => hdr($r, 'Retry-After') });
				close $fh;
				POSIX::_exit(0);
			}
			push @pids, $pid;
		}
		waitpid $_, 0 for @pids;
		my @res;
		for my $c (1 .. 2) {
			open my $fh, '<', "$dir/$i-$c" or die "no result $i-$c";
			local $/;
			push @res, JSON::PP->new->decode(<$fh>);
		}
		for my $x (@res) {
			my $tag = $x->{status} == 201 ? ($x->{replayed} ? '201 replayed' : '201')
				: $x->{status} == 409 ? "409 " . ($x->{code} // '') . ' Retry-After ' . ($x->{retry} // '-')
				: "$x->{status} " . ($x->{code} // '');
			$status{$tag}++;
			$fivexx++ if $x->{status} >= 500;
		}
		my @ids = map { $_->{id} } grep { $_->{status} == 201 } @res;
		$mismatch++ if @ids == 2 && $ids[0] ne $ids[1];
		$doubles++ if orgs_named($name) != 1;
	}
	diag join ', ', map { "$_: $status{$_}" } sort keys %status;
	is($fivexx, 0, 'never a 5xx');
	is($doubles, 0, 'exactly one org per key, every time');
	is($mismatch, 0, 'two 201s carry the same org');
	my @bad = grep { !/^(?:201|201 replayed|409 IDEMPOTENCY_KEY_IN_PROGRESS Retry-After 1)$/ } keys %status;
	is_deeply(\@bad, [], 'answers: 201, a replayed 201, or 409 IN_PROGRESS with Retry-After: 1');
	ok(($status{201} // 0) == 20, 'each key ran exactly once');
};

subtest 'expired rows are swept' => sub {
	is(row_count($alice, $OLD_KEY), 0, 'the row planted 3 days ago is gone');
};

done_testing;
