#!/usr/bin/perl
# The stack itself: nginx in front of shushd, request ids, nginx's own error
# pages in the API error shape. Uses the shared stack (SHUSH_URL).
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Stack;

my $r = Stack::req(GET => '/health');
is($r->{status}, 200, '/health is 200') or diag($r->{body});
is(ref $r->{json} && $r->{json}{status}, 'ok', '/health says status ok');
like($r->{content_type}, qr{^application/json}, '/health is JSON');
like(Stack::header($r, 'X-Request-Id') // '', qr/^[0-9a-f]{32}$/, '/health has X-Request-Id');

my $r2 = Stack::req(GET => '/health');
isnt(Stack::header($r2, 'X-Request-Id'), Stack::header($r, 'X-Request-Id'), 'request ids differ');

$r = Stack::req(GET => '/v1/no-such-thing-' . $$);
is($r->{status}, 404, 'unknown /v1 path is 404');
like($r->{content_type}, qr{^application/json}, '404 is JSON');
ok(ref $r->{json} eq 'HASH' && defined $r->{json}{code}, '404 body has a code') or diag($r->{body});
ok(Stack::header($r, 'X-Request-Id'), '404 has X-Request-Id');

my $big = '{"name":"' . ('x' x (2 * 1024 * 1024)) . '"}';
$r = Stack::req(POST => '/v1/me', { body => $big, headers => { 'Content-Type' => 'application/json' } });
is($r->{status}, 413, '2 MiB POST /v1/me is 413');
like($r->{content_type}, qr{^application/json}, '413 is JSON');
is(ref $r->{json} && $r->{json}{code}, 'PAYLOAD_TOO_LARGE', '413 code PAYLOAD_TOO_LARGE') or diag($r->{body});
my $rid = Stack::header($r, 'X-Request-Id');
ok($rid, '413 has X-Request-Id');
is(ref $r->{json} && $r->{json}{requestId}, $rid, '413 body carries the request id');

done_testing;
