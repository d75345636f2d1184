"""The request a Python handler receives."""

import ctypes
import io
from collections.abc import Mapping

from . import _lib
from .deferred import Deferred
from .errors import BodyError

lib = _lib.lib


class Headers(Mapping):
    """Header fields in arrival order; lookups ignore case and give the first value."""

    def __init__(self, pairs):
        self._pairs = pairs
        self._first = {}
        for name, value in pairs:
            self._first.setdefault(name.lower(), value)

    def __getitem__(self, name):
        return self._first[name.lower()]

    def __contains__(self, name):
        return isinstance(name, str) and name.lower() in self._first

    def __iter__(self):
        seen = set()
        for name, _ in self._pairs:
            if name.lower() not in seen:
                seen.add(name.lower())
                yield name

    def __len__(self):
        return len(self._first)

    def get_all(self, name):
        """Every value of `name`, in arrival order."""
        return [v for n, v in self._pairs if n.lower() == name.lower()]

    def items(self):
        """Every (name, value) line, in arrival order, repeats included."""
        return list(self._pairs)

    def __repr__(self):
        return "Headers(%r)" % (self._pairs,)


def _pairs(ptr, count, at):
    """The (name, value) pairs a count/at pair of library functions gives, as text."""
    name, value = _lib.roost_str(), _lib.roost_str()
    pairs = []
    for i in range(count(ptr)):
        if at(ptr, i, ctypes.byref(name), ctypes.byref(value)) == 0:
            pairs.append((name.bytes().decode("utf-8", "replace"),
                          value.bytes().decode("utf-8", "replace")))
    return pairs


class BodyStream(io.RawIOBase):
    """The request content as a binary file, read as it arrives: `read(n)` (which, like
    a socket's, may give fewer bytes than asked; b"" at the end), `read()` for the rest,
    `readinto(buffer)`, `readline()`/`readlines()`, and iteration, which gives the content
    in pieces as they arrive (not lines: an upload may have none, and a line could be the
    whole of it). A read waits, with the GIL released, until bytes arrive; the first lets
    the client send them (100 Continue). A client that leaves, stalls or sends too much
    raises roost.BodyError. The stream closes when the exchange ends (the handler returned,
    or the deferred response was sent); reading it then raises ValueError."""

    PIECE = 64 * 1024

    def __init__(self, request):
        super().__init__()
        self._request = request

    def readable(self):
        return True

    def readinto(self, buffer):
        self._checkClosed()
        ptr = self._request._ptr
        if ptr is None:
            self.close()
            self._checkClosed()
        view = memoryview(buffer).cast("B")
        if len(view) == 0:
            return 0
        if view.readonly:
            raise TypeError("readinto() needs a writable buffer")
        target = (ctypes.c_char * len(view)).from_buffer(view)
        count = ctypes.c_size_t()
        result = lib.roost_request_read(ptr, ctypes.addressof(target), len(view),
                                        ctypes.byref(count))
        if result != _lib.OK:
            raise BodyError(result, lib.roost_last_error().decode("utf-8", "replace"))
        return count.value

    def __iter__(self):
        self._checkClosed()
        return self

    def __next__(self):
        piece = self.read(self.PIECE)
        if not piece:
            raise StopIteration
        return piece

    def readlines(self, hint=-1):
        """Lines, as a file's readlines() gives them (iteration gives pieces)."""
        lines, size = [], 0
        for line in iter(self.readline, b""):
            lines.append(line)
            size += len(line)
            if 0 < hint <= size:
                break
        return lines


