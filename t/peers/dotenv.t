#!/usr/bin/perl
# Peer test: runs t/peers/dotenv.mjs (node), which prints TAP itself. It needs
# no stack, only the unit binary $SHUSH_BIN_DIR/t/unit/dotenv (default
# build/san) and the dotenv package in t/peers/node_modules.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;

my $dir = dirname(File::Spec->rel2abs(__FILE__));
if (!-d "$dir/node_modules/dotenv") {
	print "1..1\nnot ok 1 - t/peers/node_modules/dotenv is missing: run npm ci in t/peers\n";
	exit 1;
}
exec 'node', "$dir/dotenv.mjs" or die "exec node: $!\n";
