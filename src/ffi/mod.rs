//! The C ABI. Every exported name starts with `roost_`; cbindgen turns these items and
//! their doc comments into `include/roost.h`.

use std::ffi::c_char;

/// The library version as a NUL-terminated string, e.g. "0.1.0". The string is static:
/// do not free it.
#[no_mangle]
pub extern "C" fn roost_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
