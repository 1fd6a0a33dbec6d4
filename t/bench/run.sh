#!/bin/sh
# make bench: shush's GET /health and GET /v1/me as ratios to a bare libfcgi
# responder (t/bench/baseline.c) behind the same nginx configuration,
# measured in one run with wrk, baseline and targets alternating each round.
# Numbers are reported, not asserted: exit 0 unless something failed to run.
#
#   BENCH_SECONDS  seconds per wrk run            (10)
#   BENCH_CONNS    wrk connections                (32)
#   BENCH_THREADS  wrk threads                    (2)
#   BENCH_ROUNDS   rounds of baseline,health,me   (3)
#   BENCH_WARMUP   warm-up seconds per target     (2; 0 = none)
#   BENCH_TARGETS  shush targets                  ("health me"; "" = baseline only)
#   BENCH_URL      bench an already running stack instead of starting one
#   BENCH_NGINX_CONF  the stack's rendered nginx.conf to mirror (found otherwise)
#   SHUSH_BIN_DIR  where the binaries are         (build)
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

BIN=${SHUSH_BIN_DIR:-build}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-32}
THREADS=${BENCH_THREADS:-2}
ROUNDS=${BENCH_ROUNDS:-3}
WARMUP=${BENCH_WARMUP:-2}
TARGETS=${BENCH_TARGETS-health me}
STACK=$BIN/bench-stack
WORK=$BIN/bench-baseline
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
LUA=$ROOT/t/bench/bench.lua

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

command -v wrk >/dev/null 2>&1 || die "wrk is not installed (apt-get install wrk)"
[ -x "$NGINX" ] || die "nginx is not installed"
[ -x "$BIN/t/bench/baseline" ] || die "$BIN/t/bench/baseline is not built (make all)"

