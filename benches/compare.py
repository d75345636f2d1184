"""roost side by side with its peers on this machine: requests/s, server CPU time per request,
and memory per idle connection. benches/compare.sh installs the tools, builds everything and
runs this; see the README's "Benchmarks" section.

    python3 benches/compare.py WORK [--rounds N] [--duration S] [--only TEXT] [--idle N]

WORK holds the built peer programs (hello_route, trivial_server, mhd_hello). With two or
more CPUs, wrk is pinned to CPU 0 and every server to CPU 1, so that client and server never
compete for a core. Each scenario runs every server once per round, in an order that
rotates from round to round; the table gives medians, and roost/peer as the median of the
ratios within each round (the machine's speed drifts, and two runs of one round are close in
time).

Fair configurations, each server with two threads or processes where it has the choice:
  roost     the `roost` command, --threads 2; C routes: benches/hello_route.c, 2 threads
  nginx     2 workers, sendfile, open_file_cache, access_log off, keepalive_requests
            1000000; `return 200 "Hello world!\\n"` for the route (no tcp_nopush: with
            pipelined requests it cuts nginx to a quarter)
  lighttpd  one process (its design), sendfile (its default), stat cache (its default),
            max-keep-alive-requests 1000000, no access log
  h2o       2 threads, file.dir, no access log
  mhd       libmicrohttpd 2-thread pool with epoll, a response from memory (route only)
  trivial   benches/peers/trivial_server.c: counts CRLFCRLF, answers a fixed 13-byte
            response, parses nothing; the ceiling for a server on one core
"""
import argparse
import http.client
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HELLO = b"Hello world!\n"
FILES = {"hello.txt": 13, "4k.bin": 4096, "64k.bin": 65536, "1m.bin": 1 << 20}
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024

STATIC = ["roost", "nginx", "lighttpd", "h2o", "trivial"]
ROUTE = ["roost-c", "nginx", "mhd", "trivial"]
# (label, path, connections, pipelined, servers)
SCENARIOS = [
    ("13 B file, c64", "/hello.txt", 64, False, STATIC),
    ("13 B file, c256", "/hello.txt", 256, False, STATIC),
    ("13 B file, c64, pipelined x16", "/hello.txt", 64, True, STATIC),
    ("4 KiB file, c64", "/4k.bin", 64, False, STATIC[:-1]),
    ("64 KiB file, c64", "/64k.bin", 64, False, STATIC[:-1]),
    ("1 MiB file, c16", "/1m.bin", 16, False, STATIC[:-1]),
    ("route 13 B, c64", "/hello", 64, False, ROUTE),
    ("route 13 B, c64, pipelined x16", "/hello", 64, True, ROUTE),
]
PEERS = ["nginx", "lighttpd", "h2o", "mhd", "trivial"]


