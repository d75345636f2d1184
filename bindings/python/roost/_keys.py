"""The Python objects library callbacks must reach. A ctypes callback gets an integer (the
userdata given with it), never a Python object, so each object waits here under a key
until its callback has run or is no longer wanted."""

import threading


class Keys:
    def __init__(self):
        self._objects = {}
        self._lock = threading.Lock()
        self._next = 1

    def add(self, obj):
        """A new key for `obj`."""
        with self._lock:
            key = self._next
            self._next += 1
            self._objects[key] = obj
        return key

    def get(self, key):
        with self._lock:
            return self._objects.get(key or 0)

    def pop(self, key):
        with self._lock:
            return self._objects.pop(key or 0, None)
