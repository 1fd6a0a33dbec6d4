#!/usr/bin/perl
# /v1/orgs/current/shared-folders and /v1/orgs/current/shared-secrets
# (REFERENCE.md "Shared secrets", API.md §3, §4; issue 4 item 4): the
# org-wide store. Folders (list, and our create), shared secrets (list with
# ?reveal=true, get, our create/update/delete, versions); sealing (no
# plaintext in a database dump, a moved ciphertext does not open), the audit
# of every change and reveal, and 8 racing writers of one value.
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
my @WRITE_KEYS = sort qw(id key folderId note version createdAt updatedAt);
my @READ_KEYS = sort(@WRITE_KEYS, 'value');
my $TAG = run_tag();

my $T = team('shr');
my ($OWNER, $ADMIN, $ENG, $VIEWER, $FOREIGN) = @$T{qw(owner admin engineer viewer foreign)};
my $ORG = $T->{org};

my $BASE = '/v1/orgs/current/shared-secrets';
my $FOLDERS = '/v1/orgs/current/shared-folders';
sub create { my ($c, $body) = @_; return write_('POST', $c, $BASE, $body) }
sub patch_ { my ($c, $id, $body) = @_; return write_('PATCH', $c, "$BASE/$id", $body) }
sub get1 { my ($c, $id) = @_; return get_($c, "$BASE/$id") }

my $N = 0;
sub new_shared {
	my (%body) = @_;
	$body{key} //= 'SK_' . $TAG . '_' . ++$N;
	$body{value} //= 'v';
	my $r = create($ADMIN->{cookie}, \%body);
	die "create shared secret: $r->{status} $r->{body}" unless $r->{status} == 201;
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
	my $sql = 'SELECT target_type, target_id, coalesce(project_id, \'\'), metadata '
		. 'FROM audit_event WHERE org_id = ' . sql_quote($ORG) . ' AND action = '
		. sql_quote($action) . ' ORDER BY seq';
	return [ map { my @f = split /\|/, $_, 4;
		{ target_type => $f[0], target_id => $f[1], project_id => $f[2],
		  metadata => JSON::PP->new->decode($f[3]) } } grep { length } split /\n/, psql($sql) ];
}
sub last_event { my $e = event_rows($_[0]); return $e->[-1] }
sub count_events { return scalar @{ event_rows($_[0]) } }

# ----------------------------------------------------------------- folders

my ($F1, $F2);
subtest 'shared folders: list, create' => sub {
	my $r = get_($VIEWER->{cookie}, $FOLDERS);
	is($r->{status}, 200, 'viewer lists: 200') or diag $r->{body};
	is_deeply($r->{json}, { items => [], nextCursor => undef }, 'none yet');

	$r = write_('POST', $ADMIN->{cookie}, $FOLDERS, { name => "  apps $TAG " });
	is($r->{status}, 201, 'admin creates: 201') or diag $r->{body};
	$F1 = $r->{json};
	is_deeply([ sort keys %$F1 ], [qw(id name parentId path)], 'the Folder shape');
	is($F1->{name}, "apps $TAG", 'name trimmed');
	is($F1->{parentId}, undef, 'at the top');
	is($F1->{path}, "/apps $TAG", 'path');
	my $e = last_event('shared_folder.created');
	is($e->{target_id}, $F1->{id}, 'audited shared_folder.created');
	is($e->{target_type}, 'shared_folder', 'target type shared_folder');
	is($e->{metadata}{path}, "/apps $TAG", 'with the path');

	$r = write_('POST', $OWNER->{cookie}, $FOLDERS, { name => 'web', parentId => $F1->{id} });
	is($r->{status}, 201, 'owner creates a subfolder: 201') or diag $r->{body};
	$F2 = $r->{json};
	is($F2->{parentId}, $F1->{id}, 'parentId');
	is($F2->{path}, "/apps $TAG/web", 'nested path');

	my $n = count_events('shared_folder.created');
	err_is(write_('POST', $ADMIN->{cookie}, $FOLDERS, { name => 'web', parentId => $F1->{id} }),
		409, 'FOLDER_EXISTS', 'name', 'a sibling with the name');
	$r = write_('POST', $ADMIN->{cookie}, $FOLDERS, { name => 'web' });
	is($r->{status}, 201, 'the same name elsewhere: 201') or diag $r->{body};
	$n++;
	err_is(write_('POST', $ADMIN->{cookie}, $FOLDERS, {}), 400, 'VALIDATION_ERROR', 'name',
		'no name');
	err_is(write_('POST', $ADMIN->{cookie}, $FOLDERS, { name => '   ' }), 400,
		'VALIDATION_ERROR', 'name', 'a blank name');
	err_is(write_('POST', $ADMIN->{cookie}, $FOLDERS, { name => 'a/b' }), 400,
		'VALIDATION_ERROR', 'name', "a name with '/'");
	err_is(write_('POST', $ADMIN->{cookie}, $FOLDERS, { name => '..' }), 400,
		'VALIDATION_ERROR', 'name', "'..'");
	err_is(write_('POST', $ADMIN->{cookie}, $FOLDERS, { name => 'x' x 129 }), 400,
		'VALIDATION_ERROR', 'name', 'a name over 128 characters');
	err_is(write_('POST', $ADMIN->{cookie}, $FOLDERS, { name => 5 }), 400,
		'VALIDATION_ERROR', 'name', 'a name not a string');
	err_is(write_('POST', $ADMIN->{cookie}, $FOLDERS, { name => 'x', parentId => 5 }), 400,
		'VALIDATION_ERROR', 'parentId', 'parentId a number');
	err_is(write_('POST', $ADMIN->{cookie}, $FOLDERS, { name => 'x', parentId => rid() }), 404,
		'NOT_FOUND', 'parentId', 'an unknown parent');
	my $ff = write_('POST', $FOREIGN->{cookie}, $FOLDERS, { name => "foreign $TAG" });
	is($ff->{status}, 201, 'another org\'s owner creates in their org') or diag $ff->{body};
	err_is(write_('POST', $ADMIN->{cookie}, $FOLDERS, { name => 'x', parentId => $ff->{json}{id} }),
		404, 'NOT_FOUND', 'parentId', 'a parent of another org');
	err_is(write_('POST', $ENG->{cookie}, $FOLDERS, { name => 'x' }), 403, 'FORBIDDEN', undef,
		'engineer');
	err_is(write_('POST', $VIEWER->{cookie}, $FOLDERS, { name => 'x' }), 403, 'FORBIDDEN', undef,
		'viewer');
	err_is(write_('POST', undef, $FOLDERS, { name => 'x' }), 401, undef, undef, 'no credential');
	err_is(get_(undef, $FOLDERS), 401, undef, undef, 'list: no credential');
	is(count_events('shared_folder.created'), $n, 'no event for a refused create');

	$r = get_($VIEWER->{cookie}, $FOLDERS);
	is_deeply([ map { $_->{path} } @{ $r->{json}{items} } ], [ "/apps $TAG", "/apps $TAG/web", '/web' ],
		'listed in path order');
	$r = get_($FOREIGN->{cookie}, $FOLDERS);
	is_deeply([ map { $_->{path} } @{ $r->{json}{items} } ], ["/foreign $TAG"],
		'another org sees only its own');
};

