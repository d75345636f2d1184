#!/usr/bin/env bash
# roost side by side with nginx, lighttpd, h2o, libmicrohttpd and a trivial epoll server:
# requests/s, server CPU per request, memory per idle connection. Installs what it needs
# from Debian's packages when missing, builds roost (release) and the peer programs, then
# runs benches/compare.py, which prints the table. Loopback only.
#
#   benches/compare.sh [--rounds N] [--duration S] [--only TEXT] [--servers A,B] [--idle N]
#
# Defaults: 7 rounds of 4 s per scenario and server (about 20 minutes in all), 10,000
# idle connections.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v taskset >/dev/null || need+=(util-linux)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || need+=(nginx-light)
[ -x /usr/sbin/lighttpd ] || command -v lighttpd >/dev/null || need+=(lighttpd)
command -v h2o >/dev/null || need+=(h2o)
[ -f /usr/include/microhttpd.h ] || need+=(libmicrohttpd-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
export PATH=$PATH:/usr/sbin

cargo build --release -q
work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
lib=$PWD/target/release
cflags=(-O2 -Wall -Wextra -Werror)
cc "${cflags[@]}" -I include benches/hello_route.c -L "$lib" -lroost -Wl,-rpath,"$lib" \
  -o "$work/hello_route"
cc "${cflags[@]}" benches/peers/trivial_server.c -o "$work/trivial_server"
cc "${cflags[@]}" benches/peers/mhd_hello.c -lmicrohttpd -o "$work/mhd_hello"
python3 benches/compare.py "$work" "$@"
