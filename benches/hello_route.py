"""A GET route answering "Hello world!\\n" from Python, for benches/routes.sh.
Usage: hello_route.py PORT THREADS. Prints the port once listening; Enter stops it."""
import sys

import roost

srv = roost.Server(port=int(sys.argv[1]), threads=int(sys.argv[2]))
srv.add_route("GET", "/hello", lambda req: (200, {"Content-Type": "text/plain"}, b"Hello world!\n"))
srv.start()
print(srv.port, flush=True)
sys.stdin.readline()
srv.close()
