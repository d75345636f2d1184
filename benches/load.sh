#!/usr/bin/env bash
# Load on loopback, bounded: 10,000 concurrent connections each sending one request to
# roost with its default settings (all must be answered), then --max-connections 100
# against 150 connections (100 answered, the others closed at once). Exits 1 otherwise.
#
#   benches/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
hello_site

serve() {
  start_roost "$work" "$@"
  port=$ROOST_PORT
}

echo "== 10,000 connections, default settings"
serve
python3 benches/many_connections.py "$port" 10000 --expect 10000
kill "$ROOST_PID"; wait "$ROOST_PID" 2>/dev/null || true

echo "== --max-connections 100, 150 connections"
serve --max-connections 100
python3 benches/many_connections.py "$port" 150 --expect 100
