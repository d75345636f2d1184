"""Opens N connections to 127.0.0.1:PORT at once, then sends one GET on each and reads the
answers. Prints how many were answered 200, refused or closed without an answer, and with
--expect ANSWERED exits 1 unless exactly that many were answered 200 and the rest closed.

    python3 benches/many_connections.py PORT N [PATH] [--expect ANSWERED]
"""
import asyncio
import resource
import sys


async def one(port, path, opened, go):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        opened.append(None)
        return "refused"
    opened.append(writer)
    await go.wait()
    try:
        writer.write(b"GET %s HTTP/1.1\r\nHost: load\r\nConnection: close\r\n\r\n" % path.encode())
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 60)
        await asyncio.wait_for(reader.read(), 60)
        return "200" if line.startswith(b"HTTP/1.1 200") else ("closed" if not line else line.split()[1].decode())
    except (OSError, asyncio.TimeoutError):
        return "closed"
    finally:
        writer.close()


async def main(port, count, path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    opened, go = [], asyncio.Event()
    tasks = [asyncio.create_task(one(port, path, opened, go)) for _ in range(count)]
    while len(opened) < count:
        await asyncio.sleep(0.05)
    print("opened %d connections (%d refused at connect)" % (count, opened.count(None)), flush=True)
    go.set()
    results = await asyncio.gather(*tasks)
    summary = {r: results.count(r) for r in sorted(set(results))}
    print("answers:", summary)
    return summary


if __name__ == "__main__":
    args = sys.argv[1:]
    expect = None
    if "--expect" in args:
        at = args.index("--expect")
        expect = int(args[at + 1])
        del args[at:at + 2]
    port, count = int(args[0]), int(args[1])
    path = args[2] if len(args) > 2 else "/hello.txt"
    summary = asyncio.run(main(port, count, path))
    if expect is not None:
        want = {"200": expect}
        if count > expect:
            want["closed"] = count - expect
        if summary != want:
            print("FAILED: expected", want)
            sys.exit(1)
