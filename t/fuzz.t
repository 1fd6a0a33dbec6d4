#!/usr/bin/perl
# Runs every libFuzzer target in build/fuzz for a short time (make check):
#   build/fuzz/NAME -max_total_time=N SCRATCH t/fuzz/corpus/NAME
# New inputs go to a scratch corpus (the repository's corpus is only read);
# crashes are kept in build/fuzz-artifacts/. SHUSH_FUZZ_SECONDS (default 10).
use strict;
use warnings;
use Test::More;
use File::Temp ();
use File::Path qw(make_path);
use FindBin;
use Cwd qw(abs_path);

my $root = abs_path("$FindBin::Bin/..");
my $secs = $ENV{SHUSH_FUZZ_SECONDS} || 10;
my @targets = grep { -f $_ && -x _ } glob("$root/build/fuzz/*");
plan skip_all => 'no fuzz targets in build/fuzz' unless @targets;

my $artifacts = "$root/build/fuzz-artifacts";
make_path($artifacts);
for my $bin (@targets) {
	(my $name = $bin) =~ s{.*/}{};
	my $scratch = File::Temp::tempdir("fuzz-$name-XXXXXX", TMPDIR => 1, CLEANUP => 1);
	my @corpus = ($scratch);
	push @corpus, "$root/t/fuzz/corpus/$name" if -d "$root/t/fuzz/corpus/$name";
	my $log = "$scratch.log";
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		open(STDOUT, '>', $log) or die;
		open(STDERR, '>&', \*STDOUT) or die;
		exec($bin, "-max_total_time=$secs", "-artifact_prefix=$artifacts/$name-",
			'-print_final_stats=1', @corpus);
		die "exec $bin: $!";
	}
	waitpid($pid, 0);
	my $rc = $?;
	ok($rc == 0, "fuzz $name for ${secs}s") or do {
		open(my $fh, '<', $log);
		my @l = <$fh>;
		diag("exit status $rc; last lines of $log:\n", @l > 40 ? @l[-40 .. -1] : @l);
	};
	unlink $log if $rc == 0;
}
done_testing;
