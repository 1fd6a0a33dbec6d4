#!/bin/sh
# shush local stack: a private PostgreSQL cluster, Redis, the migrations,
# shushd, shush-worker and nginx, all under one directory.
#
#   scripts/stack.sh up DIR            start everything, wait for /health
#   scripts/stack.sh down DIR          stop everything (idempotent)
#   scripts/stack.sh stop PART DIR     stop one part   (pg redis shushd worker nginx)
#   scripts/stack.sh start PART DIR    start one part again
#   scripts/stack.sh status DIR        which parts are running
#
# Environment read by `up`:
#   SHUSH_HTTP_PORT   nginx's loopback port (default 8080)
#   SHUSH_BIN_DIR     directory holding shushd and shush-worker (default build)
#   SHUSH_PG_PORT     PostgreSQL port   } free loopback ports are picked when
#   SHUSH_REDIS_PORT  Redis port        } unset, and remembered in DIR/stack.env
#   SHUSH_STACK_TIMEOUT  seconds to wait for /health (default 30)
#
# DIR/dev.env is generated once (mode 0600): the stack's configuration as
# KEY=value lines. A configuration variable set in the caller's environment
# overrides it; the effective configuration of the last `up` is kept in
# DIR/run/env (0600) so that `start PART` brings a part back as it was.
# DIR/stack.env records the ports, the binaries and the URL.
#
# Layout: DIR/pg (cluster, owned by the postgres user when run as root),
# DIR/redis, DIR/nginx (rendered nginx.conf, pid, temp), DIR/run (pidfiles,
# shushd.sock), DIR/log (one log per part).
#
# PostgreSQL refuses to run as root: when started as root the cluster is run
# as SHUSH_PG_USER (default postgres) through runuser, and DIR's parent
# directories are made traversable (o+x) for it and for nginx's workers.
set -eu
umask 022

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROG=stack

say() { echo "$PROG: $*" >&2; }
die() { echo "$PROG: $*" >&2; exit 1; }

usage() {
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# ------------------------------------------------------------------ helpers

# Configuration variables shushd / shush-worker read (lib/config.c), besides
# any KEY in dev.env. Set in the caller's environment, they override dev.env.
CONFIG_NAMES="DATABASE_URL REDIS_URL MASTER_KEK_B64 MASTER_KEK_PREVIOUS_B64
 BETTER_AUTH_SECRET BETTER_AUTH_URL BETTER_AUTH_TRUSTED_ORIGINS SHUSH_SOCKET
 SHUSH_SOCKET_MODE SHUSH_WORKERS SHUSH_RATE_LIMIT_AUTH SHUSH_RATE_LIMIT_CODES
 SHUSH_LOG_LEVEL SHUSH_DB_TIMEOUT SMTP_URL SMTP_FROM SHUSH_SCHEMA_DIR
 SHUSH_DEK_CACHE_SECONDS SHUSH_SPOOL_DIR SHUSH_SPOOL_CATCHUP_MB"

is_root() { [ "$(id -u)" -eq 0 ]; }

# kv FILE KEY: the value of KEY in a KEY=value file (last one wins).
kv() {
	[ -f "$1" ] || return 0
	sed -n "s/^$2=//p" "$1" | tail -n 1
}

# set_kv FILE KEY VALUE: replace (or append) KEY=VALUE, keeping the mode.
set_kv() {
	_f=$1
	K=$2 V=$3 awk 'BEGIN { k = ENVIRON["K"]; done = 0 }
		index($0, k "=") == 1 { print k "=" ENVIRON["V"]; done = 1; next }
		{ print }
		END { if (!done) print k "=" ENVIRON["V"] }' "$_f" >"$_f.tmp"
	cat "$_f.tmp" >"$_f"
	rm -f "$_f.tmp"
}

is_set() { eval "[ -n \"\${$1+x}\" ]"; }

valid_name() {
	case $1 in
	'' | [0-9]* | *[!A-Za-z0-9_]*) return 1 ;;
	esac
	return 0
}

