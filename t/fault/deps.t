#!/usr/bin/perl
# Fault tests of the dependencies, on a private stack: Redis stopped ->
# /health 503 and sign-in still works; PostgreSQL stopped -> 503 with
# Retry-After, then recovery without a restart; sign-in rate limit -> 429.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Stack;

plan skip_all => 'no stack (run through make check)' unless $ENV{SHUSH_URL};

my $limit = 6;
my $s = Stack::private_stack(SHUSH_RATE_LIMIT_AUTH => $limit);
my $origin = { Origin => $s->url };
my $email = 'deps-' . int(rand(1e9)) . '@example.com';
my $pw = 'dependable-password';

my $r = $s->req(POST => '/api/auth/sign-up/email',
	{ json => { name => 'D', email => $email, password => $pw } });
is($r->{status}, 200, 'signed up');
my ($cookie) = ($r->{headers}{'set-cookie'} // '') =~ /^([^;]+)/;

# --- Redis down ---------------------------------------------------------
$s->stop_part('redis');
$r = $s->req(GET => '/health');
is($r->{status}, 503, 'health is 503 with Redis down');
is($r->{json}{redis}, 'down', 'redis reported down');
is($r->{json}{postgres}, 'ok', 'postgres still ok');
$r = $s->req(POST => '/api/auth/sign-in/email',
	{ json => { email => $email, password => $pw }, headers => $origin });
is($r->{status}, 200, 'sign-in works without Redis');
is($s->req(GET => '/v1/me', { headers => { Cookie => $cookie } })->{status}, 200,
	'sessions work without Redis');
$s->start_part('redis');
ok($s->wait_health(200, 20), 'health back to 200 once Redis is back');

# --- PostgreSQL down ----------------------------------------------------
$s->stop_part('pg');
$r = $s->req(GET => '/health');
is($r->{status}, 503, 'health is 503 with PostgreSQL down');
is($r->{json}{postgres}, 'down', 'postgres reported down');
$r = $s->req(GET => '/v1/me', { headers => { Cookie => $cookie } });
is($r->{status}, 503, '/v1/me is 503 with PostgreSQL down');
ok($r->{headers}{'retry-after'}, 'with Retry-After');
is($r->{json}{code}, 'SERVICE_UNAVAILABLE', 'in the error shape');
ok($r->{json}{requestId}, '5xx body carries the request id');
$r = $s->req(POST => '/api/auth/sign-in/email',
	{ json => { email => $email, password => $pw }, headers => $origin });
is($r->{status}, 503, 'sign-in is 503, not 401, with PostgreSQL down');
$s->start_part('pg');
ok($s->wait_health(200, 30), 'health back to 200 without restarting shushd');
my $ok = 0;
for (1 .. 20) {    # every worker reconnects on its next request
	$ok++ if $s->req(GET => '/v1/me', { headers => { Cookie => $cookie } })->{status} == 200;
}
is($ok, 20, 'every request succeeds after recovery');

# A restart while every worker sits idle on a prepared connection: the next
# request on each must notice the dead socket and reconnect, not answer 503.
$s->req(GET => '/v1/me', { headers => { Cookie => $cookie } }) for 1 .. 20;
$s->stop_part('pg');
$s->start_part('pg');
$ok = 0;
for (1 .. 20) {
	my $st = $s->req(GET => "/v1/me", { headers => { Cookie => $cookie } })->{status};
	diag("status $st") if $st != 200;
	$ok++ if $st == 200;
}
is($ok, 20, 'a restart while idle costs no request');

# --- rate limit ----------------------------------------------------------
my ($status, $retry);
for my $i (1 .. $limit + 2) {
	$r = $s->req(POST => '/api/auth/sign-in/email',
		{ json => { email => $email, password => 'wrong-password' }, headers => $origin });
	($status, $retry) = ($r->{status}, $r->{headers}{'retry-after'});
	last if $status == 429;
}
is($status, 429, 'sign-in attempts over the limit get 429');
like($retry // '', qr/^\d+$/, 'with a numeric Retry-After');
is($r->{json}{code}, 'TOO_MANY_REQUESTS', 'in the error shape');
$r = $s->req(POST => '/api/auth/sign-in/email',
	{ json => { email => $email, password => $pw }, headers => $origin });
is($r->{status}, 429, 'even the right password waits out the window');

$s->down;
done_testing;
