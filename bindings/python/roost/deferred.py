"""Responses answered later, from any thread: a handler returns req.defer()."""

import threading
import weakref

from . import _lib
from ._keys import Keys
from .response import respond

lib = _lib.lib

# The Deferred objects whose client may still leave, by the key their on_close callback
# carries (a ctypes callback cannot hold a Python object, and one callback serves all).
_waiting = Keys()


def _client_left(res_ptr, key):
    """Runs on one of the server's I/O threads when a deferred response's client leaves."""
    deferred = _waiting.pop(key)
    if deferred is not None:
        deferred._client_left()


_ON_CLOSE = _lib.CLOSE_CALLBACK(_client_left)


class Deferred:
    """A response to finish later. A handler gets one from req.defer() and returns it;
    then any thread calls respond(...) once, with what a handler may return:

        @srv.route("GET", "/wait")
        def wait(req):
            later = req.defer()
            jobs.put(later)           # a worker thread calls later.respond("done")
            return later

    `closed` says whether the client has left (respond then sends nothing), and
    on_close(fn) calls fn() when it leaves (on a server thread: keep it short)."""

    def __init__(self, request, res_ptr):
        self._request = request
        self._res = res_ptr
        self._lock = threading.Lock()
        self._done = False
        self._closed = False
        self._callbacks = []
        self._key = _waiting.add(self)
        if lib.roost_response_on_close(res_ptr, _ON_CLOSE, self._key) == _lib.ERR_CLOSED:
            # Gone before we could watch: as if its callback had run.
            _waiting.pop(self._key)
            self._closed = True
        # One that is dropped without respond() (after its client left, say) is finished
        # then, so that the library's memory for it goes back.
        self._finalizer = weakref.finalize(self, lib.roost_response_finish, res_ptr)
        self._finalizer.atexit = False  # at exit, the server's own stop closes it

    @property
    def closed(self):
        return self._closed

    def on_close(self, fn):
        """Calls fn() once if the client leaves before respond(); at once if it has."""
        with self._lock:
            if not self._closed:
                self._callbacks.append(fn)
                return
        fn()

    def respond(self, body=b"", status=200, headers=None):
        """Sends the response: body as a handler would return it (str, bytes, dict, list,
        roost.File, an iterator to stream, or None). Once only; a client that left gets nothing. A body that cannot
        be sent raises (TypeError, ValueError) after answering 500."""
        with self._lock:
            if self._done:
                raise RuntimeError("roost: Deferred.respond called twice")
            self._done = True
        _waiting.pop(self._key)
        streamed = None
        try:
            if self._closed:
                lib.roost_response_finish(self._res)
            else:
                streamed = respond(self._res, (status, headers, body))
        except BaseException:
            lib.roost_response_abort(self._res)  # 500, unless the client left meanwhile
            raise
        finally:
            # No on_close runs once the finish has begun; one under way finds no key.
            self._finalizer.detach()
            if streamed is None:
                self._request._release()
        if streamed is not None:
            self._request._loop.stream(self._res, streamed, self._request._release)

    def _abandon(self):
        """The handler answered at once after all: nothing is deferred."""
        self._finalizer.detach()
        with self._lock:
            self._done = True
        _waiting.pop(self._key)

    def _client_left(self):
        with self._lock:
            self._closed = True
            callbacks, self._callbacks = self._callbacks, []
        for fn in callbacks:
            try:
                fn()
            except BaseException:
                pass