# load_env FILE: export each KEY=value of FILE that is not already set.
load_env() {
	[ -f "$1" ] || return 0
	while IFS= read -r _line || [ -n "$_line" ]; do
		case $_line in '' | '#'*) continue ;; esac
		_k=${_line%%=*}
		_v=${_line#*=}
		valid_name "$_k" || continue
		is_set "$_k" || export "$_k=$_v"
	done <"$1"
}

# free_ports N: N distinct free loopback TCP ports.
free_ports() {
	perl -MIO::Socket::INET -e '
		my @s;
		for (1 .. $ARGV[0]) {
			my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0,
				Proto => "tcp", Listen => 1) or die "no free port: $!\n";
			push @s, $s;
		}
		print join(" ", map { $_->sockport } @s), "\n";' "$1"
}

port_free() {
	perl -MIO::Socket::INET -e '
		IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
			Proto => "tcp", Listen => 1, ReuseAddr => 1) or exit 1;' "$1"
}

# alive PIDFILE PATTERN: the process of PIDFILE runs and its command line
# contains PATTERN (guards against a recycled pid); zombies count as dead.
alive() {
	[ -s "$1" ] || return 1
	_apid=$(head -n 1 "$1" 2>/dev/null | tr -cd 0-9)
	[ -n "$_apid" ] || return 1
	ALIVE_PID=$_apid
	pid_alive "$_apid" || return 1
	if [ -r "/proc/$_apid/cmdline" ]; then
		tr '\0' ' ' 2>/dev/null <"/proc/$_apid/cmdline" | grep -q -- "$2" || return 1
	fi
	return 0
}

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	if [ -r "/proc/$1/stat" ]; then
		_state=$(sed 's/^.*) //' 2>/dev/null <"/proc/$1/stat" | cut -c1)
		[ "$_state" != Z ] || return 1
	fi
	return 0
}

# stop_pid PIDFILE PATTERN SIGNAL TIMEOUT NAME: signal, wait, then SIGKILL
# the whole process group (the daemons run in their own session).
stop_pid() {
	_pf=$1 _pat=$2 _sig=$3 _t=$4 _name=$5
	if ! alive "$_pf" "$_pat"; then
		rm -f "$_pf"
		return 0
	fi
	_pid=$ALIVE_PID
	kill -s "$_sig" "$_pid" 2>/dev/null || true
	_n=0
	while pid_alive "$_pid"; do
		_n=$((_n + 1))
		if [ "$_n" -gt $((_t * 10)) ]; then
			say "$_name (pid $_pid) did not stop in ${_t}s, killing it"
			kill -s KILL -- "-$_pid" 2>/dev/null || kill -s KILL "$_pid" 2>/dev/null || true
			sleep 0.2
			break
		fi
		sleep 0.1
	done
	# Children left behind in its process group (e.g. workers of a dead
	# master): a moment to exit on their own, then SIGKILL.
	_n=0
	while kill -0 -- "-$_pid" 2>/dev/null; do
		_n=$((_n + 1))
		if [ "$_n" -gt 20 ]; then
			say "$_name: killing processes left in group $_pid"
			kill -s KILL -- "-$_pid" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
	rm -f "$_pf"
}

wait_for() { # SECONDS COMMAND...: poll COMMAND every 0.1 s
	_t=$1
	shift
	_n=0
	until "$@" >/dev/null 2>&1; do
		_n=$((_n + 1))
		[ "$_n" -le $((_t * 10)) ] || return 1
		sleep 0.1
	done
}

log_tail() {
	for _f in "$@"; do
		[ -s "$_f" ] || continue
		echo "---- tail of $_f" >&2
		tail -n 25 "$_f" >&2
	done
}

# -------------------------------------------------------------- locations

