//! Request bodies read while they arrive: a queue between the connection that reads the
//! bytes and the thread whose handler reads them.
//!
//! A route that streams its bodies gets its handler called once the head is in. The
//! request then holds an [`Upload`], the reading end, and the connection an [`Inlet`]. The
//! connection reads nothing of the body until the handler first reads (so a handler that
//! answers without reading never receives it, and `100 Continue` is sent only then), and
//! at most about the queue's bound ahead of the reader: a slow handler holds the client
//! back, and a large upload never sits whole in memory. The pieces are bodies charged to
//! the server's body budget, like bodies read whole.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::body::Body;

/// Why a read gave no bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The client is gone (or the exchange is over): the rest will never come.
    Closed,
    /// The client stopped sending for longer than the body timeout allows (or sent too
    /// slowly).
    Timeout,
    /// The body is not acceptable: past the route's limit (413), with bad chunked
    /// framing (400) or trailer fields past the head limit (431); the status is the
    /// answer it deserves.
    Invalid(u16),
    /// The server could not find memory for the body in time (503).
    Memory,
    /// Read on one of the server's I/O threads, which must never wait: a handler that
    /// reads a streamed body runs on a handler thread.
    WouldBlock,
}

impl ReadError {
    /// The status a handler answers the request with, having met this.
    pub fn status(self) -> u16 {
        match self {
            ReadError::Closed | ReadError::WouldBlock => 500,
            ReadError::Timeout => 408,
            ReadError::Invalid(status) => status,
            ReadError::Memory => 503,
        }
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Closed => f.write_str("the client is gone"),
            ReadError::Timeout => f.write_str("the client stopped sending the body"),
            ReadError::Invalid(413) => f.write_str("the body is larger than the route allows"),
            ReadError::Invalid(431) => f.write_str("the body's trailer fields are too large"),
            ReadError::Invalid(_) => f.write_str("the body's chunked framing is invalid"),
            ReadError::Memory => f.write_str("no memory for the body"),
            ReadError::WouldBlock => f.write_str("a streamed body cannot be read on an I/O thread"),
        }
    }
}

impl std::error::Error for ReadError {}

thread_local! {
    static IO_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Marks the calling thread as one of the server's I/O threads: a read that would wait
/// there fails instead ([`ReadError::WouldBlock`]), since the connection it waits for may
/// be this thread's own.
pub fn mark_io_thread() {
    IO_THREAD.with(|t| t.set(true));
}

type Wake = Arc<dyn Fn() + Send + Sync>;

struct Shared {
    state: Mutex<State>,
    arrived: Condvar,
}

struct State {
    pieces: VecDeque<Body>,
    /// Bytes of the front piece already read.
    read: usize,
    /// Bytes in `pieces` not read yet.
    queued: usize,
    /// Past this many queued bytes the connection stops reading.
    limit: usize,
    /// The reader has asked for the body.
    asked: bool,
    end: Option<Result<(), ReadError>>,
    /// The connection waits for the reader: to ask, or to drain below half the bound.
    waiting: bool,
    /// Tells the connection to look again; set once it attaches.
    wake: Option<Wake>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    /// The wake to call (after the lock) if the connection waits and may go on now.
    fn wake_if(&mut self, go_on: bool) -> Option<Wake> {
        if !(self.waiting && go_on) {
            return None;
        }
        self.waiting = false;
        self.wake.clone()
    }
}

/// A new queue of `limit` bytes: the connection's end and the reader's.
pub fn pair(limit: usize) -> (Inlet, Upload) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            pieces: VecDeque::new(),
            read: 0,
            queued: 0,
            limit: limit.max(1),
            asked: false,
            end: None,
            waiting: false,
            wake: None,
        }),
        arrived: Condvar::new(),
    });
    (
        Inlet {
            shared: shared.clone(),
        },
        Upload { shared },
    )
}

/// The reading end of a streamed body; the request holds it. See the module docs. A clone
/// reads the same body (a thread that must not hold the request while it waits reads
/// from one).
#[derive(Clone)]
pub struct Upload {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Upload")
    }
}

