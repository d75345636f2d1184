//! The request as a C handler sees it.

use std::cell::{OnceCell, RefCell};
use std::ffi::{c_char, c_void};
use std::ops::Range;

use super::exchange::{Over, Slot};
use super::result::*;
use super::strings::{bytes_arg, roost_str};
use crate::http::path::normalize;
use crate::http::query::{query_pairs, query_value};
use crate::http::{ReadError, Request};
use crate::router::Matched;

/// Decoded (name, value) pairs.
type Pairs = Vec<(Box<[u8]>, Box<[u8]>)>;

/// The request being handled. Lent to a handler for the duration of its call (or, when it
/// returns `ROOST_HANDLER_DEFERRED`, until `roost_response_finish`): it, and every view
/// obtained from it, is invalid after that. Use it from one thread at a time. Once the
/// client of a deferred response has left, its functions give empty views and
/// `ROOST_ERR_CLOSED`.
pub struct roost_request {
    req: *const Request,
    /// Each path parameter's name and value, copied from the router's match when the
    /// handle is bound: a handle passed to another thread must not borrow what the router
    /// frees when the handler returns. One buffer, reused from call to call.
    route_bytes: Vec<u8>,
    params: Vec<(Range<usize>, Range<usize>)>,
    /// The decoded path, made from the request's own target when first asked for.
    path: OnceCell<Box<[u8]>>,
    /// Values decoded for the handler, kept until it returns. Boxed so that a view stays
    /// valid when more are added.
    scratch: RefCell<Vec<Box<[u8]>>>,
    query: OnceCell<Pairs>,
    /// The userdata of the route that matched.
    userdata: *mut c_void,
}

impl roost_request {
    /// A handle bound to nothing, for [`roost_request::bind`].
    pub(crate) fn unbound() -> roost_request {
        roost_request {
            req: std::ptr::null(),
            route_bytes: Vec::new(),
            params: Vec::new(),
            path: OnceCell::new(),
            scratch: RefCell::new(Vec::new()),
            query: OnceCell::new(),
            userdata: std::ptr::null_mut(),
        }
    }

    /// Records the userdata of the route that matched, for `roost_request_userdata`.
    pub(crate) fn set_userdata(&mut self, userdata: *mut c_void) {
        self.userdata = userdata;
    }

    /// Points the handle at `req` for one handler call (or for a deferred exchange, which
    /// keeps the request alive), with a copy of what `route` matched; forgets what it held.
    pub(crate) fn bind(&mut self, req: &Request, route: &Matched<'_>) {
        self.bind_nothing();
        self.req = req;
        for (name, value) in route.params() {
            let at = self.route_bytes.len();
            self.route_bytes.extend_from_slice(name.as_bytes());
            let mid = self.route_bytes.len();
            self.route_bytes.extend_from_slice(value);
            self.params.push((at..mid, mid..self.route_bytes.len()));
        }
    }

    /// Forgets the request it was bound to and what was decoded from it (keeping the
    /// buffers' capacity for the next one).
    pub(crate) fn bind_nothing(&mut self) {
        self.req = std::ptr::null();
        self.userdata = std::ptr::null_mut();
        self.route_bytes.clear();
        self.params.clear();
        self.scratch.get_mut().clear();
        // Most handlers never ask for these: an empty cell is left as it is.
        if self.path.get().is_some() {
            self.path = OnceCell::new();
        }
        if self.query.get().is_some() {
            self.query = OnceCell::new();
        }
    }

    /// The query's pairs, decoded once.
    fn query_pairs(&self) -> &Pairs {
        self.query.get_or_init(|| {
            self.request().query().map_or_else(Vec::new, |q| {
                query_pairs(q)
                    .map(|(k, v)| (k.into_owned().into(), v.into_owned().into()))
                    .collect()
            })
        })
    }

    fn request(&self) -> &Request {
        // SAFETY: set from a live reference in `bind`; the handle is used only while the
        // request lives (the handler call, or the deferred exchange that keeps it).
        unsafe { &*self.req }
    }

    /// The path as the router matched it: normalized again from the request (the router
    /// accepted it, so it normalizes).
    fn path(&self) -> &[u8] {
        self.path.get_or_init(|| {
            normalize(self.request().path())
                .map(|p| p.to_bytes().into_boxed_slice())
                .unwrap_or_default()
        })
    }

