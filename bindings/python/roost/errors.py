"""The one exception type of the binding, and how failures in host code are reported."""

import re
import sys
import traceback


class Error(Exception):
    """A roost call failed. `code` is the roost_result number, `message` the library's
    explanation (from roost_last_error)."""

    def __init__(self, code, message):
        super().__init__(message or "roost error %d" % code)
        self.code = code
        self.message = message


class BodyError(Error):
    """The request content could not be read: the client left, stopped sending, sent more
    than the route takes, or framed it badly. `status` is the answer it deserves (408,
    413, 400, 503; 500 when nobody is there to hear it); a handler that lets it escape is
    answered with that status."""

    def __init__(self, code, message):
        super().__init__(code, message)
        found = re.search(r"\(answer (\d{3})\)", message or "")
        self.status = int(found.group(1)) if found else 500


def report(message):
    """Prints `message` and the exception being handled to stderr. Never raises (stderr may
    be closed): a failure in a handler or a body must not take the server's threads down."""
    try:
        print(message, file=sys.stderr)
        traceback.print_exc()
    except BaseException:
        pass
