#!/usr/bin/perl
# schema/openapi.yaml agrees with the route table.
#
# `shushd routes` prints the route table, one route per line:
#   METHOD \t PATH(:param) \t AUTH \t PERM \t STATUS \t SCOPE (org|user)
# This test checks that openapi.yaml describes exactly the same set of
# (method, path), and for each operation the same x-shush-auth and
# x-shush-permission; that its security requirement matches the auth kind;
# and that a route still answering 501 is documented as such (a 501 response
# and an x-shush-issue) while a built route is not.
#
# No YAML module is assumed: openapi.yaml keeps a fixed layout (see its
# header) and is read line by line here.
#
# SHUSH_BIN_DIR names the directory holding shushd (default build/san when
# it exists, else build, relative to the repository).
use strict;
use warnings;
use FindBin qw($Bin);
use File::Spec;
use Test::More;

my $root = File::Spec->rel2abs("$Bin/../..");
my $yaml = "$root/schema/openapi.yaml";
my $bindir = $ENV{SHUSH_BIN_DIR};
if (!defined $bindir || $bindir eq '') {
	$bindir = -d "$root/build/san" ? "$root/build/san" : "$root/build";
}
my $shushd = "$bindir/shushd";

my %AUTH = map { $_ => 1 } qw(none session apikey scim stripe);
my %METHOD = map { $_ => 1 } qw(GET POST PUT PATCH DELETE HEAD OPTIONS);
my $PERM_RE = qr/^(?:none|[a-z][a-z_]*:[a-z][a-z_]*)$/;
# Security schemes an operation may name, by auth kind.
my %SECURITY = (
	none    => { map { $_ => 1 } qw(twoFactorCookie) },
	session => { map { $_ => 1 } qw(sessionCookie personalToken) },
	apikey  => { map { $_ => 1 } qw(apiKey) },
	scim    => { map { $_ => 1 } qw(scimToken) },
	stripe  => { map { $_ => 1 } qw(stripeSignature) },
);

# ---------------------------------------------------------------- route table

sub read_table {
	my ($bin) = @_;
	my (%t, @errors);
	open(my $fh, '-|', $bin, 'routes') or return (undef, ["cannot run $bin routes: $!"]);
	my $n = 0;
	while (my $line = <$fh>) {
		$n++;
		chomp $line;
		next if $line eq '';
		my @f = split /\t/, $line, -1;
		if (@f != 6) {
			push @errors, "line $n: expected 6 tab-separated fields: '$line'";
			next;
		}
		my ($m, $p, $auth, $perm, $status, $scope) = @f;
		push @errors, "line $n: bad scope '$scope'" unless $scope =~ /^(?:org|user)$/;
		push @errors, "line $n: bad method '$m'" unless $METHOD{$m};
		push @errors, "line $n: bad path '$p'" unless $p =~ m{^/[A-Za-z0-9_.:/-]*$};
		push @errors, "line $n: bad auth '$auth'" unless $AUTH{$auth};
		push @errors, "line $n: bad permission '$perm'" unless $perm =~ $PERM_RE;
		push @errors, "line $n: bad status '$status'" unless $status =~ /^(?:built|501)$/;
		my $k = "$m $p";
		push @errors, "line $n: duplicate route $k" if $t{$k};
		$t{$k} = { auth => $auth, perm => $perm, status => $status };
	}
	close $fh;
	push @errors, "$bin routes exited with status " . ($? >> 8) if $?;
	return (\%t, \@errors);
}

# --------------------------------------------------------------- openapi.yaml

sub unquote {
	my ($v) = @_;
	$v =~ s/\s+#.*$//;    # trailing comment
	$v =~ s/^\s+|\s+$//g;
	$v = $1 if $v =~ /^"(.*)"$/ || $v =~ /^'(.*)'$/;
	return $v;
}

sub indent_of { my ($l) = @_; $l =~ /^( *)/; return length $1 }

