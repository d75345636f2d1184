"""Opens N connections to 127.0.0.1:PORT at once, then sends one GET on each and reads the
answers. Prints how many were answered 200, refused or closed without an answer.

    python3 benches/many_connections.py PORT N [PATH]
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
    port, count = int(sys.argv[1]), int(sys.argv[2])
    path = sys.argv[3] if len(sys.argv) > 3 else "/hello.txt"
    asyncio.run(main(port, count, path))
