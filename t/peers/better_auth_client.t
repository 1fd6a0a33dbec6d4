#!/usr/bin/perl
# Peer test: runs t/peers/better_auth_client.mjs (node), which prints TAP itself.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;

if (!$ENV{SHUSH_URL}) {
	print "1..0 # SKIP no stack\n";
	exit 0;
}
my $dir = dirname(File::Spec->rel2abs(__FILE__));
if (!-d "$dir/node_modules/better-auth") {
	print "1..1\nnot ok 1 - t/peers/node_modules is missing: run npm ci in t/peers\n";
	exit 1;
}
exec 'node', "$dir/better_auth_client.mjs" or die "exec node: $!\n";
