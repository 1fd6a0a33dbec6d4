#!/bin/sh
# Installs the Debian packages shush needs to build, run and test.
# Idempotent: packages already present are left alone, and apt is only
# consulted when something is missing.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-14-dev
 libfcgi-dev libpq-dev libhiredis-dev libcjson-dev libssl-dev
 libcurl4-openssl-dev liblasso3-dev liboath-dev libunistring-dev
 postgresql postgresql-contrib redis-server nginx-light
 curl wrk procps perl nodejs npm chromium"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
# nodejs from another source may already provide npm.
case " $missing " in
*" npm "*) command -v npm >/dev/null 2>&1 && missing=$(echo "$missing" | sed 's/ npm//') ;;
esac
case " $missing " in
*" nodejs "*) command -v node >/dev/null 2>&1 && missing=$(echo "$missing" | sed 's/ nodejs//') ;;
esac

[ -z "$(echo "$missing" | tr -d ' ')" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
# Debian starts the system services on install; the stack runs its own.
for s in nginx redis-server postgresql; do
	if command -v systemctl >/dev/null 2>&1; then
		systemctl stop "$s" >/dev/null 2>&1 || true
		systemctl disable "$s" >/dev/null 2>&1 || true
	fi
done
exit 0
