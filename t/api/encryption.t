#!/usr/bin/perl
# The keyring through the API and the admin commands (DESIGN.md §4, API.md
# §4 "Encryption state"): GET /v1/orgs/current/encryption, POST
# /v1/orgs/current/rotate-kek, `shushd rekey` and `shushd rotate-kek`, and a
# master-key rotation on a private stack (MASTER_KEK_B64 changed, the old
# key in MASTER_KEK_PREVIOUS_B64, rotate-kek, the old key dropped).
use strict;
use warnings;
BEGIN { unless ($ENV{SHUSH_URL}) { print "1..0 # SKIP no stack\n"; exit 0 } }
use FindBin qw($Bin);
use lib $Bin;
use ApiTest;
use Digest::SHA qw(sha256_hex);
use MIME::Base64 qw(decode_base64 encode_base64);
use Test::More;

my $ISO = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
my $RUN = join '', map { ('a' .. 'z', 0 .. 9)[int rand 36] } 1 .. 8;

sub get_ { my ($c, $p) = @_; req('GET', $p, { (defined $c ? (cookie => $c) : ()) }) }
sub post_ {
	my ($c, $p, $json) = @_;
	return req('POST', $p, { (defined $c ? (cookie => $c, origin => 1) : ()),
		(defined $json ? (json => $json) : ()) });
}
sub encryption { get_($_[0], '/v1/orgs/current/encryption') }
sub rotate     { post_($_[0], '/v1/orgs/current/rotate-kek', $_[1]) }

sub kek_id { my ($b64) = @_; return 'master:' . substr(sha256_hex(decode_base64($b64)), 0, 16) }

sub new_org {
	my ($u, $tag) = @_;
	my $r = post_($u->{cookie}, '/v1/orgs', { name => "Enc $tag", slug => "enc-$tag-$RUN" });
	die "create org failed: $r->{status} $r->{body}" unless $r->{status} == 201;
	return $r->{json};
}

sub seat {
	my ($org_id, $user_id, $role) = @_;
	my $id = join '', map { ('A' .. 'Z', 'a' .. 'z', 0 .. 9)[int rand 62] } 1 .. 32;
	psql(sprintf(q{INSERT INTO member (id, "organizationId", "userId", role, "createdAt")
		VALUES (%s, %s, %s, %s, now())}, sql_quote($id), sql_quote($org_id),
		sql_quote($user_id), sql_quote($role)));
}

sub key_row {
	my ($org_id) = @_;
	my $out = psql(sprintf(q{SELECT dek_version, provider, kek_id, octet_length(wrapped_dek),
		encode(wrapped_dek, 'hex'), current FROM org_key WHERE org_id = %s
		ORDER BY dek_version}, sql_quote($org_id)));
	return [ map { [ split /\|/ ] } grep { length } split /\n/, $out ];
}

sub events {
	my ($org_id, $action) = @_;
	return [ map { [ split /\|/, $_, -1 ] } grep { length } split /\n/,
		psql(sprintf(q{SELECT actor_type, actor_id, metadata FROM audit_event
			WHERE org_id = %s AND action = %s ORDER BY seq}, sql_quote($org_id),
			sql_quote($action))) ];
}

# Runs shushd with the shared stack's configuration; (exit code, output).
sub shushd {
	my (@args) = @_;
	my $bin = "$ENV{SHUSH_BIN_DIR}/shushd";
	my $pid = open(my $fh, '-|');
	die "fork: $!" unless defined $pid;
	if (!$pid) {
		open(STDERR, '>&', \*STDOUT);
		exec($bin, @args) or die "exec $bin: $!";
	}
	local $/;
	my $out = <$fh> // '';
	close $fh;
	return ($? >> 8, $out);
}

my $MASTER = conf('MASTER_KEK_B64');
my $ID = kek_id($MASTER);

# ------------------------------------------------------------- the state

