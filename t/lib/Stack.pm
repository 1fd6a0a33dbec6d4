package Stack;
# Test helpers for shush: HTTP requests against the shared stack (SHUSH_URL,
# started by t/run.sh), a cookie jar, psql, and private stacks for fault tests.
# Core Perl modules only.
#
#   use lib 't/lib'; use Stack;
#   my $r = Stack::req(GET => '/health');            # {status,headers,body,json}
#   my $jar = Stack::jar();
#   Stack::req(POST => '/api/auth/sign-in/email', {json => {...}, cookie => $jar,
#       headers => {Origin => Stack::url()}});
#   my $n = Stack::psql('SELECT count(*) FROM "user"');
#   my $s = Stack::private_stack(SHUSH_RATE_LIMIT_AUTH => 5);
#   $s->stop_part('pg'); $s->req(GET => '/health'); $s->start_part('pg'); $s->down;
use strict;
use warnings;
use HTTP::Tiny;
use JSON::PP ();
use IO::Socket::INET;
use File::Temp ();
use File::Spec;
use File::Basename qw(dirname);
use Cwd qw(abs_path);

our $ROOT = abs_path(File::Spec->catdir(dirname(abs_path(__FILE__)), '..', '..'));
our $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

# Variables of a stack's configuration that must not leak from the shared
# stack into a private one.
my $CONFIG_RE = qr/^(?:SHUSH_(?!BIN_DIR$)\w+|DATABASE_URL|REDIS_URL|MASTER_KEK\w*|BETTER_AUTH_\w+|SMTP_\w+)$/;

sub url {
	my $u = $ENV{SHUSH_URL};
	die "SHUSH_URL is not set: run the tests through t/run.sh (make check)\n" unless $u;
	$u =~ s{/+$}{};
	return $u;
}

my $HTTP;
sub http {
	$HTTP ||= HTTP::Tiny->new(timeout => 60, max_redirect => 0, keep_alive => 1,
		agent => 'shush-tests/1');
	return $HTTP;
}

# req(METHOD, PATH_OR_URL, {json, body, headers, cookie, base})
#   json    => data, sent as application/json (unless headers set Content-Type)
#   body    => raw bytes
#   headers => {Name => value}
#   cookie  => a jar from Stack::jar() (sent and updated) or a literal string
#   base    => base URL instead of SHUSH_URL (private stacks)
# Returns {status, reason, headers (lower-case names), body, json, content_type}.
# json is the decoded body when it parses as JSON, else undef.
sub req {
	my ($method, $path, $opt) = @_;
	$opt ||= {};
	my $base = $opt->{base} // url();
	my $u = $path =~ m{^https?://} ? $path : $base . $path;
	my %h = %{ $opt->{headers} || {} };
	my %args;
	if (exists $opt->{json}) {
		$args{content} = $JSON->encode($opt->{json});
		$h{'Content-Type'} = 'application/json' unless grep { lc eq 'content-type' } keys %h;
	} elsif (defined $opt->{body}) {
		$args{content} = $opt->{body};
	}
	my $c = $opt->{cookie};
	if (ref $c) {
		my $line = $c->header($u);
		$h{Cookie} = $line if length $line;
	} elsif (defined $c) {
		$h{Cookie} = $c;
	}
	$args{headers} = \%h;
	my $res = http()->request(uc $method, $u, \%args);
	my $r = {
		status       => $res->{status},
		reason       => $res->{reason},
		headers      => $res->{headers} || {},
		body         => $res->{content} // '',
		content_type => $res->{headers}{'content-type'} // '',
		url          => $u,
	};
	$r->{json} = eval { $JSON->decode($r->{body}) } if length $r->{body};
	$c->update($r) if ref $c;
	return $r;
}

sub get  { req(GET    => @_) }
sub post { req(POST   => @_) }
sub put  { req(PUT    => @_) }
sub patch { req(PATCH => @_) }
sub del  { req(DELETE => @_) }

# header($res, NAME): a response header (first value when repeated).
sub header {
	my ($r, $name) = @_;
	my $v = $r->{headers}{lc $name};
	return ref $v ? $v->[0] : $v;
}

sub jar { Stack::Jar->new }

sub free_port {
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
		Proto => 'tcp', Listen => 1) or die "free_port: $!";
	return $s->sockport;
}

