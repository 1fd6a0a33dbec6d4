#!/usr/bin/perl
# Outgoing mail (shush-worker's mail job, lib/mailer.c) on a private stack
# whose SMTP_URL points at a tiny SMTP sink written here: delivery with the
# right envelope, headers and body; a 451 retried after the backoff; CR/LF
# in a header refused and never sent; a 550 given up at once; SIGTERM
# during a send finishes it; no password or body in the worker's log; and
# on the shared stack (no SMTP_URL) rows stay in the outbox.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use File::Temp ();
use MIME::Base64 qw(decode_base64);
use Encode qw(decode);
use POSIX ();
use Time::HiRes qw(time sleep);
use Stack;

plan skip_all => 'no stack (run through make check)' unless $ENV{SHUSH_URL};

# ------------------------------------------------------------ SMTP sink
# One process, one connection at a time. Control files in its directory
# switch behaviours for the next message: fail_data (451 to DATA),
# fail_dot (451 after the final dot), slow_dot (touch in_data, wait 3 s,
# then 250). RCPT TO a "reject@" address gets 550. Each accepted message
# is saved as NNN.eml (the DATA, un-dot-stuffed) and NNN.env (envelope).
my $sink_dir = File::Temp::tempdir('smtp-sink-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $listener = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
	Proto => 'tcp', Listen => 5, ReuseAddr => 1) or die "sink: $!";
my $sink_port = $listener->sockport;
my $sink_pid = fork // die "fork: $!";
if (!$sink_pid) {
	sink_serve($listener, $sink_dir);
	POSIX::_exit(0);
}
close $listener;

sub flag_take {
	my ($dir, $name) = @_;
	return unlink("$dir/$name") ? 1 : 0;
}

