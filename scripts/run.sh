#!/bin/sh
# `make run`: bring the local stack up under ./var, print its URL, stay in the
# foreground until SIGINT/SIGTERM, then bring it down. Data in ./var is kept
# between runs. Environment: see scripts/stack.sh (SHUSH_HTTP_PORT, …); any
# configuration variable set here overrides var/dev.env.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DIR=var
STACK="sh $ROOT/scripts/stack.sh"

sleeper=
stopping=0
stop() {
	[ "$stopping" -eq 0 ] || return 0
	stopping=1
	trap '' INT TERM
	[ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null || true
	echo >&2
	echo "shush: stopping" >&2
	$STACK down "$DIR" || { echo "shush: some parts did not stop cleanly" >&2; exit 1; }
	echo "shush: stopped" >&2
	exit 0
}
trap stop INT TERM

if ! $STACK up "$DIR"; then
	echo "shush: the stack did not come up (logs in $DIR/log/)" >&2
	trap '' INT TERM
	$STACK down "$DIR" || true
	exit 1
fi
port=$(sed -n 's/^SHUSH_HTTP_PORT=//p' "$DIR/stack.env")
echo "shush is running at http://127.0.0.1:$port"
echo "  configuration: $DIR/dev.env   logs: $DIR/log/   stop: Ctrl-C"

# Stay in the foreground; `wait` returns as soon as a trapped signal arrives.
while :; do
	sleep 3600 &
	sleeper=$!
	wait "$sleeper" || true
	sleeper=
done
