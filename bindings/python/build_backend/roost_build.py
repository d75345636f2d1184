"""A PEP 517 build backend for the roost package, using only the standard library.

The wheel holds the roost/ package and libroost.so next to it. The library comes from
ROOST_LIBRARY if set, else from `cargo build --release --lib` in the repository (the
version comes from Cargo.toml). Only wheels are built; an sdist would have no library.
"""

import base64
import hashlib
import os
import pathlib
import re
import subprocess
import sysconfig
import zipfile

HERE = pathlib.Path(__file__).resolve().parent.parent
REPO = HERE.parent.parent
NAME = "roost"


def _version():
    text = (REPO / "Cargo.toml").read_text()
    return re.search(r'^version\s*=\s*"([^"]+)"', text, re.M).group(1)


def _library():
    env = os.environ.get("ROOST_LIBRARY")
    if env:
        return pathlib.Path(env)
    subprocess.run(["cargo", "build", "--release", "--lib"], cwd=REPO, check=True)
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "release" / "libroost.so"


def _tag():
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return "py3-none-" + platform


def _metadata(version):
    return (
        "Metadata-Version: 2.1\n"
        "Name: %s\n"
        "Version: %s\n"
        "Summary: An HTTP/1.1 server with a Rust core, through ctypes\n"
        "Requires-Python: >=3.8\n" % (NAME, version)
    )


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d\n" % (name, digest, len(data))


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info = "%s-%s.dist-info" % (NAME, _version())
    path = pathlib.Path(metadata_directory) / info
    path.mkdir(parents=True, exist_ok=True)
    (path / "METADATA").write_text(_metadata(_version()))
    return info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    version = _version()
    tag = _tag()
    info = "%s-%s.dist-info" % (NAME, version)
    files = []
    for source in sorted((HERE / NAME).glob("*.py")):
        files.append(("%s/%s" % (NAME, source.name), source.read_bytes()))
    library = _library()
    if not library.is_file():
        raise RuntimeError("roost: no library at %s" % library)
    files.append(("%s/libroost.so" % NAME, library.read_bytes()))
    files.append(("%s/METADATA" % info, _metadata(version).encode()))
    wheel_info = "Wheel-Version: 1.0\nGenerator: roost_build\nRoot-Is-Purelib: false\nTag: %s\n" % tag
    files.append(("%s/WHEEL" % info, wheel_info.encode()))

    wheel_name = "%s-%s-%s.whl" % (NAME, version, tag)
    record = "".join(_record_line(name, data) for name, data in files)
    record += "%s/RECORD,,\n" % info
    with zipfile.ZipFile(pathlib.Path(wheel_directory) / wheel_name, "w", zipfile.ZIP_DEFLATED) as whl:
        for name, data in files:
            entry = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            entry.external_attr = (0o755 if name.endswith(".so") else 0o644) << 16
            whl.writestr(entry, data, zipfile.ZIP_DEFLATED)
        whl.writestr("%s/RECORD" % info, record)
    return wheel_name
