//! Response bodies produced over time: a queue between the thread that produces the bytes
//! and the connection that sends them.
//!
//! [`Response::stream`](super::Response::stream) makes a response's body a stream and gives
//! the producer its end, a [`Stream`]: it writes from any thread, copies in, and never
//! blocks. The connection holds the other end, a [`Tap`], once the head has left: it takes
//! what was written whenever it has room to send, so the queue holds at most about one
//! buffer bound (a write is refused while more than that waits) and the producer is held
//! back by a client that does not read. The producer hears when it may write again through
//! a one-shot hook, and learns that the client left from its next write.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::request::Request;

/// Bytes a stream may hold queued before writes are refused, unless the server says
/// otherwise (`Limits::stream_buffer`).
pub const DEFAULT_BUFFER: usize = 256 * 1024;

/// Why a write was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamError {
    /// More than the buffer bound is queued: nothing was queued; write again once the
    /// [`Stream::on_writable`] hook has run.
    Full,
    /// The client is gone (or the response was never sent): nothing will be sent.
    Gone,
    /// The write would go past the Content-Length the response declared: nothing queued.
    TooLong,
}

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StreamError::Full => "the stream's buffer is full",
            StreamError::Gone => "the client is gone",
            StreamError::TooLong => "the write goes past the declared Content-Length",
        })
    }
}

impl std::error::Error for StreamError {}

/// How a stream ended, as its tap sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The producer finished it: the body is complete.
    Finished,
    /// The producer let go without finishing (it failed): the body is cut short.
    Aborted,
}

type Hook = Box<dyn FnOnce() + Send>;
type Wake = Arc<dyn Fn() + Send + Sync>;

/// What both ends share.
struct Pipe(Mutex<PipeState>);

struct PipeState {
    /// The writes not taken yet, each as it came (one allocation of its own size: no
    /// growing buffer copied over and over).
    pieces: VecDeque<Vec<u8>>,
    /// Their bytes.
    queued: usize,
    /// Past this many queued bytes, writes are refused.
    limit: usize,
    /// Bytes the declared Content-Length still allows, if there is one.
    allowed: Option<u64>,
    end: Option<End>,
    /// The tap is gone: the client left, or will read no body (a HEAD request, a 204 or
    /// 304), or the response was never sent.
    gone: bool,
    /// Tells the connection there is something for it; set when the tap is attached.
    wake: Option<Wake>,
    /// The connection will look again by itself (it has output to send, or a wake is on
    /// its way): a write need not wake it. Cleared by [`Tap::wait`], when it waits.
    woken: bool,
    on_writable: Option<Hook>,
}

impl Pipe {
    fn state(&self) -> MutexGuard<'_, PipeState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl PipeState {
    /// Whether the hook may run: the queue is below half its bound, or will never drain.
    fn writable(&self) -> bool {
        self.gone || self.queued <= self.limit / 2
    }

    /// The wake to call (after the lock) if the connection must look again: one per look
    /// of the tap, however many writes come in between.
    fn wake(&mut self) -> Option<Wake> {
        if self.woken {
            return None;
        }
        let wake = self.wake.clone()?;
        self.woken = true;
        Some(wake)
    }
}

fn call_wake(wake: Option<Wake>) {
    if let Some(wake) = wake {
        wake();
    }
}

/// The producer's end of a streamed body; see the module docs. Every method takes `&self`,
/// so it may be shared between threads (in an `Arc`). [`Stream::finish`] ends the body;
/// dropping it unfinished cuts the body short (the client sees it incomplete).
pub struct Stream {
    pipe: Arc<Pipe>,
    /// The request, kept alive with the stream when a deferred exchange streams (its
    /// handles must stay valid until the finish).
    request: OnceLock<Box<Request>>,
}

impl Stream {
    /// A new queue for a body of `declared` bytes (or of any length).
    pub(crate) fn new(declared: Option<u64>) -> (Stream, Tap) {
        let pipe = Arc::new(Pipe(Mutex::new(PipeState {
            pieces: VecDeque::new(),
            queued: 0,
            limit: DEFAULT_BUFFER,
            allowed: declared,
            end: None,
            gone: false,
            wake: None,
            woken: false,
            on_writable: None,
        })));
        let tap = Tap {
            pipe: pipe.clone(),
            declared,
        };
        (
            Stream {
                pipe,
                request: OnceLock::new(),
            },
            tap,
        )
    }

