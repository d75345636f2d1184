"""The Python binding as a user would use it, checked through http.client."""

import asyncio
import contextlib
import hashlib
import http.client
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest

import roost


def request(port, method, path, body=None, headers=None, encode_chunked=False):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {}, encode_chunked=encode_chunked)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


class ServerCase(unittest.TestCase):
    """A server on a free port with a few routes, stopped after each test."""

    def setUp(self):
        self.srv = roost.Server(host="127.0.0.1", port=0, threads=2)
        self.addCleanup(self.srv.close)

    def start(self):
        self.srv.start()
        return self.srv.port


class RoutesTest(ServerCase):
    def test_path_parameters(self):
        @self.srv.route("GET", "/hello/{name}")
        def hello(req):
            return "hi " + req.params["name"]

        @self.srv.route("GET", "/files/{user}/*")
        def files(req):
            return req.params

        port = self.start()
        self.assertEqual(request(port, "GET", "/hello/bob")[2], b"hi bob")
        self.assertEqual(request(port, "GET", "/hello/b%C3%B6b%20x")[2], "hi böb x".encode())
        status, headers, body = request(port, "GET", "/files/ann/a/b.txt")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(json.loads(body), {"user": "ann", "*": "a/b.txt"})
        self.assertEqual(request(port, "GET", "/nothing")[0], 404)

    def test_query_decoding(self):
        @self.srv.route("GET", "/q")
        def q(req):
            return {"query": req.query, "raw": req.raw_query}

        port = self.start()
        body = request(port, "GET", "/q?text=two+words&e=%C3%A9t%C3%A9&empty=&flag&dup=1&dup=2")[2]
        self.assertEqual(
            json.loads(body),
            {
                "query": {"text": "two words", "e": "été", "empty": "", "flag": "", "dup": "1"},
                "raw": "text=two+words&e=%C3%A9t%C3%A9&empty=&flag&dup=1&dup=2",
            },
        )

    def test_request_attributes(self):
        seen = {}

        @self.srv.route("PUT", "/things/{id}")
        def put(req):
            seen.update(
                method=req.method,
                path=req.path,
                target=req.target,
                content_type=req.headers["content-type"],
                via_upper=req.headers["X-TWICE"],
                twice=req.headers.get_all("x-twice"),
                missing=req.headers.get("x-missing"),
                peer=req.peer,
            )
            return (201, {"X-Id": req.params["id"]}, req.body)

        port = self.start()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.putrequest("PUT", "/things/./7?x=1")
        conn.putheader("Content-Type", "text/plain")
        conn.putheader("X-Twice", "a")
        conn.putheader("X-Twice", "b")
        conn.putheader("Content-Length", "4")
        conn.endheaders(b"data")
        response = conn.getresponse()
        self.assertEqual(response.status, 201)
        self.assertEqual(response.getheader("X-Id"), "7")
        self.assertEqual(response.read(), b"data")
        conn.close()
        self.assertEqual(seen["method"], "PUT")
        self.assertEqual(seen["path"], "/things/7")
        self.assertEqual(seen["target"], "/things/./7?x=1")
        self.assertEqual(seen["content_type"], "text/plain")
        self.assertEqual(seen["via_upper"], "a")
        self.assertEqual(seen["twice"], ["a", "b"])
        self.assertIsNone(seen["missing"])
        self.assertEqual(seen["peer"][0], "127.0.0.1")
        self.assertGreater(seen["peer"][1], 0)

    def test_return_types(self):
        fd, file_path = tempfile.mkstemp(suffix=".txt")
        os.write(fd, b"file body\n")
        os.close(fd)
        self.addCleanup(os.unlink, file_path)
        routes = {
            "/str": lambda req: "text",
            "/bytes": lambda req: b"\x00\x01",
            "/dict": lambda req: {"a": [1, 2]},
            "/list": lambda req: [1, "two"],
            "/none": lambda req: None,
            "/pair": lambda req: (202, "accepted"),
            "/triple": lambda req: (203, [("X-A", "1"), ("Content-Type", "text/x-custom")], "t"),
            "/file": lambda req: roost.File(file_path),
            "/typed-file": lambda req: (200, {"Content-Type": "text/x-typed"}, roost.File(file_path)),
            "/teapot": lambda req: (418, None),
        }
        for pattern, func in routes.items():
            self.srv.add_route("GET", pattern, func)
        port = self.start()
        cases = {
            "/str": (200, "text/plain; charset=utf-8", b"text"),
            "/bytes": (200, "application/octet-stream", b"\x00\x01"),
            "/dict": (200, "application/json", b'{"a": [1, 2]}'),
            "/list": (200, "application/json", b'[1, "two"]'),
            "/none": (200, None, b""),
            "/pair": (202, "text/plain; charset=utf-8", b"accepted"),
            "/triple": (203, "text/x-custom", b"t"),
            "/file": (200, "text/plain; charset=utf-8", b"file body\n"),
            "/typed-file": (200, "text/x-typed", b"file body\n"),
            "/teapot": (418, None, b""),
        }
        for path, (status, content_type, body) in cases.items():
            got = request(port, "GET", path)
            self.assertEqual((got[0], got[1].get("Content-Type"), got[2]), (status, content_type, body), path)

    def test_a_100_kb_post_body(self):
        @self.srv.route("POST", "/upload")
        def upload(req):
            return {"length": len(req.body), "sha256": hashlib.sha256(req.body).hexdigest()}

        port = self.start()
        body = os.urandom(100 * 1024)
        status, _, reply = request(port, "POST", "/upload", body=body)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(reply), {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()})

    def test_a_chunked_post(self):
        @self.srv.route("POST", "/echo")
        def echo(req):
            return req.body

        port = self.start()
        chunks = [b"first ", b"second ", b"", b"x" * 5000]
        status, _, reply = request(port, "POST", "/echo", body=iter(chunks), encode_chunked=True,
                                   headers={"Transfer-Encoding": "chunked"})
        self.assertEqual(status, 200)
        self.assertEqual(reply, b"".join(chunks))

    def test_head_on_a_get_route(self):
        calls = []

        @self.srv.route("GET", "/page")
        def page(req):
            calls.append(req.method)
            return "twelve bytes"

        port = self.start()
        status, headers, body = request(port, "HEAD", "/page")
        self.assertEqual((status, headers["Content-Length"], body), (200, "12", b""))
        self.assertEqual(calls, ["HEAD"])

    def test_405_with_allow_and_options(self):
        self.srv.add_route("GET", "/thing", lambda req: "get")
        self.srv.add_route("DELETE", "/thing", lambda req: "deleted")
        port = self.start()
        status, headers, _ = request(port, "POST", "/thing", body=b"x")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET, DELETE, HEAD, OPTIONS")
        status, headers, _ = request(port, "OPTIONS", "/thing")
        self.assertEqual((status, headers["Allow"]), (204, "GET, DELETE, HEAD, OPTIONS"))
        self.assertEqual(request(port, "DELETE", "/thing")[2], b"deleted")

    def test_a_handler_that_raises_gives_500_and_the_server_goes_on(self):
        @self.srv.route("GET", "/boom")
        def boom(req):
            raise ValueError("on purpose")

        self.srv.add_route("GET", "/bad-return", lambda req: 3.14)
        self.srv.add_route("GET", "/fine", lambda req: "fine")
        port = self.start()
        captured = io.StringIO()
        with contextlib.redirect_stderr(captured):
            status, _, body = request(port, "GET", "/boom")
            bad = request(port, "GET", "/bad-return")[0]
        self.assertEqual(status, 500)
        self.assertEqual(body, b"500 Internal Server Error\n")
        self.assertEqual(bad, 500)
        self.assertIn("ValueError: on purpose", captured.getvalue())
        self.assertIn("Traceback", captured.getvalue())
        self.assertEqual(request(port, "GET", "/fine")[2], b"fine")

    def test_eight_concurrent_clients(self):
        @self.srv.route("GET", "/n/{i}")
        def n(req):
            return "n=" + req.params["i"]

        port = self.start()
        errors = []

        def client(k):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                for i in range(25):
                    conn.request("GET", "/n/%d-%d" % (k, i))
                    reply = conn.getresponse().read()
                    if reply != ("n=%d-%d" % (k, i)).encode():
                        errors.append(reply)
                conn.close()
            except Exception as e:  # noqa: BLE001 - collected and reported below
                errors.append(e)

        threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])

    def test_static_folder_next_to_routes(self):
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, "index.html"), "w") as f:
                f.write("<p>home</p>")
            self.srv.static("/files", folder)
            self.srv.add_route("GET", "/api", lambda req: "api")
            port = self.start()
            self.assertEqual(request(port, "GET", "/files/")[2], b"<p>home</p>")
            self.assertEqual(request(port, "GET", "/files")[0], 301)
            self.assertEqual(request(port, "GET", "/api")[2], b"api")

    def test_file_responses_get_validators_ranges_and_conditionals(self):
        fd, path = tempfile.mkstemp(suffix=".txt")
        os.write(fd, b"abcdefghijklmnopqrstuvwxyz")
        os.close(fd)
        self.addCleanup(os.unlink, path)
        self.srv.add_route("GET", "/f", lambda req: roost.File(path))
        port = self.start()
        status, headers, body = request(port, "GET", "/f")
        self.assertEqual((status, headers["Accept-Ranges"]), (200, "bytes"))
        etag = headers["ETag"]
        status, headers, body = request(port, "GET", "/f", headers={"Range": "bytes=2-4"})
        self.assertEqual((status, headers["Content-Range"], body), (206, "bytes 2-4/26", b"cde"))
        self.assertEqual(request(port, "GET", "/f", headers={"If-None-Match": etag})[0], 304)
        self.assertEqual(request(port, "GET", "/f", headers={"If-Match": '"other"'})[0], 412)

    def test_static_options(self):
        with tempfile.TemporaryDirectory() as folder:
            os.mkdir(os.path.join(folder, "docs"))
            with open(os.path.join(folder, "docs", "a.txt"), "w") as f:
                f.write("a")
            self.srv.static("/", folder, cache_control="max-age=30", listing=True)
            port = self.start()
            status, headers, _ = request(port, "GET", "/docs/a.txt")
            self.assertEqual((status, headers["Cache-Control"]), (200, "max-age=30"))
            status, _, body = request(port, "GET", "/docs/")
            self.assertEqual(status, 200)
            self.assertIn(b'<a href="a.txt">a.txt</a>', body)
        with self.assertRaises(roost.Error):
            roost.Server(port=0).static("/", ".", cache_control="bad\nvalue")
        with self.assertRaises(ValueError):
            roost.Server(port=0).static("/", ".", revalidate=-1)

    def test_static_revalidate_zero_serves_changes_at_once(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "a.txt")
            self.srv.static("/", folder, revalidate=0)
            port = self.start()
            # Settled files of one size: with an interval, the content held in memory
            # would be sent again.
            settled = time.time() - 86400
            for text in ("first", "secnd", "third"):
                with open(path, "w") as f:
                    f.write(text)
                os.utime(path, (settled, settled))
                self.assertEqual(request(port, "GET", "/a.txt")[2], text.encode())

    def test_request_used_after_the_handler_returned(self):
        kept = []
        self.srv.add_route("GET", "/keep", lambda req: kept.append(req) or req.method)
        port = self.start()
        self.assertEqual(request(port, "GET", "/keep")[2], b"GET")
        self.assertEqual(kept[0].method, "GET")  # read during the call: still there
        with self.assertRaises(RuntimeError):
            kept[0].body


