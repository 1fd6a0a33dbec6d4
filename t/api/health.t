#!/usr/bin/perl
# GET /health: PostgreSQL and Redis liveness (REFERENCE.md "Health").
use strict;
use warnings;
BEGIN { unless ($ENV{SHUSH_URL}) { print "1..0 # SKIP no stack\n"; exit 0 } }
use FindBin qw($Bin);
use lib $Bin;
use ApiTest;
use Test::More;

my $r = req('GET', '/health');
is($r->{status}, 200, 'GET /health is 200');
like(hdr($r, 'Content-Type'), qr{^application/json(?:;|$)}, 'Content-Type is application/json');
is_deeply($r->{json}, { status => 'ok', postgres => 'ok', redis => 'ok' },
	'body says postgres and redis are ok')
	or diag $r->{body};
like(hdr($r, 'X-Request-Id') // '', qr/^[0-9a-f]{32}$/, 'carries X-Request-Id');

# Routing comes before anything: /health takes GET only.
$r = req('POST', '/health', { json => {} });
is($r->{status}, 405, 'POST /health is 405');
is(hdr($r, 'Allow'), 'GET', 'Allow: GET');

# No credential is needed, and a bad one does not matter.
$r = req('GET', '/health', { cookie => 'better-auth.session_token=garbage.garbage' });
is($r->{status}, 200, 'a garbage cookie does not break /health');

done_testing;
