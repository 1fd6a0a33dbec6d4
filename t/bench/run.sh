#!/bin/sh
# make bench: shush's targets as ratios to a bare libfcgi responder
# (t/bench/baseline.c) behind the same nginx configuration, measured in one
# run with wrk, baseline and targets alternating each round.
# Numbers are reported, not asserted: exit 0 unless something failed to run.
#
# Targets:
#   health         GET /health
#   me             GET /v1/me (signed-in session)
#   secret-create  POST …/secrets, a new key every request  (secret-create.lua)
#   secret-update  PATCH one of 64 secrets in turn, a new version every request
#                  (secret-update.lua)
#   export-1000    GET …/secrets/export?format=dotenv of an environment of
#                  1,000 secrets (imported once); brings along baseline-export,
#                  the bare responder answering a body of the export's size
#   runtime-10, runtime-100, runtime-1000
#                  GET /runtime/v1/secrets with an environment key, of an
#                  environment of 10, 100 or 1,000 secrets (32-byte values),
#                  8 keys of that environment in turn (runtime.lua)
#   runtime-1key   the same on runtime-10's environment with one key only
#   runtime-10k-keys  the same over 10,000 keys of 1,002 environments (334
#                  projects x 3, 10 secrets each), the keys in turn
#                  The runtime targets run with wrk -c$BENCH_RT_CONNS and are
#                  set against baseline-rt: the bare responder through the
#                  same nginx location (/runtime/v1/), same connections, same
#                  script and keys.
#   anything else  a path on the stack, e.g. /v1/orgs/me
#
#   BENCH_SECONDS  seconds per wrk run            (10)
#   BENCH_CONNS    wrk connections                (32)
#   BENCH_RT_CONNS wrk connections, runtime targets (64)
#   BENCH_THREADS  wrk threads                    (2)
#   BENCH_ROUNDS   rounds of baseline + targets   (3)
#   BENCH_WARMUP   warm-up seconds per target     (2; 0 = none)
#   BENCH_WARMUP_10K  warm-up seconds of runtime-10k-keys (10)
#   BENCH_PAUSE    seconds of rest before each wrk run (2)
#   BENCH_TARGETS  shush targets                  (all of the above; "" = baseline only)
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
PAUSE=${BENCH_PAUSE:-2}
TARGETS=${BENCH_TARGETS-health me secret-create secret-update export-1000 runtime-10 runtime-100 runtime-1000 runtime-1key runtime-10k-keys}
RT_CONNS=${BENCH_RT_CONNS:-64}
STACK=$BIN/bench-stack
WORK=$BIN/bench-baseline
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
LUADIR=$ROOT/t/bench
LUA=$LUADIR/bench.lua
UPDATE_SET=64        # secrets that secret-update rotates through
EXPORT_N=1000        # secrets in the exported environment
EXPORT_ENV=development
RT_ENV=development   # the runtime targets' environment (runtime-N)
RT_KEYS=8            # keys of that environment runtime-N takes in turn
RT_PATH=/runtime/v1/secrets
K10_PROJECTS=334     # runtime-10k-keys: projects x 3 environments,
K10_SECRETS=10       #   secrets in each environment,
K10_KEYS=10000       #   keys spread over the environments

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
note() { NOTE="${NOTE:+$NOTE; }$*"; }