# ------------------------------------------------------------------ create

my $UNIQ = "shush-shared-plain-$TAG-" . rid();
my $S;    # the main shared secret

subtest 'create: 201 without the value, version 1, audited' => sub {
	my $r = create($ADMIN->{cookie}, { key => "DB_URL_$TAG", value => "$UNIQ-1",
		note => 'the database', folderId => $F1->{id} });
	is($r->{status}, 201, 'admin creates: 201') or diag $r->{body};
	$S = $r->{json};
	is_deeply([ sort keys %$S ], \@WRITE_KEYS, 'the SharedSecret shape, no value');
	is($S->{key}, "DB_URL_$TAG", 'key');
	is($S->{version}, 1, 'version 1');
	is($S->{note}, 'the database', 'note');
	is($S->{folderId}, $F1->{id}, 'folderId');
	like($S->{createdAt}, $ISO, 'createdAt');
	like($S->{updatedAt}, $ISO, 'updatedAt');
	is($S->{updatedAt}, $S->{createdAt}, 'updatedAt = createdAt when new');
	unlike($r->{body}, qr/\Q$UNIQ\E/, 'the answer carries no value');
	my $e = last_event('shared_secret.created');
	is($e->{target_id}, $S->{id}, 'shared_secret.created names it');
	is($e->{target_type}, 'shared_secret', 'target type shared_secret');
	is($e->{project_id}, '', 'no project');
	is($e->{metadata}{key}, "DB_URL_$TAG", 'with the key');
	unlike(JSON::PP->new->encode($e->{metadata}), qr/\Q$UNIQ\E/, 'no value in the event');

	$r = create($OWNER->{cookie}, { key => "OWNER_$TAG", value => '' });
	is($r->{status}, 201, 'owner, an empty value: 201') or diag $r->{body};
	is($r->{json}{folderId}, undef, 'no folder');
	is($r->{json}{note}, '', 'note empty');
};

