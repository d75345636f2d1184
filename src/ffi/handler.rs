//! Host handlers: C function pointers called for matching requests.

use std::ffi::c_void;

use std::cell::Cell;

use super::exchange;
use super::request::roost_request;
use super::response::roost_response;
use crate::http::{Intake, Placement, Request, Response};
use crate::router::{Matched, RouteHandler};

/// The handler finished the response; send it as it stands.
pub const ROOST_HANDLER_DONE: i32 = 0;
/// The handler failed; whatever it set is dropped and the client gets 500.
pub const ROOST_HANDLER_FAILED: i32 = 1;
/// The handler will finish the response later: `req` and `res` stay valid until
/// `roost_response_finish(res)`, which any thread may call, once. Meanwhile the
/// connection's I/O goes on; requests pipelined behind it are answered after it, in order.
pub const ROOST_HANDLER_DEFERRED: i32 = 2;

/// A request handler: `roost_handler(req, res, userdata)`.
///
/// Called on one of the server's worker threads, concurrently with other handlers, with
/// the `userdata` given to `roost_server_route`. It reads the request through `req` and
/// fills the response through `res`; both, and every string or byte view obtained from
/// them, are valid until the handler returns, or, if it returns `ROOST_HANDLER_DEFERRED`,
/// until `roost_response_finish(res)`. Use them from one thread at a time: a handler that
/// defers passes them on to the thread that will finish, and touches them no more.
///
/// It returns `ROOST_HANDLER_DONE` when the response is complete, `ROOST_HANDLER_FAILED`
/// to answer 500 instead (or, after a `roost_request_read` that failed, the status that
/// failure deserves: 408, 413, 400 or 503), `ROOST_HANDLER_DEFERRED` to finish it later (see
/// `roost_response_finish` and `roost_response_on_close`). Any other value is answered
/// with 500.
///
/// A handler that sets nothing sends `200 OK` with an empty body. It must not stop or free
/// its own server. By default it runs on the I/O thread that read the request, so while
/// it blocks, the other connections of that thread wait (a deferred response does not
/// block: its thread is free as soon as the handler returns); with `opts.handler_threads`
/// set, handlers run on threads of their own and a slow handler stalls no I/O.
pub type roost_handler = Option<
    unsafe extern "C" fn(
        req: *mut roost_request,
        res: *mut roost_response,
        userdata: *mut c_void,
    ) -> i32,
>;

type HandlerFn = unsafe extern "C" fn(*mut roost_request, *mut roost_response, *mut c_void) -> i32;

/// A registered C handler, its userdata and its route's options. Without a function, the
/// route's requests are taken by the host's threads (`roost_server_next`).
pub struct CHandler {
    func: Option<HandlerFn>,
    userdata: *mut c_void,
    settings: RouteSettings,
}

/// What `roost_route_options` says of a route.
pub struct RouteSettings {
    pub max_body: Option<u64>,
    pub stream_body: bool,
    pub stream_buffer: Option<usize>,
    pub on_handler_thread: bool,
    pub free_userdata: Option<unsafe extern "C" fn(*mut c_void)>,
}

impl Drop for CHandler {
    /// The route goes with its server: the host's userdata is freed as it asked.
    fn drop(&mut self) {
        if let Some(free) = self.settings.free_userdata {
            // SAFETY: the host gave this function for this userdata, to be called once, when
            // the route goes (`roost_route_options.free_userdata`).
            unsafe { free(self.userdata) };
        }
    }
}

thread_local! {
    /// The handles a host route bound, for `roost_server_next` on this thread to give out.
    static BOUND: Cell<Option<(*mut roost_request, *mut roost_response)>> =
        const { Cell::new(None) };
}

/// The handles the last host-route request answered on this thread was bound to.
pub fn take_bound() -> Option<(*mut roost_request, *mut roost_response)> {
    BOUND.with(Cell::take)
}

// SAFETY: the header documents that handlers run on the server's threads, concurrently,
// and that `userdata` must be usable from any thread; roost itself never dereferences it.
unsafe impl Send for CHandler {}
// SAFETY: as above; calling the function pointer from several threads is the documented
// contract of roost_handler.
unsafe impl Sync for CHandler {}

impl CHandler {
    pub fn new(
        func: Option<HandlerFn>,
        userdata: *mut c_void,
        settings: RouteSettings,
    ) -> CHandler {
        CHandler {
            func,
            userdata,
            settings,
        }
    }
}

impl RouteHandler for CHandler {
    fn handle(&self, req: &Request, route: &Matched<'_>, res: &mut Response) {
        let verdicts = exchange::Verdicts {
            done: ROOST_HANDLER_DONE,
            deferred: ROOST_HANDLER_DEFERRED,
        };
        let verdict = exchange::call(req, route, res, verdicts, |req, res| {
            // SAFETY: `req` is the live handle just bound for this call.
            unsafe { (*req).set_userdata(self.userdata) };
            match self.func {
                // SAFETY: both handles are live for the call (and, deferred, until the
                // finish), as the handler contract promises; `userdata` is passed back as
                // registered.
                Some(func) => unsafe { func(req, res, self.userdata) },
                // A host route: the handles go to the host thread that took the request,
                // to finish as a deferred response.
                None => {
                    BOUND.with(|bound| bound.set(Some((req, res))));
                    ROOST_HANDLER_DEFERRED
                }
            }
        });
        if verdict != ROOST_HANDLER_DONE && verdict != ROOST_HANDLER_DEFERRED {
            // A handler that gives up on a body that failed answers as the failure
            // deserves (408, 413, 400, 503); any other failure is the server's.
            let failure = req.upload().and_then(|upload| upload.failure());
            res.set_error(failure.map_or(500, |e| e.status()));
        }
    }

    fn placement(&self) -> Placement {
        match self.func {
            None => Placement::HostThread,
            Some(_) if self.settings.on_handler_thread => Placement::Blocking,
            Some(_) => Placement::Here,
        }
    }

    fn intake(&self) -> Intake {
        Intake {
            max_body: self.settings.max_body,
            stream: self.settings.stream_body,
            buffer: self.settings.stream_buffer,
        }
    }
}
