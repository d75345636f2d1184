//! The server handle: create, register routes and mounts, start, stop, free.

use std::io;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::ThreadId;
use std::time::Duration;

use super::exchange::{Over, Slot};
use super::handler::take_bound;
use super::options::{read_options, roost_options, roost_options_init, to_config};
use super::request::roost_request;
use super::response::roost_response;
use super::result::*;
use crate::http::stream::End;
use crate::http::{answer, Response};
use crate::router::Router;
use crate::server::{Config, NextError, Server};

/// An HTTP server: its options, its routes and mounts, and, once started, its threads.
/// Create it with `roost_server_new`, free it with `roost_server_free`.
///
/// A server belongs to the process that created it. A child forked from that process may
/// free its copy of the handle (which releases only what the child holds: its copy of the
/// listening socket, memory; the parent's server goes on serving); any other call on it
/// there returns `ROOST_ERR_STATE`.
pub struct roost_server {
    state: Mutex<State>,
    /// Signalled when a stop under way has finished.
    stopped: Condvar,
    /// The port while running, 0 otherwise; read without the lock, so that a handler can
    /// ask for it while another thread stops the server.
    port: AtomicU16,
    /// The process that created it. Compared without the lock, which a forked child may
    /// find held by a thread that does not exist there.
    created_by: u32,
}

pub(super) struct State {
    config: Config,
    router: Arc<Router>,
    running: Option<Server>,
    /// A thread is stopping the server (outside the lock, since that waits for handlers).
    stopping: bool,
    /// The worker threads from start until the stop is over: calls from them must not wait
    /// for the stop, which waits for them.
    workers: Vec<ThreadId>,
}

impl roost_server {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether the server belongs to another process: this one was forked from it.
    fn belongs_elsewhere(&self) -> bool {
        self.created_by != std::process::id()
    }

    /// Locks the state once no stop is under way. Refused (`ROOST_ERR_STATE`) on one of the
    /// server's own worker threads, which a stop would wait for, and in a process forked
    /// from the one running it.
    pub(super) fn settled(&self, func: &str) -> Result<MutexGuard<'_, State>, roost_result> {
        if self.belongs_elsewhere() {
            return Err(fail(
                ROOST_ERR_STATE,
                &format!(
                    "{func}: the server belongs to process {}, which this one was forked from",
                    self.created_by
                ),
            ));
        }
        let mut state = self.lock();
        if state.workers.contains(&std::thread::current().id()) {
            return Err(fail(
                ROOST_ERR_STATE,
                &format!("{func}: called from one of the server's own handlers"),
            ));
        }
        while state.stopping {
            state = self
                .stopped
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        Ok(state)
    }

    /// Stops the server if it runs and returns once it has stopped, also when another
    /// thread started the stop.
    fn stop(&self, func: &str) -> Result<(), roost_result> {
        let mut running = {
            let mut state = self.settled(func)?;
            let Some(running) = state.running.take() else {
                return Ok(());
            };
            state.stopping = true;
            self.port.store(0, Ordering::Release);
            running
        };
        running.stop();
        drop(running);
        let mut state = self.lock();
        state.stopping = false;
        state.workers.clear();
        self.stopped.notify_all();
        Ok(())
    }
}

/// Borrows the server behind a handle, or fails with ROOST_ERR_NULL.
///
/// # Safety
/// `srv` must be NULL or a live handle from `roost_server_new`.
pub(super) unsafe fn server_arg<'a>(
    srv: *const roost_server,
    func: &str,
) -> Result<&'a roost_server, roost_result> {
    // SAFETY: the caller guarantees `srv` is NULL or a live handle.
    unsafe { srv.as_ref() }.ok_or_else(|| fail(ROOST_ERR_NULL, &format!("{func}: srv is NULL")))
}