    /// The path parameter at `index`, in pattern order.
    fn param_at(&self, index: usize) -> Option<(&[u8], &[u8])> {
        let (name, value) = self.params.get(index)?;
        Some((
            &self.route_bytes[name.clone()],
            &self.route_bytes[value.clone()],
        ))
    }

    fn param(&self, name: &[u8]) -> Option<&[u8]> {
        self.params
            .iter()
            .find(|(n, _)| self.route_bytes[n.clone()] == *name)
            .map(|(_, v)| &self.route_bytes[v.clone()])
    }

    /// Keeps `bytes` until the handler returns and gives a view of them.
    fn keep(&self, bytes: Vec<u8>) -> roost_str {
        let boxed = bytes.into_boxed_slice();
        let view = roost_str::of(&boxed);
        self.scratch.borrow_mut().push(boxed);
        view
    }
}

/// Borrows the request behind a handle: `None` for NULL, and for a handle whose exchange is
/// over (answered, or a deferred one whose client left).
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler.
unsafe fn request_arg<'a>(req: *const roost_request) -> Option<&'a roost_request> {
    if req.is_null() {
        return None;
    }
    // SAFETY: per the contract, a handle passed to a handler: its slot is never freed.
    if unsafe { Slot::of_request(req) }
        .check_request_open()
        .is_err()
    {
        return None;
    }
    // SAFETY: a handle in use refers to a live request (the handler call's, or the one a
    // deferred exchange keeps).
    unsafe { req.as_ref() }
}

/// The failure for a call whose `req` (or another pointer argument) was refused by
/// `request_arg`: `ROOST_ERR_STATE` or `ROOST_ERR_CLOSED` for a handle whose exchange is
/// over, else `ROOST_ERR_NULL` with `message`.
///
/// # Safety
/// As for `request_arg`.
unsafe fn missing(req: *const roost_request, message: &str) -> roost_result {
    if !req.is_null() {
        // SAFETY: per the contract.
        if let Err(over) = unsafe { Slot::of_request(req) }.check_request_open() {
            return over.fail("req");
        }
    }
    fail(ROOST_ERR_NULL, message)
}

/// A view computed from the request, or `{NULL, 0}` for a NULL handle or a panic.
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler.
unsafe fn view(
    req: *const roost_request,
    read: impl FnOnce(&roost_request) -> roost_str,
) -> roost_str {
    guard!(roost_str::NONE, {
        // SAFETY: per the contract.
        match unsafe { request_arg(req) } {
            Some(r) => read(r),
            None => roost_str::NONE,
        }
    })
}

/// Writes `value` to `out` (if `out` is not NULL) and returns ROOST_OK, or
/// ROOST_ERR_NOT_FOUND for `None`.
///
/// # Safety
/// `out` must be NULL or writable.
unsafe fn found(value: Option<roost_str>, out: *mut roost_str, what: &str) -> roost_result {
    match value {
        Some(view) => {
            if !out.is_null() {
                // SAFETY: non-NULL and writable, per the contract.
                unsafe { out.write(view) };
            }
            ROOST_OK
        }
        None => fail(ROOST_ERR_NOT_FOUND, what),
    }
}

/// Writes the (name, value) pair that `pick` finds in one of the request's lists (header
/// lines, parameters, query pairs) to the out-pointers that are not NULL.
/// `ROOST_ERR_NOT_FOUND` when there is none: `index` is past the last one.
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler; `name` and `value`
/// must each be NULL or writable.
unsafe fn pair_at(
    req: *const roost_request,
    name: *mut roost_str,
    value: *mut roost_str,
    func: &str,
    pick: impl FnOnce(&roost_request) -> Option<(&[u8], &[u8])>,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        // SAFETY: per the contract.
        let Some(r) = (unsafe { request_arg(req) }) else {
            // SAFETY: `req` is NULL or a handle passed to a handler, per the contract.
            return unsafe { missing(req, &format!("{func}: req is NULL")) };
        };
        let Some((n, v)) = pick(r) else {
            return fail(
                ROOST_ERR_NOT_FOUND,
                &format!("{func}: index past the last one"),
            );
        };
        // SAFETY: each out-pointer is NULL or writable, per the contract.
        unsafe {
            let _ = found(Some(roost_str::of(n)), name, "");
            found(Some(roost_str::of(v)), value, "")
        }
    })
}

