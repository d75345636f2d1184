"""The one exception type of the binding."""


class Error(Exception):
    """A roost call failed. `code` is the roost_result number, `message` the library's
    explanation (from roost_last_error)."""

    def __init__(self, code, message):
        super().__init__(message or "roost error %d" % code)
        self.code = code
        self.message = message
