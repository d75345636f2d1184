//! epoll(7): one instance per worker thread.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::cvt;

/// The descriptor has data to read (or a pending connection, for a listener).
pub const READABLE: u32 = libc::EPOLLIN as u32;
/// The descriptor accepts more output.
pub const WRITABLE: u32 = libc::EPOLLOUT as u32;
/// The peer shut down its writing side.
pub const READ_HANGUP: u32 = libc::EPOLLRDHUP as u32;
/// Urgent (out-of-band) TCP data arrived.
pub const URGENT: u32 = libc::EPOLLPRI as u32;
/// An error is pending on the descriptor.
pub const ERROR: u32 = libc::EPOLLERR as u32;
/// Report changes only (edge-triggered).
pub const EDGE: u32 = libc::EPOLLET as u32;
/// Wake only one of the epoll instances waiting on this descriptor.
pub const EXCLUSIVE: u32 = libc::EPOLLEXCLUSIVE as u32;

/// One readiness report: the token given at registration and the events that fired.
#[derive(Clone, Copy, Debug)]
pub struct Event {
    pub token: u64,
    pub events: u32,
}

/// An epoll instance.
pub struct Epoll {
    fd: OwnedFd,
    events: Vec<libc::epoll_event>,
}

impl Epoll {
    /// Creates an epoll instance that reports at most `capacity` events per wait.
    pub fn new(capacity: usize) -> io::Result<Epoll> {
        // SAFETY: epoll_create1 takes no pointers; the flag is a valid constant.
        let raw = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let empty = libc::epoll_event { events: 0, u64: 0 };
        Ok(Epoll {
            fd,
            events: vec![empty; capacity.max(1)],
        })
    }

    /// Starts watching `fd` for `events`, reporting them with `token`.
    pub fn add(&self, fd: BorrowedFd<'_>, events: u32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, events, token)
    }

    /// Changes what `fd` is watched for. The kernel checks readiness again at once, so
    /// an edge that is already there is reported.
    pub fn modify(&self, fd: BorrowedFd<'_>, events: u32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, events, token)
    }

    /// Stops watching `fd`.
    pub fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0)
    }

    fn ctl(&self, op: i32, fd: BorrowedFd<'_>, events: u32, token: u64) -> io::Result<()> {
        let mut event = libc::epoll_event { events, u64: token };
        // SAFETY: both descriptors are open for the duration of the call and `event` is a
        // valid epoll_event that the kernel only reads.
        cvt(unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), op, fd.as_raw_fd(), &mut event) })?;
        Ok(())
    }

    /// Waits up to `timeout_ms` (-1: forever) and returns the events that fired.
    /// An interrupted wait returns no events.
    pub fn wait(&mut self, timeout_ms: i32) -> io::Result<impl Iterator<Item = Event> + '_> {
        let capacity = i32::try_from(self.events.len()).unwrap_or(i32::MAX);
        // SAFETY: `events` points to `capacity` writable epoll_event values owned by self.
        let ret = unsafe {
            libc::epoll_wait(
                self.fd.as_raw_fd(),
                self.events.as_mut_ptr(),
                capacity,
                timeout_ms,
            )
        };
        let count = match cvt(ret) {
            Ok(n) => n as usize,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => return Err(e),
        };
        Ok(self.events[..count].iter().map(|e| Event {
            token: e.u64,
            events: e.events,
        }))
    }
}

impl AsFd for Epoll {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
