#!/usr/bin/env bash
# slowhttptest against roost (loopback only): slowloris (-H: heads trickled forever) and
# slow body (-B: bodies trickled forever), 1,000 connections each, for DURATION seconds
# (default 60). Meanwhile a probe fetches a file every 0.5 s and counts failures: roost
# must stay available throughout (exit 1 otherwise). Installs slowhttptest from Debian's
# packages if needed.
#
#   benches/slowhttptest.sh [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
duration=${1:-60}
command -v slowhttptest >/dev/null ||
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slowhttptest >/dev/null; }
hello_site
start_roost "$work"
port=$ROOST_PORT
url="http://127.0.0.1:$port/hello.txt"

probe() {
  local ok=0 failed=0 slowest=0
  local end=$((SECONDS + duration))
  while [ $SECONDS -lt $end ]; do
    t=$(curl -s -o /dev/null -m 5 -w '%{http_code} %{time_total}' "$url" || echo "000 5")
    if [ "${t%% *}" = 200 ]; then ok=$((ok + 1)); else failed=$((failed + 1)); fi
    slowest=$(awk -v a="$slowest" -v b="${t##* }" 'BEGIN {print (b > a ? b : a)}')
    sleep 0.5
  done
  echo "probe: $ok answered, $failed failed, slowest ${slowest}s"
  [ "$failed" = 0 ]
}

status=0
for mode in "-H" "-B"; do
  name=$([ "$mode" = -H ] && echo "slowloris (-H)" || echo "slow body (-B)")
  echo "== $name, 1000 connections, ${duration}s"
  extra=()
  [ "$mode" = -B ] && extra=(-t POST -s 8192)
  slowhttptest "$mode" -c 1000 -i 5 -r 500 -x 24 -p 3 -l "$duration" -u "$url" "${extra[@]}" \
    -g -o "$work/report" >"$work/slow.log" 2>&1 &
  slow=$!
  probe || status=1
  wait "$slow" || true
  grep -E "service available|Exit status|closed|pending|connected" "$work/slow.log" | tail -6
done
[ "$status" = 0 ] || echo "FAILED: the probe was refused or timed out during an attack"
exit "$status"
