//! The C ABI. Every exported name starts with `roost_`; cbindgen turns these items and
//! their doc comments into `include/roost.h`.
//!
//! Each exported function guards its body with [`guard!`]: a Rust panic becomes
//! `ROOST_ERR_PANIC` (or NULL, 0) with a last-error message, never an unwind into C.
#![allow(non_camel_case_types)]

use std::ffi::c_char;

/// Runs `$body` catching any panic; on a panic, records a last-error message and evaluates
/// to `$on_panic`.
macro_rules! guard {
    ($on_panic:expr, $body:block) => {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| $body)) {
            Ok(value) => value,
            Err(_) => {
                $crate::ffi::result::set_last_error("internal error: a panic was caught");
                $on_panic
            }
        }
    };
}

mod exchange;
pub mod handler;
pub mod mount;
pub mod options;
pub mod request;
pub mod response;
pub mod result;
pub mod route;
pub mod server;
pub mod strings;
pub mod tls;
pub mod versioned;

/// The library version as a NUL-terminated string, e.g. "0.1.0". The string is static:
/// do not free it.
#[no_mangle]
pub extern "C" fn roost_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
