//! Host handlers: C function pointers called for matching requests.

use std::ffi::c_void;

use super::request::roost_request;
use super::response::roost_response;
use crate::http::{Request, Response};
use crate::router::{Matched, RouteHandler};

/// The handler finished the response; send it as it stands.
pub const ROOST_HANDLER_DONE: i32 = 0;
/// The handler failed; whatever it set is dropped and the client gets 500.
pub const ROOST_HANDLER_FAILED: i32 = 1;

/// A request handler: `roost_handler(req, res, userdata)`.
///
/// Called on one of the server's worker threads, concurrently with other handlers, with
/// the `userdata` given to `roost_server_route`. It reads the request through `req` and
/// fills the response through `res`; both, and every string or byte view obtained from
/// them, are valid only until the handler returns.
///
/// It returns `ROOST_HANDLER_DONE` when the response is complete, `ROOST_HANDLER_FAILED`
/// to answer 500 instead. Any other value is reserved (a response finished later from
/// another thread, a body streamed in chunks) and is answered with 500 for now.
///
/// A handler that sets nothing sends `200 OK` with an empty body. It must not stop or free
/// its own server. By default it runs on the I/O thread that read the request, so while
/// it blocks, the other connections of that thread wait; with `opts.handler_threads` set,
/// handlers run on threads of their own and a slow handler stalls no I/O.
pub type roost_handler = Option<
    unsafe extern "C" fn(
        req: *mut roost_request,
        res: *mut roost_response,
        userdata: *mut c_void,
    ) -> i32,
>;

/// A registered C handler and its userdata.
pub struct CHandler {
    func: unsafe extern "C" fn(*mut roost_request, *mut roost_response, *mut c_void) -> i32,
    userdata: *mut c_void,
}

// SAFETY: the header documents that handlers run on the server's threads, concurrently,
// and that `userdata` must be usable from any thread; roost itself never dereferences it.
unsafe impl Send for CHandler {}
// SAFETY: as above; calling the function pointer from several threads is the documented
// contract of roost_handler.
unsafe impl Sync for CHandler {}

impl CHandler {
    pub fn new(
        func: unsafe extern "C" fn(*mut roost_request, *mut roost_response, *mut c_void) -> i32,
        userdata: *mut c_void,
    ) -> CHandler {
        CHandler { func, userdata }
    }
}

impl RouteHandler for CHandler {
    fn handle(&self, req: &Request, route: &Matched<'_>, res: &mut Response) {
        let mut request = roost_request::new(req, route);
        let mut response = roost_response::new(res);
        // SAFETY: both pointers point to live values for the whole call, as the handler
        // contract promises, and `userdata` is passed back as registered.
        let verdict = unsafe { (self.func)(&mut request, &mut response, self.userdata) };
        if verdict != ROOST_HANDLER_DONE {
            res.set_error(500);
        }
    }
}