class DeferredTest(unittest.TestCase):
    """req.defer(): responses finished later, from other threads."""

    def setUp(self):
        # One I/O thread: a deferred response must not hold it.
        self.srv = roost.Server(host="127.0.0.1", port=0, threads=1, shutdown_timeout=0.5)
        self.addCleanup(self.srv.close)
        self.parked = []
        self.arrived = threading.Condition()

        @self.srv.route("GET", "/later/{word}")
        def later(req):
            deferred = req.defer()
            with self.arrived:
                self.parked.append((req, deferred))
                self.arrived.notify_all()
            return deferred

        @self.srv.route("GET", "/now")
        def now(req):
            return "now"

        @self.srv.route("GET", "/changed-mind")
        def changed_mind(req):
            req.defer()
            return "at once after all"

        self.srv.start()
        self.port = self.srv.port

    def wait_parked(self, count):
        with self.arrived:
            self.assertTrue(self.arrived.wait_for(lambda: len(self.parked) >= count, timeout=10))

    def test_a_response_finished_by_another_thread(self):
        result = {}
        client = threading.Thread(
            target=lambda: result.update(reply=request(self.port, "GET", "/later/hi")))
        client.start()
        self.wait_parked(1)
        # The only I/O thread serves others meanwhile.
        self.assertEqual(request(self.port, "GET", "/now")[2], b"now")
        req, deferred = self.parked[0]
        self.assertFalse(deferred.closed)
        word = req.params["word"]  # still readable until respond()
        responder = threading.Thread(
            target=deferred.respond,
            kwargs={"body": {"word": word}, "status": 201, "headers": {"X-Late": "yes"}},
        )
        responder.start()
        client.join(10)
        responder.join(10)
        status, headers, body = result["reply"]
        self.assertEqual(status, 201)
        self.assertEqual(headers["X-Late"], "yes")
        self.assertEqual(json.loads(body), {"word": "hi"})
        with self.assertRaises(RuntimeError):
            deferred.respond("again")
        with self.assertRaises(RuntimeError):
            req.path  # released with the response

    def test_the_client_leaving_is_seen(self):
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.sendall(b"GET /later/x HTTP/1.1\r\nHost: a\r\n\r\n")
        self.wait_parked(1)
        _, deferred = self.parked[0]
        left = threading.Event()
        deferred.on_close(left.set)
        sock.close()
        self.assertTrue(left.wait(10))
        self.assertTrue(deferred.closed)
        deferred.respond("nobody hears this")  # no error
        calls = []
        deferred.on_close(lambda: calls.append(1))  # already closed: called at once
        self.assertEqual(calls, [1])
        self.assertEqual(request(self.port, "GET", "/now")[2], b"now")

    def test_a_deferred_the_handler_did_not_return_is_ignored(self):
        self.assertEqual(request(self.port, "GET", "/changed-mind")[2], b"at once after all")

    def test_a_body_that_cannot_be_sent_answers_500(self):
        result = {}
        client = threading.Thread(
            target=lambda: result.update(reply=request(self.port, "GET", "/later/x")))
        client.start()
        self.wait_parked(1)
        with self.assertRaises(TypeError):
            self.parked[0][1].respond(object())
        client.join(10)
        self.assertEqual(result["reply"][0], 500)

    def test_a_stop_closes_what_is_still_deferred(self):
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.sendall(b"GET /later/x HTTP/1.1\r\nHost: a\r\n\r\n")
        self.wait_parked(1)
        _, deferred = self.parked[0]
        self.srv.stop()
        self.assertTrue(deferred.closed)
        self.assertEqual(sock.recv(100), b"")
        sock.close()
        deferred.respond("too late")  # safe after the stop