sub sink_serve {
	my ($srv, $dir) = @_;
	my $n = 0;
	$SIG{TERM} = sub { POSIX::_exit(0) };
	while (my $c = $srv->accept) {
		$c->autoflush(1);
		my $say = sub { print {$c} "$_[0]\r\n" };
		my $line = sub { my $l = <$c>; $l =~ s/\r?\n\z// if defined $l; $l };
		my (%env, @rcpt);
		$say->('220 sink.test ESMTP ready');
		while (defined(my $cmd = $line->())) {
			if ($cmd =~ /^EHLO\b/i) {
				print {$c} "250-sink.test\r\n250-AUTH PLAIN\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n";
			} elsif ($cmd =~ /^HELO\b/i) {
				$say->('250 sink.test');
			} elsif ($cmd =~ /^AUTH PLAIN(?: (\S+))?$/i) {
				my $ir = $1;
				if (!defined $ir) { $say->('334 '); $ir = $line->() // '' }
				$env{auth} = decode_base64($ir);
				$say->('235 2.7.0 ok');
			} elsif ($cmd =~ /^MAIL FROM:\s*(\S+)/i) {
				$env{from} = $1;
				@rcpt = ();
				$say->('250 2.1.0 ok');
			} elsif ($cmd =~ /^RCPT TO:\s*(\S+)/i) {
				my $to = $1;
				if ($to =~ /<reject@/i) { $say->('550 5.1.1 no such user'); next }
				push @rcpt, $to;
				$say->('250 2.1.5 ok');
			} elsif ($cmd =~ /^DATA$/i) {
				if (flag_take($dir, 'fail_data')) { $say->('451 4.3.0 try again later'); next }
				$say->('354 go ahead');
				my $data = '';
				while (defined(my $l = <$c>)) {
					last if $l eq ".\r\n";
					$l =~ s/^\.//;    # dot-unstuffing
					$data .= $l;
				}
				if (flag_take($dir, 'fail_dot')) { $say->('451 4.3.0 queue full'); next }
				if (flag_take($dir, 'slow_dot')) {
					if (open(my $mk, ">", "$dir/in_data")) { close $mk }
					sleep 3;
				}
				$n++;
				my $base = sprintf('%s/%03d', $dir, $n);
				open(my $e, '>', "$base.env.tmp") or die;
				print {$e} "from=$env{from}\n", (map { "rcpt=$_\n" } @rcpt),
					defined $env{auth} ? 'auth=' . unpack('H*', $env{auth}) . "\n" : '';
				close $e;
				open(my $f, '>:raw', "$base.eml.tmp") or die;
				print {$f} $data;
				close $f;
				rename("$base.env.tmp", "$base.env");
				rename("$base.eml.tmp", "$base.eml");
				$say->('250 2.0.0 queued as ' . $n);
			} elsif ($cmd =~ /^(RSET|NOOP)\b/i) {
				$say->('250 ok');
			} elsif ($cmd =~ /^QUIT\b/i) {
				$say->('221 bye');
				last;
			} else {
				$say->('502 5.5.2 not implemented');
			}
		}
		close $c;
	}
}

END { if ($sink_pid) { kill 'TERM', $sink_pid; waitpid($sink_pid, 0) } }

sub flag { my ($name) = @_; open(my $f, '>', "$sink_dir/$name") or die $!; close $f }

# Every message the sink accepted: {env => {from, rcpt => [..], auth}, raw,
# headers => {lc name => value (unfolded)}, body}.
sub sink_messages {
	my @out;
	for my $eml (sort glob("$sink_dir/*.eml")) {
		(my $envf = $eml) =~ s/\.eml$/.env/;
		my %env = (rcpt => []);
		open(my $e, '<', $envf) or next;
		while (<$e>) {
			chomp;
			my ($k, $v) = split /=/, $_, 2;
			if ($k eq 'rcpt') { push @{ $env{rcpt} }, $v } else { $env{$k} = $v }
		}
		$env{auth} = pack('H*', $env{auth}) if defined $env{auth};
		open(my $f, '<:raw', $eml) or next;
		local $/;
		my $raw = <$f>;
		my ($head, $body) = split /\r\n\r\n/, $raw, 2;
		(my $unfolded = $head) =~ s/\r\n[ \t]+/ /g;
		my %h;
		for (split /\r\n/, $unfolded) {
			my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
			$h{ lc $k } = $v;
		}
		push @out, { env => \%env, raw => $raw, head => $head, headers => \%h, body => $body };
	}
	return @out;
}

sub messages_to { my ($addr) = @_; grep { $_->{headers}{to} eq $addr } sink_messages() }

# ------------------------------------------------------------ the stack
my $pw = 'sinkPw-' . int(rand(1e9)) . '-x';
my $s = Stack::private_stack(SMTP_URL => "smtp://mailer:$pw\@127.0.0.1:$sink_port",
	SMTP_FROM => 'shush@example.test');
my $tag = 't' . int(rand(1e9));

sub sq { my ($v) = @_; $v =~ s/'/''/g; return "'$v'" }

sub enqueue {
	my ($st, $id, $to, $subject, $body) = @_;
	$st->psql('INSERT INTO mail_outbox (id, to_address, subject, body) VALUES ('
		. join(', ', map { sq($_) } "$tag-$id", $to, $subject, $body) . ')');
}

# row(ID): {attempts, last_error, sent, next_in (seconds from now, or 'infinity')}
sub row {
	my ($st, $id) = @_;
	my ($r) = $st->psql("SELECT attempts, coalesce(last_error, ''), sent_at IS NOT NULL, "
		. "CASE WHEN next_attempt_at = 'infinity' THEN 'infinity' ELSE "
		. "round(extract(epoch FROM next_attempt_at - now()))::text END "
		. "FROM mail_outbox WHERE id = " . sq("$tag-$id"));
	return unless $r;
	return { attempts => $r->[0], last_error => $r->[1], sent => $r->[2] eq 't', next_in => $r->[3] };
}

sub wait_row {
	my ($st, $id, $cond, $secs) = @_;
	my $until = time + ($secs // 20);
	my $r;
	while (time < $until) {
		$r = row($st, $id);
		return $r if $r && $cond->($r);
		sleep 0.2;
	}
	return $r;
}

# --- 1. delivery, envelope, headers, body ---------------------------------
my $to1 = "alice-$tag\@example.test";
my $subject1 = "Einladung zu \x{201C}Acme\x{201D} \x{2014} join the org on shush, \x{00E9}t\x{00E9} 2025";
my $body1 = "Hello Alice,\n\nyou are invited: https://shush.example.test/invite/BODY-MARKER-$tag\n"
	. ".a line starting with a dot\n..two dots\n.\nGr\x{00FC}\x{00DF}e \x{2603}\n";
{
	my $b = $body1;
	my $sub = $subject1;
	utf8::encode($_) for $b, $sub;
	enqueue($s, 'm1', $to1, $sub, $b);
}
my $r = wait_row($s, 'm1', sub { $_[0]{sent} });
ok($r && $r->{sent}, 'sent_at is set');
is($r->{attempts}, 0, 'delivered at the first attempt');
my @m = messages_to($to1);
is(scalar @m, 1, 'the sink got the mail exactly once');
my $m = $m[0] // { headers => {}, env => { rcpt => [] }, raw => '', body => '', head => '' };
is($m->{env}{from}, '<shush@example.test>', 'envelope MAIL FROM is SMTP_FROM');
is_deeply($m->{env}{rcpt}, ["<$to1>"], 'envelope RCPT TO is the recipient');
is($m->{env}{auth}, "\0mailer\0$pw", 'logged in with the URL\'s userinfo (AUTH PLAIN)');
is($m->{headers}{from}, 'shush@example.test', 'From header');
is($m->{headers}{to}, $to1, 'To header');
like($m->{headers}{subject} // '', qr/^=\?UTF-8\?B\?/, 'non-ASCII Subject is RFC 2047 encoded');
ok(!grep({ length > 78 } split /\r\n/, $m->{head}), 'no header line longer than 78');
{
	(my $enc = $m->{headers}{subject} // '') =~ s/\?=\s+=\?/?==?/g;
	is(decode('MIME-Header', $enc), $subject1, 'Subject decodes to the original text');
}
like($m->{headers}{date} // '', qr/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$/,
	'Date in RFC 5322 form');
like($m->{headers}{'message-id'} // '', qr/^<[^<>@\s]+\@example\.test>$/, 'Message-ID in the sender\'s domain');
is($m->{headers}{'mime-version'}, '1.0', 'MIME-Version');
is($m->{headers}{'content-type'}, 'text/plain; charset=utf-8', 'Content-Type');
is($m->{headers}{'content-transfer-encoding'}, '8bit', 'Content-Transfer-Encoding');
ok($m->{raw} !~ /(?<!\r)\n/ && $m->{raw} !~ /\r(?!\n)/, 'CRLF line endings only');
{
	(my $want = $body1) =~ s/\n/\r\n/g;
	is(decode('UTF-8', $m->{body}), $want, 'body intact (dot lines survive stuffing)');
}

# An ASCII subject stays as it is.
enqueue($s, 'm1b', "bob-$tag\@example.test", 'You are invited to Acme', "plain\n");
$r = wait_row($s, 'm1b', sub { $_[0]{sent} });
ok($r && $r->{sent}, 'ASCII mail sent');
($m) = messages_to("bob-$tag\@example.test");
is($m && $m->{headers}{subject}, 'You are invited to Acme', 'ASCII Subject sent as is');

# --- 2. 451 to DATA, retried ------------------------------------------------
flag('fail_data');
my $to2 = "carol-$tag\@example.test";
enqueue($s, 'm2', $to2, 'retry me', "retry body\n");
$r = wait_row($s, 'm2', sub { $_[0]{attempts} >= 1 });
is($r->{attempts}, 1, '451 to DATA: one failed attempt recorded');
ok(!$r->{sent}, 'not marked sent');
like($r->{last_error}, qr/451/, 'last_error names the reply');
unlike($r->{last_error}, qr/\Q$pw\E/, 'last_error carries no password');
ok($r->{next_in} =~ /^\d+$/ && $r->{next_in} >= 20 && $r->{next_in} <= 40,
	"next attempt after the 30 s backoff ($r->{next_in} s)");
sleep 1.5;
is(scalar messages_to($to2), 0, 'nothing delivered during the backoff');
$s->psql("UPDATE mail_outbox SET next_attempt_at = now() WHERE id = " . sq("$tag-m2"));
$r = wait_row($s, 'm2', sub { $_[0]{sent} });
ok($r->{sent}, 'delivered on the retry');
is($r->{attempts}, 1, 'attempts stays at the one failure');
is(scalar messages_to($to2), 1, 'delivered exactly once');

# --- 3. 451 after the final dot, retried ------------------------------------
flag('fail_dot');
my $to3 = "dave-$tag\@example.test";
enqueue($s, 'm3', $to3, 'retry after dot', "dot body\n");
$r = wait_row($s, 'm3', sub { $_[0]{attempts} >= 1 });
is($r->{attempts}, 1, '451 after the data: one failed attempt');
like($r->{last_error}, qr/451/, 'last_error names the reply');
$s->psql("UPDATE mail_outbox SET next_attempt_at = now() WHERE id = " . sq("$tag-m3"));
$r = wait_row($s, 'm3', sub { $_[0]{sent} });
ok($r->{sent}, 'delivered on the retry');
is(scalar messages_to($to3), 1, 'delivered exactly once');

# --- 4. header injection refused --------------------------------------------
my $evil = "evil-$tag\@example.test";
enqueue($s, 'm4', "erin-$tag\@example.test", "Hello\r\nBcc: $evil", "injected\n");
enqueue($s, 'm4b', "frank-$tag\@example.test\nBcc: $evil", 'hi', "injected\n");
enqueue($s, 'm4c', "gina-$tag\@example.test", "Hello\nX-Evil: 1", "injected\n");
for my $id (qw(m4 m4b m4c)) {
	$r = wait_row($s, $id, sub { $_[0]{attempts} >= 1 });
	ok(!$r->{sent}, "$id: CR/LF in a header is never sent");
	is($r->{attempts}, 1, "$id: one attempt");
	like($r->{last_error}, qr/CR or LF/, "$id: the error says why");
	like($r->{last_error}, qr/gave up/, "$id: given up at once");
	is($r->{next_in}, 'infinity', "$id: never due again");
}
ok(!grep({ $_->{raw} =~ /\Q$evil\E|X-Evil/ || grep { /evil/ } @{ $_->{env}{rcpt} } } sink_messages()),
	'the sink never saw an injected header or recipient');

# --- 5. permanent rejection --------------------------------------------------
enqueue($s, 'm5', "reject\@example.test", 'bounce', "x\n");
$r = wait_row($s, 'm5', sub { $_[0]{attempts} >= 1 });
ok(!$r->{sent}, '550 to RCPT: not sent');
like($r->{last_error}, qr/gave up after 1 attempt: .*550/, '550 is given up at once');
is($r->{next_in}, 'infinity', 'never due again');

# --- 6. end to end through the invitations route, when it exists -------------
SKIP: {
	my $email = "owner-$tag\@example.test";
	my $jar = Stack::jar();
	my $origin = { Origin => $s->url };
	my $x = $s->req(POST => '/api/auth/sign-up/email',
		{ json => { name => 'Owner', email => $email, password => 'mail-test-password' },
		  cookie => $jar, headers => $origin });
	skip "sign-up answered $x->{status}", 3 unless $x->{status} == 200;
	$x = $s->req(POST => '/v1/orgs', { json => { name => "Mail $tag" }, cookie => $jar, headers => $origin });
	skip "POST /v1/orgs answered $x->{status}", 3 unless $x->{status} == 201;
	my $invitee = "invitee-$tag\@example.test";
	$x = $s->req(POST => '/v1/access/invitations',
		{ json => { email => $invitee, role => 'viewer' }, cookie => $jar, headers => $origin });
	skip "POST /v1/access/invitations answered $x->{status}", 3 unless $x->{status} == 201;
	my $until = time + 20;
	my @got;
	while (time < $until && !(@got = messages_to($invitee))) { sleep 0.2 }
	is(scalar @got, 1, 'the invitation mail arrives through SMTP');
	ok($got[0] && length $got[0]{headers}{subject} && length $got[0]{body},
		'with a subject and a body');
	my $n = $s->psql("SELECT count(*) FROM mail_outbox WHERE to_address = " . sq($invitee)
		. " AND sent_at IS NOT NULL");
	is($n, 1, 'its outbox row is marked sent');
}

# --- 7. SIGTERM during a send: the send finishes, then a clean exit ----------
flag('slow_dot');
my $to7 = "hank-$tag\@example.test";
enqueue($s, 'm7', $to7, 'slow', "slow body\n");
my $until = time + 20;
sleep 0.1 while time < $until && !-e "$sink_dir/in_data";
ok(-e "$sink_dir/in_data", 'the worker is in the middle of a send');
my $t0 = time;
my ($stopped, $out) = $s->_stack('stop', 'worker');
ok($stopped, 'stack.sh stop worker succeeded');
unlike($out, qr/did not stop|killing/, 'no SIGKILL was needed');
$r = row($s, 'm7');
ok($r->{sent}, 'the send in progress finished and was recorded before the exit');
is(scalar messages_to($to7), 1, 'and the mail was delivered once');

open(my $lf, '<', $s->log_file('worker')) or die "worker log: $!";
my @lines = <$lf>;
close $lf;
my $log = join '', @lines;
my @json = grep { defined } map { eval { $Stack::JSON->decode($_) } } @lines;
ok(@json && @json == grep({ /\S/ } @lines), 'every worker log line is JSON');
ok((grep { ($_->{event} // '') eq 'worker.stopped' } @json), 'the worker logged a clean stop');
my %ev;
$ev{ $_->{event} }++ for @json;
ok(($ev{'mail.sent'} // 0) >= 5, 'one mail.sent line per delivery');
ok(($ev{'mail.failed'} // 0) >= 5, 'one mail.failed line per failure');
unlike($log, qr/\Q$pw\E/, 'the SMTP password is never logged');
unlike($log, qr/BODY-MARKER|retry body|slow body/, 'no mail body is logged');

# --- 8. the shared stack has no SMTP_URL: rows stay in the outbox -----------
{
	my $id = "$tag-outbox";
	Stack::psql("INSERT INTO mail_outbox (id, to_address, subject, body) VALUES ("
		. join(', ', map { sq($_) } $id, "ivy-$tag\@example.test", 'stays', 'stays') . ')');
	sleep 3;    # three ticks of the shared stack's worker
	my ($row) = Stack::psql("SELECT attempts, sent_at IS NULL, last_error IS NULL FROM mail_outbox WHERE id = " . sq($id));
	is_deeply($row, [0, 't', 't'], 'without SMTP_URL the row stays unsent and untouched');
	Stack::psql("DELETE FROM mail_outbox WHERE id = " . sq($id));
}

ok($s->down, 'the stack stops cleanly');
done_testing;