    /// Keeps `request` alive until the stream is dropped (once: a second is dropped).
    pub(crate) fn keep(&self, request: Box<Request>) {
        let _ = self.request.set(request);
    }

    /// The request of a deferred exchange that streams, if the stream keeps it.
    pub fn request(&self) -> Option<&Request> {
        self.request.get().map(|r| &**r)
    }

    /// Queues a copy of `bytes`. Refused, with nothing queued, while more than the buffer
    /// bound is queued (a single write may take the queue past it), when the client is
    /// gone, or past the declared length. Never blocks.
    pub fn write(&self, bytes: &[u8]) -> Result<(), StreamError> {
        let mut state = self.pipe.state();
        // (Ended, only a write racing its own finish on a shared stream gets here.)
        if state.gone || state.end.is_some() {
            return Err(StreamError::Gone);
        }
        if let Some(allowed) = state.allowed {
            if bytes.len() as u64 > allowed {
                return Err(StreamError::TooLong);
            }
        }
        if bytes.is_empty() {
            return Ok(());
        }
        if state.queued > state.limit {
            return Err(StreamError::Full);
        }
        let mut piece = Vec::new();
        if piece.try_reserve_exact(bytes.len()).is_err() || state.pieces.try_reserve(1).is_err() {
            // Memory refused: the client cannot be sent this body.
            return Err(StreamError::Gone);
        }
        piece.extend_from_slice(bytes);
        state.pieces.push_back(piece);
        state.queued += bytes.len();
        if let Some(allowed) = &mut state.allowed {
            *allowed -= bytes.len() as u64;
        }
        let wake = state.wake();
        drop(state);
        call_wake(wake);
        Ok(())
    }

    /// Calls `hook` once, on the connection's I/O thread, when the queue has drained below
    /// half its bound, or the client is gone (the next write then says so). If the queue is
    /// below half already, the connection is asked to call it at once; before the
    /// response's head has left, it is called once it has; with the client gone already, it
    /// is called now, on this thread. A hook set before replaces the last one; the end of
    /// the stream drops one not yet called.
    pub fn on_writable(&self, hook: Box<dyn FnOnce() + Send>) {
        let mut state = self.pipe.state();
        if state.gone || state.end.is_some() {
            // No connection will run it.
            drop(state);
            return hook();
        }
        state.on_writable = Some(hook);
        let wake = if state.writable() { state.wake() } else { None };
        drop(state);
        call_wake(wake);
    }

    /// Whether the client is gone: nothing written will be sent.
    pub fn is_gone(&self) -> bool {
        self.pipe.state().gone
    }

    /// Ends the body: what was written is sent, then the end of the body.
    pub fn finish(self) {
        self.end(End::Finished);
    }

    /// Ends the body as `end` says (once; later calls do nothing). A writable hook not yet
    /// run never will be: the producer is done.
    pub(crate) fn end(&self, end: End) {
        let mut state = self.pipe.state();
        if state.end.is_some() {
            return;
        }
        state.end = Some(end);
        state.on_writable = None;
        let wake = state.wake();
        drop(state);
        call_wake(wake);
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.end(End::Aborted);
    }
}

/// What a tap took from its stream.
pub struct Taken {
    /// The writes, in order.
    pub pieces: VecDeque<Vec<u8>>,
    /// The stream ended (all its bytes are in `pieces`).
    pub end: Option<End>,
    /// The producer's writable hook, due now: call it once the bytes are queued.
    pub writable: Option<Box<dyn FnOnce() + Send>>,
}

/// The connection's end of a streamed body: it lives in the response until the head is
/// written, then with the exchange. Dropping it means the body will not be sent (the
/// client is gone, or reads no body): the producer's writes say [`StreamError::Gone`] and
/// its hook runs.
pub struct Tap {
    pipe: Arc<Pipe>,
    declared: Option<u64>,
}

impl std::fmt::Debug for Tap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tap")
            .field("declared", &self.declared)
            .finish()
    }
}

impl Tap {
    /// The Content-Length the response declared, if any.
    pub fn declared(&self) -> Option<u64> {
        self.declared
    }