/// The method, e.g. "GET". `{NULL, 0}` if `req` is NULL.
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler.
#[no_mangle]
pub unsafe extern "C" fn roost_request_method(req: *const roost_request) -> roost_str {
    // SAFETY: per the contract.
    unsafe { view(req, |r| roost_str::of(r.request().method().as_bytes())) }
}

/// The path, percent-decoded and normalized (dot segments resolved, repeated slashes
/// merged): "/hello/bob" for "/hello/./b%6Fb". It never holds a `.` or `..` segment, nor
/// does any parameter: a request whose encoded slashes would make one (`..%2F..`) is
/// answered 400 before any handler runs. `{NULL, 0}` if `req` is NULL.
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler.
#[no_mangle]
pub unsafe extern "C" fn roost_request_path(req: *const roost_request) -> roost_str {
    // SAFETY: per the contract.
    unsafe { view(req, |r| roost_str::of(r.path())) }
}

/// The request target exactly as received, e.g. "/hello/b%6Fb?x=1".
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler.
#[no_mangle]
pub unsafe extern "C" fn roost_request_target(req: *const roost_request) -> roost_str {
    // SAFETY: per the contract.
    unsafe { view(req, |r| roost_str::of(r.request().raw_target().as_bytes())) }
}

/// The raw query, after `?` and still encoded ("a=1&b=two+words"); `{NULL, 0}` when the
/// target has no `?`.
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler.
#[no_mangle]
pub unsafe extern "C" fn roost_request_query(req: *const roost_request) -> roost_str {
    // SAFETY: per the contract.
    unsafe {
        view(req, |r| match r.request().query() {
            Some(q) => roost_str::of(q.as_bytes()),
            None => roost_str::NONE,
        })
    }
}

/// The decoded value of query parameter `name` (the first one if repeated; `+` is a
/// space, `%XX` decoded) in `*out`. A parameter without `=` has an empty value.
/// `ROOST_ERR_NOT_FOUND` when absent.
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler; `name` must point to
/// `name_len` readable bytes; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn roost_request_query_param(
    req: *const roost_request,
    name: *const c_char,
    name_len: usize,
    out: *mut roost_str,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        // SAFETY: per the contract.
        let (Some(r), Some(name)) = (unsafe { request_arg(req) }, unsafe {
            bytes_arg(name, name_len)
        }) else {
            // SAFETY: `req` is NULL or a handle passed to a handler, per the contract.
            return unsafe { missing(req, "roost_request_query_param: req or name is NULL") };
        };
        let value = r
            .request()
            .query()
            .and_then(|q| query_value(q, name))
            .map(|v| r.keep(v.into_owned()));
        // SAFETY: `out` is NULL or writable, per the contract.
        unsafe { found(value, out, "roost_request_query_param: no such parameter") }
    })
}

/// How many pairs the query has (`a=1&a=2&b` has three), for `roost_request_query_at`.
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler.
#[no_mangle]
pub unsafe extern "C" fn roost_request_query_count(req: *const roost_request) -> usize {
    guard!(0, {
        // SAFETY: per the contract.
        unsafe { request_arg(req) }.map_or(0, |r| r.query_pairs().len())
    })
}

/// The query pair at `index` (0-based, in the order of the target), decoded like
/// `roost_request_query_param`: its name in `*name`, its value in `*value` (either may be
/// NULL). Repeated names come once per occurrence. `ROOST_ERR_NOT_FOUND` past the last.
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler; `name` and `value`
/// must each be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn roost_request_query_at(
    req: *const roost_request,
    index: usize,
    name: *mut roost_str,
    value: *mut roost_str,
) -> roost_result {
    // SAFETY: the same contract.
    unsafe {
        pair_at(req, name, value, "roost_request_query_at", |r| {
            r.query_pairs().get(index).map(|(n, v)| (&n[..], &v[..]))
        })
    }
}