subtest 'create: bad input' => sub {
	my $c = $ADMIN->{cookie};
	my $n = count_events('shared_secret.created');
	err_is(create($c, { value => 'x' }), 400, 'VALIDATION_ERROR', 'key', 'no key');
	err_is(create($c, { key => 5, value => 'x' }), 400, 'VALIDATION_ERROR', 'key', 'key a number');
	for my $k ('1ABC', 'A-B', 'A B', '', 'É', 'A' x 257, "A\n") {
		err_is(create($c, { key => $k, value => 'x' }), 400, 'VALIDATION_ERROR', 'key',
			'key ' . (length $k > 20 ? 'of ' . length($k) . ' characters' : "'$k'"));
	}
	err_is(create($c, { key => "V0_$TAG" }), 400, 'VALIDATION_ERROR', 'value', 'no value');
	err_is(create($c, { key => "V1_$TAG", value => undef }), 400, 'VALIDATION_ERROR', 'value',
		'value null');
	err_is(create($c, { key => "V2_$TAG", value => 5 }), 400, 'VALIDATION_ERROR', 'value',
		'value a number');
	err_is(create($c, { key => "V3_$TAG", value => 'x' x (64 * 1024 + 1) }), 422,
		'VALUE_TOO_LARGE', 'value', 'a value over 64 KiB');
	err_is(req('POST', $BASE, { cookie => $c, origin => 1,
		headers => { 'Content-Type' => 'application/json' },
		body => qq({"key":"V4_$TAG","value":"a\\u0000b"}) }), 400, undef, undef, 'a NUL in a value');
	err_is(req('POST', $BASE, { cookie => $c, origin => 1,
		headers => { 'Content-Type' => 'application/json' },
		body => qq({"key":"V5_$TAG","value":"\xff\xfe"}) }), 400, 'VALIDATION_ERROR', 'value',
		'a value not UTF-8');
	err_is(create($c, { key => "N1_$TAG", value => 'x', note => 'n' x 1025 }), 422,
		'VALIDATION_ERROR', 'note', 'a note over 1024 characters');
	err_is(create($c, { key => "N2_$TAG", value => 'x', note => [] }), 400, 'VALIDATION_ERROR',
		'note', 'a note not a string');
	err_is(create($c, { key => "F1_$TAG", value => 'x', folderId => rid() }), 422,
		'UNKNOWN_FOLDER', 'folderId', 'an unknown folder');
	err_is(create($c, { key => "F2_$TAG", value => 'x', folderId => 7 }), 400,
		'VALIDATION_ERROR', 'folderId', 'folderId a number');
	my $ff = get_($FOREIGN->{cookie}, $FOLDERS)->{json}{items}[0]{id};
	err_is(create($c, { key => "F3_$TAG", value => 'x', folderId => $ff }), 422,
		'UNKNOWN_FOLDER', 'folderId', 'a folder of another org');
	my $p = new_project($OWNER->{cookie}, name => "Shared $TAG")->{id};
	my $pf = write_('POST', $OWNER->{cookie}, "/v1/projects/$p/folders", { name => 'pf' });
	err_is(create($c, { key => "F4_$TAG", value => 'x', folderId => $pf->{json}{id} }), 422,
		'UNKNOWN_FOLDER', 'folderId', 'a project folder');
	err_is(create($c, { key => "DB_URL_$TAG", value => 'x' }), 409, 'SECRET_EXISTS', 'key',
		'a key taken in the org');
	err_is(req('POST', $BASE, { cookie => $c, origin => 1,
		headers => { 'Content-Type' => 'text/plain' }, body => 'key=x' }), 415, undef, undef,
		'not JSON');
	is(count_events('shared_secret.created'), $n, 'no event for a refused create');
	my $r = create($c, { key => "MAX_$TAG", value => 'y' x (64 * 1024) });
	is($r->{status}, 201, 'a value of exactly 64 KiB: 201') or diag substr($r->{body}, 0, 300);
	$r = create($FOREIGN->{cookie}, { key => "DB_URL_$TAG", value => 'foreign' });
	is($r->{status}, 201, 'the same key in another org: 201') or diag $r->{body};
};

subtest 'create: who may' => sub {
	err_is(create(undef, { key => "X_$TAG", value => 'x' }), 401, undef, undef, 'no credential');
	err_is(create($ENG->{cookie}, { key => "X_$TAG", value => 'x' }), 403, 'FORBIDDEN', undef,
		'engineer (shared_secret:write is admin+)');
	err_is(create($VIEWER->{cookie}, { key => "X_$TAG", value => 'x' }), 403, 'FORBIDDEN', undef,
		'viewer');
	is(get_($ADMIN->{cookie}, "$BASE?limit=200")->{body} =~ /"X_\Q$TAG\E"/ ? 1 : 0, 0,
		'nothing made');
};

# --------------------------------------------------------------------- get

