"""Server-Sent Events: a streamed body of events (the HTML Living Standard's
text/event-stream), from any iterable or async iterable of items.

    @srv.route("GET", "/ticks")
    def ticks(req):
        def events():
            for n in itertools.count():
                yield roost.Event(str(n), event="tick", id=str(n))
                time.sleep(1)
        return roost.EventStream(events(), keepalive=15)
"""

import asyncio
import queue
import threading


class Event:
    """One event: `data` (str; several lines become several data: lines), and the
    optional `event` (its type), `id` (what the client sends back as Last-Event-ID when it
    reconnects) and `retry` (milliseconds the client waits before reconnecting)."""

    __slots__ = ("data", "event", "id", "retry")

    def __init__(self, data, event=None, id=None, retry=None):
        self.data, self.event, self.id, self.retry = data, event, id, retry

    def encode(self):
        lines = []
        for name, value in (("event", self.event), ("id", self.id)):
            if value is not None:
                value = str(value)
                if "\n" in value or "\r" in value or (name == "id" and "\0" in value):
                    raise ValueError("an event's %s must be one line" % name)
                lines.append("%s: %s" % (name, value))
        if self.retry is not None:
            lines.append("retry: %d" % int(self.retry))
        text = str(self.data).replace("\r\n", "\n").replace("\r", "\n")
        lines.extend("data: " + line for line in text.split("\n"))
        return ("\n".join(lines) + "\n\n").encode("utf-8")

    def __repr__(self):
        return "roost.Event(%r, event=%r, id=%r, retry=%r)" % (
            self.data, self.event, self.id, self.retry)


# A comment line: ignored by clients, it keeps proxies and the client's own timeouts from
# taking a quiet stream for a dead one.
_KEEPALIVE = b": keepalive\n\n"
_END = object()


class EventStream:
    """A response body of Server-Sent Events, for a handler to return (alone, or as the
    body of (status, headers, body)). `source` is an iterable or async iterable of items:
    str (one event whose data it is) or roost.Event. Sent with Content-Type
    text/event-stream and Cache-Control no-cache; a comment line goes out after each
    `keepalive` seconds without an event (None: never). The client's Last-Event-ID, when
    it reconnects, is in req.headers."""

    content_type = "text/event-stream"

    def __init__(self, source, keepalive=15):
        if not (hasattr(source, "__iter__") or hasattr(source, "__aiter__")):
            raise TypeError("EventStream takes an iterable or an async iterable")
        if keepalive is not None and keepalive <= 0:
            raise ValueError("keepalive must be a positive number of seconds, or None")
        self._source = source
        self._keepalive = keepalive

    @staticmethod
    def _encode(item):
        if isinstance(item, Event):
            return item.encode()
        if isinstance(item, str):
            return Event(item).encode()
        raise TypeError("an EventStream's items must be str or roost.Event, not %s"
                        % type(item).__name__)

    @property
    def is_async(self):
        """Whether the source is an async iterable (then this is one too, for the
        server's event loop to pump)."""
        return hasattr(self._source, "__aiter__")

    async def __aiter__(self):
        source = self._source.__aiter__()
        pending = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(source.__anext__())
                try:
                    # shield: a keep-alive must not cancel the source's own wait.
                    item = await asyncio.wait_for(asyncio.shield(pending), self._keepalive)
                except asyncio.TimeoutError:
                    yield _KEEPALIVE
                    continue
                except StopAsyncIteration:
                    return
                pending = None
                yield self._encode(item)
        finally:
            if pending is not None:
                pending.cancel()
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()

    def __iter__(self):
        if self.is_async:
            raise TypeError("an EventStream of an async source is pumped by the server's "
                            "event loop")
        if self._keepalive is None:
            for item in self._source:
                yield self._encode(item)
            return
        # The source is read on a thread of its own, so that silence can be noticed (and
        # an async source gets an event loop).
        items = queue.Queue(maxsize=16)
        stop = threading.Event()
        reader = threading.Thread(target=self._read, args=(items, stop), daemon=True,
                                  name="roost-events")
        reader.start()
        try:
            while True:
                try:
                    item = items.get(timeout=self._keepalive)
                except queue.Empty:
                    yield _KEEPALIVE
                    continue
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield self._encode(item)
        finally:
            stop.set()

    def _read(self, items, stop):
        def put(item):
            while not stop.is_set():
                try:
                    items.put(item, timeout=0.5)
                    return True
                except queue.Full:
                    pass
            return False

        try:
            source = iter(self._source)
            try:
                for item in source:
                    if not put(item):
                        break
            finally:
                close = getattr(source, "close", None)
                if close is not None:
                    close()
            put(_END)
        except BaseException as e:
            put(e)
