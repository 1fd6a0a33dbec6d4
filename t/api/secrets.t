#!/usr/bin/perl
# /v1/projects/:projectId/secrets (REFERENCE.md "Secrets", API.md §3, §4;
# issue 4 items 2, 3, 6): list (with ?reveal=true), get, create, update,
# delete, rotate, versions and the rotation policy; sealing (no plaintext in
# a database dump, a moved ciphertext does not open), the audit of every
# change and reveal, and 16 racing writers of one value.
use strict;
use warnings;
BEGIN { unless ($ENV{SHUSH_URL}) { print "1..0 # SKIP no stack\n"; exit 0 } }
use FindBin qw($Bin);
use lib $Bin;
use ApiTest;
use ProjTest;
use JSON::PP ();
use POSIX ();
use Test::More;
binmode(Test::More->builder->$_, ":encoding(UTF-8)") for qw(output failure_output todo_output);

my $ISO = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
my @SECRET_KEYS = sort qw(id key folderId note tags values lastRotatedAt createdAt);
my $TAG = run_tag();

my $T = team('sec');
my ($OWNER, $ADMIN, $ENG, $VIEWER, $FOREIGN) = @$T{qw(owner admin engineer viewer foreign)};
my $ORG = $T->{org};
my $P = new_project($OWNER->{cookie}, name => "Secrets $TAG")->{id};
my $P2 = new_project($OWNER->{cookie}, name => "Other $TAG")->{id};
my $FP = new_project($FOREIGN->{cookie}, name => "Foreign $TAG")->{id};

