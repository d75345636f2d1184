"""python -m roost, the library loader, and installing the package with pip."""

import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest
import urllib.request

import roost

PACKAGE = pathlib.Path(roost.__file__).resolve().parent
PROJECT = PACKAGE.parent


class MainTest(unittest.TestCase):
    def test_python_m_roost_serves_a_folder_and_stops_on_sigterm(self):
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, "hello.txt"), "w") as f:
                f.write("Hello world!\n")
            proc = subprocess.Popen(
                [sys.executable, "-m", "roost", folder, "--port", "0", "--bind", "127.0.0.1"],
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                line = proc.stdout.readline()
                self.assertTrue(line.startswith("roost: serving %s on http://127.0.0.1:" % folder), line)
                url = line.split()[-1]
                with urllib.request.urlopen(url + "hello.txt", timeout=10) as reply:
                    self.assertEqual(reply.read(), b"Hello world!\n")
                    self.assertEqual(reply.headers["Content-Type"], "text/plain; charset=utf-8")
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(timeout=20), 0)
            finally:
                proc.kill()
                proc.stdout.close()

    def test_python_m_roost_reports_a_busy_port(self):
        with roost.Server(port=0) as busy:
            busy.start()
            result = subprocess.run(
                [sys.executable, "-m", "roost", ".", "--port", str(busy.port)],
                capture_output=True,
                text=True,
                timeout=30,
            )
        self.assertEqual(result.returncode, 2)
        self.assertIn("address in use", result.stderr)


class LoaderTest(unittest.TestCase):
    def test_a_missing_library_names_every_place_looked_at(self):
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(PACKAGE, os.path.join(tmp, "roost"), ignore=shutil.ignore_patterns("*.so", "__pycache__"))
            env = dict(os.environ, PYTHONPATH=tmp, ROOST_LIBRARY="/nowhere/libroost.so",
                       CARGO_TARGET_DIR="/nowhere/target")
            result = subprocess.run([sys.executable, "-c", "import roost"], env=env, capture_output=True,
                                    text=True, cwd=tmp, timeout=30)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("ImportError", result.stderr)
        for place in ("/nowhere/libroost.so", "/nowhere/target/release/libroost.so",
                      "/nowhere/target/debug/libroost.so", os.path.join(tmp, "roost", "libroost.so")):
            self.assertIn(place, result.stderr)


@unittest.skipIf(subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode,
                 "pip is not installed")
class PipTest(unittest.TestCase):
    def test_pip_install_carries_the_library(self):
        library = roost._lib.path
        with tempfile.TemporaryDirectory() as target:
            env = dict(os.environ, ROOST_LIBRARY=str(library), PIP_DISABLE_PIP_VERSION_CHECK="1")
            subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-deps",
                 "--target", target, str(PROJECT)],
                env=env, check=True, capture_output=True, timeout=300,
            )
            self.assertTrue(os.path.isfile(os.path.join(target, "roost", "libroost.so")))
            env = {k: v for k, v in os.environ.items() if k not in ("ROOST_LIBRARY", "PYTHONPATH")}
            env["PYTHONPATH"] = target
            script = (
                "import roost, urllib.request\n"
                "print(roost._lib.path)\n"
                "with roost.Server(port=0) as s:\n"
                "    s.add_route('GET', '/', lambda req: 'installed')\n"
                "    s.start()\n"
                "    print(urllib.request.urlopen('http://127.0.0.1:%d/' % s.port).read().decode())\n"
            )
            result = subprocess.run([sys.executable, "-c", script], env=env, cwd=target, capture_output=True,
                                    text=True, timeout=60)
            self.assertEqual(result.returncode, 0, result.stderr)
            loaded, reply = result.stdout.split()
            self.assertEqual(loaded, os.path.join(target, "roost", "libroost.so"))
            self.assertEqual(reply, "installed")


if __name__ == "__main__":
    unittest.main()


class ExitTest(unittest.TestCase):
    def test_a_script_that_never_stops_its_server_exits_cleanly(self):
        script = (
            "import roost, urllib.request\n"
            "s = roost.Server(port=0)\n"
            "s.add_route('GET', '/', lambda req: 'left running')\n"
            "s.start()\n"
            "print(urllib.request.urlopen('http://127.0.0.1:%d/' % s.port).read().decode())\n"
        )
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        self.assertEqual((result.returncode, result.stdout.strip()), (0, "left running"), result.stderr)