/// Creates a server from `opts` (NULL means all defaults) and stores it in `*out`.
/// Nothing is bound until `roost_server_start`.
///
/// Returns `ROOST_ERR_NULL` if `out` is NULL, `ROOST_ERR_INVALID` for a bad option (see
/// `roost_last_error`). `*out` is written only on success.
///
/// # Safety
/// `opts` must be NULL or point to a `roost_options` set up by `roost_options_init`
/// whose `host` points to `host_len` readable bytes; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn roost_server_new(
    opts: *const roost_options,
    out: *mut *mut roost_server,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        if out.is_null() {
            return fail(ROOST_ERR_NULL, "roost_server_new: out is NULL");
        }
        let opts = if opts.is_null() {
            let mut defaults = std::mem::MaybeUninit::<roost_options>::uninit();
            // SAFETY: `defaults` is writable and exactly sizeof(roost_options).
            unsafe {
                roost_options_init(defaults.as_mut_ptr(), std::mem::size_of::<roost_options>())
            };
            // SAFETY: roost_options_init filled every field of `defaults`.
            unsafe { defaults.assume_init() }
        } else {
            // SAFETY: the caller passes a roost_options of its stated size.
            match unsafe { read_options(opts) } {
                Ok(opts) => opts,
                Err(code) => return code,
            }
        };
        // SAFETY: `opts.host` describes `host_len` readable bytes, per the contract.
        let config = match unsafe { to_config(&opts) } {
            Ok(config) => config,
            Err(message) => return fail(ROOST_ERR_INVALID, &message),
        };
        let server = Box::new(roost_server {
            state: Mutex::new(State {
                config,
                router: Arc::new(Router::new()),
                running: None,
                stopping: false,
                workers: Vec::new(),
            }),
            stopped: Condvar::new(),
            port: AtomicU16::new(0),
            created_by: std::process::id(),
        });
        // SAFETY: `out` is non-NULL and writable, per the contract.
        unsafe { out.write(Box::into_raw(server)) };
        ROOST_OK
    })
}

/// Waits for the next request of a route registered with a NULL handler (see
/// `roost_server_route`) and gives its handles: `*req` and `*res`, to be used as a deferred
/// handler's are (the response functions, streaming, `roost_response_on_close`), then
/// `roost_response_finish(*res)`, which must be called once for each request taken. Any
/// number of the host's threads may wait at once; each request goes to one of them. It
/// blocks the calling thread (and nothing else) for up to `timeout_ms` milliseconds, or
/// until a request arrives, or for ever if `timeout_ms` is negative.
///
/// At most `opts.handler_queue` requests wait to be taken; past that they are answered
/// 503. A request whose client leaves before it is taken is skipped.
///
/// `ROOST_ERR_TIMEOUT` when none came in time; `ROOST_ERR_STATE` when the server is not
/// running, or begins to stop (the threads waiting are woken; the requests not taken get
/// 500): the host's threads end their loop then. `ROOST_ERR_NULL` for a NULL argument.
/// `*req` and `*res` are written only on `ROOST_OK`.
///
/// # Safety
/// `srv` must be NULL or a live handle that is not freed while this waits (stop it first:
/// the stop wakes the waiting threads); `req` and `res` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn roost_server_next(
    srv: *mut roost_server,
    timeout_ms: i32,
    req: *mut *mut roost_request,
    res: *mut *mut roost_response,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        const FUNC: &str = "roost_server_next";
        // SAFETY: `srv` is NULL or a live handle, per the contract.
        let server = match unsafe { server_arg(srv, FUNC) } {
            Ok(s) => s,
            Err(code) => return code,
        };
        if req.is_null() || res.is_null() {
            return fail(ROOST_ERR_NULL, &format!("{FUNC}: req or res is NULL"));
        }
        if server.belongs_elsewhere() {
            return fail(
                ROOST_ERR_STATE,
                &format!("{FUNC}: the server belongs to another process"),
            );
        }
        let (queue, router) = {
            let state = server.lock();
            match &state.running {
                Some(running) if !state.stopping => (running.host_queue(), state.router.clone()),
                _ => {
                    return fail(
                        ROOST_ERR_STATE,
                        &format!("{FUNC}: the server is not running"),
                    )
                }
            }
        };
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        loop {
            let later = match queue.next(timeout) {
                Ok(later) => later,
                // Routine (a poll with no wait): a message that costs no formatting.
                Err(NextError::Timeout) => {
                    return fail(ROOST_ERR_TIMEOUT, "roost_server_next: no request in time")
                }
                Err(NextError::Stopping) => {
                    return fail(ROOST_ERR_STATE, &format!("{FUNC}: the server is stopping"))
                }
            };
            // The request's host route binds a slot to it and defers, as a handler would.
            let mut response = Response::new();
            take_bound();
            answer(&*router, later.request(), &mut response, later.now());
            let bound = take_bound();
            match (response.take_deferral(), bound) {
                (Some(deferral), Some((bound_req, bound_res))) => {
                    deferral.adopt(later);
                    // SAFETY: the handle was just bound to a live slot.
                    let slot = unsafe { Slot::of(bound_res) };
                    if let Err(Over::Gone) = slot.check_open() {
                        // Its client left (or ended its side) while it waited: nobody to
                        // answer. Released here; the next one is taken.
                        slot.finish(End::Finished);
                        continue;
                    }
                    // SAFETY: both are non-NULL and writable, per the contract.
                    unsafe {
                        req.write(bound_req);
                        res.write(bound_res);
                    }
                    return ROOST_OK;
                }
                // Not a host route's after all: answered as it was.
                (Some(deferral), None) => deferral.adopt(later),
                (None, _) => later.finish(response),
            }
        }
    })
}

