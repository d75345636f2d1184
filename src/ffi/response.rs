//! The response as a C handler fills it.

use std::ffi::{c_char, c_void, OsStr};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::exchange::{Callback, Finished, Slot};
use super::result::*;
use super::strings::bytes_arg;
use crate::files::{open_regular, open_under, send_file};
use crate::http::stream::End;
use crate::http::{Response, ResponseError, StreamError};

/// The response being built. Lent to a handler for the duration of its call (or, when it
/// returns `ROOST_HANDLER_DEFERRED`, until `roost_response_finish`), to be used from one
/// thread at a time. It starts as `200 OK` with no fields and an empty body; roost adds
/// `Date`, `Server`, `Content-Length` and `Connection` itself.
pub struct roost_response {
    res: *mut Response,
}

impl roost_response {
    /// A handle that points at `res`, which must outlive it (a slot's own body).
    pub(crate) fn new(res: *mut Response) -> roost_response {
        roost_response { res }
    }

    pub(crate) fn unbound() -> roost_response {
        roost_response {
            res: std::ptr::null_mut(),
        }
    }
}

/// Borrows the response behind a handle: `ROOST_ERR_CLOSED` once the client of a
/// deferred response has left, `ROOST_ERR_STATE` once the response is finished.
///
/// # Safety
/// `res` must be NULL or a handle passed to a handler.
unsafe fn response_arg<'a>(
    res: *mut roost_response,
    func: &str,
) -> Result<&'a mut Response, roost_result> {
    if res.is_null() {
        return Err(fail(ROOST_ERR_NULL, &format!("{func}: res is NULL")));
    }
    // SAFETY: per the contract, a handle passed to a handler: slots are never freed.
    let slot = unsafe { Slot::of(res) };
    match slot.check_open() {
        // SAFETY: a handle in use points to its slot's body, which only the thread holding
        // the handle touches (one thread at a time, per the contract).
        Ok(()) => Ok(unsafe { &mut *(*res).res }),
        Err(over) => Err(over.fail(func)),
    }
}

/// Sends a response whose handler returned `ROOST_HANDLER_DEFERRED`, as it stands (with
/// the same rules as a response sent when its handler returns: preconditions, ranges,
/// HEAD). Call it exactly once for each deferred response, from any thread; after it,
/// `req`, `res` and every view obtained from them are invalid. It may come before the
/// handler has returned (the response leaves once it has; if the handler then returns
/// anything but `ROOST_HANDLER_DEFERRED`, the finish had no effect, unless the response
/// streams). For a streamed response (see `roost_response_stream`) it ends the body: what
/// was written is sent, then the body's end.
///
/// Returns `ROOST_OK` when the response is on its way; `ROOST_ERR_CLOSED` when its client
/// had left (nothing is sent; the handle is released all the same); `ROOST_ERR_STATE` for
/// a second finish, or a response that was not deferred. Finishing after the server was
/// stopped or freed is safe: its clients are gone, so `ROOST_ERR_CLOSED`. The memory behind
/// a handle is never freed, so a stale handle used from one thread at a time is never
/// undefined behaviour; but a handle is reused for a later exchange (a deferred one once
/// 1,024 other deferred responses were finished after it, one that was not deferred at the
/// thread's next handler call), and a stale call then acts on that exchange.
///
/// # Safety
/// `res` must be NULL or a handle passed to a handler.
#[no_mangle]
pub unsafe extern "C" fn roost_response_finish(res: *mut roost_response) -> roost_result {
    // SAFETY: per the contract.
    unsafe { end(res, End::Finished, "roost_response_finish") }
}