subtest 'get one: the value, audited; viewers and outsiders refused' => sub {
	my $r = get1($ENG->{cookie}, $S->{id});
	is($r->{status}, 200, 'engineer: 200') or diag $r->{body};
	is_deeply([ sort keys %{ $r->{json} } ], \@READ_KEYS, 'the SharedSecret shape, with value');
	is($r->{json}{value}, "$UNIQ-1", 'the value');
	is($r->{json}{version}, 1, 'version');
	my $e = last_event('shared_secret.read');
	is($e->{target_id}, $S->{id}, 'audited shared_secret.read');
	is($e->{metadata}{key}, "DB_URL_$TAG", 'with the key');
	unlike(JSON::PP->new->encode($e->{metadata}), qr/\Q$UNIQ\E/, 'no value in the event');

	my $n = count_events('shared_secret.read');
	err_is(get1($VIEWER->{cookie}, $S->{id}), 403, 'FORBIDDEN', undef, 'viewer');
	err_is(get1(undef, $S->{id}), 401, undef, undef, 'no credential');
	my $f = get1($FOREIGN->{cookie}, $S->{id});
	err_is($f, 404, 'NOT_FOUND', undef, 'another org');
	my $m = get1($FOREIGN->{cookie}, rid());
	is("$f->{status} $f->{json}{code} $f->{json}{message}", "$m->{status} $m->{json}{code} $m->{json}{message}",
		'another org\'s id answers exactly like a missing one');
	err_is(get1($ENG->{cookie}, rid()), 404, 'NOT_FOUND', undef, 'a missing id');
	err_is(get1($ENG->{cookie}, 'x' x 100), 404, 'NOT_FOUND', undef, 'a long id');
	is(count_events('shared_secret.read'), $n, 'refused reads are not audited');

	my $odd = "line1\nline2\r\n\t'single' \"double\" `back` \$(touch /tmp/x) \\ é 日本 🙂 #=";
	my $o = new_shared(value => $odd);
	is(get1($ENG->{cookie}, $o->{id})->{json}{value}, $odd,
		'a value with newlines, quotes and unicode, exact');
};

# -------------------------------------------------------------------- list

subtest 'list: keys for viewers, values with reveal for readers' => sub {
	my $before = count_events('shared_secret.read');
	my $r = get_($VIEWER->{cookie}, "$BASE?limit=200");
	is($r->{status}, 200, 'viewer lists: 200') or diag $r->{body};
	is_deeply([ sort keys %{ $r->{json} } ], [qw(items nextCursor)], '{items,nextCursor}');
	my ($s) = grep { $_->{id} eq $S->{id} } @{ $r->{json}{items} };
	ok($s, 'the shared secret is listed');
	is_deeply([ sort keys %$s ], \@WRITE_KEYS, 'no value without reveal');
	unlike($r->{body}, qr/\Q$UNIQ\E/, 'no value anywhere in the answer');
	is(count_events('shared_secret.read'), $before, 'a list without reveal is not audited');
	ok(!grep({ $_->{key} eq "DB_URL_$TAG" && $_->{id} ne $S->{id} } @{ $r->{json}{items} }),
		'not the other org\'s secret of the same key');

	err_is(get_($VIEWER->{cookie}, "$BASE?reveal=true"), 403, 'FORBIDDEN', undef, 'viewer reveal');
	err_is(get_($ENG->{cookie}, "$BASE?reveal=yes"), 400, 'VALIDATION_ERROR', 'reveal',
		'reveal=yes');
	is(count_events('shared_secret.read'), $before, 'refused reveals are not audited');
	$r = get_($ENG->{cookie}, "$BASE?reveal=true&limit=200");
	is($r->{status}, 200, 'engineer reveal: 200') or diag $r->{body};
	($s) = grep { $_->{id} eq $S->{id} } @{ $r->{json}{items} };
	is($s->{value}, "$UNIQ-1", 'the value revealed');
	my $e = last_event('shared_secret.read');
	is($e->{target_type}, 'organization', 'reveal audited, the org its target');
	is($e->{target_id}, $ORG, 'this org');
	is($e->{metadata}{reveal}, JSON::PP::true, 'metadata reveal: true');
	is($e->{metadata}{count}, scalar @{ $r->{json}{items} }, 'metadata count');
	$r = get_($VIEWER->{cookie}, "$BASE?reveal=false");
	is($r->{status}, 200, 'viewer reveal=false: 200');

	$r = get_($VIEWER->{cookie}, "$BASE?folderId=$F1->{id}");
	is_deeply([ map { $_->{key} } @{ $r->{json}{items} } ], ["DB_URL_$TAG"], '?folderId= filters');
	$r = get_($VIEWER->{cookie}, "$BASE?folderId=" . rid());
	is_deeply($r->{json}{items}, [], 'an unknown folder: nothing');

	err_is(get_(undef, $BASE), 401, undef, undef, 'no credential');
	err_is(get_($ENG->{cookie}, "$BASE?limit=0"), 400, 'VALIDATION_ERROR', 'limit', 'limit=0');
	err_is(get_($ENG->{cookie}, "$BASE?limit=201"), 400, 'VALIDATION_ERROR', 'limit', 'limit=201');
	err_is(get_($ENG->{cookie}, "$BASE?cursor=%21%21"), 400, 'VALIDATION_ERROR', 'cursor',
		'a bad cursor');
	err_is(get_($ENG->{cookie}, "$BASE?cursor=MWFiYw"), 400, 'VALIDATION_ERROR', 'cursor',
		'a cursor that is no key');
	$r = get_($FOREIGN->{cookie}, "$BASE?limit=200");
	is_deeply([ map { $_->{key} } @{ $r->{json}{items} } ], ["DB_URL_$TAG"],
		'another org lists only its own');
};

