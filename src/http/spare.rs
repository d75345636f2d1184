//! Spare byte buffers, kept per thread. An idle connection gives its buffers back, so that
//! thousands of idle connections cost next to nothing; the next request on any connection
//! of the same thread takes one from here instead of asking the allocator for it (without
//! pipelining, every request on a connection starts from idle).

use std::cell::RefCell;

/// Buffers kept per thread: enough for every connection a busy worker answers at once.
const KEEP: usize = 256;
/// Larger buffers (a big request body, a long pipelined batch) go back to the allocator.
const MAX_CAPACITY: usize = 16 * 1024;

thread_local! {
    static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer, with the capacity a previous user left it.
pub fn take() -> Vec<u8> {
    SPARE
        .try_with(|spare| spare.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Gives a buffer back; its content is dropped.
pub fn give(mut buf: Vec<u8>) {
    if buf.capacity() == 0 || buf.capacity() > MAX_CAPACITY {
        return;
    }
    buf.clear();
    let _ = SPARE.try_with(|spare| {
        let mut spare = spare.borrow_mut();
        if spare.len() < KEEP {
            spare.push(buf);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_empty_and_only_while_small() {
        let mut buf = Vec::with_capacity(4096);
        buf.extend_from_slice(b"old");
        give(buf);
        let again = take();
        assert!(again.is_empty() && again.capacity() >= 4096);
        give(Vec::with_capacity(MAX_CAPACITY + 1));
        assert_eq!(take().capacity(), 0, "a large buffer was kept");
        for _ in 0..KEEP + 10 {
            give(Vec::with_capacity(16));
        }
        let kept = SPARE.with(|spare| spare.borrow().len());
        assert_eq!(kept, KEEP);
    }
}