setup_paths() {
	[ -n "${1:-}" ] || usage
	mkdir -p "$1"
	DIR=$(cd "$1" && pwd)
	PGDIR=$DIR/pg
	PGDATA=$PGDIR/data
	RUN=$DIR/run
	LOG=$DIR/log
	NGX=$DIR/nginx
	STACK_ENV=$DIR/stack.env
	DEV_ENV=$DIR/dev.env
	EFF_ENV=$RUN/env
	PG_USER=${SHUSH_PG_USER:-postgres}
	if [ -n "${SHUSH_PG_BIN:-}" ]; then
		PG_BIN=$SHUSH_PG_BIN
	else
		PG_BIN=
		for _d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
			if [ -x "$_d/initdb" ]; then PG_BIN=$_d; break; fi
		done
		if [ -z "$PG_BIN" ]; then
			_i=$(command -v initdb 2>/dev/null || true)
			[ -n "$_i" ] || die "PostgreSQL server binaries (initdb) not found; run scripts/install-deps.sh"
			PG_BIN=$(dirname "$_i")
		fi
	fi
}

make_dirs() {
	mkdir -p "$PGDIR" "$DIR/redis" "$NGX/tmp" "$RUN" "$LOG"
	chmod 0755 "$DIR" "$RUN" "$LOG" "$NGX"
	touch "$LOG/pg.log"
	if is_root; then
		id "$PG_USER" >/dev/null 2>&1 || die "user $PG_USER does not exist (PostgreSQL cannot run as root; set SHUSH_PG_USER)"
		chown "$PG_USER" "$PGDIR" "$LOG/pg.log"
		[ ! -d "$PGDATA" ] || chown -R "$PG_USER" "$PGDATA"
		chmod 0700 "$PGDIR"
		make_traversable
	fi
}

# PostgreSQL (as PG_USER) and nginx's workers (nobody) must reach DIR.
make_traversable() {
	_d=$DIR
	while [ "$_d" != / ] && [ -n "$_d" ]; do
		if ! runuser -u nobody -- test -x "$_d" 2>/dev/null; then
			say "note: chmod o+x $_d (PostgreSQL and nginx's workers must traverse it)"
			chmod o+x "$_d"
		fi
		_d=$(dirname "$_d")
	done
}

as_pg() {
	if is_root; then
		runuser -u "$PG_USER" -- "$@"
	else
		"$@"
	fi
}

# -------------------------------------------------------- configuration

# Decide the ports and binaries (up), write stack.env.
decide_stack() {
	OLD_HTTP=$(kv "$STACK_ENV" SHUSH_HTTP_PORT)
	OLD_PG=$(kv "$STACK_ENV" SHUSH_PG_PORT)
	OLD_REDIS=$(kv "$STACK_ENV" SHUSH_REDIS_PORT)
	OLD_DIR=$(kv "$STACK_ENV" SHUSH_STACK_DIR)

	HTTP_PORT=${SHUSH_HTTP_PORT:-8080}
	PG_PORT=${SHUSH_PG_PORT:-$OLD_PG}
	REDIS_PORT=${SHUSH_REDIS_PORT:-$OLD_REDIS}
	if [ -z "$PG_PORT" ] || [ -z "$REDIS_PORT" ]; then
		# shellcheck disable=SC2046
		set -- $(free_ports 3)
		for _p in "$@"; do
			[ "$_p" != "$HTTP_PORT" ] || continue
			if [ -z "$PG_PORT" ]; then PG_PORT=$_p
			elif [ -z "$REDIS_PORT" ] && [ "$_p" != "$PG_PORT" ]; then REDIS_PORT=$_p
			fi
		done
	fi
	for _p in "$HTTP_PORT" "$PG_PORT" "$REDIS_PORT"; do
		case $_p in '' | *[!0-9]*) die "bad port '$_p'" ;; esac
	done

	_b=${SHUSH_BIN_DIR:-build}
	[ -d "$_b" ] || die "SHUSH_BIN_DIR $_b: no such directory (build first: make)"
	BIN_DIR=$(cd "$_b" && pwd)
	for _x in shushd shush-worker; do
		[ -x "$BIN_DIR/$_x" ] || die "$BIN_DIR/$_x: not built (make)"
	done

	cat >"$STACK_ENV.tmp" <<EOF
