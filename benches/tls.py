"""roost over TLS side by side with nginx over TLS on the same certificate (ECDSA P-256):
requests/s and server CPU per request, and memory per idle TLS connection.
benches/tls.sh installs the tools, builds roost and makes the certificate, then runs this.

    python3 benches/tls.py WORK [--rounds N] [--duration S] [--only TEXT] [--idle N]

WORK holds cert.pem and key.pem. As in benches/compare.py, wrk is pinned to CPU 0 and the
servers to CPU 1; each scenario runs both servers once per round, in alternating order, and
roost/nginx is the median of the ratios within each round.

  roost   the `roost` command, --threads 2, --tls-cert/--tls-key
  nginx   2 workers, sendfile, open_file_cache, access_log off, keepalive_requests 1000000,
          ssl_protocols TLSv1.2 TLSv1.3, its default session tickets (nginx-light, OpenSSL)

Scenarios:
  keep-alive          a 13 B file on 64 keep-alive connections
  new connections     a 13 B file, `Connection: close`: a TCP connection and a TLS
                      handshake per request; wrk resumes TLS 1.3 sessions with the tickets
                      it was given (PSK with ECDHE), as browsers do
  full handshakes     `openssl s_time -new`: one connection at a time, never resumed (an
                      ECDHE key exchange and an ECDSA signature each); connections per second
  1 MiB file          on 16 connections; neither server has kernel TLS here, so both read,
                      encrypt and write every byte
  idle                RSS per idle TLS keep-alive connection, --idle of them (default 10,000)
"""
import argparse
import os
import re
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (the shared pieces: pinning, ports, /proc readings, medians)

ROOT = compare.ROOT
SERVERS = ["roost", "nginx"]
SCENARIOS = [
    # (label, path, connections, closes)
    ("13 B file over TLS, keep-alive, c64", "/hello.txt", 64, False),
    ("new connection per request, c64", "/hello.txt", 64, True),
    ("1 MiB file over TLS, c16", "/1m.bin", 16, False),
]
FULL = "full handshakes, one at a time"


class Server(compare.Server):
    """compare.Server, listening with TLS."""

    def __init__(self, name, work, www, idle_timeout=False):
        super().__init__(name, work, www, idle_timeout)
        self.cert, self.key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")

    def command(self):
        if self.name == "roost":
            return super().command() + ["--tls-cert", self.cert, "--tls-key", self.key]
        conf = os.path.join(self.work, "nginx-tls.conf")
        with open(conf, "w") as f:
            f.write(f"""daemon off;
worker_processes 2;
worker_rlimit_nofile 20000;
pid {self.work}/nginx-tls.pid;
error_log {self.work}/nginx-tls.err;
events {{ worker_connections 16000; }}
http {{
  access_log off;
  sendfile on;
  open_file_cache max=1000 inactive=60s;
  keepalive_requests 1000000;
  keepalive_timeout {60 if self.idle else 75};
  types {{ text/plain txt; }}
  default_type application/octet-stream;
  server {{
    listen 127.0.0.1:{self.port} ssl;
    ssl_certificate {self.cert};
    ssl_certificate_key {self.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    root {self.www};
  }}
}}
""")
        return [compare.shutil.which("nginx") or "/usr/sbin/nginx", "-c", conf,
                "-e", f"{self.work}/nginx-tls.err"]


