#!/usr/bin/perl
# API keys (REFERENCE.md "API keys", API.md §4, §6; issue 5 items 1, 5):
# the project routes (list, create, rotate with grace, revoke, delete), the
# plaintext shown once and only its hash stored, expiry, personal tokens
# (kind user) authenticating /v1 as their user, switching a token's org,
# GET/DELETE /v1/me/tokens, and environment keys refused on /v1.
use strict;
use warnings;
BEGIN { unless ($ENV{SHUSH_URL}) { print "1..0 # SKIP no stack\n"; exit 0 } }
use FindBin qw($Bin);
use lib $Bin;
use ApiTest;
use ProjTest;
use Digest::SHA qw(sha256_hex);
use JSON::PP ();
use Test::More;

my $ISO = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
my $KEYRE = qr/^shush_[A-Za-z0-9]{43}$/;
my @KEY_FIELDS = sort qw(id name kind projectId environment prefix createdAt lastUsedAt
	expiresAt revokedAt);
my $TAG = run_tag();

my $T = team('keys');
my ($OWNER, $ADMIN, $ENG, $VIEWER, $FOREIGN) = @$T{qw(owner admin engineer viewer foreign)};
my $ORG = $T->{org};
my $P = new_project($OWNER->{cookie}, name => "Keys $TAG")->{id};
my $FP = new_project($FOREIGN->{cookie}, name => "Foreign keys $TAG")->{id};

