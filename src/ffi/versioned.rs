//! Option structs versioned by size: each starts with `size_t size`, fields are only ever
//! added at the end, and every published layout is listed with its `sizeof` and where its
//! last field ends. A caller's `size` picks its layout; the library reads and writes only
//! that layout's fields. (Reading up to `size` would not do: an older layout's trailing
//! padding sits where a newer field now is.)

use super::result::{fail, roost_result, ROOST_ERR_INVALID, ROOST_ERR_NULL, ROOST_OK};

/// One published layout of a versioned struct.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// Its `sizeof`, what callers built against it pass as `size`.
    pub size: usize,
    /// The end of its last field: the bytes that mean something.
    pub fields_end: usize,
}

impl Layout {
    /// The layout whose fields end at `fields_end`, padded like `T`.
    pub const fn ending_at<T>(fields_end: usize) -> Layout {
        let align = std::mem::align_of::<T>();
        Layout {
            size: fields_end.div_ceil(align) * align,
            fields_end,
        }
    }
}

fn layout<T>(size: usize, layouts: &[Layout], func: &str) -> Result<Layout, roost_result> {
    layouts
        .iter()
        .copied()
        .find(|l| l.size == size && l.fields_end <= std::mem::size_of::<T>())
        .ok_or_else(|| {
            fail(
                ROOST_ERR_INVALID,
                &format!(
                    "{func}: size {size} is not a size of this struct that this library knows"
                ),
            )
        })
}

/// Writes the fields of the caller's layout at `out` from `defaults`, with `size` as its
/// `size` field.
///
/// # Safety
/// `T` is a `#[repr(C)]` struct whose first field is a `usize`; `out` is NULL or points
/// to `size` writable bytes.
pub unsafe fn init<T: Copy>(
    out: *mut T,
    size: usize,
    layouts: &[Layout],
    defaults: T,
    func: &str,
) -> roost_result {
    if out.is_null() {
        return fail(ROOST_ERR_NULL, &format!("{func}: opts is NULL"));
    }
    let layout = match layout::<T>(size, layouts, func) {
        Ok(layout) => layout,
        Err(code) => return code,
    };
    // SAFETY: `defaults` has at least `fields_end` bytes (checked) and `out` at least
    // `size` >= `fields_end` writable ones, per the contract; they cannot overlap. The
    // first field, a `usize`, is within them.
    unsafe {
        std::ptr::copy_nonoverlapping(
            (&defaults as *const T).cast::<u8>(),
            out.cast::<u8>(),
            layout.fields_end,
        );
        // The size comes first, within any layout.
        out.cast::<usize>().write_unaligned(size);
    };
    ROOST_OK
}

/// Reads a caller's struct: the fields of its layout, `defaults` for the rest.
///
/// # Safety
/// `T` is a `#[repr(C)]` struct whose first field is a `usize` holding the caller's size;
/// `opts` points to that many readable bytes.
pub unsafe fn read<T: Copy>(
    opts: *const T,
    layouts: &[Layout],
    mut defaults: T,
    func: &str,
) -> Result<T, roost_result> {
    // SAFETY: the size comes first and is always readable, per the contract.
    let size = unsafe { opts.cast::<usize>().read_unaligned() };
    let layout = layout::<T>(size, layouts, func)?;
    // SAFETY: `opts` holds `size` >= `fields_end` readable bytes and `defaults` is at least
    // `fields_end` bytes long (checked).
    unsafe {
        std::ptr::copy_nonoverlapping(
            opts.cast::<u8>(),
            (&mut defaults as *mut T).cast::<u8>(),
            layout.fields_end,
        )
    };
    Ok(defaults)
}
