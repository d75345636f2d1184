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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(ROOT, "target", "release", "c-samples", "stream")


def download(port, path):
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{speed_download}",
         "http://127.0.0.1:%d%s" % (port, path)],
        check=True, capture_output=True, text=True).stdout.split()
    return int(out[0]), float(out[1]) / 1e9


def main():
    args = sys.argv[1:]
    rounds, size = 5, 1 << 30
    if "--rounds" in args:
        rounds = int(args[args.index("--rounds") + 1])
    if "--size" in args:
        size = int(args[args.index("--size") + 1])
    # The library first: make rebuilds it only when it is missing.
    subprocess.run(["cargo", "build", "--release", "--lib", "-q"], cwd=ROOT, check=True)
    subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "bindings", "c"), "PROFILE=release"],
                   check=True)
    with tempfile.TemporaryDirectory() as folder:
        # Sparse: after the first read its pages are in the page cache, as a hot file's are.
        with open(os.path.join(folder, "big.bin"), "wb") as f:
            f.truncate(size)
        server = subprocess.Popen([SAMPLE, "0", folder], stdout=subprocess.PIPE, text=True)
        try:
            port = int(server.stdout.readline().rsplit(":", 1)[1].split("/")[0])
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