subtest 'list: keyset pages by key' => sub {
	my @keys = map { "P${_}_$TAG" } qw(E C A D B F G);
	new_shared(key => $_, value => "v-$_") for @keys;
	my (@seen, $cursor, $pages);
	do {
		my $r = get_($ENG->{cookie}, "$BASE?limit=3&reveal=true"
			. (defined $cursor ? "&cursor=$cursor" : ''));
		is($r->{status}, 200, 'a page: 200') or do { diag $r->{body}; last };
		ok(@{ $r->{json}{items} } <= 3, 'at most limit items');
		for my $it (@{ $r->{json}{items} }) {
			next unless $it->{key} =~ /^P[A-G]_\Q$TAG\E$/;
			push @seen, $it->{key};
			is($it->{value}, 'v-' . $it->{key}, "$it->{key}: its value");
		}
		$cursor = $r->{json}{nextCursor};
		# a secret inserted meanwhile, before the cursor, does not shift pages
		new_shared(key => "A0_$TAG") if ++$pages == 1;
	} while (defined $cursor && $pages < 20);
	is_deeply(\@seen, [ sort @keys ], 'every key once, in order, across pages');
};

# ------------------------------------------------------------------- patch

subtest 'patch: a value is a new version; metadata; audited' => sub {
	my $r = patch_($ADMIN->{cookie}, $S->{id}, { value => "$UNIQ-2" });
	is($r->{status}, 200, 'a new value: 200') or diag $r->{body};
	is_deeply([ sort keys %{ $r->{json} } ], \@WRITE_KEYS, 'no value in the answer');
	is($r->{json}{version}, 2, 'version 2');
	is($r->{json}{createdAt}, $S->{createdAt}, 'createdAt unchanged');
	like($r->{json}{updatedAt}, $ISO, 'updatedAt');
	unlike($r->{body}, qr/\Q$UNIQ\E/, 'the answer carries no value');
	my $e = last_event('shared_secret.updated');
	is($e->{target_id}, $S->{id}, 'shared_secret.updated');
	is_deeply($e->{metadata}{fields}, ['value'], 'fields: value');
	is($e->{metadata}{version}, 2, 'the new version');
	unlike(JSON::PP->new->encode($e->{metadata}), qr/\Q$UNIQ\E/, 'no value in the event');
	is(get1($ENG->{cookie}, $S->{id})->{json}{value}, "$UNIQ-2", 'GET shows the new value');

	$r = patch_($OWNER->{cookie}, $S->{id}, { value => "$UNIQ-2" });
	is($r->{json}{version}, 3, 'the same value again is a new version too');

	$r = patch_($ADMIN->{cookie}, $S->{id}, { key => "DB_URL2_$TAG", note => 'moved',
		folderId => $F2->{id} });
	is($r->{status}, 200, 'metadata: 200') or diag $r->{body};
	is($r->{json}{key}, "DB_URL2_$TAG", 'key renamed');
	is($r->{json}{note}, 'moved', 'note');
	is($r->{json}{folderId}, $F2->{id}, 'moved to another folder');
	is($r->{json}{version}, 3, 'no new version');
	$e = last_event('shared_secret.updated');
	is_deeply($e->{metadata}{keyChange}, { from => "DB_URL_$TAG", to => "DB_URL2_$TAG" },
		'the rename is in the event');
	is_deeply([ sort @{ $e->{metadata}{fields} } ], [qw(folderId key note)], 'fields');
	$r = patch_($ADMIN->{cookie}, $S->{id}, { note => undef, folderId => undef });
	is($r->{json}{note}, '', 'note null clears');
	is($r->{json}{folderId}, undef, 'folderId null: out of the folder');

	my $n = count_events('shared_secret.updated');
	$r = patch_($ADMIN->{cookie}, $S->{id}, {});
	is($r->{status}, 200, 'empty PATCH: 200') or diag $r->{body};
	is($r->{json}{key}, "DB_URL2_$TAG", 'the shared secret');
	is(count_events('shared_secret.updated'), $n, 'no event');

	my $o = new_shared();
	err_is(patch_($ADMIN->{cookie}, $S->{id}, { key => $o->{key} }), 409, 'SECRET_EXISTS', 'key',
		'a key taken');
	err_is(patch_($ADMIN->{cookie}, $S->{id}, { key => 'no-dash' }), 400, 'VALIDATION_ERROR',
		'key', 'a bad key');
	err_is(patch_($ADMIN->{cookie}, $S->{id}, { value => undef }), 400, 'VALIDATION_ERROR',
		'value', 'value null');
	err_is(patch_($ADMIN->{cookie}, $S->{id}, { value => {} }), 400, 'VALIDATION_ERROR',
		'value', 'value an object');
	err_is(patch_($ADMIN->{cookie}, $S->{id}, { value => 'x' x 65537 }), 422,
		'VALUE_TOO_LARGE', 'value', 'a value too large');
	err_is(patch_($ADMIN->{cookie}, $S->{id}, { folderId => rid() }), 422, 'UNKNOWN_FOLDER',
		'folderId', 'an unknown folder');
	err_is(patch_($ADMIN->{cookie}, $S->{id}, { note => 'n' x 1025 }), 422, 'VALIDATION_ERROR',
		'note', 'a long note');
	is(count_events('shared_secret.updated'), $n, 'refused PATCHes: no event');
	is(get1($ENG->{cookie}, $S->{id})->{json}{version}, 3, 'and nothing written');
	err_is(patch_(undef, $S->{id}, { note => 'x' }), 401, undef, undef, 'no credential');
	err_is(patch_($ENG->{cookie}, $S->{id}, { value => 'x' }), 403, 'FORBIDDEN', undef,
		'engineer');
	err_is(patch_($VIEWER->{cookie}, $S->{id}, { note => 'x' }), 403, 'FORBIDDEN', undef,
		'viewer');
	err_is(patch_($FOREIGN->{cookie}, $S->{id}, { value => 'x' }), 404, 'NOT_FOUND', undef,
		'another org');
	err_is(patch_($ADMIN->{cookie}, rid(), { note => 'x' }), 404, 'NOT_FOUND', undef,
		'a missing id');
	is(get1($ENG->{cookie}, $S->{id})->{json}{value}, "$UNIQ-2", 'the value is unchanged');
};

