//! Result codes and the per-thread last-error message.

use std::cell::RefCell;
use std::ffi::c_char;

/// What a roost function returns. The numbers are fixed and never reused.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum roost_result {
    /// Success.
    ROOST_OK = 0,
    /// A required pointer argument was NULL.
    ROOST_ERR_NULL = 1,
    /// An argument is invalid: a bad method, pattern, header name or value, status, address,
    /// option value, or a string that is not UTF-8 where text is required.
    ROOST_ERR_INVALID = 2,
    /// Not allowed in the server's current state: starting a running server, registering a
    /// route or mount while it runs, or stopping a server from one of its own handlers.
    ROOST_ERR_STATE = 3,
    /// The listening address cannot be bound: in use, not available, or not permitted.
    ROOST_ERR_ADDRESS = 4,
    /// Another operating-system error, e.g. a directory or file that cannot be opened.
    ROOST_ERR_IO = 5,
    /// What was looked up is not there: a header, a parameter, a file.
    ROOST_ERR_NOT_FOUND = 6,
    /// An internal error (a bug in roost) was caught at the boundary.
    ROOST_ERR_PANIC = 7,
    /// The client of a deferred response has gone: nothing more can be sent to it.
    ROOST_ERR_CLOSED = 8,
    /// Not now: a streamed response's buffer is full (nothing was queued); try again once
    /// its `roost_response_on_writable` callback has run.
    ROOST_ERR_AGAIN = 9,
    /// Nothing came in the time given (`roost_server_next`).
    ROOST_ERR_TIMEOUT = 10,
}

pub use roost_result::*;

/// Room for a last-error message, NUL included; longer messages are cut.
const LAST_ERROR_CAP: usize = 512;

thread_local! {
    /// The calling thread's last-error message, NUL-terminated. A fixed buffer, so the
    /// pointer `roost_last_error` returns stays valid for the thread's life.
    static LAST_ERROR: RefCell<[u8; LAST_ERROR_CAP]> = const { RefCell::new([0; LAST_ERROR_CAP]) };
}

/// Records `message` as the calling thread's last error. Does nothing while the thread's
/// locals are being torn down (a roost call from a thread-exit destructor), rather than
/// panic outside any guard.
pub fn set_last_error(message: &str) {
    let _ = LAST_ERROR.try_with(|last| {
        let Ok(mut buf) = last.try_borrow_mut() else {
            return;
        };
        let mut len = message.len().min(LAST_ERROR_CAP - 1);
        while !message.is_char_boundary(len) {
            len -= 1;
        }
        buf[..len].copy_from_slice(&message.as_bytes()[..len]);
        buf[len] = 0;
        for byte in &mut buf[..len] {
            if *byte == 0 {
                *byte = b' ';
            }
        }
    });
}

/// Records `message` and returns `code`, for `return fail(...)`.
pub fn fail(code: roost_result, message: &str) -> roost_result {
    set_last_error(message);
    code
}

/// A short, static, NUL-terminated description of a result code, e.g. "invalid argument".
/// Unknown codes give "unknown result". Do not free the string.
#[no_mangle]
pub extern "C" fn roost_result_str(result: i32) -> *const c_char {
    let text: &'static str = match result {
        0 => "ok\0",
        1 => "null argument\0",
        2 => "invalid argument\0",
        3 => "not allowed in the current state\0",
        4 => "address cannot be bound\0",
        5 => "operating system error\0",
        6 => "not found\0",
        7 => "internal error\0",
        8 => "client gone\0",
        9 => "try again later\0",
        10 => "timed out\0",
        _ => "unknown result\0",
    };
    text.as_ptr().cast()
}

/// The message of the most recent failed roost call on the calling thread, with details
/// (e.g. "bind 127.0.0.1:8080: address in use"); "" if none has failed. NUL-terminated
/// and owned by roost: the pointer stays valid for the thread's life, but the next failed
/// call on this thread overwrites the text, so copy it to keep it.
#[no_mangle]
pub extern "C" fn roost_last_error() -> *const c_char {
    guard!(c"".as_ptr(), {
        LAST_ERROR
            .try_with(|last| last.as_ptr().cast::<c_char>().cast_const())
            .unwrap_or(c"".as_ptr())
    })
}
