#!/usr/bin/perl
# better-auth compatible sign-in under /api/auth (API.md §2): bodies, codes,
# cookie format and signature, session lifetime and refresh, password
# storage, the Origin rule and the client address.
use strict;
use warnings;
BEGIN { unless ($ENV{SHUSH_URL}) { print "1..0 # SKIP no stack\n"; exit 0 } }
use FindBin qw($Bin);
use lib $Bin;
use ApiTest;
use Digest::SHA qw(hmac_sha256_base64);
use Test::More;
binmode(Test::More->builder->$_, ":encoding(UTF-8)") for qw(output failure_output todo_output);
use Time::Local qw(timegm);

my $URL = url();
my $SECRET = conf('BETTER_AUTH_SECRET');
my $HAVE_DB = defined conf('DATABASE_URL');
my $CNAME = session_cookie_name();
my $ID_RE = qr/^[A-Za-z0-9]{32}$/;
my $TS_RE = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

sub iso_epoch {
	my ($s) = @_;
	my ($Y, $M, $D, $h, $m, $sec, $ms) = $s =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)Z$/
		or return undef;
	return timegm($sec, $m, $h, $D, $M - 1, $Y) + $ms / 1000;
}

# better-auth's cookie value for a token: token "." encodeURIComponent(base64(HMAC)).
sub signed {
	my ($value) = @_;
	my $b64 = hmac_sha256_base64($value, $SECRET);
	$b64 .= '=' while length($b64) % 4;
	(my $enc = $b64) =~ s{([+/=])}{sprintf '%%%02X', ord $1}ge;
	return "$value.$enc";
}

sub attrs {
	my ($r, $name) = @_;
	for my $c (@{ $r->{set_cookies} }) {
		return $c if $c =~ /^\Q$name\E=/;
	}
	return '';
}

sub get_session {
	my ($cookie) = @_;
	return req('GET', '/api/auth/get-session', { cookie => $cookie });
}

