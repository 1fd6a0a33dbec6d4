#!/usr/bin/perl
# Fault tests of the prefork master, on a private stack: a worker killed
# with SIGKILL under load is replaced and the stack keeps answering; SIGHUP
# under load replaces every worker without failing a single request.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use Stack;

plan skip_all => 'no stack (run through make check)' unless $ENV{SHUSH_URL};

my $s = Stack::private_stack(SHUSH_WORKERS => 2, SHUSH_RATE_LIMIT_AUTH => 0);
my $master = do { open my $fh, '<', $s->dir . '/run/shushd.pid' or die $!; my $p = <$fh>; $p =~ s/\D//g; $p };
ok($master, "master pid $master");

# The master's children, minus its runtime listener (named shush-listener).
sub workers {
	my @pids = `pgrep -P $master`;
	chomp @pids;
	my @w = grep {
		my $c = '';
		if (open my $fh, '<', "/proc/$_/comm") { $c = <$fh> // ''; }
		$c !~ /^shush-listener/;
	} grep { /^\d+$/ } @pids;
	return sort { $a <=> $b } @w;
}

# load(SECONDS, CLIENTS): children hammer /health and /v1/me; returns
# (ok count, list of failures "status path").
sub load {
	my ($secs, $clients, $cookie) = @_;
	my @kids;
	pipe(my $rd, my $wr) or die $!;
	for (1 .. $clients) {
		my $pid = fork // die $!;
		if (!$pid) {
			close $rd;
			my $http = HTTP::Tiny->new(timeout => 10, keep_alive => 1);
			my ($ok, @bad) = (0);
			my $until = time + $secs;
			my $i = 0;
			while (time < $until) {
				my $path = $i++ % 2 ? '/health' : '/v1/me';
				my $r = $http->get($s->url . $path, { headers => { Cookie => $cookie } });
				if ($r->{status} == 200) { $ok++ } else { push @bad, "$r->{status} $path" }
			}
			print $wr join("\t", $ok, @bad), "\n";
			close $wr;
			exit 0;
		}
		push @kids, $pid;
	}
	close $wr;
	my ($ok, @bad) = (0);
	while (my $line = <$rd>) {
		chomp $line;
		my ($n, @b) = split /\t/, $line;
		$ok += $n;
		push @bad, @b;
	}
	waitpid $_, 0 for @kids;
	return ($ok, @bad);
}

# A signed-in user, so the load covers database work too.
my $email = 'fault-' . int(rand(1e9)) . '@example.com';
my $r = $s->req(POST => '/api/auth/sign-up/email',
	{ json => { name => 'F', email => $email, password => 'faultpassword1' } });
is($r->{status}, 200, 'signed up');
my ($cookie) = ($r->{headers}{'set-cookie'} // '') =~ /^([^;]+)/;
ok($cookie, 'session cookie');

my @before = workers();
is(scalar @before, 2, 'two workers at start');

# --- SIGKILL under load -----------------------------------------------------
{
	my $killer = fork // die $!;
	if (!$killer) {
		sleep 1.0;
		kill 'KILL', $before[0];
		exit 0;
	}
	my ($ok, @bad) = load(4, 4, $cookie);
	waitpid $killer, 0;
	ok($ok > 100, "requests kept being answered around the kill ($ok ok)");
	# Only a request that was inside the killed worker may fail (nginx 502).
	cmp_ok(scalar @bad, '<=', 1, 'at most the in-flight request failed')
		or diag join(', ', @bad[0 .. ($#bad > 9 ? 9 : $#bad)]);
	my @after = workers();
	is(scalar @after, 2, 'the killed worker was replaced');
	ok(!grep({ $_ == $before[0] } @after), 'the killed pid is gone');
	is($s->req(GET => '/health')->{status}, 200, 'still healthy');
}

# --- SIGHUP under load ------------------------------------------------------
{
	my @old = workers();
	my $hupper = fork // die $!;
	if (!$hupper) {
		sleep 1.0;
		kill 'HUP', $master;
		exit 0;
	}
	my ($ok, @bad) = load(5, 4, $cookie);
	waitpid $hupper, 0;
	ok($ok > 100, "requests answered during the reload ($ok ok)");
	is(scalar @bad, 0, 'SIGHUP lost no request')
		or diag join(', ', @bad[0 .. ($#bad > 9 ? 9 : $#bad)]);
	my @new;
	for (1 .. 50) {
		@new = workers();
		last if @new == 2 && !grep { my $n = $_; grep { $_ == $n } @old } @new;
		sleep 0.2;
	}
	is(scalar @new, 2, 'two workers after the reload');
	ok(!grep({ my $n = $_; grep { $_ == $n } @old } @new), 'every worker was replaced');
}

# --- SIGTERM drains ---------------------------------------------------------
{
	$s->stop_part('shushd');
	my $state = 'gone';
	if (open my $fh, '<', "/proc/$master/stat") { $state = (split ' ', scalar <$fh>)[2] }
	ok(!kill(0, $master) || $state eq 'Z', "master stopped on SIGTERM ($state)");
	ok(!-e $s->dir . '/run/shushd.sock', 'socket removed on exit');
	like(do { local $/; open my $fh, '<', $s->log_file('shushd') or die $!; <$fh> },
		qr/"event":"master.stopped"/, 'logged a clean stop');
}

$s->down;
done_testing;