class Request:
    """One request, read from the library during the handler call.

    Attributes are read on first use; after the handler returns, the library's memory is
    gone, so only what the handler already read stays available.
    """

    def __init__(self, ptr, res_ptr, loop, streams=False):
        self._ptr = ptr
        self._res = res_ptr
        self._streams = streams
        self._stream = None
        self._cache = {}
        self._deferred = None
        # The server's event loop: a Deferred streams its body through it.
        self._loop = loop

    def _release(self):
        self._ptr = None
        if self._stream is not None:
            self._stream.close()

    def defer(self):
        """A roost.Deferred for this request, to return from the handler and respond to
        later, from any thread. The request stays readable until then."""
        if self._ptr is None or self._res is None:
            raise RuntimeError("roost: defer() is for a handler's own request, during the call")
        if self._deferred is None:
            self._deferred = Deferred(self, self._res)
        return self._deferred

    def _get(self, key, read):
        if key not in self._cache:
            if self._ptr is None:
                raise RuntimeError("roost: request used after its handler returned")
            self._cache[key] = read(self._ptr)
        return self._cache[key]

    @property
    def method(self):
        """The method, e.g. "GET"."""
        return self._get("method", lambda p: lib.roost_request_method(p).bytes().decode("ascii"))

    @property
    def path(self):
        """The path, percent-decoded and normalized: "/hello/bob"."""
        return self._get(
            "path", lambda p: lib.roost_request_path(p).bytes().decode("utf-8", "replace")
        )

    @property
    def target(self):
        """The request target as received, still encoded: "/hello/b%6Fb?x=1"."""
        return self._get("target", lambda p: lib.roost_request_target(p).bytes().decode("ascii"))

    @property
    def raw_query(self):
        """The query after "?", still encoded ("" when there is none)."""
        return self._get("raw_query", lambda p: lib.roost_request_query(p).bytes().decode("ascii"))

    @property
    def host(self):
        """The authority the request is for ("example.com:8080"): from an absolute target
        (GET http://example.com:8080/ HTTP/1.1), else the Host header; None without either."""

        def read(p):
            view = lib.roost_request_authority(p)
            return view.bytes().decode("latin-1") if view.ptr else None

        return self._get("host", read)

    @property
    def query(self):
        """The query parameters, decoded by the library: {"q": "two words"}. The first of
        repeats wins."""

        def read(p):
            values = {}
            for key, value in _pairs(p, lib.roost_request_query_count, lib.roost_request_query_at):
                values.setdefault(key, value)
            return values

        return self._get("query", read)

    @property
    def headers(self):
        """The header fields: a case-insensitive mapping (see Headers)."""

        def read(p):
            pairs = []
            name, value = _lib.roost_str(), _lib.roost_str()
            for i in range(lib.roost_request_header_count(p)):
                if lib.roost_request_header_at(p, i, ctypes.byref(name), ctypes.byref(value)) == 0:
                    pairs.append((name.bytes().decode("latin-1"), value.bytes().decode("latin-1")))
            return Headers(pairs)

        return self._get("headers", read)

    @property
    def params(self):
        """The path parameters of the route, decoded: {"name": "bob"}; a trailing wildcard
        is under "*"."""

        def read(p):
            return dict(_pairs(p, lib.roost_request_param_count, lib.roost_request_param_at))

        return self._get("params", read)

    @property
    def body(self):
        """The request content as bytes, de-chunked (b"" when there is none). On a route
        with stream_body=True it is read whole from the stream on first use (bounded by the
        route's max_body); what was read from `stream` before is not in it."""
        if self._streams:
            return self._get("body", lambda p: self.stream.read())
        return self._get("body", lambda p: lib.roost_request_body(p).bytes())

    @property
    def stream(self):
        """The request content as a binary file (see BodyStream), read as it arrives on a
        route with stream_body=True, from memory on others."""
        if self._stream is None:
            self._stream = BodyStream(self)
        return self._stream

    @property
    def peer(self):
        """The client's (ip, port)."""

        def read(p):
            addr, port = _lib.roost_str(), ctypes.c_uint16()
            lib.roost_request_peer(p, ctypes.byref(addr), ctypes.byref(port))
            return (addr.bytes().decode("ascii"), port.value)

        return self._get("peer", read)

    @property
    def tls(self):
        """What the request knows of its TLS connection, or None over plain HTTP: a dict
        with "version" ("TLSv1.3"), "cipher" ("TLS_AES_128_GCM_SHA256"), "server_name"
        (the name the client asked for, SNI, or None), "alpn" ("http/1.1" or None) and
        "client_subject" (the verified client certificate's subject, "CN=alice,O=Example",
        or None)."""

        def read(p):
            info = _lib.roost_tls_info()
            if lib.roost_request_tls(p, ctypes.byref(info), ctypes.sizeof(info)) != _lib.OK:
                return None

            def text(view):
                return view.bytes().decode("utf-8", "replace") if view.ptr else None

            return {name: text(getattr(info, name))
                    for name in ("version", "cipher", "server_name", "alpn", "client_subject")}

        return self._get("tls", read)

    def __repr__(self):
        if self._ptr is None and "method" not in self._cache:
            return "<roost.Request (finished)>"
        return "<roost.Request %s %s>" % (self.method, self.path)
