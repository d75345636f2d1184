"""Turns what a Python handler returns into a response."""

import json
import os

from . import _lib
from .events import EventStream

lib = _lib.lib


class File:
    """A response body read from a file, sent the way static mounts send files
    (sendfile, Content-Type from the extension unless a header sets one).

    File(path) sends the file at `path`, wherever it is. File(relpath, root=DIR) sends
    `relpath` below DIR, confined the way a static mount is: dotfiles are hidden and the
    kernel refuses any path that leaves DIR, through a symlink too. Use it for paths a
    client chose: File(req.params["*"], root="/srv/files")."""

    def __init__(self, path, root=None):
        self.path = os.fsencode(path)
        self.root = None if root is None else os.fsencode(root)

    def __repr__(self):
        if self.root is None:
            return "roost.File(%r)" % os.fsdecode(self.path)
        return "roost.File(%r, root=%r)" % (os.fsdecode(self.path), os.fsdecode(self.root))


def _split(result):
    """(status, headers, body) from any of the shapes a handler may return."""
    if isinstance(result, tuple):
        if len(result) == 2:
            return result[0], None, result[1]
        if len(result) == 3:
            return result
        raise TypeError("a handler returns (status, body) or (status, headers, body)")
    return 200, None, result


def _encode_body(body):
    """(bytes, File or an iterator to stream, default Content-Type)."""
    if body is None:
        return b"", None
    if isinstance(body, str):
        return body.encode("utf-8"), "text/plain; charset=utf-8"
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body), "application/octet-stream"
    if isinstance(body, (dict, list)):
        # NaN and Infinity are not JSON (RFC 8259): refuse them rather than send them.
        return json.dumps(body, allow_nan=False).encode("utf-8"), "application/json"
    if isinstance(body, File):
        return body, None
    if isinstance(body, EventStream):
        return (body if body.is_async else iter(body)), EventStream.content_type
    if hasattr(body, "__aiter__"):
        return body, None
    if hasattr(body, "__iter__") or hasattr(body, "__next__"):
        return iter(body), None
    raise TypeError("a handler's body must be str, bytes, dict, list, roost.File, an "
                    "iterator or None, not %s" % type(body).__name__)


def _header_pairs(headers):
    if headers is None:
        return []
    if isinstance(headers, dict):
        return list(headers.items())
    return list(headers)


def respond(res, result):
    """Sends a handler's return value as the response behind `res`. A whole body is sent
    and the response finished (one library call for the common case); a body to stream
    (an iterator) gets its head sent and is returned, for the caller to pump (see
    roost.streaming; a Content-Length among the headers fixes its length). Raises on
    anything that cannot be sent, with the response not finished: the caller aborts it
    (500)."""
    status, headers, body = _split(result)
    events = isinstance(body, EventStream)
    body, content_type = _encode_body(body)
    pairs = [(str(n), str(v)) for n, v in _header_pairs(headers)]
    if content_type and not any(n.lower() == "content-type" for n, _ in pairs):
        pairs.append(("Content-Type", content_type))
    if events and not any(n.lower() == "cache-control" for n, _ in pairs):
        pairs.append(("Cache-Control", "no-cache"))
    status = int(status)
    if not 0 <= status <= 0xFFFF:  # ctypes would wrap it silently; the library checks the rest
        raise ValueError("status %d is not an HTTP status" % status)
    if isinstance(body, bytes):
        fields = "".join("%s\0%s\0" % pair for pair in pairs)
        # A NUL inside a name or value would shift the pairs: such fields go one by one
        # below, where they are refused.
        if fields.count("\0") == 2 * len(pairs):
            fields_b = fields.encode("latin-1")
            result = lib.roost_response_send(res, status, fields_b, len(fields_b), body, len(body))
            if result in (_lib.OK, _lib.ERR_CLOSED):
                return None
            raise _lib.Error(result, lib.roost_last_error().decode("utf-8", "replace"))
    lib.roost_response_set_status(res, status)
    for name, value in pairs:
        name_b, value_b = name.encode("latin-1"), value.encode("latin-1")
        lib.roost_response_add_header(res, name_b, len(name_b), value_b, len(value_b))
    if not isinstance(body, (bytes, File)):
        lib.roost_response_stream(res)
        return body
    if isinstance(body, File) and body.root is not None:
        lib.roost_response_set_file_at(res, body.root, len(body.root), body.path, len(body.path))
    elif isinstance(body, File):
        lib.roost_response_set_file(res, body.path, len(body.path))
    elif body:
        lib.roost_response_set_body(res, body, len(body))
    lib.roost_response_finish(res)
    return None
