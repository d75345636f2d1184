//! Spare buffers and requests, kept per thread. An idle connection gives its buffers and its
//! request back, so that thousands of idle connections cost next to nothing; the next
//! request on any connection of the same thread takes them from here instead of asking the
//! allocator (without pipelining, every request on a connection starts from idle).

use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::http::body::BodyBudget;
use crate::http::Request;

/// Buffers kept per thread: enough for every connection a busy worker answers at once.
const KEEP: usize = 256;
/// Larger buffers (a big request body, a long pipelined batch) go back to the allocator.
const MAX_CAPACITY: usize = 16 * 1024;

thread_local! {
    static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    // Requests travel boxed (to handler threads and back): kept boxed, none is moved.
    #[allow(clippy::vec_box)]
    static REQUESTS: RefCell<Vec<Box<Request>>> = const { RefCell::new(Vec::new()) };
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
    if buf.capacity() > MAX_CAPACITY {
        crate::sys::memory::freed(buf.capacity());
    }
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

/// A request to read into, from `peer`, its content charged to `budget`.
pub fn take_request(peer: SocketAddr, budget: &Option<Arc<BodyBudget>>) -> Box<Request> {
    let spare = REQUESTS
        .try_with(|spare| spare.borrow_mut().pop())
        .ok()
        .flatten();
    match spare {
        Some(mut request) => {
            request.reuse(peer, budget);
            request
        }
        None => Box::new(Request::new(
            peer,
            crate::http::body::Body::charged_to(budget.clone()),
        )),
    }
}

/// Gives a request back once it is answered; its content's memory goes back at once.
pub fn give_request(mut request: Box<Request>) {
    request.shed();
    let _ = REQUESTS.try_with(|spare| {
        let mut spare = spare.borrow_mut();
        if spare.len() < KEEP {
            spare.push(request);
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