/// The authority the request is for, e.g. "example.com:8080": the one in an absolute
/// target (`GET http://example.com:8080/ HTTP/1.1`), which wins over the Host field
/// (RFC 9112 §3.2.2), else the Host field. `{NULL, 0}` when there is neither (an HTTP/1.0
/// request without Host).
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler.
#[no_mangle]
pub unsafe extern "C" fn roost_request_authority(req: *const roost_request) -> roost_str {
    // SAFETY: per the contract.
    unsafe {
        view(req, |r| match r.request().authority() {
            Some(a) => roost_str::of(a),
            None => roost_str::NONE,
        })
    }
}

/// The value of the first header field named `name` (case-insensitive) in `*out`.
/// `ROOST_ERR_NOT_FOUND` when absent.
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler; `name` must point to
/// `name_len` readable bytes; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn roost_request_header(
    req: *const roost_request,
    name: *const c_char,
    name_len: usize,
    out: *mut roost_str,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        // SAFETY: per the contract.
        let (Some(r), Some(name)) = (unsafe { request_arg(req) }, unsafe {
            bytes_arg(name, name_len)
        }) else {
            // SAFETY: `req` is NULL or a handle passed to a handler, per the contract.
            return unsafe { missing(req, "roost_request_header: req or name is NULL") };
        };
        let value = r
            .request()
            .headers()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|(_, v)| roost_str::of(v));
        // SAFETY: `out` is NULL or writable, per the contract.
        unsafe { found(value, out, "roost_request_header: no such header") }
    })
}

/// How many header field lines the request has.
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler.
#[no_mangle]
pub unsafe extern "C" fn roost_request_header_count(req: *const roost_request) -> usize {
    guard!(0, {
        // SAFETY: per the contract.
        unsafe { request_arg(req) }.map_or(0, |r| r.request().headers().count())
    })
}

/// The header field line at `index` (0-based, in arrival order): its name in `*name` and
/// value in `*value` (either may be NULL). `ROOST_ERR_NOT_FOUND` past the last one.
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler; `name` and `value`
/// must each be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn roost_request_header_at(
    req: *const roost_request,
    index: usize,
    name: *mut roost_str,
    value: *mut roost_str,
) -> roost_result {
    // SAFETY: the same contract.
    unsafe {
        pair_at(req, name, value, "roost_request_header_at", |r| {
            r.request()
                .headers()
                .nth(index)
                .map(|(n, v)| (n.as_bytes(), v))
        })
    }
}

/// The decoded value of path parameter `name` (from `{name}` in the route's pattern, or
/// "*" for what a trailing wildcard matched) in `*out`. `ROOST_ERR_NOT_FOUND` when the
/// pattern has no such parameter.
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler; `name` must point to
/// `name_len` readable bytes; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn roost_request_param(
    req: *const roost_request,
    name: *const c_char,
    name_len: usize,
    out: *mut roost_str,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        // SAFETY: per the contract.
        let (Some(r), Some(name)) = (unsafe { request_arg(req) }, unsafe {
            bytes_arg(name, name_len)
        }) else {
            // SAFETY: `req` is NULL or a handle passed to a handler, per the contract.
            return unsafe { missing(req, "roost_request_param: req or name is NULL") };
        };
        let value = r.param(name).map(roost_str::of);
        // SAFETY: `out` is NULL or writable, per the contract.
        unsafe { found(value, out, "roost_request_param: no such parameter") }
    })
}

/// How many path parameters the route's pattern has (a trailing `*` counts as one), for
/// `roost_request_param_at`.
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler.
#[no_mangle]
pub unsafe extern "C" fn roost_request_param_count(req: *const roost_request) -> usize {
    guard!(0, {
        // SAFETY: per the contract.
        unsafe { request_arg(req) }.map_or(0, |r| r.params.len())
    })
}

/// The path parameter at `index` (0-based, in pattern order): its name ("*" for what a
/// trailing wildcard matched) in `*name` and its decoded value in `*value` (either may be
/// NULL). `ROOST_ERR_NOT_FOUND` past the last one.
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler; `name` and `value`
/// must each be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn roost_request_param_at(
    req: *const roost_request,
    index: usize,
    name: *mut roost_str,
    value: *mut roost_str,
) -> roost_result {
    // SAFETY: the same contract.
    unsafe {
        pair_at(req, name, value, "roost_request_param_at", |r| {
            r.param_at(index)
        })
    }
}

