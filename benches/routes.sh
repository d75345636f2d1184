#!/usr/bin/env bash
# Requests/s of a GET route answering 13 bytes ("Hello world!\n") from C and from Python
# through roost, beside nginx's `return 200 "Hello world!\n"` and, for reference,
# `python3 -m http.server` sending a 13-byte file. wrk -t1 -c64 -d10s each, servers
# alternating, ROUNDS rounds (default 3); roost and nginx both with 2 threads.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
rounds=${1:-3}

ensure_tools
cargo build --release -q
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  stop_nginx "$work"
  rm -rf "$work"
}
trap cleanup EXIT

lib=$PWD/target/release
cc -O2 -Wall -Wextra -Werror -I include benches/hello_route.c -L "$lib" -lroost \
  -Wl,-rpath,"$lib" -o "$work/hello_route"

# start NAME COMMAND...: runs a route server that prints its port, keeps stdin open.
declare -A port
start() {
  local name=$1
  shift
  mkfifo "$work/$name.in"
  "$@" < "$work/$name.in" > "$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  exec {fd}>"$work/$name.in"
  for _ in $(seq 200); do [ -s "$work/$name.out" ] && break; sleep 0.05; done
  port[$name]=$(head -1 "$work/$name.out")
}
start c "$work/hello_route" 0 2
start python env PYTHONPATH=bindings/python ROOST_LIBRARY="$lib/libroost.so" \
  python3 benches/hello_route.py 0 2
mkdir "$work/site" && printf 'Hello world!\n' > "$work/site/hello"
port[http.server]=$(free_port)
python3 -m http.server -b 127.0.0.1 -d "$work/site" "${port[http.server]}" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:${port[http.server]}/hello" && break; sleep 0.05; done
port[nginx]=$(free_port)
start_nginx "$work" "${port[nginx]}" 'location = /hello { default_type text/plain; return 200 "Hello world!\n"; }'

declare -A results
for _ in $(seq "$rounds"); do
  for name in c python nginx http.server; do
    results[$name]+="$(rps "http://127.0.0.1:${port[$name]}/hello") "
  done
done

printf '%-34s %12s %10s\n' server "requests/s" "vs nginx"
n=$(median <<<"${results[nginx]}")
for name in c python nginx http.server; do
  r=$(median <<<"${results[$name]}")
  label=$(case $name in c) echo "roost, C route";; python) echo "roost, Python route";; nginx) echo 'nginx, return 200';; http.server) echo 'python3 -m http.server, a file';; esac)
  printf '%-34s %12.0f %10.2f\n' "$label" "$r" "$(awk -v r="$r" -v n="$n" 'BEGIN {print r / n}')"
done
echo "(median of $rounds runs of wrk -t1 -c64 -d10s)"
for key in c python nginx http.server; do echo "  $key: ${results[$key]}"; done
awk -v c="${results[c]}" -v p="${results[python]}" 'BEGIN {
  n = split(c, cs, " "); split(p, ps, " ");
  for (i = 1; i <= n; i++) printf "%s%.2f", (i > 1 ? " " : "  Python / C route, per round: "), ps[i] / cs[i];
  print "" }'