SHUSH_STACK_DIR=$DIR
SHUSH_HTTP_PORT=$HTTP_PORT
SHUSH_PG_PORT=$PG_PORT
SHUSH_REDIS_PORT=$REDIS_PORT
SHUSH_BIN_DIR=$BIN_DIR
SHUSH_URL=http://127.0.0.1:$HTTP_PORT
EOF
	mv "$STACK_ENV.tmp" "$STACK_ENV"
}

# Read the stack as the last `up` left it (start/stop/down).
read_stack() {
	[ -f "$STACK_ENV" ] || die "$DIR is not a stack (no stack.env; run: $0 up $DIR)"
	HTTP_PORT=$(kv "$STACK_ENV" SHUSH_HTTP_PORT)
	PG_PORT=$(kv "$STACK_ENV" SHUSH_PG_PORT)
	REDIS_PORT=$(kv "$STACK_ENV" SHUSH_REDIS_PORT)
	BIN_DIR=$(kv "$STACK_ENV" SHUSH_BIN_DIR)
}

derived() { # KEY HTTP PG REDIS DIR: the value dev.env gets for KEY
	case $1 in
	DATABASE_URL) echo "postgresql://shush@127.0.0.1:$3/shush" ;;
	REDIS_URL) echo "redis://127.0.0.1:$4/0" ;;
	BETTER_AUTH_URL) echo "http://127.0.0.1:$2" ;;
	SHUSH_SOCKET) echo "$5/run/shushd.sock" ;;
	esac
}

random_b64() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }
random_hex() { head -c "$1" /dev/urandom | od -An -v -tx1 | tr -d ' \n'; }

# dev.env: generated once; the values derived from ports/paths follow them
# when they change (unless edited by hand).
write_dev_env() {
	if [ ! -f "$DEV_ENV" ]; then
		(
			umask 077
			cat >"$DEV_ENV.tmp" <<EOF
DATABASE_URL=$(derived DATABASE_URL "$HTTP_PORT" "$PG_PORT" "$REDIS_PORT" "$DIR")
REDIS_URL=$(derived REDIS_URL "$HTTP_PORT" "$PG_PORT" "$REDIS_PORT" "$DIR")
MASTER_KEK_B64=$(random_b64 32)
BETTER_AUTH_SECRET=$(random_hex 32)
BETTER_AUTH_URL=$(derived BETTER_AUTH_URL "$HTTP_PORT" "$PG_PORT" "$REDIS_PORT" "$DIR")
SHUSH_SOCKET=$(derived SHUSH_SOCKET "$HTTP_PORT" "$PG_PORT" "$REDIS_PORT" "$DIR")
SHUSH_SOCKET_MODE=0666
EOF
			mv "$DEV_ENV.tmp" "$DEV_ENV"
		)
		chmod 0600 "$DEV_ENV"
		say "generated $DEV_ENV"
		return 0
	fi
	chmod 0600 "$DEV_ENV"
	[ -n "$OLD_PG" ] || return 0
	for _k in DATABASE_URL REDIS_URL BETTER_AUTH_URL SHUSH_SOCKET; do
		_old=$(derived "$_k" "$OLD_HTTP" "$OLD_PG" "$OLD_REDIS" "${OLD_DIR:-$DIR}")
		_new=$(derived "$_k" "$HTTP_PORT" "$PG_PORT" "$REDIS_PORT" "$DIR")
		_cur=$(kv "$DEV_ENV" "$_k")
		if [ "$_cur" = "$_old" ] && [ "$_cur" != "$_new" ]; then
			set_kv "$DEV_ENV" "$_k" "$_new"
			say "dev.env: $_k follows the stack: $_new"
		fi
	done
}

