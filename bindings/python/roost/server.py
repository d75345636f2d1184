"""The server: routes to Python functions, static folders, start and stop."""

import atexit
import ctypes
import inspect
import os
import threading
import weakref

from . import _lib
from .deferred import Deferred
from .errors import BodyError, Error, report
from .loop import Loop
from .request import Request
from .response import respond

lib = _lib.lib

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


def _pem_source(value):
    """(file path bytes, PEM bytes) for a path or PEM bytes."""
    if isinstance(value, (bytes, bytearray)):
        return None, bytes(value)
    return os.fsencode(value), None


def _tls_options(cert, key, client_ca=None):
    """A roost_tls_options with these sources, and the buffers it points into (keep them
    until the call that reads it returns)."""
    opts = _lib.roost_tls_options()
    lib.roost_tls_options_init(ctypes.byref(opts), ctypes.sizeof(opts))
    kept = []
    for name, value in (("cert", cert), ("key", key), ("client_ca", client_ca)):
        if value is None:
            continue
        path, pem = _pem_source(value)
        field, data = (name + "_file", path) if path is not None else (name + "_pem", pem)
        buffer = ctypes.create_string_buffer(data, len(data))
        kept.append(buffer)
        setattr(opts, field, ctypes.addressof(buffer))
        setattr(opts, field + "_len", len(data))
    return opts, kept


