#!/usr/bin/env bash
# roost over TLS side by side with nginx over TLS: see benches/tls.py. Installs wrk,
# nginx-light and openssl from Debian's packages when missing, builds roost (release),
# makes an ECDSA P-256 certificate for both, then runs the benchmark. Loopback only.
#
#   benches/tls.sh [--rounds N] [--duration S] [--only TEXT] [--idle N]
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v taskset >/dev/null || need+=(util-linux)
command -v openssl >/dev/null || need+=(openssl)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
export PATH=$PATH:/usr/sbin

cargo build --release -q
work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
chmod 644 "$work/key.pem"
python3 benches/tls.py "$work" "$@"
