#!/usr/bin/perl
# /v1/projects/:projectId/folders: list, create, rename / move, delete
# (REFERENCE.md "Folders", API.md §4): paths, cycles, recursive delete.
use strict;
use warnings;
BEGIN { unless ($ENV{SHUSH_URL}) { print "1..0 # SKIP no stack\n"; exit 0 } }
use FindBin qw($Bin);
use lib $Bin;
use ApiTest;
use ProjTest;
use JSON::PP ();
use Test::More;

my $T = team('fold');
my ($O, $A, $E, $V, $F) = map { $T->{$_}{cookie} } qw(owner admin engineer viewer foreign);
my $P = new_project($O, name => 'Folders')->{id};
my $BASE = "/v1/projects/$P/folders";

sub mk {
	my ($name, $parent, $c) = @_;
	my $r = write_('POST', $c // $E, $BASE, { name => $name, (defined $parent ? (parentId => $parent) : ()) });
	die "mk $name: $r->{status} $r->{body}" unless $r->{status} == 201;
	return $r->{json};
}
sub list { my ($c) = @_; return get_($c // $V, $BASE) }
sub paths { return [ map { $_->{path} } @{ list()->{json}{items} } ] }
sub secret_in {
	my ($folder, $key) = @_;
	psql(sprintf(q{INSERT INTO secret (id, org_id, project_id, key, folder_id) VALUES (%s, %s, %s, %s, %s)},
		sql_quote(rid()), sql_quote($T->{org}), sql_quote($P), sql_quote($key), sql_quote($folder)));
}

my ($a, $b, $c);
subtest 'POST: 201 Folder with its path; audited' => sub {
	my $r = write_('POST', $E, $BASE, { name => ' apps ' });
	is($r->{status}, 201, 'engineer: 201') or diag $r->{body};
	$a = $r->{json};
	is_deeply([ sort keys %$a ], [ sort qw(id name parentId path) ], 'Folder keys');
	like($a->{id}, qr/^[A-Za-z0-9]{32}$/, 'id');
	is($a->{name}, 'apps', 'name trimmed');
	is($a->{parentId}, undef, 'parentId null at the top');
	is($a->{path}, '/apps', 'path /apps');
	$b = mk('web', $a->{id});
	is($b->{path}, '/apps/web', 'nested path');
	is($b->{parentId}, $a->{id}, 'parentId');
	$c = mk('css', $b->{id});
	is($c->{path}, '/apps/web/css', 'three levels');
	my $ev = events($T->{org}, 'folder.created');
	is(scalar @$ev, 3, 'three folder.created events');
	is($ev->[1]{target_id}, $b->{id}, 'target the folder');
	is($ev->[1]{project_id}, $P, 'project_id set');
	is(JSON::PP::decode_json($ev->[1]{metadata})->{path}, '/apps/web', 'metadata path');
	my $u = write_('POST', $E, $BASE, { name => "\x{1F600} caf\x{e9}" });
	is($u->{status}, 201, 'unicode name: 201');
	is($u->{json}{path}, "/\x{1F600} caf\x{e9}", 'unicode path');
};

subtest 'POST: duplicates, bad input, missing parent' => sub {
	my $r = write_('POST', $E, $BASE, { name => 'web', parentId => $a->{id} });
	is($r->{status}, 409, 'sibling with the name: 409');
	is($r->{json}{code}, 'FOLDER_EXISTS', 'FOLDER_EXISTS');
	$r = write_('POST', $E, $BASE, { name => 'apps' });
	is($r->{status}, 409, 'top-level duplicate: 409');
	$r = write_('POST', $E, $BASE, { name => 'web' });
	is($r->{status}, 201, 'the same name elsewhere: 201');
	for my $x ([ {}, 400, 'name' ], [ { name => '' }, 400, 'name' ], [ { name => 'a/b' }, 400, 'name' ],
		[ { name => '..' }, 400, 'name' ], [ { name => '.' }, 400, 'name' ], [ { name => 'x' x 129 }, 400, 'name' ],
		[ { name => "a\tb" }, 400, 'name' ], [ { name => [] }, 400, 'name' ],
		[ { name => 'ok', parentId => 5 }, 400, 'parentId' ]) {
		my ($body, $st, $field) = @$x;
		$r = write_('POST', $E, $BASE, $body);
		is($r->{status}, $st, json_enc($body) . ": $st") or diag $r->{body};
		is($r->{json}{field}, $field, "  field $field");
	}
	$r = write_('POST', $E, $BASE, { name => 'ok', parentId => rid() });
	is($r->{status}, 404, 'missing parent: 404');
	is($r->{json}{field}, 'parentId', 'field parentId');
	my $other = new_project($O, name => 'Other');
	my $r2 = write_('POST', $E, "/v1/projects/$other->{id}/folders", { name => 'x' });
	$r = write_('POST', $E, $BASE, { name => 'ok', parentId => $r2->{json}{id} });
	is($r->{status}, 404, 'parent from another project: 404');
	$r = write_('POST', $E, $BASE, { name => 'ok', parentId => '%%%/..' });
	is($r->{status}, 404, 'odd parentId: 404');
	$r = write_('POST', $E, $BASE, { name => 'x' x 128 });
	is($r->{status}, 201, '128 characters: 201');
};

subtest 'GET: every folder with its path, in path order' => sub {
	my $r = list();
	is($r->{status}, 200, 'viewer: 200') or diag $r->{body};
	ok(exists $r->{json}{nextCursor} && !defined $r->{json}{nextCursor}, 'nextCursor null');
	my %by = map { $_->{id} => $_ } @{ $r->{json}{items} };
	is_deeply($by{ $c->{id} }, $c, 'the nested one as created');
	my @p = @{ paths() };
	is_deeply(\@p, [ sort @p ], 'sorted by path');
	ok((grep { $_ eq '/apps/web/css' } @p), '/apps/web/css listed');
};

subtest 'PATCH: rename, move, to the top; paths follow; audited' => sub {
	my $r = write_('PATCH', $E, "$BASE/$b->{id}", { name => 'site' });
	is($r->{status}, 200, 'rename: 200') or diag $r->{body};
	is($r->{json}{path}, '/apps/site', 'path renamed');
	my %by = map { $_->{id} => $_ } @{ list()->{json}{items} };
	is($by{ $c->{id} }{path}, '/apps/site/css', 'the child follows');
	my $d = mk('docs');
	$r = write_('PATCH', $E, "$BASE/$b->{id}", { parentId => $d->{id} });
	is($r->{status}, 200, 'move: 200') or diag $r->{body};
	is($r->{json}{path}, '/docs/site', 'moved');
	is($r->{json}{parentId}, $d->{id}, 'parentId');
	%by = map { $_->{id} => $_ } @{ list()->{json}{items} };
	is($by{ $c->{id} }{path}, '/docs/site/css', 'the child moved along');
	$r = write_('PATCH', $E, "$BASE/$b->{id}", { parentId => undef, name => 'site2' });
	is($r->{status}, 200, 'to the top with a new name: 200');
	is($r->{json}{path}, '/site2', 'path /site2');
	is($r->{json}{parentId}, undef, 'parentId null');
	$r = write_('PATCH', $E, "$BASE/$b->{id}", {});
	is($r->{status}, 200, 'empty PATCH: 200');
	is($r->{json}{path}, '/site2', 'unchanged');
	my $ev = events($T->{org}, 'folder.updated');
	is(scalar @$ev, 3, 'three folder.updated events (not the empty one)');
	my $m = JSON::PP::decode_json($ev->[1]{metadata});
	is_deeply($m->{path}, { from => '/apps/site', to => '/docs/site' }, 'metadata path from/to');
	is_deeply($m->{parentId}, { from => $a->{id}, to => $d->{id} }, 'metadata parentId from/to');
	# back under apps for what follows
	$r = write_('PATCH', $E, "$BASE/$b->{id}", { parentId => $a->{id}, name => 'web' });
	is($r->{json}{path}, '/apps/web', 'back to /apps/web');
};

subtest 'PATCH: cycles 422, conflicts 409, missing 404, bad input 400' => sub {
	my $r = write_('PATCH', $E, "$BASE/$a->{id}", { parentId => $a->{id} });
	is($r->{status}, 422, 'under itself: 422');
	is($r->{json}{code}, 'FOLDER_CYCLE', 'FOLDER_CYCLE');
	$r = write_('PATCH', $E, "$BASE/$a->{id}", { parentId => $c->{id} });
	is($r->{status}, 422, 'under a grandchild: 422');
	is($r->{json}{code}, 'FOLDER_CYCLE', 'FOLDER_CYCLE');
	$r = write_('PATCH', $E, "$BASE/$a->{id}", { parentId => $b->{id} });
	is($r->{status}, 422, 'under a child: 422');
	is_deeply(list()->{json}{items}, list()->{json}{items}, 'stable');
	ok((grep { $_ eq '/apps/web/css' } @{ paths() }), 'nothing moved');
	my $x = mk('x', $a->{id});
	$r = write_('PATCH', $E, "$BASE/$x->{id}", { name => 'web' });
	is($r->{status}, 409, 'rename onto a sibling: 409');
	is($r->{json}{code}, 'FOLDER_EXISTS', 'FOLDER_EXISTS');
	mk('x');
	$r = write_('PATCH', $E, "$BASE/$x->{id}", { parentId => undef });
	is($r->{status}, 409, 'move next to a namesake: 409');
	$r = write_('PATCH', $E, "$BASE/$x->{id}", { name => 'x' });
	is($r->{status}, 200, 'renaming to its own name: 200');
	$r = write_('PATCH', $E, "$BASE/" . rid(), { name => 'y' });
	is($r->{status}, 404, 'missing folder: 404');
	$r = write_('PATCH', $E, "$BASE/$x->{id}", { parentId => rid() });
	is($r->{status}, 404, 'missing parent: 404');
	is($r->{json}{field}, 'parentId', 'field parentId');
	my $other = new_project($O, name => 'Other 2');
	my $of = write_('POST', $E, "/v1/projects/$other->{id}/folders", { name => 'o' })->{json};
	$r = write_('PATCH', $E, "$BASE/$x->{id}", { parentId => $of->{id} });
	is($r->{status}, 404, 'parent from another project: 404');
	$r = write_('PATCH', $E, "/v1/projects/$other->{id}/folders/$x->{id}", { name => 'y' });
	is($r->{status}, 404, 'the folder through another project: 404');
	for my $body ({ name => '' }, { name => 'a/b' }, { name => 1 }, { parentId => [] }) {
		$r = write_('PATCH', $E, "$BASE/$x->{id}", $body);
		is($r->{status}, 400, json_enc($body) . ': 400');
	}
};

subtest 'DELETE: empty 204; non-empty 409 FOLDER_NOT_EMPTY; recursive takes all' => sub {
	my $e = mk('empty');
	my $r = write_('DELETE', $E, "$BASE/$e->{id}");
	is($r->{status}, 204, 'empty: 204') or diag $r->{body};
	ok(!(grep { $_ eq '/empty' } @{ paths() }), 'gone');
	$r = write_('DELETE', $E, "$BASE/$a->{id}");
	is($r->{status}, 409, 'with subfolders: 409');
	is($r->{json}{code}, 'FOLDER_NOT_EMPTY', 'FOLDER_NOT_EMPTY');
	my $s = mk('holds-a-secret');
	secret_in($s->{id}, 'IN_FOLDER');
	$r = write_('DELETE', $E, "$BASE/$s->{id}");
	is($r->{status}, 409, 'with a secret: 409');
	$r = write_('DELETE', $E, "$BASE/$s->{id}?recursive=false");
	is($r->{status}, 409, 'recursive=false: 409');
	$r = write_('DELETE', $E, "$BASE/$s->{id}?recursive=maybe");
	is($r->{status}, 400, 'recursive=maybe: 400');
	secret_in($c->{id}, 'DEEP');
	psql(sprintf(q{INSERT INTO secret (id, org_id, project_id, key) VALUES (%s, %s, %s, 'TOP')},
		sql_quote(rid()), sql_quote($T->{org}), sql_quote($P)));
	$r = write_('DELETE', $E, "$BASE/$a->{id}?recursive=true");
	is($r->{status}, 204, 'recursive=true: 204') or diag $r->{body};
	ok(!(grep { m{^/apps} } @{ paths() }), 'the whole subtree is gone');
	is(psql(q{SELECT count(*) FROM secret WHERE key = 'DEEP' AND project_id = } . sql_quote($P)), '0',
		'the secret below went too');
	is(psql(q{SELECT count(*) FROM secret WHERE key = 'TOP' AND project_id = } . sql_quote($P)), '1',
		'a secret outside stays');
	my $ev = events($T->{org}, 'folder.deleted');
	my $m = JSON::PP::decode_json($ev->[-1]{metadata});
	is_deeply($m, { path => '/apps', recursive => JSON::PP::true, folders => 3, secrets => 1 },
		'metadata: path, recursive, what went below');
	is($ev->[-1]{project_id}, $P, 'project_id set');
	$r = write_('DELETE', $E, "$BASE/$a->{id}");
	is($r->{status}, 404, 'again: 404');
	$r = write_('DELETE', $E, "$BASE/$s->{id}?recursive=true");
	is($r->{status}, 204, 'the folder with the secret, recursively: 204');
};

subtest 'roles, foreign org, no credential' => sub {
	my $f = mk('guarded');
	my $r = write_('POST', $V, $BASE, { name => 'nope' });
	is($r->{status}, 403, 'viewer POST: 403');
	$r = write_('PATCH', $V, "$BASE/$f->{id}", { name => 'nope' });
	is($r->{status}, 403, 'viewer PATCH: 403');
	$r = write_('DELETE', $V, "$BASE/$f->{id}");
	is($r->{status}, 403, 'viewer DELETE: 403');
	is($r->{json}{code}, 'FORBIDDEN', 'FORBIDDEN');
	for my $m ([ 'GET', $BASE, undef ], [ 'POST', $BASE, { name => 'n' } ],
		[ 'PATCH', "$BASE/$f->{id}", { name => 'n' } ], [ 'DELETE', "$BASE/$f->{id}", undef ]) {
		my ($meth, $path, $body) = @$m;
		$r = $meth eq 'GET' ? get_($F, $path) : write_($meth, $F, $path, $body);
		is($r->{status}, 404, "$meth as another org's owner: 404");
		(my $mp = $path) =~ s/\Q$P\E/rid()/e;
		my $mr = $meth eq 'GET' ? get_($F, $mp) : write_($meth, $F, $mp, $body);
		is_deeply($r->{json}, $mr->{json}, '  exactly like a missing project');
		$r = $meth eq 'GET' ? get_(undef, $path) : write_($meth, undef, $path, $body);
		is($r->{status}, 401, "$meth without a credential: 401");
	}
	# the foreign owner's own project cannot reach A's folder
	my $fp = new_project($F, name => 'Foreign');
	$r = write_('PATCH', $F, "/v1/projects/$fp->{id}/folders/$f->{id}", { name => 'stolen' });
	is($r->{status}, 404, "A's folder through B's project: 404");
	$r = write_('POST', $F, "/v1/projects/$fp->{id}/folders", { name => 'x', parentId => $f->{id} });
	is($r->{status}, 404, "A's folder as parent in B's project: 404");
	is((grep { $_->{id} eq $f->{id} } @{ list()->{json}{items} })[0]{name}, 'guarded', 'untouched');
};

done_testing;
