#!/usr/bin/perl
# Browser test: runs t/peers/device_browser.mjs (node + playwright-core +
# Debian's chromium), which prints TAP itself.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;

if (!$ENV{SHUSH_URL}) {
	print "1..0 # SKIP no stack\n";
	exit 0;
}
if (!-x '/usr/bin/chromium') {
	print "1..0 # SKIP /usr/bin/chromium is missing (apt-get install chromium)\n";
	exit 0;
}
my $dir = dirname(File::Spec->rel2abs(__FILE__));
if (!-d "$dir/node_modules/playwright-core") {
	print "1..1\nnot ok 1 - t/peers/node_modules/playwright-core is missing: run npm ci in t/peers\n";
	exit 1;
}
exec 'node', "$dir/device_browser.mjs" or die "exec node: $!\n";
