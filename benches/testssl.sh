#!/usr/bin/env bash
# testssl.sh (Debian's package, command `testssl`) against the `roost` command's TLS port,
# with a certificate from a throwaway CA that testssl is told to trust (--add-ca), so that
# what it rates is the server, not a self-signed certificate. Prints testssl's report and
# then every finding it rated NOT ok, VULNERABLE or WARN; exits 1 if there is any. Loopback
# only; takes about a minute and a half.
#
#   benches/testssl.sh [extra testssl flags]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v testssl >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq testssl.sh >/dev/null
fi
cargo build --release -q
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
mkdir www && echo hello > www/index.html
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 -subj "/CN=roost testssl CA" 2>/dev/null
openssl req "${ec[@]}" -keyout key.pem -out req.csr -subj /CN=localhost 2>/dev/null
cat > ext <<EXT
subjectAltName=DNS:localhost,IP:127.0.0.1
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
authorityInfoAccess=OCSP;URI:http://127.0.0.1:9/ocsp
crlDistributionPoints=URI:http://127.0.0.1:9/ca.crl
EXT
openssl x509 -req -in req.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile ext -out cert.pem 2>/dev/null
"$OLDPWD/target/release/roost" www --port 0 --tls-cert cert.pem --tls-key key.pem > ready &
pid=$!
for _ in $(seq 100); do grep -q https ready 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's|.*https://127.0.0.1:\([0-9]*\)/.*|\1|p' ready)
# Its exit status counts what it could not test, not findings: the report decides.
testssl --quiet --color 0 --warnings off --add-ca ca.pem --ip one "$@" "127.0.0.1:$port" > report || true
cat report
if grep -E "NOT ok|VULNERABLE|WARN" report; then
  echo "testssl: findings above" >&2
  exit 1
fi
echo "testssl: nothing rated NOT ok, VULNERABLE or WARN"