# The effective configuration: caller's environment over dev.env. Written to
# DIR/run/env for `start PART` and for the test harness.
write_effective_env() {
	load_env "$DEV_ENV"
	is_set SHUSH_SCHEMA_DIR || export SHUSH_SCHEMA_DIR="$ROOT/schema/db"
	is_set SHUSH_SPOOL_DIR || export SHUSH_SPOOL_DIR="$DIR/spool"
	_names=$(
		{
			for _n in $CONFIG_NAMES; do echo "$_n"; done
			sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' "$DEV_ENV"
			env | sed -n 's/^\(SHUSH_[A-Za-z0-9_]*\)=.*/\1/p'
		} | sort -u | grep -v -E '^SHUSH_(HTTP_PORT|PG_PORT|REDIS_PORT|BIN_DIR|URL|STACK_DIR|STACK_TIMEOUT|PG_USER|PG_BIN)$'
	)
	(
		umask 077
		: >"$EFF_ENV.tmp"
		for _n in $_names; do
			is_set "$_n" || continue
			eval "_v=\${$_n}"
			printf '%s=%s\n' "$_n" "$_v" >>"$EFF_ENV.tmp"
		done
		mv "$EFF_ENV.tmp" "$EFF_ENV"
	)
}

load_effective_env() {
	if [ -f "$EFF_ENV" ]; then
		load_env "$EFF_ENV"
	fi
	load_env "$DEV_ENV"
	is_set SHUSH_SCHEMA_DIR || export SHUSH_SCHEMA_DIR="$ROOT/schema/db"
	is_set SHUSH_SPOOL_DIR || export SHUSH_SPOOL_DIR="$DIR/spool"
}

# ------------------------------------------------------------------ parts

pg_running() { as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }

psql_admin() {
	"$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres "$@"
}

start_pg() {
	if [ ! -s "$PGDATA/PG_VERSION" ]; then
		say "initdb $PGDATA"
		rm -rf "$PGDATA"
		if ! as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --no-locale \
			>>"$LOG/pg.log" 2>&1; then
			log_tail "$LOG/pg.log"
			die "initdb failed"
		fi
		as_pg sh -c "cat >>'$PGDATA/postgresql.conf'" <<EOF

# --- shush local stack
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 300
synchronous_commit = off
shared_buffers = 64MB
EOF
	fi
	if pg_running; then
		return 0
	fi
	port_free "$PG_PORT" || die "PostgreSQL port $PG_PORT is in use"
	if ! as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$LOG/pg.log" -w -t 60 \
		-o "-p $PG_PORT" start >/dev/null 2>&1; then
		log_tail "$LOG/pg.log"
		die "PostgreSQL did not start"
	fi
	if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'shush'")" != 1 ]; then
		psql_admin -c "CREATE ROLE shush LOGIN"
	fi
	if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'shush'")" != 1 ]; then
		psql_admin -c "CREATE DATABASE shush OWNER shush"
	fi
}

stop_pg() {
	[ -s "$PGDATA/PG_VERSION" ] || return 0
	pg_running || return 0
	as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null 2>&1 ||
		{ say "pg_ctl stop failed"; log_tail "$LOG/pg.log"; return 1; }
}

redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

start_redis() {
	alive "$RUN/redis.pid" redis-server && return 0
	port_free "$REDIS_PORT" || die "Redis port $REDIS_PORT is in use"
	rm -f "$RUN/redis.pid"
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes \
		--pidfile "$RUN/redis.pid" --logfile "$LOG/redis.log" --dir "$DIR/redis" \
		--save "" --appendonly no --protected-mode yes </dev/null >/dev/null 2>>"$LOG/redis.log" ||
		{ log_tail "$LOG/redis.log"; die "Redis did not start"; }
	wait_for 15 redis_ping || { log_tail "$LOG/redis.log"; die "Redis does not answer on port $REDIS_PORT"; }
}