impl Upload {
    /// Copies the next bytes of the body into `buf`, waiting until some have arrived:
    /// `Ok(0)` at the end of the body (or for an empty `buf`). Once it failed, it fails
    /// the same way again.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize, ReadError> {
        let mut state = self.shared.state();
        let first = !state.asked;
        state.asked = true;
        let mut wake = state.wake_if(first);
        let mut done = None;
        let result = loop {
            if !state.pieces.is_empty() {
                let at = state.read;
                let piece = &state.pieces[0];
                let n = (piece.len() - at).min(buf.len());
                buf[..n].copy_from_slice(&piece.as_slice()[at..at + n]);
                let whole = at + n == piece.len();
                state.read += n;
                state.queued -= n;
                if whole {
                    done = state.pieces.pop_front();
                    state.read = 0;
                }
                let below_half = state.queued <= state.limit / 2;
                wake = wake.or_else(|| state.wake_if(below_half));
                break Ok(n);
            }
            if let Some(end) = state.end {
                break end.map(|()| 0);
            }
            if buf.is_empty() {
                break Ok(0);
            }
            if IO_THREAD.with(Cell::get) {
                break Err(ReadError::WouldBlock);
            }
            // The connection must hear of the ask before this thread sleeps.
            if let Some(wake) = wake.take() {
                drop(state);
                wake();
                state = self.shared.state();
                continue;
            }
            state = self
                .shared
                .arrived
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        };
        drop(state);
        // A read piece's memory goes back to the budget outside the lock.
        drop(done);
        if let Some(wake) = wake {
            wake();
        }
        result
    }
}

impl Upload {
    /// How the body failed, if it did (what the next read would say).
    pub fn failure(&self) -> Option<ReadError> {
        let state = self.shared.state();
        match state.end {
            Some(Err(e)) if state.pieces.is_empty() => Some(e),
            _ => None,
        }
    }
}

/// The connection's end of a streamed body: it lives in the session while the body is
/// read. Dropping it before the end tells the reader the client is gone.
pub struct Inlet {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Inlet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Inlet")
    }
}

impl Inlet {
    /// Whether a connection has attached.
    pub fn is_attached(&self) -> bool {
        self.shared.state().wake.is_some()
    }

    /// Starts feeding: `wake` is called (from the reader's thread, so quickly and without
    /// blocking) when the connection waits and the reader lets it go on.
    pub fn attach(&self, wake: Wake) {
        self.shared.state().wake = Some(wake);
    }

    /// Whether the reader has asked for the body (for tests: the connection asks
    /// [`Inlet::has_room`]).
    #[cfg(test)]
    fn asked(&self) -> bool {
        self.shared.state().asked
    }

    /// Whether the connection may read more of the body now: the reader has asked and the
    /// queue is under its bound. If not, the connection waits and is woken when it may.
    pub fn has_room(&self) -> bool {
        let mut state = self.shared.state();
        let room = state.asked && state.queued < state.limit;
        state.waiting = !room;
        room
    }

    /// Whether the body is flowing: the reader has asked, and the queue is under its bound
    /// (so what holds the body up now is the client).
    pub fn is_flowing(&self) -> bool {
        let state = self.shared.state();
        state.asked && state.queued < state.limit && state.end.is_none()
    }

    /// Queues bytes of the body, for the reader.
    pub fn push(&self, piece: Body) {
        if piece.is_empty() {
            return;
        }
        let mut state = self.shared.state();
        if state.end.is_some() {
            return;
        }
        state.queued += piece.len();
        state.pieces.push_back(piece);
        drop(state);
        self.shared.arrived.notify_all();
    }

    /// The body is complete: the reader gets the end after the bytes queued.
    pub fn finish(&self) {
        self.end(Ok(()));
    }

    /// The body stops here: the reader gets `error` after the bytes queued.
    pub fn fail(&self, error: ReadError) {
        self.end(Err(error));
    }

