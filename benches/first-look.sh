#!/usr/bin/env bash
# A first side-by-side look: requests/s of roost and nginx serving a 13-byte file, with
# and without 16 pipelined requests per write. Loopback only; each run 10 s.
#
#   benches/first-look.sh [ROUNDS]     (default 3 rounds; the servers alternate)
#
# Installs wrk and nginx from Debian's packages when missing. nginx runs with 2 workers,
# sendfile on, access_log off; roost with --threads 2.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

cargo build --release -q
work=$(mktemp -d)
roost_pid=
cleanup() {
  [ -n "$roost_pid" ] && kill "$roost_pid" 2>/dev/null
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/www"
printf 'Hello world!\n' > "$work/www/hello.txt"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }

nginx_port=$(free_port)
cat > "$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
  }
}
CONF
"$nginx_bin" -c "$work/nginx.conf"
wait_port "$nginx_port"

coproc ROOST { exec ./target/release/roost "$work/www" --port 0 --threads 2 2>"$work/roost.log"; }
roost_pid=$ROOST_PID
read -r line <&"${ROOST[0]}"
roost_port=${line##*:}; roost_port=${roost_port%/}

rps() { wrk -t1 -c64 -d10s "$@" | awk '/Requests\/sec/ {print $2}'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

declare -A results
for round in $(seq "$rounds"); do
  for server in roost nginx; do
    port=$([ $server = roost ] && echo "$roost_port" || echo "$nginx_port")
    results[$server-plain]+="$(rps "http://127.0.0.1:$port/hello.txt") "
    results[$server-pipe]+="$(rps -s benches/pipeline.lua "http://127.0.0.1:$port/hello.txt") "
  done
done

printf '%-28s %12s %12s %8s\n' scenario roost nginx ratio
for scenario in plain pipe; do
  r=$(tr ' ' '\n' <<<"${results[roost-$scenario]}" | grep . | median)
  n=$(tr ' ' '\n' <<<"${results[nginx-$scenario]}" | grep . | median)
  label=$([ $scenario = plain ] && echo "13 B file, c64" || echo "13 B file, c64, pipelined x16")
  printf '%-28s %12.0f %12.0f %8.2f\n' "$label" "$r" "$n" "$(awk -v r="$r" -v n="$n" 'BEGIN {print r / n}')"
done
echo "(median requests/s of $rounds runs each; runs: roost plain ${results[roost-plain]}| nginx plain ${results[nginx-plain]}| roost pipe ${results[roost-pipe]}| nginx pipe ${results[nginx-pipe]})"
