"""python3 -m roost DIR [--port N] [--bind ADDR] [--tls-cert FILE --tls-key FILE]: serve a
folder, like http.server, over HTTP or HTTPS."""

import argparse
import signal
import sys

from . import Error, Server


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m roost", description="Serve a folder over HTTP/1.1.")
    parser.add_argument("dir", nargs="?", default=".", help="folder to serve (default: .)")
    parser.add_argument("--port", type=int, default=8080, help="TCP port; 0 picks a free one (default: 8080)")
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--tls-cert", help="certificate chain (PEM) to serve HTTPS with")
    parser.add_argument("--tls-key", help="the private key (PEM) of --tls-cert")
    args = parser.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")

    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    try:
        with Server(host=args.bind, port=args.port, tls_cert=args.tls_cert,
                    tls_key=args.tls_key) as server:
            server.static("/", args.dir)
            server.start()
            host = "[%s]" % args.bind if ":" in args.bind else args.bind
            scheme = "https" if args.tls_cert else "http"
            print("roost: serving %s on %s://%s:%d/" % (args.dir, scheme, host, server.port),
                  flush=True)
            signal.sigwait(stop_signals)
    except Error as e:
        print("roost: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