stop_redis() { stop_pid "$RUN/redis.pid" redis-server TERM 15 redis; }

# spawn NAME LOGFILE CMD...: a daemon in its own session, pid in RUN/NAME.pid.
spawn() {
	_name=$1 _log=$2
	shift 2
	(
		cd "$ROOT"
		if command -v setsid >/dev/null 2>&1; then
			exec setsid "$@" </dev/null >>"$_log" 2>&1
		fi
		exec "$@" </dev/null >>"$_log" 2>&1
	) &
	echo $! >"$RUN/$_name.pid"
}

socket_ready() { [ -S "$SHUSH_SOCKET" ]; }

start_shushd() {
	load_effective_env
	alive "$RUN/shushd.pid" shushd && return 0
	: "${SHUSH_SOCKET:?SHUSH_SOCKET is not set}"
	[ ${#SHUSH_SOCKET} -le 107 ] || die "socket path too long for a unix socket (${#SHUSH_SOCKET} > 107): $SHUSH_SOCKET (use a shorter DIR)"
	rm -f "$SHUSH_SOCKET"
	spawn shushd "$LOG/shushd.log" "$BIN_DIR/shushd"
	_n=0
	until socket_ready; do
		if ! alive "$RUN/shushd.pid" shushd; then
			log_tail "$LOG/shushd.log"
			die "shushd exited"
		fi
		_n=$((_n + 1))
		[ "$_n" -le 300 ] || { log_tail "$LOG/shushd.log"; die "shushd did not create $SHUSH_SOCKET"; }
		sleep 0.1
	done
}

stop_shushd() { stop_pid "$RUN/shushd.pid" shushd TERM 30 shushd; }

start_worker() {
	load_effective_env
	alive "$RUN/worker.pid" shush-worker && return 0
	spawn worker "$LOG/worker.log" "$BIN_DIR/shush-worker"
	sleep 0.3
	alive "$RUN/worker.pid" shush-worker || { log_tail "$LOG/worker.log"; die "shush-worker exited"; }
}

stop_worker() { stop_pid "$RUN/worker.pid" shush-worker TERM 30 shush-worker; }

render_nginx() {
	load_effective_env
	_user=
	is_root && _user="user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"
	_rate=10r/s
	[ "${SHUSH_RATE_LIMIT_AUTH:-}" != 0 ] || _rate=10000r/s
	_rate=${SHUSH_NGINX_AUTH_RATE:-$_rate}
	# sed with | as the separator: paths must not contain it.
	sed -e "/^[[:space:]]*#/b" -e "s|@USER_LINE@|$_user|" \
		-e "s|@PREFIX@|$NGX|g" \
		-e "s|@LOG_DIR@|$LOG|g" \
		-e "s|@HTTP_PORT@|$HTTP_PORT|g" \
		-e "s|@AUTH_RATE@|$_rate|g" \
		-e "s|@SOCKET@|$SHUSH_SOCKET|g" \
		-e "s|@SHUSH_CONF@|$NGX/shush.conf|g" \
		"$ROOT/nginx/dev.conf.in" >"$NGX/nginx.conf"
	# The file operators include, with its static pages served from the
	# repository's web/ instead of the installed copy.
	sed -e "s|root /usr/local/share/shush/web;|root $ROOT/web;|" \
		"$ROOT/nginx/shush.conf" >"$NGX/shush.conf"
	grep -q "root $ROOT/web;" "$NGX/shush.conf" || die "nginx/shush.conf: no 'root /usr/local/share/shush/web;' line to point at $ROOT/web"
}

# shellcheck disable=SC2120
nginx_cmd() { nginx -p "$NGX/" -c "$NGX/nginx.conf" -e "$LOG/nginx-error.log" "$@"; }

start_nginx() {
	alive "$NGX/nginx.pid" nginx && return 0
	render_nginx
	port_free "$HTTP_PORT" || die "HTTP port $HTTP_PORT is in use (set SHUSH_HTTP_PORT)"
	rm -f "$NGX/nginx.pid"
	if ! nginx_cmd </dev/null >>"$LOG/nginx-error.log" 2>&1; then
		log_tail "$LOG/nginx-error.log"
		die "nginx did not start"
	fi
	wait_for 10 alive "$NGX/nginx.pid" nginx || { log_tail "$LOG/nginx-error.log"; die "nginx did not start"; }
}

stop_nginx() { stop_pid "$NGX/nginx.pid" nginx QUIT 15 nginx; }

health() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$HTTP_PORT/health")" = 200 ]
}

