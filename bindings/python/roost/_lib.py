"""Finds libroost.so, loads it, and declares every C function it uses, in one place."""

import ctypes
import os
import pathlib

from .errors import Error

_PACKAGE_DIR = pathlib.Path(__file__).resolve().parent
_REPO_ROOT = _PACKAGE_DIR.parent.parent.parent
_NAME = "libroost.so"


def _candidates():
    """Where the library may be, in the order the loader tries."""
    env = os.environ.get("ROOST_LIBRARY")
    if env:
        yield pathlib.Path(env)
    yield _PACKAGE_DIR / _NAME
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", _REPO_ROOT / "target"))
    yield target / "release" / _NAME
    yield target / "debug" / _NAME


def _load():
    tried = []
    for path in _candidates():
        tried.append(str(path))
        if path.is_file():
            return path
    raise ImportError(
        "roost: cannot find %s; looked at: %s. Run `cargo build --release` in the roost "
        "repository or set ROOST_LIBRARY to the library's path." % (_NAME, ", ".join(tried))
    )


path = _load()
# Two views of the library: calls that may block (waiting for a request, a stop) release
# the GIL, as ctypes does by default; the others, all quick, keep it: releasing and taking
# it back around every call lets the other Python threads in each time, and hands the GIL
# back and forth between threads several times per request.
_releasing = ctypes.CDLL(str(path))
_holding = ctypes.PyDLL(str(path))


class _Functions:
    """The library's functions, declared below."""


lib = _Functions()


class roost_str(ctypes.Structure):
    """A (pointer, length) view of bytes lent by the library."""

    _fields_ = [("ptr", ctypes.c_void_p), ("len", ctypes.c_size_t)]

    def bytes(self):
        return ctypes.string_at(self.ptr, self.len) if self.ptr else b""


class roost_options(ctypes.Structure):
    """Mirrors roost_options in include/roost.h, field for field."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        # Not c_char_p: the library's default is not NUL-terminated.
        ("host", ctypes.c_void_p),
        ("host_len", ctypes.c_size_t),
        ("port", ctypes.c_uint16),
        ("threads", ctypes.c_uint32),
        ("max_connections", ctypes.c_uint32),
        ("max_head_bytes", ctypes.c_uint32),
        ("max_uri_bytes", ctypes.c_uint32),
        ("max_headers", ctypes.c_uint32),
        ("max_body_bytes", ctypes.c_uint64),
        ("header_timeout_ms", ctypes.c_uint32),
        ("keepalive_timeout_ms", ctypes.c_uint32),
        ("body_timeout_ms", ctypes.c_uint32),
        ("write_timeout_ms", ctypes.c_uint32),
        ("shutdown_timeout_ms", ctypes.c_uint32),
        ("handler_threads", ctypes.c_uint32),
        ("handler_queue", ctypes.c_uint32),
        ("max_buffered_body_bytes", ctypes.c_uint64),
        ("stream_buffer_bytes", ctypes.c_uint64),
        ("listen_flags", ctypes.c_uint32),
    ]


class roost_tls_options(ctypes.Structure):
    """Mirrors roost_tls_options in include/roost.h."""

    _fields_ = [("size", ctypes.c_size_t)] + [
        (name + suffix, kind)
        for name in ("cert_file", "key_file", "cert_pem", "key_pem", "client_ca_file",
                     "client_ca_pem")
        for suffix, kind in (("", ctypes.c_void_p), ("_len", ctypes.c_size_t))
    ] + [("client_auth", ctypes.c_uint32), ("min_version", ctypes.c_uint32)]


class roost_tls_info(ctypes.Structure):
    """Mirrors roost_tls_info in include/roost.h."""

    _fields_ = [("size", ctypes.c_size_t), ("version", roost_str), ("cipher", roost_str),
                ("server_name", roost_str), ("alpn", roost_str), ("client_subject", roost_str)]


class roost_route_options(ctypes.Structure):
    """Mirrors roost_route_options in include/roost.h."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("max_body_bytes", ctypes.c_uint64),
        ("free_userdata", ctypes.c_void_p),
        ("on_handler_thread", ctypes.c_bool),
        ("stream_body", ctypes.c_bool),
        ("stream_buffer_bytes", ctypes.c_uint64),
    ]


