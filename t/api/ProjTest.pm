package ProjTest;
# Helpers shared by t/api/{projects,environments,folders,counts}.t, on top of
# ApiTest.pm: an org with its owner and one member per role (seated through
# invitations and accept, as a person would), another org, and short
# request helpers.
#
#   team()          {owner, admin, engineer, viewer, org} + {foreign, forg}:
#                   people are ApiTest::signup hashes (cookie, user…)
#   get_($cookie, $path)             GET (undef cookie: none)
#   write_($m, $cookie, $path, $json) POST/PATCH/DELETE with Origin
#   new_project($cookie, %body)      201 expected; the Project
#   events($org_id, $action?)        the org's audit events, oldest first
#   rid()                            a random 32-character id
use strict;
use warnings;
use Exporter 'import';
use FindBin ();
use lib $FindBin::Bin;
use ApiTest;

our @EXPORT = qw(team get_ write_ new_project events rid run_tag);

my $RUN = join '', map { ('a' .. 'z', 0 .. 9)[int rand 36] } 1 .. 8;
sub run_tag { return $RUN }

sub rid { return join '', map { ('A' .. 'Z', 'a' .. 'z', 0 .. 9)[int rand 62] } 1 .. 32 }

sub get_ { my ($c, $p) = @_; return req('GET', $p, { (defined $c ? (cookie => $c) : ()) }) }

sub write_ {
	my ($m, $c, $p, $json) = @_;
	return req($m, $p, { (defined $c ? (cookie => $c, origin => 1) : ()),
		(defined $json ? (json => $json) : ()) });
}

sub _org {
	my ($u, $name) = @_;
	my $r = write_('POST', $u->{cookie}, '/v1/orgs', { name => "$name $RUN" });
	die "POST /v1/orgs: $r->{status} $r->{body}" unless $r->{status} == 201;
	return $r->{json}{id};
}

sub team {
	my ($tag) = @_;
	my %t;
	$t{owner} = signup(tag => "$tag-owner");
	$t{org} = _org($t{owner}, "$tag org");
	for my $role (qw(admin engineer viewer)) {
		my $u = signup(tag => "$tag-$role");
		my $r = write_('POST', $t{owner}{cookie}, '/v1/access/invitations',
			{ email => $u->{email}, role => $role });
		die "invite $role: $r->{status} $r->{body}" unless $r->{status} == 201;
		$r = write_('POST', $u->{cookie}, "/v1/access/invitations/$r->{json}{id}/accept");
		die "accept $role: $r->{status} $r->{body}" unless $r->{status} == 200;
		$t{$role} = $u;
	}
	$t{foreign} = signup(tag => "$tag-foreign");
	$t{forg} = _org($t{foreign}, "$tag other org");
	return \%t;
}

sub new_project {
	my ($c, %body) = @_;
	$body{name} //= 'Project ' . rid();
	my $r = write_('POST', $c, '/v1/projects', \%body);
	die "POST /v1/projects: $r->{status} $r->{body}" unless $r->{status} == 201;
	return $r->{json};
}

sub events {
	my ($org, $action) = @_;
	my $sql = 'SELECT action, target_type, target_id, coalesce(project_id, \'\'), '
		. 'coalesce(metadata::text, \'\') FROM audit_event WHERE org_id = ' . sql_quote($org)
		. (defined $action ? ' AND action = ' . sql_quote($action) : '') . ' ORDER BY seq';
	return [ map { my @f = split /\|/, $_, 5;
		{ action => $f[0], target_type => $f[1], target_id => $f[2], project_id => $f[3],
		  metadata => $f[4] } } grep { length } split /\n/, psql($sql) ];
}

1;
