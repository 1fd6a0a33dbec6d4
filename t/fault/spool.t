#!/usr/bin/perl
# The audit spool of runtime reads (lib/spool.c), on a private stack: every
# 200 from GET /runtime/v1/secrets is exactly one secret.read event in the
# org's chain, whatever happens between the read and the chain — reads
# while shush-worker is stopped, shush-worker killed with SIGKILL while it
# ships, workers replaced (their files finished and deleted), a spool
# directory that is full (reads refused with 503, never served unrecorded).
# The chain with spooled events passes `shushd audit-verify`.
use strict;
use warnings;
use lib 't/lib', 't/api';
use File::Temp ();
use Test::More;
use Time::HiRes qw(time sleep);
use Stack;

plan skip_all => 'no stack (run through make check)' unless $ENV{SHUSH_URL};

# The spool on its own small tmpfs when this machine lets us mount one
# (root in a container with CAP_SYS_ADMIN), so the disk can be filled.
my $spool = File::Temp::tempdir('shush-spool-XXXXXX', DIR => '/tmp', CLEANUP => 0);
my $tmpfs = system("mount -t tmpfs -o size=1m,mode=0700 shush-spool '$spool' 2>/dev/null") == 0;
END { system("umount -l '$spool' 2>/dev/null") if $tmpfs; rmdir $spool if $spool }

my $s = Stack::private_stack(SHUSH_WORKERS => 2, SHUSH_RATE_LIMIT_AUTH => 0,
	SHUSH_SPOOL_DIR => $spool);
my $c = $s->config;
# ApiTest / ProjTest talk to this stack.
$ENV{$_} = $c->{$_} for qw(DATABASE_URL BETTER_AUTH_URL);
$ENV{SHUSH_URL} = $s->url;
$ENV{SHUSH_SPOOL_DIR} = $spool;
require ApiTest;
ApiTest->import;
require ProjTest;
ProjTest->import;

my $owner = signup(tag => 'spool');
my $org = write_('POST', $owner->{cookie}, '/v1/orgs', { name => 'Spool ' . rid() })->{json}{id};
ok($org, 'an org');
my $pid = new_project($owner->{cookie}, name => 'Spool ' . rid())->{id};
is(write_('POST', $owner->{cookie}, "/v1/projects/$pid/secrets",
	{ key => 'DB_URL', values => { development => 'postgres://x' } })->{status}, 201, 'a secret');
my $k = write_('POST', $owner->{cookie}, "/v1/projects/$pid/api-keys",
	{ name => 'spool', environment => 'development' });
is($k->{status}, 201, 'an environment key');
my $key = $k->{json}{key};
my $key_id = $k->{json}{id} // $k->{json}{apiKey}{id};

my $http = HTTP::Tiny->new(timeout => 10, keep_alive => 1);
my $served = 0;    # 200s so far: each must be one event
# read(N): N runtime reads; returns (200s, 503s, other).
sub reads {
	my ($n) = @_;
	my ($ok, $busy, $other) = (0, 0, 0);
	for (1 .. $n) {
		my $r = $http->get($s->url . '/runtime/v1/secrets',
			{ headers => { Authorization => "Bearer $key" } });
		if ($r->{status} == 200) { $ok++ }
		elsif ($r->{status} == 503) { $busy++ }
		else { $other++; diag("read: $r->{status} $r->{content}") if $other < 3 }
	}
	$served += $ok;
	return ($ok, $busy, $other);
}
my $count_sql = sprintf(q{SELECT count(*) FROM audit_event WHERE org_id = %s
	AND action = 'secret.read' AND actor_id = %s}, sql_quote($org), sql_quote($key_id));
sub chained { return 0 + psql($count_sql) }
sub spool_files {
	opendir(my $dh, $spool) or return ();
	return grep { /\.spool\z/ && !/^\./ } readdir $dh;
}
my $t0 = time;

# --- every read, once ---------------------------------------------------
is((reads(40))[0], 40, '40 reads served');
ok(audit_settled(), 'the spool drains into the chain');
is(chained(), $served, 'one secret.read per read served');
my $at = psql(sprintf(q{SELECT extract(epoch FROM min(at)) || ' ' || extract(epoch FROM max(at))
	FROM audit_event WHERE org_id = %s AND action = 'secret.read'}, sql_quote($org)));
my ($lo, $hi) = split ' ', $at;
ok($lo >= $t0 - 1 && $hi <= time + 1, 'at is when the read happened');
sub last_used { return psql(sprintf(q{SELECT coalesce(extract(epoch FROM last_used_at), 0)
	FROM api_key WHERE id = %s}, sql_quote($key_id))) }