has_target() { case " $TARGETS " in *" $1 "*) return 0 ;; esac; return 1; }
# drop_target NAME...: take targets out of TARGETS (their setup failed).
drop_target() {
	keep=
	for t in $TARGETS; do
		d=
		for x in "$@"; do [ "$t" = "$x" ] && d=1; done
		[ -n "$d" ] || keep="$keep $t"
	done
	TARGETS=${keep# }
}

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
		say "starting a fresh shush stack in $STACK on $URL"
		# Every run from nothing: what an earlier run left (its rows, its
		# 10,000 keys, an audit spool not chained yet) weighs on no figure.
		run_stack down "$STACK" >/dev/null 2>&1 || true
		rm -rf "$STACK"
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
STACK_ERRLOG=

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
	STACK_ERRLOG=$(grep -v '^[[:space:]]*#' "$WORK/stack-nginx.conf" |
		sed -n 's/^[[:space:]]*error_log[[:space:]]\{1,\}\([^[:space:];]*\).*/\1/p' | head -n 1)
	case $STACK_ERRLOG in /*) ;; ?*) STACK_ERRLOG=$prefix/$STACK_ERRLOG ;; esac
	return 0
}

if [ -n "$TARGETS" ] && ! mirror_conf; then
	note "baseline nginx is t/bench/nginx-baseline.conf.in, not a mirror of the stack's"
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

# --- a signed-in session (me and the vault targets) ---------------------------
COOKIE=
RUNTIME_TARGETS="runtime-10 runtime-100 runtime-1000 runtime-1key runtime-10k-keys"
SESSION_TARGETS="me secret-create secret-update export-1000 $RUNTIME_TARGETS"
VAULT_TARGETS="secret-create secret-update export-1000 $RUNTIME_TARGETS"
need_session=
for t in $SESSION_TARGETS; do has_target "$t" && need_session=1; done
if [ -n "$need_session" ]; then
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
		say "sign-up did not give a working session (GET /v1/me: ${code:-no cookie}); skipping $SESSION_TARGETS"
		head -n 1 "$WORK/signup.hdr" >&2 2>/dev/null || true
		for t in $SESSION_TARGETS; do has_target "$t" && note "$t skipped: no session"; done
		drop_target $SESSION_TARGETS
	fi
fi

# --- the vault: an org, one project per write target, the exported environment
# api METHOD PATH [CURL ARGS...]: a signed-in call; the body goes to
# $WORK/api.out, the status to stdout ("000" when curl fails).
api() {
	m=$1 p=$2
	shift 2
	curl -s -o "$WORK/api.out" -w '%{http_code}' --max-time 60 -X "$m" \
		-H "Cookie: $COOKIE" -H "Origin: $URL" -H 'Accept: application/json' "$@" "$URL$p" ||
		true
}
json() { api "$1" "$2" -H 'Content-Type: application/json' --data "$3"; }
# The first "id" of the last answer (the object's own: the nested ones come later).
last_id() { grep -o '"id":"[^"]*"' "$WORK/api.out" | head -n 1 | sed 's/^"id":"//; s/"$//'; }
# setup_failed WHAT TARGETS...: report the answer, drop the targets.
setup_failed() {
	what=$1
	shift
	say "$what failed (HTTP $code): $(head -c 300 "$WORK/api.out" 2>/dev/null)"
	for t in "$@"; do has_target "$t" && note "$t skipped: $what failed (HTTP $code)"; done
	drop_target "$@"
}
# new_project NAME: its id in PROJECT_ID ("" when the create failed).
new_project() {
	PROJECT_ID=
	code=$(json POST /v1/projects "{\"name\":\"$1\"}")
	[ "$code" = 201 ] && PROJECT_ID=$(last_id)
	[ -n "$PROJECT_ID" ]
}

P_CREATE='' P_UPDATE='' P_EXPORT='' UPDATE_IDS='' EXPORT_BYTES='' EXPORT_LINES=''
need_vault=
for t in $VAULT_TARGETS; do has_target "$t" && need_vault=1; done
if [ -n "$need_vault" ]; then
	code=$(json POST /v1/orgs '{"name":"Bench"}')
	[ "$code" = 201 ] || setup_failed "POST /v1/orgs" $VAULT_TARGETS
fi
if has_target secret-create; then
	new_project "Bench create" || setup_failed "POST /v1/projects" secret-create
	P_CREATE=$PROJECT_ID
fi
if has_target secret-update; then
	new_project "Bench update" || setup_failed "POST /v1/projects" secret-update
	P_UPDATE=$PROJECT_ID
fi
if has_target secret-update; then
	i=1
	while [ "$i" -le "$UPDATE_SET" ]; do
		code=$(json POST "/v1/projects/$P_UPDATE/secrets" \
			"{\"key\":\"BENCH_U_$i\",\"values\":{\"$EXPORT_ENV\":\"initial-value-of-bench-secret-$i\"}}")
		[ "$code" = 201 ] || break
		UPDATE_IDS="$UPDATE_IDS $(last_id)"
		i=$((i + 1))
	done
	[ "$code" = 201 ] || setup_failed "POST /v1/projects/:id/secrets" secret-update
fi
if has_target export-1000; then
	new_project "Bench export" || setup_failed "POST /v1/projects" export-1000
	P_EXPORT=$PROJECT_ID
fi
if has_target export-1000; then
	# BENCH_EXPORT_0001..1000, each a 32-byte alphanumeric value: 51 bytes a line.
	awk -v n="$EXPORT_N" -v seed="$$" 'BEGIN {
		a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
		srand(seed)
		for (i = 1; i <= n; i++) {
			v = ""
			for (j = 0; j < 32; j++) v = v substr(a, int(rand() * 62) + 1, 1)
			printf "BENCH_EXPORT_%04d=%s\n", i, v
		}
	}' >"$WORK/export-1000.env"
	code=$(api POST "/v1/projects/$P_EXPORT/secrets/import?environment=$EXPORT_ENV" \
		-H 'Content-Type: text/plain' --data-binary "@$WORK/export-1000.env")
	if [ "$code" != 200 ] || ! grep -q "\"created\":${EXPORT_N}[,}]" "$WORK/api.out"; then
		setup_failed "import of $EXPORT_N secrets" export-1000
	else
		say "imported: $(cat "$WORK/api.out")"
		code=$(api GET "/v1/projects/$P_EXPORT/secrets/export?environment=$EXPORT_ENV&format=dotenv")
		cp "$WORK/api.out" "$WORK/export-1000.out"
		EXPORT_BYTES=$(wc -c <"$WORK/export-1000.out" | tr -d ' ')
		EXPORT_LINES=$(grep -c '^BENCH_EXPORT_' "$WORK/export-1000.out" || true)
		if [ "$code" != 200 ] || [ "$EXPORT_LINES" != "$EXPORT_N" ]; then
			setup_failed "export (got $EXPORT_LINES of $EXPORT_N keys)" export-1000
		elif ! cmp -s "$WORK/export-1000.env" "$WORK/export-1000.out"; then
			say "the export differs from the imported file (see $WORK/export-1000.{env,out})"
			note "export-1000: export is not byte-identical to the imported file"
		fi
	fi
fi
if has_target export-1000; then
	got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 10 \
		"$BURL/v1/bench/export?bytes=$EXPORT_BYTES" || true)
	[ "$got" = "200 $EXPORT_BYTES" ] ||
		die "baseline-export answered \"$got\", not \"200 $EXPORT_BYTES\" (is $BIN/t/bench/baseline up to date? make all)"
fi

# --- the runtime targets: environments of N secrets and their keys ------------
# gen_env FILE N PREFIX: N dotenv lines PREFIX_0001=<32 alphanumerics>.
gen_env() {
	awk -v n="$2" -v p="$3" -v seed="$$$2" 'BEGIN {
		a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
		srand(seed)
		for (i = 1; i <= n; i++) {
			v = ""
			for (j = 0; j < 32; j++) v = v substr(a, int(rand() * 62) + 1, 1)
			printf "%s_%04d=%s\n", p, i, v
		}
	}' >"$1"
}
# runtime_get KEY: GET /runtime/v1/secrets with KEY into $WORK/api.out, the
# status to stdout.
runtime_get() {
	curl -s -o "$WORK/api.out" -w '%{http_code}' --max-time 30 \
		-H "Authorization: Bearer $1" "$URL$RT_PATH" || true
}
# runtime_check KEY N PREFIX: the key reads 200 with N secrets PREFIX_….
runtime_check() {
	code=$(runtime_get "$1")
	got=$(grep -o "\"$3_[0-9]*\":" "$WORK/api.out" | wc -l | tr -d ' ')
	[ "$code" = 200 ] && [ "$got" = "$2" ] && return 0
	say "runtime read with ${1%"${1#??????????????}"}… gave HTTP $code, $got of $2 secrets"
	return 1
}
# Many signed-in calls in one curl process (keep-alive: ~1 ms a call instead
# of a process each). bulk_cfg writes a curl -K file from lines
# "PATH<TAB>CONTENT-TYPE<TAB>DATA-OPTION" on stdin; bulk runs it, one line
# "BODY<TAB>STATUS" an answer, in order.
bulk_cfg() {
	awk -F '\t' -v url="$URL" -v cookie="$COOKIE" 'NR > 1 { print "next" } {
		printf "url = \"%s%s\"\nrequest = \"POST\"\n", url, $1
		printf "header = \"Cookie: %s\"\nheader = \"Origin: %s\"\n", cookie, url
		printf "header = \"Accept: application/json\"\nheader = \"Content-Type: %s\"\n", $2
		printf "%s\nmax-time = 60\nwrite-out = \"\\t%%{http_code}\\n\"\n", $3
	}'
}
bulk() { curl -s -K "$1" >"$2" 2>"$2.err" || true; }
# ok_lines OUT STATUS: how many answers had STATUS.
ok_lines() { grep -c "	$2\$" "$1" || true; }

RT_SETUP=''
# runtime_env N NAME: a project with N secrets in $RT_ENV and $RT_KEYS keys
# of it, in $WORK/keys-NAME.txt (one a line).
runtime_env() {
	new_project "Bench $2" || { setup_failed "POST /v1/projects" "$2"; return 1; }
	gen_env "$WORK/$2.env" "$1" BENCH_RT
	code=$(api POST "/v1/projects/$PROJECT_ID/secrets/import?environment=$RT_ENV" \
		-H 'Content-Type: text/plain' --data-binary "@$WORK/$2.env")
	if [ "$code" != 200 ] || ! grep -q "\"created\":$1[,}]" "$WORK/api.out"; then
		setup_failed "import of $1 secrets" "$2"
		return 1
	fi
	: >"$WORK/keys-$2.txt"
	k=1
	while [ "$k" -le "$RT_KEYS" ]; do
		code=$(json POST "/v1/projects/$PROJECT_ID/api-keys" "{\"name\":\"bench-$k\",\"environment\":\"$RT_ENV\"}")
		[ "$code" = 201 ] || { setup_failed "POST /v1/projects/:id/api-keys" "$2"; return 1; }
		grep -o '"key":"shush_[A-Za-z0-9]*"' "$WORK/api.out" | sed 's/^"key":"//; s/"$//' >>"$WORK/keys-$2.txt"
		k=$((k + 1))
	done
	[ "$(wc -l <"$WORK/keys-$2.txt")" -eq "$RT_KEYS" ] ||
		{ code=201; setup_failed "reading the keys of POST /v1/projects/:id/api-keys" "$2"; return 1; }
	while read -r key; do
		runtime_check "$key" "$1" BENCH_RT ||
			{ setup_failed "GET $RT_PATH ($1 secrets)" "$2"; return 1; }
	done <"$WORK/keys-$2.txt"
	bytes=$(wc -c <"$WORK/api.out" | tr -d ' ')
	RT_SETUP="${RT_SETUP:+$RT_SETUP; }$2: $1 secrets, $bytes-byte body, $RT_KEYS keys"
	return 0
}
for n in 10 100 1000; do
	t=runtime-$n
	[ "$t" = runtime-10 ] && has_target runtime-1key && ! has_target runtime-10 && t=runtime-10-env
	if has_target "$t" || [ "$t" = runtime-10-env ]; then
		if runtime_env "$n" "$t"; then
			[ "$t" = runtime-10-env ] && mv "$WORK/keys-$t.txt" "$WORK/keys-runtime-10.txt"
		elif [ "$n" = 10 ]; then
			has_target runtime-1key && setup_failed "runtime-10's environment" runtime-1key
		fi
	fi
done
if has_target runtime-1key; then
	head -n 1 "$WORK/keys-runtime-10.txt" >"$WORK/keys-runtime-1key.txt"
	RT_SETUP="${RT_SETUP:+$RT_SETUP; }runtime-1key: runtime-10's environment, 1 key"
fi

# runtime-10k-keys: K10_PROJECTS projects (3 environments each), K10_SECRETS
# secrets imported into every environment, K10_KEYS keys created through
# POST /v1/projects/:id/api-keys, key i for environment i mod environments
# (so that consecutive keys are of different environments).
K10_NOTE=''
k10_setup() {
	t0=$(date +%s)
	awk -v n="$K10_PROJECTS" 'BEGIN { for (i = 1; i <= n; i++)
		printf "/v1/projects\tapplication/json\tdata = \"{\\\"name\\\":\\\"Bench keys %04d\\\"}\"\n", i }' |
		bulk_cfg >"$WORK/k10-projects.cfg"
	bulk "$WORK/k10-projects.cfg" "$WORK/k10-projects.out"
	grep '	201$' "$WORK/k10-projects.out" | sed 's/^{"id":"\([^"]*\)".*/\1/' | grep -v '[{"]' >"$WORK/k10-projects.txt" || true
	got=$(wc -l <"$WORK/k10-projects.txt" | tr -d ' ')
	[ "$got" = "$K10_PROJECTS" ] || { code="$got of $K10_PROJECTS 201"; setup_failed "creating $K10_PROJECTS projects" runtime-10k-keys; return 1; }
	t1=$(date +%s)
	gen_env "$WORK/k10.env" "$K10_SECRETS" BENCH_K
	awk -v env="$WORK/k10.env" '{ for (e = 1; e <= 3; e++)
		printf "/v1/projects/%s/secrets/import?environment=%s\ttext/plain\tdata-binary = \"@%s\"\n",
			$1, (e == 1 ? "development" : e == 2 ? "staging" : "production"), env }' \
		"$WORK/k10-projects.txt" | bulk_cfg >"$WORK/k10-import.cfg"
	bulk "$WORK/k10-import.cfg" "$WORK/k10-import.out"
	# The secrets are the project's: the first import creates them, the
	# next two give them values in their environments ("updated").
	got=$(grep '	200$' "$WORK/k10-import.out" | grep -c "\"created\":$K10_SECRETS,\|\"updated\":$K10_SECRETS," || true)
	[ "$got" = $((K10_PROJECTS * 3)) ] || { code="$got of $((K10_PROJECTS * 3)) 200"; setup_failed "importing into $((K10_PROJECTS * 3)) environments" runtime-10k-keys; return 1; }
	t2=$(date +%s)
	awk -v n="$K10_KEYS" '{ p[NR - 1] = $1 } END {
		ne = NR * 3
		for (i = 0; i < n; i++) {
			e = i % ne
			printf "/v1/projects/%s/api-keys\tapplication/json\tdata = \"{\\\"name\\\":\\\"bench-%05d\\\",\\\"environment\\\":\\\"%s\\\"}\"\n",
				p[int(e / 3)], i, (e % 3 == 0 ? "development" : e % 3 == 1 ? "staging" : "production")
		}
	}' "$WORK/k10-projects.txt" | bulk_cfg >"$WORK/k10-keys.cfg"
	bulk "$WORK/k10-keys.cfg" "$WORK/k10-keys.out"
	grep '	201$' "$WORK/k10-keys.out" | grep -o '"key":"shush_[A-Za-z0-9]*"' |
		sed 's/^"key":"//; s/"$//' >"$WORK/keys-runtime-10k-keys.txt" || true
	got=$(wc -l <"$WORK/keys-runtime-10k-keys.txt" | tr -d ' ')
	[ "$got" = "$K10_KEYS" ] || { code="$got of $K10_KEYS 201"; setup_failed "creating $K10_KEYS keys" runtime-10k-keys; return 1; }
	t3=$(date +%s)
	# Spot checks: the first and last keys and some in between.
	for key in $(awk -v n="$K10_KEYS" 'NR == 1 || NR == n || NR % 997 == 0' "$WORK/keys-runtime-10k-keys.txt"); do
		runtime_check "$key" "$K10_SECRETS" BENCH_K ||
			{ setup_failed "GET $RT_PATH with a key of runtime-10k-keys" runtime-10k-keys; return 1; }
	done
	K10_NOTE="runtime-10k-keys: $K10_PROJECTS projects x 3 = $((K10_PROJECTS * 3)) environments of $K10_SECRETS secrets, $K10_KEYS keys created through POST /v1/projects/:id/api-keys (one curl, keep-alive): projects $((t1 - t0))s, imports $((t2 - t1))s, keys $((t3 - t2))s"
	say "$K10_NOTE"
	return 0
}
if has_target runtime-10k-keys; then k10_setup || true; fi
# baseline-rt: the same script and keys as the runtime targets (the bare
# responder ignores them).
RT_BASE_KEYS=''
for t in runtime-10 runtime-100 runtime-1000 runtime-1key runtime-10k-keys; do
	if has_target "$t" && [ -z "$RT_BASE_KEYS" ]; then RT_BASE_KEYS=$WORK/keys-$t.txt; fi
