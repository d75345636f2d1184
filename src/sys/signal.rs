//! Signal masks: the server's threads take no signals, and the `roost` command waits for
//! SIGINT/SIGTERM synchronously instead of installing handlers.

use std::io;
use std::mem::MaybeUninit;

/// Blocks every asynchronous signal in the calling thread.
///
/// Worker threads call this first, so that signals meant for the host program go to the
/// host's threads, and so that a SIGPIPE raised by `sendfile` on a reset connection stays
/// pending on the worker instead of killing the process. Signals raised by faults
/// (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGABRT) stay deliverable: blocking
/// them would only turn a reported crash (a stack overflow message, say) into a silent one.
pub fn block_all_in_this_thread() {
    const FAULTS: [i32; 7] = [
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
        libc::SIGTRAP,
        libc::SIGSYS,
        libc::SIGABRT,
    ];
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigfillset initialises the set before sigdelset and pthread_sigmask read it;
    // a NULL old-set pointer is allowed.
    unsafe {
        libc::sigfillset(set.as_mut_ptr());
        for signal in FAULTS {
            libc::sigdelset(set.as_mut_ptr(), signal);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, set.as_ptr(), std::ptr::null_mut());
    }
}

/// A set of signals that the calling thread has blocked and can wait for.
pub struct SignalWaiter {
    set: libc::sigset_t,
}

impl SignalWaiter {
    /// Blocks `signals` in the calling thread (threads it spawns later inherit the mask).
    pub fn block(signals: &[i32]) -> io::Result<SignalWaiter> {
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initialises the set before anything reads it.
        unsafe { libc::sigemptyset(set.as_mut_ptr()) };
        // SAFETY: initialised just above.
        let mut set = unsafe { set.assume_init() };
        for &signal in signals {
            // SAFETY: `set` is an initialised sigset_t.
            if unsafe { libc::sigaddset(&mut set, signal) } != 0 {
                return Err(io::Error::from(io::ErrorKind::InvalidInput));
            }
        }
        // SAFETY: `set` is initialised; a NULL old-set pointer is allowed.
        let ret = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
        if ret != 0 {
            return Err(io::Error::from_raw_os_error(ret));
        }
        Ok(SignalWaiter { set })
    }

    /// Waits until one of the blocked signals arrives and returns its number.
    pub fn wait(&self) -> io::Result<i32> {
        let mut signal = 0;
        // SAFETY: `set` is initialised and `signal` is a valid place for the result.
        let ret = unsafe { libc::sigwait(&self.set, &mut signal) };
        if ret != 0 {
            return Err(io::Error::from_raw_os_error(ret));
        }
        Ok(signal)
    }
}