bin_step() { # NAME: shushd check / shushd migrate, output on failure
	load_effective_env
	if ! (cd "$ROOT" && "$BIN_DIR/shushd" "$1") >>"$LOG/$1.log" 2>&1; then
		log_tail "$LOG/$1.log"
		die "shushd $1 failed"
	fi
}

start_part() {
	case $1 in
	pg) start_pg ;;
	redis) start_redis ;;
	shushd) start_shushd ;;
	worker) start_worker ;;
	nginx) start_nginx ;;
	*) die "unknown part '$1' (pg redis shushd worker nginx)" ;;
	esac
}

stop_part() {
	case $1 in
	pg) stop_pg ;;
	redis) stop_redis ;;
	shushd) stop_shushd ;;
	worker) stop_worker ;;
	nginx) stop_nginx ;;
	*) die "unknown part '$1' (pg redis shushd worker nginx)" ;;
	esac
}

# --------------------------------------------------------------- commands

cmd_up() {
	setup_paths "$1"
	make_dirs
	decide_stack
	write_dev_env
	write_effective_env
	start_pg
	start_redis
	bin_step check
	bin_step migrate
	start_shushd
	start_worker
	start_nginx
	_t=${SHUSH_STACK_TIMEOUT:-30}
	if ! wait_for "$_t" health; then
		say "/health did not answer 200 within ${_t}s on port $HTTP_PORT"
		log_tail "$LOG"/*.log
		exit 1
	fi
	say "up: http://127.0.0.1:$HTTP_PORT (pg $PG_PORT, redis $REDIS_PORT, dir $DIR)"
}

cmd_down() {
	[ -d "$1" ] || return 0
	setup_paths "$1"
	[ -f "$STACK_ENV" ] || return 0
	read_stack
	_rc=0
	stop_nginx || _rc=1
	stop_worker || _rc=1
	stop_shushd || _rc=1
	stop_redis || _rc=1
	stop_pg || _rc=1
	return $_rc
}

cmd_status() {
	setup_paths "$1"
	read_stack
	load_effective_env
	for _p in pg redis shushd worker nginx; do
		case $_p in
		pg) pg_running && _s=running || _s=stopped ;;
		redis) alive "$RUN/redis.pid" redis-server && _s=running || _s=stopped ;;
		shushd) alive "$RUN/shushd.pid" shushd && _s=running || _s=stopped ;;
		worker) alive "$RUN/worker.pid" shush-worker && _s=running || _s=stopped ;;
		nginx) alive "$NGX/nginx.pid" nginx && _s=running || _s=stopped ;;
		esac
		echo "$_p $_s"
	done
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
up) [ $# -eq 1 ] || usage; cmd_up "$1" ;;
down) [ $# -eq 1 ] || usage; cmd_down "$1" ;;
status) [ $# -eq 1 ] || usage; cmd_status "$1" ;;
start | stop)
	[ $# -eq 2 ] || usage
	setup_paths "$2"
	read_stack
	[ "$cmd" = stop ] || make_dirs
	"${cmd}_part" "$1"
	;;
-h | --help | help) usage ;;
*) usage ;;
esac
