"""roost: an HTTP/1.1 server with a Rust core, for Python through ctypes.

    import roost
    srv = roost.Server(host="127.0.0.1", port=0, threads=2)

    @srv.route("GET", "/hello/{name}")
    def hello(req):
        return "hi " + req.params["name"]

    srv.static("/files", "./public")
    srv.start()            # returns once listening
    print(srv.port)
    srv.stop()
"""

from ._lib import version as __version__
from .deferred import Deferred
from .errors import BodyError, Error
from .events import Event, EventStream
from .request import BodyStream, Headers, Request
from .response import File
from .server import Server

__all__ = ["BodyError", "BodyStream", "Deferred", "Error", "Event", "EventStream", "File", "Headers", "Request", "Server",
           "__version__"]
