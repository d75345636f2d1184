#!/usr/bin/env bash
# Load on loopback, bounded: 10,000 concurrent connections each sending one request to
# roost with its default settings (all must be answered), then --max-connections 100
# against 150 connections (100 answered, the others closed at once). Exits 1 otherwise.
#
#   benches/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
cargo build --release -q
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
printf 'Hello world!\n' > "$work/hello.txt"
ulimit -n "$(ulimit -Hn)"

serve() {
  start_roost "$work" "$@"
  pid=$ROOST_PID
  port=$ROOST_PORT
}

echo "== 10,000 connections, default settings"
serve
python3 benches/many_connections.py "$port" 10000 --expect 10000
kill "$pid"; wait "$pid" 2>/dev/null || true

echo "== --max-connections 100, 150 connections"
serve --max-connections 100
python3 benches/many_connections.py "$port" 150 --expect 100
