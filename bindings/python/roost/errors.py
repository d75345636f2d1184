"""The one exception type of the binding, and how failures in host code are reported."""

import sys
import traceback


class Error(Exception):
    """A roost call failed. `code` is the roost_result number, `message` the library's
    explanation (from roost_last_error)."""

    def __init__(self, code, message):
        super().__init__(message or "roost error %d" % code)
        self.code = code
        self.message = message


def report(message):
    """Prints `message` and the exception being handled to stderr. Never raises (stderr may
    be closed): a failure in a handler or a body must not take the server's threads down."""
    try:
        print(message, file=sys.stderr)
        traceback.print_exc()
    except BaseException:
        pass
