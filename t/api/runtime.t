#!/usr/bin/perl
# Runtime API (API.md §6): introspection; the key's environment resolved
# with inheritance; strong ETag and If-None-Match 304; read-your-writes
# (a /v1 write is visible on the very next runtime read); dotenv and shell
# byte-identical to the /v1 export; one secret (value, source version and
# environment); 404; 401 INVALID_API_KEY for every key that is not a live
# environment key; a key never reads another environment; Cache-Control:
# no-store on every answer; reads audited (secret.read, actor apiKey,
# never a value).
use strict;
use warnings;
use lib 't/lib', 't/api';
use Test::More;
use JSON::PP;
use Digest::SHA qw(sha256_hex);
use ApiTest;
use ProjTest;

plan skip_all => 'no stack (run through make check)' unless $ENV{SHUSH_URL};

my $JSON = JSON::PP->new->utf8->canonical;
my $t = team('runtime');
my ($owner, $viewer) = @{$t}{qw(owner viewer)};
my $ORG = $t->{org};
my $p = new_project($owner->{cookie}, name => 'Runtime ' . rid());
my $pid = $p->{id};

my $r = write_('PATCH', $owner->{cookie}, "/v1/projects/$pid/environments",
	{ environments => [ { slug => 'staging', parents => ['production'] },
			    { slug => 'development', parents => ['staging'] } ] });
is($r->{status}, 200, 'development inherits staging, which inherits production')
	or diag $r->{body};
my %ENV_ID = map { $_->{slug} => $_->{id} } @{ $r->{json}{items} };

my %SECRET;    # key => id
sub secret_ {
	my ($key, %values) = @_;
	my $res = write_('POST', $owner->{cookie}, "/v1/projects/$pid/secrets",
		{ key => $key, values => \%values });
	is($res->{status}, 201, "secret $key") or diag $res->{body};
	$SECRET{$key} = $res->{json}{id};
}
sub set_ {
	my ($key, $env, $value) = @_;
	return write_('PATCH', $owner->{cookie}, "/v1/projects/$pid/secrets/$SECRET{$key}",
		{ values => { $env => $value } });
}
secret_('FROM_PROD', production => 'prod-only');
secret_('FROM_STG', staging => 'stg-only', production => 'prod-shadowed');
secret_('OVERRIDE', development => 'dev-own', staging => 'stg-over', production => 'prod-over');
secret_('TRICKY', development => "it's \"quoted\" \$HOME `x`\nline 2 # not a comment");
secret_('UNICODE', production => "h\x{e9}llo \x{1f600}");

# --- keys -------------------------------------------------------------------
sub rand_key { return 'shush_' . join '', map { ('A' .. 'Z', 'a' .. 'z', 0 .. 9)[int rand 62] } 1 .. 43 }

