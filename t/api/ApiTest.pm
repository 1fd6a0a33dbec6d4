package ApiTest;
# Small helpers for t/api/{auth,me,pipeline,health}.t (core modules only),
# on top of t/lib/Stack.pm (url, req, psql), adding what those tests need:
#
#   req($method, $path, {json=>…, body=>…, headers=>{…}, cookie=>'a=b',
#                        origin=>1|'http://…'})
#       -> {status, headers (lower-case names), body, json, set_cookies=>[…]}
#   raw($bytes)          one raw HTTP/1.1 exchange over a socket -> same shape
#   signup(%opt)         a fresh user: {email, password, name, token, cookie, user, res}
#   psql($sql)           runs SQL against DATABASE_URL, returns the output (-At)
#   conf($key)           $ENV{$key}, else read from $SHUSH_STACK_DIR/dev.env
#
# nginx's own limit_req (10 r/s, burst 20 on /api/auth) answers 429 before
# shushd sees the request; req() waits and retries those, so the tests
# exercise shushd and not the rate limiter.
use strict;
use warnings;
use Exporter 'import';
use FindBin ();
use IO::Socket::INET;
use JSON::PP;
use Time::HiRes qw(sleep);
use lib "$FindBin::Bin/../lib";
use Stack ();

our @EXPORT = qw(url req raw signup psql conf rand_email hdr cookie_value
  session_cookie_name session_cookie json_enc sql_quote wait_count audit_settled);

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

sub url { return Stack::url() }