/// The request content, de-chunked; length 0 when there is none, and on a route that
/// streams its content (read it with `roost_request_read` there). May contain NUL bytes.
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler.
#[no_mangle]
pub unsafe extern "C" fn roost_request_body(req: *const roost_request) -> roost_str {
    // SAFETY: per the contract.
    unsafe { view(req, |r| roost_str::of(r.request().body())) }
}

/// Reads the next bytes of the request content into `buf`, at most `cap` of them, and
/// writes how many to `*n`: 0 at the end of the content (or for a `cap` of 0).
///
/// On a route with `roost_route_options.stream_body`, the content arrives while the
/// handler runs: this blocks the calling thread until some has arrived, the content ends,
/// or it fails. The first call lets the client send it (a client waiting on
/// `Expect: 100-continue` is told to go on then). It fails with `ROOST_ERR_CLOSED` when
/// the client is gone, `ROOST_ERR_TIMEOUT` when the client stopped sending for longer than
/// `opts.body_timeout_ms` (or the server found no memory for it in time),
/// `ROOST_ERR_INVALID` past the route's `max_body_bytes` or for bad chunked framing, and
/// `ROOST_ERR_STATE` on one of the server's I/O threads (where it would wait for itself);
/// `roost_last_error` then names the status to answer with (408, 413, 400, 503; a handler
/// returning `ROOST_HANDLER_FAILED` answers with it), and it fails the same way again. The connection is not reused after an answer that leaves
/// content unread. Call it from one thread at a time: the handler's, or the one a
/// deferred exchange (or `roost_server_next`) gave the request to, until the finish.
///
/// On other routes the content is all in memory already (`roost_request_body`), and this
/// gives it piece by piece without waiting, so a handler reads the same way on any route.
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler; `buf` must point to `cap` writable
/// bytes (it may be NULL when `cap` is 0); `n` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn roost_request_read(
    req: *const roost_request,
    buf: *mut c_char,
    cap: usize,
    n: *mut usize,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        const FUNC: &str = "roost_request_read";
        if n.is_null() || (buf.is_null() && cap > 0) {
            return fail(ROOST_ERR_NULL, &format!("{FUNC}: buf or n is NULL"));
        }
        // SAFETY: per the contract.
        let Some(r) = (unsafe { request_arg(req) }) else {
            // SAFETY: `req` is NULL or a handle passed to a handler, per the contract.
            return unsafe { missing(req, &format!("{FUNC}: req is NULL")) };
        };
        let out: &mut [u8] = if cap == 0 {
            &mut []
        } else {
            // SAFETY: `buf` points to `cap` writable bytes, per the contract.
            unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), cap) }
        };
        // A wait holds a reading end of its own, not the request: whatever happens to the
        // exchange meanwhile, the wait touches nothing it frees.
        let read = match r.request().upload() {
            Some(upload) => upload.clone().read(out),
            None => r.request().read_body(out),
        };
        match read {
            Ok(count) => {
                // SAFETY: `n` is writable, per the contract.
                unsafe { n.write(count) };
                ROOST_OK
            }
            Err(e) => {
                let code = match e {
                    ReadError::Closed => ROOST_ERR_CLOSED,
                    ReadError::Timeout | ReadError::Memory => ROOST_ERR_TIMEOUT,
                    ReadError::Invalid(_) => ROOST_ERR_INVALID,
                    ReadError::WouldBlock => ROOST_ERR_STATE,
                };
                fail(code, &format!("{FUNC}: {e} (answer {})", e.status()))
            }
        }
    })
}

/// The client's address: its IP as text ("127.0.0.1", "::1") in `*addr` and its port in
/// `*port` (either may be NULL).
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler; `addr` and `port` must
/// each be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn roost_request_peer(
    req: *const roost_request,
    addr: *mut roost_str,
    port: *mut u16,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        // SAFETY: per the contract.
        let Some(r) = (unsafe { request_arg(req) }) else {
            // SAFETY: `req` is NULL or a handle passed to a handler, per the contract.
            return unsafe { missing(req, "roost_request_peer: req is NULL") };
        };
        let peer = r.request().peer();
        if !port.is_null() {
            // SAFETY: non-NULL and writable, per the contract.
            unsafe { port.write(peer.port()) };
        }
        let text = r.keep(peer.ip().to_string().into_bytes());
        // SAFETY: `addr` is NULL or writable, per the contract.
        unsafe { found(Some(text), addr, "") }
    })
}

