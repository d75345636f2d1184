//! Thin safe wrappers over the libc calls the server needs.
//!
//! This is the only place outside `src/ffi/` where `unsafe` is allowed. Every wrapper takes
//! borrowed or owned descriptors from `std::os::fd`, so ownership of a descriptor is always
//! visible in the types, and every `unsafe` block says why it holds.

pub mod clock;
pub mod epoll;
pub mod eventfd;
pub mod fd;
pub mod file;
pub mod memory;
pub mod rlimit;
pub mod signal;
pub mod socket;

use std::io;

/// Turns a libc return value into `io::Result`, reading `errno` on `-1`.
fn cvt<T: IsMinusOne>(ret: T) -> io::Result<T> {
    if ret.is_minus_one() {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

trait IsMinusOne: Copy {
    fn is_minus_one(self) -> bool;
}

macro_rules! impl_is_minus_one {
    ($($t:ty)*) => {$(
        impl IsMinusOne for $t {
            fn is_minus_one(self) -> bool {
                self == -1
            }
        }
    )*};
}
impl_is_minus_one!(i32 i64 isize);
