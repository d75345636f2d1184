"""What the Python benchmarks share: the release build of the library and the C samples
they start, a started server's port from its ready line, their `--name N` options, and a
process's memory from /proc."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build():
    """The library first: make rebuilds it only when it is missing."""
    subprocess.run(["cargo", "build", "--release", "--lib", "-q"], cwd=ROOT, check=True)
    subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "bindings", "c"), "PROFILE=release"],
                   check=True)


def sample(name):
    """The path of a C sample built by build()."""
    return os.path.join(ROOT, "target", "release", "c-samples", name)


def start(command, env=None):
    """Starts a server that prints "...http://127.0.0.1:PORT/" once listening: (process,
    port)."""
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    port = int(server.stdout.readline().rsplit(":", 1)[1].split("/")[0])
    return server, port


def option(args, name, default):
    """The number after `name` in `args` (taken out of them), or `default`."""
    if name not in args:
        return default
    at = args.index(name)
    value = int(args[at + 1])
    del args[at:at + 2]
    return value


def memory_kib(pid, field="VmRSS"):
    """A memory figure of /proc/PID/status (VmRSS, VmHWM), in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)