    fn end(&self, end: Result<(), ReadError>) {
        let mut state = self.shared.state();
        if state.end.is_none() {
            state.end = Some(end);
        }
        drop(state);
        self.shared.arrived.notify_all();
    }
}

impl Drop for Inlet {
    fn drop(&mut self) {
        self.end(Err(ReadError::Closed));
        // The connection's mailbox is not kept alive by a reader that lingers.
        let wake = self.shared.state().wake.take();
        drop(wake);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn piece(bytes: &[u8]) -> Body {
        let mut body = Body::new();
        body.try_extend(bytes).unwrap();
        body
    }

    #[test]
    fn the_reader_asks_first_then_the_bytes_flow_within_the_bound() {
        let (inlet, upload) = pair(8);
        let wakes = Arc::new(AtomicUsize::new(0));
        let counted = wakes.clone();
        inlet.attach(Arc::new(move || {
            counted.fetch_add(1, Ordering::SeqCst);
        }));
        assert!(!inlet.has_room(), "nothing is read before the handler asks");
        let reader = std::thread::spawn(move || {
            let mut all = Vec::new();
            let mut buf = [0; 3];
            loop {
                match upload.read(&mut buf) {
                    Ok(0) => return Ok(all),
                    Ok(n) => all.extend_from_slice(&buf[..n]),
                    Err(e) => return Err(e),
                }
            }
        });
        while !inlet.asked() {
            std::thread::yield_now();
        }
        assert!(
            wakes.load(Ordering::SeqCst) >= 1,
            "the ask woke the connection"
        );
        assert!(inlet.has_room());
        inlet.push(piece(b"hello, "));
        inlet.push(piece(b"world"));
        inlet.finish();
        assert_eq!(reader.join().unwrap(), Ok(b"hello, world".to_vec()));
    }

    #[test]
    fn a_full_queue_holds_the_connection_until_the_reader_drains_it() {
        let (inlet, upload) = pair(4);
        let wakes = Arc::new(AtomicUsize::new(0));
        let counted = wakes.clone();
        inlet.attach(Arc::new(move || {
            counted.fetch_add(1, Ordering::SeqCst);
        }));
        let mut buf = [0; 1];
        inlet.push(piece(b"a"));
        assert_eq!(upload.read(&mut buf), Ok(1));
        inlet.push(piece(b"bcdef"));
        assert!(!inlet.has_room());
        let before = wakes.load(Ordering::SeqCst);
        assert_eq!(upload.read(&mut buf), Ok(1));
        assert_eq!(
            wakes.load(Ordering::SeqCst),
            before,
            "still at or over half"
        );
        let mut rest = [0; 8];
        assert_eq!(upload.read(&mut rest), Ok(4));
        assert_eq!(&rest[..4], b"cdef");
        assert_eq!(wakes.load(Ordering::SeqCst), before + 1, "drained: go on");
        assert!(inlet.has_room());
    }

    #[test]
    fn a_dropped_inlet_is_a_gone_client_and_errors_repeat() {
        let (inlet, upload) = pair(4);
        inlet.push(piece(b"ab"));
        inlet.fail(ReadError::Invalid(400));
        drop(inlet);
        let mut buf = [0; 8];
        assert_eq!(upload.read(&mut buf), Ok(2));
        assert_eq!(upload.read(&mut buf), Err(ReadError::Invalid(400)));
        assert_eq!(upload.read(&mut buf), Err(ReadError::Invalid(400)));

        let (inlet, upload) = pair(4);
        let reader = std::thread::spawn(move || upload.read(&mut [0; 4]));
        while !inlet.asked() {
            std::thread::yield_now();
        }
        drop(inlet);
        assert_eq!(reader.join().unwrap(), Err(ReadError::Closed));
    }

    #[test]
    fn an_io_thread_is_refused_rather_than_left_waiting() {
        let (_inlet, upload) = pair(4);
        let refused = std::thread::spawn(move || {
            mark_io_thread();
            upload.read(&mut [0; 4])
        });
        assert_eq!(refused.join().unwrap(), Err(ReadError::WouldBlock));
    }
}