# Stamped from the spool at most once a minute: the time of one of these reads.
ok(last_used() >= $lo - 0.01 && last_used() <= $hi + 0.01,
	"the key's lastUsedAt is stamped from the spool with a read's time");

# --- shush-worker stopped: reads go on, records wait --------------------
$s->stop_part('worker');
is((reads(30))[0], 30, 'reads are served while shush-worker is stopped');
sleep 0.5;
is(chained(), $served - 30, 'their records wait in the spool');
$s->start_part('worker');
ok(audit_settled(), 'shush-worker back: the spool drains');
is(chained(), $served, 'nothing lost');
# Once a minute at most per key: the next stamp is a minute of reads away.
psql(sprintf(q{UPDATE api_key SET last_used_at = last_used_at - interval '2 minutes'
	WHERE id = %s}, sql_quote($key_id)));
my $back = last_used();
is((reads(3))[0], 3, 'three more reads');
ok(audit_settled(), 'chained');
ok(last_used() > $back + 60, 'lastUsedAt moved on with the reads served from the cache');

# --- shush-worker killed while it ships ---------------------------------
$s->stop_part('worker');
is((reads(400))[0], 400, '400 more reads');
for my $delay (0.05, 0.15) {
	$s->start_part('worker');
	sleep $delay;
	my $wpid = do { open my $fh, '<', $s->dir . '/run/worker.pid' or die $!; my $p = <$fh>; $p =~ s/\D//g; $p };
	kill 'KILL', $wpid;
	sleep 0.2;
}
$s->start_part('worker');
ok(audit_settled(), 'after two SIGKILLs mid-shipping, the spool drains');
is(chained(), $served, 'every record chained exactly once');

# --- workers replaced: their files are finished and deleted -------------
my @before = spool_files();
ok(@before >= 1, scalar(@before) . ' spool file(s) of the current workers');
my $master = do { open my $fh, '<', $s->dir . '/run/shushd.pid' or die $!; my $p = <$fh>; $p =~ s/\D//g; $p };
kill 'HUP', $master;
my $gone = 0;
for (1 .. 100) {
	reads(2);
	my %now = map { $_ => 1 } spool_files();
	if (!grep { $now{$_} } @before) { $gone = 1; last }
	sleep 0.1;
}
ok($gone, "the replaced workers' files are deleted once shipped");
ok(audit_settled(), 'and the new ones drain');
is(chained(), $served, 'still one event per read served');
is(psql(sprintf(q{SELECT count(*) FROM audit_spool WHERE name IN (%s)},
	join(',', map { sql_quote($_) } @before))), 0, 'their offsets are forgotten with them');

# --- a full disk: reads refused, never served unrecorded ----------------
SKIP: {
	skip 'cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN)', 5 unless $tmpfs;
	# Fill the filesystem (a name the shipper ignores).
	open my $fh, '>', "$spool/filler" or die $!;
	my $chunk = 'x' x 4096;
	1 while syswrite($fh, $chunk);
	close $fh;
	my ($ok, $busy, $other) = reads(60);
	ok($busy > 0, "with the spool full, reads are refused ($ok served, then $busy x 503)");
	is($other, 0, 'nothing but 200 and 503');
	my $r = $http->get($s->url . '/runtime/v1/secrets', { headers => { Authorization => "Bearer $key" } });
	like($r->{content}, qr/"code":"SERVICE_UNAVAILABLE"/, 'in the error shape');
	unlink "$spool/filler";
	is((reads(20))[0], 20, 'space back: reads served again');
	ok(audit_settled(), 'the spool drains');
}
is(chained(), $served, 'in the end: exactly one event per read served');

# --- the chain with spooled events verifies -----------------------------
my $bin = ($ENV{SHUSH_BIN_DIR} // 'build') . '/shushd';
my $env = join ' ', map { "$_='$c->{$_}'" } grep { defined $c->{$_} }
	qw(DATABASE_URL MASTER_KEK_B64 BETTER_AUTH_SECRET SHUSH_SPOOL_DIR);
my $out = `env $env '$bin' audit-verify --org '$org' 2>&1`;
is($? >> 8, 0, 'audit-verify accepts the chain') or diag $out;
my $logs = do { local $/; open my $lf, '<', $s->log_file('worker') or die $!; <$lf> };
unlike($logs, qr/postgres:\/\/x/, 'no value in shush-worker\'s log');

$s->down;
done_testing;
