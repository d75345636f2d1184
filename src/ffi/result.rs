//! Result codes and the per-thread last-error message.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

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
}

pub use roost_result::*;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `message` as the calling thread's last error.
pub fn set_last_error(message: &str) {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|last| *last.borrow_mut() = text);
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
        _ => "unknown result\0",
    };
    text.as_ptr().cast()
}

/// The message of the most recent failed roost call on the calling thread, with details
/// (e.g. "bind 127.0.0.1:8080: address in use"); "" if none has failed. NUL-terminated,
/// owned by roost, valid until the next roost call on this thread: copy it to keep it.
#[no_mangle]
pub extern "C" fn roost_last_error() -> *const c_char {
    guard!(c"".as_ptr(), {
        LAST_ERROR.with(|last| last.borrow().as_ptr())
    })
}