my $owner = signup(tag => 'enc-owner');
my $org = new_org($owner, 'a');
my $r = encryption($owner->{cookie});
is($r->{status}, 200, 'GET encryption after org create: 200');
is_deeply([ sort keys %{ $r->{json} } ], [ sort qw(provider kekId dekCreatedAt wrappedAt) ],
	'exactly provider, kekId, dekCreatedAt, wrappedAt (no kmsKeyArn for master)');
is($r->{json}{provider}, 'master', 'provider master');
like($r->{json}{kekId}, qr/^master:[0-9a-f]{16}$/, 'kekId looks like master:<16 hex>');
is($r->{json}{kekId}, $ID, 'kekId is the SHA-256 prefix of MASTER_KEK_B64');
like($r->{json}{$_}, $ISO, "$_ is an ISO timestamp") for qw(dekCreatedAt wrappedAt);
my $state0 = $r->{json};

my $rows = key_row($org->{id});
is(scalar @$rows, 1, 'one org_key row');
is_deeply([ @{ $rows->[0] }[0, 1, 2, 3, 5] ], [ 1, 'master', $ID, 60, 't' ],
	'version 1, master, kek id, 12+32+16 wrapped bytes, current');
unlike($rows->[0][4], qr/^0+$/, 'wrapped DEK is not zeros');
is(psql(sprintf(q{SELECT count(*) FROM audit_event WHERE org_id = %s AND metadata LIKE %s},
	sql_quote($org->{id}), sql_quote("%$rows->[0][4]%"))), 0, 'wrapped DEK never in an event');

is(get_(undef, '/v1/orgs/current/encryption')->{status}, 401, 'GET encryption: no cred 401');

# ------------------------------------------------------------ rotate-kek

my %who;
for my $role (qw(admin engineer viewer)) {
	my $u = signup(tag => "enc-$role");
	seat($org->{id}, $u->{user}{id}, $role);
	my $s = post_($u->{cookie}, '/v1/orgs/current', { orgId => $org->{id} });
	die "switch failed: $s->{status}" unless $s->{status} == 200;
	$who{$role} = $u;
}
is(encryption($who{viewer}{cookie})->{status}, 200, 'viewer may read the state (org:read)');
for my $role (qw(admin engineer viewer)) {
	my $x = rotate($who{$role}{cookie});
	is($x->{status}, 403, "rotate-kek by $role: 403");
	is($x->{json}{code}, 'FORBIDDEN', "$role: FORBIDDEN");
}
is(rotate(undef)->{status}, 401, 'rotate-kek: no cred 401');
is(req('POST', '/v1/orgs/current/rotate-kek', { cookie => $owner->{cookie} })->{status}, 403,
	'rotate-kek with the cookie but no Origin: 403');
is(req('POST', '/v1/orgs/current/rotate-kek', { cookie => $owner->{cookie}, origin => 1,
	body => 'nope', headers => { 'Content-Type' => 'application/json' } })->{status}, 400,
	'rotate-kek with malformed JSON: 400');
is(req('POST', '/v1/orgs/current/rotate-kek', { cookie => $owner->{cookie}, origin => 1,
	body => 'x', headers => { 'Content-Type' => 'text/plain' } })->{status}, 415,
	'rotate-kek with a text body: 415');
is(scalar @{ events($org->{id}, 'org.kek_rotated') }, 0, 'refused rotations left no event');
is(key_row($org->{id})->[0][4], $rows->[0][4], 'refused rotations changed nothing');

