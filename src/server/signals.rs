//! Waiting for the signals that ask a server process to stop.

use std::io;

use crate::sys::signal::SignalWaiter;

/// SIGINT and SIGTERM, blocked in the calling thread so they can be waited for instead of
/// killing the process. Block them before starting a server, so that its threads (which
/// block every signal anyway) and any later thread inherit the mask.
pub struct StopSignals(SignalWaiter);

impl StopSignals {
    pub fn block() -> io::Result<StopSignals> {
        SignalWaiter::block(&[libc::SIGINT, libc::SIGTERM]).map(StopSignals)
    }

    /// Waits for SIGINT or SIGTERM and returns its number.
    pub fn wait(&self) -> io::Result<i32> {
        self.0.wait()
    }
}