/// A whole response in one call, for bindings that pay for each call (a ctypes one costs
/// as much as the rest of a small response): sets `status`, adds the header fields in
/// `fields` (`fields_len` bytes: each field's name and value, each followed by a NUL byte,
/// as in `"Content-Type\0text/plain\0"`; each checked as `roost_response_add_header`
/// checks it), sets the body to a copy of `body_len` bytes at `body`, then finishes as
/// `roost_response_finish` does, with its result codes. If a status or field is refused
/// (`ROOST_ERR_INVALID`, see `roost_last_error`), nothing is finished: the caller still
/// finishes or aborts the response.
///
/// # Safety
/// `res` must be NULL or a handle passed to a handler; `fields` and `body` must point to
/// `fields_len` and `body_len` readable bytes (NULL with a length of 0 for none).
#[no_mangle]
pub unsafe extern "C" fn roost_response_send(
    res: *mut roost_response,
    status: u16,
    fields: *const c_char,
    fields_len: usize,
    body: *const c_char,
    body_len: usize,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        const FUNC: &str = "roost_response_send";
        // SAFETY: per the contract.
        let response = match unsafe { response_arg(res, FUNC) } {
            Ok(r) => r,
            Err(code) => return code,
        };
        // SAFETY: per the contract, both pairs describe readable bytes.
        let (Some(fields), Some(body)) = (unsafe { bytes_arg(fields, fields_len) }, unsafe {
            bytes_arg(body, body_len)
        }) else {
            return fail(ROOST_ERR_NULL, &format!("{FUNC}: fields or body is NULL"));
        };
        if let Err(e) = response.set_status(status) {
            return invalid(FUNC, e);
        }
        let mut parts = fields
            .strip_suffix(b"\0")
            .unwrap_or(fields)
            .split(|&b| b == 0);
        while let Some(name) = parts.next().filter(|_| !fields.is_empty()) {
            let Some(value) = parts.next() else {
                return invalid(FUNC, ResponseError::InvalidHeaderValue);
            };
            let added = std::str::from_utf8(name)
                .map_err(|_| ResponseError::InvalidHeaderName)
                .and_then(|name| response.add_header(name, value));
            if let Err(e) = added {
                return invalid(FUNC, e);
            }
        }
        response.set_body(body);
        // SAFETY: per the contract.
        unsafe { end(res, End::Finished, FUNC) }
    })
}

/// Gives up on a deferred or streamed response, for a host that failed half-way: a
/// streamed body is cut short (what was written is sent, then the connection closes
/// without the body's end, so the client sees it incomplete); a response whose head has
/// not left is answered `500 Internal Server Error` instead. Like `roost_response_finish`
/// otherwise (once per response, from any thread, the same result codes), and it ends the
/// handle as the finish does.
///
/// # Safety
/// `res` must be NULL or a handle passed to a handler.
#[no_mangle]
pub unsafe extern "C" fn roost_response_abort(res: *mut roost_response) -> roost_result {
    // SAFETY: per the contract.
    unsafe { end(res, End::Aborted, "roost_response_abort") }
}

/// `roost_response_finish` or `roost_response_abort`.
///
/// # Safety
/// `res` must be NULL or a handle passed to a handler.
unsafe fn end(res: *mut roost_response, end: End, func: &str) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        if res.is_null() {
            return fail(ROOST_ERR_NULL, &format!("{func}: res is NULL"));
        }
        // SAFETY: per the contract, a handle passed to a handler: slots are never freed.
        match unsafe { Slot::of(res) }.finish(end) {
            Finished::Sent => ROOST_OK,
            Finished::Closed => fail(ROOST_ERR_CLOSED, &format!("{func}: the client is gone")),
            Finished::Again => fail(
                ROOST_ERR_STATE,
                &format!("{func}: not a deferred response, or finished already"),
            ),
        }
    })
}

/// Called once when the client of a deferred response goes away before
/// `roost_response_finish` (it closed its connection or its sending side, or the server
/// stopped and closed it at the end of the shutdown timeout): `on_close(res, userdata)`,
/// on the I/O thread that saw it go (or, if it went before the handler returned, on the
/// handler's thread right after). Not called once the response is finished, nor after a
/// finish that is under way. The handle is still to be finished after that (its other
/// calls, and those of `req`, fail with `ROOST_ERR_CLOSED`). The callback must not block;
/// it may call `roost_response_finish`.
pub type roost_close_callback =
    Option<unsafe extern "C" fn(res: *mut roost_response, userdata: *mut c_void)>;

/// Registers `on_close` (see `roost_close_callback`) for the response of the running or
/// deferred handler, replacing any set before; NULL removes it. `userdata` must be usable
/// from the server's I/O threads. `ROOST_ERR_CLOSED` if the client has gone already (the
/// callback will not be called); `ROOST_ERR_STATE` for a finished response.
///
/// # Safety
/// `res` must be NULL or a handle passed to a handler.
#[no_mangle]
pub unsafe extern "C" fn roost_response_on_close(
    res: *mut roost_response,
    on_close: roost_close_callback,
    userdata: *mut c_void,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        if res.is_null() {
            return fail(ROOST_ERR_NULL, "roost_response_on_close: res is NULL");
        }
        let callback = on_close.map(|func| Callback::new(func, userdata));
        // SAFETY: per the contract, a handle passed to a handler: slots are never freed.
        match unsafe { Slot::of(res) }.set_on_close(callback) {
            Ok(()) => ROOST_OK,
            Err(over) => over.fail("roost_response_on_close"),
        }
    })
}

