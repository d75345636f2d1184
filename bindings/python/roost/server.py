"""The server: routes to Python functions, static folders, start and stop."""

import atexit
import ctypes
import os
import sys
import traceback
import weakref

from . import _lib, streaming
from .deferred import Deferred
from .request import Request
from .response import write

lib = _lib.lib

# Callbacks of servers that could not be freed (closed from one of their own handlers, then
# dropped): the library may still call them, so they must never be collected.
_orphaned_callbacks = []

# Servers not closed yet. At exit they are closed before the interpreter goes away, so no
# worker thread calls a Python handler into a finalizing interpreter.
_open_servers = weakref.WeakSet()


@atexit.register
def _close_open_servers():
    # A server belongs to the process that started it: in a forked child this does
    # nothing (closing a server there only releases the child's copy anyway).
    for server in list(_open_servers):
        if server._pid == os.getpid():
            server.close()


def _bounded(name, value, low, high):
    value = int(value)
    if not low <= value <= high:
        raise ValueError("%s must be between %d and %d, not %d" % (name, low, high, value))
    return value


class Server:
    """An HTTP server running on the library's own threads.

    Options are keyword arguments: host, port (0 picks a free one), threads (0: one per
    CPU), max_connections, max_head_bytes, max_uri_bytes, max_headers, max_body_bytes,
    max_buffered_body_bytes (request bodies held in memory at once, across connections;
    default 256 MiB), stream_buffer_bytes (what a streamed response may hold queued before
    its producer waits; default 256 KiB), handler_threads and handler_queue (see below), and timeouts in
    seconds: header_timeout, keepalive_timeout, body_timeout, write_timeout,
    shutdown_timeout. Register routes and static folders, then start().

    Handlers run on the server's I/O threads, or with handler_threads=N on N threads of
    their own, so that a slow handler never stalls static files or other connections;
    handler_queue requests (default 1024) may wait for those threads, past that the
    answer is 503. Python runs one handler at a time either way (the GIL).
    """

    _SECONDS = ("header_timeout", "keepalive_timeout", "body_timeout", "write_timeout",
                "shutdown_timeout")
    # The most each count may be: ctypes would silently wrap a larger or negative value.
    _COUNTS = {"threads": 2**32 - 1, "max_connections": 2**32 - 1, "max_head_bytes": 2**32 - 1,
               "max_uri_bytes": 2**32 - 1, "max_headers": 2**32 - 1, "max_body_bytes": 2**64 - 1,
               "handler_threads": 2**32 - 1, "handler_queue": 2**32 - 1,
               "max_buffered_body_bytes": 2**64 - 1, "stream_buffer_bytes": 2**64 - 1}

    def __init__(self, host="127.0.0.1", port=8080, **options):
        self._handle = None
        self._callbacks = []
        self._pid = os.getpid()
        opts = _lib.roost_options()
        lib.roost_options_init(ctypes.byref(opts), ctypes.sizeof(opts))
        self._host = ctypes.create_string_buffer(host.encode(), len(host.encode()))
        opts.host, opts.host_len = ctypes.addressof(self._host), len(self._host)
        opts.port = _bounded("port", port, 0, 0xFFFF)
        for name, value in options.items():
            if name in self._SECONDS:
                ms = round(value * 1000)
                setattr(opts, name + "_ms", _bounded(name + " in ms", ms, 1, 2**32 - 1))
            elif name in self._COUNTS:
                setattr(opts, name, _bounded(name, value, 0, self._COUNTS[name]))
            else:
                raise TypeError("Server() got an unexpected option %r" % name)
        handle = ctypes.c_void_p()
        lib.roost_server_new(ctypes.byref(opts), ctypes.byref(handle))
        self._handle = handle
        # The library calls self._callbacks; they must live as long as the server.
        _open_servers.add(self)

    def route(self, method, pattern):
        """Decorator: route `method` requests matching `pattern` ("/hello/{name}",
        "/files/*") to the function, which takes a Request and returns the response:
        str, bytes, dict/list (JSON), roost.File, None, a generator or other iterator of
        str/bytes (streamed), (status, body) or (status, headers, body)."""

        def register(func):
            self.add_route(method, pattern, func)
            return func

        return register

    def add_route(self, method, pattern, func):
        """Like route(), without the decorator."""

        def call(req_ptr, res_ptr, _userdata):
            request = Request(req_ptr, res_ptr)
            deferred = False
            try:
                result = func(request)
                if isinstance(result, Deferred) and result is request._deferred:
                    deferred = True
                    return _lib.HANDLER_DEFERRED
                body = write(res_ptr, result)
                if body is not None:
                    # Streamed: the request stays readable until the body has ended.
                    deferred = True
                    if request._deferred is not None:
                        request._deferred._abandon()
                    streaming.pump(res_ptr, body, request._release)
                    return _lib.HANDLER_DEFERRED
                return _lib.HANDLER_DONE
            except BaseException:
                # A handler that raises gets a 500; the server goes on. Reporting must not
                # raise in turn (stderr may be closed): nothing may escape into ctypes.
                try:
                    print("roost: handler for %s %s raised:" % (method, pattern), file=sys.stderr)
                    traceback.print_exc()
                except BaseException:
                    pass
                return _lib.HANDLER_FAILED
            finally:
                if not deferred:
                    # A Deferred the handler made but did not return is answered now.
                    if request._deferred is not None:
                        request._deferred._abandon()
                    request._release()

        callback = _lib.HANDLER(call)
        method_b, pattern_b = method.encode(), pattern.encode()
        lib.roost_server_route(self._live(), method_b, len(method_b), pattern_b, len(pattern_b),
                               callback, None)
        self._callbacks.append(callback)

    def static(self, prefix, directory, cache_control=None, listing=False, revalidate=1.0):
        """Serve the files under `directory` at URL `prefix` ("/" for the whole site).
        `cache_control` (e.g. "max-age=3600") is sent with every file; `listing` lists
        directories that have no index.html instead of answering 404; a file changed on
        disk is served changed at most `revalidate` seconds later (0: at once)."""
        if not 0 <= revalidate < 2**64 / 1000:
            raise ValueError("revalidate must be a number of seconds, 0 or more")
        opts = _lib.roost_mount_options()
        lib.roost_mount_options_init(ctypes.byref(opts), ctypes.sizeof(opts))
        value = None
        if cache_control is not None:
            value = ctypes.create_string_buffer(cache_control.encode("latin-1"), len(cache_control))
            opts.cache_control, opts.cache_control_len = ctypes.addressof(value), len(cache_control)
        opts.listing = bool(listing)
        opts.revalidate_ms = round(revalidate * 1000)
        prefix_b, dir_b = prefix.encode(), os.fsencode(directory)
        lib.roost_server_static_with(self._live(), prefix_b, len(prefix_b), dir_b, len(dir_b),
                                     ctypes.byref(opts))

    def start(self):
        """Bind and serve; returns once listening."""
        lib.roost_server_start(self._live())

    @property
    def port(self):
        """The port listened on (the real one with port=0), 0 when not running."""
        return lib.roost_server_port(self._live())

    def stop(self):
        """Stop gracefully: refuse new connections, finish responses in flight, join the
        threads. Does nothing if not running."""
        lib.roost_server_stop(self._live())

    def close(self):
        """Stop if needed and free the server. Safe to call more than once. From one of
        the server's own handlers it raises roost.Error and changes nothing."""
        handle = getattr(self, "_handle", None)
        if not handle:
            return
        lib.roost_server_free(handle)
        self._handle = None
        self._callbacks = []
        _open_servers.discard(self)

    def _live(self):
        if not self._handle:
            raise ValueError("roost: the server is closed")
        return self._handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        # At interpreter shutdown the library may already be gone; never raise here.
        try:
            self.close()
        except Exception:
            # Dropped inside one of its own handlers: the server lives on, and so must
            # the functions the library calls.
            _orphaned_callbacks.extend(getattr(self, "_callbacks", []))