done

# --- the runs ----------------------------------------------------------------
RESULTS=$WORK/results
: >"$RESULTS"

EXPORT_PATH="/v1/projects/$P_EXPORT/secrets/export?environment=$EXPORT_ENV&format=dotenv"
target_url() {
	case $1 in
	baseline) echo "$BURL$BPATH" ;;
	# Through the same location as the export (/v1/ in the mirror).
	baseline-export) echo "$BURL/v1/bench/export?bytes=$EXPORT_BYTES" ;;
	baseline-rt) echo "$BURL$RT_PATH" ;;
	runtime-*) echo "$URL$RT_PATH" ;;
	health) echo "$URL/health" ;;
	me) echo "$URL/v1/me" ;;
	secret-create | secret-update) echo "$URL/" ;;
	export-1000) echo "$URL$EXPORT_PATH" ;;
	*) echo "$URL$1" ;;
	esac
}

# run_one LABEL ROUND SECONDS
run_one() {
	# What the previous target left in flight (a 1,000-secret export
	# takes a quarter of a second) finishes before this one starts.
	sleep "$PAUSE"
	u=$(target_url "$1")
	c='' lua=$LUA proj='' ids='' keys='' conns=$CONNS
	case $1 in
	baseline | baseline-export | health) ;;
	baseline-rt) lua=$LUADIR/runtime.lua keys=$RT_BASE_KEYS conns=$RT_CONNS ;;
	runtime-*) lua=$LUADIR/runtime.lua keys=$WORK/keys-$1.txt conns=$RT_CONNS ;;
	secret-create) c=$COOKIE lua=$LUADIR/secret-create.lua proj=$P_CREATE ;;
	secret-update) c=$COOKIE lua=$LUADIR/secret-update.lua proj=$P_UPDATE ids=$UPDATE_IDS ;;
	*) c=$COOKIE ;;
	esac
	out=$(BENCH_PATH='' BENCH_COOKIE=$c BENCH_ORIGIN=$URL BENCH_PROJECT=$proj \
		BENCH_SECRET_IDS=$ids BENCH_RUN=$2 BENCH_ENV=$EXPORT_ENV BENCH_THREADS=$THREADS \
		BENCH_KEYS_FILE=$keys BENCH_LUA_DIR=$LUADIR wrk -t"$THREADS" -c"$conns" -d"$3"s -s "$lua" "$u" 2>&1) ||
		{ printf '%s\n' "$out" >&2; die "wrk failed on $u"; }
	line=$(printf '%s\n' "$out" | grep '^BENCH ' || true)
	[ -n "$line" ] || { printf '%s\n' "$out" >&2; die "no result from wrk on $u"; }
	[ "$2" = warmup ] && return 0
	say "round $2 $1 (-c$conns): ${line#BENCH }"
	printf '%s %s %s %s\n' "$1" "$2" "$(printf '%s\n' "$line" | sed 's/^BENCH //; s/[a-z0-9]*=//g')" "$conns" >>"$RESULTS"
}