/// Sends the status and header fields now and makes the body a stream: it follows through
/// `roost_response_write`, from any thread, until `roost_response_finish(res)` ends it.
/// Once this is called, the response is finished with `roost_response_finish`, whatever the
/// handler returns (returning `ROOST_HANDLER_DEFERRED` says so best); called during the
/// handler call, the head leaves when the handler returns. After it, only
/// `roost_response_write`, `roost_response_on_writable`, `roost_response_on_close` and
/// `roost_response_finish` may be called on `res` (the others say `ROOST_ERR_STATE`); `req`
/// stays valid until the finish.
///
/// Framing: a `Content-Length` added before with `roost_response_add_header` (allowed for
/// this) makes the body exactly that long: writes past it say `ROOST_ERR_INVALID`, and a
/// finish short of it closes the connection (the client sees the body cut). Without one,
/// the body is chunked for HTTP/1.1 clients and ended by closing the connection for
/// HTTP/1.0 ones. For a HEAD request (and a 204, 205 or 304 status) only the head is sent:
/// the exchange is over at once, and writes say `ROOST_ERR_CLOSED` (no body will be read).
/// A handler that streams and then returns `ROOST_HANDLER_FAILED` (or another failure)
/// gets 500 sent instead, if the head had not left yet; its writes say `ROOST_ERR_CLOSED`. The rules for
/// conditional requests and ranges are not applied: the response is sent as it is.
///
/// `ROOST_ERR_STATE` if it streams already or is finished; `ROOST_ERR_CLOSED` if the
/// client has gone.
///
/// # Safety
/// `res` must be NULL or a handle passed to a handler.
#[no_mangle]
pub unsafe extern "C" fn roost_response_stream(res: *mut roost_response) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        if res.is_null() {
            return fail(ROOST_ERR_NULL, "roost_response_stream: res is NULL");
        }
        // SAFETY: per the contract, a handle passed to a handler: slots are never freed.
        match unsafe { Slot::of(res) }.start_stream() {
            Ok(()) => ROOST_OK,
            Err(over) => over.fail("roost_response_stream"),
        }
    })
}

/// Queues a copy of `len` bytes at `data` as the next piece of a streamed body (see
/// `roost_response_stream`). Any thread may call it, one at a time for a given response;
/// it never blocks. Each piece leaves as soon as the client can take it.
///
/// `ROOST_ERR_AGAIN`, with nothing queued, while more than the stream's buffer bound is
/// queued (`opts.stream_buffer_bytes`, default 256 KiB; one write may take the queue past
/// it): the client reads slower than the body is written. Register
/// `roost_response_on_writable` and write again when it runs. `ROOST_ERR_CLOSED` once the
/// client is gone (stop writing, and finish); `ROOST_ERR_INVALID` for a write past the
/// declared Content-Length; `ROOST_ERR_STATE` if the response does not stream or is
/// finished. A `len` of 0 queues nothing.
///
/// # Safety
/// `res` must be NULL or a handle passed to a handler; `data` must point to `len` readable
/// bytes (it may be NULL when `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn roost_response_write(
    res: *mut roost_response,
    data: *const c_char,
    len: usize,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        const FUNC: &str = "roost_response_write";
        if res.is_null() {
            return fail(ROOST_ERR_NULL, &format!("{FUNC}: res is NULL"));
        }
        // SAFETY: per the contract, `data` describes `len` readable bytes.
        let Some(data) = (unsafe { bytes_arg(data, len) }) else {
            return fail(ROOST_ERR_NULL, &format!("{FUNC}: data is NULL"));
        };
        // SAFETY: per the contract, a handle passed to a handler: slots are never freed.
        match unsafe { Slot::of(res) }.write(data) {
            Ok(Ok(())) => ROOST_OK,
            Ok(Err(StreamError::Full)) => fail(
                ROOST_ERR_AGAIN,
                &format!("{FUNC}: the stream's buffer is full; wait for on_writable"),
            ),
            Ok(Err(StreamError::Gone)) => {
                fail(ROOST_ERR_CLOSED, &format!("{FUNC}: the client is gone"))
            }
            Ok(Err(StreamError::TooLong)) => fail(
                ROOST_ERR_INVALID,
                &format!("{FUNC}: past the declared Content-Length"),
            ),
            Err(over) => over.fail(FUNC),
        }
    })
}

/// Called once a streamed response can take more: `on_writable(res, userdata)`. See
/// `roost_response_on_writable`.
pub type roost_writable_callback =
    Option<unsafe extern "C" fn(res: *mut roost_response, userdata: *mut c_void)>;