$r = rotate($owner->{cookie}, {});
is($r->{status}, 200, 'rotate-kek by owner: 200');
is($r->{json}{kekId}, $ID, 'same master key, same kekId');
is($r->{json}{dekCreatedAt}, $state0->{dekCreatedAt}, 'the DEK is the same one');
ok($r->{json}{wrappedAt} ge $state0->{wrappedAt}, 'wrappedAt moved on');
my $rows2 = key_row($org->{id});
is($rows2->[0][3], 60, 'still 60 wrapped bytes');
isnt($rows2->[0][4], $rows->[0][4], 'wrapped DEK changed (fresh nonce)');
my $ev = events($org->{id}, 'org.kek_rotated');
is(scalar @$ev, 1, 'org.kek_rotated audited once');
is($ev->[0][0], 'user', 'actor type user');
is($ev->[0][1], $owner->{user}{id}, 'actor is the owner');
like($ev->[0][2], qr/"fromKekId":"\Q$ID\E"/, 'metadata fromKekId');
like($ev->[0][2], qr/"toKekId":"\Q$ID\E"/, 'metadata toKekId');
is(rotate($owner->{cookie})->{status}, 200, 'rotate-kek with no body: 200');
is(encryption($owner->{cookie})->{status}, 200, 'GET still works after rotations');

# Another org's rotation does not touch this one.
my $other = signup(tag => 'enc-other');
my $org_b = new_org($other, 'b');
my $before = key_row($org->{id})->[0][4];
is(rotate($other->{cookie})->{status}, 200, 'owner of another org rotates theirs');
is(key_row($org->{id})->[0][4], $before, "the first org's wrapped DEK is untouched");
isnt(encryption($other->{cookie})->{json}{dekCreatedAt}, undef, 'other org has its own state');

# An org from before the keyring gets its key on first use.
psql(sprintf('DELETE FROM org_key WHERE org_id = %s', sql_quote($org_b->{id})));
$r = encryption($other->{cookie});
is($r->{status}, 200, 'GET encryption of an org without a key: 200');
is(scalar @{ key_row($org_b->{id}) }, 1, 'its key was created');

# ---------------------------------------------------------- shushd rekey

my ($rc, $out) = shushd('rekey');
is($rc, 2, 'shushd rekey without --org: usage, exit 2');
($rc, $out) = shushd('rekey', '--org', 'no-such-org-' . $RUN);
is($rc, 2, 'shushd rekey of an unknown org: exit 2') or diag($out);
($rc, $out) = shushd('rekey', '--org', $org->{id});
is($rc, 0, 'shushd rekey: exit 0') or diag($out);
like($out, qr/secret_version: \d+\/\d+ re-encrypted/, 'prints progress');
like($out, qr/DEK version 1 -> 2/, 'reports the versions');
$rows = key_row($org->{id});
is(scalar @$rows, 1, 'one key row left after rekey (old version retired)');
is($rows->[0][0], 2, 'DEK version 2 is current');
$ev = events($org->{id}, 'org.rekeyed');
is(scalar @$ev, 1, 'org.rekeyed audited');
is($ev->[0][0], 'system', 'actor type system');
like($ev->[0][2], qr/"toDekVersion":2/, 'metadata names the new version');
$r = encryption($owner->{cookie});
is($r->{status}, 200, 'GET encryption after rekey');
ok($r->{json}{dekCreatedAt} ge $state0->{dekCreatedAt}, 'dekCreatedAt is the new DEK\'s');
($rc, $out) = shushd('audit-verify', '--org', $org->{id});
is($rc, 0, 'audit chain intact after rekey and rotations') or diag($out);
($rc, $out) = shushd('rotate-kek', '--org', $org->{id});
is($rc, 0, 'shushd rotate-kek --org: exit 0') or diag($out);
$ev = events($org->{id}, 'org.kek_rotated');
is($ev->[-1][0], 'system', 'shushd rotate-kek is audited with actor system');

# ---------------------------------------- rekey online, with real values