# psql(SQL[, url]): runs SQL with psql against DATABASE_URL (or url).
# List context: rows, each an array of columns; scalar context: the output
# with the trailing newline removed ("a|b\nc|d"). Dies on error.
sub psql {
	my ($sql, $dburl) = @_;
	$dburl //= $ENV{DATABASE_URL} or die "psql: DATABASE_URL is not set\n";
	my $pid = open(my $fh, '-|');
	die "fork: $!" unless defined $pid;
	if (!$pid) {
		open(STDERR, '>&', \*STDOUT);
		exec('psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', $dburl, '-c', $sql);
		die "exec psql: $!";
	}
	local $/;
	my $out = <$fh> // '';
	close $fh;
	die "psql failed ($?): $out\n" if $?;
	$out =~ s/\n\z//;
	return $out unless wantarray;
	return map { [split /\|/, $_, -1] } grep { length } split /\n/, $out;
}

# read_env(FILE): the KEY=value lines of FILE as a hash.
sub read_env {
	my ($file) = @_;
	my %e;
	open(my $fh, '<', $file) or return %e;
	while (my $l = <$fh>) {
		chomp $l;
		next if $l =~ /^\s*(#|$)/;
		my ($k, $v) = split /=/, $l, 2;
		$e{$k} = $v if defined $v && $k =~ /^[A-Za-z_]\w*$/;
	}
	return %e;
}

# ------------------------------------------------------------ private stacks

my %LIVE;   # dir => stack, for END

# private_stack(%env): a separate stack (own dir, free ports) via stack.sh;
# %env is configuration for it (e.g. SHUSH_RATE_LIMIT_AUTH => 0). The
# shared stack's configuration is not inherited. Returns a Stack::Private.
sub private_stack {
	my (%env) = @_;
	my $parent = $ENV{SHUSH_STACK_DIR} && -d $ENV{SHUSH_STACK_DIR}
		? "$ENV{SHUSH_STACK_DIR}/private" : File::Spec->tmpdir;
	mkdir $parent unless -d $parent;
	chmod 0755, $parent;
	my $under_shared = $parent ne File::Spec->tmpdir;
	my $dir = File::Temp::tempdir('stack-XXXXXX', DIR => $parent, CLEANUP => 0);
	chmod 0755, $dir;
	my $self = bless {
		dir     => $dir,
		env     => {%env},
		port    => $env{SHUSH_HTTP_PORT} // free_port(),
		pid     => $$,
		remove  => !$under_shared,   # t/run.sh scans and removes the shared dir
		up      => 0,
	}, 'Stack::Private';
	$self->{url} = "http://127.0.0.1:$self->{port}";
	$LIVE{$dir} = $self;
	my ($ok, $out) = $self->_stack('up');
	if (!$ok) {
		$self->down;
		die "private stack did not come up:\n$out";
	}
	$self->{up} = 1;
	my %dev = read_env("$dir/run/env");
	$self->{config} = \%dev;
	return $self;
}

END {
	for my $s (values %LIVE) {
		$s->down if $s && $s->{pid} == $$;
	}
}

package Stack::Private;

sub url { $_[0]{url} }
sub dir { $_[0]{dir} }
sub port { $_[0]{port} }
# config(): the stack's effective configuration (DATABASE_URL, …) as a hash ref.
sub config { $_[0]{config} }
sub req { my $s = shift; my ($m, $p, $o) = @_; Stack::req($m, $p, { %{ $o || {} }, base => $s->{url} }) }
sub psql { my ($s, $sql) = @_; Stack::psql($sql, $s->{config}{DATABASE_URL}) }
sub log_file { my ($s, $part) = @_; "$s->{dir}/log/$part.log" }

# Runs stack.sh with a clean environment: nothing of the shared stack's
# configuration, plus this stack's %env. Returns (ok, output).
sub _stack {
	my ($s, @args) = @_;
	my %child = map { $_ => $ENV{$_} } grep { $_ !~ $CONFIG_RE } keys %ENV;
	%child = (%child, %{ $s->{env} }, SHUSH_HTTP_PORT => $s->{port});
	$child{SHUSH_BIN_DIR} //= File::Spec->catdir($ROOT, 'build');
	my $pid = open(my $fh, '-|');
	die "fork: $!" unless defined $pid;
	if (!$pid) {
		%ENV = %child;
		open(STDERR, '>&', \*STDOUT);
		chdir $ROOT;
		exec('sh', "$ROOT/scripts/stack.sh", @args, $s->{dir});
		die "exec: $!";
	}
	local $/;
	my $out = <$fh> // '';
	close $fh;
	return ($? == 0, $out);
}

sub stop_part {
	my ($s, $part) = @_;
	my ($ok, $out) = $s->_stack('stop', $part);
	die "stack.sh stop $part failed:\n$out" unless $ok;
	return 1;
}

sub start_part {
	my ($s, $part) = @_;
	my ($ok, $out) = $s->_stack('start', $part);
	die "stack.sh start $part failed:\n$out" unless $ok;
	return 1;
}

# wait_health(STATUS, SECONDS): polls /health until it answers STATUS.
sub wait_health {
	my ($s, $want, $secs) = @_;
	$want //= 200;
	my $until = time + ($secs // 30);
	while (time < $until) {
		my $r = $s->req(GET => '/health');
		return $r if $r->{status} == $want;
		select(undef, undef, undef, 0.2);
	}
	return;
}

sub down {
	my ($s) = @_;
	return if $s->{down} || $s->{pid} != $$;
	$s->{down} = 1;
	my ($ok, $out) = $s->_stack('down');
	warn "stack.sh down $s->{dir}: $out" unless $ok;
	if ($s->{remove}) {
		require File::Path;
		File::Path::remove_tree($s->{dir});
	}
	delete $LIVE{$s->{dir}};
	return $ok;
}

sub DESTROY {
	my ($s) = @_;
	local ($?, $!, $@);
	$s->down;
}

package Stack::Jar;
# A tiny cookie jar: name=value per host, Max-Age=0 / past Expires delete.

sub new { bless { c => {} }, shift }

sub _host { my ($u) = @_; $u =~ m{^\w+://([^/:]+)} ? lc $1 : '' }

sub update {
	my ($j, $r) = @_;
	my $sc = $r->{headers}{'set-cookie'} or return;
	my $host = _host($r->{url} // '');
	for my $line (ref $sc ? @$sc : ($sc)) {
		my ($pair, @attrs) = split /;\s*/, $line;
		my ($n, $v) = split /=/, $pair, 2;
		next unless defined $n && length $n;
		$v //= '';
		my $gone = 0;
		for (@attrs) {
			$gone = 1 if /^max-age=\s*(-?\d+)/i && $1 <= 0;
			$gone = 1 if /^expires=.*\b(\d{4})\b/i && $1 < (gmtime)[5] + 1900;
		}
		if ($gone) { delete $j->{c}{$host}{$n} } else { $j->{c}{$host}{$n} = $v }
	}
}

# header(URL): the Cookie header value for URL ('' when none).
sub header {
	my ($j, $u) = @_;
	my $c = $j->{c}{ _host($u // Stack::url()) } || {};
	return join '; ', map { "$_=$c->{$_}" } sort keys %$c;
}

sub get { my ($j, $name, $u) = @_; $j->{c}{ _host($u // Stack::url()) }{$name} }
sub set { my ($j, $name, $v, $u) = @_; $j->{c}{ _host($u // Stack::url()) }{$name} = $v; $j }
sub clear { $_[0]{c} = {}; $_[0] }

1;