def context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def check(server, path):
    """One GET over TLS, checked."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        with context().wrap_socket(raw) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    size = compare.FILES[path[1:]]
    if not data.startswith(b"HTTP/1.1 200") or len(data.partition(b"\r\n\r\n")[2]) != size:
        sys.exit(f"{server.name} answered {path} wrongly over TLS: {data[:200]!r}")


def wrk(port, path, connections, closes, duration):
    cmd = compare.pin("client") + ["wrk", "-t1", f"-c{connections}", f"-d{duration}s"]
    if closes:
        cmd += ["-H", "Connection: close"]
    out = subprocess.run(cmd + [f"https://127.0.0.1:{port}{path}"], capture_output=True,
                         text=True, check=True).stdout
    requests = rps = None
    for line in out.splitlines():
        if "requests in" in line:
            requests = int(line.split()[0])
        elif line.startswith("Requests/sec:"):
            rps = float(line.split()[1])
        elif "Non-2xx" in line or "Socket errors" in line and not closes:
            sys.exit(f"wrk saw errors on port {port}{path}:\n{out}")
    if requests is None or rps is None:
        sys.exit(f"cannot read wrk's output:\n{out}")
    return requests, rps


def s_time(port, duration):
    """Connections opened, handshaken, asked for a file and closed, and how long it took:
    `openssl s_time -new`, never resuming."""
    cmd = compare.pin("client") + ["openssl", "s_time", "-connect", f"127.0.0.1:{port}",
                                   "-new", "-time", str(duration), "-www", "/hello.txt"]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    found = re.search(r"(\d+) connections in (\d+) real seconds", out)
    if not found:
        sys.exit(f"cannot read openssl s_time's output:\n{out}")
    return int(found.group(1)), int(found.group(1)) / int(found.group(2))


def run(servers, args):
    rps, cpu = {}, {}
    jobs = [(label, path, conns, closes) for label, path, conns, closes in SCENARIOS]
    jobs.append((FULL, "/hello.txt", 1, None))
    for label, path, conns, closes in jobs:
        if args.only and args.only not in label:
            continue
        for server in servers.values():
            check(server, path)
        rps[label] = {n: [] for n in servers}
        cpu[label] = {n: [] for n in servers}
        for r in range(args.rounds):
            order = SERVERS if r % 2 == 0 else SERVERS[::-1]
            for name in order:
                server = servers[name]
                pids = server.pids()
                before = compare.cpu_seconds(pids)
                if closes is None:
                    requests, per_second = s_time(server.port, args.duration)
                else:
                    requests, per_second = wrk(server.port, path, conns, closes, args.duration)
                used = compare.cpu_seconds(pids) - before
                rps[label][name].append(per_second)
                cpu[label][name].append(used / requests * 1e6)
            print(f"  {label}, round {r + 1}: " + ", ".join(
                f"{n} {rps[label][n][-1]:,.0f}" for n in SERVERS), file=sys.stderr, flush=True)
    return rps, cpu


def idle_memory(name, work, www, count):
    """KiB of server RSS per idle TLS keep-alive connection (one request answered on each),
    with `count` of them open, and how many were still open when measured."""
    server = Server(name, work, www, idle_timeout=True).start()
    request = b"GET /hello.txt HTTP/1.1\r\nHost: bench\r\n\r\n"
    ctx = context()

    def connect():
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", server.port), timeout=10))
        s.sendall(request)
        data = b""
        while not data.endswith(b"Hello world!\n"):
            data += s.recv(4096)
        return s

    try:
        for s in [connect() for _ in range(100)]:
            s.close()
        time.sleep(0.5)
        pids = server.pids()
        base = compare.rss_kib(pids)
        socks = [connect() for _ in range(count)]
        time.sleep(0.5)
        after = compare.rss_kib(pids)
        still_open = 0
        for s in socks:
            s.setblocking(False)
            try:
                still_open += s.recv(1) != b""
            except ssl.SSLWantReadError:
                still_open += 1
            except OSError:
                pass
            s.close()
        return (after - base) / count, still_open
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("work")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=4)
    parser.add_argument("--only")
    parser.add_argument("--idle", type=int, default=10000)
    args = parser.parse_args()
    www = os.path.join(args.work, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "hello.txt"), "wb") as f:
        f.write(compare.HELLO)
    with open(os.path.join(www, "1m.bin"), "wb") as f:
        f.write(os.urandom(1 << 20))
    # Every connection and the 10,000 idle ones hold a descriptor in this process too.
    soft, hard = compare.resource.getrlimit(compare.resource.RLIMIT_NOFILE)
    compare.resource.setrlimit(compare.resource.RLIMIT_NOFILE, (hard, hard))
    servers = {n: Server(n, args.work, www).start() for n in SERVERS}
    try:
        rps, cpu = run(servers, args)
    finally:
        for server in servers.values():
            server.stop()
    idle = {}
    if args.idle and not args.only:
        for name in SERVERS:
            idle[name] = idle_memory(name, args.work, www, args.idle)

    print(f"\n{'requests/s (median)':44}{'roost':>10}{'nginx':>10}   roost/nginx (paired)")
    for label in rps:
        ratios = [a / b for a, b in zip(rps[label]["roost"], rps[label]["nginx"]) if b]
        print(f"{label:44}{compare.median(rps[label]['roost']):>10,.0f}"
              f"{compare.median(rps[label]['nginx']):>10,.0f}   {compare.median(ratios):.2f} "
              f"({', '.join(f'{r:.2f}' for r in ratios)})")
    print(f"\n{'server CPU per request, us (median)':44}{'roost':>10}{'nginx':>10}")
    for label in cpu:
        print(f"{label:44}{compare.median(cpu[label]['roost']):>10.1f}"
              f"{compare.median(cpu[label]['nginx']):>10.1f}")
    if idle:
        print(f"\n{'idle TLS connection, KiB of RSS each':44}{'roost':>10}{'nginx':>10}")
        print(f"{f'{args.idle:,} open':44}{idle['roost'][0]:>10.2f}{idle['nginx'][0]:>10.2f}")
        print(f"{'still open when measured':44}{idle['roost'][1]:>10}{idle['nginx'][1]:>10}")


if __name__ == "__main__":
    main()