sub read_openapi {
	my ($file) = @_;
	my (%ops, @errors);
	open(my $fh, '<', $file) or return (undef, ["cannot read $file: $!"]);
	my @lines = <$fh>;
	close $fh;

	my $in_paths = 0;
	my ($path, $op, $sect);    # current path, operation (hashref), 6-space key
	my $block = -1;    # inside a block scalar whose key sits at this indent
	my $n = 0;
	for my $line (@lines) {
		$n++;
		chomp $line;
		$line =~ s/\r$//;
		my $ind = indent_of($line);
		if ($block >= 0) {
			next if $line =~ /^\s*$/ || $ind > $block;
			$block = -1;
		}
		next if $line =~ /^\s*(?:#.*)?$/;
		push @errors, "line $n: tab in indentation" if $line =~ /^ *\t/;
		# A key whose value is a block scalar: skip its (deeper) content.
		$block = $ind if $line =~ /^\s*(?:-\s+)?[^\s#][^#]*?:\s+[|>][-+0-9]*\s*(?:#.*)?$/;

		if ($ind == 0) {
			$in_paths = $line =~ /^paths:\s*$/ ? 1 : 0;
			undef $path; undef $op; undef $sect;
			next;
		}
		next unless $in_paths;

		if ($ind == 2) {
			undef $op; undef $sect;
			if ($line =~ m{^  (["']?)(/[^"'\s]*)\1:\s*$}) {
				$path = $2;
				$path =~ s/\{([A-Za-z_][A-Za-z0-9_]*)\}/:$1/g;
				push @errors, "line $n: path '$2' not in {param} style" if $path =~ /[{}]/;
			} else {
				push @errors, "line $n: expected a path key: '$line'";
				undef $path;
			}
			next;
		}
		next unless defined $path;

		if ($ind == 4) {
			undef $sect;
			if ($line =~ /^    (get|put|post|patch|delete|head|options|trace):\s*$/) {
				my $k = uc($1) . " $path";
				push @errors, "line $n: duplicate operation $k" if $ops{$k};
				$op = $ops{$k} = { line => $n, responses => {}, security => [] };
			} else {
				undef $op;    # parameters, summary… of the path item
			}
			next;
		}
		next unless $op;

		if ($ind == 6) {
			undef $sect;
			if ($line =~ /^      (x-shush-(?:auth|permission|issue)):\s*(.*)$/) {
				my ($key, $v) = ($1, unquote($2));
				push @errors, "line $n: $key given twice" if exists $op->{$key};
				$op->{$key} = $v;
			} elsif ($line =~ /^      security:\s*(.*)$/) {
				my $v = unquote($1);
				$op->{has_security} = 1;
				if ($v eq '[]') {
					$op->{security} = [];
				} elsif ($v eq '') {
					$sect = 'security';
				} else {
					push @errors, "line $n: write security as a block list or []";
				}
			} elsif ($line =~ /^      responses:\s*$/) {
				$sect = 'responses';
			}
			next;
		}
		next unless $sect;

		if ($ind == 8) {
			if ($sect eq 'responses') {
				if ($line =~ /^        (["']?)(\d{3}|[1-5]XX|default)\1:\s*$/) {
					$op->{responses}{$2} = 1;
				} else {
					push @errors, "line $n: expected a status code: '$line'";
				}
			} elsif ($sect eq 'security') {
				if ($line =~ /^        -\s+([A-Za-z0-9_]+):\s*\[\s*\]\s*$/) {
					push @{ $op->{security} }, $1;
				} else {
					push @errors, "line $n: expected '- scheme: []': '$line'";
				}
			}
		}
	}
	return (\%ops, \@errors);
}

# ------------------------------------------------------------------- the test

my ($api, $yerr) = read_openapi($yaml);
ok($api && !@$yerr, 'openapi.yaml reads') or diag(join("\n", @$yerr));
$api ||= {};
cmp_ok(scalar(keys %$api), '>', 0, 'openapi.yaml describes operations');

ok(-x $shushd, "$shushd is built") or do {
	diag('build shushd first, or set SHUSH_BIN_DIR');
	done_testing();
	exit;
};
my ($table, $terr) = read_table($shushd);
ok($table && !@$terr, 'shushd routes prints a well-formed table') or diag(join("\n", @$terr));
$table ||= {};
cmp_ok(scalar(keys %$table), '>', 0, 'the route table has routes');

my @missing_yaml = sort grep { !$api->{$_} } keys %$table;
my @missing_table = sort grep { !$table->{$_} } keys %$api;
ok(!@missing_yaml, 'every route of the table is in openapi.yaml')
    or diag("not in openapi.yaml:\n  " . join("\n  ", @missing_yaml));
ok(!@missing_table, 'every operation of openapi.yaml is in the route table')
    or diag("not in the route table:\n  " . join("\n  ", @missing_table));

sub by_route {
	my ($am, $ap) = split / /, $a, 2;
	my ($bm, $bp) = split / /, $b, 2;
	return $ap cmp $bp || $am cmp $bm;
}

for my $k (sort by_route grep { $api->{$_} } keys %$table) {
	my ($r, $o) = ($table->{$k}, $api->{$k});
	my $where = "$k (openapi.yaml line $o->{line})";
	my @bad;

	my $auth = $o->{'x-shush-auth'};
	my $perm = $o->{'x-shush-permission'};
	if (!defined $auth) {
		push @bad, 'no x-shush-auth';
	} elsif ($auth ne $r->{auth}) {
		push @bad, "x-shush-auth is '$auth', the route table says '$r->{auth}'";
	}
	if (!defined $perm) {
		push @bad, 'no x-shush-permission';
	} elsif ($perm ne $r->{perm}) {
		push @bad, "x-shush-permission is '$perm', the route table says '$r->{perm}'";
	}

	if (!$o->{has_security}) {
		push @bad, 'no security';
	} else {
		my $allowed = $SECURITY{ $r->{auth} };
		my @wrong = grep { !$allowed->{$_} } @{ $o->{security} };
		push @bad, "security names @wrong, wrong for auth '$r->{auth}'" if @wrong;
		push @bad, "auth '$r->{auth}' but security is []"
		    if $r->{auth} ne 'none' && !@{ $o->{security} };
	}

	my $has501 = $o->{responses}{501};
	my @ok2xx = grep { /^[23]/ } keys %{ $o->{responses} };
	if ($r->{status} eq '501') {
		push @bad, 'answers 501 but openapi.yaml has no 501 response' unless $has501;
		push @bad, 'answers 501 but has no x-shush-issue' unless $o->{'x-shush-issue'};
	} else {
		push @bad, 'built, but openapi.yaml still lists a 501 response' if $has501;
		push @bad, 'built, but openapi.yaml still has an x-shush-issue'
		    if defined $o->{'x-shush-issue'};
		push @bad, 'built, but openapi.yaml lists no 2xx or 3xx response' unless @ok2xx;
	}
	ok(!@bad, $k) or diag("$where:\n  " . join("\n  ", @bad));
}

done_testing();
