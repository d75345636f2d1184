//! Opening files under a root directory without ever leaving it.

use std::ffi::CStr;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::cvt;

/// Opens `path` as a directory handle (O_PATH) to resolve file names against.
pub fn open_root(path: &Path) -> io::Result<OwnedFd> {
    let dir = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(path)?;
    let root = OwnedFd::from(dir);
    // Probe once so that a kernel without openat2(2) is reported when the server is set up,
    // not as a failure on every request.
    open_beneath(root.as_fd(), c".")?;
    Ok(root)
}

/// Opens `relative` for reading under `root` with openat2(2) and RESOLVE_BENEATH: the kernel
/// refuses (EXDEV) any resolution that leaves `root`, whether by `..`, an absolute path, or
/// a symlink pointing outside, and RESOLVE_NO_MAGICLINKS refuses /proc-style links.
///
/// O_NONBLOCK keeps a FIFO from blocking the open; O_NOCTTY keeps a terminal from becoming
/// the process's controlling terminal. The caller checks the file type afterwards.
pub fn open_beneath(root: BorrowedFd<'_>, relative: &CStr) -> io::Result<File> {
    // SAFETY: open_how is plain data for which all-zero bytes are valid.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOCTTY) as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: `relative` is NUL-terminated, `how` is a valid open_how of the size passed,
    // and `root` is an open descriptor for the duration of the call.
    let raw = cvt(unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            relative.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    })?;
    // SAFETY: openat2 returned a fresh descriptor that nothing else owns.
    Ok(unsafe { File::from_raw_fd(raw as i32) })
}
