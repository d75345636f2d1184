"""The Python twin of bindings/c/long_poll for benches/long_polls.py --python: GET /poll
waits (an async def handler awaiting an event that never comes, so no thread is held);
GET /waiting says how many wait. Prints the same ready line; SIGTERM stops it.

    python3 benches/long_poll_async.py PORT
"""
import asyncio
import signal
import sys
import threading

sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__file__), "..",
                                             "bindings", "python"))
import roost  # noqa: E402

srv = roost.Server(port=int(sys.argv[1]) if len(sys.argv) > 1 else 8080, threads=2,
                   max_connections=0)
pending = [0]
never = {}


@srv.route("GET", "/poll")
async def poll(req):
    pending[0] += 1
    try:
        await never.setdefault("event", asyncio.Event()).wait()
    finally:
        pending[0] -= 1
    return "tick\n"


@srv.route("GET", "/waiting")
def waiting(req):
    return (200, {"Content-Type": "text/plain"}, "%d\n" % pending[0])


stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
srv.start()
print("long_poll_async: serving on http://127.0.0.1:%d/" % srv.port, flush=True)
stop.wait()
srv.close()
