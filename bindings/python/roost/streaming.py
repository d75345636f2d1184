"""Response bodies produced over time: an iterator's items go out as they are made.

A handler (or Deferred.respond) whose body is a generator or other iterator gets its head
sent at once; a thread of its own then takes each item (str as UTF-8, or bytes) and writes
it, never advancing the iterator while the client's buffer is full. When the client
leaves, the iterator is closed (GeneratorExit inside a generator) at its next item, or at
once if it waits for the client. An iterator that raises cuts the body short: the client
sees it incomplete, never a clean end.
"""

import threading

from . import _lib
from ._keys import Keys
from .errors import report

lib = _lib.lib

# The threads waiting for room in their stream, by the key their callback carries (a
# ctypes callback cannot hold a Python object, and one callback serves all).
_waiting = Keys()


def _writable(res_ptr, key):
    """Runs on a server I/O thread when a stream has room again, or its client left."""
    event = _waiting.get(key)
    if event is not None:
        event.set()


_ON_WRITABLE = _lib.WRITABLE_CALLBACK(_writable)


def as_bytes(item):
    """A streamed body's item as bytes: str as UTF-8; anything else but bytes is refused."""
    if isinstance(item, str):
        return item.encode("utf-8")
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item)
    raise TypeError("a streamed body's items must be str or bytes, not %s"
                    % type(item).__name__)


# What a write came to (see try_write).
SENT, GONE, FULL = "sent", "gone", "full"


def try_write(res, data, on_room, key, clear):
    """Queues `data` on the streamed response `res`: SENT; GONE, the client left; or FULL,
    nothing queued: then `clear()` has been called and `on_room` registered to run with
    `key` once there is room again (or the client leaves), for the caller to wait on what
    `clear` cleared and write again."""
    result = lib.roost_response_write(res, data, len(data))
    if result == _lib.OK:
        return SENT
    if result == _lib.ERR_CLOSED:
        return GONE
    if result != _lib.ERR_AGAIN:
        raise _lib.Error(result, lib.roost_last_error().decode("utf-8", "replace"))
    clear()
    if lib.roost_response_on_writable(res, on_room, key) == _lib.ERR_CLOSED:
        return GONE
    return FULL


class _Writer:
    """Writes to one stream, waiting (GIL released) while it is full."""

    def __init__(self, res):
        self._res = res
        self._room = threading.Event()
        self._key = _waiting.add(self._room)

    def write(self, data):
        """True once `data` is queued; False if the client has gone."""
        while True:
            state = try_write(self._res, data, _ON_WRITABLE, self._key, self._room.clear)
            if state != FULL:
                return state == SENT
            self._room.wait()

    def close(self):
        _waiting.pop(self._key)


def _run(res, iterator, release):
    writer = _Writer(res)
    end = lib.roost_response_finish
    try:
        for item in iterator:
            data = as_bytes(item)
            if data and not writer.write(data):
                break
    except BaseException:
        end = lib.roost_response_abort
        report("roost: a streamed body raised:")
    finally:
        writer.close()
        close = getattr(iterator, "close", None)
        if close is not None:
            try:
                close()
            except BaseException:
                pass
        release()
        end(res)


def pump(res, iterator, release):
    """Streams the (sync) `iterator` into the response `res` (its head sent already) on a
    thread of its own; then calls release() and ends the response."""
    thread = threading.Thread(target=_run, args=(res, iterator, release),
                              name="roost-stream", daemon=True)
    try:
        thread.start()
    except BaseException:
        release()
        lib.roost_response_abort(res)
        raise