# ---------------------------------------------------------------- versions

subtest 'versions: newest first, values readable, audited' => sub {
	my $r = get_($ENG->{cookie}, "$BASE/$S->{id}/versions");
	is($r->{status}, 200, 'engineer: 200') or diag $r->{body};
	my @items = @{ $r->{json}{items} };
	is_deeply([ map { $_->{version} } @items ], [ 3, 2, 1 ], 'newest first');
	is_deeply([ map { $_->{value} } @items ], [ "$UNIQ-2", "$UNIQ-2", "$UNIQ-1" ],
		'each version\'s value');
	is_deeply([ sort keys %{ $items[0] } ], [qw(createdAt createdBy value version)],
		'{version,value,createdAt,createdBy}');
	is($items[0]{createdBy}, $OWNER->{user}{id}, 'createdBy: the owner wrote version 3');
	is($items[2]{createdBy}, $ADMIN->{user}{id}, 'the admin version 1');
	like($items[0]{createdAt}, $ISO, 'createdAt');
	is($r->{json}{nextCursor}, undef, 'one page');
	my $e = last_event('shared_secret.read');
	is($e->{target_id}, $S->{id}, 'audited shared_secret.read');
	is($e->{metadata}{versions}, JSON::PP::true, '{versions:true}');
	is($e->{metadata}{count}, 3, 'count');

	$r = get_($ENG->{cookie}, "$BASE/$S->{id}/versions?limit=2");
	is_deeply([ map { $_->{version} } @{ $r->{json}{items} } ], [ 3, 2 ], 'limit 2');
	ok(defined $r->{json}{nextCursor}, 'a next cursor');
	my $r2 = get_($ENG->{cookie}, "$BASE/$S->{id}/versions?limit=2&cursor=$r->{json}{nextCursor}");
	is_deeply([ map { $_->{version} } @{ $r2->{json}{items} } ], [1], 'the next page');
	is($r2->{json}{nextCursor}, undef, 'and no further');

	my $n = count_events('shared_secret.read');
	err_is(get_($ENG->{cookie}, "$BASE/$S->{id}/versions?cursor=x"), 400, 'VALIDATION_ERROR',
		'cursor', 'a bad cursor');
	err_is(get_($ENG->{cookie}, "$BASE/$S->{id}/versions?limit=0"), 400, 'VALIDATION_ERROR',
		'limit', 'limit=0');
	err_is(get_($VIEWER->{cookie}, "$BASE/$S->{id}/versions"), 403, 'FORBIDDEN', undef, 'viewer');
	err_is(get_(undef, "$BASE/$S->{id}/versions"), 401, undef, undef, 'no credential');
	err_is(get_($FOREIGN->{cookie}, "$BASE/$S->{id}/versions"), 404, 'NOT_FOUND', undef,
		'another org');
	err_is(get_($ENG->{cookie}, "$BASE/" . rid() . '/versions'), 404, 'NOT_FOUND', undef,
		'a missing id');
	is(count_events('shared_secret.read'), $n, 'refused reads are not audited');
};

# ------------------------------------------------------------------ delete

