//! Descriptors a forked child inherits from a server it does not own.

use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

/// A descriptor of a server's, remembered with the file it refers to, so that a forked
/// child can close its copy without touching anything else that may have the same number.
#[derive(Clone, Copy, Debug)]
pub struct Kept {
    fd: RawFd,
    identity: Option<(u64, u64)>,
}

fn identity(fd: RawFd) -> Option<(u64, u64)> {
    let mut stat = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes a stat into valid memory; a bad descriptor only fails.
    let ret = unsafe { libc::fstat(fd, stat.as_mut_ptr()) };
    // SAFETY: fstat filled `stat` when it returned 0.
    (ret == 0)
        .then(|| unsafe { stat.assume_init() })
        .map(|s| (s.st_dev, s.st_ino))
}

impl Kept {
    pub fn of(fd: BorrowedFd<'_>) -> Kept {
        let fd = fd.as_raw_fd();
        Kept {
            fd,
            identity: identity(fd),
        }
    }

    /// Closes this process's copy of the descriptor, if it still refers to the same file.
    /// For a forked child only: there, the threads that own the descriptor do not exist and
    /// never close it, and closing a copy leaves the parent's open.
    pub fn close_in_forked_child(self) {
        if self.identity.is_some() && identity(self.fd) == self.identity {
            // SAFETY: the descriptor is ours and refers to the file it was opened for; its
            // owner (a thread of the parent) does not exist in this process, and the caller
            // keeps every owner alive so that nothing closes it again.
            unsafe { libc::close(self.fd) };
        }
    }
}