SKIP: {
	my $pr = post_($owner->{cookie}, '/v1/projects', { name => "Rekey $RUN" });
	skip 'secrets routes not available', 7 unless $pr->{status} == 201;
	my $pid = $pr->{json}{id};
	my (%want, %sid);
	my $put = sub {
		my ($k, $v) = @_;
		my $x = defined $sid{$k}
			? req('PATCH', "/v1/projects/$pid/secrets/$sid{$k}", { cookie => $owner->{cookie},
				origin => 1, json => { values => { development => $v } } })
			: post_($owner->{cookie}, "/v1/projects/$pid/secrets",
				{ key => $k, values => { development => $v } });
		return 0 unless $x->{status} == 200 || $x->{status} == 201;
		$sid{$k} //= $x->{json}{id};
		$want{$k} = $v;
		return 1;
	};
	my $okw = 0;
	$okw += $put->("K$_", "value-$_-\x{e9}-$RUN") for 1 .. 40;
	is($okw, 40, '40 secrets written');
	my $kid = fork // die "fork: $!";
	if (!$kid) {
		my ($c, $o) = shushd('rekey', '--org', $org->{id}, '--batch', '5');
		print STDERR $o if $c;
		exit $c;
	}
	my $during = 0;
	$during += $put->("K$_", "changed-$_") for 1 .. 10;    # new versions
	$during += $put->("N$_", "new-$_") for 1 .. 10;        # new secrets
	waitpid($kid, 0);
	is($? >> 8, 0, 'shushd rekey --batch 5 while writers keep writing: exit 0');
	is($during, 20, 'every write during the rekey succeeded');
	my $cur = key_row($org->{id});
	is(scalar @$cur, 1, 'old DEK retired');
	is(psql(sprintf(q{SELECT count(*) FROM secret_version WHERE org_id = %s
		AND substring(value from 2 for 4) <> int4send(%d)}, sql_quote($org->{id}),
		$cur->[0][0])), 0, 'every stored value is under the current DEK version');
	my $bad = 0;
	for my $k (sort keys %want) {
		my $g = get_($owner->{cookie}, "/v1/projects/$pid/secrets/$sid{$k}");
		$bad++ unless ($g->{json}{values}{development}{value} // '') eq $want{$k};
	}
	is($bad, 0, 'every secret opens to its latest value after the rekey');
	is(psql(sprintf(q{SELECT count(*) FROM secret_version WHERE org_id = %s
		AND position(convert_to('value-1-', 'UTF8') in value) > 0},
		sql_quote($org->{id}))), 0, 'no plaintext in the database');
}

# ------------------------------------------- master-key rotation (private)

SKIP: {
	skip 'SHUSH_SKIP_PRIVATE set', 1 if $ENV{SHUSH_SKIP_PRIVATE};
	require Stack;
	my $rand = sub { open my $fh, '<:raw', '/dev/urandom' or die; read $fh, my $b, 32;
		return encode_base64($b, '') };
	my ($A, $B, $C) = map { $rand->() } 1 .. 3;
	my $s = Stack::private_stack(MASTER_KEK_B64 => $A, SHUSH_RATE_LIMIT_AUTH => 0,
		SHUSH_WORKERS => 2);
	my $jar = Stack::jar();
	my %o = (Origin => $s->url);
	my $p = sub {
		my ($m, $path, $json) = @_;
		return $s->req($m, $path, { cookie => $jar, headers => { %o },
			(defined $json ? (json => $json) : ()) });
	};
	my $email = rand_email('enc-priv');
	$r = $p->(POST => '/api/auth/sign-up/email',
		{ name => 'P', email => $email, password => 'correct-horse-battery' });
	is($r->{status}, 200, 'private stack: sign-up');
	$r = $p->(POST => '/v1/orgs', { name => 'Rotating', slug => "rot-$RUN" });
	is($r->{status}, 201, 'private stack: org created under key A');
	my $porg = $r->{json}{id};
	is($p->(GET => '/v1/orgs/current/encryption')->{json}{kekId}, kek_id($A), 'kekId is A');

	# A sealed value, when the secrets routes are there.
	my ($pid, $sid);
	$r = $p->(POST => '/v1/projects', { name => 'P1' });
	if ($r->{status} == 201) {
		$pid = $r->{json}{id};
		$r = $p->(POST => "/v1/projects/$pid/secrets",
			{ key => 'DB_PASSWORD', values => { development => "pa\$\$ 'w\"ord\n" } });
		$sid = $r->{json}{id} if $r->{status} == 201;
	}
	my $value_ok = sub {
		my ($what) = @_;
		SKIP: {
			skip 'secrets routes not available', 1 unless defined $sid;
			my $g = $p->(GET => "/v1/projects/$pid/secrets/$sid");
			is($g->{json}{values}{development}{value}, "pa\$\$ 'w\"ord\n",
				"the secret value opens $what") or diag("$g->{status} $g->{body}");
		}
	};
	$value_ok->('under key A');

	my $restart = sub {
		my (%env) = @_;
		$s->{env}{$_} = $env{$_} for keys %env;
		$s->stop_part('shushd');
		$s->start_part('shushd');
		$s->wait_health(200, 30) or die 'private stack: shushd did not come back';
	};
	$restart->(MASTER_KEK_B64 => $B, MASTER_KEK_PREVIOUS_B64 => $A);
	$r = $p->(GET => '/v1/orgs/current/encryption');
	is($r->{status}, 200, 'B current, A previous: GET encryption works');
	is($r->{json}{kekId}, kek_id($A), 'still wrapped by A');
	$value_ok->('with B current and A previous');
	$r = $p->(POST => '/v1/orgs/current/rotate-kek', {});
	is($r->{status}, 200, 'rotate-kek: 200');
	is($r->{json}{kekId}, kek_id($B), 'kekId changed to B');
	is($s->psql(sprintf(q{SELECT kek_id FROM org_key WHERE org_id = '%s'}, $porg)), kek_id($B),
		'stored kek_id is B');

	$restart->(MASTER_KEK_B64 => $B, MASTER_KEK_PREVIOUS_B64 => '');
	$r = $p->(GET => '/v1/orgs/current/encryption');
	is($r->{status}, 200, 'only B: GET encryption works');
	is($r->{json}{kekId}, kek_id($B), 'kekId B');
	$value_ok->('with only B');
	is($p->(POST => '/v1/orgs/current/rotate-kek', {})->{status}, 200,
		'only B: rotate-kek works (B unwraps)');

	$restart->(MASTER_KEK_B64 => $C, MASTER_KEK_PREVIOUS_B64 => $A);
	$r = $p->(POST => '/v1/orgs/current/rotate-kek', {});
	is($r->{status}, 503, 'no configured key unwraps the DEK: rotate-kek 503, not a guess');
	SKIP: {
		skip 'secrets routes not available', 1 unless defined $sid;
		is($p->(GET => "/v1/projects/$pid/secrets/$sid")->{status}, 503,
			'and the value is not served (503)');
	}
	is($s->psql(sprintf(q{SELECT kek_id FROM org_key WHERE org_id = '%s'}, $porg)), kek_id($B),
		'nothing changed');
	$restart->(MASTER_KEK_B64 => $B, MASTER_KEK_PREVIOUS_B64 => '');
	is($p->(GET => '/v1/orgs/current/encryption')->{status}, 200, 'back on B: fine');
	$value_ok->('back on B');
	{
		local %ENV = (%ENV, %{ $s->config }, MASTER_KEK_B64 => $B,
			MASTER_KEK_PREVIOUS_B64 => '');
		my ($c, $o) = shushd('rotate-kek', '--all');
		is($c, 0, 'shushd rotate-kek --all') or diag($o);
		like($o, qr/ok: org \Q$porg\E: 1 DEK version\(s\) re-wrapped/, 'it names the org');
		($c, $o) = shushd('rekey', '--org', $porg);
		is($c, 0, 'shushd rekey after the master-key rotation') or diag($o);
		like($o, qr/secret_version: 1\/1 re-encrypted/, 'the one value re-encrypted')
			if defined $sid;
	}
	$value_ok->('after the rekey');
	$s->down;
}

done_testing();
