//! The server: a listening socket, worker threads each running an epoll loop, the
//! connections they serve, and the threads that answer requests whose handlers may block.
//! It moves bytes and threads; what a request means and which status answers it are
//! decided in `h1` and `http`.

mod config;
mod connection;
mod mailbox;
mod pool;
mod signals;
mod timers;
mod transport;
mod worker;

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

pub use config::{Config, Listen, Timeouts};
pub use pool::{HostQueue, NextError};
pub use signals::{Asked, StopSignals};

use crate::http::{BodyBudget, Handler};
use crate::router::RedirectToHttps;
use crate::sys::fd::Kept;
use crate::sys::rlimit::raise_open_files_limit;
use crate::sys::socket::{self, Shutdown};
use mailbox::Mailbox;
use pool::Pool;
use worker::Worker;

/// Connections a listener queues before workers accept them (the kernel caps it at
/// net.core.somaxconn).
const BACKLOG: i32 = 4096;
/// Handler threads a server starts for the routes that stream their bodies when
/// `Config::handler_threads` asks for none.
const STREAMED_BODY_THREADS: usize = 4;

/// In a forked child, what the parent's servers left: their threads' state, which must not
/// be dropped there (see `Server::stop`).
static LEFT_BY_THE_PARENT: std::sync::Mutex<Vec<Box<dyn std::any::Any + Send>>> =
    std::sync::Mutex::new(Vec::new());

/// A listening socket, in every worker's epoll set with EPOLLEXCLUSIVE, so a new connection
/// wakes one idle worker. (SO_REUSEPORT listeners would let another process bind the same
/// port and take a share of the connections, and closing one of them resets the
/// connections queued on it.)
pub(crate) struct Listener {
    fd: OwnedFd,
    tls: bool,
    /// What answers its requests instead of the server's handler (a redirect to HTTPS).
    handler: Option<Arc<dyn Handler>>,
}

/// What the workers of one server share.
pub(crate) struct Core {
    listeners: Vec<Listener>,
    config: Config,
    handler: Arc<dyn Handler>,
    stopping: AtomicBool,
    connections: AtomicUsize,
    /// Threads for handlers that may block, if the config asks for them, and for those
    /// that read streamed bodies.
    pool: Option<Arc<Pool>>,
    /// The requests of the routes the host's own threads answer.
    host: Arc<Pool>,
    /// Memory for request bodies, across all connections.
    budget: Arc<BodyBudget>,
}

/// A running server. Dropping it stops it.
///
/// A server belongs to the process that started it. In a child forked after the start,
/// its threads do not exist and its listening socket is shared with the parent, so
/// stopping or dropping it there only closes the child's copy of the listening socket (its
/// epoll sets and eventfds are close-on-exec): the parent's server goes on, and its
/// connections close when the parent closes them (it shuts each down first, so a child's
/// copy cannot keep one open).
pub struct Server {
    core: Arc<Core>,
    mailboxes: Vec<Arc<Mailbox>>,
    threads: Vec<JoinHandle<()>>,
    local_addrs: Vec<SocketAddr>,
    /// The process that started it.
    owner: u32,
    /// The listening sockets, for a forked child to close its copies.
    listener_copies: Vec<Kept>,
}

