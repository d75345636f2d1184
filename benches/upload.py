"""A 1 GiB streamed upload: starts bindings/c/upload (release build), records its resident
memory, then sends PUT /upload with a 1 GiB body (Content-Length, 1 MiB writes from this
process) and reads the answer. Prints, per round, the throughput and the server's peak
resident memory (VmHWM) over what it held before the first upload (VmRSS), then the
medians. The handler counts the bytes as they arrive; the server holds only about its
stream buffer (256 KiB) of the body, however large. Loopback only.

    python3 benches/upload.py [--rounds R] [--size BYTES]     (R = 3, BYTES = 1 GiB)
"""
import socket
import statistics
import sys
import time

from samples import build, memory_kib, option, sample, start


def upload(port, size):
    """Sends the body; returns the answer's text and the seconds it took."""
    piece = b"u" * (1 << 20)
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"PUT /upload HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n"
                  b"Content-Length: %d\r\n\r\n" % size)
        left = size
        while left:
            n = min(left, len(piece))
            s.sendall(piece[:n])
            left -= n
        reply = b"".join(iter(lambda: s.recv(65536), b""))
    return reply.decode("latin-1"), time.perf_counter() - started


def main():
    args = sys.argv[1:]
    rounds, size = option(args, "--rounds", 3), option(args, "--size", 1 << 30)
    build()
    server, port = start([sample("upload"), "0"])
    try:
        upload(port, 1)  # the first request's one-time allocations are not the body's
        before = memory_kib(server.pid, "VmRSS")
        rates, growths = [], []
        for _ in range(rounds):
            reply, seconds = upload(port, size)
            assert reply.startswith("HTTP/1.1 200 ") and "received %d bytes" % size in reply, reply
            growth = memory_kib(server.pid, "VmHWM") - before
            rates.append(size / seconds / 1e9)
            growths.append(growth)
            print("  %.2f GB/s, peak RSS %d KiB over the %d KiB before" % (rates[-1], growth, before))
    finally:
        server.terminate()
        server.wait()
    print("%d MiB upload, median of %d rounds: %.2f GB/s, server peak RSS growth %.0f KiB "
          "(%.2f MiB)" % (size >> 20, rounds, statistics.median(rates),
                          statistics.median(growths), statistics.median(growths) / 1024))


if __name__ == "__main__":
    main()