    /// Starts taking: `wake` is called (from the producer's thread, so quickly and without
    /// blocking) whenever there is something new to take, and the queue holds up to `limit`
    /// bytes. Call once.
    pub fn attach(&self, limit: usize, wake: Wake) {
        let mut state = self.pipe.state();
        state.limit = limit;
        state.wake = Some(wake);
        // Whatever came before the attach is taken at the tap's first look, which the
        // attacher makes right after this.
        state.woken = true;
    }

    /// Takes everything queued; the writable hook comes with it if it is due. The producer's
    /// writes do not wake the connection until it [waits](Tap::wait).
    pub fn take(&self) -> Taken {
        let mut state = self.pipe.state();
        let pieces = std::mem::take(&mut state.pieces);
        state.queued = 0;
        let writable = if state.on_writable.is_some() && state.writable() {
            state.on_writable.take()
        } else {
            None
        };
        Taken {
            pieces,
            end: state.end,
            writable,
        }
    }

    /// The connection has sent what it took and waits for the producer: its next write (or
    /// its end, or a hook due) wakes it. Returns false, without waiting, if there is
    /// something to take already.
    pub fn wait(&self) -> bool {
        let mut state = self.pipe.state();
        let due = state.on_writable.is_some() && state.writable();
        if !state.pieces.is_empty() || state.end.is_some() || due {
            return false;
        }
        state.woken = false;
        true
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        let (hook, wake) = {
            let mut state = self.pipe.state();
            state.gone = true;
            state.pieces = VecDeque::new();
            state.queued = 0;
            // The connection's mailbox is not kept alive by a producer that lingers.
            (state.on_writable.take(), state.wake.take())
        };
        drop(wake);
        if let Some(hook) = hook {
            hook();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn writes_are_refused_past_the_bound_and_the_hook_runs_below_half() {
        let (stream, tap) = Stream::new(None);
        let wakes = Arc::new(AtomicUsize::new(0));
        let counted = wakes.clone();
        tap.attach(
            100,
            Arc::new(move || {
                counted.fetch_add(1, Ordering::SeqCst);
            }),
        );
        assert!(tap.take().pieces.is_empty());
        assert!(tap.wait());
        stream.write(&[1; 60]).unwrap();
        stream.write(&[2; 60]).unwrap();
        assert_eq!(
            wakes.load(Ordering::SeqCst),
            1,
            "one wake until the tap waits again"
        );
        assert_eq!(stream.write(&[3; 1]), Err(StreamError::Full));
        let ran = Arc::new(AtomicUsize::new(0));
        let seen = ran.clone();
        stream.on_writable(Box::new(move || {
            seen.fetch_add(1, Ordering::SeqCst);
        }));
        let taken = tap.take();
        assert_eq!(taken.pieces, [vec![1; 60], vec![2; 60]]);
        taken.writable.expect("due once the queue drained")();
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        stream.finish();
        assert!(!tap.wait(), "the end is there to take");
        let last = tap.take();
        assert_eq!((last.pieces.len(), last.end), (0, Some(End::Finished)));
    }

    #[test]
    fn a_declared_length_bounds_the_writes() {
        let (stream, _tap) = Stream::new(Some(5));
        stream.write(b"abc").unwrap();
        assert_eq!(stream.write(b"def"), Err(StreamError::TooLong));
        stream.write(b"de").unwrap();
    }

    #[test]
    fn a_dropped_tap_is_a_gone_client_and_a_dropped_stream_an_abort() {
        let (stream, tap) = Stream::new(None);
        let ran = Arc::new(AtomicUsize::new(0));
        let seen = ran.clone();
        stream.write(&[0; 10]).unwrap();
        stream.on_writable(Box::new(move || {
            seen.fetch_add(1, Ordering::SeqCst);
        }));
        drop(tap);
        assert_eq!(
            ran.load(Ordering::SeqCst),
            1,
            "a waiting producer hears of it"
        );
        assert_eq!(stream.write(b"x"), Err(StreamError::Gone));
        assert!(stream.is_gone());

        let (stream, tap) = Stream::new(None);
        drop(stream);
        assert_eq!(tap.take().end, Some(End::Aborted));
    }
}