/// The `userdata` given to `roost_server_route` for the route that matched the request:
/// for a thread that takes requests with `roost_server_next`, which route (and which of
/// its own handlers) it is. It describes the route, so it is given also once the client
/// has gone; NULL for a NULL or finished handle.
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler (or given by `roost_server_next`).
#[no_mangle]
pub unsafe extern "C" fn roost_request_userdata(req: *const roost_request) -> *mut c_void {
    guard!(std::ptr::null_mut(), {
        if req.is_null() {
            return std::ptr::null_mut();
        }
        // SAFETY: per the contract, a handle passed to a handler: its slot is never freed.
        match unsafe { Slot::of_request(req) }.check_request_open() {
            // SAFETY: a handle whose exchange is not over is bound; only its userdata is
            // read, which its binding set.
            Ok(()) | Err(Over::Gone) => unsafe { (*req).userdata },
            Err(_) => std::ptr::null_mut(),
        }
    })
}

/// What a request knows of the TLS connection it came over, as views valid for the
/// handler call (or, for a deferred exchange, until it is finished). Absent values are
/// `{NULL, 0}`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct roost_tls_info {
    /// `sizeof(roost_tls_info)` as the caller compiled it; set by `roost_request_tls`.
    pub size: usize,
    /// "TLSv1.3" or "TLSv1.2".
    pub version: roost_str,
    /// The cipher suite's IANA name, e.g. "TLS_AES_128_GCM_SHA256".
    pub cipher: roost_str,
    /// The host name the client asked for (SNI).
    pub server_name: roost_str,
    /// The protocol agreed by ALPN, "http/1.1".
    pub alpn: roost_str,
    /// The subject of the client's verified certificate, RFC 4514 text
    /// ("CN=alice,O=Example").
    pub client_subject: roost_str,
}

const TLS_INFO_LAYOUTS: [super::versioned::Layout; 1] = [super::versioned::Layout::ending_at::<
    roost_tls_info,
>(std::mem::size_of::<roost_tls_info>())];

/// Fills `*info` (`size` bytes: `sizeof *info`) with what the request knows of its TLS
/// connection. `ROOST_ERR_NOT_FOUND` when it came over plain TCP (`*info` untouched),
/// `ROOST_ERR_INVALID` for a size this library does not know.
///
/// # Safety
/// `req` must be NULL or a handle passed to a handler; `info` NULL or `size` writable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn roost_request_tls(
    req: *const roost_request,
    info: *mut roost_tls_info,
    size: usize,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        const FUNC: &str = "roost_request_tls";
        // SAFETY: per the contract.
        let Some(r) = (unsafe { request_arg(req) }) else {
            // SAFETY: `req` is NULL or a handle passed to a handler, per the contract.
            return unsafe { missing(req, "roost_request_tls: req is NULL") };
        };
        if info.is_null() {
            return fail(ROOST_ERR_NULL, &format!("{FUNC}: info is NULL"));
        }
        let Some(tls) = r.request().tls() else {
            return fail(
                ROOST_ERR_NOT_FOUND,
                &format!("{FUNC}: not a TLS connection"),
            );
        };
        let optional = |text: &Option<String>| {
            text.as_deref()
                .map_or(roost_str::NONE, |t| roost_str::of(t.as_bytes()))
        };
        let value = roost_tls_info {
            size,
            version: roost_str::of(tls.version.as_bytes()),
            cipher: roost_str::of(tls.cipher.as_bytes()),
            server_name: optional(&tls.server_name),
            alpn: optional(&tls.alpn),
            client_subject: optional(&tls.client_subject),
        };
        // SAFETY: roost_tls_info is repr(C) with `size` first; `info` per the contract.
        unsafe { super::versioned::init(info, size, &TLS_INFO_LAYOUTS, value, FUNC) }
    })
}