/// Registers a one-shot `on_writable(res, userdata)` for a streamed response: called when
/// its queue has drained below half the buffer bound, or when the client has gone (after
/// any `roost_close_callback`; a write then says `ROOST_ERR_CLOSED`). It runs on an I/O
/// thread, so it must not block: signal the producing thread, or write from it. If the
/// queue is below half already, the I/O thread calls it at once. A callback registered
/// before and not yet called is replaced; one not yet called when the response is finished
/// (or aborted) is never called. `userdata` must be usable from the I/O threads.
///
/// `ROOST_ERR_CLOSED` if the client has gone already (it will not be called);
/// `ROOST_ERR_STATE` if the response does not stream or is finished; `ROOST_ERR_NULL` if
/// `on_writable` is NULL.
///
/// # Safety
/// `res` must be NULL or a handle passed to a handler.
#[no_mangle]
pub unsafe extern "C" fn roost_response_on_writable(
    res: *mut roost_response,
    on_writable: roost_writable_callback,
    userdata: *mut c_void,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        const FUNC: &str = "roost_response_on_writable";
        if res.is_null() {
            return fail(ROOST_ERR_NULL, &format!("{FUNC}: res is NULL"));
        }
        let Some(func) = on_writable else {
            return fail(ROOST_ERR_NULL, &format!("{FUNC}: on_writable is NULL"));
        };
        let callback = Callback::new(func, userdata);
        // SAFETY: per the contract, a handle passed to a handler: slots are never freed.
        match unsafe { Slot::of(res) }.on_writable(callback) {
            Ok(()) => ROOST_OK,
            Err(over) => over.fail(FUNC),
        }
    })
}

fn invalid(func: &str, err: ResponseError) -> roost_result {
    fail(ROOST_ERR_INVALID, &format!("{func}: {err}"))
}

/// Sets the status code: 200 to 599. `ROOST_ERR_INVALID` otherwise (the status is kept).
///
/// # Safety
/// `res` must be NULL or a handle passed to a handler.
#[no_mangle]
pub unsafe extern "C" fn roost_response_set_status(
    res: *mut roost_response,
    status: u16,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        // SAFETY: per the contract.
        let res = match unsafe { response_arg(res, "roost_response_set_status") } {
            Ok(r) => r,
            Err(code) => return code,
        };
        match res.set_status(status) {
            Ok(()) => ROOST_OK,
            Err(e) => invalid("roost_response_set_status", e),
        }
    })
}

/// Adds a header field. The name must be a token (letters, digits, `!#$%&'*+-.^_`|~`),
/// the value must not hold CR, LF, NUL or other control bytes (tab is fine), and the
/// fields roost writes itself (Transfer-Encoding, Connection, Keep-Alive, Upgrade, Date,
/// Server) are refused: `ROOST_ERR_INVALID`, nothing added. A field that is not a list
/// (Content-Type, Content-Location, Content-Range, Location, ETag, Last-Modified, Expires,
/// Retry-After, Age) replaces the value added before, so a response never carries two.
///
/// `Content-Length` (a decimal number, else `ROOST_ERR_INVALID`) fixes the length of a
/// body streamed after it (see `roost_response_stream`); a whole body is always sent with
/// its own length, whatever was added.
///
/// # Safety
/// `res` must be NULL or a handle passed to a handler; `name` and `value`
/// must point to `name_len` and `value_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn roost_response_add_header(
    res: *mut roost_response,
    name: *const c_char,
    name_len: usize,
    value: *const c_char,
    value_len: usize,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        // SAFETY: per the contract.
        let res = match unsafe { response_arg(res, "roost_response_add_header") } {
            Ok(r) => r,
            Err(code) => return code,
        };
        // SAFETY: per the contract, both pairs describe readable bytes.
        let (Some(name), Some(value)) = (unsafe { bytes_arg(name, name_len) }, unsafe {
            bytes_arg(value, value_len)
        }) else {
            return fail(
                ROOST_ERR_NULL,
                "roost_response_add_header: name or value is NULL",
            );
        };
        let Ok(name) = std::str::from_utf8(name) else {
            return invalid(
                "roost_response_add_header",
                ResponseError::InvalidHeaderName,
            );
        };
        match res.add_header(name, value) {
            Ok(()) => ROOST_OK,
            Err(e) => invalid("roost_response_add_header", e),
        }
    })
}