# Lines of nginx's "an upstream response is buffered to a temporary file" in
# an error log: a response larger than fastcgi_buffers that nginx spooled to
# disk, which would weigh on the export and not on the baseline.
spooled() {
	if [ -n "$1" ] && [ -r "$1" ]; then
		grep -c 'upstream response is buffered to a temporary file' "$1" || true
	else
		echo '?'
	fi
}
# spooled_since LOG BEFORE: how many more than BEFORE ("?" when unknown).
spooled_since() {
	now=$(spooled "$1")
	case $now$2 in *'?'*) echo '?' ;; *) echo $((now - $2)) ;; esac
}
SPOOL0_STACK=$(spooled "$STACK_ERRLOG")
SPOOL0_BASE=$(spooled "$WORK/error.log")

ALL=baseline
[ -n "$RT_BASE_KEYS" ] && ALL="$ALL baseline-rt"
for t in $TARGETS; do
	[ "$t" = export-1000 ] && ALL="$ALL baseline-export"
	ALL="$ALL $t"
done
say "wrk -t$THREADS -c$CONNS (runtime: -c$RT_CONNS), $ROUNDS rounds of ${SECS}s: $ALL"
say "baseline nginx: $NGINX_MODE"
if [ "$WARMUP" -gt 0 ]; then
	for t in $ALL; do
		# 10,000 keys need a pass or two before every worker has met
		# each of them: the target is the warm path, not the first read.
		w=$WARMUP
		[ "$t" = runtime-10k-keys ] && [ "${BENCH_WARMUP_10K:-10}" -gt "$w" ] && w=${BENCH_WARMUP_10K:-10}
		run_one "$t" warmup "$w"
	done