# wait_count(SQL, WANT): polls a count(*) query until it reaches WANT (10 s
# at most), then a little longer to catch any extra; returns the count.
# Runtime reads reach the audit chain through the spool, shipped by
# shush-worker every 100 ms.
# audit_settled(): waits (10 s at most) until every record in the audit spool
# is in the chain: each spool file's size equals its shipped offset. 1 when
# settled.
sub audit_settled {
	my $dir = conf('SHUSH_SPOOL_DIR')
		// (defined $ENV{SHUSH_STACK_DIR} ? "$ENV{SHUSH_STACK_DIR}/spool" : undef);
	return 1 unless defined $dir && -d $dir;
	for (1 .. 200) {
		opendir(my $dh, $dir) or return 1;
		my %size = map { ($_ => -s "$dir/$_") } grep { /\.spool\z/ && !/^\./ } readdir $dh;
		closedir $dh;
		my %shipped = map { split /\|/ } grep { length } split /\n/,
			psql('SELECT name, shipped FROM audit_spool');
		return 1 unless grep { ($size{$_} // 0) != ($shipped{$_} // 0) } keys %size;
		select(undef, undef, undef, 0.05);
	}
	return 0;
}

sub wait_count {
	my ($sql, $want) = @_;
	my $n = psql($sql);
	for (1 .. 200) {
		last if $n >= $want;
		select(undef, undef, undef, 0.05);
		$n = psql($sql);
	}
	select(undef, undef, undef, 0.3);
	return psql($sql);
}

sub json_enc { return $JSON->encode($_[0]) }

my %CONF;
sub conf {
	my ($key) = @_;
	return $ENV{$key} if defined $ENV{$key} && $ENV{$key} ne '';
	if (!%CONF) {
		for my $f (grep { defined && -r } ($ENV{SHUSH_ENV_FILE},
		    defined $ENV{SHUSH_STACK_DIR} ? "$ENV{SHUSH_STACK_DIR}/dev.env" : undef)) {
			open my $fh, '<', $f or next;
			while (<$fh>) {
				chomp;
				next if /^\s*(#|$)/;
				$CONF{$1} = $2 if /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
			}
			last;
		}
		$CONF{''} = 1;
	}
	return $CONF{$key};
}

sub rand_email {
	my ($tag) = @_;
	$tag //= 't';
	my $r = join '', map { ('a' .. 'z', 0 .. 9)[int rand 36] } 1 .. 12;
	return "$tag-$$-$r\@example.com";
}

# One header's value: the first when there are several.
sub hdr {
	my ($r, $name) = @_;
	my $v = $r->{headers}{lc $name};
	return ref $v eq 'ARRAY' ? $v->[0] : $v;
}

sub _finish {
	my ($status, $headers, $body) = @_;
	my $sc = $headers->{'set-cookie'};
	my @sc = !defined $sc ? () : ref $sc eq 'ARRAY' ? @$sc : ($sc);
	my $r = { status => $status, headers => $headers, body => $body // '',
		  set_cookies => \@sc };
	my $ct = $headers->{'content-type'} // '';
	$ct = $ct->[0] if ref $ct eq 'ARRAY';
	if ($ct =~ m{json}i && length $r->{body}) {
		my $j = eval { $JSON->decode($r->{body}) };
		$r->{json} = $j;
		$r->{json_error} = $@ if $@;
	}
	return $r;
}

sub _nginx_429 {
	my ($r) = @_;
	return $r->{status} == 429 && $r->{body} =~ /retry later/;
}

sub req {
	my ($method, $path, $o) = @_;
	$o //= {};
	my %h = %{ $o->{headers} // {} };
	my $body = $o->{body};
	if (exists $o->{json}) {
		$body = ref $o->{json} ? $JSON->encode($o->{json}) : $o->{json};
		$h{'Content-Type'} //= 'application/json';
	}
	$h{'Cookie'} = $o->{cookie} if defined $o->{cookie};
	if ($o->{origin}) {
		$h{'Origin'} = $o->{origin} eq '1' ? url() : $o->{origin};
	}
	# HTTP::Tiny refuses header values outside printable ASCII: such
	# requests go over a raw socket instead.
	if (grep { defined && /[^\x20-\x7e\t]/ } values %h) {
		my ($hostport) = url() =~ m{^https?://([^/]+)};
		my $head = "$method $path HTTP/1.1\r\nHost: $hostport\r\nConnection: close\r\n";
		$head .= "$_: $h{$_}\r\n" for sort keys %h;
		$head .= 'Content-Length: ' . length($body) . "\r\n" if defined $body;
		return raw($head . "\r\n" . ($body // ''));
	}
	my $res;
	for my $try (1 .. 60) {
		my $t = Stack::req($method, $path, { headers => \%h,
			(defined $body ? (body => $body) : ()) });
		$res = _finish($t->{status}, $t->{headers}, $t->{body});
		$res->{reason} = $t->{reason};
		last unless _nginx_429($res);
		sleep 0.25;
	}
	return $res;
}

# A raw request, for what HTTP::Tiny will not send. $bytes is the whole
# request; "Connection: close" should be in it.
sub raw {
	my ($bytes) = @_;
	my ($host, $port) = url() =~ m{^http://([^/:]+)(?::(\d+))?} or die "raw: http only";
	my $res;
	for my $try (1 .. 60) {
		my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port // 80,
			Proto => 'tcp', Timeout => 30) or die "connect: $!";
		binmode $s;
		print {$s} $bytes;
		local $/;
		my $all = <$s> // '';
		close $s;
		my ($head, $body) = split /\r\n\r\n/, $all, 2;
		my @lines = split /\r\n/, $head // '';
		my ($status) = (shift(@lines) // '') =~ m{^HTTP/\d\.\d (\d{3})};
		my %h;
		for (@lines) {
			my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
			$k = lc $k;
			if (exists $h{$k}) {
				$h{$k} = [ ref $h{$k} ? @{ $h{$k} } : $h{$k}, $v ];
			} else {
				$h{$k} = $v;
			}
		}
		$res = _finish($status // 0, \%h, $body);
		last unless _nginx_429($res);
		sleep 0.25;
	}
	return $res;
}

sub session_cookie_name {
	return (url() =~ /^https:/ ? '__Secure-' : '') . 'better-auth.session_token';
}

# The value a Set-Cookie of the response gives the cookie $name (undef if none).
sub cookie_value {
	my ($r, $name) = @_;
	for my $c (@{ $r->{set_cookies} }) {
		return $1 if $c =~ /^\Q$name\E=([^;]*)/;
	}
	return undef;
}

# "name=value" for the Cookie header, from a response that set the session.
sub session_cookie {
	my ($r) = @_;
	my $v = cookie_value($r, session_cookie_name());
	return defined $v ? session_cookie_name() . "=$v" : undef;
}

sub signup {
	my (%o) = @_;
	my $email = $o{email} // rand_email($o{tag});
	my $password = $o{password} // 'correct-horse-' . int(rand 1e9);
	my $name = $o{name} // 'Test User';
	my $r = req('POST', '/api/auth/sign-up/email',
		{ json => { name => $name, email => $email, password => $password } });
	die "sign-up failed: $r->{status} $r->{body}" unless $r->{status} == 200;
	return { email => lc $email, password => $password, name => $name,
		 token => $r->{json}{token}, user => $r->{json}{user},
		 cookie => session_cookie($r), res => $r };
}

sub sql_quote { my ($s) = @_; $s =~ s/'/''/g; return "'$s'" }

sub psql {
	my ($sql) = @_;
	my $db = conf('DATABASE_URL') or die "psql: DATABASE_URL is not set";
	# Stack::psql's chomp runs under local $/ = undef and leaves the newline.
	my $out = scalar Stack::psql($sql, $db);
	$out =~ s/\n\z//;
	return $out;
}

1;