# An api_key row straight into the database (kinds and states the routes
# cannot make: revoked, expired, personal tokens without the device flow).
sub db_key {
	my (%o) = @_;
	my $key = rand_key();
	my $id = rid();
	my $kind = $o{kind} // 'environment';
	my $env = $o{env};
	psql(sprintf(q{INSERT INTO api_key (id, org_id, kind, project_id, environment_id, user_id,
		name, prefix, hash, active_org_id, expires_at, revoked_at)
		VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)},
		sql_quote($id), sql_quote($o{org} // $ORG), sql_quote($kind),
		$kind eq 'environment' ? sql_quote($o{project} // $pid) : 'NULL',
		$kind eq 'environment' ? sql_quote($o{env_id} // $ENV_ID{$env}) : 'NULL',
		sql_quote($o{user} // $owner->{user}{id}), sql_quote($o{name} // "db key $id"),
		sql_quote(substr($key, 0, 12)), sql_quote(sha256_hex($key)),
		$kind eq 'user' ? sql_quote($o{org} // $ORG) : 'NULL',
		$o{expires} // 'NULL', $o{revoked} // 'NULL'));
	return { key => $key, id => $id, name => $o{name} // "db key $id" };
}

# A key through POST /v1/projects/:id/api-keys once that answers 201, else
# the same row through the database.
sub env_key {
	my ($env, %o) = @_;
	my $name = "rt $env " . rid();
	my $res = write_('POST', $owner->{cookie}, "/v1/projects/" . ($o{project} // $pid) . '/api-keys',
		{ name => $name, environment => $env });
	if ($res->{status} == 201 && $res->{json}{key}) {
		my $j = $res->{json};
		return { key => $j->{key}, id => $j->{id} // $j->{apiKey}{id}, name => $name };
	}
	return db_key(env => $env, name => $name, %o);
}

sub rget {
	my ($key, $path, %h) = @_;
	return req('GET', $path, { headers => { (defined $key ? (Authorization => "Bearer $key") : ()),
		%h } });
}
sub no_store { my ($res, $what) = @_; is(hdr($res, 'Cache-Control'), 'no-store', "$what: Cache-Control: no-store") }

my $DEV = env_key('development');
my $STG = env_key('staging');
my $PROD = env_key('production');

# --- introspection ------------------------------------------------------------
subtest 'GET /runtime/v1/: the key' => sub {
	my $res = rget($DEV->{key}, '/runtime/v1/');
	is($res->{status}, 200, 'answers 200') or diag $res->{body};
	no_store($res, 'introspection');
	is_deeply([ sort keys %{ $res->{json} } ],
		[ sort qw(keyId name orgId projectId environment expiresAt) ], 'exactly its fields');
	is($res->{json}{keyId}, $DEV->{id}, 'keyId') if defined $DEV->{id};
	is($res->{json}{name}, $DEV->{name}, 'name');
	is($res->{json}{orgId}, $ORG, 'orgId');
	is($res->{json}{projectId}, $pid, 'projectId');
	is($res->{json}{environment}, 'development', 'environment');
	ok(!defined $res->{json}{expiresAt}, 'expiresAt null');
	my $exp = db_key(env => 'staging', expires => "now() + interval '1 day'");
	$res = rget($exp->{key}, '/runtime/v1/');
	is($res->{status}, 200, 'a key expiring tomorrow works');
	like($res->{json}{expiresAt} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'expiresAt');
};

# --- all secrets ---------------------------------------------------------------
my %DEV_WANT = (FROM_PROD => 'prod-only', FROM_STG => 'stg-only', OVERRIDE => 'dev-own',
	TRICKY => "it's \"quoted\" \$HOME `x`\nline 2 # not a comment",
	UNICODE => "h\x{e9}llo \x{1f600}");
my $ETAG;
subtest 'GET /runtime/v1/secrets: resolved with inheritance, strong ETag' => sub {
	my $res = rget($DEV->{key}, '/runtime/v1/secrets');
	is($res->{status}, 200, 'answers 200') or diag $res->{body};
	no_store($res, 'secrets');
	like($res->{headers}{'content-type'}, qr{^application/json}, 'JSON');
	is_deeply($res->{json}, { environment => 'development', secrets => \%DEV_WANT },
		'{environment, secrets}: own, inherited from staging and production');
	$ETAG = hdr($res, 'ETag');
	like($ETAG // '', qr/^"[0-9a-f]{64}"$/, 'a strong ETag');
	my $again = rget($DEV->{key}, '/runtime/v1/secrets');
	is(hdr($again, 'ETag'), $ETAG, 'the same content, the same ETag');
	is($again->{body}, $res->{body}, 'and the same bytes');

	$res = rget($STG->{key}, '/runtime/v1/secrets');
	is_deeply($res->{json}, { environment => 'staging', secrets => { FROM_PROD => 'prod-only',
		FROM_STG => 'stg-only', OVERRIDE => 'stg-over', UNICODE => "h\x{e9}llo \x{1f600}" } },
		'a staging key reads staging (no development value)');
	isnt(hdr($res, 'ETag'), $ETAG, 'another environment, another ETag');
	$res = rget($PROD->{key}, '/runtime/v1/secrets');
	is_deeply($res->{json}, { environment => 'production', secrets => { FROM_PROD => 'prod-only',
		FROM_STG => 'prod-shadowed', OVERRIDE => 'prod-over', UNICODE => "h\x{e9}llo \x{1f600}" } },
		'a production key reads production only');

	$res = rget($DEV->{key}, '/runtime/v1/secrets?format=xml');
	is($res->{status}, 400, 'unknown format: 400');
	is($res->{json}{field}, 'format', 'naming format');
	no_store($res, '400');
};

subtest 'If-None-Match: 304' => sub {
	ok(audit_settled(), 'earlier reads are in the chain');
	my $before = scalar @{ events($ORG, 'secret.read') };
	my $res = rget($DEV->{key}, '/runtime/v1/secrets', 'If-None-Match' => $ETAG);
	is($res->{status}, 304, 'the current ETag: 304');
	is($res->{body}, '', 'no body');
	is(hdr($res, 'ETag'), $ETAG, 'the ETag again');
	no_store($res, '304');
	is(rget($DEV->{key}, '/runtime/v1/secrets', 'If-None-Match' => "\"nope\", $ETAG")->{status},
		304, 'in a list: 304');
	is(rget($DEV->{key}, '/runtime/v1/secrets', 'If-None-Match' => "W/$ETAG")->{status},
		304, 'weak comparison: W/ matches too');
	is(rget($DEV->{key}, '/runtime/v1/secrets', 'If-None-Match' => '*')->{status}, 304, '*: 304');
	$res = rget($DEV->{key}, '/runtime/v1/secrets', 'If-None-Match' => '"' . ('0' x 64) . '"');
	is($res->{status}, 200, 'another ETag: 200');
	is_deeply($res->{json}{secrets}, \%DEV_WANT, 'with the body');
	is(wait_count(sprintf(q{SELECT count(*) FROM audit_event WHERE org_id = %s
		AND action = 'secret.read'}, sql_quote($ORG)), $before + 1), $before + 1,
		'a 304 reveals nothing and writes no event; the 200 writes one');
	is(rget($STG->{key}, '/runtime/v1/secrets', 'If-None-Match' => $ETAG)->{status}, 200,
		"another environment's ETag does not match");
};

subtest 'a /v1 write is visible on the very next runtime read; the ETag moves' => sub {
	my $r1 = set_('OVERRIDE', 'development', 'dev-changed');
	is($r1->{status}, 200, 'PATCH') or diag $r1->{body};
	my $res = rget($DEV->{key}, '/runtime/v1/secrets', 'If-None-Match' => $ETAG);
	is($res->{status}, 200, 'the old ETag no longer matches');
	is($res->{json}{secrets}{OVERRIDE}, 'dev-changed', 'the new value');
	my $new = hdr($res, 'ETag');
	isnt($new, $ETAG, 'a new ETag');
	# A parent's write changes what development resolves too.
	is(set_('FROM_PROD', 'production', 'prod-changed')->{status}, 200, 'PATCH production');
	$res = rget($DEV->{key}, '/runtime/v1/secrets', 'If-None-Match' => $new);
	is($res->{status}, 200, "a parent's write moves the child's ETag");
	is($res->{json}{secrets}{FROM_PROD}, 'prod-changed', 'the inherited value is new');
	my $seen_all = 1;
	for my $i (1 .. 20) {
		my $v = "v$i-" . rid();
		my $w = set_('OVERRIDE', 'development', $v);
		my $g = rget($DEV->{key}, '/runtime/v1/secrets');
		my $one = rget($DEV->{key}, '/runtime/v1/secrets/OVERRIDE');
		if ($w->{status} != 200 || $g->{status} != 200
		    || ($g->{json}{secrets}{OVERRIDE} // '') ne $v || ($one->{json}{value} // '') ne $v) {
			$seen_all = 0;
			diag "round $i: PATCH $w->{status}, GET $g->{status} "
				. ($g->{json}{secrets}{OVERRIDE} // '?') . ", one " . ($one->{json}{value} // '?');
		}
	}
	ok($seen_all, '20 × PATCH then GET: every read shows the value just written');
	# Removing the environment's own value: it inherits again.
	is(set_('OVERRIDE', 'development', undef)->{status}, 200, 'remove the development value');
	$res = rget($DEV->{key}, '/runtime/v1/secrets');
	is($res->{json}{secrets}{OVERRIDE}, 'stg-over', 'inherited from staging again');
	%DEV_WANT = %{ $res->{json}{secrets} };
};

subtest 'formats: dotenv and shell byte-identical to the /v1 export' => sub {
	for my $env ([ development => $DEV ], [ production => $PROD ]) {
		my ($slug, $k) = @$env;
		my %etag;
		for my $f (qw(dotenv shell json)) {
			my $res = rget($k->{key}, "/runtime/v1/secrets?format=$f");
			is($res->{status}, 200, "$slug $f: 200") or diag $res->{body};
			no_store($res, "$slug $f");
			$etag{$f} = hdr($res, 'ETag');
			like($etag{$f} // '', qr/^"[0-9a-f]{64}"$/, "$slug $f: strong ETag");
			is(rget($k->{key}, "/runtime/v1/secrets?format=$f", 'If-None-Match' => $etag{$f})
				->{status}, 304, "$slug $f: its ETag gives 304");
			next if $f eq 'json';
			like($res->{headers}{'content-type'}, qr{^text/plain}, "$slug $f: text/plain");
			my $exp = get_($owner->{cookie},
				"/v1/projects/$pid/secrets/export?environment=$slug&format=$f");
			is($exp->{status}, 200, "$slug $f: the /v1 export");
			ok($res->{body} eq $exp->{body}, "$slug $f: byte for byte the export")
				or diag "runtime:\n$res->{body}\nexport:\n$exp->{body}";
		}
		my %u = map { ($_ // '') => 1 } values %etag;
		is(scalar keys %u, 3, "$slug: one ETag per format");
		is(rget($k->{key}, '/runtime/v1/secrets?format=shell', 'If-None-Match' => $etag{dotenv})
			->{status}, 200, "$slug: the dotenv ETag does not match shell");
	}
	my $empty_p = new_project($owner->{cookie}, name => 'Runtime empty ' . rid());
	my $ek = db_key(project => $empty_p->{id}, env_id => (get_($owner->{cookie},
		"/v1/projects/$empty_p->{id}/environments")->{json}{items}[0]{id}));
	my $res = rget($ek->{key}, '/runtime/v1/secrets');
	is($res->{status}, 200, 'an empty environment: 200');
	is_deeply($res->{json}{secrets}, {}, 'secrets {}');
	isnt(hdr(rget($ek->{key}, '/runtime/v1/secrets?format=dotenv'), 'ETag'),
		hdr(rget($ek->{key}, '/runtime/v1/secrets?format=shell'), 'ETag'),
		'empty dotenv and empty shell: different ETags');
};

subtest 'GET /runtime/v1/secrets/:key' => sub {
	my $res = rget($DEV->{key}, '/runtime/v1/secrets/TRICKY');
	is($res->{status}, 200, 'answers 200') or diag $res->{body};
	no_store($res, 'one secret');
	is_deeply($res->{json}, { key => 'TRICKY', value => $DEV_WANT{TRICKY}, version => 1,
		environment => 'development' }, '{key,value,version,environment}, exact');
	$res = rget($DEV->{key}, '/runtime/v1/secrets/FROM_STG');
	is_deeply($res->{json}, { key => 'FROM_STG', value => 'stg-only', version => 1,
		environment => 'staging' }, 'inherited: the source environment and its version');
	$res = rget($DEV->{key}, '/runtime/v1/secrets/FROM_PROD');
	is($res->{json}{environment}, 'production', 'from production');
	is($res->{json}{version}, 2, 'its version (written twice)');
	is($res->{json}{value}, 'prod-changed', 'the current value');
	$res = rget($DEV->{key}, '/runtime/v1/secrets/UNICODE');
	is($res->{json}{value}, "h\x{e9}llo \x{1f600}", 'UTF-8 exact');
	for my $k ('NOPE_' . rid(), 'from_prod', '1BAD', 'A' x 300) {
		$res = rget($DEV->{key}, "/runtime/v1/secrets/$k");
		is($res->{status}, 404, "$k: 404");
		is($res->{json}{code}, 'NOT_FOUND', "$k: NOT_FOUND");
		no_store($res, "$k 404");
	}
	# A key of production never reads development's own value.
	$res = rget($PROD->{key}, '/runtime/v1/secrets/TRICKY');
	is($res->{status}, 404, "production's key: development's secret is 404");
	$res = rget($PROD->{key}, '/runtime/v1/secrets/OVERRIDE');
	is($res->{json}{value}, 'prod-over', "production's key: production's value");
};

subtest 'a key never reads another environment, project or org' => sub {
	my $q = new_project($owner->{cookie}, name => 'Runtime other ' . rid());
	my $r2 = write_('POST', $owner->{cookie}, "/v1/projects/$q->{id}/secrets",
		{ key => 'OTHER_PROJECT', values => { development => 'other' } });
	is($r2->{status}, 201, 'a secret in another project');
	my $res = rget($DEV->{key}, '/runtime/v1/secrets');
	ok(!exists $res->{json}{secrets}{OTHER_PROJECT}, "another project's secret is not there");
	is(rget($DEV->{key}, '/runtime/v1/secrets/OTHER_PROJECT')->{status}, 404, 'nor by key');
	my $fp = new_project($t->{foreign}{cookie}, name => 'Foreign ' . rid());
	my $fenv = get_($t->{foreign}{cookie}, "/v1/projects/$fp->{id}/environments")->{json}{items};
	my ($fdev) = grep { $_->{slug} eq 'development' } @$fenv;
	$r2 = write_('POST', $t->{foreign}{cookie}, "/v1/projects/$fp->{id}/secrets",
		{ key => 'OVERRIDE', values => { development => 'foreign' } });
	is($r2->{status}, 201, "a secret of the same key in another org");
	my $fk = db_key(org => $t->{forg}, project => $fp->{id}, env_id => $fdev->{id},
		user => $t->{foreign}{user}{id});
	$res = rget($fk->{key}, '/runtime/v1/secrets');
	is_deeply($res->{json}, { environment => 'development', secrets => { OVERRIDE => 'foreign' } },
		"the other org's key reads its own environment only");
	is(rget($DEV->{key}, '/runtime/v1/secrets/OVERRIDE')->{json}{value}, 'stg-over',
		'and ours ours');
};

subtest '401 INVALID_API_KEY for anything but a live environment key' => sub {
	my $revoked = db_key(env => 'development', revoked => "now() - interval '1 second'");
	my $expired = db_key(env => 'development', expires => "now() - interval '1 second'");
	my $personal = db_key(kind => 'user');
	my $soon_revoked = env_key('development');
	is(rget($soon_revoked->{key}, '/runtime/v1/secrets')->{status}, 200, 'a key, used once')
		for 1 .. 8; # cached in every worker
	# Revoked through the API: the writer's worker bumps this host's world
	# generation after COMMIT, before answering.
	is(write_('POST', $owner->{cookie}, "/v1/projects/$pid/api-keys/$soon_revoked->{id}/revoke")
		->{status}, 200, 'revoked through the API');
	my %cases = (
		'no Authorization' => undef,
		'garbage' => 'Bearer garbage',
		'a well-formed unknown key' => 'Bearer ' . rand_key(),
		'a revoked key' => "Bearer $revoked->{key}",
		'a key revoked after use' => "Bearer $soon_revoked->{key}",
		'an expired key' => "Bearer $expired->{key}",
		'a personal token (kind user)' => "Bearer $personal->{key}",
		'Basic scheme' => 'Basic ' . $DEV->{key},
		'a key one character short' => 'Bearer ' . substr($DEV->{key}, 0, -1),
	);
	for my $what (sort keys %cases) {
		for my $path ('/runtime/v1/', '/runtime/v1/secrets', '/runtime/v1/secrets/OVERRIDE') {
			my $res = req('GET', $path, { headers => {
				(defined $cases{$what} ? (Authorization => $cases{$what}) : ()) } });
			is($res->{status}, 401, "$what, $path: 401");
			is($res->{json}{code}, 'INVALID_API_KEY', "$what, $path: INVALID_API_KEY");
			unlike($res->{body}, qr/prod-|stg-|dev-/, "$what, $path: no value");
			no_store($res, "$what, $path");
		}
	}
	is(rget($DEV->{key}, '/runtime/v1/secrets')->{status}, 200, 'the live key still works');
	# An environment key never authenticates /v1.
	my $res = rget($DEV->{key}, "/v1/projects/$pid");
	is($res->{status}, 401, 'an environment key on /v1: 401');
};

# The warm path (issue 5): keys and bodies are cached per worker, and the
# cache is invalidated by the world generation. SHUSH_WORKERS is 2 here, so
# 20 requests reach both workers.
subtest 'warm path: revocation on the very next request, on every worker' => sub {
	my $k = env_key('staging');
	for my $i (1 .. 20) {
		is(rget($k->{key}, '/runtime/v1/secrets')->{status}, 200, "warm read $i");
	}
	is(write_('POST', $owner->{cookie}, "/v1/projects/$pid/api-keys/$k->{id}/revoke")->{status},
		200, 'revoked');
	my @st = map { rget($k->{key}, '/runtime/v1/secrets')->{status} } 1 .. 20;
	is(scalar(grep { $_ == 401 } @st), 20, 'the very next request, and every one after: 401')
		or diag "@st";
	is(rget($k->{key}, '/runtime/v1/')->{status}, 401, 'introspection too');
};

subtest 'warm path: read-your-writes across workers' => sub {
	my $k = env_key('development');
	secret_('RYW', development => 'ryw-0');
	for my $i (1 .. 20) {
		my $v = "ryw-$i-" . rid();
		rget($k->{key}, '/runtime/v1/secrets') for 1 .. 2; # warm both workers
		is(set_('RYW', development => $v)->{status}, 200, "write $i");
		my $res = rget($k->{key}, '/runtime/v1/secrets');
		my $j = eval { $JSON->decode($res->{body}) } // {};
		is($j->{secrets}{RYW}, $v, "read $i after write $i shows it");
		my $other = rget($k->{key}, '/runtime/v1/secrets');
		$j = eval { $JSON->decode($other->{body}) } // {};
		is($j->{secrets}{RYW}, $v, "the next read $i (maybe the other worker) too");
	}
};

subtest 'out-of-band writes reach the cache through the listener' => sub {
	my $k = env_key('staging');
	rget($k->{key}, '/runtime/v1/secrets') for 1 .. 8;
	psql('UPDATE api_key SET revoked_at = now() WHERE hash = ' . sql_quote(sha256_hex($k->{key})));
	my $n = 0;
	for (1 .. 50) { # the NOTIFY is asynchronous: within a second
		last if rget($k->{key}, '/runtime/v1/secrets')->{status} == 401 && ++$n >= 1;
		select(undef, undef, undef, 0.02);
	}
	is(scalar(grep { rget($k->{key}, '/runtime/v1/secrets')->{status} == 401 } 1 .. 10), 10,
		'a revocation written by hand reaches every worker');
};

subtest 'runtime reads are audited: secret.read, actor apiKey, never a value' => sub {
	ok(audit_settled(), 'earlier reads are in the chain');
	my $before = psql(sprintf(q{SELECT count(*) FROM audit_event WHERE org_id = %s
		AND action = 'secret.read' AND actor_id = %s}, sql_quote($ORG), sql_quote($STG->{id} // '')));
	my $res = rget($STG->{key}, '/runtime/v1/secrets?format=dotenv');
	is($res->{status}, 200, 'a read');
	$res = rget($STG->{key}, '/runtime/v1/secrets/FROM_STG');
	is($res->{status}, 200, 'one secret');
	is(rget($STG->{key}, '/runtime/v1/')->{status}, 200, 'introspection (not audited)');
	is(wait_count(sprintf(q{SELECT count(*) FROM audit_event WHERE org_id = %s
		AND action = 'secret.read' AND actor_id = %s}, sql_quote($ORG), sql_quote($STG->{id} // '')),
		$before + 2), $before + 2, 'two events reach the chain through the spool');
	my @rows = map { [ split /\|/, $_, 6 ] } grep { length } split /\n/, psql(sprintf(
		q{SELECT actor_type, actor_id, target_type, target_id, coalesce(environment, ''),
		metadata::text FROM audit_event WHERE org_id = %s AND action = 'secret.read'
		AND actor_type = 'apiKey' AND project_id = %s ORDER BY seq DESC LIMIT 2},
		sql_quote($ORG), sql_quote($pid)));
	is(scalar @rows, 2, 'two events');
	# Two workers' spools may be chained in either order.
	my ($one) = grep { $_->[2] eq 'secret' } @rows;
	my ($all) = grep { $_->[2] eq 'environment' } @rows;
	($one, $all) = ([], []) unless $one && $all;
	is($all->[0], 'apiKey', 'actor type apiKey');
	is($all->[1], $STG->{id}, 'actor: the key') if defined $STG->{id};
	is($all->[2], 'environment', 'target: the environment');
	is($all->[3], $ENV_ID{staging}, "the key's environment");
	is($all->[4], 'staging', 'environment slug');
	my $m = eval { $JSON->decode($all->[5]) } // {};
	is($m->{runtime}, JSON::PP::true, 'metadata runtime: true');
	is($m->{count}, 4, 'metadata count: the secrets served');
	is($one->[2], 'secret', 'one secret: target the secret');
	is($one->[3], $SECRET{FROM_STG}, 'its id');
	$m = eval { $JSON->decode($one->[5]) } // {};
	is_deeply($m, { runtime => JSON::PP::true, count => 1 }, 'metadata {runtime:true,count:1}');
	my $dump = psql(sprintf(q{SELECT string_agg(metadata::text || coalesce(target_id, ''), ' ')
		FROM audit_event WHERE org_id = %s AND action = 'secret.read'}, sql_quote($ORG)));
	unlike($dump, qr/prod-|stg-|dev-|quoted/, 'no value in any event');
};

done_testing;