sub sign_in {
	my ($email, $password, %o) = @_;
	return req('POST', '/api/auth/sign-in/email',
		{ json => { email => $email, password => $password, %{ $o{extra} // {} } },
		  headers => $o{headers} // {} });
}

# ---- sign-up --------------------------------------------------------------
subtest 'sign-up: 200 {token,user} and the session cookie' => sub {
	my $email = rand_email('Up');
	$email =~ s/^up/UP/i;
	my $mixed = "Mixed.$email";
	my $r = req('POST', '/api/auth/sign-up/email',
		{ json => { name => 'Ada Lovelace', email => $mixed, password => 'password1234' } });
	is($r->{status}, 200, 'status 200') or diag $r->{body};
	is_deeply([ sort keys %{ $r->{json} } ], [qw(token user)], 'body is {token,user}');
	my ($tok, $u) = @{ $r->{json} }{qw(token user)};
	like($tok, $ID_RE, 'token is 32 alphanumerics');
	is_deeply([ sort keys %$u ],
		[qw(createdAt email emailVerified id image name updatedAt)], "user has better-auth's keys");
	like($u->{id}, $ID_RE, 'user id is 32 alphanumerics');
	is($u->{email}, lc $mixed, 'email is lowercased');
	is($u->{name}, 'Ada Lovelace', 'name kept');
	ok(JSON::PP::is_bool($u->{emailVerified}) && !$u->{emailVerified}, 'emailVerified false');
	ok(!defined $u->{image}, 'image null');
	like($u->{createdAt}, $TS_RE, 'createdAt ISO with ms');
	ok(abs(iso_epoch($u->{createdAt}) - time) < 300, 'createdAt is now');

	my $set = attrs($r, $CNAME);
	ok($set ne '', 'Set-Cookie for the session token') or diag explain $r->{set_cookies};
	my ($value) = $set =~ /^\Q$CNAME\E=([^;]*)/;
	like($value // '', qr/^\Q$tok\E\.[A-Za-z0-9%]+$/, 'cookie is token.signature');
	SKIP: {
		skip 'BETTER_AUTH_SECRET not available', 1 unless defined $SECRET;
		is($value, signed($tok), 'signature is url-encoded base64 HMAC-SHA256 (padded)');
	}
	my @parts = map { s/^\s+|\s+$//gr } split /;/, $set;
	shift @parts;
	is_deeply([ sort @parts ],
		[ sort('Max-Age=604800', 'Path=/', 'HttpOnly', 'SameSite=Lax') ],
		'attributes Max-Age=604800; Path=/; HttpOnly; SameSite=Lax');

	my $g = get_session("$CNAME=$value");
	is($g->{status}, 200, 'get-session with the cookie');
	is($g->{json}{user}{id}, $u->{id}, 'the cookie names this user');
	is($g->{json}{session}{token}, $tok, 'and this session');
	my $exp = iso_epoch($g->{json}{session}{expiresAt} // '');
	ok(defined $exp && abs($exp - (time + 7 * 86400)) < 300, 'session lasts 7 days')
		or diag $g->{json}{session}{expiresAt};

	# Duplicate, in another case.
	my $d = req('POST', '/api/auth/sign-up/email',
		{ json => { name => 'Other', email => uc $mixed, password => 'password1234' } });
	is($d->{status}, 422, 'duplicate e-mail (other case) is 422');
	is($d->{json}{code}, 'USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL', 'code');
	is_deeply($d->{set_cookies}, [], 'no cookie on a refused sign-up');
};

subtest 'sign-up: password length' => sub {
	my %cases = (
		'7 chars'              => [ 'x' x 7,           400, 'PASSWORD_TOO_SHORT' ],
		'8 chars'              => [ 'x' x 8,           200 ],
		'128 chars'            => [ 'y' x 128,         200 ],
		'129 chars'            => [ 'y' x 129,         400, 'PASSWORD_TOO_LONG' ],
		'7 two-byte chars'     => [ "\x{e9}" x 7,      400, 'PASSWORD_TOO_SHORT' ],
		'8 two-byte chars'     => [ "\x{e9}" x 8,      200 ],
		'empty'                => [ '',                400, 'PASSWORD_TOO_SHORT' ],
	);
	for my $k (sort keys %cases) {
		my ($pw, $st, $code) = @{ $cases{$k} };
		my $r = req('POST', '/api/auth/sign-up/email',
			{ json => { name => 'P', email => rand_email('pw'), password => $pw } });
		is($r->{status}, $st, "$k: $st") or diag $r->{body};
		is($r->{json}{code}, $code, "$k: $code") if $code;
	}
};

subtest 'sign-up: bad e-mail and missing fields' => sub {
	# better-auth 1.7.25 answers VALIDATION_ERROR on sign-up (zod body
	# schema) and INVALID_EMAIL on sign-in; either is a 400.
	for my $e ('not-an-email', 'a@b', '@example.com', 'a b@example.com', 'a@@example.com',
		'a@example.', '') {
		my $r = req('POST', '/api/auth/sign-up/email',
			{ json => { name => 'E', email => $e, password => 'password1234' } });
		is($r->{status}, 400, "'$e' is 400");
		like($r->{json}{code} // '', qr/^(INVALID_EMAIL|VALIDATION_ERROR)$/, "'$e' is INVALID_EMAIL");
	}
	my %full = (name => 'M', email => rand_email('miss'), password => 'password1234');
	for my $f (qw(name email password)) {
		my %b = %full;
		delete $b{$f};
		my $r = req('POST', '/api/auth/sign-up/email', { json => \%b });
		is($r->{status}, 400, "missing $f is 400") or diag $r->{body};
		like($r->{json}{code} // '', qr/^[A-Z_]+$/, "missing $f has an error code");
	}
	my $r = req('POST', '/api/auth/sign-up/email', { body => '' });
	is($r->{status}, 400, 'no body at all is 400');
	is(psql('select count(*) from "user" where email = ' . sql_quote($full{email})), 0,
		'nothing was created') if $HAVE_DB;
};

# better-auth validates addresses with zod 4's z.email():
#   ^(?:[A-Za-z0-9_'+\-]+\.)*[A-Za-z0-9_'+\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$
# What it refuses, shush refuses (a user shush creates must be able to sign
# in through better-auth, and an e-mail is lowercased exactly once).
subtest 'sign-up and sign-in: the e-mail grammar of better-auth' => sub {
	my $r0 = join '', map { ('a' .. 'z')[int rand 26] } 1 .. 10;
	for my $e ("\x{c9}lodie$r0\@example.com", "a$r0\@b.c", "\x{1F600}$r0\@example.com",
		"a..b$r0\@example.com", ".a$r0\@example.com", "a$r0.\@example.com",
		"a$r0\@ex_ample.com", "a$r0\@-x.com", "a$r0\@1.2.3.4", "a$r0\@localhost",
		"\"q$r0\"\@example.com", "a$r0\@example.c0m") {
		my $r = req('POST', '/api/auth/sign-up/email',
			{ json => { name => 'E', email => $e, password => 'password1234' } });
		is($r->{status}, 400, "sign-up '$e': 400") or diag $r->{body};
		like($r->{json}{code} // '', qr/^(INVALID_EMAIL|VALIDATION_ERROR)$/, "sign-up '$e': code");
		$r = req('POST', '/api/auth/sign-in/email', { json => { email => $e, password => 'password1234' } });
		is($r->{status}, 400, "sign-in '$e': 400");
		is($r->{json}{code}, 'INVALID_EMAIL', "sign-in '$e': INVALID_EMAIL");
	}
	for my $e ("a+b.$r0\@example.com", "o'brien.$r0\@mail.example.co.uk", "x_$r0\@xn--r8jz45g.jp",
		"UP.$r0\@EXAMPLE.COM", "a-$r0\@sub-1.example.io") {
		my $r = req('POST', '/api/auth/sign-up/email',
			{ json => { name => 'E', email => $e, password => 'password1234' } });
		is($r->{status}, 200, "sign-up '$e': 200") or diag $r->{body};
		is($r->{json}{user}{email}, lc $e, "'$e' stored lowercased");
	}
};

# ---- sign-in --------------------------------------------------------------
my $alice = signup(tag => 'alice', password => 'alice-password-1');

subtest 'sign-in: 200 {redirect:false,token,user}' => sub {
	my $r = sign_in(uc $alice->{email}, $alice->{password});
	is($r->{status}, 200, 'status 200 (e-mail matched case-insensitively)') or diag $r->{body};
	is_deeply([ sort keys %{ $r->{json} } ], [qw(redirect token user)], 'keys');
	ok(JSON::PP::is_bool($r->{json}{redirect}) && !$r->{json}{redirect}, 'redirect false');
	like($r->{json}{token}, $ID_RE, 'token');
	isnt($r->{json}{token}, $alice->{token}, 'a new session');
	is($r->{json}{user}{id}, $alice->{user}{id}, 'the user');
	like(attrs($r, $CNAME), qr/; Max-Age=604800(;|$)/, 'cookie lasts 7 days');
	SKIP: {
		skip 'BETTER_AUTH_SECRET not available', 1 unless defined $SECRET;
		is(cookie_value($r, $CNAME), signed($r->{json}{token}), 'cookie signature');
	}
};

subtest 'sign-in: wrong password and unknown e-mail are the same 401' => sub {
	my $w = sign_in($alice->{email}, 'not-the-password');
	is($w->{status}, 401, 'wrong password 401');
	is($w->{json}{code}, 'INVALID_EMAIL_OR_PASSWORD', 'code');
	is_deeply($w->{set_cookies}, [], 'no cookie');
	my $u = sign_in(rand_email('nobody'), 'not-the-password');
	is($u->{status}, 401, 'unknown e-mail 401');
	is($u->{json}{code}, 'INVALID_EMAIL_OR_PASSWORD', 'code');
	is($u->{body}, $w->{body}, 'identical bodies');
	my $s = sign_in($alice->{email}, substr($alice->{password}, 0, -1));
	is($s->{status}, 401, 'a prefix of the password is 401');
	my $bad = sign_in('not-an-email', 'whatever12');
	is($bad->{status}, 400, 'malformed e-mail is 400');
	is($bad->{json}{code}, 'INVALID_EMAIL', 'INVALID_EMAIL');
};

# A JSON string may carry U+0000; the server must not compare only the part
# before it (C strings): "pw\u0000anything" is not the password "pw".
subtest 'sign-in: a password with U+0000 is not truncated' => sub {
	my $r = req('POST', '/api/auth/sign-in/email',
		{ json => '{"email":"' . $alice->{email} . '","password":"'
			. $alice->{password} . '\u0000suffix"}' });
	isnt($r->{status}, 200, 'password + "\u0000suffix" does not sign in')
		or diag $r->{body};
	cmp_ok($r->{status}, '<', 500, 'and is not a 5xx');
	my $email = rand_email('nul');
	my $s = req('POST', '/api/auth/sign-up/email',
		{ json => '{"name":"N","email":"' . $email
			. '","password":"short\u0000-but-long-enough"}' });
	if ($s->{status} == 200) {
		my $t = sign_in($email, 'short');
		isnt($t->{status}, 200, 'after sign-up with "short\u0000…", "short" alone does not sign in');
	} else {
		is($s->{status}, 400, 'sign-up with U+0000 in the password is refused with 400');
	}
};

subtest 'password storage' => sub {
	plan skip_all => 'DATABASE_URL not available' unless $HAVE_DB;
	my $row = psql('select a."providerId", a."accountId", a.password from account a join "user" u'
		. ' on u.id = a."userId" where u.email = ' . sql_quote($alice->{email}));
	my ($prov, $acct, $pw) = split /\|/, $row;
	is($prov, 'credential', 'providerId credential');
	is($acct, $alice->{user}{id}, 'accountId is the user id');
	like($pw // '', qr/^[0-9a-f]{32}:[0-9a-f]{128}$/, 'password is <32 hex salt>:<128 hex key>');
	unlike($pw // '', qr/\Q$alice->{password}\E/, 'not the plain password');
	my $bob = signup(tag => 'bob', password => $alice->{password});
	my $pw2 = psql('select a.password from account a join "user" u on u.id = a."userId"'
		. ' where u.email = ' . sql_quote($bob->{email}));
	isnt($pw2, $pw, 'the same password hashes differently (random salt)');
};

# ---- get-session ------------------------------------------------------------
subtest 'get-session: session and user, or the literal null' => sub {
	my $g = get_session($alice->{cookie});
	is($g->{status}, 200, 'get-session 200');
	is_deeply([ sort keys %{ $g->{json} } ], [qw(session user)], '{session,user}');
	my $s = $g->{json}{session};
	is_deeply([ sort keys %$s ],
		[ sort qw(id expiresAt token createdAt updatedAt ipAddress userAgent userId
			activeOrganizationId) ], "session has better-auth's keys");
	is($s->{userId}, $alice->{user}{id}, 'userId');
	is($s->{token}, $alice->{token}, 'token');
	like(hdr($g, 'Cache-Control') // '', qr/no-store/, 'Cache-Control: no-store');

	my $n = get_session(undef);
	is($n->{status}, 200, 'no cookie: 200');
	is($n->{body}, 'null', 'no cookie: literal null');

	my ($name, $val) = split /=/, $alice->{cookie}, 2;
	my ($tok, $sig) = split /\./, $val, 2;
	my %tampered = (
		'token changed'     => "$name=" . (substr($tok, 0, -1) . (substr($tok, -1) eq 'a' ? 'b' : 'a')) . ".$sig",
		'signature changed' => "$name=$tok." . (substr($sig, 0, 1) eq 'A' ? 'B' : 'A') . substr($sig, 1),
		'no signature'      => "$name=$tok",
		'empty signature'   => "$name=$tok.",
		'garbage'           => "$name=" . ('%' x 40),
		'huge'              => "$name=" . ('a' x 4000) . ".$sig",
	);
	for my $k (sort keys %tampered) {
		my $t = get_session($tampered{$k});
		is($t->{status}, 200, "$k: 200");
		is($t->{body}, 'null', "$k: null");
	}
	SKIP: {
		skip 'BETTER_AUTH_SECRET not available', 3 unless defined $SECRET;
		my $mine = get_session("$CNAME=" . signed($alice->{token}));
		is($mine->{json}{user}{id}, $alice->{user}{id},
			'a cookie signed here with BETTER_AUTH_SECRET is accepted');
		my $ghost = get_session("$CNAME=" . signed('A' x 32));
		is($ghost->{body}, 'null', 'validly signed unknown token: null');
		like(attrs($ghost, $CNAME), qr/^\Q$CNAME\E=;.*Max-Age=0/, 'and the cookie is cleared');
	}
};

# ---- sign-out ---------------------------------------------------------------
subtest 'sign-out ends the session' => sub {
	my $u = signup(tag => 'out');
	my $r = req('POST', '/api/auth/sign-out', { cookie => $u->{cookie}, origin => 1 });
	is($r->{status}, 200, 'sign-out 200');
	is_deeply($r->{json}, { success => JSON::PP::true }, '{success:true}');
	like(attrs($r, $CNAME), qr/^\Q$CNAME\E=;.*Max-Age=0/, 'cookie cleared');
	is(get_session($u->{cookie})->{body}, 'null', 'get-session with the old cookie: null');
	is(req('GET', '/v1/me', { cookie => $u->{cookie} })->{status}, 401, 'GET /v1/me: 401');
	is(psql('select count(*) from session where token = ' . sql_quote($u->{token})), 0,
		'the session row is gone') if $HAVE_DB;
	my $again = req('POST', '/api/auth/sign-out', { cookie => $u->{cookie}, origin => 1 });
	is($again->{status}, 200, 'signing out twice is still 200');
};

# ---- rememberMe:false -------------------------------------------------------
subtest 'rememberMe:false: a 1-day session that is never stretched' => sub {
	my $u = signup(tag => 'short');
	my $r = sign_in($u->{email}, $u->{password}, extra => { rememberMe => JSON::PP::false });
	is($r->{status}, 200, 'sign-in 200') or diag $r->{body};
	my $set = attrs($r, $CNAME);
	ok($set ne '', 'session cookie set');
	unlike($set, qr/Max-Age|Expires/i, 'session cookie has no Max-Age (browser session)');
	my $dr_name = ($CNAME =~ s/session_token$/dont_remember/r);
	my $dr = cookie_value($r, $dr_name);
	ok(defined $dr, 'dont_remember cookie set');
	SKIP: {
		skip 'BETTER_AUTH_SECRET not available', 1 unless defined $SECRET;
		is($dr, signed('true'), 'dont_remember is the signed "true"');
	}
	my $both = session_cookie($r) . "; $dr_name=" . ($dr // '');
	my $g = get_session($both);
	my $exp = iso_epoch($g->{json}{session}{expiresAt} // '');
	ok(defined $exp && abs($exp - (time + 86400)) < 300, 'session expires in 1 day')
		or diag $g->{body};
	my $g2 = get_session($both);
	is($g2->{json}{session}{expiresAt}, $g->{json}{session}{expiresAt},
		'get-session with dont_remember does not extend it');
	is(attrs($g2, $CNAME), '', 'and sets no new cookie');

	# A dont_remember cookie not signed with the secret counts for nothing:
	# then the 1-day session is due for refresh like any other.
	my $g3 = get_session(session_cookie($r) . "; $dr_name=true.AAAA");
	my $exp3 = iso_epoch($g3->{json}{session}{expiresAt} // '');
	ok(defined $exp3 && abs($exp3 - (time + 7 * 86400)) < 300,
		'an unsigned dont_remember does not stop the refresh') or diag $g3->{body};
};

# ---- refresh ------------------------------------------------------------------
subtest 'a session older than a day is extended to 7 days' => sub {
	plan skip_all => 'DATABASE_URL not available' unless $HAVE_DB;
	my $u = signup(tag => 'old');
	my $g0 = get_session($u->{cookie});
	is(attrs($g0, $CNAME), '', 'a fresh session is not refreshed');
	psql(q{update session set "expiresAt" = now() + interval '5 days' where token = }
		. sql_quote($u->{token}));
	my $g = get_session($u->{cookie});
	is($g->{status}, 200, 'get-session 200');
	my $exp = iso_epoch($g->{json}{session}{expiresAt} // '');
	ok(defined $exp && abs($exp - (time + 7 * 86400)) < 300, 'expiresAt moved to ~7 days ahead')
		or diag $g->{body};
	my $db = psql(q{select extract(epoch from "expiresAt" - now())::int from session where token = }
		. sql_quote($u->{token}));
	ok(abs($db - 7 * 86400) < 300, 'and so in the database');
	my $set = attrs($g, $CNAME);
	like($set, qr/^\Q$CNAME\E=[^;]+; Max-Age=604800/, 'a new Set-Cookie with Max-Age=604800');
	is(cookie_value($g, $CNAME), ($u->{cookie} =~ s/^[^=]*=//r), 'for the same token');

	# An expired session is no session.
	psql(q{update session set "expiresAt" = now() - interval '1 minute' where token = }
		. sql_quote($u->{token}));
	is(get_session($u->{cookie})->{body}, 'null', 'an expired session: null');
	is(req('GET', '/v1/me', { cookie => $u->{cookie} })->{status}, 401, 'and /v1/me 401');
};

# ---- Origin -------------------------------------------------------------------
subtest 'Origin rule on cookie-carrying writes' => sub {
	my $u = signup(tag => 'origin');
	my $r = req('POST', '/api/auth/sign-out', { cookie => $u->{cookie} });
	is($r->{status}, 403, 'no Origin: 403');
	is($r->{json}{code}, 'MISSING_OR_NULL_ORIGIN', 'MISSING_OR_NULL_ORIGIN');
	$r = req('POST', '/api/auth/sign-out', { cookie => $u->{cookie}, origin => 'null' });
	is($r->{json}{code}, 'MISSING_OR_NULL_ORIGIN', 'Origin: null is MISSING_OR_NULL_ORIGIN');
	for my $o ('http://evil.example', "$URL.evil.example", 'https://127.0.0.1:1',
		($URL =~ s/^http:/https:/r)) {
		$r = req('POST', '/api/auth/sign-out', { cookie => $u->{cookie}, origin => $o });
		is($r->{status}, 403, "Origin $o: 403");
		is($r->{json}{code}, 'INVALID_ORIGIN', "Origin $o: INVALID_ORIGIN");
	}
	$r = req('POST', '/api/auth/sign-out',
		{ cookie => $u->{cookie}, headers => { Referer => 'http://evil.example/x' } });
	is($r->{json}{code}, 'INVALID_ORIGIN', 'untrusted Referer: INVALID_ORIGIN');
	is(get_session($u->{cookie})->{json}{user}{id}, $u->{user}{id},
		'the refused sign-outs left the session alive');

	$r = req('POST', '/api/auth/sign-out',
		{ cookie => $u->{cookie}, headers => { Referer => "$URL/dashboard?x=1" } });
	is($r->{status}, 200, 'Referer from the trusted origin: allowed');
	is(get_session($u->{cookie})->{body}, 'null', 'and the sign-out happened');

	my $v = signup(tag => 'origin2');
	$r = req('POST', '/api/auth/sign-out', { cookie => $v->{cookie}, origin => uc $URL });
	is($r->{status}, 200, 'Origin compared case-insensitively');

	# Sign-in/sign-up from an untrusted page is refused even without a cookie.
	$r = req('POST', '/api/auth/sign-in/email',
		{ json => { email => $alice->{email}, password => $alice->{password} },
		  origin => 'http://evil.example' });
	is($r->{status}, 403, 'sign-in with an untrusted Origin: 403');
	is($r->{json}{code}, 'INVALID_ORIGIN', 'INVALID_ORIGIN');
	is_deeply($r->{set_cookies}, [], 'no cookie');
	$r = req('POST', '/api/auth/sign-in/email',
		{ json => { email => $alice->{email}, password => $alice->{password} }, origin => 1 });
	is($r->{status}, 200, 'sign-in with the trusted Origin: 200');
};

# ---- client address -------------------------------------------------------------
subtest 'forged X-Forwarded-For / X-Real-IP do not set the session address' => sub {
	my $r = sign_in($alice->{email}, $alice->{password}, headers => {
		'X-Forwarded-For' => '203.0.113.7, 198.51.100.1',
		'X-Real-IP'       => '198.51.100.9',
		'User-Agent'      => 'forger/1.0',
	});
	is($r->{status}, 200, 'sign-in 200');
	my $g = get_session(session_cookie($r));
	is($g->{json}{session}{ipAddress}, '127.0.0.1', 'ipAddress is the peer address');
	is($g->{json}{session}{userAgent}, 'forger/1.0', 'userAgent recorded');
	my $u = req('POST', '/api/auth/sign-up/email', {
		json    => { name => 'F', email => rand_email('fwd'), password => 'password1234' },
		headers => { 'X-Forwarded-For' => '203.0.113.8', 'X-Real-IP' => '203.0.113.8' } });
	is(get_session(session_cookie($u))->{json}{session}{ipAddress}, '127.0.0.1',
		'same for sign-up');
};

subtest 'a User-Agent that is not UTF-8 is stored cleaned, not refused' => sub {
	my $u = req('POST', '/api/auth/sign-up/email', {
		json    => { name => 'U', email => rand_email('ua'), password => 'password1234' },
		headers => { 'User-Agent' => "bad\xff\xfe agent\x01" } });
	is($u->{status}, 200, 'sign-up 200 (was 422: the text column refused the bytes)');
	is(get_session(session_cookie($u))->{json}{session}{userAgent}, 'bad?? agent?',
		'invalid bytes and controls stored as ?');
	my $long = req('POST', '/api/auth/sign-up/email', {
		json    => { name => 'U', email => rand_email('ua'), password => 'password1234' },
		headers => { 'User-Agent' => 'x' x 4000 } });
	is(length(get_session(session_cookie($long))->{json}{session}{userAgent}), 512,
		'a long User-Agent is cut to 512 bytes');
};

done_testing;