fi
r=1
while [ "$r" -le "$ROUNDS" ]; do
	for t in $ALL; do run_one "$t" "$r" "$SECS"; done
	r=$((r + 1))
done

# --- the table ---------------------------------------------------------------
echo
echo "shush bench: wrk -t$THREADS -c$CONNS (runtime targets and baseline-rt: -c$RT_CONNS), $ROUNDS rounds x ${SECS}s, $(nproc) cores"
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
# The median over rounds of t/b (req/s, or p99 with the array q).
function ratio(t, b) { return ratio_of(v, t, b) }
function p99ratio(t, b) { return ratio_of(q, t, b) }
function ratio_of(x, t, b,   r, s) {
	s = ""
	for (r in rounds)
		if ((t, r) in x && (b, r) in x && x[b, r] > 0)
			s = s " " x[t, r] / x[b, r]
	return s == "" ? -1 : median(s)
}
# What a target is set against: the runtime targets against the bare
# responder through /runtime/v1/ at the same connections and wrk script.
function ref(t) { return (t ~ /^runtime-/ && rps["baseline-rt"] != "") ? "baseline-rt" : "baseline" }
function verdict(x, goal, below) {
	if (x < 0) return "n/a"
	return (below ? x <= goal : x >= goal) ? "met" : "MISSED"
}
{
	t = $1; r = $2
	rps[t] = rps[t] " " $3; p50[t] = p50[t] " " $4; p99[t] = p99[t] " " $5
	non2xx[t] += $7; errs[t] += $8; conns[t] = $9
	v[t, r] = $3; q[t, r] = $5; rounds[r] = 1
}
END {
	printf "%-16s %6s %9s %8s %8s %7s %6s  %-11s %6s %6s\n", "target", "conns", "req/s", "p50 ms", "p99 ms",
		"non-2xx", "errors", "vs", "ratio", "p99 x"
	n = split(order, ts, " ")
	for (i = 1; i <= n; i++) {
		t = ts[i]
		if (rps[t] == "") continue
		b = t == "baseline" ? "" : ref(t)
		if (b == "")
			printf "%-16s %6d %9.0f %8.2f %8.2f %7d %6d  %-11s %6s %6s\n", t, conns[t], median(rps[t]),
				median(p50[t]) / 1000, median(p99[t]) / 1000, non2xx[t], errs[t], "-", "-", "-"
		else
			printf "%-16s %6d %9.0f %8.2f %8.2f %7d %6d  %-11s %6.3f %6.2f\n", t, conns[t], median(rps[t]),
				median(p50[t]) / 1000, median(p99[t]) / 1000, non2xx[t], errs[t], b, ratio(t, b), p99ratio(t, b)
	}
	print "(medians over rounds; ratio = median of the per-round target/vs req/s, p99 x = median of the per-round target/vs p99)"
	if (rps["export-1000"] != "" && rps["baseline-export"] != "")
		printf "export-1000 / baseline-export (same body size, same nginx): %.3f\n",
			ratio("export-1000", "baseline-export")
	nt = 0
	split("runtime-10 0.80 runtime-100 0.70 runtime-1000 0.40 runtime-1key - runtime-10k-keys -", g, " ")
	for (i = 1; i <= 9; i += 2) {
		t = g[i]
		if (rps[t] == "") continue
		if (!nt++) print "runtime targets of issue 5 (reported, not asserted):"
		r = ratio(t, ref(t)); p = p99ratio(t, ref(t))
		if (g[i + 1] == "-")
			printf "  %-16s ratio %.3f (no target)           p99 %.2fx %s (target <= 1.3x: %s)\n", t, r, p, ref(t), verdict(p, 1.3, 1)
		else
			printf "  %-16s ratio %.3f (target >= %s: %-6s)  p99 %.2fx %s (target <= 1.3x: %s)\n", t, r, g[i + 1],
				verdict(r, g[i + 1] + 0, 0), p, ref(t), verdict(p, 1.3, 1)
	}
	if (rps["runtime-10k-keys"] != "" && rps["runtime-1key"] != "") {
		r = ratio("runtime-10k-keys", "runtime-1key")
		printf "  runtime-10k-keys / runtime-1key: %.3f (target >= 0.90: %s)\n", r, verdict(r, 0.9, 0)
	}
}' "$RESULTS"
[ -n "$RT_SETUP" ] && echo "runtime setup: $RT_SETUP"
[ -n "$K10_NOTE" ] && echo "$K10_NOTE"
if has_target export-1000 || has_target runtime-1000; then
	[ -n "$EXPORT_BYTES" ] && has_target export-1000 &&
		echo "export-1000: body $EXPORT_BYTES bytes, $EXPORT_LINES keys, dotenv; baseline-export answers $EXPORT_BYTES bytes"
	# nginx keeps fastcgi_buffer_size + fastcgi_buffers in memory, then spools to
	# disk; the defaults (one page + 8 pages: 36 KiB on x86-64) hold less than the
	# export. Say which buffers apply and whether anything was spooled.
	# (in the mirrored nginx.conf or the files it includes: nginx/shush.conf)
	incs=$(grep -v '^[[:space:]]*#' "$WORK/nginx.conf" |
		sed -n 's/^[[:space:]]*include[[:space:]]\{1,\}\([^;*]*\);.*/\1/p' | grep '^/' || true)
	bufs=$(cat "$WORK/nginx.conf" $incs 2>/dev/null | grep -v '^[[:space:]]*#' | grep -o 'fastcgi_buffer[_a-z]*[[:space:]][^;]*' |
		sort -u | tr '\n' ',' | sed 's/,$//; s/,/, /g')
	echo "nginx: ${bufs:-fastcgi_buffer_size, fastcgi_buffers at the defaults (4k + 8 x 4k)}"
	echo "responses nginx spooled to temp files during the runs: shush $(spooled_since "$STACK_ERRLOG" "$SPOOL0_STACK"), baseline $(spooled_since "$WORK/error.log" "$SPOOL0_BASE")"
fi