def pin(role):
    """The taskset prefix for the client (CPU 0) or a server (CPU 1)."""
    if os.cpu_count() < 2 or not shutil.which("taskset"):
        return []
    return ["taskset", "-c", "0" if role == "client" else "1"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, name):
    for _ in range(400):
        if proc.poll() is not None:
            sys.exit(f"{name} exited at start (status {proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.025)
    sys.exit(f"{name} never opened port {port}")


def children(pid):
    """The server's processes: itself and its children (nginx's workers)."""
    pids = [pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                pids.append(int(entry))
    return pids


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (all threads)
    return total / CLK_TCK


def rss_kib(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/statm") as f:
            total += int(f.read().split()[1]) * PAGE_KIB
    return total


class Server:
    """A server process pinned to the server CPU, on its own loopback port."""

    def __init__(self, name, work, www, idle_timeout=False):
        self.name, self.work, self.www = name, work, www
        self.port = None
        self.proc = None
        self.stdin = subprocess.DEVNULL
        self.idle = idle_timeout

    def command(self):
        port, work, www = self.port, self.work, self.www
        if self.name == "roost":
            keep = ["--keepalive-timeout", "60"] if self.idle else []
            return [os.path.join(ROOT, "target/release/roost"), www, "--port", "0",
                    "--threads", "2"] + keep
        if self.name == "roost-c":
            self.stdin = subprocess.PIPE
            return [os.path.join(work, "hello_route"), "0", "2"]
        if self.name == "trivial":
            return [os.path.join(work, "trivial_server"), "0"]
        if self.name == "mhd":
            return [os.path.join(work, "mhd_hello"), "0"]
        if self.name == "nginx":
            conf = os.path.join(work, "nginx.conf")
            with open(conf, "w") as f:
                f.write(f"""daemon off;
worker_processes 2;
worker_rlimit_nofile 20000;
pid {work}/nginx.pid;
error_log {work}/nginx.err;
events {{ worker_connections 16000; }}
http {{
  access_log off;
  sendfile on;
  open_file_cache max=1000 inactive=60s;
  keepalive_requests 1000000;
  types {{ text/plain txt; }}
  default_type application/octet-stream;
  server {{
    listen 127.0.0.1:{port};
    root {www};
    location = /hello {{ default_type text/plain; return 200 "Hello world!\\n"; }}
  }}
}}
""")
            return [shutil.which("nginx") or "/usr/sbin/nginx", "-c", conf, "-e", f"{work}/nginx.err"]
        if self.name == "lighttpd":
            conf = os.path.join(work, "lighttpd.conf")
            with open(conf, "w") as f:
                f.write(f"""server.document-root = "{www}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{work}/lighttpd.err"
server.max-fds = 20000
server.max-connections = 16000
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 60
mimetype.assign = (".txt" => "text/plain", "" => "application/octet-stream")
""")
            return [shutil.which("lighttpd") or "/usr/sbin/lighttpd", "-D", "-f", conf]
        if self.name == "h2o":
            conf = os.path.join(work, "h2o.conf")
            with open(conf, "w") as f:
                f.write(f"""listen:
  host: 127.0.0.1
  port: {port}
num-threads: 2
max-connections: 16000
http1-request-timeout: 60
user: nobody
hosts:
  default:
    paths:
      /:
        file.dir: {www}
""")
            return [shutil.which("h2o"), "-c", conf]
        raise ValueError(self.name)

    def start(self):
        prints_port = self.name in ("roost", "roost-c", "trivial", "mhd")
        if not prints_port:
            self.port = free_port()
        cmd = pin("server") + self.command()
        err = open(os.path.join(self.work, self.name + ".stderr"), "w")
        self.proc = subprocess.Popen(cmd, stdin=self.stdin, stdout=subprocess.PIPE,
                                     stderr=err, text=True)
        if prints_port:
            line = self.proc.stdout.readline()
            if not line:
                sys.exit(f"{self.name} exited at start; see {err.name}")
            self.port = int(line.rstrip().rstrip("/").rsplit(":", 1)[-1])
        wait_port(self.port, self.proc, self.name)
        return self

    def pids(self):
        return children(self.proc.pid)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def check(server, path):
    """One GET, checked: a benchmark of wrong answers measures nothing."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", path)
    res = conn.getresponse()
    body = res.read()
    conn.close()
    want = HELLO if path in ("/hello", "/hello.txt") or server.name == "trivial" else None
    size = len(HELLO) if want else FILES[path[1:]]
    if res.status != 200 or len(body) != size or (want and body != want):
        sys.exit(f"{server.name} answered {path} with {res.status} and {len(body)} bytes")


def wrk(port, path, connections, pipelined, duration):
    cmd = pin("client") + ["wrk", "-t1", f"-c{connections}", f"-d{duration}s"]
    if pipelined:
        cmd += ["-s", os.path.join(HERE, "pipeline.lua")]
    cmd += [f"http://127.0.0.1:{port}{path}"]
    if pipelined:
        cmd += ["--", path]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    requests = rps = None
    for line in out.splitlines():
        words = line.split()
        if "requests in" in line:
            requests = int(words[0])
        elif line.startswith("Requests/sec:"):
            rps = float(words[1])
        elif "Non-2xx" in line:
            sys.exit(f"wrk saw errors on port {port}{path}:\n{out}")
    if requests is None or rps is None:
        sys.exit(f"cannot read wrk's output:\n{out}")
    return requests, rps


def run_scenarios(servers, args):
    """rps[label][server] and cpu[label][server]: lists, one entry per round."""
    rps, cpu = {}, {}
    for label, path, conns, pipelined, names in SCENARIOS:
        if args.only and args.only not in label:
            continue
        names = [n for n in names if n in servers]
        for name in names:
            check(servers[name], path)
        rps[label] = {n: [] for n in names}
        cpu[label] = {n: [] for n in names}
        for r in range(args.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                server = servers[name]
                pids = server.pids()
                before = cpu_seconds(pids)
                requests, per_second = wrk(server.port, path, conns, pipelined, args.duration)
                used = cpu_seconds(pids) - before
                rps[label][name].append(per_second)
                cpu[label][name].append(used / requests * 1e6)
            print(f"  {label}, round {r + 1}: " + ", ".join(
                f"{n} {rps[label][n][-1]:,.0f}" for n in names), file=sys.stderr, flush=True)
    return rps, cpu


def read_response(sock):
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the response ended")
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length" and len(body) >= int(value):
                    return


def idle_memory(name, work, www, count):
    """KiB of server RSS per keep-alive connection left idle after one request, with `count`
    of them open; and how many were still open when measured."""
    server = Server(name, work, www, idle_timeout=True).start()
    path = "/hello" if name == "mhd" else "/hello.txt"
    request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    try:
        warm = []
        for _ in range(100):
            s = socket.create_connection(("127.0.0.1", server.port))
            s.sendall(request)
            read_response(s)
            warm.append(s)
        for s in warm:
            s.close()
        time.sleep(0.5)
        pids = server.pids()
        base = rss_kib(pids)
        socks = []
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            s.sendall(request)
            read_response(s)
            socks.append(s)
        time.sleep(0.5)
        after = rss_kib(pids)
        still_open = 0
        for s in socks:
            s.setblocking(False)
            try:
                still_open += s.recv(1) != b""
            except BlockingIOError:
                still_open += 1
            except OSError:
                pass
            s.close()
        return (after - base) / count, still_open
    finally:
        server.stop()


def median(values):
    return statistics.median(values) if values else None


def column(row, col):
    """A scenario's per-round values for column `col`; the roost column of a route scenario
    is the C route server."""
    return row.get("roost-c" if col == "roost" and "roost-c" in row else col, [])


def cell(table, label, col):
    """The median for column `col` of a scenario."""
    return median(column(table[label], col))


def round_ratios(table, label, peer):
    """roost/peer within each round of a scenario. The machine's speed drifts (every server
    measured 20-25% slower for half a minute at a time, client and server alike), and a
    ratio of two medians mixes runs taken up to minutes apart; the two runs of one round are
    seconds apart."""
    row = table.get(label, {})
    mine, theirs = column(row, "roost"), column(row, peer)
    return [a / b for a, b in zip(mine, theirs) if a and b]


def paired(table, label, peer):
    """roost/peer: the median of the ratios within each round."""
    return median(round_ratios(table, label, peer))


def print_tables(rps, cpu, idle, args):
    if rps:
        print_rates(rps, cpu, args)
    if idle:
        print(f"\nRSS per idle keep-alive connection, {args.idle:,} connections open after one "
              "request each")
        for name, (kib, still_open) in idle.items():
            print(f"  {name:10} {kib * 1024:8.0f} bytes   ({still_open:,} still open)")
    print_targets(rps, cpu, idle)


def print_rates(rps, cpu, args):
    cols = ["roost"] + PEERS
    print(f"\nrequests/s, median of {args.rounds} runs of {args.duration} s "
          f"(wrk -t1 pinned to CPU 0, servers to CPU 1);\n"
          f"roost/peer is the median of the ratios within each round")
    print(f"{'scenario':32}" + "".join(f"{c:>10}" for c in cols) + "   roost/peer")
    for label in rps:
        values = {c: cell(rps, label, c) for c in cols}
        ratios = " ".join(f"{c} {paired(rps, label, c):.2f}" for c in PEERS
                          if values[c] and values["roost"])
        print(f"{label:32}" + "".join(f"{v:>10,.0f}" if v else f"{'-':>10}" for v in values.values())
              + "   " + ratios)
    print("\nserver CPU time per request, µs (median; from /proc/PID/stat)")
    print(f"{'scenario':32}" + "".join(f"{c:>10}" for c in cols))
    for label in cpu:
        values = [cell(cpu, label, c) for c in cols]
        print(f"{label:32}" + "".join(f"{v:>10.2f}" if v else f"{'-':>10}" for v in values))


def print_targets(rps, cpu, idle):
    """Each target met or missed. A ratio target is judged on the median of the ratios within
    each round, and its line also shows the rounds' lowest and highest ratio, so that a
    single slow run of roost (which the median sets aside) is in plain sight."""
    lines = []

    def target(text, value, goal, higher=True):
        rounds = value if isinstance(value, list) else None
        if rounds is not None:
            value = median(rounds)
        if value is None:
            return
        ok = value >= goal if higher else value <= goal
        spread = f"; rounds {min(rounds):.2f}-{max(rounds):.2f}" if rounds else ""
        lines.append(f"  {'met   ' if ok else 'MISSED'} {text} ({value:.2f}{spread})")

    def against(table, label, peers, pick):
        """The round ratios against the peer `pick` singles out; none unless all ran."""
        ratios = {p: round_ratios(table, label, p) for p in peers}
        if not all(ratios.values()):
            return None
        return ratios[pick(peers, key=lambda p: median(ratios[p]))]

    plain, pipe = "13 B file, c64", "13 B file, c64, pipelined x16"
    static_peers = ("nginx", "lighttpd", "h2o")
    target("13 B file c64: roost/trivial >= 0.97", round_ratios(rps, plain, "trivial"), 0.97)
    target("13 B file pipelined x16: roost / best of nginx, lighttpd, h2o >= 3",
           against(rps, pipe, static_peers, min), 3)
    target("C route pipelined x16: roost / nginx return 200 >= 5",
           round_ratios(rps, "route 13 B, c64, pipelined x16", "nginx"), 5)
    target("1 MiB file: roost/lighttpd >= 1.0", round_ratios(rps, "1 MiB file, c16", "lighttpd"), 1)
    if "roost" in idle:
        target("RSS per idle connection, KiB <= 0.5", idle["roost"][0], 0.5, higher=False)
    target("CPU per request at 13 B c64: roost / the lowest peer's < 1",
           against(cpu, plain, static_peers, max), 0.9999, higher=False)
    if lines:
        print("\ntargets")
        print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("work")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--duration", type=int, default=4)
    parser.add_argument("--only", help="run only the scenarios whose label contains this "
                        "('idle' runs only the idle-memory check)")
    parser.add_argument("--servers", help="comma-separated subset of servers")
    parser.add_argument("--idle", type=int, default=10000,
                        help="connections for the idle-memory check (0 skips it)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    www = tempfile.mkdtemp(prefix="www-", dir=args.work)
    os.chmod(www, 0o755)
    an_hour_ago = time.time() - 3600
    for name, size in FILES.items():
        path = os.path.join(www, name)
        with open(path, "wb") as f:
            f.write(HELLO if size == len(HELLO) else bytes(i % 251 for i in range(size)))
        # As a site's files are: roost holds a small file in memory once it has been
        # unchanged for a second, and the first runs should not depend on that second.
        os.utime(path, (an_hour_ago, an_hour_ago))
    wanted = args.servers.split(",") if args.servers else ["roost", "roost-c"] + PEERS
    available = [n for n in wanted if n != "mhd" or os.path.exists(os.path.join(args.work, "mhd_hello"))]
    servers = {}
    try:
        if args.only != "idle":
            for name in available:
                servers[name] = Server(name, args.work, www).start()
        rps, cpu = run_scenarios(servers, args)
    finally:
        for server in servers.values():
            server.stop()
    idle = {}
    if args.idle and args.only in (None, "idle"):
        for name in available:
            if name not in ("roost-c", "trivial"):
                idle[name] = idle_memory(name, args.work, www, args.idle)
    print_tables(rps, cpu, idle, args)


if __name__ == "__main__":
    main()