class roost_mount_options(ctypes.Structure):
    """Mirrors roost_mount_options in include/roost.h."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("cache_control", ctypes.c_void_p),
        ("cache_control_len", ctypes.c_size_t),
        ("listing", ctypes.c_bool),
        ("revalidate_ms", ctypes.c_uint64),
    ]


OK = 0
ERR_INVALID = 2
ERR_STATE = 3
ERR_NOT_FOUND = 6
ERR_CLOSED = 8
ERR_AGAIN = 9
ERR_TIMEOUT = 10

LISTEN_TLS = 1
LISTEN_REDIRECT_HTTPS = 2
CLIENT_AUTH = {None: 0, "optional": 1, "required": 2}
TLS_VERSIONS = {"1.2": 0x0303, "1.3": 0x0304}

HANDLER = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
CLOSE_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
WRITABLE_CALLBACK = CLOSE_CALLBACK


def _check(result, func, args):
    """errcheck for functions returning roost_result: raise Error unless ROOST_OK."""
    if result != OK:
        raise Error(result, lib.roost_last_error().decode("utf-8", "replace"))
    return result


def _declare(name, restype, argtypes, checked=False, blocks=False):
    func = getattr(_releasing if blocks else _holding, name)
    func.restype = restype
    func.argtypes = argtypes
    if checked:
        func.errcheck = _check
    setattr(lib, name, func)
    return func


_p = ctypes.c_void_p
_s = ctypes.c_char_p
_n = ctypes.c_size_t
_r = ctypes.c_int  # roost_result
_str_out = ctypes.POINTER(roost_str)

_declare("roost_version", ctypes.c_char_p, [])
_declare("roost_result_str", ctypes.c_char_p, [ctypes.c_int32])
_declare("roost_last_error", ctypes.c_char_p, [])
_declare("roost_options_init", _r, [ctypes.POINTER(roost_options), _n], checked=True)
_declare("roost_server_new", _r, [ctypes.POINTER(roost_options), ctypes.POINTER(_p)], checked=True)
# These wait for a stop under way (roost_server_start, _stop, _free and _next too): with the
# GIL released, or the stop's callbacks into Python could never run.
_declare("roost_server_route", _r, [_p, _s, _n, _s, _n, HANDLER, _p], checked=True, blocks=True)
_declare("roost_route_options_init", _r, [ctypes.POINTER(roost_route_options), _n], checked=True)
_declare("roost_server_route_with", _r,
         [_p, _s, _n, _s, _n, HANDLER, _p, ctypes.POINTER(roost_route_options)], checked=True,
         blocks=True)
_declare("roost_server_static", _r, [_p, _s, _n, _s, _n], checked=True, blocks=True)
_declare("roost_mount_options_init", _r, [ctypes.POINTER(roost_mount_options), _n], checked=True)
_declare("roost_server_static_with", _r, [_p, _s, _n, _s, _n, ctypes.POINTER(roost_mount_options)],
         checked=True, blocks=True)
_declare("roost_server_start", _r, [_p], checked=True, blocks=True)
_declare("roost_server_port", ctypes.c_uint16, [_p])
_declare("roost_server_listener_port", ctypes.c_uint16, [_p, _n])
_declare("roost_tls_options_init", _r, [ctypes.POINTER(roost_tls_options), _n], checked=True)
_declare("roost_server_tls", _r, [_p, ctypes.POINTER(roost_tls_options)], checked=True, blocks=True)
_declare("roost_server_add_certificate", _r, [_p, ctypes.POINTER(roost_tls_options)],
         checked=True, blocks=True)
_declare("roost_server_listen", _r, [_p, _s, _n, ctypes.c_uint16, ctypes.c_uint32], checked=True,
         blocks=True)
# Reads files: with the GIL released.
_declare("roost_server_reload_tls", _r, [_p], checked=True, blocks=True)
_declare("roost_server_stop", _r, [_p], checked=True, blocks=True)
# Returns ROOST_ERR_STATE routinely (the server stops): the caller checks.
_declare("roost_server_next", _r, [_p, ctypes.c_int32, ctypes.POINTER(_p), ctypes.POINTER(_p)],
         blocks=True)
# The same, for a look without waiting (timeout 0) that keeps the GIL: under load a request
# is there at once, and a thread then goes from one to the next without letting go of it.
next_now = _holding.roost_server_next
next_now.restype = _r
next_now.argtypes = lib.roost_server_next.argtypes
_declare("roost_request_userdata", _p, [_p])
_declare("roost_server_free", _r, [_p], checked=True, blocks=True)
for _name in ("method", "path", "target", "query", "body", "authority"):
    _declare("roost_request_" + _name, roost_str, [_p])
# Lookups return ROOST_ERR_NOT_FOUND routinely: the caller checks, no errcheck.
_declare("roost_request_query_param", _r, [_p, _s, _n, _str_out])
_declare("roost_request_header", _r, [_p, _s, _n, _str_out])
_declare("roost_request_header_count", _n, [_p])
_declare("roost_request_header_at", _r, [_p, _n, _str_out, _str_out])
_declare("roost_request_param", _r, [_p, _s, _n, _str_out])
_declare("roost_request_param_count", _n, [_p])
_declare("roost_request_param_at", _r, [_p, _n, _str_out, _str_out])
_declare("roost_request_query_count", _n, [_p])
_declare("roost_request_query_at", _r, [_p, _n, _str_out, _str_out])
_declare("roost_request_peer", _r, [_p, _str_out, ctypes.POINTER(ctypes.c_uint16)])
_declare("roost_request_tls", _r, [_p, ctypes.POINTER(roost_tls_info), _n])
# Waits for the client's bytes on a streamed body: with the GIL released. Its failures are
# the client's (gone, stalled, too much): the caller checks.
_declare("roost_request_read", _r, [_p, _p, _n, ctypes.POINTER(_n)], blocks=True)
_declare("roost_response_set_status", _r, [_p, ctypes.c_uint16], checked=True)
_declare("roost_response_add_header", _r, [_p, _s, _n, _s, _n], checked=True)
_declare("roost_response_set_body", _r, [_p, _s, _n], checked=True)
_declare("roost_response_set_file", _r, [_p, _s, _n], checked=True)
_declare("roost_response_set_file_at", _r, [_p, _s, _n, _s, _n], checked=True)
_declare("roost_response_stream", _r, [_p], checked=True)
# These return ROOST_ERR_CLOSED (the client left) or ROOST_ERR_AGAIN (the stream is full)
# routinely: the caller checks.
_declare("roost_response_finish", _r, [_p])
_declare("roost_response_abort", _r, [_p])
_declare("roost_response_on_close", _r, [_p, CLOSE_CALLBACK, _p])
_declare("roost_response_write", _r, [_p, _s, _n])
_declare("roost_response_send", _r, [_p, ctypes.c_uint16, _s, _n, _s, _n])
_declare("roost_response_on_writable", _r, [_p, WRITABLE_CALLBACK, _p])

version = lib.roost_version().decode()