class Server:
    """An HTTP server running on the library's own threads.

    Options are keyword arguments: host, port (0 picks a free one), threads (0: one per
    CPU), max_connections, max_head_bytes, max_uri_bytes, max_headers, max_body_bytes,
    max_buffered_body_bytes (request bodies held in memory at once, across connections;
    default 256 MiB), stream_buffer_bytes (what a streamed response may hold queued before
    its producer waits; default 256 KiB), handler_threads and handler_queue (see below), and
    timeouts in seconds: header_timeout, keepalive_timeout, body_timeout, write_timeout,
    shutdown_timeout. Register routes and static folders, then start().

    HTTPS: tls_cert and tls_key (a PEM file's path, or PEM bytes) make the host/port
    listener serve TLS (tls=False keeps it plain, for a TLS listener added with listen());
    add_certificate() adds more certificates, chosen by the name clients ask for (SNI).
    tls_client_ca (path or PEM bytes) asks clients for certificates from those CAs,
    required unless tls_client_auth="optional"; tls_min_version is "1.2" (default) or "1.3".
    listen() adds listeners, plain or TLS; reload_tls() reads the certificate files again.

    Handlers run on threads of this program's own, handler_threads of them (default 4),
    which wait for requests with the GIL released; the server's I/O threads never run
    Python code, so a slow handler never stalls static files or other connections.
    handler_queue requests (default 1024) may wait for a thread; past that the answer is
    503. Python runs one handler at a time (the GIL) unless handlers wait (for I/O, a lock,
    time.sleep), which other handlers then use.
    """

    _SECONDS = ("header_timeout", "keepalive_timeout", "body_timeout", "write_timeout",
                "shutdown_timeout")
    # The most each count may be: ctypes would silently wrap a larger or negative value.
    _COUNTS = {"threads": 2**32 - 1, "max_connections": 2**32 - 1, "max_head_bytes": 2**32 - 1,
               "max_uri_bytes": 2**32 - 1, "max_headers": 2**32 - 1, "max_body_bytes": 2**64 - 1,
               "handler_queue": 2**32 - 1,
               "max_buffered_body_bytes": 2**64 - 1, "stream_buffer_bytes": 2**64 - 1}

    def __init__(self, host="127.0.0.1", port=8080, handler_threads=4, tls_cert=None,
                 tls_key=None, tls_client_ca=None, tls_client_auth=None, tls_min_version=None,
                 tls=None, **options):
        self._handle = None
        self._routes = []
        self._threads = []
        self._loop = Loop()
        self._thread_count = _bounded("handler_threads", handler_threads, 1, 1024)
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
        if (tls_cert is None) != (tls_key is None):
            raise TypeError("Server() needs tls_cert and tls_key together")
        if tls is None:
            tls = tls_cert is not None
        if tls and tls_cert is None:
            raise TypeError("Server(tls=True) needs tls_cert and tls_key")
        opts.listen_flags = _lib.LISTEN_TLS if tls else 0
        handle = ctypes.c_void_p()
        lib.roost_server_new(ctypes.byref(opts), ctypes.byref(handle))
        self._handle = handle
        _open_servers.add(self)
        if tls_cert is not None:
            if tls_client_auth not in _lib.CLIENT_AUTH:
                raise ValueError("tls_client_auth must be None, \"optional\" or \"required\"")
            if tls_min_version is not None and tls_min_version not in _lib.TLS_VERSIONS:
                raise ValueError("tls_min_version must be \"1.2\" or \"1.3\"")
            if tls_client_ca is not None and tls_client_auth is None:
                tls_client_auth = "required"
            tls_opts, kept = _tls_options(tls_cert, tls_key, tls_client_ca)
            tls_opts.client_auth = _lib.CLIENT_AUTH[tls_client_auth]
            if tls_min_version is not None:
                tls_opts.min_version = _lib.TLS_VERSIONS[tls_min_version]
            lib.roost_server_tls(handle, ctypes.byref(tls_opts))
            del kept
        elif tls_client_ca is not None or tls_client_auth is not None:
            raise TypeError("client certificates need tls_cert and tls_key")

    def add_certificate(self, cert, key):
        """Another certificate (with its key: paths of PEM files, or PEM bytes), chosen for
        the clients that ask for one of its DNS names; the first (tls_cert) serves the
        others. Before start()."""
        opts, kept = _tls_options(cert, key)
        lib.roost_server_add_certificate(self._live(), ctypes.byref(opts))
        del kept

    def listen(self, host, port, tls=False, redirect_https=False):
        """Also listen on `host` and `port` (0 picks a free one: see ports): HTTPS with
        tls=True (with the server's certificates), or plain HTTP, which with
        redirect_https=True answers every request with 308 to the same URL on the first TLS
        listener. Before start()."""
        flags = (_lib.LISTEN_TLS if tls else 0) | (_lib.LISTEN_REDIRECT_HTTPS if redirect_https else 0)
        host_b = host.encode()
        lib.roost_server_listen(self._live(), host_b, len(host_b), _bounded("port", port, 0, 0xFFFF),
                                flags)

    def reload_tls(self):
        """Read the certificate, key and CA files again: new handshakes use them, open
        connections keep theirs. On an error (roost.Error naming the file) the certificates
        in use stay."""
        lib.roost_server_reload_tls(self._live())

    def route(self, method, pattern, max_body=None, stream_body=False, stream_buffer=None):
        """Decorator: route `method` requests matching `pattern` ("/hello/{name}",
        "/files/*") to the function, which takes a Request and returns the response:
        str, bytes, dict/list (JSON), roost.File, None, a generator or other iterator of
        str/bytes, or an async iterable (streamed), a roost.EventStream, (status, body) or
        (status, headers, body). An async def function runs on the server's event loop.
        `max_body` bounds the request content this route takes, in bytes (more or less than
        the server's max_body_bytes): past it, 413, before any of it is read. With
        `stream_body`, the function is called once the head has arrived and reads the
        content as it arrives from `req.stream`; nothing of it is read before it does, and
        at most `stream_buffer` bytes of it (default: the server's stream_buffer_bytes) are
        held ahead of its reads."""

        def register(func):
            self.add_route(method, pattern, func, max_body=max_body, stream_body=stream_body,
                           stream_buffer=stream_buffer)
            return func

        return register

    def add_route(self, method, pattern, func, max_body=None, stream_body=False,
                  stream_buffer=None):
        """Like route(), without the decorator."""
        if stream_body and inspect.iscoroutinefunction(func):
            # Each read waits for the client: on the event loop it would hold up every
            # other async handler.
            raise TypeError("stream_body routes take a plain def function: reading the "
                            "body waits for the client")
        method_b, pattern_b = method.encode(), pattern.encode()
        opts = _lib.roost_route_options()
        lib.roost_route_options_init(ctypes.byref(opts), ctypes.sizeof(opts))
        if max_body is not None:
            opts.max_body_bytes = _bounded("max_body", max_body, 1, 2**64 - 1)
        opts.stream_body = bool(stream_body)
        if stream_buffer is not None:
            opts.stream_buffer_bytes = _bounded("stream_buffer", stream_buffer, 1, 2**64 - 1)
        # No C handler: this program's threads take the route's requests (roost_server_next),
        # and the userdata says which function answers them.
        lib.roost_server_route_with(self._live(), method_b, len(method_b), pattern_b,
                                    len(pattern_b), _lib.HANDLER(), len(self._routes) + 1,
                                    ctypes.byref(opts))
        self._routes.append((method, pattern, func, bool(stream_body)))

    def _serve(self, handle):
        """A handler thread: takes requests until the server stops."""
        req, res = ctypes.c_void_p(), ctypes.c_void_p()
        req_out, res_out = ctypes.byref(req), ctypes.byref(res)
        next_now, next_waiting = _lib.next_now, lib.roost_server_next
        while True:
            result = next_now(handle, 0, req_out, res_out)
            if result == _lib.ERR_TIMEOUT:
                # None waiting: wait with the GIL released.
                result = next_waiting(handle, -1, req_out, res_out)
            if result != _lib.OK:
                return
            index = lib.roost_request_userdata(req)
            if not index:  # no route of ours (cannot happen): nothing to answer with
                lib.roost_response_abort(res)
                continue
            self._answer(self._routes[index - 1], req.value, res.value)

    def _answer(self, route, req_ptr, res_ptr):
        method, pattern, func, streams = route
        request = Request(req_ptr, res_ptr, self._loop, streams)
        later = False
        try:
            result = func(request)
            if inspect.iscoroutine(result):
                # An async def handler: it runs on the server's event loop, which answers.
                self._loop.answer(result, request, res_ptr, lambda: self._report(method, pattern))
                later = True
                return
            if isinstance(result, Deferred) and result is request._deferred:
                later = True
                return
            if request._deferred is not None:
                # A Deferred the handler made but did not return: answered now.
                request._deferred._abandon()
            body = respond(res_ptr, result)
            if body is not None:
                # Streamed: the request stays readable until the body has ended.
                later = True
                self._loop.stream(res_ptr, body, request._release)
        except BodyError as e:
            # The client's failure, not the handler's: answered as it deserves.
            if not later:
                if e.code == _lib.ERR_CLOSED:
                    lib.roost_response_abort(res_ptr)
                else:
                    message = str(e).encode()
                    lib.roost_response_send(res_ptr, e.status, None, 0, message, len(message))
        except Error as e:
            if e.code != _lib.ERR_CLOSED:  # a client that left mid-way is no error
                self._report(method, pattern)
            if not later:
                lib.roost_response_abort(res_ptr)
        except BaseException:
            self._report(method, pattern)
            if not later:
                lib.roost_response_abort(res_ptr)
        finally:
            if not later:
                request._release()

    @staticmethod
    def _report(method, pattern):
        """A handler that raises gets a 500; the server goes on."""
        report("roost: handler for %s %s raised:" % (method, pattern))

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
        handle = self._live()
        lib.roost_server_start(handle)
        for i in range(self._thread_count):
            thread = threading.Thread(target=self._serve, args=(handle,), daemon=True,
                                      name="roost-python-%d" % i)
            thread.start()
            self._threads.append(thread)

    @property
    def port(self):
        """The port listened on (the real one with port=0), 0 when not running."""
        return lib.roost_server_port(self._live())

    @property
    def ports(self):
        """The ports of all listeners while running: host/port's first, then those of
        listen() in order; [] when not running."""
        handle, ports = self._live(), []
        while True:
            port = lib.roost_server_listener_port(handle, len(ports))
            if not port:
                return ports
            ports.append(port)

    def stop(self):
        """Stop gracefully: refuse new connections, finish responses in flight, join the
        threads. Does nothing if not running. From one of the server's own handlers it
        raises roost.Error (it would wait for itself)."""
        handle = self._live()
        self._refuse_from_own_handler("stop")
        lib.roost_server_stop(handle)
        # The stop woke the handler threads; they end with the handler they run.
        threads, self._threads = self._threads, []
        for thread in threads:
            thread.join()
        # Its clients are gone: what still runs on the event loop is cancelled.
        self._loop.close()

    def _refuse_from_own_handler(self, what):
        current = threading.current_thread()
        # Its handler threads, its event loop, and the threads that pump its streams: the
        # stop would wait for each of them.
        if current in self._threads or self._loop.owns_current_thread() or \
                current.name in ("roost-stream", "roost-events"):
            raise Error(_lib.ERR_STATE, "roost: %s called from one of the server's own "
                                        "handlers" % what)

    def close(self):
        """Stop if needed and free the server. Safe to call more than once. From one of
        the server's own handlers it raises roost.Error and changes nothing."""
        handle = getattr(self, "_handle", None)
        if not handle:
            return
        self.stop()
        lib.roost_server_free(handle)
        self._handle = None
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
            # Dropped inside one of its own handlers: the server lives on.
            pass
