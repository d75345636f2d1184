//! Strings and byte views crossing the boundary as (pointer, length).

use std::ffi::c_char;

/// A view of bytes owned by roost: `ptr` points at `len` bytes, not NUL-terminated (and
/// a body may contain NUL bytes). An absent value is `{NULL, 0}`; an empty one has
/// `len` 0 and a valid, non-NULL `ptr`. Valid only as long as the function that returned
/// it says, usually the current handler call.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct roost_str {
    pub ptr: *const c_char,
    pub len: usize,
}

impl roost_str {
    pub const NONE: roost_str = roost_str {
        ptr: std::ptr::null(),
        len: 0,
    };

    /// A view of `bytes`. An empty slice may have a dangling pointer, which C must not
    /// even pass to memcmp: it gets a pointer to a static empty string instead.
    pub fn of(bytes: &[u8]) -> roost_str {
        let ptr = if bytes.is_empty() {
            c"".as_ptr()
        } else {
            bytes.as_ptr().cast()
        };
        roost_str {
            ptr,
            len: bytes.len(),
        }
    }
}

/// Borrows `len` bytes at `ptr` from the caller. NULL is an empty slice when `len` is 0
/// and `None` otherwise.
///
/// # Safety
/// `ptr` must point to `len` readable bytes that stay valid and unchanged for `'a`.
pub unsafe fn bytes_arg<'a>(ptr: *const c_char, len: usize) -> Option<&'a [u8]> {
    if ptr.is_null() {
        return (len == 0).then_some(&[]);
    }
    // SAFETY: the caller guarantees `len` readable bytes at `ptr` for `'a`.
    Some(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
}