subtest 'delete' => sub {
	my $d = new_shared(value => 'to go');
	my $path = "$BASE/$d->{id}";
	patch_($ADMIN->{cookie}, $d->{id}, { value => 'to go 2' });
	err_is(write_('DELETE', undef, $path), 401, undef, undef, 'no credential');
	err_is(write_('DELETE', $ENG->{cookie}, $path), 403, 'FORBIDDEN', undef, 'engineer');
	err_is(write_('DELETE', $VIEWER->{cookie}, $path), 403, 'FORBIDDEN', undef, 'viewer');
	err_is(write_('DELETE', $FOREIGN->{cookie}, $path), 404, 'NOT_FOUND', undef, 'another org');
	my $r = write_('DELETE', $ADMIN->{cookie}, $path);
	is($r->{status}, 204, 'admin: 204') or diag $r->{body};
	is($r->{body}, '', 'no body');
	is(get1($ENG->{cookie}, $d->{id})->{status}, 404, 'gone');
	is(psql('SELECT count(*) FROM shared_secret_version WHERE shared_secret_id = '
		. sql_quote($d->{id})), 0, 'its versions too');
	my $e = last_event('shared_secret.deleted');
	is($e->{target_id}, $d->{id}, 'audited shared_secret.deleted');
	is($e->{metadata}{key}, $d->{key}, 'with the key');
	err_is(write_('DELETE', $ADMIN->{cookie}, $path), 404, 'NOT_FOUND', undef, 'again: 404');
	$r = create($ADMIN->{cookie}, { key => $d->{key}, value => 'again' });
	is($r->{status}, 201, 'its key can be used again') or diag $r->{body};
	is($r->{json}{version}, 1, 'from version 1');
};

# ------------------------------------------------------------------ racing

