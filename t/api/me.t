#!/usr/bin/perl
# /v1/me: the signed-in person's own profile (REFERENCE.md "Me").
use strict;
use warnings;
BEGIN { unless ($ENV{SHUSH_URL}) { print "1..0 # SKIP no stack\n"; exit 0 } }
use FindBin qw($Bin);
use lib $Bin;
use ApiTest;
use Test::More;
binmode(Test::More->builder->$_, ":encoding(UTF-8)") for qw(output failure_output todo_output);

my $u = signup(tag => 'me', name => 'Grace Hopper');
my $C = $u->{cookie};

sub me    { req('GET', '/v1/me', { cookie => $_[0] // $C }) }
sub patch { req('PATCH', '/v1/me', { cookie => $C, origin => 1, json => $_[0] }) }

subtest 'GET /v1/me' => sub {
	my $r = me();
	is($r->{status}, 200, 'status 200') or diag $r->{body};
	like(hdr($r, 'Content-Type'), qr{^application/json}, 'JSON');
	is_deeply([ sort keys %{ $r->{json} } ],
		[ sort qw(id email name image emailVerified createdAt) ], 'exactly the six keys');
	is($r->{json}{id}, $u->{user}{id}, 'id');
	is($r->{json}{email}, $u->{email}, 'email');
	is($r->{json}{name}, 'Grace Hopper', 'name');
	ok(!defined $r->{json}{image}, 'image null');
	ok(JSON::PP::is_bool($r->{json}{emailVerified}) && !$r->{json}{emailVerified},
		'emailVerified false (a boolean)');
	is($r->{json}{createdAt}, $u->{user}{createdAt}, 'createdAt as at sign-up');
	like($r->{json}{createdAt}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'ISO with ms');
};

subtest 'no or bad credential: 401' => sub {
	my $r = req('GET', '/v1/me');
	is($r->{status}, 401, 'no cookie: 401');
	like($r->{json}{code} // '', qr/^[A-Z_]+$/, 'error code');
	ok(defined $r->{json}{message}, 'error message');
	(my $bad = $C) =~ s/.$/$& eq 'A' ? 'B' : 'A'/e;
	is(me($bad)->{status}, 401, 'tampered cookie: 401');
	is(me(session_cookie_name() . '=')->{status}, 401, 'empty cookie: 401');
	is(req('PATCH', '/v1/me', { json => { name => 'x' } })->{status}, 401,
		'PATCH without a cookie: 401');
	is(req('GET', '/v1/me', { headers => { Authorization => 'Bearer shush_nope' } })->{status},
		401, 'an unknown bearer token: 401');
};

subtest 'PATCH name and image' => sub {
	my $r = patch({ name => 'Grace B. Hopper' });
	is($r->{status}, 200, 'name: 200') or diag $r->{body};
	is($r->{json}{name}, 'Grace B. Hopper', 'answer has the new name');
	is_deeply([ sort keys %{ $r->{json} } ],
		[ sort qw(id email name image emailVerified createdAt) ], 'same shape as GET');
	is(me()->{json}{name}, 'Grace B. Hopper', 'persisted');

	my $img = 'https://example.com/a.png?x=1&y=%20';
	$r = patch({ image => $img });
	is($r->{status}, 200, 'image: 200');
	is($r->{json}{image}, $img, 'answer has the image');
	is($r->{json}{name}, 'Grace B. Hopper', 'name untouched by an image-only PATCH');
	is(me()->{json}{image}, $img, 'image persisted');

	$r = patch({ name => 'Unchanged image' });
	is($r->{json}{image}, $img, 'a name-only PATCH keeps the image');

	$r = patch({ image => undef });
	is($r->{status}, 200, 'image:null: 200');
	ok(!defined $r->{json}{image}, 'answer has image null');
	ok(!defined me()->{json}{image}, 'image cleared');

	$r = patch({ name => "Gr\x{e2}ce \x{1F600} \x{65e5}\x{672c}" });
	is($r->{status}, 200, 'unicode name: 200');
	is(me()->{json}{name}, "Gr\x{e2}ce \x{1F600} \x{65e5}\x{672c}", 'unicode round-trips');

	$r = patch({ name => 'Ignored Fields', email => 'hijack@example.com', id => 'x' x 32,
		emailVerified => JSON::PP::true, createdAt => '2000-01-01T00:00:00.000Z', foo => [1] });
	is($r->{status}, 200, 'unknown and read-only fields are ignored: 200');
	my $m = me()->{json};
	is($m->{name}, 'Ignored Fields', 'name applied');
	is($m->{email}, $u->{email}, 'email not changed');
	is($m->{id}, $u->{user}{id}, 'id not changed');
	ok(!$m->{emailVerified}, 'emailVerified not changed');
	is($m->{createdAt}, $u->{user}{createdAt}, 'createdAt not changed');

	$r = patch({});
	is($r->{status}, 200, 'empty object: 200');
	is($r->{json}{name}, 'Ignored Fields', 'nothing changed');
	$r = req('PATCH', '/v1/me', { cookie => $C, origin => 1, body => '' });
	is($r->{status}, 200, 'empty body: 200');
};

subtest 'PATCH bad input: 400 naming the field' => sub {
	my $before = me()->{json};
	for my $v (1, 0, JSON::PP::true, [], {}, ['a'], { a => 'b' }, 1.5) {
		my $r = patch({ name => $v });
		my $d = ref $v ? JSON::PP->new->allow_nonref->encode($v) : $v;
		is($r->{status}, 400, "name $d: 400");
		is($r->{json}{field}, 'name', "name $d: field name");
	}
	for my $v (1, JSON::PP::false, [], { url => 'x' }) {
		my $r = patch({ image => $v });
		my $d = ref $v ? JSON::PP->new->allow_nonref->encode($v) : $v;
		is($r->{status}, 400, "image $d: 400");
		is($r->{json}{field}, 'image', "image $d: field image");
	}
	my $r = patch({ name => '' });
	is($r->{status}, 400, 'empty name: 400');
	is($r->{json}{field}, 'name', 'empty name: field name');
	is(patch({ name => 'n' x 256 })->{status}, 200, 'name of 256 bytes: 200');
	$r = patch({ name => 'n' x 257 });
	is($r->{status}, 400, 'name of 257 bytes: 400');
	is($r->{json}{field}, 'name', 'field name');
	$r = patch({ name => "\x{e9}" x 129 });
	is($r->{status}, 400, 'name of 129 two-byte chars (258 bytes): 400');
	$r = patch({ name => 'Valid', image => 7 });
	is($r->{status}, 400, 'one bad field refuses the whole PATCH');
	is(me()->{json}{name}, 'n' x 256, 'nothing of it was applied');
	patch({ name => $before->{name} });
};

subtest 'PATCH needs a trusted Origin with a cookie' => sub {
	my $r = req('PATCH', '/v1/me', { cookie => $C, json => { name => 'CSRF' } });
	is($r->{status}, 403, 'no Origin: 403');
	is($r->{json}{code}, 'MISSING_OR_NULL_ORIGIN', 'MISSING_OR_NULL_ORIGIN');
	$r = req('PATCH', '/v1/me', { cookie => $C, origin => 'http://evil.example',
		json => { name => 'CSRF' } });
	is($r->{status}, 403, 'untrusted Origin: 403');
	is($r->{json}{code}, 'INVALID_ORIGIN', 'INVALID_ORIGIN');
	isnt(me()->{json}{name}, 'CSRF', 'the name was not changed');
	is(req('GET', '/v1/me', { cookie => $C, origin => 'http://evil.example' })->{status}, 200,
		'a GET is not subject to the Origin rule');
};

subtest 'the profile belongs to the cookie' => sub {
	my $v = signup(tag => 'me2', name => 'Other Person');
	my $r = req('PATCH', '/v1/me', { cookie => $v->{cookie}, origin => 1,
		json => { name => 'Renamed Other' } });
	is($r->{json}{id}, $v->{user}{id}, "PATCH answers the caller's own profile");
	isnt(me()->{json}{name}, 'Renamed Other', "another user's PATCH leaves mine alone");
	is(me($v->{cookie})->{json}{email}, $v->{email}, "each cookie sees its own user");
};

done_testing;