sub base { my ($p) = @_; return '/v1/projects/' . ($p // $P) . '/api-keys' }

sub err_is {
	my ($r, $status, $code, $name) = @_;
	my $ok = is($r->{status}, $status, "$name: $status");
	$ok &&= is($r->{json} && $r->{json}{code}, $code, "$name: code $code") if defined $code;
	diag $r->{body} unless $ok;
}

sub bearer {
	my ($m, $key, $path, $json) = @_;
	return req($m, $path, { headers => { Authorization => "Bearer $key" },
		(defined $json ? (json => $json) : ()) });
}

sub new_key {
	my (%body) = @_;
	$body{name} //= 'k ' . rid();
	$body{environment} //= 'production';
	my $r = write_('POST', $OWNER->{cookie}, base(delete $body{project}), \%body);
	die "create key: $r->{status} $r->{body}" unless $r->{status} == 201;
	return $r->{json};
}

# A personal token of $u acting in $org, straight into the table (the CLI
# device flow mints them; t/api/cli.t covers that).
sub personal_token {
	my ($u, $org, %o) = @_;
	my $key = 'shush_' . join '', map { ('A' .. 'Z', 'a' .. 'z', 0 .. 9)[int rand 62] } 1 .. 43;
	psql('INSERT INTO api_key (id, kind, user_id, name, prefix, hash, active_org_id, '
		. 'expires_at) VALUES (' . join(', ', map { defined $_ ? sql_quote($_) : 'NULL' }
		rid(), 'user', $u->{user}{id}, 'cli', substr($key, 0, 12), sha256_hex($key), $org,
		$o{expires}) . ')');
	return $key;
}

sub key_row {
	my ($id) = @_;
	my @f = split /\|/, psql('SELECT hash, prefix, coalesce(revoked_at::text, \'\') FROM api_key '
		. 'WHERE id = ' . sql_quote($id));
	chomp @f;
	return \@f;
}

# --------------------------------------------------------------- create
my $k1 = new_key(name => 'deploy', environment => 'production');
like($k1->{key}, $KEYRE, 'create: key is shush_ + 43 base62');
is_deeply([ sort grep { $_ ne 'key' } keys %$k1 ], \@KEY_FIELDS, 'create: API key fields');
is($k1->{kind}, 'environment', 'create: kind environment');
is($k1->{environment}, 'production', 'create: environment slug');
is($k1->{projectId}, $P, 'create: projectId');
is($k1->{prefix}, substr($k1->{key}, 0, 12), 'create: prefix is the first 12 characters');
like($k1->{createdAt}, $ISO, 'create: createdAt ISO');
ok(!defined $k1->{revokedAt} && !defined $k1->{expiresAt} && !defined $k1->{lastUsedAt},
	'create: revokedAt, expiresAt, lastUsedAt null');
{
	my $row = key_row($k1->{id});
	is($row->[0], sha256_hex($k1->{key}), 'stored: the SHA-256 of the key');
	my $dump = psql("SELECT row_to_json(k)::text FROM api_key k WHERE id = "
		. sql_quote($k1->{id}));
	unlike($dump, qr/\Q$k1->{key}\E/, 'stored: no plaintext in the row');
	my $audit = psql('SELECT string_agg(metadata, \' \') FROM audit_event WHERE org_id = '
		. sql_quote($ORG));
	unlike($audit, qr/\Q$k1->{key}\E/, 'audit: no plaintext');
	my $ev = events($ORG, 'apikey.created');
	is(scalar @$ev, 1, 'audit: apikey.created');
	is($ev->[0]{target_id}, $k1->{id}, 'audit: target the key');
	is($ev->[0]{target_type}, 'apiKey', 'audit: target type apiKey');
}
{
	my $k = new_key(name => 'staging one', environment => 'staging',
		expiresAt => '2099-01-02T03:04:05.678Z');
	is($k->{expiresAt}, '2099-01-02T03:04:05.678Z', 'create: expiresAt kept');
	$k = new_key(expiresAt => '2099-01-02T03:04:05+02:00');
	is($k->{expiresAt}, '2099-01-02T01:04:05.000Z', 'create: expiresAt with an offset, normalised');
	isnt($k->{key}, $k1->{key}, 'create: keys differ');
}
err_is(write_('POST', $OWNER->{cookie}, base(), { environment => 'production' }), 400,
	'VALIDATION_ERROR', 'create: name missing');
err_is(write_('POST', $OWNER->{cookie}, base(), { name => '', environment => 'production' }),
	400, 'VALIDATION_ERROR', 'create: empty name');
err_is(write_('POST', $OWNER->{cookie}, base(), { name => 5, environment => 'production' }),
	400, 'VALIDATION_ERROR', 'create: name not a string');
err_is(write_('POST', $OWNER->{cookie}, base(), { name => 'x' x 129,
	environment => 'production' }), 400, 'VALIDATION_ERROR', 'create: name of 129 characters');
is(write_('POST', $OWNER->{cookie}, base(), { name => 'x' x 128,
	environment => 'production' })->{status}, 201, 'create: name of 128 characters');
err_is(write_('POST', $OWNER->{cookie}, base(), { name => 'n' }), 400, 'VALIDATION_ERROR',
	'create: environment missing');
err_is(write_('POST', $OWNER->{cookie}, base(), { name => 'n', environment => 'nope' }), 422,
	'UNKNOWN_ENVIRONMENT', 'create: unknown environment');
err_is(write_('POST', $OWNER->{cookie}, base(), { name => 'n', environment => 'production',
	expiresAt => '2001-01-01T00:00:00.000Z' }), 422, 'VALIDATION_ERROR',
	'create: expiresAt in the past');
err_is(write_('POST', $OWNER->{cookie}, base(), { name => 'n', environment => 'production',
	expiresAt => 'tomorrow' }), 422, 'VALIDATION_ERROR', 'create: expiresAt not ISO');
err_is(write_('POST', $OWNER->{cookie}, base(), { name => 'n', environment => 'production',
	expiresAt => 5 }), 400, 'VALIDATION_ERROR', 'create: expiresAt not a string');
err_is(write_('POST', undef, base(), { name => 'n', environment => 'production' }), 401,
	undef, 'create: no credential');
err_is(write_('POST', $ENG->{cookie}, base(), { name => 'n', environment => 'production' }),
	403, 'FORBIDDEN', 'create: engineer');
err_is(write_('POST', $VIEWER->{cookie}, base(), { name => 'n', environment => 'production' }),
	403, 'FORBIDDEN', 'create: viewer');
is(write_('POST', $ADMIN->{cookie}, base(), { name => 'adm', environment => 'development' })
	->{status}, 201, 'create: admin');
err_is(write_('POST', $OWNER->{cookie}, base($FP), { name => 'n', environment => 'production' }),
	404, 'NOT_FOUND', 'create: a foreign project');
err_is(write_('POST', $FOREIGN->{cookie}, base(), { name => 'n', environment => 'production' }),
	404, 'NOT_FOUND', 'create: by another org');

# ----------------------------------------------------------------- list
{
	my $r = get_($OWNER->{cookie}, base());
	is($r->{status}, 200, 'list: 200');
	my @items = @{ $r->{json}{items} };
	ok(@items >= 5, 'list: every key');
	ok(!grep({ exists $_->{key} } @items), 'list: never a plaintext');
	is($items[0]{id}, $k1->{id}, 'list: oldest first');
	ok(exists $r->{json}{nextCursor}, 'list: nextCursor');
	my (@all, $cursor);
	for (1 .. 20) {
		$r = get_($OWNER->{cookie}, base() . '?limit=2' . (defined $cursor ? "&cursor=$cursor" : ''));
		last unless $r->{status} == 200;
		push @all, @{ $r->{json}{items} };
		$cursor = $r->{json}{nextCursor};
		last unless defined $cursor;
	}
	is_deeply([ map { $_->{id} } @all ], [ map { $_->{id} } @items ], 'list: pages walk it all');
	err_is(get_($OWNER->{cookie}, base() . '?cursor=bogus'), 400, 'VALIDATION_ERROR',
		'list: bad cursor');
	err_is(get_($OWNER->{cookie}, base() . '?limit=0'), 400, 'VALIDATION_ERROR', 'list: limit 0');
	err_is(get_($ENG->{cookie}, base()), 403, 'FORBIDDEN', 'list: engineer');
	err_is(get_($VIEWER->{cookie}, base()), 403, 'FORBIDDEN', 'list: viewer');
	err_is(get_(undef, base()), 401, undef, 'list: no credential');
	err_is(get_($FOREIGN->{cookie}, base()), 404, 'NOT_FOUND', 'list: another org');
	err_is(get_($OWNER->{cookie}, base($FP)), 404, 'NOT_FOUND', 'list: foreign project');
}

# ------------------------------------------------------------- counts
{
	my $n = scalar @{ get_($OWNER->{cookie}, base() . '?limit=200')->{json}{items} };
	is(get_($OWNER->{cookie}, "/v1/projects/$P/counts")->{json}{apiKeys}, $n,
		'counts: apiKeys is the number of keys listed');
}

# ------------------------------------------------ environment key on /v1
for my $path ('/v1/me', '/v1/projects', base(), '/v1/orgs/current') {
	err_is(bearer('GET', $k1->{key}, $path), 401, 'INVALID_API_KEY',
		"environment key on GET $path");
}
err_is(bearer('POST', $k1->{key}, base(), { name => 'x', environment => 'production' }), 401,
	'INVALID_API_KEY', 'environment key on POST api-keys');
err_is(bearer('GET', 'shush_' . ('a' x 43), '/v1/me'), 401, 'INVALID_API_KEY',
	'unknown key on /v1');
err_is(bearer('GET', 'shush_short', '/v1/me'), 401, 'INVALID_API_KEY', 'malformed key on /v1');

# ----------------------------------------------------------- revoke
my $runtime = sub { my ($key) = @_; return bearer('GET', $key, '/runtime/v1/') };
{
	my $k = new_key(name => 'to revoke');
	# Used a moment earlier, enough times to be cached in every worker.
	my $before = $runtime->($k->{key})->{status};
	$runtime->($k->{key}) for 1 .. 16;
	my $gen0 = psql('SELECT generation FROM apikey_generation') + 0;
	my $r = write_('POST', $OWNER->{cookie}, base() . "/$k->{id}/revoke");
	is($r->{status}, 200, 'revoke: 200');
	like($r->{json}{revokedAt}, $ISO, 'revoke: revokedAt');
	ok(!exists $r->{json}{key}, 'revoke: no plaintext');
	ok(psql('SELECT generation FROM apikey_generation') + 0 > $gen0, 'revoke: generation bumped');
	SKIP: {
		skip 'runtime routes not built', 3 if $before == 501;
		is($before, 200, 'revoke: the key worked before');
		err_is($runtime->($k->{key}), 401, 'INVALID_API_KEY', 'revoke: the very next request');
		is(scalar(grep { $runtime->($k->{key})->{status} == 401 } 1 .. 16), 16,
			'revoke: refused by every worker');
	}
	is(scalar @{ events($ORG, 'apikey.revoked') }, 1, 'revoke: audited');
	my $again = write_('POST', $OWNER->{cookie}, base() . "/$k->{id}/revoke");
	is($again->{json}{revokedAt}, $r->{json}{revokedAt}, 'revoke again: revokedAt unchanged');
	err_is(write_('POST', $OWNER->{cookie}, base() . "/$k->{id}/rotate"), 409, 'API_KEY_INACTIVE',
		'rotate a revoked key');
	err_is(write_('POST', $OWNER->{cookie}, base() . '/' . rid() . '/revoke'), 404, 'NOT_FOUND',
		'revoke: unknown id');
	err_is(write_('POST', $ENG->{cookie}, base() . "/$k1->{id}/revoke"), 403, 'FORBIDDEN',
		'revoke: engineer');
	err_is(write_('POST', $FOREIGN->{cookie}, base() . "/$k1->{id}/revoke"), 404, 'NOT_FOUND',
		'revoke: another org');
	err_is(write_('POST', undef, base() . "/$k1->{id}/revoke"), 401, undef, 'revoke: no credential');
}

# ------------------------------------------------------------- rotate
{
	my $k = new_key(name => 'rotating', environment => 'staging',
		expiresAt => '2099-05-05T00:00:00.000Z');
	my $r = write_('POST', $OWNER->{cookie}, base() . "/$k->{id}/rotate", { graceSeconds => 600 });
	is($r->{status}, 200, 'rotate: 200');
	my $n = $r->{json};
	like($n->{key}, $KEYRE, 'rotate: a new key');
	isnt($n->{id}, $k->{id}, 'rotate: a new id');
	isnt($n->{key}, $k->{key}, 'rotate: a new plaintext');
	is($n->{name}, 'rotating', 'rotate: same name');
	is($n->{environment}, 'staging', 'rotate: same environment');
	is($n->{expiresAt}, '2099-05-05T00:00:00.000Z', 'rotate: same expiresAt');
	my $old = key_row($k->{id});
	ok(length $old->[2], 'rotate with grace: old revoked_at set');
	ok(psql('SELECT revoked_at > now() + interval \'9 minutes\' FROM api_key WHERE id = '
		. sql_quote($k->{id})) =~ /t/, 'rotate with grace: old revoked_at in the future');
	SKIP: {
		skip 'runtime routes not built', 4 if $runtime->($n->{key})->{status} == 501;
		is($runtime->($k->{key})->{status}, 200, 'rotate: the old key works during grace');
		is($runtime->($n->{key})->{status}, 200, 'rotate: the new key works');
		# The grace runs out with no write at all (no generation bump, no
		# NOTIFY): a real 2-second grace, the old key cached in every
		# worker, then the clock alone must refuse it.
		my $g = new_key(name => 'short grace', environment => 'staging');
		my $gr = write_('POST', $OWNER->{cookie}, base() . "/$g->{id}/rotate",
			{ graceSeconds => 2 });
		is($gr->{status}, 200, 'rotate with a 2 s grace');
		is(scalar(grep { $runtime->($g->{key})->{status} == 200 } 1 .. 16), 16,
			'rotate: old key works during grace, cached in every worker');
		sleep 1 while psql('SELECT revoked_at > now() FROM api_key WHERE id = '
			. sql_quote($g->{id})) =~ /t/;
		err_is($runtime->($g->{key}), 401, 'INVALID_API_KEY', 'rotate: old key after grace');
		is(scalar(grep { $runtime->($g->{key})->{status} == 401 } 1 .. 16), 16,
			'rotate: old key after grace, on every worker');
	}
	my $ev = events($ORG, 'apikey.rotated');
	is(scalar @$ev, 2, 'rotate: audited (both rotations above)');
	unlike($ev->[0]{metadata}, qr/\Q$n->{key}\E/, 'rotate: audit without the key');

	my $k2 = new_key(name => 'rot now');
	$r = write_('POST', $OWNER->{cookie}, base() . "/$k2->{id}/rotate");
	is($r->{status}, 200, 'rotate without grace: 200');
	ok(psql('SELECT revoked_at <= now() FROM api_key WHERE id = ' . sql_quote($k2->{id}))
		=~ /t/, 'rotate without grace: old revoked now');
	err_is(write_('POST', $OWNER->{cookie}, base() . "/$r->{json}{id}/rotate",
		{ graceSeconds => 86401 }), 422, 'VALIDATION_ERROR', 'rotate: grace too long');
	err_is(write_('POST', $OWNER->{cookie}, base() . "/$r->{json}{id}/rotate",
		{ graceSeconds => -1 }), 422, 'VALIDATION_ERROR', 'rotate: negative grace');
	err_is(write_('POST', $OWNER->{cookie}, base() . "/$r->{json}{id}/rotate",
		{ graceSeconds => 'x' }), 400, 'VALIDATION_ERROR', 'rotate: grace not a number');
	err_is(write_('POST', $OWNER->{cookie}, base() . "/$r->{json}{id}/rotate",
		{ graceSeconds => 1.5 }), 400, 'VALIDATION_ERROR', 'rotate: grace not an integer');
	err_is(write_('POST', $OWNER->{cookie}, base() . '/' . rid() . '/rotate'), 404, 'NOT_FOUND',
		'rotate: unknown id');
	err_is(write_('POST', $VIEWER->{cookie}, base() . "/$r->{json}{id}/rotate"), 403, 'FORBIDDEN',
		'rotate: viewer');
	err_is(write_('POST', $FOREIGN->{cookie}, base() . "/$r->{json}{id}/rotate"), 404,
		'NOT_FOUND', 'rotate: another org');
}

# ------------------------------------------------------------- expiry
{
	# Expiry needs no write either: a key expiring in 2 s, cached in every
	# worker, is refused on the first request after expires_at by the clock.
	my $exp = psql(q{SELECT to_char((now() + interval '2 seconds') AT TIME ZONE 'UTC',
		'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')});
	$exp =~ s/\s+//g;
	my $k = new_key(name => 'expiring', expiresAt => $exp);
	$runtime->($k->{key}) for 1 .. 16; # cached in every worker
	sleep 1 while psql('SELECT expires_at > now() FROM api_key WHERE id = '
		. sql_quote($k->{id})) =~ /t/;
	my $st = $runtime->($k->{key});
	SKIP: {
		skip 'runtime routes not built', 3 if $st->{status} == 501;
		err_is($st, 401, 'INVALID_API_KEY', 'expired environment key');
		is(scalar(grep { $runtime->($k->{key})->{status} == 401 } 1 .. 16), 16,
			'expired environment key, on every worker');
	}
	err_is(write_('POST', $OWNER->{cookie}, base() . "/$k->{id}/rotate"), 409, 'API_KEY_INACTIVE',
		'rotate an expired key');
}

# ------------------------------------------------------------- delete
{
	my $k = new_key(name => 'to delete');
	err_is(write_('DELETE', $ENG->{cookie}, base() . "/$k->{id}"), 403, 'FORBIDDEN',
		'delete: engineer');
	err_is(write_('DELETE', $FOREIGN->{cookie}, base() . "/$k->{id}"), 404, 'NOT_FOUND',
		'delete: another org');
	err_is(write_('DELETE', undef, base() . "/$k->{id}"), 401, undef, 'delete: no credential');
	my $r = write_('DELETE', $OWNER->{cookie}, base() . "/$k->{id}");
	is($r->{status}, 204, 'delete: 204');
	is($r->{body}, '', 'delete: no body');
	is(psql('SELECT count(*) FROM api_key WHERE id = ' . sql_quote($k->{id})) + 0, 0,
		'delete: the row is gone');
	err_is(write_('DELETE', $OWNER->{cookie}, base() . "/$k->{id}"), 404, 'NOT_FOUND',
		'delete: again');
	my $ev = events($ORG, 'apikey.deleted');
	is(scalar @$ev, 1, 'delete: audited');
	err_is(bearer('GET', $k->{key}, '/runtime/v1/'), 401, 'INVALID_API_KEY', 'deleted key')
		unless $runtime->($k1->{key})->{status} == 501;
}

# ---------------------------------------------------- personal tokens
{
	my $tok = personal_token($OWNER, $ORG);
	my $r = bearer('GET', $tok, '/v1/me');
	is($r->{status}, 200, 'personal token: GET /v1/me');
	is($r->{json}{id}, $OWNER->{user}{id}, 'personal token: as its user');
	$r = bearer('GET', $tok, '/v1/orgs/current');
	is($r->{status}, 200, 'personal token: GET /v1/orgs/current');
	is($r->{json}{id}, $ORG, 'personal token: the token\'s org');
	is($r->{json}{role}, 'owner', 'personal token: the user\'s role');
	$r = bearer('POST', $tok, base(), { name => 'by token', environment => 'production' });
	is($r->{status}, 201, 'personal token: a write without Origin');
	my $ev = events($ORG, 'apikey.created');
	my $actor = psql('SELECT actor_type || \' \' || actor_id FROM audit_event WHERE target_id = '
		. sql_quote($r->{json}{id}));
	chomp $actor;
	is($actor, "user $OWNER->{user}{id}", 'personal token: audited as its user');

	my $vt = personal_token($VIEWER, $ORG);
	err_is(bearer('GET', $vt, base()), 403, 'FORBIDDEN', 'personal token of a viewer: 403');
	is(bearer('GET', $vt, '/v1/projects')->{status}, 200, 'personal token of a viewer: read');

	my $none = personal_token($OWNER, undef);
	err_is(bearer('GET', $none, '/v1/projects'), 403, 'NO_ACTIVE_ORGANIZATION',
		'personal token without an org');
	is(bearer('GET', $none, '/v1/me')->{status}, 200, 'personal token without an org: /v1/me');

	# Switching the token's org: the token moves, the session does not.
	my $org2 = write_('POST', $OWNER->{cookie}, '/v1/orgs', { name => "Second $TAG" })->{json}{id};
	write_('POST', $OWNER->{cookie}, '/v1/orgs/current', { orgId => $ORG });
	$r = bearer('POST', $tok, '/v1/orgs/current', { orgId => $org2 });
	is($r->{status}, 200, 'personal token: switch org');
	is($r->{json}{id}, $org2, 'personal token: switched');
	is(bearer('GET', $tok, '/v1/orgs/current')->{json}{id}, $org2, 'personal token: in the new org');
	is(get_($OWNER->{cookie}, '/v1/orgs/current')->{json}{id}, $ORG, 'the session stays');
	err_is(bearer('POST', $tok, '/v1/orgs/current', { orgId => $T->{forg} }), 404, 'NOT_FOUND',
		'personal token: switch to a foreign org');
	is(bearer('GET', $tok, '/v1/orgs/current')->{json}{id}, $org2, 'personal token: unchanged');

	# Creating an org with a token makes it the token's org.
	$r = bearer('POST', $none, '/v1/orgs', { name => "Token org $TAG" });
	is($r->{status}, 201, 'personal token: create an org');
	is(bearer('GET', $none, '/v1/orgs/current')->{json}{id}, $r->{json}{id},
		'personal token: the new org is the token\'s');

	# Revoked, expired: 401.
	my $exp = personal_token($OWNER, $ORG, expires => '2001-01-01T00:00:00Z');
	err_is(bearer('GET', $exp, '/v1/me'), 401, 'INVALID_API_KEY', 'expired personal token');
	my $tmp = personal_token($OWNER, $ORG);
	psql('UPDATE api_key SET revoked_at = now() WHERE hash = ' . sql_quote(sha256_hex($tmp)));
	err_is(bearer('GET', $tmp, '/v1/me'), 401, 'INVALID_API_KEY', 'revoked personal token');
	# A personal token is not a runtime key.
	err_is(bearer('GET', $tok, '/runtime/v1/'), 401, 'INVALID_API_KEY',
		'personal token on the runtime');

	# /v1/me/tokens
	$r = bearer('GET', $tok, '/v1/me/tokens');
	is($r->{status}, 200, 'me/tokens: 200');
	my @mine = @{ $r->{json}{items} };
	is(scalar @mine, 4, 'me/tokens: the owner\'s four tokens');
	ok(!grep({ $_->{kind} ne 'user' || exists $_->{key} } @mine), 'me/tokens: kind user, no key');
	is(get_($OWNER->{cookie}, '/v1/me/tokens')->{status}, 200, 'me/tokens: with the cookie');
	is(scalar @{ get_($VIEWER->{cookie}, '/v1/me/tokens')->{json}{items} }, 1,
		'me/tokens: only one\'s own');
	err_is(get_(undef, '/v1/me/tokens'), 401, undef, 'me/tokens: no credential');
	my ($tok_id) = map { $_->{id} } grep { $_->{prefix} eq substr($tok, 0, 12) } @mine;
	err_is(write_('DELETE', $VIEWER->{cookie}, "/v1/me/tokens/$tok_id"), 404, 'NOT_FOUND',
		'me/tokens delete: someone else\'s');
	$r = write_('DELETE', $OWNER->{cookie}, "/v1/me/tokens/$tok_id");
	is($r->{status}, 204, 'me/tokens delete: 204');
	err_is(bearer('GET', $tok, '/v1/me'), 401, 'INVALID_API_KEY', 'deleted token: next request');
	err_is(write_('DELETE', $OWNER->{cookie}, "/v1/me/tokens/$tok_id"), 404, 'NOT_FOUND',
		'me/tokens delete: again');
	# A token deletes itself.
	my ($none_id) = map { $_->{id} } grep { $_->{prefix} eq substr($none, 0, 12) } @mine;
	is(bearer('DELETE', $none, "/v1/me/tokens/$none_id")->{status}, 204, 'a token deletes itself');
	err_is(bearer('GET', $none, '/v1/me'), 401, 'INVALID_API_KEY', 'self-deleted token');
	# An environment key id is not a personal token.
	err_is(write_('DELETE', $OWNER->{cookie}, "/v1/me/tokens/$k1->{id}"), 404, 'NOT_FOUND',
		'me/tokens delete: an environment key');
}

done_testing();