subtest '8 racing writers of one value: 8 distinct consecutive versions' => sub {
	my $s = new_shared(value => 'v0');
	my $path = "$BASE/$s->{id}";
	my $tmp = "/tmp/shush-shared-race-$$-" . rid();
	mkdir $tmp or die "mkdir $tmp: $!";
	my @pids;
	for my $i (1 .. 8) {
		my $pid = fork();
		die "fork: $!" unless defined $pid;
		if ($pid == 0) {
			my $r = req('PATCH', $path, { cookie => $ADMIN->{cookie}, origin => 1,
				json => { value => "shared-race-$i" } });
			open my $fh, '>', "$tmp/$i" or POSIX::_exit(2);
			print {$fh} "$r->{status} " . ($r->{json} && $r->{json}{version} // '-') . "\n";
			close $fh;
			POSIX::_exit(0);
		}
		push @pids, $pid;
	}
	waitpid($_, 0) for @pids;
	my @st = map { open my $fh, '<', "$tmp/$_" or die; my $l = <$fh>; chomp $l; [ split / /, $l ] } 1 .. 8;
	unlink glob "$tmp/*";
	rmdir $tmp;
	is_deeply([ sort map { $_->[0] } @st ], [ ('200') x 8 ], 'every PATCH: 200 (no 5xx, no 409)')
		or diag join ' ', map { "@$_" } @st;
	is_deeply([ sort { $a <=> $b } map { $_->[1] } @st ], [ 2 .. 9 ],
		'each answered a distinct version, 2..9');
	my $r = get_($ENG->{cookie}, "$path/versions?limit=50");
	my @items = @{ $r->{json}{items} };
	is_deeply([ map { $_->{version} } @items ], [ reverse 1 .. 9 ],
		'versions 9..1, each once, newest first');
	is_deeply([ sort map { $_->{value} } @items[ 0 .. 7 ] ], [ sort map {"shared-race-$_"} 1 .. 8 ],
		'every write kept, none lost');
	my $g = get1($ENG->{cookie}, $s->{id})->{json};
	is($g->{version}, 9, 'the current version is 9');
	is($g->{value}, $items[0]{value}, 'the current value is the newest version');
};

# ----------------------------------------------------------------- sealing

subtest 'shushd rekey re-encrypts shared values: every version still opens' => sub {
	plan skip_all => 'no SHUSH_BIN_DIR' unless $ENV{SHUSH_BIN_DIR};
	my $before = psql('SELECT string_agg(encode(value, \'hex\'), \',\' ORDER BY version) '
		. 'FROM shared_secret_version WHERE shared_secret_id = ' . sql_quote($S->{id}));
	my $pid = open(my $fh, '-|') // die "fork: $!";
	if (!$pid) {
		open(STDERR, '>&', \*STDOUT);
		exec("$ENV{SHUSH_BIN_DIR}/shushd", 'rekey', '--org', $ORG) or POSIX::_exit(127);
	}
	my $out = do { local $/; <$fh> // '' };
	close $fh;
	is($? >> 8, 0, 'shushd rekey: exit 0') or diag $out;
	isnt(psql('SELECT string_agg(encode(value, \'hex\'), \',\' ORDER BY version) '
		. 'FROM shared_secret_version WHERE shared_secret_id = ' . sql_quote($S->{id})),
		$before, 'the stored ciphertexts changed');
	my $r = get_($ENG->{cookie}, "$BASE/$S->{id}/versions");
	is($r->{status}, 200, 'versions: 200') or diag $r->{body};
	is_deeply([ map { $_->{value} } @{ $r->{json}{items} } ], [ "$UNIQ-2", "$UNIQ-2", "$UNIQ-1" ],
		'every version opens to its value');
	is(get_($ENG->{cookie}, "$BASE?reveal=true&limit=200")->{status}, 200,
		'the list reveals every value');
	$r = patch_($ADMIN->{cookie}, $S->{id}, { value => "$UNIQ-4" });
	is($r->{json}{version}, 4, 'a write after the rekey: version 4');
	is(get1($ENG->{cookie}, $S->{id})->{json}{value}, "$UNIQ-4", 'and it opens');
};

subtest 'no plaintext in a database dump' => sub {
	my $url = conf('DATABASE_URL');
	my $out = `pg_dump --data-only --no-owner '$url' 2>&1`;
	ok($? == 0 && length $out > 1000, 'pg_dump ran') or diag substr($out, 0, 500);
	like($out, qr/\Q$S->{id}\E/, 'the dump has the shared secret\'s row');
	unlike($out, qr/\Q$UNIQ\E/, 'and none of its values, in any version');
	unlike($out, qr/shared-race-\d+/, 'nor the racing writers\' values');
	my $hex = unpack 'H*', $UNIQ;
	unlike($out, qr/$hex/i, 'not even as hex');
};

subtest 'a ciphertext moved to another row does not open' => sub {
	my $a = new_shared(value => "alpha-$UNIQ");
	my $b = new_shared(value => "bravo-$TAG-moved");
	my $row = sub { 'shared_secret_id = ' . sql_quote($_[0]) . ' AND version = 1' };
	psql('UPDATE shared_secret_version SET value = (SELECT value FROM shared_secret_version WHERE '
		. $row->($b->{id}) . ') WHERE ' . $row->($a->{id}));
	my $r = get1($ENG->{cookie}, $a->{id});
	is($r->{status}, 500, 'GET: 500') or diag $r->{body};
	is($r->{json} && $r->{json}{code}, 'SECRET_UNREADABLE', 'SECRET_UNREADABLE');
	ok($r->{json} && $r->{json}{requestId}, 'with the request id');
	unlike($r->{body}, qr/bravo|alpha/, 'no value, neither one');
	$r = get_($ENG->{cookie}, "$BASE?reveal=true&limit=200");
	is($r->{status}, 500, 'reveal in a list: 500');
	unlike($r->{body}, qr/bravo|alpha/, 'no value');
	$r = get_($ENG->{cookie}, "$BASE/$a->{id}/versions");
	is($r->{status}, 500, 'versions: 500');
	unlike($r->{body}, qr/bravo|alpha/, 'no value');
	my $log = defined $ENV{SHUSH_STACK_DIR} ? "$ENV{SHUSH_STACK_DIR}/log/shushd.log" : undef;
	if (defined $log && -r $log) {
		my $text = do { local (@ARGV, $/) = ($log); <> };
		like($text, qr/shared_secret\.unreadable[^\n]*\Q$a->{id}\E/, 'the log names the row');
		unlike($text, qr/alpha-|bravo-/, 'and no value');
	}
	$r = get_($VIEWER->{cookie}, "$BASE?limit=200");
	is($r->{status}, 200, 'a list without values still answers');
	is(get1($ENG->{cookie}, $b->{id})->{json}{value}, "bravo-$TAG-moved",
		'the row it came from still opens');

	# Across the two stores: a shared ciphertext in a project secret's row.
	my $p = new_project($OWNER->{cookie}, name => "Moved $TAG")->{id};
	my $ps = write_('POST', $ENG->{cookie}, "/v1/projects/$p/secrets",
		{ key => "PS_$TAG", values => { development => "charlie-$TAG" } });
	is($ps->{status}, 201, 'a project secret') or diag $ps->{body};
	psql('UPDATE secret_version SET value = (SELECT value FROM shared_secret_version WHERE '
		. $row->($b->{id}) . ') WHERE secret_id = ' . sql_quote($ps->{json}{id}));
	$r = get_($ENG->{cookie}, "/v1/projects/$p/secrets/$ps->{json}{id}");
	is($r->{status}, 500, 'a shared ciphertext in a project secret\'s row: 500');
	unlike($r->{body}, qr/bravo|charlie/, 'no value');

	# A new version heals it; the list reveals again.
	patch_($ADMIN->{cookie}, $a->{id}, { value => 'healed' });
	is(get1($ENG->{cookie}, $a->{id})->{json}{value}, 'healed', 'a new version opens');
	is(get_($ENG->{cookie}, "$BASE?reveal=true&limit=200")->{status}, 200,
		'the list reveals again');
	is(get_($ENG->{cookie}, "$BASE/$a->{id}/versions")->{status}, 500,
		'the moved version itself still does not');
	write_('DELETE', $ADMIN->{cookie}, "$BASE/$a->{id}");
};

subtest 'no value in any audit event of the org' => sub {
	my $all = psql('SELECT string_agg(metadata, \' \') FROM audit_event WHERE org_id = '
		. sql_quote($ORG));
	unlike($all, qr/\Q$UNIQ\E|shared-race-\d|bravo-|alpha-/, 'no stored value in any event\'s metadata');
	my $n = psql('SELECT count(*) FROM audit_event WHERE org_id = ' . sql_quote($ORG)
		. " AND action LIKE 'shared_secret.%' AND project_id IS NOT NULL");
	is($n, 0, 'no shared secret event names a project');
};

done_testing;
