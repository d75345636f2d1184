//! Giving freed memory back to the system.
//!
//! glibc keeps freed memory for reuse, and a burst of large request bodies or responses
//! would leave the process that much larger while idle. After large buffers have been
//! freed (on any thread), a worker's loop returns the free pages with `malloc_trim`. It
//! walks the heap, so it runs at most once a second, and only after a large free.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::clock::coarse_now;

/// Frees of at least this much make a trim worth it.
pub const LARGE: usize = 1 << 20;
const INTERVAL: Duration = Duration::from_secs(1);

static FREED: AtomicBool = AtomicBool::new(false);
/// When the last trim ran, in milliseconds on the coarse clock.
static LAST_MS: AtomicU64 = AtomicU64::new(0);

/// Notes that `bytes` of memory were just freed.
pub fn freed(bytes: usize) {
    if bytes >= LARGE {
        FREED.store(true, Ordering::Release);
    }
}

fn now_ms() -> u64 {
    coarse_now().as_millis() as u64
}

/// How long until a trim is due, if one is pending: a worker waits no longer than this.
pub fn due_in() -> Option<Duration> {
    if !FREED.load(Ordering::Acquire) {
        return None;
    }
    let next = LAST_MS.load(Ordering::Relaxed) + INTERVAL.as_millis() as u64;
    Some(Duration::from_millis(next.saturating_sub(now_ms())))
}

/// Gives free memory back to the system if a large free happened and the last trim was a
/// while ago.
pub fn release_if_due() {
    if due_in().is_some_and(|wait| wait.is_zero()) && FREED.swap(false, Ordering::AcqRel) {
        LAST_MS.store(now_ms(), Ordering::Relaxed);
        trim();
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim takes no pointers and may be called at any time.
    unsafe { libc::malloc_trim(0) };
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
