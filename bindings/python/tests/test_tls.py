"""HTTPS from Python: Server(tls_cert=..., tls_key=...), add_certificate, listen,
reload_tls and req.tls, checked with the ssl module and http.client. The certificates are
made with the openssl command; without it these tests are skipped, saying so."""

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import unittest

import roost

OPENSSL = shutil.which("openssl")


def openssl(*args):
    subprocess.run([OPENSSL, *args], check=True, capture_output=True)


class Pki:
    """A CA, server certificates for localhost and b.test, a renewed localhost one, and a
    client certificate for CN=alice, in a temporary directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="roost-tls-")
        self.ca, ca_key = self.path("ca.pem"), self.path("ca.key")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", ca_key, "-out", self.ca, "-days", "2", "-subj", "/CN=roost test CA")
        self.localhost = self.issue("localhost", "/CN=localhost", "DNS:localhost,IP:127.0.0.1")
        self.renewed = self.issue("renewed", "/CN=localhost", "DNS:localhost,IP:127.0.0.1")
        self.b = self.issue("b", "/CN=b.test", "DNS:b.test")
        self.alice = self.issue("alice", "/O=Example/CN=alice", None)

    def path(self, name):
        return os.path.join(self.dir, name)

    def issue(self, name, subject, names):
        cert, key, csr = self.path(name + ".pem"), self.path(name + ".key"), self.path(name + ".csr")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key, "-out", csr, "-subj", subject)
        extensions = self.path(name + ".ext")
        with open(extensions, "w") as f:
            f.write("subjectAltName=%s\n" % names if names else "extendedKeyUsage=clientAuth\n")
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.path("ca.key"),
                "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", extensions)
        return cert, key

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def context(pki, cert=None, alpn=True, version=None):
    ctx = ssl.create_default_context(cafile=pki.ca)
    if cert is not None:
        ctx.load_cert_chain(*cert)
    if alpn:
        ctx.set_alpn_protocols(["http/1.1"])
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


def get(port, path, ctx, host="localhost"):
    conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


@unittest.skipIf(OPENSSL is None, "the openssl command is not installed: no certificates")
class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = Pki()

    @classmethod
    def tearDownClass(cls):
        cls.pki.close()

    def server(self, **options):
        cert, key = self.pki.localhost
        srv = roost.Server(port=0, threads=2, tls_cert=cert, tls_key=key, **options)
        self.addCleanup(srv.close)

        @srv.route("GET", "/tls")
        def tls(req):
            return req.tls

        return srv

    def test_https_with_tls_details_for_handlers(self):
        srv = self.server()
        srv.static("/", os.path.dirname(self.pki.ca))
        srv.start()
        status, _, body = get(srv.port, "/tls", context(self.pki))
        self.assertEqual(status, 200)
        tls = json.loads(body)
        self.assertEqual(tls["version"], "TLSv1.3")
        self.assertTrue(tls["cipher"].startswith("TLS_"), tls)
        self.assertEqual((tls["server_name"], tls["alpn"], tls["client_subject"]),
                         ("localhost", "http/1.1", None))
        with open(self.pki.ca, "rb") as f:
            self.assertEqual(get(srv.port, "/ca.pem", context(self.pki))[2], f.read())
        tls12 = json.loads(get(srv.port, "/tls", context(self.pki, version=ssl.TLSVersion.TLSv1_2))[2])
        self.assertEqual(tls12["version"], "TLSv1.2")

    def test_sni_picks_the_certificate_and_pem_bytes_work(self):
        srv = self.server()
        cert, key = self.pki.b
        with open(cert, "rb") as c, open(key, "rb") as k:
            srv.add_certificate(c.read(), k.read())
        srv.start()
        for name in ("b.test", "localhost"):
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as raw:
                with context(self.pki).wrap_socket(raw, server_hostname=name) as tls:
                    subject = dict(item[0] for item in tls.getpeercert()["subject"])
                    self.assertEqual(subject["commonName"], name)

    def test_client_certificates_required_and_optional(self):
        required = self.server(tls_client_ca=self.pki.ca)
        required.start()
        tls = json.loads(get(required.port, "/tls", context(self.pki, cert=self.pki.alice))[2])
        self.assertEqual(tls["client_subject"], "CN=alice,O=Example")
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            get(required.port, "/tls", context(self.pki))
        optional = self.server(tls_client_ca=self.pki.ca, tls_client_auth="optional")
        optional.start()
        self.assertIsNone(json.loads(get(optional.port, "/tls", context(self.pki))[2])["client_subject"])

    def test_a_plain_listener_redirects_and_plain_http_at_the_tls_port_is_told(self):
        srv = self.server()
        srv.listen("127.0.0.1", 0, redirect_https=True)
        srv.start()
        https, plain = srv.ports
        conn = http.client.HTTPConnection("127.0.0.1", plain, timeout=10)
        conn.request("GET", "/a?b=c")
        response = conn.getresponse()
        self.assertEqual(response.status, 308)
        self.assertEqual(response.getheader("Location"), "https://127.0.0.1:%d/a?b=c" % https)
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", https, timeout=10)
        conn.request("GET", "/")
        response = conn.getresponse()
        self.assertEqual(response.status, 400)
        self.assertIn(b"this port speaks HTTPS", response.read())
        conn.close()

    def test_reload_takes_new_files_and_a_bad_one_keeps_the_old(self):
        live_cert, live_key = self.pki.path("live.pem"), self.pki.path("live.key")
        shutil.copy(self.pki.localhost[0], live_cert)
        shutil.copy(self.pki.localhost[1], live_key)
        srv = roost.Server(port=0, tls_cert=live_cert, tls_key=live_key)
        self.addCleanup(srv.close)
        srv.start()

        def served():
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as raw:
                with context(self.pki).wrap_socket(raw, server_hostname="localhost") as tls:
                    return tls.getpeercert(binary_form=True)

        def der(path):
            with open(path) as f:
                return ssl.PEM_cert_to_DER_cert(f.read())

        self.assertEqual(served(), der(self.pki.localhost[0]))
        shutil.copy(self.pki.renewed[0], live_cert)
        shutil.copy(self.pki.renewed[1], live_key)
        srv.reload_tls()
        self.assertEqual(served(), der(self.pki.renewed[0]))
        with open(live_key, "w") as f:
            f.write("garbage")
        with self.assertRaises(roost.Error) as caught:
            srv.reload_tls()
        self.assertIn("live.key", str(caught.exception))
        self.assertEqual(served(), der(self.pki.renewed[0]))

    def test_bad_arguments(self):
        with self.assertRaises(TypeError):
            roost.Server(port=0, tls_cert=self.pki.localhost[0])
        with self.assertRaises(roost.Error) as caught:
            roost.Server(port=0, tls_cert=self.pki.path("missing.pem"), tls_key=self.pki.localhost[1])
        self.assertIn("missing.pem: cannot read it", str(caught.exception))
        with self.assertRaises(ValueError):
            self.server(tls_client_auth="sometimes")

    def test_python_m_roost_serves_https(self):
        cert, key = self.pki.localhost
        env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(roost.__file__))))
        child = subprocess.Popen([sys.executable, "-m", "roost", self.pki.dir, "--port", "0",
                                  "--tls-cert", cert, "--tls-key", key],
                                 stdout=subprocess.PIPE, text=True, env=env)
        try:
            line = child.stdout.readline()
            self.assertTrue(line.startswith("roost: serving %s on https://127.0.0.1:" % self.pki.dir), line)
            port = int(line.rsplit(":", 1)[1].strip("/\n"))
            self.assertEqual(get(port, "/ca.pem", context(self.pki))[0], 200)
        finally:
            child.terminate()
            self.assertEqual(child.wait(10), 0)
            child.stdout.close()


if __name__ == "__main__":
    unittest.main()
