//! The server: a listening socket, worker threads each running an epoll loop, and the
//! connections they serve. Nothing here formats HTTP; `http::session` does that.

mod config;
mod connection;
mod pool;
mod signals;
mod timers;
mod worker;

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

pub use config::{Config, Timeouts};
pub use signals::StopSignals;

use crate::http::Handler;
use crate::sys::eventfd::EventFd;
use crate::sys::rlimit::raise_open_files_limit;
use crate::sys::socket::{self, Shutdown};
use pool::{Completions, Pool};
use worker::Worker;

/// Connections a listener queues before workers accept them (the kernel caps it at
/// net.core.somaxconn).
const BACKLOG: i32 = 4096;

/// What the workers of one server share.
pub(crate) struct Shared {
    /// One listening socket in every worker's epoll set with EPOLLEXCLUSIVE, so a new
    /// connection wakes one idle worker. (SO_REUSEPORT listeners would let another process
    /// bind the same port and take a share of the connections, and closing one of them
    /// resets the connections queued on it.)
    listener: OwnedFd,
    config: Config,
    handler: Arc<dyn Handler>,
    stopping: AtomicBool,
    connections: AtomicUsize,
    /// Threads for handlers that may block, if the config asks for them.
    pool: Option<Arc<Pool>>,
}

/// A running server. Dropping it stops it.
pub struct Server {
    shared: Arc<Shared>,
    wakers: Vec<Arc<EventFd>>,
    threads: Vec<JoinHandle<()>>,
    local_addr: SocketAddr,
}

impl Server {
    /// Binds, starts the worker threads, and returns once the server is listening:
    /// connections made after this returns are served.
    ///
    /// Also raises the process's soft descriptor limit to its hard limit, since every
    /// connection holds a descriptor.
    pub fn start(config: Config, handler: Arc<dyn Handler>) -> io::Result<Server> {
        let _ = raise_open_files_limit();
        let listener = socket::listen(&config.bind, BACKLOG)
            .map_err(|e| describe(e, &format!("bind {}", config.bind)))?;
        let local_addr = socket::local_addr(listener.as_fd())?;
        let workers = config.worker_count();
        let completions: Vec<Arc<Completions>> = if config.handler_threads > 0 {
            (0..workers)
                .map(|_| Completions::new().map(Arc::new))
                .collect::<io::Result<_>>()?
        } else {
            Vec::new()
        };
        let pool = if config.handler_threads > 0 {
            Some(Pool::start(
                config.handler_threads,
                config.handler_queue,
                handler.clone(),
                config.limits.clone(),
                completions.clone(),
            )?)
        } else {
            None
        };
        let shared = Arc::new(Shared {
            listener,
            config,
            handler,
            stopping: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
            pool,
        });
        let mut server = Server {
            shared,
            wakers: Vec::with_capacity(workers),
            threads: Vec::with_capacity(workers),
            local_addr,
        };
        for i in 0..workers {
            let waker = Arc::new(EventFd::new()?);
            let worker = Worker::new(
                server.shared.clone(),
                waker.clone(),
                i,
                completions.get(i).cloned(),
            )?;
            let thread = std::thread::Builder::new()
                .name(format!("roost-worker-{i}"))
                .spawn(move || worker.run())?;
            server.wakers.push(waker);
            server.threads.push(thread);
        }
        Ok(server)
    }

    /// The address the server listens on, with the real port when port 0 was asked for.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The ids of the threads that run this server's handlers: its I/O workers and its
    /// handler pool. A handler must not stop its own server: stopping waits for them.
    pub fn worker_threads(&self) -> Vec<std::thread::ThreadId> {
        let mut ids: Vec<_> = self.threads.iter().map(|t| t.thread().id()).collect();
        if let Some(pool) = &self.shared.pool {
            ids.extend(pool.thread_ids());
        }
        ids
    }

    /// Open connections right now, across all workers.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Stops gracefully: new connections are refused at once, connections without a
    /// request in flight are closed, responses in flight are finished (each closing its
    /// connection) for up to `Timeouts::shutdown`, then the workers are joined. A handler
    /// still running then is waited for (host code cannot be interrupted); requests still
    /// queued for the handler pool are dropped. Calling it again does nothing.
    pub fn stop(&mut self) {
        if self.shared.stopping.swap(true, Ordering::AcqRel) {
            return;
        }
        for waker in &self.wakers {
            waker.notify();
        }
        // Refuse new connections now rather than when the descriptor is finally closed.
        socket::shutdown(self.shared.listener.as_fd(), Shutdown::Read);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
        // The workers are done, so nothing waits for the pool: let it finish and join it.
        if let Some(pool) = &self.shared.pool {
            pool.stop();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Rewrites an OS error as "what: reason" with a short reason for the common cases.
fn describe(err: io::Error, what: &str) -> io::Error {
    let reason = match err.kind() {
        io::ErrorKind::AddrInUse => "address in use".to_string(),
        io::ErrorKind::AddrNotAvailable => "address not available".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => err.to_string(),
    };
    io::Error::new(err.kind(), format!("{what}: {reason}"))
}
