#!/usr/bin/perl
# Export and import (API.md §5): the resolved environment in json, shell
# and dotenv; shell sourced by sh and bash yields every value byte for byte
# and runs nothing; dotenv round-trips through import; import counts,
# versions, the malformed-line 422 with nothing written; roles, foreign
# org, audit.
use strict;
use warnings;
use lib 't/lib', 't/api';
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP;
use ApiTest;
use ProjTest;

plan skip_all => 'no stack (run through make check)' unless $ENV{SHUSH_URL};

my $JSON = JSON::PP->new->utf8->canonical;
my $t = team('export');
my ($owner, $viewer, $engineer) = @{$t}{qw(owner viewer engineer)};
my $p = new_project($owner->{cookie}, name => 'Export ' . rid());
my $pid = $p->{id};

sub export_ {
	my ($who, $env, $format) = @_;
	return get_($who->{cookie}, "/v1/projects/$pid/secrets/export?environment=$env&format=$format");
}
sub import_ {
	my ($who, $env, $text, %o) = @_;
	return req('POST', "/v1/projects/$pid/secrets/import?environment=$env",
		{ cookie => $who->{cookie}, origin => 1,
		  ($o{json} ? (json => { content => $text })
			   : (body => $text, headers => { 'Content-Type' => 'text/plain; charset=utf-8' })) });
}

