"""Pending deferred responses: starts bindings/c/long_poll (built by `make -C bindings/c
PROFILE=release`) with a tick too far away to come, or with --python its Python twin
benches/long_poll_async.py (async def handlers on the server's event loop), opens N
connections that each send GET /poll and wait, then measures the server's resident memory
per pending request and the latency of ordinary requests (GET /waiting, answered at once)
while they wait. Loopback only; the connections are closed at the end.

    python3 benches/long_polls.py [N] [--rounds R] [--python]     (N = 10000, R = 5)
"""
import asyncio
import os
import resource
import statistics
import sys
import time

from samples import ROOT, build, memory_kib, option, sample, start


async def get(port, path, keep=None):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET %s HTTP/1.1\r\nHost: bench\r\n\r\n" % path)
    await writer.drain()
    if keep is not None:
        keep.append(writer)
        return None
    head = await reader.readuntil(b"\r\n\r\n")
    length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0]
                 .split(b":")[1])
    body = await reader.readexactly(length)
    writer.close()
    return body


async def latencies(port, count):
    out = []
    for _ in range(count):
        began = time.perf_counter()
        await get(port, b"/waiting")
        out.append((time.perf_counter() - began) * 1e6)
    return out


async def one_round(port, pid, n):
    await latencies(port, 50)  # warm up: threads, buffers, slots of the first requests
    base = memory_kib(pid)
    quiet = await latencies(port, 200)
    kept = []
    for opened in range(0, n, 500):
        await asyncio.gather(*(get(port, b"/poll", kept) for _ in range(min(500, n - opened))))
    while int(await get(port, b"/waiting")) < n:
        await asyncio.sleep(0.05)
    loaded = memory_kib(pid)
    busy = await latencies(port, 200)
    for w in kept:
        w.close()
    while int(await get(port, b"/waiting")) > 0:
        await asyncio.sleep(0.05)
    return (loaded - base) * 1024 / n, statistics.median(quiet), statistics.median(busy)


def main():
    args = sys.argv[1:]
    rounds = option(args, "--rounds", 5)
    python = "--python" in args
    if python:
        args.remove("--python")
    n = int(args[0]) if args else 10000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    build()
    if python:
        command = [sys.executable, os.path.join(ROOT, "benches", "long_poll_async.py"), "0"]
        env = dict(os.environ, ROOST_LIBRARY=os.path.join(ROOT, "target", "release",
                                                          "libroost.so"))
    else:
        command, env = [sample("long_poll"), "0", "100000000"], None
    results = []
    for _ in range(rounds):
        # A new server each round: memory a server got back from its clients stays its
        # own (slots are kept for reuse), so a second round would measure nothing.
        server, port = start(command, env)
        try:
            results.append(asyncio.run(one_round(port, server.pid, n)))
        finally:
            server.terminate()
            server.wait()
    per = statistics.median(r[0] for r in results)
    quiet = statistics.median(r[1] for r in results)
    busy = statistics.median(r[2] for r in results)
    what = ("Python async, benches/long_poll_async.py" if python
            else "C, bindings/c/long_poll")
    print("%d pending long polls (%s), median of %d rounds:" % (n, what, rounds))
    print("  server RSS per pending request: %.0f bytes (rounds %s)"
          % (per, ", ".join("%.0f" % r[0] for r in results)))
    print("  GET /waiting latency, median: %.0f us idle, %.0f us with them pending" % (quiet, busy))


if __name__ == "__main__":
    main()
