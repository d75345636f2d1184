//! Routes to C handlers, with their options.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use super::handler::{roost_handler, CHandler, RouteSettings};
use super::result::*;
use super::server::{roost_server, routable, server_arg};
use super::strings::bytes_arg;
use super::versioned::{self, Layout};

/// Called once with a route's `userdata` when the server is freed (see
/// `roost_route_options.free_userdata`).
pub type roost_free_callback = Option<unsafe extern "C" fn(userdata: *mut c_void)>;

/// How a route is served. Start from `roost_route_options_init`, then change what you
/// need; like `roost_options`, it is versioned by `size`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct roost_route_options {
    /// `sizeof(roost_route_options)` as the caller compiled it.
    pub size: usize,
    /// The most request content this route takes, in bytes, after de-chunking; past it:
    /// 413, before any of it is read and with no `100 Continue` (so a client waiting on
    /// `Expect: 100-continue` never sends it). It may be more or less than the server's
    /// `max_body_bytes`. 0 (the default): the server's.
    pub max_body_bytes: u64,
    /// Called once with the route's `userdata` when the server is freed (or when the
    /// registration fails), on the thread that frees it: the route's userdata can be
    /// owned by the server. NULL (the default): nothing is called.
    pub free_userdata: roost_free_callback,
    /// Whether the handler may block, and so runs on a handler thread when the server has
    /// them (`opts.handler_threads`). false: it is quick, and runs on the I/O thread that
    /// read the request even then (no hand-over to another thread). Default true.
    pub on_handler_thread: bool,
    /// true: the handler is called as soon as the head has arrived, and reads the content
    /// as it arrives with `roost_request_read` (`roost_request_body` is then empty); it
    /// runs on a handler thread, never on an I/O thread, even with `opts.handler_threads`
    /// at 0 (the server then starts 4 for such routes), or on the host's thread for a host
    /// route. Nothing of the content is read before the handler's first read: a handler
    /// that answers without reading never receives it. Default false. Added in the second
    /// layout: an older `size` gets false.
    pub stream_body: bool,
    /// For a streamed body: the most bytes of it the server holds ahead of the handler's
    /// reads (it stops reading from the client past it); 0 (the default): the server's
    /// `stream_buffer_bytes`. Added in the second layout.
    pub stream_buffer_bytes: u64,
}

/// The published layouts of roost_route_options: the first ended at `on_handler_thread`.
const LAYOUTS: [Layout; 2] = [
    Layout::ending_at::<roost_route_options>(std::mem::offset_of!(
        roost_route_options,
        stream_body
    )),
    Layout::ending_at::<roost_route_options>(std::mem::size_of::<roost_route_options>()),
];

fn defaults() -> roost_route_options {
    roost_route_options {
        size: std::mem::size_of::<roost_route_options>(),
        max_body_bytes: 0,
        free_userdata: None,
        on_handler_thread: true,
        stream_body: false,
        stream_buffer_bytes: 0,
    }
}

/// Fills `opts` with the defaults; `size` must be `sizeof *opts`.
///
/// # Safety
/// `opts` must be NULL or point to `size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn roost_route_options_init(
    opts: *mut roost_route_options,
    size: usize,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        // SAFETY: roost_route_options is repr(C) with `size` first; `opts` per the contract.
        unsafe { versioned::init(opts, size, &LAYOUTS, defaults(), "roost_route_options_init") }
    })
}

