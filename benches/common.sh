# Shared by the bench scripts: tools, a throwaway nginx, ports, medians. Source it.

# Installs wrk and nginx from Debian's packages when missing.
ensure_tools() {
  local need=()
  command -v wrk >/dev/null || need+=(wrk)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
  for _ in $(seq 200); do
    (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return
    sleep 0.05
  done
  echo "port $1 never opened" >&2
  exit 1
}

# start_nginx WORKDIR PORT SERVER_BLOCK_BODY: 2 workers, sendfile, access_log off.
start_nginx() {
  cat > "$1/nginx.conf" <<CONF
worker_processes 2;
pid $1/nginx.pid;
error_log $1/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$2;
    $3
  }
}
CONF
  "$NGINX" -c "$1/nginx.conf"
  wait_port "$2"
}

stop_nginx() {
  [ -f "$1/nginx.pid" ] && kill "$(cat "$1/nginx.pid")" 2>/dev/null || true
}

# rps URL [wrk options]: requests/s of one 10 s run, 1 thread, 64 connections.
rps() {
  local url=$1
  shift
  wrk -t1 -c64 -d10s "$@" "$url" | awk '/Requests\/sec/ {print $2}'
}

median() {
  tr ' ' '\n' | grep . | sort -n |
    awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}

# start_roost DIR [ARGS...]: runs the release roost on DIR with port 0 (the caller builds it
# and kills ROOST_PID); sets ROOST_PORT from its ready line.
start_roost() {
  local dir=$1
  shift
  coproc ROOST { exec ./target/release/roost "$dir" --port 0 "$@" 2>/dev/null; }
  ROOST_PID=$ROOST_PID
  local line
  read -r line <&"${ROOST[0]}"
  ROOST_PORT=${line##*:}
  ROOST_PORT=${ROOST_PORT%/}
}

# hello_site: builds roost (release) and makes $work, a folder holding hello.txt
# ("Hello world!\n"); on exit the roost in ROOST_PID is killed and $work removed. Raises the
# descriptor limit to the hard limit, for scripts that open thousands of connections.
hello_site() {
  cargo build --release -q
  work=$(mktemp -d)
  ROOST_PID=
  trap '[ -n "${ROOST_PID:-}" ] && kill "$ROOST_PID" 2>/dev/null; rm -rf "$work"' EXIT
  printf 'Hello world!\n' > "$work/hello.txt"
  ulimit -n "$(ulimit -Hn)"
}
