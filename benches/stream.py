"""A streamed body against sendfile(2): starts bindings/c/stream (release build) on a folder
holding a 1 GiB file, then downloads, alternating, GET /bytes/1073741824 (a C producer
thread writing 64 KiB pieces, chunked, with backpressure) and GET /1g.bin (the same size
sent from the file with sendfile), with curl to /dev/null. Prints each round's GB/s and
the medians; the ratio is stream / sendfile. Loopback only.

    python3 benches/stream.py [--rounds R] [--size BYTES]     (R = 5, BYTES = 1 GiB)
"""
import os
import statistics
import subprocess
import sys
import tempfile

from samples import build, option, sample, start


def download(port, path):
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{speed_download}",
         "http://127.0.0.1:%d%s" % (port, path)],
        check=True, capture_output=True, text=True).stdout.split()
    return int(out[0]), float(out[1]) / 1e9


def main():
    args = sys.argv[1:]
    rounds, size = option(args, "--rounds", 5), option(args, "--size", 1 << 30)
    build()
    with tempfile.TemporaryDirectory() as folder:
        # Sparse: after the first read its pages are in the page cache, as a hot file's are.
        with open(os.path.join(folder, "big.bin"), "wb") as f:
            f.truncate(size)
        server, port = start([sample("stream"), "0", folder])
        try:
            download(port, "/big.bin")  # warm the page cache
            streamed, sent = [], []
            for _ in range(rounds):
                got, rate = download(port, "/bytes/%d" % size)
                assert got == size, got
                streamed.append(rate)
                got, rate = download(port, "/big.bin")
                assert got == size, got
                sent.append(rate)
                print("  stream %.2f GB/s, sendfile %.2f GB/s" % (streamed[-1], sent[-1]))
        finally:
            server.terminate()
            server.wait()
    ratios = [a / b for a, b in zip(streamed, sent)]
    print("%d MiB, median of %d rounds: stream %.2f GB/s, sendfile %.2f GB/s, "
          "paired ratio %.2f" % (size >> 20, rounds, statistics.median(streamed),
                                 statistics.median(sent), statistics.median(ratios)))


if __name__ == "__main__":
    main()