/// Sets the body to a copy of `len` bytes at `data` (NULL with 0 for an empty body),
/// replacing any body or file set before. A HEAD request, and a 204 or 304 status, get
/// no body whatever is set (the length is still reported for HEAD).
///
/// # Safety
/// `res` must be NULL or a handle passed to a handler; `data` must point to
/// `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn roost_response_set_body(
    res: *mut roost_response,
    data: *const c_char,
    len: usize,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        // SAFETY: per the contract.
        let res = match unsafe { response_arg(res, "roost_response_set_body") } {
            Ok(r) => r,
            Err(code) => return code,
        };
        // SAFETY: per the contract, `data` describes `len` readable bytes.
        let Some(data) = (unsafe { bytes_arg(data, len) }) else {
            return fail(ROOST_ERR_NULL, "roost_response_set_body: data is NULL");
        };
        res.set_body(data);
        ROOST_OK
    })
}

/// Sends the regular file at `path` as the body, the way a static mount sends files:
/// with sendfile(2), and a Content-Type from its extension unless one was added. The
/// path is the host's choice and is not confined to any directory: to send a file a
/// client named, use `roost_response_set_file_at`. On error nothing changes:
/// `ROOST_ERR_NOT_FOUND` if it does not exist, `ROOST_ERR_INVALID` if it is not a regular
/// file, `ROOST_ERR_IO` if it cannot be opened.
///
/// # Safety
/// `res` must be NULL or a handle passed to a handler; `path` must point to
/// `path_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn roost_response_set_file(
    res: *mut roost_response,
    path: *const c_char,
    path_len: usize,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        // SAFETY: per the contract.
        let res = match unsafe { response_arg(res, "roost_response_set_file") } {
            Ok(r) => r,
            Err(code) => return code,
        };
        // SAFETY: per the contract, `path` describes `path_len` readable bytes.
        let Some(path) = (unsafe { bytes_arg(path, path_len) }) else {
            return fail(ROOST_ERR_NULL, "roost_response_set_file: path is NULL");
        };
        let path = Path::new(OsStr::from_bytes(path));
        match open_regular(path) {
            Ok((file, meta)) => {
                send_file(file, &meta, path.as_os_str().as_bytes(), res);
                ROOST_OK
            }
            Err(e) => fail(
                file_error_code(&e),
                &format!("roost_response_set_file: {}: {e}", path.display()),
            ),
        }
    })
}

/// Sends the regular file `relpath` below the directory `dir` as the body, confined the
/// way a static mount is: `relpath` is split at `/` (empty parts skipped, so a leading `/`
/// stays below `dir`), a part starting with `.` (a dotfile, `..`) is hidden, and the
/// kernel refuses any path that leaves `dir`, through a symlink too (`openat2` with
/// RESOLVE_BENEATH; where it is missing, every symlink is refused). Safe to call with a
/// path parameter: `roost_response_set_file_at(res, "/srv/files", 10, p.ptr, p.len)`.
/// Otherwise like `roost_response_set_file`. On error nothing changes:
/// `ROOST_ERR_NOT_FOUND` if there is no such file below `dir` (or it is hidden, or outside),
/// `ROOST_ERR_INVALID` if it is not a regular file, `ROOST_ERR_IO` if `dir` or the file
/// cannot be opened.
///
/// # Safety
/// `res` must be NULL or a handle passed to a handler; `dir` and `relpath`
/// must point to `dir_len` and `relpath_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn roost_response_set_file_at(
    res: *mut roost_response,
    dir: *const c_char,
    dir_len: usize,
    relpath: *const c_char,
    relpath_len: usize,
) -> roost_result {
    guard!(ROOST_ERR_PANIC, {
        const FUNC: &str = "roost_response_set_file_at";
        // SAFETY: per the contract.
        let res = match unsafe { response_arg(res, FUNC) } {
            Ok(r) => r,
            Err(code) => return code,
        };
        // SAFETY: per the contract, both pairs describe readable bytes.
        let (dir, relpath) = unsafe { (bytes_arg(dir, dir_len), bytes_arg(relpath, relpath_len)) };
        let (Some(dir), Some(relpath)) = (dir, relpath) else {
            return fail(ROOST_ERR_NULL, &format!("{FUNC}: dir or relpath is NULL"));
        };
        let dir = Path::new(OsStr::from_bytes(dir));
        match open_under(dir, relpath) {
            Ok((file, meta)) => {
                send_file(file, &meta, relpath, res);
                ROOST_OK
            }
            Err(e) => fail(
                file_error_code(&e),
                &format!(
                    "{FUNC}: {} below {}: {e}",
                    String::from_utf8_lossy(relpath),
                    dir.display()
                ),
            ),
        }
    })
}

/// The result code for a file that cannot be sent.
fn file_error_code(e: &io::Error) -> roost_result {
    match e.kind() {
        io::ErrorKind::NotFound => ROOST_ERR_NOT_FOUND,
        io::ErrorKind::InvalidInput => ROOST_ERR_INVALID,
        _ => ROOST_ERR_IO,
    }
}
