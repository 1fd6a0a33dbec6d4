#!/bin/sh
# `make check` after the sanitizer build: start a throwaway stack on free
# loopback ports, run every test under one `prove` (one TAP summary), scan the
# servers' logs for sanitizer reports, tear the stack down.
#
#   unit tests   build/san/t/unit/*   (executables printing TAP)
#   API tests    t/api/*.t            (Perl, t/lib/Stack.pm)
#   peer tests   t/peers/*.t          (Perl wrappers running node; npm ci first)
#   fault tests  t/fault/*.t          (private stacks via Stack::private_stack)
#   fuzzing      t/fuzz.t             (build/fuzz/* for SHUSH_FUZZ_SECONDS each)
#
# Environment: SHUSH_BIN_DIR (default build/san), SHUSH_PROVE_ARGS (extra
# prove options, e.g. "-v" or "-j4"), SHUSH_KEEP=1 keeps the stack's
# directory, SHUSH_FUZZ_SECONDS (default 10). Arguments, if any, replace the
# list of tests (e.g. `sh t/run.sh t/api/secrets.t`).
set -u
umask 022
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1

BIN=${SHUSH_BIN_DIR:-build/san}
[ -d "$BIN" ] || { echo "t/run.sh: $BIN does not exist (make SANITIZE=1)" >&2; exit 1; }
BIN=$(cd "$BIN" && pwd)

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:print_summary=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

DIR=$(mktemp -d "${TMPDIR:-/tmp}/shush-check.XXXXXX") || exit 1
chmod 0755 "$DIR"
PORT=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(LocalAddr => "127.0.0.1",
	LocalPort => 0, Proto => "tcp", Listen => 1)->sockport') || exit 1

status=1
cleanup() {
	trap '' INT TERM
	for d in "$DIR"/private/*/; do
		[ -f "$d/stack.env" ] && sh scripts/stack.sh down "$d" >/dev/null 2>&1
	done
	sh scripts/stack.sh down "$DIR" || status=1
	if [ "$status" -eq 0 ] && [ "${SHUSH_KEEP:-0}" != 1 ]; then
		rm -rf "$DIR"
	else
		# keep the logs for a look, drop the clusters
		rm -rf "$DIR/pg" "$DIR"/private/*/pg
		echo "t/run.sh: logs kept in $DIR/log" >&2
	fi
}
trap 'cleanup; exit $status' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "t/run.sh: stack in $DIR, http://127.0.0.1:$PORT" >&2
if ! SHUSH_BIN_DIR=$BIN SHUSH_HTTP_PORT=$PORT SHUSH_RATE_LIMIT_AUTH=0 \
	sh scripts/stack.sh up "$DIR"; then
	echo "t/run.sh: the stack did not come up" >&2
	exit 1
fi

# The tests see the stack's configuration (DATABASE_URL, …) and where it is.
while IFS= read -r line || [ -n "$line" ]; do
	k=${line%%=*}
	case $k in '' | [0-9]* | *[!A-Za-z0-9_]*) continue ;; esac
	export "$k=${line#*=}"
done <"$DIR/run/env"
export SHUSH_URL="http://127.0.0.1:$PORT" SHUSH_STACK_DIR="$DIR" SHUSH_BIN_DIR="$BIN"
export SHUSH_ROOT="$ROOT"

# Peer tests need their npm packages.
if [ -f t/peers/package-lock.json ] && [ ! -d t/peers/node_modules ]; then
	echo "t/run.sh: npm ci in t/peers" >&2
	(cd t/peers && npm ci --no-audit --no-fund --loglevel=error) || exit 1
fi

if [ $# -gt 0 ]; then
	set -- "$@"
else
	for f in "$BIN"/t/unit/*; do
		[ -f "$f" ] && [ -x "$f" ] && set -- "$@" "$f"
	done
	for f in t/api/*.t t/peers/*.t t/fault/*.t t/fuzz.t; do
		[ -f "$f" ] && set -- "$@" "$f"
	done
fi
[ $# -gt 0 ] || { echo "t/run.sh: no tests found" >&2; exit 1; }

# shellcheck disable=SC2086
prove -I "$ROOT/t/lib" ${SHUSH_PROVE_ARGS:-} "$@"
prove_rc=$?

# Sanitizer reports in any server's log (shared stack and private stacks).
san_rc=0
for f in "$DIR"/log/*.log "$DIR"/private/*/log/*.log; do
	[ -f "$f" ] || continue
	if grep -q -E 'runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer|SUMMARY: (Address|Undefined|Leak)Sanitizer' "$f"; then
		echo "t/run.sh: sanitizer report in $f:" >&2
		grep -n -A 30 -E 'runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer' "$f" | head -n 80 >&2
		san_rc=1
	fi
done

if [ "$prove_rc" -eq 0 ] && [ "$san_rc" -eq 0 ]; then
	status=0
	echo "t/run.sh: all tests passed"
else
	status=1
	[ "$san_rc" -eq 0 ] || echo "t/run.sh: FAILED: sanitizer reports in the servers' logs" >&2
	[ "$prove_rc" -eq 0 ] || echo "t/run.sh: FAILED: prove exit $prove_rc" >&2
fi
exit $status