impl State {
    pub(super) fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }
}

impl roost_server {
    /// The server's TLS, if it has any.
    pub(super) fn tls(&self) -> Option<Arc<crate::tls::Tls>> {
        self.lock().config.tls.clone()
    }
}

/// Locks the state of a server that is not running, to change its config.
pub(super) fn configurable<'s>(
    server: &'s roost_server,
    func: &str,
) -> Result<MutexGuard<'s, State>, roost_result> {
    let state = server.settled(func)?;
    if state.running.is_some() {
        return Err(fail(
            ROOST_ERR_STATE,
            &format!("{func}: the server is running; set it up before start"),
        ));
    }
    Ok(state)
}

/// The router, if routes may be added now (the server is not running).
pub(super) fn routable<'s>(state: &'s mut State, func: &str) -> Option<&'s mut Router> {
    if state.running.is_some() {
        set_last_error(&format!(
            "{func}: the server is running; register before start"
        ));
        return None;
    }
    let router = Arc::get_mut(&mut state.router);
    if router.is_none() {
        set_last_error(&format!("{func}: the server is still in use"));
    }
    router
}

/// Binds and starts serving on the server's own threads; returns once listening, so a
/// connection made after this returns is served.
///
/// `ROOST_ERR_ADDRESS` when an address cannot be bound (`roost_last_error` says why, e.g.
/// "bind 127.0.0.1:8080: address in use"), `ROOST_ERR_INVALID` when the listeners do not
/// fit together (a TLS listener without `roost_server_tls`, a redirect to HTTPS without a
/// TLS listener), `ROOST_ERR_STATE` if it is already running.
/// A stopped server can be started again.
///
/// # Safety
/// `srv` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn roost_server_start(srv: *mut roost_server) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        // SAFETY: `srv` is NULL or a live handle, per the contract.
        let server = match unsafe { server_arg(srv, "roost_server_start") } {
            Ok(s) => s,
            Err(code) => return code,
        };
        let mut state = match server.settled("roost_server_start") {
            Ok(state) => state,
            Err(code) => return code,
        };
        if state.running.is_some() {
            return fail(ROOST_ERR_STATE, "roost_server_start: already running");
        }
        let handler = state.router.clone();
        match Server::start(state.config.clone(), handler) {
            Ok(running) => {
                server
                    .port
                    .store(running.local_addr().port(), Ordering::Release);
                state.workers = running.worker_threads();
                state.running = Some(running);
                ROOST_OK
            }
            Err(e) => {
                let code = match e.kind() {
                    io::ErrorKind::AddrInUse
                    | io::ErrorKind::AddrNotAvailable
                    | io::ErrorKind::PermissionDenied => ROOST_ERR_ADDRESS,
                    // The listeners do not fit together (TLS without certificates, say).
                    io::ErrorKind::InvalidInput => ROOST_ERR_INVALID,
                    _ => ROOST_ERR_IO,
                };
                fail(code, &e.to_string())
            }
        }
    })
}