sub base { my ($p) = @_; return "/v1/projects/" . ($p // $P) . '/secrets' }
sub create { my ($c, $body, $p) = @_; return write_('POST', $c, base($p), $body) }
sub patch_ { my ($c, $id, $body, $p) = @_; return write_('PATCH', $c, base($p) . "/$id", $body) }
sub get1 { my ($c, $id, $p) = @_; return get_($c, base($p) . "/$id") }

# A secret made by the owner; its JSON.
my $N = 0;
sub new_secret {
	my (%body) = @_;
	$body{key} //= 'K_' . $TAG . '_' . ++$N;
	my $r = create($OWNER->{cookie}, \%body, delete $body{project});
	die "create secret: $r->{status} $r->{body}" unless $r->{status} == 201;
	return $r->{json};
}

sub err_is {
	my ($r, $status, $code, $field, $name) = @_;
	my $ok = is($r->{status}, $status, "$name: $status");
	$ok &&= is($r->{json} && $r->{json}{code}, $code, "$name: code $code") if defined $code;
	is($r->{json} && $r->{json}{field}, $field, "$name: field $field") if defined $field;
	diag $r->{body} unless $ok;
}

sub event_rows {
	my ($action) = @_;
	my $sql = 'SELECT target_id, coalesce(project_id, \'\'), coalesce(environment, \'\'), metadata '
		. 'FROM audit_event WHERE org_id = ' . sql_quote($ORG) . ' AND action = '
		. sql_quote($action) . ' ORDER BY seq';
	return [ map { my @f = split /\|/, $_, 4;
		{ target_id => $f[0], project_id => $f[1], environment => $f[2],
		  metadata => JSON::PP->new->decode($f[3]) } } grep { length } split /\n/, psql($sql) ];
}
sub last_event { my $e = event_rows($_[0]); return $e->[-1] }

# ------------------------------------------------------------------ create

my $UNIQ = "shush-plain-$TAG-" . rid();
my $S;    # the main secret

subtest 'create: 201 Secret, values without their value, audited' => sub {
	my $r = create($ENG->{cookie}, { key => "DB_URL_$TAG", note => 'the database',
		tags => [ 'db', 'prod', 'db' ],
		values => { development => "$UNIQ-dev", production => "$UNIQ-prod" } });
	is($r->{status}, 201, 'engineer creates: 201') or diag $r->{body};
	$S = $r->{json};
	is_deeply([ sort keys %$S ], \@SECRET_KEYS, 'the Secret shape');
	is($S->{key}, "DB_URL_$TAG", 'key');
	is($S->{note}, 'the database', 'note');
	is_deeply($S->{tags}, [ 'db', 'prod' ], 'tags, duplicates dropped');
	is($S->{folderId}, undef, 'folderId null');
	is($S->{lastRotatedAt}, undef, 'lastRotatedAt null');
	like($S->{createdAt}, $ISO, 'createdAt');
	is_deeply([ sort keys %{ $S->{values} } ], [qw(development production)], 'values by environment');
	for my $e (qw(development production)) {
		my $v = $S->{values}{$e};
		is_deeply([ sort keys %$v ], [qw(updatedAt updatedBy version)], "$e: no value in a write answer");
		is($v->{version}, 1, "$e: version 1");
		is($v->{updatedBy}, $ENG->{user}{id}, "$e: updatedBy");
		like($v->{updatedAt}, $ISO, "$e: updatedAt");
	}
	unlike($r->{body}, qr/\Q$UNIQ\E/, 'the answer carries no value');
	my $e = last_event('secret.created');
	is($e->{target_id}, $S->{id}, 'secret.created names the secret');
	is($e->{project_id}, $P, 'with the project');
	is($e->{metadata}{key}, "DB_URL_$TAG", 'and the key');
	is_deeply([ sort @{ $e->{metadata}{environments} } ], [qw(development production)],
		'and the environments written');

	$r = create($ENG->{cookie}, { key => "ONE_$TAG", values => { staging => 'x' } });
	is($r->{status}, 201, 'one environment: 201') or diag $r->{body};
	is(last_event('secret.created')->{environment}, 'staging', 'the event names the one environment');
	$r = create($ENG->{cookie}, { key => "EMPTY_$TAG" });
	is($r->{status}, 201, 'no values: 201') or diag $r->{body};
	is_deeply($r->{json}{values}, {}, 'values {}');
};

subtest 'create: bad input' => sub {
	my $c = $ENG->{cookie};
	err_is(create($c, {}), 400, 'VALIDATION_ERROR', 'key', 'no key');
	err_is(create($c, { key => 5 }), 400, 'VALIDATION_ERROR', 'key', 'key a number');
	for my $k ('1ABC', 'A-B', 'A B', '', 'É', 'A' x 257, "A\n") {
		err_is(create($c, { key => $k }), 400, 'VALIDATION_ERROR', 'key',
			'key ' . (length $k > 20 ? 'of ' . length($k) . ' characters' : "'$k'"));
	}
	my $r = create($c, { key => '_' . ('a' x 255) });
	is($r->{status}, 201, 'a key of 256 characters: 201') or diag $r->{body};
	err_is(create($c, { key => "V1_$TAG", values => [] }), 400, 'VALIDATION_ERROR', 'values',
		'values an array');
	err_is(create($c, { key => "V2_$TAG", values => { development => 5 } }), 400,
		'VALIDATION_ERROR', 'values.development', 'a value a number');
	err_is(create($c, { key => "V3_$TAG", values => { development => undef } }), 400,
		'VALIDATION_ERROR', 'values.development', 'a null value on create');
	err_is(create($c, { key => "V4_$TAG", values => { development => 'x' x (64 * 1024 + 1) } }),
		422, 'VALUE_TOO_LARGE', 'values.development', 'a value over 64 KiB');
	$r = create($c, { key => "V5_$TAG", values => { development => 'y' x (64 * 1024) } });
	is($r->{status}, 201, 'a value of exactly 64 KiB: 201') or diag substr($r->{body}, 0, 300);
	err_is(create($c, { key => "V6_$TAG", values => { nope => 'x' } }), 422,
		'UNKNOWN_ENVIRONMENT', 'values.nope', 'an unknown environment');
	err_is(req('POST', base(), { cookie => $c, origin => 1,
		headers => { 'Content-Type' => 'application/json' },
		body => qq({"key":"V7_$TAG","values":{"development":"a\\u0000b"}}) }), 400, undef, undef,
		'a NUL in a value');
	err_is(req('POST', base(), { cookie => $c, origin => 1,
		headers => { 'Content-Type' => 'application/json' },
		body => qq({"key":"V8_$TAG","values":{"development":"\xff\xfe"}}) }), 400,
		'VALIDATION_ERROR', 'values.development', 'a value not UTF-8');
	err_is(req('POST', base(), { cookie => $c, origin => 1,
		headers => { 'Content-Type' => 'application/json' },
		body => qq({"key":"V9_$TAG","values":{"development":"a","development":"b"}}) }), 400,
		'VALIDATION_ERROR', 'values.development', 'an environment twice');
	err_is(create($c, { key => "N1_$TAG", note => 'n' x 1025 }), 422, 'VALIDATION_ERROR', 'note',
		'a note over 1024 characters');
	err_is(create($c, { key => "N2_$TAG", note => [] }), 400, 'VALIDATION_ERROR', 'note',
		'a note not a string');
	err_is(create($c, { key => "T1_$TAG", tags => 'x' }), 400, 'VALIDATION_ERROR', 'tags',
		'tags a string');
	err_is(create($c, { key => "T2_$TAG", tags => [ map {"t$_"} 1 .. 33 ] }), 422,
		'VALIDATION_ERROR', 'tags', '33 tags');
	err_is(create($c, { key => "T3_$TAG", tags => [ 'ok', 't' x 65 ] }), 422,
		'VALIDATION_ERROR', 'tags.1', 'a tag over 64 characters');
	err_is(create($c, { key => "T4_$TAG", tags => [''] }), 422, 'VALIDATION_ERROR', 'tags.0',
		'an empty tag');
	err_is(create($c, { key => "T5_$TAG", tags => [1] }), 400, 'VALIDATION_ERROR', 'tags.0',
		'a tag not a string');
	err_is(create($c, { key => "F1_$TAG", folderId => rid() }), 422, 'UNKNOWN_FOLDER',
		'folderId', 'an unknown folder');
	err_is(create($c, { key => "F2_$TAG", folderId => 7 }), 400, 'VALIDATION_ERROR', 'folderId',
		'folderId a number');
	err_is(create($c, { key => "DB_URL_$TAG" }), 409, 'SECRET_EXISTS', 'key', 'a key taken');
	$r = create($c, { key => "DB_URL_$TAG" }, $P2);
	is($r->{status}, 201, 'the same key in another project: 201') or diag $r->{body};
	err_is(req('POST', base(), { cookie => $c, origin => 1,
		headers => { 'Content-Type' => 'text/plain' }, body => 'key=x' }), 415, undef, undef,
		'not JSON');
	is(scalar(grep { $_->{metadata}{key} =~ /^[VNTF]\d_/ } @{ event_rows('secret.created') }), 1,
		'no event for a refused create (one for V5)');
};

subtest 'create: who may' => sub {
	err_is(create(undef, { key => "X_$TAG" }), 401, undef, undef, 'no credential');
	err_is(create($VIEWER->{cookie}, { key => "X_$TAG" }), 403, 'FORBIDDEN', undef, 'viewer');
	my $r = create($ADMIN->{cookie}, { key => "ADMIN_$TAG" });
	is($r->{status}, 201, 'admin: 201') or diag $r->{body};
	err_is(create($FOREIGN->{cookie}, { key => "X_$TAG" }), 404, 'NOT_FOUND', undef,
		'another org\'s owner, this org\'s project');
	err_is(create($OWNER->{cookie}, { key => "X_$TAG" }, $FP), 404, 'NOT_FOUND', undef,
		'this org\'s owner, another org\'s project');
	err_is(create($OWNER->{cookie}, { key => "X_$TAG" }, rid()), 404, 'NOT_FOUND', undef,
		'a missing project');
};

# --------------------------------------------------------------------- get

subtest 'get one: values, audited; viewers and outsiders refused' => sub {
	my $r = get1($ENG->{cookie}, $S->{id});
	is($r->{status}, 200, 'engineer: 200') or diag $r->{body};
	is_deeply([ sort keys %{ $r->{json} } ], \@SECRET_KEYS, 'the Secret shape');
	is($r->{json}{values}{development}{value}, "$UNIQ-dev", 'development value');
	is($r->{json}{values}{production}{value}, "$UNIQ-prod", 'production value');
	ok(!exists $r->{json}{values}{staging}, 'no staging value');
	my $e = last_event('secret.read');
	is($e->{target_id}, $S->{id}, 'audited secret.read');
	is($e->{project_id}, $P, 'with the project');
	unlike(JSON::PP->new->encode($e->{metadata}), qr/\Q$UNIQ\E/, 'no value in the event');

	err_is(get1($VIEWER->{cookie}, $S->{id}), 403, 'FORBIDDEN', undef, 'viewer');
	err_is(get1(undef, $S->{id}), 401, undef, undef, 'no credential');
	err_is(get1($FOREIGN->{cookie}, $S->{id}), 404, 'NOT_FOUND', undef, 'another org');
	err_is(get1($ENG->{cookie}, rid()), 404, 'NOT_FOUND', undef, 'a missing id');
	err_is(get1($ENG->{cookie}, $S->{id}, $P2), 404, 'NOT_FOUND', undef,
		'the id under another project of the org');
	err_is(get1($ENG->{cookie}, 'x' x 100), 404, 'NOT_FOUND', undef, 'a long id');

	my $odd = "line1\nline2\r\n\t'single' \"double\" `back` \$(touch /tmp/x) \\ é 日本 🙂 #=";
	my $o = new_secret(values => { staging => $odd, development => '' });
	$r = get1($ENG->{cookie}, $o->{id});
	is($r->{json}{values}{staging}{value}, $odd, 'a value with newlines, quotes and unicode, exact');
	is($r->{json}{values}{development}{value}, '', 'an empty value');
};

# -------------------------------------------------------------------- list

subtest 'list: keys for viewers, values with reveal for readers' => sub {
	my $before = scalar @{ event_rows('secret.read') };
	my $r = get_($VIEWER->{cookie}, base());
	is($r->{status}, 200, 'viewer lists: 200') or diag $r->{body};
	is_deeply([ sort keys %{ $r->{json} } ], [qw(items nextCursor)], '{items,nextCursor}');
	my ($s) = grep { $_->{id} eq $S->{id} } @{ $r->{json}{items} };
	ok($s, 'the secret is listed');
	is_deeply([ sort keys %{ $s->{values}{development} } ], [qw(updatedAt updatedBy version)],
		'no value without reveal');
	unlike($r->{body}, qr/\Q$UNIQ\E/, 'no value anywhere in the answer');
	is(scalar @{ event_rows('secret.read') }, $before, 'a list without reveal is not audited');

	err_is(get_($VIEWER->{cookie}, base() . '?reveal=true'), 403, 'FORBIDDEN', undef,
		'viewer reveal');
	err_is(get_($ENG->{cookie}, base() . '?reveal=yes'), 400, 'VALIDATION_ERROR', 'reveal',
		'reveal=yes');
	$r = get_($ENG->{cookie}, base() . '?reveal=true');
	is($r->{status}, 200, 'engineer reveal: 200') or diag $r->{body};
	($s) = grep { $_->{id} eq $S->{id} } @{ $r->{json}{items} };
	is($s->{values}{production}{value}, "$UNIQ-prod", 'the value revealed');
	my $e = last_event('secret.read');
	is($e->{target_id}, $P, 'reveal audited, the project its target');
	is($e->{metadata}{reveal}, JSON::PP::true, 'metadata reveal: true');
	is($e->{metadata}{count}, scalar @{ $r->{json}{items} }, 'metadata count');

	$r = get_($ENG->{cookie}, base() . '?reveal=true&environment=production');
	is($r->{status}, 200, '?environment=production: 200') or diag $r->{body};
	($s) = grep { $_->{id} eq $S->{id} } @{ $r->{json}{items} };
	is_deeply([ keys %{ $s->{values} } ], ['production'], 'only production values');
	is(last_event('secret.read')->{environment}, 'production', 'the event names it');
	err_is(get_($ENG->{cookie}, base() . '?environment=nope'), 422, 'UNKNOWN_ENVIRONMENT',
		'environment', 'an unknown environment');

	err_is(get_(undef, base()), 401, undef, undef, 'no credential');
	err_is(get_($FOREIGN->{cookie}, base()), 404, 'NOT_FOUND', undef, 'another org');
	err_is(get_($ENG->{cookie}, base(rid())), 404, 'NOT_FOUND', undef, 'a missing project');
	err_is(get_($ENG->{cookie}, base() . '?limit=0'), 400, 'VALIDATION_ERROR', 'limit', 'limit=0');
	err_is(get_($ENG->{cookie}, base() . '?cursor=%21%21'), 400, 'VALIDATION_ERROR', 'cursor',
		'a bad cursor');
	err_is(get_($ENG->{cookie}, base() . '?cursor=MWFiYw'), 400, 'VALIDATION_ERROR', 'cursor',
		'a cursor that is no key');
};

subtest 'list: keyset pages by key, folder filter' => sub {
	my $p = new_project($OWNER->{cookie}, name => "Pages $TAG")->{id};
	my @keys = map { "P${_}_$TAG" } qw(E C A D B F G);
	new_secret(project => $p, key => $_, values => { development => "v-$_" }) for @keys;
	my (@seen, $cursor, $pages);
	do {
		my $r = get_($ENG->{cookie}, base($p) . '?limit=3&reveal=true'
			. (defined $cursor ? "&cursor=$cursor" : ''));
		is($r->{status}, 200, 'a page: 200') or do { diag $r->{body}; last };
		ok(@{ $r->{json}{items} } <= 3, 'at most limit items');
		push @seen, map { $_->{key} } @{ $r->{json}{items} };
		is($_->{values}{development}{value}, 'v-' . $_->{key}, "$_->{key}: its value")
			for @{ $r->{json}{items} };
		$cursor = $r->{json}{nextCursor};
		# a secret inserted meanwhile, before the cursor, does not shift pages
		new_secret(project => $p, key => "A0_$TAG") if ++$pages == 1;
	} while (defined $cursor && $pages < 10);
	is_deeply(\@seen, [ sort @keys ], 'every key once, in order, across pages');

	my $f = write_('POST', $OWNER->{cookie}, "/v1/projects/$p/folders", { name => "F $TAG" });
	is($f->{status}, 201, 'a folder') or diag $f->{body};
	my $fid = $f->{json}{id};
	my $in = new_secret(project => $p, key => "INF_$TAG", folderId => $fid);
	is($in->{folderId}, $fid, 'created in the folder');
	my $r = get_($VIEWER->{cookie}, base($p) . "?folderId=$fid");
	is_deeply([ map { $_->{key} } @{ $r->{json}{items} } ], ["INF_$TAG"], '?folderId= filters');
	$r = get_($VIEWER->{cookie}, base($p) . '?folderId=' . rid());
	is_deeply($r->{json}{items}, [], 'an unknown folder: nothing');
	my $other = write_('POST', $OWNER->{cookie}, "/v1/projects/$P/folders", { name => "G $TAG" });
	err_is(create($ENG->{cookie}, { key => "XF_$TAG", folderId => $other->{json}{id} }, $p),
		422, 'UNKNOWN_FOLDER', 'folderId', 'a folder of another project');
};

# ------------------------------------------------------------------- patch

subtest 'patch: new versions, removal, metadata; audited; generation bumped' => sub {
	my $gen = sub { psql('SELECT string_agg(generation::text, \',\' ORDER BY position) '
		. 'FROM environment WHERE project_id = ' . sql_quote($P)) };
	my $g0 = $gen->();
	my $r = patch_($ENG->{cookie}, $S->{id}, { values => { development => "$UNIQ-dev2" } });
	is($r->{status}, 200, 'a new development value: 200') or diag $r->{body};
	is($r->{json}{values}{development}{version}, 2, 'version 2');
	is($r->{json}{values}{production}{version}, 1, 'production untouched');
	isnt($gen->(), $g0, 'the environments\' generation moved');
	my $e = last_event('secret.updated');
	is($e->{target_id}, $S->{id}, 'secret.updated');
	is($e->{environment}, 'development', 'naming the environment');
	unlike(JSON::PP->new->encode($e->{metadata}), qr/\Q$UNIQ\E/, 'no value in the event');

	$r = patch_($ENG->{cookie}, $S->{id}, { values => { development => "$UNIQ-dev2" } });
	is($r->{json}{values}{development}{version}, 3, 'the same value again is a new version too');

	$r = patch_($ENG->{cookie}, $S->{id}, { values => { production => undef, staging => 's1' } });
	is($r->{status}, 200, 'null removes, another sets: 200') or diag $r->{body};
	ok(!exists $r->{json}{values}{production}, 'production removed');
	is($r->{json}{values}{staging}{version}, 1, 'staging version 1');
	$e = last_event('secret.updated');
	is_deeply($e->{metadata}{removed}, ['production'], 'the event says what was removed');
	is($e->{environment}, '', 'two environments: none named');

	$r = patch_($ENG->{cookie}, $S->{id}, { values => { production => "$UNIQ-prod2" } });
	is($r->{json}{values}{production}{version}, 2, 'set again after removal: the next version');

	$r = patch_($ENG->{cookie}, $S->{id}, { key => "DB_URL2_$TAG", note => 'moved',
		tags => ['x'] });
	is($r->{status}, 200, 'metadata: 200') or diag $r->{body};
	is($r->{json}{key}, "DB_URL2_$TAG", 'key renamed');
	is($r->{json}{note}, 'moved', 'note');
	is_deeply($r->{json}{tags}, ['x'], 'tags');
	is_deeply(last_event('secret.updated')->{metadata}{keyChange},
		{ from => "DB_URL_$TAG", to => "DB_URL2_$TAG" }, 'the rename is in the event');
	$r = patch_($ENG->{cookie}, $S->{id}, { note => undef, tags => undef });
	is($r->{json}{note}, '', 'note null clears');
	is_deeply($r->{json}{tags}, [], 'tags null clears');

	my $n = scalar @{ event_rows('secret.updated') };
	$r = patch_($ENG->{cookie}, $S->{id}, {});
	is($r->{status}, 200, 'empty PATCH: 200') or diag $r->{body};
	is($r->{json}{key}, "DB_URL2_$TAG", 'the secret');
	is(scalar @{ event_rows('secret.updated') }, $n, 'no event');

	my $o = new_secret();
	err_is(patch_($ENG->{cookie}, $S->{id}, { key => $o->{key} }), 409, 'SECRET_EXISTS', 'key',
		'a key taken');
	err_is(patch_($ENG->{cookie}, $S->{id}, { key => 'no-dash' }), 400, 'VALIDATION_ERROR',
		'key', 'a bad key');
	err_is(patch_($ENG->{cookie}, $S->{id}, { values => { nope => 'x' } }), 422,
		'UNKNOWN_ENVIRONMENT', 'values.nope', 'an unknown environment');
	err_is(patch_($ENG->{cookie}, $S->{id}, { values => { staging => 'x' x 65537 } }), 422,
		'VALUE_TOO_LARGE', 'values.staging', 'a value too large');
	err_is(patch_($ENG->{cookie}, $S->{id}, { values => { staging => {} } }), 400,
		'VALIDATION_ERROR', 'values.staging', 'a value an object');
	err_is(patch_($ENG->{cookie}, $S->{id}, { folderId => rid() }), 422, 'UNKNOWN_FOLDER',
		'folderId', 'an unknown folder');
	is(get1($ENG->{cookie}, $S->{id})->{json}{values}{staging}{version}, 1,
		'refused PATCHes wrote nothing');
	err_is(patch_(undef, $S->{id}, { note => 'x' }), 401, undef, undef, 'no credential');
	err_is(patch_($VIEWER->{cookie}, $S->{id}, { note => 'x' }), 403, 'FORBIDDEN', undef,
		'viewer');
	err_is(patch_($FOREIGN->{cookie}, $S->{id}, { note => 'x' }), 404, 'NOT_FOUND', undef,
		'another org');
	err_is(patch_($ENG->{cookie}, rid(), { note => 'x' }), 404, 'NOT_FOUND', undef, 'a missing id');
	err_is(patch_($ENG->{cookie}, $S->{id}, { note => 'x' }, $P2), 404, 'NOT_FOUND', undef,
		'under another project');
};

# ---------------------------------------------------------------- versions

subtest 'versions: newest first, values readable, audited' => sub {
	my $r = get_($ENG->{cookie}, base() . "/$S->{id}/versions?environment=development");
	is($r->{status}, 200, 'engineer: 200') or diag $r->{body};
	my @items = @{ $r->{json}{items} };
	is_deeply([ map { $_->{version} } @items ], [ 3, 2, 1 ], 'newest first');
	is_deeply([ map { $_->{value} } @items ], [ "$UNIQ-dev2", "$UNIQ-dev2", "$UNIQ-dev" ],
		'each version\'s value');
	is_deeply([ sort keys %{ $items[0] } ], [qw(createdAt createdBy environment value version)],
		'{version,environment,value,createdAt,createdBy}');
	is($items[0]{environment}, 'development', 'environment');
	is($items[0]{createdBy}, $ENG->{user}{id}, 'createdBy');
	like($items[0]{createdAt}, $ISO, 'createdAt');
	my $e = last_event('secret.read');
	is($e->{metadata}{versions}, JSON::PP::true, 'audited secret.read {versions:true}');
	is($e->{environment}, 'development', 'naming the environment');

	$r = get_($ENG->{cookie}, base() . "/$S->{id}/versions?environment=production");
	is_deeply([ map { "$_->{version}=$_->{value}" } @{ $r->{json}{items} } ],
		[ "2=$UNIQ-prod2", "1=$UNIQ-prod" ], 'a removed value\'s versions stay');
	$r = get_($ENG->{cookie}, base() . "/$S->{id}/versions");
	is(scalar @{ $r->{json}{items} }, 6, 'all environments: 6 versions');
	$r = get_($ENG->{cookie}, base() . "/$S->{id}/versions?limit=4");
	is(scalar @{ $r->{json}{items} }, 4, 'limit 4');
	my $r2 = get_($ENG->{cookie}, base() . "/$S->{id}/versions?limit=4&cursor=$r->{json}{nextCursor}");
	is(scalar @{ $r2->{json}{items} }, 2, 'the next page: the other 2');
	is($r2->{json}{nextCursor}, undef, 'and no further');
	my %all = map { ("$_->{environment}:$_->{version}" => 1) } @{ $r->{json}{items} },
		@{ $r2->{json}{items} };
	is(scalar keys %all, 6, 'no version twice across pages');

	err_is(get_($ENG->{cookie}, base() . "/$S->{id}/versions?environment=nope"), 422,
		'UNKNOWN_ENVIRONMENT', 'environment', 'an unknown environment');
	err_is(get_($ENG->{cookie}, base() . "/$S->{id}/versions?cursor=x"), 400,
		'VALIDATION_ERROR', 'cursor', 'a bad cursor');
	err_is(get_($VIEWER->{cookie}, base() . "/$S->{id}/versions"), 403, 'FORBIDDEN', undef,
		'viewer');
	err_is(get_(undef, base() . "/$S->{id}/versions"), 401, undef, undef, 'no credential');
	err_is(get_($FOREIGN->{cookie}, base() . "/$S->{id}/versions"), 404, 'NOT_FOUND', undef,
		'another org');
	err_is(get_($ENG->{cookie}, base() . '/' . rid() . '/versions'), 404, 'NOT_FOUND', undef,
		'a missing secret');
};

# ------------------------------------------------------- rotate and policy

subtest 'rotation policy and rotate' => sub {
	my $pol = base() . "/$S->{id}/rotation-policy";
	err_is(get_($VIEWER->{cookie}, $pol), 404, 'NOT_FOUND', undef, 'no policy: 404');
	err_is(write_('DELETE', $ADMIN->{cookie}, $pol), 404, 'NOT_FOUND', undef,
		'deleting none: 404');
	err_is(write_('POST', $ENG->{cookie}, $pol, { intervalDays => 30 }), 403, 'FORBIDDEN', undef,
		'engineer sets: 403');
	err_is(write_('POST', undef, $pol, { intervalDays => 30 }), 401, undef, undef,
		'no credential');
	for my $bad ([ 0, 422 ], [ 3651, 422 ], [ 1.5, 422 ], [ -1, 422 ], [ '30', 400 ],
		     [ undef, 400 ], [ [], 400 ]) {
		err_is(write_('POST', $ADMIN->{cookie}, $pol, { intervalDays => $bad->[0] }), $bad->[1],
			undef, 'intervalDays', 'intervalDays ' . JSON::PP->new->allow_nonref->encode($bad->[0]));
	}
	my $r = write_('POST', $ADMIN->{cookie}, $pol, { intervalDays => 30 });
	is($r->{status}, 201, 'admin sets: 201') or diag $r->{body};
	is_deeply([ sort keys %{ $r->{json} } ], [qw(intervalDays lastRotatedAt nextDueAt)], 'shape');
	is($r->{json}{intervalDays}, 30, 'intervalDays');
	like($r->{json}{nextDueAt}, $ISO, 'nextDueAt');
	is($r->{json}{lastRotatedAt}, undef, 'never rotated');
	is(last_event('rotation_policy.set')->{metadata}{intervalDays}, 30, 'audited');
	$r = write_('POST', $OWNER->{cookie}, $pol, { intervalDays => 3650 });
	is($r->{status}, 200, 'replaced: 200') or diag $r->{body};
	$r = get_($VIEWER->{cookie}, $pol);
	is($r->{status}, 200, 'viewer reads it: 200') or diag $r->{body};
	is($r->{json}{intervalDays}, 3650, 'the new interval');
	err_is(get_($FOREIGN->{cookie}, $pol), 404, 'NOT_FOUND', undef, 'another org');
	err_is(write_('POST', $FOREIGN->{cookie}, $pol, { intervalDays => 5 }), 404, 'NOT_FOUND',
		undef, 'another org sets');

	my $rot = base() . "/$S->{id}/rotate";
	err_is(write_('POST', $VIEWER->{cookie}, $rot), 403, 'FORBIDDEN', undef, 'viewer rotates');
	err_is(write_('POST', undef, $rot), 401, undef, undef, 'no credential');
	err_is(write_('POST', $FOREIGN->{cookie}, $rot), 404, 'NOT_FOUND', undef, 'another org');
	err_is(write_('POST', $ENG->{cookie}, base() . '/' . rid() . '/rotate'), 404, 'NOT_FOUND',
		undef, 'a missing secret');
	err_is(write_('POST', $ENG->{cookie}, $rot, { environment => 'nope' }), 422,
		'UNKNOWN_ENVIRONMENT', 'environment', 'an unknown environment');
	err_is(write_('POST', $ENG->{cookie}, $rot, { environment => 1 }), 400, 'VALIDATION_ERROR',
		'environment', 'environment a number');
	$r = write_('POST', $ENG->{cookie}, $rot, { environment => 'production' });
	is($r->{status}, 200, 'engineer rotates: 200') or diag $r->{body};
	is_deeply([ sort keys %{ $r->{json} } ], \@SECRET_KEYS, 'the Secret');
	like($r->{json}{lastRotatedAt} // '', $ISO, 'lastRotatedAt set');
	my $e = last_event('secret.rotated');
	is($e->{target_id}, $S->{id}, 'audited secret.rotated');
	is($e->{environment}, 'production', 'naming the environment');
	$r = write_('POST', $ENG->{cookie}, $rot);
	is($r->{status}, 200, 'with no body: 200') or diag $r->{body};
	my $last = $r->{json}{lastRotatedAt};
	$r = get_($VIEWER->{cookie}, $pol);
	is($r->{json}{lastRotatedAt}, $last, 'the policy shows the rotation');
	my $due = psql('SELECT (next_due_at = s.last_rotated_at + interval \'3650 days\')::text '
		. 'FROM rotation_policy r JOIN secret s ON s.id = r.secret_id WHERE s.id = '
		. sql_quote($S->{id}));
	is($due, 'true', 'next due = last rotation + interval');

	is(write_('DELETE', $ENG->{cookie}, $pol)->{status}, 403, 'engineer deletes: 403');
	$r = write_('DELETE', $ADMIN->{cookie}, $pol);
	is($r->{status}, 204, 'admin deletes: 204') or diag $r->{body};
	is($r->{body}, '', 'no body');
	ok(last_event('rotation_policy.deleted'), 'audited');
	is(get_($VIEWER->{cookie}, $pol)->{status}, 404, 'gone');
};

# ------------------------------------------------------------------ delete

subtest 'delete' => sub {
	my $d = new_secret(values => { development => 'to go' });
	my $path = base() . "/$d->{id}";
	err_is(write_('DELETE', undef, $path), 401, undef, undef, 'no credential');
	err_is(write_('DELETE', $VIEWER->{cookie}, $path), 403, 'FORBIDDEN', undef, 'viewer');
	err_is(write_('DELETE', $FOREIGN->{cookie}, $path), 404, 'NOT_FOUND', undef, 'another org');
	err_is(write_('DELETE', $ENG->{cookie}, base($P2) . "/$d->{id}"), 404, 'NOT_FOUND', undef,
		'under another project');
	my $r = write_('DELETE', $ENG->{cookie}, $path);
	is($r->{status}, 204, 'engineer: 204') or diag $r->{body};
	is(get1($ENG->{cookie}, $d->{id})->{status}, 404, 'gone');
	is(psql('SELECT count(*) FROM secret_version WHERE secret_id = ' . sql_quote($d->{id})), 0,
		'its versions too');
	my $e = last_event('secret.deleted');
	is($e->{target_id}, $d->{id}, 'audited secret.deleted');
	is($e->{metadata}{key}, $d->{key}, 'with the key');
	err_is(write_('DELETE', $ENG->{cookie}, $path), 404, 'NOT_FOUND', undef, 'again: 404');
};

# ------------------------------------------------------------------ racing

subtest '16 racing writers of one value: 16 distinct consecutive versions' => sub {
	my $s = new_secret(values => { development => 'v0' });
	my $path = base() . "/$s->{id}";
	my $tmp = "/tmp/shush-race-$$-" . rid();
	mkdir $tmp or die "mkdir $tmp: $!";
	my @pids;
	for my $i (1 .. 16) {
		my $pid = fork();
		die "fork: $!" unless defined $pid;
		if ($pid == 0) {
			my $r = req('PATCH', $path, { cookie => $ENG->{cookie}, origin => 1,
				json => { values => { development => "race-$i" } } });
			open my $fh, '>', "$tmp/$i" or POSIX::_exit(2);
			print {$fh} "$r->{status}\n";
			close $fh;
			POSIX::_exit(0);
		}
		push @pids, $pid;
	}
	waitpid($_, 0) for @pids;
	my @st = map { open my $fh, '<', "$tmp/$_" or die; my $l = <$fh>; chomp $l; $l } 1 .. 16;
	unlink glob "$tmp/*";
	rmdir $tmp;
	is_deeply([ sort @st ], [ ('200') x 16 ], 'every PATCH: 200 (no 5xx, no 409)')
		or diag "@st";
	my $r = get_($ENG->{cookie}, "$path/versions?environment=development&limit=50");
	my @items = @{ $r->{json}{items} };
	is_deeply([ map { $_->{version} } @items ], [ reverse 1 .. 17 ],
		'versions 17..1, each once, newest first');
	is_deeply([ sort map { $_->{value} } @items[ 0 .. 15 ] ], [ sort map {"race-$_"} 1 .. 16 ],
		'every write kept, none lost');
	is(get1($ENG->{cookie}, $s->{id})->{json}{values}{development}{value}, $items[0]{value},
		'the current value is the newest version');
};

# ----------------------------------------------------------------- sealing

subtest 'no plaintext in a database dump' => sub {
	my $url = conf('DATABASE_URL');
	my $out = `pg_dump --data-only --no-owner '$url' 2>&1`;
	ok($? == 0 && length $out > 1000, 'pg_dump ran') or diag substr($out, 0, 500);
	like($out, qr/\Q$S->{id}\E/, 'the dump has the secret\'s row');
	unlike($out, qr/\Q$UNIQ\E/, 'and none of its values, in any version');
	unlike($out, qr/race-\d+/, 'nor the racing writers\' values');
	my $hex = unpack 'H*', $UNIQ;
	unlike($out, qr/$hex/i, 'not even as hex');
};

subtest 'a ciphertext moved to another row does not open' => sub {
	my $a = new_secret(values => { development => "alpha-$UNIQ" });
	my $b = new_secret(values => { development => "bravo-$TAG-moved" });
	my $row = sub { 'secret_id = ' . sql_quote($_[0]) . ' AND version = 1' };
	psql("UPDATE secret_version SET value = (SELECT value FROM secret_version WHERE "
		. $row->($b->{id}) . ') WHERE ' . $row->($a->{id}));
	my $r = get1($ENG->{cookie}, $a->{id});
	is($r->{status}, 500, 'GET: 500') or diag $r->{body};
	is($r->{json} && $r->{json}{code}, 'SECRET_UNREADABLE', 'SECRET_UNREADABLE');
	ok($r->{json} && $r->{json}{requestId}, 'with the request id');
	unlike($r->{body}, qr/bravo|alpha/, 'no value, neither one');
	$r = get_($ENG->{cookie}, base() . '?reveal=true&limit=200');
	is($r->{status}, 500, 'reveal in a list: 500');
	unlike($r->{body}, qr/bravo|alpha/, 'no value');
	$r = get_($ENG->{cookie}, base() . "/$a->{id}/versions");
	is($r->{status}, 500, 'versions: 500');
	unlike($r->{body}, qr/bravo|alpha/, 'no value');
	my $log = defined $ENV{SHUSH_STACK_DIR} ? "$ENV{SHUSH_STACK_DIR}/log/shushd.log" : undef;
	if (defined $log && -r $log) {
		my $text = do { local (@ARGV, $/) = ($log); <> };
		like($text, qr/secret\.unreadable[^\n]*\Q$a->{id}\E/, 'the log names the row');
		unlike($text, qr/alpha-|bravo-/, 'and no value');
	}
	$r = get_($VIEWER->{cookie}, base() . '?limit=200');
	is($r->{status}, 200, 'a list without values still answers');
	is(get1($ENG->{cookie}, $b->{id})->{json}{values}{development}{value}, "bravo-$TAG-moved",
		'the row it came from still opens');
	# A new version heals it; the list reveals again.
	patch_($ENG->{cookie}, $a->{id}, { values => { development => 'healed' } });
	is(get1($ENG->{cookie}, $a->{id})->{json}{values}{development}{value}, 'healed',
		'a new version opens');
	write_('DELETE', $ENG->{cookie}, base() . "/$a->{id}");
	is(get_($ENG->{cookie}, base() . '?reveal=true&limit=200')->{status}, 200,
		'the list reveals again without it');
};

subtest 'no value in any audit event of the org' => sub {
	my $all = psql('SELECT string_agg(metadata, \' \') FROM audit_event WHERE org_id = '
		. sql_quote($ORG));
	unlike($all, qr/\Q$UNIQ\E|race-\d|bravo-/, 'no stored value in any event\'s metadata');
	my $n = psql('SELECT count(*) FROM audit_event WHERE org_id = ' . sql_quote($ORG)
		. " AND action LIKE 'secret.%' AND project_id IS NULL");
	is($n, 0, 'every secret event names its project');
};

done_testing;