/// Routes requests with `method` (an uppercase token such as "GET"; methods are
/// case-sensitive) and a path matching `pattern` to `handler`, which is called with
/// `userdata`. See `roost_handler` for the handler's contract. With a NULL `handler`, the
/// route's requests are answered by threads of the host's own, which take them with
/// `roost_server_next` (`roost_request_userdata` then gives this `userdata`).
///
/// Patterns: literal segments, `{name}` parameters (one segment each), and a last segment
/// `*` that takes the rest of the path (zero or more segments): "/hello/{name}", or
/// "/files/" followed by "*". The most specific match wins (literal over parameter over
/// wildcard, position by position), then registration order. A GET route also answers
/// HEAD.
///
/// Routes can be registered only while the server is not running: during a run this
/// returns `ROOST_ERR_STATE`. `ROOST_ERR_INVALID` for a bad method or pattern,
/// `ROOST_ERR_NULL` for NULL `srv`, `method` or `pattern`.
///
/// # Safety
/// `srv` must be NULL or a live handle; `method` and `pattern` must point to `method_len`
/// and `pattern_len` readable bytes; `userdata` must be usable from any thread.
#[no_mangle]
pub unsafe extern "C" fn roost_server_route(
    srv: *mut roost_server,
    method: *const c_char,
    method_len: usize,
    pattern: *const c_char,
    pattern_len: usize,
    handler: roost_handler,
    userdata: *mut c_void,
) -> roost_result {
    // SAFETY: the same contract, with default options.
    unsafe {
        roost_server_route_with(
            srv,
            method,
            method_len,
            pattern,
            pattern_len,
            handler,
            userdata,
            std::ptr::null(),
        )
    }
}

/// Like `roost_server_route`, with options (NULL: the defaults; see
/// `roost_route_options`). If it fails, `opts.free_userdata` is called at once (the
/// server owns `userdata` from this call on).
///
/// # Safety
/// As for `roost_server_route`; `opts` must be NULL or point to a roost_route_options set
/// up by `roost_route_options_init`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn roost_server_route_with(
    srv: *mut roost_server,
    method: *const c_char,
    method_len: usize,
    pattern: *const c_char,
    pattern_len: usize,
    handler: roost_handler,
    userdata: *mut c_void,
    opts: *const roost_route_options,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        const FUNC: &str = "roost_server_route";
        let opts = if opts.is_null() {
            defaults()
        } else {
            // SAFETY: repr(C) with `size` first; `opts` per the contract.
            match unsafe { versioned::read(opts, &LAYOUTS, defaults(), FUNC) } {
                Ok(opts) => opts,
                Err(code) => return code,
            }
        };
        // Made first, so that its drop frees the userdata whatever fails below.
        let handler = Arc::new(CHandler::new(
            handler,
            userdata,
            RouteSettings {
                max_body: (opts.max_body_bytes > 0).then_some(opts.max_body_bytes),
                on_handler_thread: opts.on_handler_thread,
                stream_body: opts.stream_body,
                stream_buffer: usize::try_from(opts.stream_buffer_bytes)
                    .ok()
                    .filter(|&n| n > 0),
                free_userdata: opts.free_userdata,
            },
        ));
        // SAFETY: `srv` is NULL or a live handle, per the contract.
        let server = match unsafe { server_arg(srv, FUNC) } {
            Ok(s) => s,
            Err(code) => return code,
        };
        // SAFETY: the caller passes (pointer, length) pairs describing readable bytes.
        let (method, pattern) = unsafe {
            (
                bytes_arg(method, method_len),
                bytes_arg(pattern, pattern_len),
            )
        };
        let (Some(method), Some(pattern)) = (method, pattern) else {
            return fail(
                ROOST_ERR_NULL,
                &format!("{FUNC}: method or pattern is NULL"),
            );
        };
        let (Ok(method), Ok(pattern)) = (std::str::from_utf8(method), std::str::from_utf8(pattern))
        else {
            return fail(
                ROOST_ERR_INVALID,
                &format!("{FUNC}: method or pattern is not UTF-8"),
            );
        };
        let mut state = match server.settled(FUNC) {
            Ok(state) => state,
            Err(code) => return code,
        };
        let Some(router) = routable(&mut state, FUNC) else {
            return ROOST_ERR_STATE;
        };
        match router.route(method, pattern, handler) {
            Ok(()) => ROOST_OK,
            Err(e) => fail(ROOST_ERR_INVALID, &format!("{FUNC}: {e}")),
        }
    })
}