/// The port the server listens on (the real one when port 0 was asked for), or 0 when it
/// is not running or `srv` is NULL.
///
/// # Safety
/// `srv` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn roost_server_port(srv: *const roost_server) -> u16 {
    guard!(0, {
        // SAFETY: `srv` is NULL or a live handle, per the contract.
        match unsafe { srv.as_ref() } {
            Some(server) => server.port.load(Ordering::Acquire),
            None => 0,
        }
    })
}

/// The port of listener `index` while the server runs: 0 is the one of `roost_options`,
/// then those of `roost_server_listen` in the order they were added. 0 when the server is
/// not running, `srv` is NULL or there is no such listener.
///
/// # Safety
/// `srv` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn roost_server_listener_port(srv: *const roost_server, index: usize) -> u16 {
    guard!(0, {
        // SAFETY: `srv` is NULL or a live handle, per the contract.
        let Some(server) = (unsafe { srv.as_ref() }) else {
            return 0;
        };
        let state = server.lock();
        state
            .running
            .as_ref()
            .and_then(|running| running.local_addrs().get(index))
            .map_or(0, |addr| addr.port())
    })
}

/// Stops gracefully: new connections are refused at once, idle connections closed,
/// responses in flight finished (each closing its connection) within the shutdown
/// timeout, then the server's threads are joined. Returns when they are, also when
/// another thread started the stop. A handler still running when the timeout passes is
/// waited for: the timeout cannot interrupt host code. Calling it on a server that is not
/// running does nothing and returns `ROOST_OK`.
///
/// Must not be called from one of the server's own handlers (it would wait for itself):
/// that returns `ROOST_ERR_STATE`.
///
/// # Safety
/// `srv` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn roost_server_stop(srv: *mut roost_server) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        // SAFETY: `srv` is NULL or a live handle, per the contract.
        let server = match unsafe { server_arg(srv, "roost_server_stop") } {
            Ok(s) => s,
            Err(code) => return code,
        };
        match server.stop("roost_server_stop") {
            Ok(()) => ROOST_OK,
            Err(code) => code,
        }
    })
}

/// Stops the server if it runs (waiting, like `roost_server_stop`), then frees it and
/// returns `ROOST_OK`; NULL does nothing. The handle must not be used afterwards.
///
/// From one of the server's own handlers this would wait for itself: it returns
/// `ROOST_ERR_STATE` and neither stops nor frees anything. In a child forked from the
/// process that created the server, it frees the child's copy without stopping anything:
/// the child's copy of the listening socket is closed (its epoll sets and eventfds are
/// close-on-exec), and the parent's server (its listening socket, its threads, its
/// connections) is not touched.
///
/// # Safety
/// `srv` must be NULL or a live handle, not used again after `ROOST_OK`.
#[no_mangle]
pub unsafe extern "C" fn roost_server_free(srv: *mut roost_server) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        // SAFETY: `srv` is NULL or a live handle, per the contract.
        let Some(server) = (unsafe { srv.as_ref() }) else {
            return ROOST_OK;
        };
        // In a forked child the lock may be held by a thread that does not exist here:
        // take nothing, drop everything (the running server lets go of the parent's).
        if !server.belongs_elsewhere() {
            if let Err(code) = server.stop("roost_server_free") {
                return code;
            }
        }
        // SAFETY: `srv` came from Box::into_raw in roost_server_new; the caller gives it up,
        // and the server is stopped, so no handler can reach it any more.
        drop(unsafe { Box::from_raw(srv) });
        ROOST_OK
    })
}
