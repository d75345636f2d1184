//! A cheap monotonic clock for checks that only need to be right to a few milliseconds.

use std::time::Duration;

/// Time since an arbitrary fixed point, as of the kernel's last tick
/// (CLOCK_MONOTONIC_COARSE): it moves once per tick (1 to 10 ms), so intervals shorter than
/// that are not honoured, and it is read without the timestamp-counter work that
/// `Instant::now` does, so it costs a handful of loads.
pub fn coarse_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec the call writes. The call cannot fail: the clock
    // exists on every Linux since 2.6.32 and the pointer is valid.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coarse_clock_moves_forward() {
        let first = coarse_now();
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(30) {}
        let later = coarse_now();
        assert!(later > first, "{first:?} then {later:?}");
    }
}
