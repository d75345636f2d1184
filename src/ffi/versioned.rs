//! Option structs versioned by size: each starts with `size_t size`, fields are only ever
//! added at the end, and the library reads and writes no more than the caller's size.

use super::result::{fail, roost_result, ROOST_ERR_INVALID, ROOST_ERR_NULL, ROOST_OK};

/// Fills the first `size` bytes at `out` from `defaults` (whose `size` field the caller
/// has set to `size`). `first_size` is the size of the struct's first published layout.
///
/// # Safety
/// `T` is a `#[repr(C)]` struct whose first field is a `usize`; `out` is NULL or points
/// to `size` writable bytes.
pub unsafe fn init<T: Copy>(
    out: *mut T,
    size: usize,
    first_size: usize,
    defaults: T,
    func: &str,
) -> roost_result {
    if out.is_null() {
        return fail(ROOST_ERR_NULL, &format!("{func}: opts is NULL"));
    }
    if let Err(code) = check_size::<T>(size, first_size, func) {
        return code;
    }
    // SAFETY: `defaults` is at least `size` bytes (checked) and `out` has `size` writable
    // bytes, per the contract; a local and the caller's memory cannot overlap.
    unsafe {
        std::ptr::copy_nonoverlapping((&defaults as *const T).cast::<u8>(), out.cast::<u8>(), size)
    };
    ROOST_OK
}

/// Reads a caller's struct: the fields within its `size`, `defaults` for the rest.
///
/// # Safety
/// `T` is a `#[repr(C)]` struct whose first field is a `usize` holding the caller's size;
/// `opts` points to that many readable bytes.
pub unsafe fn read<T: Copy>(
    opts: *const T,
    first_size: usize,
    mut defaults: T,
    func: &str,
) -> Result<T, roost_result> {
    // SAFETY: the size comes first and is always readable, per the contract.
    let size = unsafe { opts.cast::<usize>().read_unaligned() };
    check_size::<T>(size, first_size, func)?;
    // SAFETY: `opts` holds `size` readable bytes and `defaults` is at least that long.
    unsafe {
        std::ptr::copy_nonoverlapping(
            opts.cast::<u8>(),
            (&mut defaults as *mut T).cast::<u8>(),
            size,
        )
    };
    Ok(defaults)
}

fn check_size<T>(size: usize, first_size: usize, func: &str) -> Result<(), roost_result> {
    if (first_size..=std::mem::size_of::<T>()).contains(&size) {
        Ok(())
    } else {
        Err(fail(
            ROOST_ERR_INVALID,
            &format!("{func}: size {size} is not a size of this struct that this library knows"),
        ))
    }
}
