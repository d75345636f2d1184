"""`async def` handlers and async iterables as bodies, on one asyncio event loop that the
server owns (a thread of its own, started with the first coroutine). A pending coroutine
costs no thread, so thousands of long polls wait on one; a client that leaves cancels its
handler's coroutine (CancelledError inside it)."""

import asyncio
import threading

from . import _lib, streaming
from ._keys import Keys
from .errors import report
from .response import respond

lib = _lib.lib

# What a callback from the library needs, by the key it carries (a ctypes callback cannot
# hold a Python object, and one callback serves all): (loop, function to call on it).
_waiting = Keys()


def _register(loop, fn):
    return _waiting.add((loop, fn))


def _forget(key):
    _waiting.pop(key)


def _wake(res_ptr, key):
    """Runs on a server I/O thread (client gone, or room in a stream): hands the news to
    the loop."""
    entry = _waiting.get(key)
    if entry is not None:
        loop, fn = entry
        try:
            loop.call_soon_threadsafe(fn)
        except RuntimeError:  # the loop is closed: the server is gone
            pass


_ON_EVENT = _lib.CLOSE_CALLBACK(_wake)


class Loop:
    """The server's event loop thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._loop = None
        self._thread = None

    def _running(self):
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                                name="roost-asyncio")
                self._thread.start()
            return self._loop

    def answer(self, coro, request, res, report):
        """Runs the handler's coroutine `coro` on the loop, then sends what it returns."""
        loop = self._running()
        asyncio.run_coroutine_threadsafe(_answer(coro, request, res, report, loop), loop)

    def stream(self, res, body, release):
        """Streams `body` into the response `res` (its head sent): an async iterable on the
        loop, any other iterable on a thread of its own; then release() and the end."""
        if not hasattr(body, "__aiter__"):
            return streaming.pump(res, body, release)
        loop = self._running()
        asyncio.run_coroutine_threadsafe(pump(res, body, release, loop), loop)

    def close(self):
        """Cancels what still runs and stops the loop (the server is stopped: its clients
        are gone)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None:
            return

        async def shut_down():
            # Cancelled, then awaited: their cleanup (which finishes their responses, so
            # that the library lets go of them) runs to its end.
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await loop.shutdown_asyncgens()

        try:
            asyncio.run_coroutine_threadsafe(shut_down(), loop).result(timeout=10)
        except Exception:
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()

    def owns_current_thread(self):
        with self._lock:
            return self._thread is threading.current_thread()


async def _answer(coro, request, res, report, loop):
    task = asyncio.current_task()
    key = _register(loop, task.cancel)
    # A client that leaves cancels the handler; a finish under way hears nothing more.
    if lib.roost_response_on_close(res, _ON_EVENT, key) == _lib.ERR_CLOSED:
        task.cancel()  # gone already: CancelledError at the handler's first await
    later = False
    try:
        result = await coro
        lib.roost_response_on_close(res, _lib.CLOSE_CALLBACK(), None)
        body = respond(res, result)
        if body is not None:
            later = True
            if hasattr(body, "__aiter__"):
                await pump(res, body, request._release, loop)
            else:
                streaming.pump(res, body, request._release)
    except asyncio.CancelledError:
        if not later:
            lib.roost_response_abort(res)  # the client left: nothing is sent
    except _lib.Error as e:
        if e.code != _lib.ERR_CLOSED:
            report()
        if not later:
            lib.roost_response_abort(res)
    except BaseException:
        report()
        if not later:
            lib.roost_response_abort(res)
    finally:
        _forget(key)
        if not later:
            request._release()


async def pump(res, aiterable, release, loop):
    """Writes each item of `aiterable` to the streamed response `res`, waiting (on the
    loop) while its buffer is full; ends the response."""
    room = asyncio.Event()
    key = _register(loop, room.set)
    end = lib.roost_response_finish
    iterator = aiterable.__aiter__()
    try:
        async for item in iterator:
            data = streaming.as_bytes(item)
            if data and not await _write(res, data, room, key):
                break
    except asyncio.CancelledError:
        end = lib.roost_response_abort
    except BaseException:
        end = lib.roost_response_abort
        report("roost: a streamed body raised:")
    finally:
        _forget(key)
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            try:
                await aclose()
            except BaseException:
                pass
        release()
        end(res)


async def _write(res, data, room, key):
    """True once `data` is queued; False if the client has gone."""
    while True:
        state = streaming.try_write(res, data, _ON_EVENT, key, room.clear)
        if state != streaming.FULL:
            return state == streaming.SENT
        await room.wait()
