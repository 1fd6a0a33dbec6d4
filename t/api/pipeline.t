#!/usr/bin/perl
# The request pipeline (API.md §1, DESIGN.md §3): routing before
# authentication (404, 405 + Allow, 501), X-Request-Id on every answer,
# content type and JSON checks (415, 400), the 1 MiB cap (413, nginx's own
# page in the API shape), odd paths, and a spray of garbage that must never
# produce a 5xx.
use strict;
use warnings;
BEGIN { unless ($ENV{SHUSH_URL}) { print "1..0 # SKIP no stack\n"; exit 0 } }
use FindBin qw($Bin);
use lib $Bin;
use ApiTest;
use Test::More;
binmode(Test::More->builder->$_, ":encoding(UTF-8)") for qw(output failure_output todo_output);

my $URL = url();
my $RID = qr/^[0-9a-f]{32}$/;

# An error answer in API.md's shape: {code, message, field?, requestId?}.
sub error_shape {
	my ($r, $what) = @_;
	my $j = $r->{json};
	my $ok = ref $j eq 'HASH' && defined $j->{code} && !ref $j->{code}
		&& $j->{code} =~ /^[A-Z][A-Z0-9_]*$/ && defined $j->{message} && !ref $j->{message}
		&& !grep { !/^(code|message|field|requestId)$/ } keys %$j;
	ok($ok, "$what: error body is {code,message}") or diag "$r->{status} $r->{body}";
	like(hdr($r, 'Content-Type') // '', qr{^application/json}, "$what: JSON");
}

sub request_id_ok {
	my ($r, $what) = @_;
	like(hdr($r, 'X-Request-Id') // '', $RID, "$what: X-Request-Id");
	if ($r->{status} >= 500) {
		is(ref $r->{json} eq 'HASH' ? $r->{json}{requestId} : undef, hdr($r, 'X-Request-Id'),
			"$what: 5xx body has requestId = X-Request-Id");
	}
}

my $me = signup(tag => 'pipe');

# ---- routing ----------------------------------------------------------------
subtest 'unknown path: 404 in the error shape' => sub {
	for my $p ('/v1/nope', '/v1/me/extra', '/v1/ME', '/v1/me/', '/v1/projects/p1/nope',
		'/api/auth/nope', '/api/auth/sign-in', '/runtime/v1/nope', '/v1/') {
		my $r = req('GET', $p);
		is($r->{status}, 404, "GET $p: 404");
		error_shape($r, "GET $p");
		is($r->{json}{code}, 'NOT_FOUND', "GET $p: NOT_FOUND");
		request_id_ok($r, "GET $p");
	}
	my $r = req('POST', '/v1/nope', { json => {}, cookie => $me->{cookie} });
	is($r->{status}, 404, 'POST to an unknown path with a cookie and no Origin: 404 (routing first)');
};

subtest 'known path, other method: 405 with Allow' => sub {
	my %cases = (
		'DELETE /v1/me'                => 'GET, PATCH',
		'PUT /v1/me'                   => 'GET, PATCH',
		'POST /v1/me'                  => 'GET, PATCH',
		'POST /api/auth/get-session'   => 'GET',
		'GET /api/auth/sign-in/email'  => 'POST',
		'GET /api/auth/sign-up/email'  => 'POST',
		'DELETE /api/auth/sign-out'    => 'POST',
		'PUT /v1/projects'             => 'GET, POST',
		'POST /health'                 => 'GET',
	);
	for my $k (sort keys %cases) {
		my ($m, $p) = split / /, $k;
		my $r = req($m, $p, { cookie => $me->{cookie} });
		is($r->{status}, 405, "$k: 405");
		my @allow = sort split /\s*,\s*/, hdr($r, 'Allow') // '';
		is_deeply(\@allow, [ sort split /, /, $cases{$k} ], "$k: Allow: $cases{$k}");
		error_shape($r, $k);
		request_id_ok($r, $k);
	}
	my $r = req('DELETE', '/v1/me');
	is($r->{status}, 405, 'DELETE /v1/me without a cookie: 405, not 401 (routing first)');
};

subtest 'unbuilt route: 501 NOT_IMPLEMENTED with requestId' => sub {
	for my $k ('GET /v1/projects/abc/webhooks', 'POST /v1/projects/abc/webhooks', 'GET /v1/billing/current',
		'GET /v1/sso/scim/tokens', 'GET /v1/projects/abc/integrations', 'GET /v1/orgs/current/kms') {
		my ($m, $p) = split / /, $k;
		my $r = req($m, $p, $m eq 'POST' ? { json => { name => 'x' } } : {});
		is($r->{status}, 501, "$k: 501");
		error_shape($r, $k);
		is($r->{json}{code}, 'NOT_IMPLEMENTED', "$k: NOT_IMPLEMENTED");
		request_id_ok($r, $k);
		like($r->{json}{requestId} // '', $RID, "$k: requestId present");
	}
};

# ---- X-Request-Id ---------------------------------------------------------------
subtest 'X-Request-Id on every answer, never the client\'s' => sub {
	my @seen;
	my @reqs = (
		[ 'GET', '/health', {}, 200 ],
		[ 'GET', '/v1/me', { cookie => $me->{cookie} }, 200 ],
		[ 'GET', '/api/auth/get-session', {}, 200 ],
		[ 'GET', '/v1/me', {}, 401 ],
		[ 'PATCH', '/v1/me', { cookie => $me->{cookie}, json => {} }, 403 ],
		[ 'GET', '/v1/nope', {}, 404 ],
		[ 'DELETE', '/v1/me', {}, 405 ],
		[ 'POST', '/api/auth/sign-in/email', { body => 'x', headers => { 'Content-Type' => 'text/plain' } }, 415 ],
		[ 'POST', '/api/auth/sign-in/email', { json => '{' }, 400 ],
		[ 'POST', '/api/auth/sign-up/email', { json => { name => 'D', email => $me->{email}, password => 'password1234' } }, 422 ],
		[ 'GET', '/v1/projects/abc/webhooks', {}, 501 ],
		[ 'PATCH', '/v1/me', { cookie => $me->{cookie}, origin => 1, json => '{"a":"' . ('x' x (1 << 20)) . '"}' }, 413 ],
	);
	for my $q (@reqs) {
		my ($m, $p, $o, $want) = @$q;
		$o->{headers}{'X-Request-Id'} = 'client-chosen-id-0123456789abcdef';
		my $r = req($m, $p, $o);
		is($r->{status}, $want, "$m $p: $want") or diag $r->{body};
		request_id_ok($r, "$m $p ($want)");
		isnt(hdr($r, 'X-Request-Id'), 'client-chosen-id-0123456789abcdef',
			"$m $p ($want): the client's X-Request-Id is not echoed");
		unlike($r->{body}, qr/client-chosen-id/, "$m $p ($want): nor put in the body");
		push @seen, hdr($r, 'X-Request-Id');
	}
	my %u = map { ($_ // '') => 1 } @seen;
	is(scalar keys %u, scalar @seen, 'every answer has its own id');
};

# ---- content type and JSON ------------------------------------------------------
subtest 'content type: 415 for a body that is not JSON' => sub {
	my $body = json_enc({ email => $me->{email}, password => $me->{password} });
	for my $ct ('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
		'application/jsonp', 'application/json-patch+json', 'json', '') {
		my $r = req('POST', '/api/auth/sign-in/email',
			{ body => $body, headers => $ct eq '' ? {} : { 'Content-Type' => $ct } });
		is($r->{status}, 415, "Content-Type '$ct': 415");
		error_shape($r, "Content-Type '$ct'");
		is_deeply($r->{set_cookies}, [], "Content-Type '$ct': nobody signed in");
	}
	my $r = req('PATCH', '/v1/me', { cookie => $me->{cookie}, origin => 1, body => '{"name":"T"}',
		headers => { 'Content-Type' => 'text/plain' } });
	is($r->{status}, 415, 'PATCH /v1/me text/plain: 415');
	for my $ct ('application/json; charset=utf-8', 'Application/JSON', 'application/json;charset=UTF-8') {
		$r = req('POST', '/api/auth/sign-in/email', { body => $body, headers => { 'Content-Type' => $ct } });
		is($r->{status}, 200, "Content-Type '$ct': accepted");
	}
};

subtest 'malformed JSON: 400' => sub {
	my @bodies = ('{', '{"email":', '{"email":"a@b.co",}', "{'a':1}", '[1,2]', '[]', '"str"',
		'42', 'null', 'true', '{"a":1} x', "\xef\xbb\xbf{}", '{"a":NaN}', '{"a":1e99999999}x',
		'{"a" 1}', '{"a":"\x01"}x', "{\"a\":\"b\"}\x00", '{"a":"\u12"}');
	for my $b (@bodies) {
		(my $d = $b) =~ s/([^\x20-\x7e])/sprintf '\\x%02x', ord $1/ge;
		my $r = req('POST', '/api/auth/sign-in/email', { json => $b });
		is($r->{status}, 400, "'$d': 400") or diag $r->{body};
		error_shape($r, "'$d'");
	}
	my $r = req('POST', '/api/auth/sign-up/email', { json => '[{"name":"a","email":"' . rand_email() . '","password":"password1234"}]' });
	is($r->{status}, 400, 'a JSON array of a valid body: 400');
	$r = req('PATCH', '/v1/me', { cookie => $me->{cookie}, origin => 1, json => '{"name":' });
	is($r->{status}, 400, 'PATCH /v1/me malformed: 400');
	$r = req('PATCH', '/v1/me', { cookie => $me->{cookie}, origin => 1, json => '["name","x"]' });
	is($r->{status}, 400, 'PATCH /v1/me array: 400');
};

subtest 'empty body where none is needed' => sub {
	my $u = signup(tag => 'empty');
	for my $case ([ 'no body', {} ], [ 'empty body', { body => '' } ],
		[ 'empty JSON body', { json => '' } ], [ '{}', { json => {} } ],
		[ 'blank text/plain', { body => " \r\n", headers => { 'Content-Type' => 'text/plain' } } ]) {
		my ($what, $o) = @$case;
		my $r = req('POST', '/api/auth/sign-out', $o);
		is($r->{status}, 200, "sign-out, $what: 200") or diag $r->{body};
		is_deeply($r->{json}, { success => JSON::PP::true }, "sign-out, $what: {success:true}");
	}
	my $r = req('POST', '/api/auth/sign-out', { cookie => $u->{cookie}, origin => 1, body => '' });
	is($r->{status}, 200, 'sign-out with a cookie and an empty body: 200');
	is(req('GET', '/api/auth/get-session', { cookie => $u->{cookie} })->{body}, 'null',
		'and the session is gone');
};

# ---- 1 MiB ------------------------------------------------------------------------
subtest 'bodies over 1 MiB: 413 in the API shape' => sub {
	my $MiB = 1 << 20;
	my $pad = sub {    # a JSON object of exactly $n bytes
		my ($n, %f) = @_;
		my $head = json_enc(\%f);
		$head =~ s/}$/,"pad":"/;
		$head = '{"pad":"' if $head eq '{,"pad":"';
		return $head . ('p' x ($n - length($head) - 2)) . '"}';
	};
	my $exact = $pad->($MiB, name => 'Exactly One MiB');
	is(length $exact, $MiB, 'test body is exactly 1 MiB');
	my $r = req('PATCH', '/v1/me', { cookie => $me->{cookie}, origin => 1, json => $exact });
	is($r->{status}, 200, 'PATCH /v1/me with exactly 1 MiB: 200') or diag $r->{body};
	is($r->{json}{name}, 'Exactly One MiB', 'and it was read whole');

	for my $p ('/api/auth/sign-up/email', '/api/auth/sign-in/email', '/v1/me', '/health',
		'/runtime/v1/secrets') {
		my $m = $p eq '/v1/me' ? 'PATCH' : $p =~ m{^/(health|runtime)} ? 'GET' : 'POST';
		$r = req($m, $p, { cookie => $me->{cookie}, origin => 1, json => $pad->($MiB + 1, name => 'Too Big') });
		is($r->{status}, 413, "$m $p with 1 MiB + 1 byte: 413");
		error_shape($r, "$m $p 413");
		is($r->{json}{code}, 'PAYLOAD_TOO_LARGE', "$m $p: PAYLOAD_TOO_LARGE");
		like(hdr($r, 'X-Request-Id') // '', $RID, "$m $p 413: X-Request-Id");
		is($r->{json}{requestId}, hdr($r, 'X-Request-Id'), "$m $p 413: requestId = X-Request-Id");
	}
	isnt(req('GET', '/v1/me', { cookie => $me->{cookie} })->{json}{name}, 'Too Big',
		'the refused PATCH changed nothing');

	# Chunked bodies: no Content-Length up front, the same cap.
	my $small = json_enc({ name => 'Chunked Name' });
	my $mk = sub {
		my ($body) = @_;
		my $chunks = '';
		for (my $i = 0; $i < length $body; $i += 65536) {
			my $c = substr($body, $i, 65536);
			$chunks .= sprintf("%x\r\n", length $c) . $c . "\r\n";
		}
		my ($hostport) = $URL =~ m{^https?://([^/]+)};
		return "PATCH /v1/me HTTP/1.1\r\nHost: $hostport\r\nCookie: $me->{cookie}\r\n"
			. "Origin: $URL\r\nContent-Type: application/json\r\n"
			. "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n$chunks" . "0\r\n\r\n";
	};
	$r = raw($mk->($small));
	is($r->{status}, 200, 'chunked small body: 200') or diag $r->{body};
	is($r->{json}{name}, 'Chunked Name', 'chunked body was read');
	$r = raw($mk->($pad->($MiB + 100, name => 'Too Big')));
	is($r->{status}, 413, 'chunked body over 1 MiB: 413');
	is($r->{json}{code}, 'PAYLOAD_TOO_LARGE', 'PAYLOAD_TOO_LARGE');

	# A Content-Length over the cap is refused before the body is sent.
	my ($hostport) = $URL =~ m{^https?://([^/]+)};
	$r = raw("POST /api/auth/sign-in/email HTTP/1.1\r\nHost: $hostport\r\n"
		. "Content-Type: application/json\r\nContent-Length: 99999999999\r\nConnection: close\r\n\r\n{}");
	is($r->{status}, 413, 'a huge Content-Length: 413');
};

# ---- odd paths and queries ------------------------------------------------------------
subtest 'traversal, encodings, long paths, NUL: 4xx, never 5xx' => sub {
	my ($hostport) = $URL =~ m{^https?://([^/]+)};
	my @paths = ('/v1/../etc/passwd', '/v1/../../etc/passwd', '/v1/%2e%2e/%2e%2e/etc/passwd',
		'/v1/me/..%2f..%2fetc%2fpasswd', '/v1/%6De', '/v1/me%00', '/v1/%00', '/v1/me%00.json',
		'/v1//me', '/v1/me/.', '/v1/./me', '/v1/me%2F', '/v1/%2e/me', '/v1/me%20', '/v1/me;x=y',
		'/v1/%ff%fe', '/v1/%', '/v1/%zz', '/v1/me?x=%00', '/v1/me?%00', '/v1/me?x=%',
		'/v1/me?' . ('q=1&' x 2000), '/v1/' . ('a' x 9000), '/v1/' . ('a/' x 3000),
		'/v1/projects/' . ('x' x 600) . '/secrets', '/api/auth/get-session/..%2F..%2Fv1%2Fme',
		'/api/auth/%2e%2e/%2e%2e/v1/me', '/v1/me/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
		'/v1/\\..\\..\\etc\\passwd', '/api/auth/sign-in/email%00');
	for my $p (@paths) {
		my $d = length $p > 60 ? substr($p, 0, 57) . '...' : $p;
		my $r = raw("GET $p HTTP/1.1\r\nHost: $hostport\r\nConnection: close\r\n\r\n");
		ok($r->{status} >= 400 && $r->{status} < 500, "GET $d: 4xx") or diag "got $r->{status}";
		unlike($r->{body}, qr/root:|"email"/, "GET $d: no file or user data");
	}
	my $r = raw("GET /v1/me?x=\x00y HTTP/1.1\r\nHost: $hostport\r\nConnection: close\r\n\r\n");
	ok($r->{status} >= 400 && $r->{status} < 500, 'raw NUL byte in the query: 4xx');
	$r = raw("GET /v1/m\x00e HTTP/1.1\r\nHost: $hostport\r\nConnection: close\r\n\r\n");
	ok($r->{status} >= 400 && $r->{status} < 500, 'raw NUL byte in the path: 4xx');
	for my $q ('?x=%00', '?%00=%00&a=%', '?a=' . ('%ff' x 1000)) {
		$r = req('GET', "/v1/me$q", { cookie => $me->{cookie} });
		cmp_ok($r->{status}, '<', 500, "signed in, GET /v1/me$q: not a 5xx");
		$r = req('GET', "/api/auth/get-session$q", { cookie => $me->{cookie} });
		cmp_ok($r->{status}, '<', 500, "get-session$q: not a 5xx");
	}
};

# ---- the spray ------------------------------------------------------------------------
subtest 'garbage never gets a 5xx' => sub {
	my $seed = $ENV{SHUSH_TEST_SEED} // time;
	srand($seed);
	note "random seed $seed (SHUSH_TEST_SEED to repeat)";
	my $s = signup(tag => 'spray');
	my @cases;    # [method, path, options, label, field-that-must-be-named-or-undef]
	my $auth = sub { ({ cookie => $s->{cookie}, origin => 1 }) };
	my @targets = (
		[ 'POST', '/api/auth/sign-up/email', {} ],
		[ 'POST', '/api/auth/sign-in/email', {} ],
		[ 'POST', '/api/auth/sign-out', {} ],
		[ 'PATCH', '/v1/me', 1 ],
		[ 'GET', '/v1/me', 1 ],
	);
	# Random bytes as JSON bodies.
	for my $i (1 .. 40) {
		my $t = $targets[ $i % @targets ];
		my $b = join '', map { chr int rand 256 } 1 .. 1 + int rand 300;
		$b = '{' . $b if $i % 3 == 0;
		push @cases, [ $t->[0], $t->[1], { ($t->[2] ? %{ $auth->() } : ()), json => $b }, "random bytes #$i" ];
	}
	# Wrong types for every field.
	my @wrong = (0, -1, 1.5, 1e300, JSON::PP::true, JSON::PP::false, [], {}, ['x'], { a => 'b' },
		[ [ [ [] ] ] ]);
	my %string_fields = (
		'POST /api/auth/sign-up/email' => { base => sub { { name => 'N', email => rand_email('w'), password => 'password1234' } },
			fields => [qw(name email password)], bool => ['rememberMe'] },
		'POST /api/auth/sign-in/email' => { base => sub { { email => $s->{email}, password => $s->{password} } },
			fields => [qw(email password)], bool => ['rememberMe'] },
		'PATCH /v1/me' => { base => sub { { name => 'Spray' } }, fields => [qw(name image)], bool => [] },
	);
	for my $k (sort keys %string_fields) {
		my ($m, $p) = split / /, $k;
		my $spec = $string_fields{$k};
		for my $f (@{ $spec->{fields} }) {
			for my $v (@wrong) {
				my $b = $spec->{base}->();
				$b->{$f} = $v;
				push @cases, [ $m, $p, { ($p eq '/v1/me' ? %{ $auth->() } : ()), json => $b },
					"$k $f=" . JSON::PP->new->allow_nonref->canonical->encode($v), $f ];
			}
		}
		for my $f (@{ $spec->{bool} }) {
			for my $v ('true', 'false', 0, 1, [], {}, '') {
				my $b = $spec->{base}->();
				$b->{$f} = $v;
				push @cases, [ $m, $p, { json => $b }, "$k $f=" . JSON::PP->new->allow_nonref->encode($v), $f ];
			}
		}
		# Huge strings, unicode, controls and nesting in every field.
		for my $f (@{ $spec->{fields} }) {
			for my $v ('x' x 100_000, "\x{1F600}" x 5000, "\x{202e}\x{fffd}\x{10ffff}\x{0301}",
				"a\tb\nc\r\x01\x7f", "@" x 300, '%00%ff', '<script>alert(1)</script>',
				"' or 1=1 --", ('[' x 5000)) {
				my $b = $spec->{base}->();
				$b->{$f} = $v;
				push @cases, [ $m, $p, { ($p eq '/v1/me' ? %{ $auth->() } : ()), json => $b },
					"$k $f=" . substr(JSON::PP->new->ascii->encode([$v]), 2, 20) . '...' ];
			}
		}
	}
	# Raw JSON oddities.
	for my $b ('[' x 100_000, '{"a":' x 50_000, ('{"a":' x 999) . '1' . ('}' x 999),
		('[' x 1001) . (']' x 1001), '{"name":"\ud800"}', '{"name":"\udfff\ud800"}',
		"{\"name\":\"\xc0\xaf\"}", "{\"name\":\"\xed\xa0\x80\"}", "{\"name\":\"\xf4\x90\x80\x80\"}",
		'{"name":"a","name":1}', '{"name":1,"name":"a"}', '{"image":null,"name":null}',
		'{"name":-0}', '{"name":1e-99999}', '{"__proto__":{"a":1}}', '{"":""}',
		'{"email":"a@b.co","password":"' . ('\u0000' x 20) . '","name":"x"}',
		'{"name":"' . ('\\' x 1000) . '"}') {
		for my $t ([ 'POST', '/api/auth/sign-up/email', 0 ], [ 'PATCH', '/v1/me', 1 ],
			[ 'POST', '/api/auth/sign-in/email', 0 ]) {
			push @cases, [ $t->[0], $t->[1], { ($t->[2] ? %{ $auth->() } : ()), json => $b },
				"$t->[0] $t->[1] raw " . substr(($b =~ s/[^\x20-\x7e]/?/gr), 0, 24) ];
		}
	}
	# Garbage cookies and headers.
	for my $c ('better-auth.session_token=%', 'better-auth.session_token=%%%.%%%', '=;;;=;',
		'better-auth.session_token=' . ('A' x 3000), 'better-auth.session_token=a.b; better-auth.session_token=c.d',
		'better-auth.session_token=' . ('%2e' x 80), 'better-auth.dont_remember=true; better-auth.session_token=',
		"better-auth.session_token=\x{e9}\x{e8}") {
		push @cases, [ 'GET', '/api/auth/get-session', { cookie => $c }, "get-session cookie " . substr($c, 0, 40) ];
		push @cases, [ 'GET', '/v1/me', { cookie => $c }, "/v1/me cookie " . substr($c, 0, 40) ];
		push @cases, [ 'POST', '/api/auth/sign-out', { cookie => $c, origin => 1 }, "sign-out cookie " . substr($c, 0, 40) ];
	}
	for my $o ('null', 'http://', '://', "\x{e9}", 'x' x 4000, "$URL/../..", 'file:///etc/passwd') {
		push @cases, [ 'PATCH', '/v1/me', { cookie => $s->{cookie}, origin => $o, json => { name => 'O' } }, "Origin $o" ];
	}
	for my $ct ('application/json; charset=utf-16', 'application/json;;;', ';', 'application/json' . (' ' x 500)) {
		push @cases, [ 'POST', '/api/auth/sign-in/email', { body => '{}', headers => { 'Content-Type' => $ct } }, "Content-Type $ct" ];
	}

	my (%fivexx, $n);
	for my $c (@cases) {
		my ($m, $p, $o, $label, $field) = @$c;
		utf8::encode($o->{cookie}) if defined $o->{cookie};
		utf8::encode($o->{origin}) if defined $o->{origin};
		utf8::encode($o->{json}) if defined $o->{json} && !ref $o->{json} && utf8::is_utf8($o->{json});
		my $r = req($m, $p, $o);
		$n++;
		if ($r->{status} >= 500 || $r->{status} < 200) {
			$fivexx{$label} = "$r->{status} $r->{body}";
			fail("$label: $r->{status}");
			next;
		}
		if ($r->{status} >= 400) {
			my $j = $r->{json};
			ok(ref $j eq 'HASH' && defined $j->{code} && defined $j->{message},
				"$label: $r->{status} in the error shape") or diag $r->{body};
		} else {
			pass("$label: $r->{status}");
		}
		if (defined $field) {
			is($r->{status}, 400, "$label: wrong type is 400") or diag $r->{body};
			is($r->{json}{field}, $field, "$label: names the field");
		}
	}
	cmp_ok($n, '>=', 200, "sprayed $n requests");
	is_deeply(\%fivexx, {}, 'no 5xx and no connection failures') or diag explain \%fivexx;
	is(req('GET', '/health')->{status}, 200, 'the service is still up');
	is(req('GET', '/v1/me', { cookie => $s->{cookie} })->{json}{email}, $s->{email},
		'and the spray user is intact');
};

done_testing;