rm -rf "$WORK"
mkdir -p "$WORK/tmp"
chmod 755 "$WORK"   # nginx workers (nobody, when run as root) reach the socket
SOCK=$WORK/baseline.sock
if [ ${#SOCK} -gt 100 ]; then   # sun_path is 108 bytes
	SOCKDIR=$(mktemp -d /tmp/shush-bench.XXXXXX)
	chmod 755 "$SOCKDIR"
	SOCK=$SOCKDIR/baseline.sock
fi

# --- teardown ----------------------------------------------------------------
BASELINE_PID=
BNGINX_PID=
STACK_UP=
cleanup() {
	set +e
	if [ -n "$BNGINX_PID" ]; then
		kill -QUIT "$BNGINX_PID" 2>/dev/null
		wait "$BNGINX_PID" 2>/dev/null
	fi
	if [ -n "$BASELINE_PID" ]; then
		kill -TERM "$BASELINE_PID" 2>/dev/null
		wait "$BASELINE_PID" 2>/dev/null
	fi
	if [ -n "$STACK_UP" ]; then
		run_stack down "$STACK" >"$WORK/stack-down.log" 2>&1 ||
			say "stack.sh down failed, see $WORK/stack-down.log"
	fi
	[ -n "${SOCKDIR:-}" ] && rm -rf "$SOCKDIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

run_stack() {
	if [ -x scripts/stack.sh ]; then scripts/stack.sh "$@"; else sh scripts/stack.sh "$@"; fi
}

# A loopback TCP port nobody listens on.
free_port() {
	p=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000 + 20000 ))
	while [ -n "$(ss -Htln "sport = :$p" 2>/dev/null)" ]; do p=$((p + 1)); done
	echo "$p"
}

# wait_http URL SECONDS: until URL answers 200.
wait_http() {
	i=0
	while [ "$i" -lt $(($2 * 10)) ]; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null || true)
		[ "$code" = 200 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# --- the shush stack ---------------------------------------------------------
URL=${BENCH_URL:-}
NOTE=
if [ -n "$TARGETS" ] && [ -z "$URL" ]; then
	if [ ! -f scripts/stack.sh ]; then
		NOTE="shush skipped: scripts/stack.sh does not exist yet"
		TARGETS=
	elif [ ! -x "$BIN/shushd" ]; then
		NOTE="shush skipped: $BIN/shushd is not built"
		TARGETS=
	else
		PORT=$(free_port)
		URL=http://127.0.0.1:$PORT
		say "starting the shush stack in $STACK on $URL"
		STACK_UP=1
		SHUSH_BIN_DIR=$BIN SHUSH_RATE_LIMIT_AUTH=0 SHUSH_HTTP_PORT=$PORT \
			run_stack up "$STACK" >"$WORK/stack-up.log" 2>&1 ||
			{ tail -n 30 "$WORK/stack-up.log" >&2; die "stack.sh up failed ($WORK/stack-up.log)"; }
	fi
fi
if [ -n "$TARGETS" ]; then
	URL=${URL%/}
	wait_http "$URL/health" 60 || die "$URL/health does not answer 200"
fi

# --- the baseline responder --------------------------------------------------
"$BIN/t/bench/baseline" "$SOCK" >"$WORK/baseline.log" 2>&1 &
BASELINE_PID=$!
i=0
while [ ! -S "$SOCK" ]; do
	kill -0 "$BASELINE_PID" 2>/dev/null || { cat "$WORK/baseline.log" >&2; die "baseline did not start"; }
	[ "$i" -gt 50 ] && die "baseline socket $SOCK did not appear"
	sleep 0.1
	i=$((i + 1))
done

# --- nginx for the baseline --------------------------------------------------
# Preferred: a second nginx instance running a clone of the stack's own
# rendered nginx.conf (same workers, locations, limits, logging), where only
# the listen port, the FastCGI socket, the pid file and the error log differ.
# Otherwise: t/bench/nginx-baseline.conf.in.
BPORT=$(free_port)
BURL=http://127.0.0.1:$BPORT
BPATH=${BENCH_BASELINE_PATH:-/health}
NGINX_MODE=template
PREFIX=$WORK

mirror_conf() {
	conf=${BENCH_NGINX_CONF:-}
	prefix=
	# The stack's nginx master, from its process title (nginx keeps argv).
	master=$(ps -eo args= 2>/dev/null | grep '^nginx: master process' | grep -F "$STACK" | head -n 1 || true)
	if [ -z "$conf" ] && [ -n "$master" ]; then
		conf=$(printf '%s\n' "$master" | sed -n 's/.* -c \([^ ]*\).*/\1/p')
	fi
	if [ -n "$master" ]; then
		prefix=$(printf '%s\n' "$master" | sed -n 's/.* -p \([^ ]*\).*/\1/p')
	fi
	if [ -z "$conf" ] && [ -d "$STACK" ]; then
		conf=$(grep -rl --include='*.conf' 'fastcgi_pass' "$STACK" 2>/dev/null | head -n 1 || true)
	fi
	[ -n "$conf" ] && [ -f "$conf" ] || { say "no stack nginx.conf found to mirror"; return 1; }
	[ -n "$prefix" ] || prefix=$(dirname "$conf")
	# The copy lives elsewhere: make relative includes absolute (nginx reads
	# them from the directory of the -c file), and inline the included files
	# that talk FastCGI (nginx/shush.conf), one level deep, so that the
	# socket can be swapped in the copy.
	awk -v dir="$(dirname "$conf")" '
	function abs(line,   f) {
		if (line !~ /^[ \t]*include[ \t]+[^;]+;/) return line
		f = line; sub(/^[ \t]*include[ \t]+/, "", f); sub(/;.*/, "", f)
		if (f ~ /^\//) return line
		sub(/include[ \t]+[^;]+;/, "include " dir "/" f ";", line)
		return line
	}
	{
		line = abs($0)
		if (line ~ /^[ \t]*include[ \t]+[^;*]+;/) {
			f = line; sub(/^[ \t]*include[ \t]+/, "", f); sub(/;.*/, "", f)
			body = ""; fc = 0
			while ((getline l < f) > 0) { body = body abs(l) "\n"; if (l ~ /^[ \t]*[^# \t].*(fastcgi_pass|unix:)/) fc = 1 }
			close(f)
			if (fc) { printf "# --- %s\n%s# --- end %s\n", f, body, f; next }
		}
		print line
	}' "$conf" >"$WORK/stack-nginx.conf"
	ssock=$(grep -v '^[[:space:]]*#' "$WORK/stack-nginx.conf" | grep -o 'unix:[^;[:space:]]*' |
		head -n 1 | sed 's/^unix://')
	[ -n "$ssock" ] || { say "no unix: socket in $conf (or its includes) to swap"; return 1; }
	sport=${URL##*:}
	sport=${sport%%/*}
	sed -e "s|$ssock|$SOCK|g" \
		-e "/^[[:space:]]*listen[[:space:]]/ s/\([: ]\)$sport\([; ]\)/\1$BPORT\2/" \
		-e "s|^\([[:space:]]*\)pid[[:space:]][^;]*;|\1pid $WORK/nginx.pid;|" \
		-e "/^[[:space:]]*daemon[[:space:]]/d" \
		-e "s|error_log[[:space:]]\{1,\}[^[:space:];]*|error_log $WORK/error.log|g" \
		"$WORK/stack-nginx.conf" >"$WORK/nginx.conf"
	grep -q "^[[:space:]]*pid[[:space:]]" "$WORK/nginx.conf" ||
		printf 'pid %s/nginx.pid;\n' "$WORK" >>"$WORK/nginx.conf"
	grep -q "$BPORT" "$WORK/nginx.conf" || { say "could not move the listen port in $conf"; return 1; }
	"$NGINX" -q -t -p "$prefix/" -e "$WORK/error.log" -c "$WORK/nginx.conf" -g 'daemon off;' >"$WORK/nginx-t.log" 2>&1 ||
		{ say "mirrored nginx.conf does not pass nginx -t:"; cat "$WORK/nginx-t.log" >&2; return 1; }
	PREFIX=$prefix
	NGINX_MODE="mirror of $conf"
	return 0
}

if [ -n "$TARGETS" ] && ! mirror_conf; then
	NOTE="${NOTE:+$NOTE; }baseline nginx is t/bench/nginx-baseline.conf.in, not a mirror of the stack's"
	MIRRORED=
else
	MIRRORED=${TARGETS:+1}
fi
if [ -z "$MIRRORED" ]; then
	sed -e "s|@DIR@|$WORK|g" -e "s|@PORT@|$BPORT|g" -e "s|@SOCKET@|$SOCK|g" \
		t/bench/nginx-baseline.conf.in >"$WORK/nginx.conf"
fi
# In the foreground, as our child, so that teardown can wait for it.
"$NGINX" -p "$PREFIX/" -e "$WORK/error.log" -c "$WORK/nginx.conf" -g 'daemon off;' >"$WORK/nginx.log" 2>&1 &
BNGINX_PID=$!
wait_http "$BURL$BPATH" 10 ||
	{ cat "$WORK/nginx.log" "$WORK/error.log" >&2 2>/dev/null; die "baseline $BURL$BPATH does not answer 200"; }

# --- a signed-in session for /v1/me ------------------------------------------
COOKIE=
case " $TARGETS " in
*" me "*)
	email="bench-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')@example.com"
	curl -s -o "$WORK/signup.json" -D "$WORK/signup.hdr" --max-time 30 \
		-H 'Content-Type: application/json' -H "Origin: $URL" \
		--data "{\"name\":\"Bench\",\"email\":\"$email\",\"password\":\"benchpassword1\"}" \
		"$URL/api/auth/sign-up/email" || true
	COOKIE=$(tr -d '\r' <"$WORK/signup.hdr" |
		sed -n 's/^[Ss][Ee][Tt]-[Cc][Oo][Oo][Kk][Ii][Ee]:[[:space:]]*\(\(__Secure-\)\{0,1\}better-auth\.session_token=[^;]*\).*/\1/p' |
		head -n 1)
	code=
	[ -n "$COOKIE" ] && code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $COOKIE" "$URL/v1/me" || true)
	if [ "$code" != 200 ]; then
		say "sign-up did not give a working session (GET /v1/me: ${code:-no cookie}); skipping me"
		head -n 1 "$WORK/signup.hdr" >&2 2>/dev/null || true
		NOTE="${NOTE:+$NOTE; }me skipped: no session"
		TARGETS=$(printf '%s\n' "$TARGETS" | sed 's/\bme\b//')
	fi
	;;
esac

# --- the runs ----------------------------------------------------------------
RESULTS=$WORK/results
: >"$RESULTS"

target_url() {
	case $1 in
	baseline) echo "$BURL$BPATH" ;;
	health) echo "$URL/health" ;;
	me) echo "$URL/v1/me" ;;
	*) echo "$URL$1" ;;
	esac
}

# run_one LABEL ROUND SECONDS
run_one() {
	u=$(target_url "$1")
	c=
	[ "$1" = me ] && c=$COOKIE
	out=$(BENCH_PATH='' BENCH_COOKIE=$c wrk -t"$THREADS" -c"$CONNS" -d"$3"s -s "$LUA" "$u" 2>&1) ||
		{ printf '%s\n' "$out" >&2; die "wrk failed on $u"; }
	line=$(printf '%s\n' "$out" | grep '^BENCH ' || true)
	[ -n "$line" ] || { printf '%s\n' "$out" >&2; die "no result from wrk on $u"; }
	[ "$2" = warmup ] && return 0
	say "round $2 $1: ${line#BENCH }"
	printf '%s %s %s\n' "$1" "$2" "$(printf '%s\n' "$line" | sed 's/^BENCH //; s/[a-z0-9]*=//g')" >>"$RESULTS"
}

ALL="baseline $TARGETS"
say "wrk -t$THREADS -c$CONNS, $ROUNDS rounds of ${SECS}s: $ALL"
say "baseline nginx: $NGINX_MODE"
if [ "$WARMUP" -gt 0 ]; then
	for t in $ALL; do run_one "$t" warmup "$WARMUP"; done
fi
r=1
while [ "$r" -le "$ROUNDS" ]; do
	for t in $ALL; do run_one "$t" "$r" "$SECS"; done
	r=$((r + 1))
done

# --- the table ---------------------------------------------------------------
echo
echo "shush bench: wrk -t$THREADS -c$CONNS, $ROUNDS rounds x ${SECS}s, $(nproc) cores"
echo "baseline: t/bench/baseline behind nginx ($NGINX_MODE)"
[ -n "$NOTE" ] && echo "note: $NOTE"
awk -v order="$ALL" '
function median(s,   a, n, i, j, x) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++) {
		x = a[i]; j = i - 1
		while (j >= 1 && a[j] + 0 > x + 0) { a[j + 1] = a[j]; j-- }
		a[j + 1] = x
	}
	if (n % 2) return a[(n + 1) / 2]
	return (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	t = $1; r = $2
	rps[t] = rps[t] " " $3; p50[t] = p50[t] " " $4; p99[t] = p99[t] " " $5
	non2xx[t] += $7; errs[t] += $8
	v[t, r] = $3; rounds[r] = 1
}
END {
	printf "%-10s %10s %9s %9s %8s %7s %7s\n", "target", "req/s", "p50 ms", "p99 ms", "non-2xx", "errors", "ratio"
	n = split(order, ts, " ")
	for (i = 1; i <= n; i++) {
		t = ts[i]
		if (rps[t] == "") continue
		ratios = ""
		for (r in rounds)
			if ((t, r) in v && ("baseline", r) in v && v["baseline", r] > 0)
				ratios = ratios " " v[t, r] / v["baseline", r]
		printf "%-10s %10.0f %9.2f %9.2f %8d %7d %7.3f\n", t, median(rps[t]),
			median(p50[t]) / 1000, median(p99[t]) / 1000, non2xx[t], errs[t], median(ratios)
	}
}' "$RESULTS"
echo "(medians over rounds; ratio = median of target/baseline req/s per round)"
