//! How a server is set up: where it listens, how many threads, its limits and timeouts.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::http::Limits;
use crate::tls::Tls;

/// One address a server listens on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listen {
    /// Port 0 picks a free port (see `Server::local_addrs`).
    pub addr: SocketAddr,
    /// Serves HTTPS, with the server's `Config::tls`.
    pub tls: bool,
    /// Answers every request with a redirect (308) to the same path and query on the
    /// server's first TLS listener, instead of serving it (for a plain listener).
    pub redirect_https: bool,
}

impl Listen {
    /// Plain HTTP on `addr`.
    pub fn plain(addr: SocketAddr) -> Listen {
        Listen {
            addr,
            tls: false,
            redirect_https: false,
        }
    }

    /// HTTPS on `addr`.
    pub fn tls(addr: SocketAddr) -> Listen {
        Listen {
            tls: true,
            ..Listen::plain(addr)
        }
    }
}

/// Everything a server needs besides its handler. `Config::default()` is a sensible
/// loopback server; change what you need.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen: at least one address, each plain or TLS.
    pub listen: Vec<Listen>,
    /// Certificates and client authentication for the TLS listeners.
    pub tls: Option<Arc<Tls>>,
    /// Worker threads, each with its own epoll set. 0 means one per CPU.
    pub threads: usize,
    /// Open connections allowed at once across all workers; the connection past it is
    /// closed at once. 0 means no limit but the process's descriptor limit.
    pub max_connections: usize,
    pub limits: Limits,
    pub timeouts: Timeouts,
    /// Threads that run handlers which may block (route handlers: host code), so that a
    /// slow handler never stalls the I/O of other connections. 0 (the default) runs every
    /// handler on the I/O worker that read its request.
    pub handler_threads: usize,
    /// Requests that may wait for a handler thread; past it, 503.
    pub handler_queue: usize,
    /// Bytes of request content the server holds in memory at once, across all
    /// connections (each body is also bounded by `limits.max_body`). Past it, reading
    /// bodies pauses until memory comes back; a body kept waiting longer than the body
    /// timeout gets 503.
    pub max_buffered_body_bytes: usize,
}

/// How long a connection may take at each stage before it is cut off.
#[derive(Clone, Debug)]
pub struct Timeouts {
    /// For the whole request head, counted from its first byte; past it: 408, then close.
    /// Also how long a new connection may stay silent; past that: close, without a
    /// response.
    pub header: Duration,
    /// Between requests on a persistent connection. Past it: close.
    pub keep_alive: Duration,
    /// Without any progress while reading request content; and each stretch of this long
    /// must bring the body 1 KiB/s, so a trickled body is cut off too. Past either: 408,
    /// then close. Also how long a body may wait for memory (see
    /// `Config::max_buffered_body_bytes`); past that: 503.
    pub body: Duration,
    /// Without any progress while sending a response (the client stopped reading).
    /// Past it: close.
    pub write: Duration,
    /// After an error response, how long input is drained before the close, so that a
    /// client still sending reads the response rather than a reset.
    pub linger: Duration,
    /// How long a graceful stop waits for responses in flight before closing them.
    pub shutdown: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header: Duration::from_secs(10),
            keep_alive: Duration::from_secs(5),
            body: Duration::from_secs(10),
            write: Duration::from_secs(10),
            linger: Duration::from_secs(2),
            shutdown: Duration::from_secs(10),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: vec![Listen::plain(SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)))],
            tls: None,
            threads: 0,
            max_connections: 0,
            limits: Limits::default(),
            timeouts: Timeouts::default(),
            handler_threads: 0,
            handler_queue: 1024,
            max_buffered_body_bytes: 256 << 20,
        }
    }
}

impl Config {
    /// Listens on `addr` only, plain HTTP.
    pub fn bind(&mut self, addr: SocketAddr) {
        self.listen = vec![Listen::plain(addr)];
    }

    /// The number of worker threads this config asks for, with 0 resolved to the CPU count.
    pub fn worker_count(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::default();
        let bind = SocketAddr::from((Ipv4Addr::LOCALHOST, 8080));
        assert_eq!(c.listen, [Listen::plain(bind)]);
        assert!(c.tls.is_none());
        assert_eq!(
            (
                c.threads,
                c.max_connections,
                c.handler_threads,
                c.handler_queue,
                c.max_buffered_body_bytes
            ),
            (0, 0, 0, 1024, 256 << 20)
        );
        let t = c.timeouts;
        let s = Duration::from_secs;
        assert_eq!(
            (
                t.header,
                t.keep_alive,
                t.body,
                t.write,
                t.linger,
                t.shutdown
            ),
            (s(10), s(5), s(10), s(10), s(2), s(10))
        );
        let l = c.limits;
        assert_eq!(
            (l.max_head, l.max_uri, l.max_headers, l.max_body),
            (16384, 8192, 100, 16 << 20)
        );
    }
}