my $pwned = tempdir(CLEANUP => 1) . '/pwned';
my %tricky = (
	SUBST      => "\$(touch $pwned)",
	BACKTICK   => "`touch $pwned`",
	SINGLE     => "it's 'quoted'",
	DOUBLE     => 'say "hi" \\"there\\"',
	BOTH       => q{'"'"'},
	MULTI      => "line one\nline two\n\nline four",
	TRAILING_NL => "ends with newline\n",
	ONLY_NL    => "\n\n",
	EMPTY      => '',
	UNICODE    => "h\x{e9}llo \x{1f600} \x{4e16}\x{754c}",
	BACKSLASH  => 'C:\\path\\to\\n\\thing\\',
	HASH       => 'value # not a comment',
	DOLLAR     => '$HOME ${PATH} $1',
	EQUALS     => 'a=b=c',
	SPACES     => '  padded  ',
	DASH       => '-n -e',
	CRLF       => "carriage\r\nreturn",
	ESCAPED_Q  => "'\\''",
);
my %bytes = map { my $v = $tricky{$_}; utf8::encode($v); ($_ => $v) } keys %tricky;

my $r = write_('POST', $owner->{cookie}, "/v1/projects/$pid/secrets",
	{ key => 'PLAIN', values => { development => 'dev-plain', staging => 'stg-plain' } });
is($r->{status}, 201, 'a secret');
for my $k (sort keys %tricky) {
	$r = write_('POST', $owner->{cookie}, "/v1/projects/$pid/secrets",
		{ key => $k, values => { development => $tricky{$k} } });
	is($r->{status}, 201, "secret $k") or diag $r->{body};
}

# --- json -------------------------------------------------------------
$r = export_($owner, 'development', 'json');
is($r->{status}, 200, 'export json');
like($r->{headers}{'content-type'}, qr{^application/json}, 'as JSON');
my $got = $JSON->decode($r->{body});
my %want = (%tricky, PLAIN => 'dev-plain');
is_deeply($got, \%want, 'a flat object of every value, exact');

# --- shell --------------------------------------------------------------
$r = export_($owner, 'development', 'shell');
is($r->{status}, 200, 'export shell');
my $dir = tempdir(CLEANUP => 1);
open my $fh, '>:raw', "$dir/env.sh" or die $!;
print $fh $r->{body};
close $fh;
for my $sh (grep { -x $_ } '/bin/sh', '/bin/bash') {
	for my $k (sort keys %bytes) {
		my $out = `$sh -c '. "$dir/env.sh" && printf "%s" "\$$k"'`;
		is($out, $bytes{$k}, "$sh: $k byte for byte");
	}
}
ok(!-e $pwned, 'sourcing executed nothing');

# --- dotenv round trip through import ----------------------------------------
$r = export_($owner, 'development', 'dotenv');
is($r->{status}, 200, 'export dotenv');
like($r->{headers}{'content-type'}, qr{^text/plain}, 'as text');
my $dotenv = $r->{body};
my $p2 = new_project($owner->{cookie}, name => 'Import ' . rid());
$r = req('POST', "/v1/projects/$p2->{id}/secrets/import?environment=production",
	{ cookie => $owner->{cookie}, origin => 1, body => $dotenv,
	  headers => { 'Content-Type' => 'text/plain' } });
is($r->{status}, 200, 'import of the export');
is_deeply($r->{json}, { created => scalar(keys %want), updated => 0, unchanged => 0 }, 'counts');
$r = get_($owner->{cookie}, "/v1/projects/$p2->{id}/secrets/export?environment=production&format=json");
is_deeply($JSON->decode($r->{body}), \%want, 'every value survives export -> import exactly');

# --- import semantics ----------------------------------------------------
$r = import_($engineer, 'development', "# a comment\nexport PLAIN=dev-plain\nNEW_ONE='x y'\nSUBST=changed\n");
is($r->{status}, 200, 'engineer imports');
is_deeply($r->{json}, { created => 1, updated => 1, unchanged => 1 }, '{created,updated,unchanged}');
$r = import_($engineer, 'development', "NEW_ONE='x y'\n", json => 1);
is_deeply($r->{json}, { created => 0, updated => 0, unchanged => 1 }, 'JSON {content} body, unchanged');
my $versions = psql("SELECT count(*) FROM secret_version v JOIN secret s ON s.id = v.secret_id "
	. "WHERE s.project_id = '$pid' AND s.key = 'SUBST'");
is($versions, 2, 'an update is a new version');

my $before = psql("SELECT count(*) FROM secret WHERE project_id = '$pid'");
$r = import_($owner, 'development', "GOOD=1\nALSO_GOOD=2\nthis line is bad\nLATER=3\n");
is($r->{status}, 422, 'a malformed line is 422');
is($r->{json}{code}, 'INVALID_DOTENV', 'INVALID_DOTENV');
like($r->{json}{message}, qr/\b3\b/, 'naming the line');
is(psql("SELECT count(*) FROM secret WHERE project_id = '$pid'"), $before, 'nothing written');
$r = import_($owner, 'development', "1BAD=x\n");
is($r->{status}, 422, 'a bad key is 422');
$r = import_($owner, 'nope', "A=1\n");
is($r->{status}, 422, 'unknown environment 422');
$r = req('POST', "/v1/projects/$pid/secrets/import", { cookie => $owner->{cookie}, origin => 1,
	body => "A=1\n", headers => { 'Content-Type' => 'text/plain' } });
is($r->{status}, 400, 'environment is required');
$r = req('POST', "/v1/projects/$pid/secrets/import?environment=development",
	{ cookie => $owner->{cookie}, origin => 1, body => "A=1\n",
	  headers => { 'Content-Type' => 'application/x-www-form-urlencoded' } });
is($r->{status}, 415, 'other content types 415');
$r = import_($owner, 'development', { not => 'text' }, json => 1);
isnt($r->{status}, 200, 'content must be a string');
cmp_ok($r->{status}, '<', 500, 'never 5xx');

# --- inheritance ----------------------------------------------------------
$r = write_('PATCH', $owner->{cookie}, "/v1/projects/$pid/environments",
	{ environments => [ { slug => 'staging', parents => ['development'] } ] });
is($r->{status}, 200, 'staging inherits from development');
$got = $JSON->decode(export_($owner, 'staging', 'json')->{body});
is($got->{PLAIN}, 'stg-plain', "staging's own value wins");
is($got->{SUBST}, 'changed', 'inherited values are included');
is($got->{NEW_ONE}, 'x y', 'inherited from the parent');
$got = $JSON->decode(export_($owner, 'production', 'json')->{body});
is_deeply($got, {}, 'production inherits nothing');

# --- roles, bad input, foreign org, audit -------------------------------------
is(export_($viewer, 'development', 'json')->{status}, 403, 'viewer cannot export');
is(import_($viewer, 'development', "A=1\n")->{status}, 403, 'viewer cannot import');
is(get_(undef, "/v1/projects/$pid/secrets/export?environment=development")->{status}, 401, 'no credential');
is(export_($t->{foreign}, 'development', 'json')->{status}, 404, 'foreign org 404');
is(export_($owner, 'development', 'yaml')->{status}, 400, 'unknown format 400');
is(get_($owner->{cookie}, "/v1/projects/$pid/secrets/export")->{status}, 400, 'environment required');
is(export_($owner, 'nope', 'json')->{status}, 422, 'unknown environment 422');
my $ev = events($t->{org}, 'secret.exported');
cmp_ok(scalar @$ev, '>=', 4, 'every export is audited');
unlike(join(' ', map { $_->{metadata} } @$ev), qr/dev-plain|touch/, 'no value in the audit trail');
$ev = events($t->{org}, 'secret.imported');
cmp_ok(scalar @$ev, '>=', 2, 'imports are audited');

done_testing;