impl Server {
    /// Binds, starts the worker threads, and returns once the server is listening:
    /// connections made after this returns are served.
    ///
    /// Also raises the process's soft descriptor limit to its hard limit, since every
    /// connection holds a descriptor.
    pub fn start(config: Config, handler: Arc<dyn Handler>) -> io::Result<Server> {
        let _ = raise_open_files_limit();
        if config.listen.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no address to listen on",
            ));
        }
        if config.listen.len() > worker::MAX_LISTENERS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("at most {} listeners", worker::MAX_LISTENERS),
            ));
        }
        if config.tls.is_none() && config.listen.iter().any(|l| l.tls) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a TLS listener needs a certificate",
            ));
        }
        let mut listeners = Vec::with_capacity(config.listen.len());
        let mut local_addrs = Vec::with_capacity(config.listen.len());
        for listen in &config.listen {
            let fd = socket::listen(&listen.addr, BACKLOG)
                .map_err(|e| describe(e, &format!("bind {}", listen.addr)))?;
            local_addrs.push(socket::local_addr(fd.as_fd())?);
            listeners.push(Listener {
                fd,
                tls: listen.tls,
                handler: None,
            });
        }
        // Plain listeners that redirect send clients to the first TLS one.
        let https_port = config
            .listen
            .iter()
            .zip(&local_addrs)
            .find(|(listen, _)| listen.tls)
            .map(|(_, addr)| addr.port());
        for (listener, listen) in listeners.iter_mut().zip(&config.listen) {
            if listen.redirect_https && !listen.tls {
                let port = https_port.ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "redirecting to HTTPS needs a TLS listener",
                    )
                })?;
                listener.handler = Some(Arc::new(RedirectToHttps { port }));
            }
        }
        let workers = config.worker_count();
        let mailboxes: Vec<Arc<Mailbox>> = (0..workers)
            .map(|_| Mailbox::new().map(Arc::new))
            .collect::<io::Result<_>>()?;
        let budget = BodyBudget::new(config.max_buffered_body_bytes);
        let told = mailboxes.clone();
        budget.set_on_release(move || {
            for mailbox in &told {
                mailbox.memory_released();
            }
        });
        // Handlers that read bodies as they arrive wait for the client, so they never run on
        // an I/O thread: a server with such routes has handler threads for them.
        let threads = match config.handler_threads {
            0 if handler.streams_bodies() => STREAMED_BODY_THREADS,
            threads => threads,
        };
        let pool = match threads {
            0 => None,
            threads => Some(Pool::start(threads, config.handler_queue, handler.clone())?),
        };
        let host = Pool::queue(config.handler_queue);
        let listener_copies = listeners.iter().map(|l| Kept::of(l.fd.as_fd())).collect();
        let core = Arc::new(Core {
            listeners,
            config,
            handler,
            stopping: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
            pool,
            host,
            budget,
        });
        let mut server = Server {
            core,
            mailboxes,
            threads: Vec::with_capacity(workers),
            local_addrs,
            owner: std::process::id(),
            listener_copies,
        };
        for (i, mailbox) in server.mailboxes.iter().enumerate() {
            let worker = Worker::new(server.core.clone(), mailbox.clone())?;
            let thread = std::thread::Builder::new()
                .name(format!("roost-worker-{i}"))
                .spawn(move || worker.run())?;
            server.threads.push(thread);
        }
        Ok(server)
    }

    /// The address of the first listener, with the real port when port 0 was asked for.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addrs[0]
    }

    /// The addresses of all listeners, in the order of `Config::listen`.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// The server's TLS, to reload its certificates.
    pub fn tls(&self) -> Option<&Arc<crate::tls::Tls>> {
        self.core.config.tls.as_ref()
    }

    /// The ids of the threads that run this server's handlers: its I/O workers and its
    /// handler pool. A handler must not stop its own server: stopping waits for them.
    pub fn worker_threads(&self) -> Vec<std::thread::ThreadId> {
        let mut ids: Vec<_> = self.threads.iter().map(|t| t.thread().id()).collect();
        if let Some(pool) = &self.core.pool {
            ids.extend(pool.thread_ids());
        }
        ids
    }

    /// The requests of the routes answered by the host's own threads
    /// (`router::HostRoute`), for those threads to take.
    pub fn host_queue(&self) -> HostQueue {
        HostQueue::new(self.core.host.clone())
    }

    /// Open connections right now, across all workers.
    pub fn connections(&self) -> usize {
        self.core.connections.load(Ordering::Relaxed)
    }

    /// Bytes of request content held in memory right now, across all connections (at most
    /// `Config::max_buffered_body_bytes`).
    pub fn buffered_body_bytes(&self) -> usize {
        self.core.budget.used()
    }

    /// Whether this process started the server (and not a parent it was forked from).
    pub fn is_owned_by_this_process(&self) -> bool {
        std::process::id() == self.owner
    }

    /// Stops gracefully: new connections are refused at once, connections without a
    /// request in flight are closed, responses in flight are finished (each closing its
    /// connection) for up to `Timeouts::shutdown`, then the workers are joined. A handler
    /// still running then is waited for (host code cannot be interrupted); requests still
    /// queued for the handler threads are dropped. Calling it again does nothing.
    ///
    /// In a process forked from the one that started the server, it only closes this
    /// process's copies of the server's descriptors (see the type's docs).
    pub fn stop(&mut self) {
        if !self.is_owned_by_this_process() {
            return self.let_go_in_a_forked_child();
        }
        if self.core.stopping.swap(true, Ordering::AcqRel) {
            return;
        }
        // The host's threads hear of it now; the requests they had not taken get 500.
        self.core.host.close();
        for mailbox in &self.mailboxes {
            mailbox.wake();
        }
        // Refuse new connections now rather than when the descriptors are finally closed.
        for listener in &self.core.listeners {
            socket::shutdown(listener.fd.as_fd(), Shutdown::Read);
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
        // What is left closes with the server.
        self.listener_copies.clear();
        // The workers are done, so nothing waits for the pool: let it finish and join it.
        if let Some(pool) = &self.core.pool {
            pool.stop();
        }
        // Answers that came after their worker ended hold responses (and files): drop them.
        for mailbox in &self.mailboxes {
            drop(mailbox.take());
        }
    }

    /// In a forked child: the threads are the parent's (joining them would wait forever),
    /// and so is the listening socket (shutting it down would refuse the parent's
    /// connections). Close only this process's copy of the listening socket; the memory
    /// the parent's threads own is unreachable here.
    fn let_go_in_a_forked_child(&mut self) {
        if self.threads.is_empty() && self.listener_copies.is_empty() {
            return;
        }
        for thread in self.threads.drain(..) {
            std::mem::forget(thread);
        }
        if let Some(pool) = &self.core.pool {
            for thread in pool.take_threads() {
                std::mem::forget(thread);
            }
        }
        for listener in self.listener_copies.drain(..) {
            listener.close_in_forked_child();
        }
        // What owns those descriptors must never close them again here: keep it alive
        // (and reachable) for the rest of the process.
        let mut kept = LEFT_BY_THE_PARENT.lock().unwrap_or_else(|e| e.into_inner());
        kept.push(Box::new(self.core.clone()));
        kept.push(Box::new(self.mailboxes.clone()));
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
