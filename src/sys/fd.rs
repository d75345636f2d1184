//! Descriptors a forked child inherits from a server it does not own.

use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

/// A socket of a server's, remembered with the inode it refers to, so that a forked child
/// can close its copy without touching anything else that may have the same number by then
/// (every socket has an inode of its own; eventfds and epoll sets share one, so they cannot
/// be told apart this way and are not kept).
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

    /// Closes this process's copy of the socket, if the descriptor still refers to it. For a
    /// forked child only: there, the threads that own it do not exist and never close it,
    /// and closing a copy leaves the parent's open.
    pub fn close_in_forked_child(self) {
        if self.identity.is_some() && identity(self.fd) == self.identity {
            // SAFETY: the descriptor refers to the socket it was opened for (no other socket
            // has its inode); its owner does not exist in this process (a thread of the
            // parent), and the caller keeps every owner alive so nothing closes it again.
            unsafe { libc::close(self.fd) };
        }
    }
}