class StreamingTest(unittest.TestCase):
    """Generators and other iterators as bodies: streamed as they are produced."""

    def setUp(self):
        self.srv = roost.Server(host="127.0.0.1", port=0, threads=1, shutdown_timeout=0.5,
                                stream_buffer_bytes=64 * 1024)
        self.addCleanup(self.srv.close)
        self.go_on = threading.Event()
        self.closed = threading.Event()
        self.produced = []

        @self.srv.route("GET", "/two")
        def two(req):
            yield "first\n"
            # Not advanced until the test has read the first piece.
            self.go_on.wait(10)
            yield b"second " + req.path.encode() + b"\n"

        @self.srv.route("GET", "/endless")
        def endless(req):
            try:
                while True:
                    self.produced.append(1)
                    yield b"x" * 65536
            finally:
                self.closed.set()

        @self.srv.route("GET", "/sized")
        def sized(req):
            return 201, {"Content-Length": "6", "Content-Type": "text/plain"}, iter(["ab", "cd", "ef"])

        @self.srv.route("GET", "/broken")
        def broken(req):
            yield "partial"
            raise ValueError("the producer failed")

        @self.srv.route("GET", "/later")
        def later(req):
            deferred = req.defer()
            threading.Thread(target=deferred.respond,
                             kwargs={"body": (str(i) for i in range(3))}).start()
            return deferred

        self.srv.start()
        self.port = self.srv.port

    def test_each_item_leaves_as_it_is_produced(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        self.addCleanup(conn.close)
        conn.request("GET", "/two")
        response = conn.getresponse()
        self.assertEqual(response.status, 200)
        self.assertEqual(response.headers["Transfer-Encoding"], "chunked")
        self.assertEqual(response.read1(), b"first\n")
        self.go_on.set()
        self.assertEqual(response.read(), b"second /two\n")
        # The connection is kept: the next request on it is answered.
        conn.request("GET", "/sized")
        response = conn.getresponse()
        self.assertEqual((response.status, response.read()), (201, b"abcdef"))
        self.assertEqual(response.headers["Content-Length"], "6")
        self.assertIsNone(response.headers["Transfer-Encoding"])

    def test_a_deferred_response_streams(self):
        self.assertEqual(request(self.port, "GET", "/later")[2], b"012")

    def test_a_client_that_does_not_read_holds_the_generator_back(self):
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            sock.sendall(b"GET /endless HTTP/1.1\r\nHost: a\r\n\r\n")
            # A quiet spell, not a readiness wait: the generator stops being advanced.
            count = -1
            while count != len(self.produced):
                count = len(self.produced)
                time.sleep(0.5)
            self.assertGreater(count, 0)
            self.assertLess(count * 65536, 32 << 20, "advanced without backpressure")
            self.assertFalse(self.closed.is_set())
        # The client left: the generator is closed (GeneratorExit inside it).
        self.assertTrue(self.closed.wait(5), "the generator was not closed")

    def test_a_generator_that_raises_cuts_the_body_short(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        self.addCleanup(conn.close)
        with contextlib.redirect_stderr(io.StringIO()) as stderr:
            conn.request("GET", "/broken")
            response = conn.getresponse()
            self.assertEqual(response.status, 200)
            with self.assertRaises(http.client.IncompleteRead):
                response.read()
        self.assertIn("ValueError: the producer failed", stderr.getvalue())


class UploadTest(unittest.TestCase):
    """stream_body=True: the handler reads the content from req.stream as it arrives."""

    def setUp(self):
        self.srv = roost.Server(host="127.0.0.1", port=0, threads=1, shutdown_timeout=0.5,
                                body_timeout=0.5)
        self.addCleanup(self.srv.close)
        self.first = threading.Event()
        self.go_on = threading.Event()
        self.errors = []

        @self.srv.route("POST", "/count", stream_body=True, max_body=1 << 30)
        def count(req):
            digest, total = hashlib.sha256(), 0
            for piece in req.stream:
                digest.update(piece)
                total += len(piece)
            return "%d %s" % (total, digest.hexdigest())

        @self.srv.route("POST", "/parts", stream_body=True)
        def parts(req):
            head = req.stream.read(4)
            buf = bytearray(3)
            n = req.stream.readinto(buf)
            self.first.set()
            self.go_on.wait(10)
            return b"|".join([head, bytes(buf[:n]), req.stream.read()])

        @self.srv.route("POST", "/whole", stream_body=True, max_body=10)
        def whole(req):
            return req.body

        @self.srv.route("POST", "/catch", stream_body=True)
        def catch(req):
            try:
                return req.body
            except roost.BodyError as e:
                self.errors.append(e)
                raise

        @self.srv.route("POST", "/memory")
        def memory(req):
            return b"|".join([req.stream.read(2), req.stream.read()])

        @self.srv.route("POST", "/lines", stream_body=True, stream_buffer=1)
        def lines(req):
            self.kept = req.stream
            first = req.stream.readline()
            return repr([first, next(req.stream), req.stream.readlines()])

        self.srv.start()

    def raw(self, data):
        with socket.create_connection(("127.0.0.1", self.srv.port), timeout=10) as s:
            s.sendall(data)
            return b"".join(iter(lambda: s.recv(65536), b""))

    def test_a_large_body_arrives_whole_declared_or_chunked(self):
        data = os.urandom(5 << 20)
        expected = "%d %s" % (len(data), hashlib.sha256(data).hexdigest())
        status, _, body = request(self.srv.port, "POST", "/count", body=data)
        self.assertEqual((status, body.decode()), (200, expected))
        pieces = (data[i:i + 100000] for i in range(0, len(data), 100000))
        status, _, body = request(self.srv.port, "POST", "/count", body=pieces,
                                  encode_chunked=True)
        self.assertEqual((status, body.decode()), (200, expected))

    def test_read_readinto_and_the_rest_as_the_bytes_arrive(self):
        with socket.create_connection(("127.0.0.1", self.srv.port), timeout=10) as s:
            s.sendall(b"POST /parts HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\nheadbuf")
            # The handler has read 7 bytes before the client sends the rest.
            self.assertTrue(self.first.wait(10))
            s.sendall(b"tail!")
            self.go_on.set()
            reply = s.recv(65536)
        self.assertTrue(reply.startswith(b"HTTP/1.1 200 OK\r\n"), reply)
        self.assertTrue(reply.endswith(b"\r\n\r\nhead|buf|tail!"), reply)

    def test_body_reads_it_all_and_a_body_error_is_answered_with_its_status(self):
        self.assertEqual(request(self.srv.port, "POST", "/whole", body=b"ten bytes!")[2],
                         b"ten bytes!")
        # Declared past the limit: 413 from the head, no 100 Continue.
        reply = self.raw(b"POST /whole HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                         b"Content-Length: 11\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 413 "), reply)
        # Chunked past it: the read fails, and the handler that lets it escape gets 413.
        status, _, _ = request(self.srv.port, "POST", "/whole", body=iter([b"x" * 6, b"y" * 6]),
                               encode_chunked=True)
        self.assertEqual(status, 413)
        # A client that stops sending: 408 after the body timeout.
        reply = self.raw(b"POST /catch HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nsome")
        self.assertTrue(reply.startswith(b"HTTP/1.1 408 "), reply)
        self.assertEqual([e.status for e in self.errors], [408])
        self.assertIsInstance(self.errors[0], roost.Error)

    def test_lines_pieces_and_a_stream_closed_with_its_exchange(self):
        status, _, body = request(self.srv.port, "POST", "/lines", body=b"a\nbc\nd\ne")
        # One byte ahead of the reader at most: each piece is what had arrived.
        self.assertEqual(status, 200)
        first, piece, rest = eval(body.decode())
        self.assertEqual(first, b"a\n")
        self.assertEqual(b"".join([first, piece] + rest), b"a\nbc\nd\ne")
        self.assertTrue(all(line.endswith(b"\n") for line in rest[:-1]), rest)
        self.assertTrue(self.kept.closed)
        with self.assertRaises(ValueError):
            self.kept.read(1)

    def test_an_async_function_cannot_take_a_streamed_body(self):
        srv = roost.Server(host="127.0.0.1", port=0)
        self.addCleanup(srv.close)

        async def upload(req):
            return b""

        with self.assertRaises(TypeError):
            srv.add_route("POST", "/async-upload", upload, stream_body=True)

    def test_a_route_that_does_not_stream_reads_from_memory_the_same_way(self):
        self.assertEqual(request(self.srv.port, "POST", "/memory", body=b"abcdef")[2], b"ab|cdef")


class EventStreamTest(unittest.TestCase):
    """roost.EventStream: Server-Sent Events from an iterable or an async iterable."""

    def setUp(self):
        self.srv = roost.Server(host="127.0.0.1", port=0, shutdown_timeout=0.5)
        self.addCleanup(self.srv.close)
        self.go_on = threading.Event()
        self.closed = threading.Event()

        @self.srv.route("GET", "/events")
        def events(req):
            last = req.headers.get("Last-Event-ID")

            def source():
                try:
                    yield "resumed after %s" % last
                    yield roost.Event("two\nlines", event="note", id="7", retry=2500)
                    # Silent until the test has seen a keep-alive comment.
                    self.go_on.wait(10)
                    yield "last"
                finally:
                    self.closed.set()

            return roost.EventStream(source(), keepalive=0.2)

        @self.srv.route("GET", "/async")
        def async_events(req):
            async def source():
                for n in range(3):
                    await asyncio.sleep(0)
                    yield roost.Event(str(n), id=str(n))

            return roost.EventStream(source(), keepalive=None)

        self.srv.start()
        self.port = self.srv.port

    def test_events_keepalives_and_the_last_event_id(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        self.addCleanup(conn.close)
        conn.request("GET", "/events", headers={"Last-Event-ID": "6"})
        response = conn.getresponse()
        self.assertEqual(response.status, 200)
        self.assertEqual(response.headers["Content-Type"], "text/event-stream")
        self.assertEqual(response.headers["Cache-Control"], "no-cache")
        self.assertEqual(response.readline(), b"data: resumed after 6\n")
        self.assertEqual(response.readline(), b"\n")
        note = b"".join(response.readline() for _ in range(6))
        self.assertEqual(note, b"event: note\nid: 7\nretry: 2500\ndata: two\ndata: lines\n\n")
        self.assertEqual(response.readline(), b": keepalive\n")
        self.assertEqual(response.readline(), b"\n")
        self.go_on.set()
        rest = response.read()
        self.assertTrue(rest.endswith(b"data: last\n\n"), rest)
        self.assertTrue(self.closed.wait(5))

    def test_an_async_source(self):
        status, headers, body = request(self.port, "GET", "/async")
        self.assertEqual(body, b"id: 0\ndata: 0\n\nid: 1\ndata: 1\n\nid: 2\ndata: 2\n\n")


class AsyncTest(unittest.TestCase):
    """async def handlers and async generators, on the server's own event loop."""

    def setUp(self):
        self.srv = roost.Server(host="127.0.0.1", port=0, shutdown_timeout=0.5)
        self.addCleanup(self.srv.close)
        self.waiting = []
        self.started = threading.Event()
        self.cancelled = threading.Event()
        gate = {}

        @self.srv.route("GET", "/wait")
        async def wait(req):
            event = gate.setdefault("event", asyncio.Event())
            self.waiting.append(1)
            await event.wait()
            return "released " + req.path

        @self.srv.route("GET", "/release")
        async def release(req):
            gate.setdefault("event", asyncio.Event()).set()
            return "ok"

        @self.srv.route("GET", "/forever")
        async def forever(req):
            self.started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled.set()
                raise

        @self.srv.route("GET", "/agen")
        def agen(req):
            async def body():
                for word in ("async ", "generator ", "body"):
                    await asyncio.sleep(0)
                    yield word
            return body()

        @self.srv.route("GET", "/raises")
        async def raises(req):
            raise ValueError("async failure")

        self.srv.start()
        self.port = self.srv.port

    def test_pending_coroutines_cost_no_thread(self):
        threads_before = len(os.listdir("/proc/self/task"))
        results = []
        clients = [threading.Thread(target=lambda: results.append(request(self.port, "GET", "/wait")))
                   for _ in range(40)]
        for client in clients:
            client.start()
        deadline = time.monotonic() + 10
        while len(self.waiting) < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(len(self.waiting), 40)
        # The 40 client threads are the test's; the server added one, the event loop.
        self.assertLessEqual(len(os.listdir("/proc/self/task")), threads_before + 40 + 1)
        self.assertEqual(request(self.port, "GET", "/release")[2], b"ok")
        for client in clients:
            client.join(10)
        self.assertEqual(sorted(r[2] for r in results), [b"released /wait"] * 40)

    def test_a_client_that_leaves_cancels_the_coroutine(self):
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            sock.sendall(b"GET /forever HTTP/1.1\r\nHost: a\r\n\r\n")
            self.assertTrue(self.started.wait(10))
        self.assertTrue(self.cancelled.wait(5), "the coroutine was not cancelled")
        # The loop goes on.
        self.assertEqual(request(self.port, "GET", "/agen")[2], b"async generator body")

    def test_an_async_generator_streams_and_a_raising_coroutine_gets_500(self):
        status, headers, body = request(self.port, "GET", "/agen")
        self.assertEqual((status, headers["Transfer-Encoding"], body),
                         (200, "chunked", b"async generator body"))
        with contextlib.redirect_stderr(io.StringIO()) as stderr:
            self.assertEqual(request(self.port, "GET", "/raises")[0], 500)
        self.assertIn("ValueError: async failure", stderr.getvalue())


class HandlerThreadsTest(unittest.TestCase):
    """Python's own handler threads and the requests they take."""

    def test_a_route_has_its_own_content_limit(self):
        with roost.Server(port=0, max_body_bytes=10) as srv:
            srv.add_route("POST", "/small", lambda req: str(len(req.body)), max_body=5)
            srv.add_route("POST", "/big", lambda req: str(len(req.body)), max_body=20)
            srv.add_route("POST", "/plain", lambda req: str(len(req.body)))
            srv.start()
            self.assertEqual(request(srv.port, "POST", "/small", body=b"x" * 5)[2], b"5")
            self.assertEqual(request(srv.port, "POST", "/small", body=b"x" * 6)[0], 413)
            self.assertEqual(request(srv.port, "POST", "/big", body=b"x" * 15)[2], b"15")
            self.assertEqual(request(srv.port, "POST", "/plain", body=b"x" * 15)[0], 413)
        with self.assertRaises(ValueError):
            roost.Server(port=0).add_route("POST", "/x", lambda req: "", max_body=0)

    def test_a_request_whose_client_left_while_it_waited_runs_no_handler(self):
        busy, release = threading.Event(), threading.Event()
        calls = []
        with roost.Server(port=0, handler_threads=1) as srv:

            @srv.route("GET", "/slow")
            def slow(req):
                busy.set()
                release.wait(10)
                return "slow"

            @srv.route("GET", "/a")
            def a(req):
                calls.append("a")
                return "a"

            @srv.route("POST", "/last")
            def last(req):
                calls.append("last")
                return "last"

            srv.start()
            slow_client = threading.Thread(target=request, args=(srv.port, "GET", "/slow"))
            slow_client.start()
            self.assertTrue(busy.wait(10))
            # Queued behind /slow, then its client ends its side: it has left. (Whether
            # the server saw that before the request was taken is a race: if it did, no
            # handler runs for it; either way, no other route's handler may.)
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
                sock.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
                sock.shutdown(socket.SHUT_WR)
                release.set()
                slow_client.join(10)
                reply = b""
                while True:
                    data = sock.recv(4096)
                    if not data:
                        break
                    reply += data
            if not calls:
                self.assertEqual(reply, b"", "closed without an answer")
            self.assertEqual(request(srv.port, "GET", "/a")[2], b"a")
        self.assertNotIn("last", calls, "a gone client's request ran another route")

    def test_registering_while_a_stop_waits_on_a_pending_response_does_not_hang(self):
        # In a child process: a deadlock there holds the GIL, and would hang this one.
        script = textwrap.dedent("""
            import socket, threading, roost
            srv = roost.Server(port=0, shutdown_timeout=0.3)
            parked = threading.Event()

            @srv.route("GET", "/wait")
            def wait(req):
                later = req.defer()
                later.on_close(lambda: None)
                parked.set()
                return later

            srv.start()
            sock = socket.create_connection(("127.0.0.1", srv.port))
            sock.sendall(b"GET /wait HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
            assert parked.wait(10)
            # The stop closes the pending connection at its deadline, calling Python back:
            # a registration waiting for the stop meanwhile must not hold the GIL.
            stopper = threading.Thread(target=srv.stop)
            stopper.start()
            srv.add_route("GET", "/x", lambda r: "x")
            stopper.join()
            sock.close()
            srv.close()
            print("done")
        """)
        child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               timeout=60)
        self.assertEqual((child.returncode, child.stdout.strip()), (0, "done"), child.stderr)


class HostSafetyTest(ServerCase):
    def test_json_with_nan_is_refused(self):
        self.srv.add_route("GET", "/nan", lambda req: {"x": float("nan")})
        port = self.start()
        with contextlib.redirect_stderr(io.StringIO()):
            status, _, body = request(port, "GET", "/nan")
        self.assertEqual(status, 500, body)

    def test_the_effective_host_of_an_absolute_form_target(self):
        self.srv.add_route("GET", "/where", lambda req: req.host)
        port = self.start()
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET http://example.com:81/where HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n")
        reply = b""
        while True:
            data = sock.recv(4096)
            if not data:
                break
            reply += data
        sock.close()
        self.assertTrue(reply.endswith(b"\r\n\r\nexample.com:81"), reply)
        self.assertEqual(request(port, "GET", "/where", headers={"Host": "plain"})[2], b"plain")

    def test_files_below_a_root_stay_below_it(self):
        with tempfile.TemporaryDirectory() as root:
            os.mkdir(os.path.join(root, "docs"))
            with open(os.path.join(root, "docs", "a.txt"), "w") as f:
                f.write("inside")
            with open(os.path.join(root, ".secret"), "w") as f:
                f.write("hidden")
            self.srv.add_route("GET", "/files/*", lambda req: roost.File(req.params["*"], root=root))
            self.srv.add_route("GET", "/joined/*",
                               lambda req: roost.File(os.path.join(root, req.params["*"])))
            port = self.start()
            self.assertEqual(request(port, "GET", "/files/docs/a.txt")[2], b"inside")
            with contextlib.redirect_stderr(io.StringIO()):
                for path in ("/files/..%2F..%2F..%2F..%2Fetc%2Fpasswd", "/joined/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
                             "/files/%2Fetc%2Fpasswd", "/joined/%2Fetc%2Fpasswd"):
                    status, _, body = request(port, "GET", path)
                    self.assertNotIn(b"root:", body, path)
                    self.assertEqual(status, 400, path)
                self.assertEqual(request(port, "GET", "/files/.secret")[0], 500)
                self.assertEqual(request(port, "GET", "/files/missing.txt")[0], 500)

    def test_a_forked_child_leaves_the_parents_server_alone(self):
        self.srv.add_route("GET", "/", lambda req: "parent")
        port = self.start()
        pid = os.fork()
        if pid == 0:
            # What a child does on its way out: closes what it has, runs atexit hooks.
            try:
                self.srv.close()
                import atexit
                atexit._run_exitfuncs()
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        for _ in range(3):
            self.assertEqual(request(port, "GET", "/")[2], b"parent")


class LifecycleTest(unittest.TestCase):
    def test_a_second_server_in_the_same_process(self):
        with roost.Server(port=0) as one, roost.Server(port=0) as two:
            one.add_route("GET", "/", lambda req: "one")
            two.add_route("GET", "/", lambda req: "two")
            one.start()
            two.start()
            self.assertNotEqual(one.port, two.port)
            self.assertEqual(request(one.port, "GET", "/")[2], b"one")
            self.assertEqual(request(two.port, "GET", "/")[2], b"two")

    def test_stop_then_start_a_new_server_on_the_same_port(self):
        first = roost.Server(port=0)
        first.add_route("GET", "/", lambda req: "first")
        first.start()
        port = first.port
        self.assertEqual(request(port, "GET", "/")[2], b"first")
        first.stop()
        first.close()
        with roost.Server(port=port) as second:
            second.add_route("GET", "/", lambda req: "second")
            second.start()
            self.assertEqual(second.port, port)
            self.assertEqual(request(port, "GET", "/")[2], b"second")

    def test_errors_carry_the_library_message(self):
        with roost.Server(port=0) as srv:
            with self.assertRaises(roost.Error) as caught:
                srv.add_route("get", "/x", lambda req: "")
            self.assertIn("case-sensitive", str(caught.exception))
            self.assertEqual(caught.exception.code, 2)
            with self.assertRaises(roost.Error):
                srv.static("/files", "/definitely/not/here")
            srv.start()
            with self.assertRaises(roost.Error) as caught:
                srv.start()
            self.assertIn("already running", str(caught.exception))
            with roost.Server(port=srv.port) as busy:
                with self.assertRaises(roost.Error) as caught:
                    busy.start()
                self.assertIn("address in use", str(caught.exception))
        with self.assertRaises(roost.Error):
            roost.Server(host="not-an-ip")
        with self.assertRaises(TypeError):
            roost.Server(colour="blue")

    def test_closing_or_stopping_from_its_own_handler_is_refused(self):
        outcomes = []
        with roost.Server(port=0) as srv:

            @srv.route("GET", "/close")
            def close(req):
                for action in (srv.close, srv.stop):
                    try:
                        action()
                        outcomes.append("done")
                    except roost.Error as e:
                        outcomes.append(e.code)
                return "still here"

            srv.start()
            self.assertEqual(request(srv.port, "GET", "/close")[2], b"still here")
            self.assertEqual(request(srv.port, "GET", "/close")[2], b"still here")
        self.assertEqual(outcomes, [3, 3, 3, 3])

    def test_values_ctypes_would_wrap_are_refused(self):
        for bad in ({"port": 65536}, {"port": -1}, {"threads": -1}, {"max_body_bytes": -5},
                    {"header_timeout": 0}, {"keepalive_timeout": 10**8}):
            with self.assertRaises(ValueError, msg=repr(bad)):
                roost.Server(**bad)
        with self.assertRaises(roost.Error):
            roost.Server(port=0, threads=100000)
        with roost.Server(port=0) as srv:
            srv.add_route("GET", "/wrap", lambda req: (65736, "wrapped?"))
            srv.add_route("GET", "/low", lambda req: (99, "too low"))
            srv.start()
            with contextlib.redirect_stderr(io.StringIO()):
                self.assertEqual(request(srv.port, "GET", "/wrap")[0], 500)
                self.assertEqual(request(srv.port, "GET", "/low")[0], 500)

    def test_handler_threads_keep_static_files_going_while_a_handler_blocks(self):
        started, release = threading.Event(), threading.Event()
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, "a.txt"), "w") as f:
                f.write("static")
            with roost.Server(port=0, threads=1, handler_threads=2) as srv:
                srv.static("/", folder)

                @srv.route("GET", "/block")
                def block(req):
                    started.set()
                    release.wait(30)
                    return "released"

                srv.start()
                result = {}
                slow = threading.Thread(target=lambda: result.update(r=request(srv.port, "GET", "/block")))
                slow.start()
                try:
                    self.assertTrue(started.wait(10))
                    # One I/O thread, stalled if the handler ran on it: then this request
                    # would time out, since the handler waits until it is released below.
                    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=3)
                    conn.request("GET", "/a.txt")
                    self.assertEqual(conn.getresponse().read(), b"static")
                    conn.close()
                finally:
                    release.set()
                    slow.join()
                self.assertEqual(result["r"][2], b"released")

    def test_options_are_applied(self):
        def threads():
            # (A new thread names itself once it runs: count threads, not names.)
            return set(os.listdir("/proc/self/task"))

        before = threads()
        with roost.Server(port=0, threads=3, max_body_bytes=10, keepalive_timeout=0.2) as srv:
            srv.add_route("POST", "/", lambda req: "ok")
            srv.start()
            self.assertEqual(len(threads() - before), 3 + 4,
                             "three I/O threads, and four of Python's own for the handlers")
            self.assertEqual(request(srv.port, "POST", "/", body=b"x" * 11)[0], 413)
            self.assertEqual(request(srv.port, "POST", "/", body=b"x" * 10)[0], 200)
            # The keep-alive timeout closes an idle connection long before the default 5 s.
            sock = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
            sock.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
            received = b""
            while True:
                data = sock.recv(4096)  # raises socket.timeout if the connection stays open
                if not data:
                    break
                received += data
            sock.close()
            self.assertTrue(received.startswith(b"HTTP/1.1 200 OK"), received)

    def test_the_body_budget_is_applied(self):
        # Bodies share max_buffered_body_bytes; one larger than all of it gets 503 (one
        # that would fit once others are done waits for them, up to the body timeout).
        with roost.Server(port=0, max_buffered_body_bytes=64 * 1024, body_timeout=0.3) as srv:
            srv.add_route("POST", "/", lambda req: str(len(req.body)))
            srv.start()
            self.assertEqual(request(srv.port, "POST", "/", body=b"x" * 10000)[:3:2], (200, b"10000"))
            self.assertEqual(request(srv.port, "POST", "/", body=b"x" * 200000)[0], 503)
            self.assertEqual(request(srv.port, "POST", "/", body=b"x" * 10000)[0], 200)

    def test_close_is_idempotent_and_a_closed_server_refuses_use(self):
        srv = roost.Server(port=0)
        srv.start()
        port = srv.port
        srv.close()
        srv.close()
        with self.assertRaises(ValueError):
            srv.port
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2)


if __name__ == "__main__":
    unittest.main()
