#!/usr/bin/env bash
# A first side-by-side look: requests/s of roost and nginx serving a 13-byte file, with
# and without 16 pipelined requests per write. Loopback only; each run 10 s.
#
#   benches/first-look.sh [ROUNDS]     (default 3 rounds; the servers alternate)
#
# nginx runs with 2 workers, sendfile on, access_log off; roost with --threads 2.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
rounds=${1:-3}

ensure_tools
cargo build --release -q
work=$(mktemp -d)
roost_pid=
cleanup() {
  [ -n "$roost_pid" ] && kill "$roost_pid" 2>/dev/null
  stop_nginx "$work"
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/www"
printf 'Hello world!\n' > "$work/www/hello.txt"

nginx_port=$(free_port)
start_nginx "$work" "$nginx_port" "root $work/www;"

start_roost "$work/www" --threads 2
roost_pid=$ROOST_PID
roost_port=$ROOST_PORT

declare -A results
for _ in $(seq "$rounds"); do
  for server in roost nginx; do
    port=$([ $server = roost ] && echo "$roost_port" || echo "$nginx_port")
    results[$server-plain]+="$(rps "http://127.0.0.1:$port/hello.txt") "
    results[$server-pipe]+="$(rps "http://127.0.0.1:$port/hello.txt" -s benches/pipeline.lua) "
  done
done

printf '%-30s %10s %10s %8s\n' scenario roost nginx ratio
for scenario in plain pipe; do
  r=$(median <<<"${results[roost-$scenario]}")
  n=$(median <<<"${results[nginx-$scenario]}")
  label=$([ $scenario = plain ] && echo "13 B file, c64" || echo "13 B file, c64, pipelined x16")
  printf '%-30s %10.0f %10.0f %8.2f\n' "$label" "$r" "$n" "$(awk -v r="$r" -v n="$n" 'BEGIN {print r / n}')"
done
echo "(median requests/s of $rounds runs each)"
for key in "${!results[@]}"; do echo "  $key: ${results[$key]}"; done | sort
