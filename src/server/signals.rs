//! Waiting for the signals that ask a server process to stop, or to reload.

use std::io;

use crate::sys::signal::SignalWaiter;

/// SIGINT, SIGTERM and SIGHUP, blocked in the calling thread so they can be waited for
/// instead of killing the process. Block them before starting a server, so that its
/// threads (which block every signal anyway) and any later thread inherit the mask.
pub struct StopSignals(SignalWaiter);

/// What a signal asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    /// SIGINT or SIGTERM.
    Stop,
    /// SIGHUP: read the configuration files again (nginx's convention).
    Reload,
}

impl StopSignals {
    pub fn block() -> io::Result<StopSignals> {
        SignalWaiter::block(&[libc::SIGINT, libc::SIGTERM, libc::SIGHUP]).map(StopSignals)
    }

    /// Waits for one of the signals.
    pub fn wait(&self) -> io::Result<Asked> {
        Ok(match self.0.wait()? {
            libc::SIGHUP => Asked::Reload,
            _ => Asked::Stop,
        })
    }
}
