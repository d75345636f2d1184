//! The memory behind the `req` and `res` handles a C handler receives, and what happens
//! to it when the handler defers its answer.
//!
//! Each handler call gets a [`Slot`]: the two handles and the response they fill. A slot
//! whose handler answers at once goes back to its thread for the next call, so the common
//! case costs no allocation. A deferred one stays with its exchange until
//! `roost_response_finish`, from any thread, then goes to a shared free list.
//!
//! A response that streams (`roost_response_stream`) is deferred the same way, whatever its
//! handler returns: its slot keeps the producer's end of the body (and the request) until
//! the finish.
//!
//! Slots are never freed while the process lives. So a handle stays memory that roost can
//! read even after its exchange is over: a second finish, or a finish after the server was
//! freed, gets an error code instead of undefined behaviour. The free list is FIFO, which
//! makes the reuse of a slot (and so a stale handle acting on a newer exchange) as late as
//! possible. Each use of a slot has a generation, so a connection closing after its
//! exchange was finished never touches the slot's next exchange.

use std::cell::{Cell, UnsafeCell};
use std::collections::VecDeque;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::request::roost_request;
use super::response::roost_response;
use super::result::{fail, roost_result, ROOST_ERR_CLOSED, ROOST_ERR_STATE};
use crate::http::stream::{End, Stream, StreamError};
use crate::http::{Deferral, Later, Request, Response};
use crate::router::Matched;

/// What a slot's handle may do now (read without the lock by the response functions).
const FREE: u8 = 0;
/// In a handler call, or deferred.
const IN_USE: u8 = 1;
/// The client of the deferred exchange left: the response functions say ROOST_ERR_CLOSED.
const GONE: u8 = 2;
/// The response streams: its head is fixed, its body goes through the slot's stream.
const STREAMING: u8 = 3;

/// A host's callback for a response (on_close, on_writable) and its userdata.
#[derive(Clone, Copy)]
pub struct Callback {
    func: unsafe extern "C" fn(res: *mut roost_response, userdata: *mut c_void),
    userdata: *mut c_void,
}

/// Why a handle can no longer act.
#[derive(Clone, Copy, Debug)]
pub enum Over {
    /// The client of its deferred exchange left.
    Gone,
    /// Its exchange was answered (or the handle was never a deferred one).
    Done,
    /// Its response streams: the head is fixed, only writes and the finish remain.
    Streaming,
    /// Its response does not stream (`roost_response_stream` was not called).
    NotStreaming,
}

impl Over {
    /// The result code for a call of `func` on such a handle, with its message.
    pub fn fail(self, func: &str) -> roost_result {
        match self {
            Over::Gone => fail(ROOST_ERR_CLOSED, &format!("{func}: the client is gone")),
            Over::Done => fail(
                ROOST_ERR_STATE,
                &format!("{func}: the response is finished"),
            ),
            Over::Streaming => fail(
                ROOST_ERR_STATE,
                &format!("{func}: the response streams: its head is fixed"),
            ),
            Over::NotStreaming => fail(
                ROOST_ERR_STATE,
                &format!("{func}: the response does not stream (see roost_response_stream)"),
            ),
        }
    }
}

/// See the module docs. `response` comes first: the `res` handle is the slot's address.
#[repr(C)]
pub struct Slot {
    response: roost_response,
    request: UnsafeCell<roost_request>,
    body: UnsafeCell<Response>,
    access: AtomicU8,
    /// `state` was changed during a call that was not deferred (on_close set, a finish
    /// attempted): it must be reset before the slot's next use.
    touched: AtomicBool,
    state: Mutex<State>,
}

// SAFETY: the handles' contract gives a slot's request, response and body to one thread at
// a time (the handler's, then whichever thread holds the deferred exchange); everything
// another thread may touch concurrently (the phase, the exchange, the callback) is behind
// the mutex or atomic.
unsafe impl Sync for Slot {}
// SAFETY: as above; the raw pointers inside point into the slot itself or to a request
// that the exchange keeps alive, never to a thread's own data.
unsafe impl Send for Slot {}

/// What other threads may change; `access` says whether a call or a deferred exchange is
/// under way (so the common case, a handler answering at once, takes no lock). Each use of
/// the slot has its own `generation`: the gone-hook of a deferred use carries it.
struct State {
    generation: u64,
    /// The exchange, once the server handed it over.
    later: Option<Later>,
    /// `roost_response_finish` was called (before the exchange was handed over, it is
    /// sent once it is).
    finished: bool,
    on_close: Option<Callback>,
    /// Host callbacks (on_close, on_writable) running: a finish meanwhile leaves the
    /// release to the last of them.
    callbacks: u32,
    release_pending: bool,
    /// The producer's end of a streamed body (shared with writes under way, which use it
    /// outside the lock).
    stream: Option<Arc<Stream>>,
    /// The exchange was handed over, and its streamed response sent.
    sent: bool,
}

/// What a deferring handler leaves in the response: the slot, to receive the exchange.
/// Dropped without receiving it (the server failed before the hand-over), it releases the
/// slot: the host's finish then says `ROOST_ERR_STATE`.
struct Adopt(Option<&'static Slot>);

impl Drop for Adopt {
    fn drop(&mut self) {
        if let Some(slot) = self.0.take() {
            slot.state().finished = true;
            slot.release();
        }
    }
}

/// A thread's slot kept between calls; given to the shared list when the thread ends.
struct Spare(Cell<Option<&'static Slot>>);

impl Drop for Spare {
    fn drop(&mut self) {
        if let Some(slot) = self.0.take() {
            free_list().push_back(slot);
        }
    }
}

thread_local! {
    static SPARE: Spare = const { Spare(Cell::new(None)) };
}

static FREE_SLOTS: Mutex<VecDeque<&'static Slot>> = Mutex::new(VecDeque::new());

/// Slots released by a finish wait this long in the shared list (this many releases) before
/// reuse, so that a handle finished twice by mistake finds its slot still free.
const QUARANTINE: usize = 1024;

fn free_list() -> MutexGuard<'static, VecDeque<&'static Slot>> {
    FREE_SLOTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Calls `handler` with the handles for `req` and `res`: the response it fills is moved
/// into `res` when it returns, unless it returns `deferred` (then `res` is left deferred
/// and its handle lives on). Returns the handler's verdict.
pub fn call(
    req: &Request,
    route: &Matched<'_>,
    res: &mut Response,
    verdicts: Verdicts,
    handler: impl FnOnce(*mut roost_request, *mut roost_response) -> i32,
) -> i32 {
    let Verdicts { done, deferred } = verdicts;
    let slot = Slot::take();
    if slot.touched.load(Ordering::Acquire) {
        slot.retire();
    }
    // SAFETY: a slot just taken belongs to this thread alone: no handle to it is out.
    unsafe {
        (*slot.request.get()).bind(req, route);
        std::ptr::swap_nonoverlapping(res, slot.body.get(), 1);
    }
    slot.access.store(IN_USE, Ordering::Release);
    let verdict = handler(slot.request_handle(), slot.handle());
    // A response that streams is the host's until its finish, whatever the handler said.
    let streaming = slot.access.load(Ordering::Acquire) == STREAMING;
    if verdict == deferred || streaming {
        if streaming && verdict != deferred && verdict != done {
            // It failed before the head left: 500 goes out instead, and the host's writes
            // say the client is gone (the tap goes with the body). Dropped after the lock,
            // as the tap may run a callback that takes it.
            let tap = {
                let _state = slot.state();
                // SAFETY: the handler returned; the body is handed over only under this lock.
                let body = unsafe { &mut *slot.body.get() };
                let tap = body.take_tap();
                body.set_error(500);
                tap
            };
            drop(tap);
        }
        res.defer(Box::new(Adopt(Some(slot))));
        return deferred;
    } else {
        // SAFETY: the handler returned without deferring: no handle to the slot is used
        // any more.
        unsafe { std::ptr::swap_nonoverlapping(res, slot.body.get(), 1) };
        // See `finish` for the order of these two.
        slot.access.store(FREE, Ordering::SeqCst);
        if slot.touched.load(Ordering::SeqCst) {
            slot.retire();
        }
        slot.give_to_thread();
    }
    verdict
}

impl Deferral for Adopt {
    /// The server handed the exchange over: keep it for `roost_response_finish`, or send
    /// it at once if the finish came first.
    fn adopt(mut self: Box<Self>, later: Later) {
        let Some(slot) = self.0.take() else {
            return;
        };
        let ticket = later.ticket();
        let mut state = slot.state();
        if state.finished {
            drop(state);
            let response = slot.take_body();
            slot.release();
            return later.finish(response);
        }
        let generation = state.generation;
        match &state.stream {
            // Streamed during the handler call: the head leaves now, and the request stays
            // with the stream until the finish (the `req` handle uses it).
            Some(stream) => {
                let request = later.send(slot.take_body());
                stream.keep(request);
                state.sent = true;
            }
            None => state.later = Some(later),
        }
        drop(state);
        // Watched only now, with the exchange in place: a client gone already is told at
        // once (on this thread), and a finish from now on finds the exchange. A hook of
        // an exchange finished meanwhile carries an old generation and does nothing.
        ticket.on_gone(Box::new(move || slot.client_gone(generation)));
    }
}

/// The handler verdicts that mean "answered" and "answer later".
#[derive(Clone, Copy)]
pub struct Verdicts {
    pub done: i32,
    pub deferred: i32,
}

/// How a finish ended, for the C function to report.
pub enum Finished {
    Sent,
    /// The client had left; nothing was sent.
    Closed,
    /// The exchange was finished before (or the handle is not a deferred one).
    Again,
}

impl Slot {
    fn take() -> &'static Slot {
        let local = SPARE.try_with(|s| s.0.take()).ok().flatten();
        if let Some(slot) = local {
            return slot;
        }
        let mut shared = free_list();
        if shared.len() > QUARANTINE {
            if let Some(slot) = shared.pop_front() {
                return slot;
            }
        }
        drop(shared);
        let slot: &'static mut Slot = Box::leak(Box::new(Slot {
            response: roost_response::unbound(),
            request: UnsafeCell::new(roost_request::unbound()),
            body: UnsafeCell::new(Response::new()),
            access: AtomicU8::new(FREE),
            touched: AtomicBool::new(false),
            state: Mutex::new(State {
                generation: 0,
                later: None,
                finished: false,
                on_close: None,
                callbacks: 0,
                release_pending: false,
                stream: None,
                sent: false,
            }),
        }));
        // The slot never moves: its handle can point at its own body.
        slot.response = roost_response::new(slot.body.get());
        slot
    }

    /// The slot behind a response handle.
    ///
    /// # Safety
    /// `res` must be a handle roost passed to a handler (slots are never freed, so any
    /// such handle, however old, is a live slot).
    pub unsafe fn of(res: *mut roost_response) -> &'static Slot {
        // SAFETY: `response` is the first field of a #[repr(C)] Slot, so a handle's
        // address is its slot's; slots are leaked, so the reference is 'static.
        unsafe { &*res.cast::<Slot>() }
    }

    /// The slot behind a request handle.
    ///
    /// # Safety
    /// As for [`Slot::of`].
    pub unsafe fn of_request(req: *const roost_request) -> &'static Slot {
        let offset = std::mem::offset_of!(Slot, request);
        // SAFETY: a request handle is the `request` field of a #[repr(C)] Slot, so the
        // slot starts `offset` bytes before it; slots are leaked, so it is 'static.
        unsafe { &*req.cast::<u8>().sub(offset).cast::<Slot>() }
    }

    /// The `res` handle: the slot's own address (`response` is its first field), derived
    /// from the whole slot so that `Slot::of` may step back to it.
    fn handle(&self) -> *mut roost_response {
        std::ptr::from_ref(self).cast_mut().cast()
    }

    /// The `req` handle, derived from the whole slot like [`Slot::handle`].
    fn request_handle(&self) -> *mut roost_request {
        let offset = std::mem::offset_of!(Slot, request);
        // SAFETY: `request` lies `offset` bytes into the slot.
        unsafe {
            std::ptr::from_ref(self)
                .cast_mut()
                .cast::<u8>()
                .add(offset)
                .cast()
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the functions that build the response may act.
    pub fn check_open(&self) -> Result<(), Over> {
        match self.access.load(Ordering::Acquire) {
            IN_USE => Ok(()),
            GONE => Err(Over::Gone),
            STREAMING => Err(Over::Streaming),
            _ => Err(Over::Done),
        }
    }

    /// Whether the request's functions may act: until the finish, streaming or not.
    pub fn check_request_open(&self) -> Result<(), Over> {
        match self.access.load(Ordering::Acquire) {
            IN_USE | STREAMING => Ok(()),
            GONE => Err(Over::Gone),
            _ => Err(Over::Done),
        }
    }

    /// `roost_response_stream`: the head leaves now (or, during the handler call, once it
    /// has returned); the body follows through [`Slot::write`].
    pub fn start_stream(&'static self) -> Result<(), Over> {
        let mut state = self.state();
        // As in `finish`.
        self.touched.store(true, Ordering::SeqCst);
        match self.access.load(Ordering::SeqCst) {
            IN_USE if !state.finished => {}
            GONE => return Err(Over::Gone),
            STREAMING => return Err(Over::Streaming),
            _ => return Err(Over::Done),
        }
        let stream = match state.later.take() {
            Some(later) => {
                state.sent = true;
                later.stream(self.take_body())
            }
            // SAFETY: the thread holding the handle (this one, per the contract) is the
            // only one that touches the body until the exchange is handed over, which
            // takes it under this lock.
            None => unsafe { (*self.body.get()).stream() },
        };
        state.stream = Some(Arc::new(stream));
        self.access.store(STREAMING, Ordering::Release);
        Ok(())
    }

    /// The stream of a streaming response, to use outside the lock, and the generation
    /// of its exchange.
    fn stream(&self) -> Result<(Arc<Stream>, u64), Over> {
        let state = self.state();
        match self.access.load(Ordering::Acquire) {
            STREAMING if !state.finished => {}
            GONE => return Err(Over::Gone),
            IN_USE if !state.finished => return Err(Over::NotStreaming),
            _ => return Err(Over::Done),
        }
        let stream = state.stream.clone().ok_or(Over::NotStreaming)?;
        Ok((stream, state.generation))
    }

    /// `roost_response_write`.
    pub fn write(&self, bytes: &[u8]) -> Result<Result<(), StreamError>, Over> {
        Ok(self.stream()?.0.write(bytes))
    }

    /// `roost_response_on_writable`. The hook may run at once, on this thread (after the
    /// slot's lock is released, so it may call the other functions).
    pub fn on_writable(&'static self, callback: Callback) -> Result<(), Over> {
        let (stream, generation) = self.stream()?;
        if stream.is_gone() {
            return Err(Over::Gone);
        }
        stream.on_writable(Box::new(move || self.writable(generation, callback)));
        Ok(())
    }

    fn take_body(&self) -> Response {
        // SAFETY: called when the exchange is being finished: the host let go of the
        // handle (the finish) and no other thread touches the body.
        unsafe { std::mem::take(&mut *self.body.get()) }
    }

    /// `roost_response_finish` (`end` is `Finished`) and `roost_response_abort`
    /// (`Aborted`): see [`Finished`].
    pub fn finish(&'static self, end: End) -> Finished {
        let mut state = self.state();
        // Marked before `access` is read, both SeqCst, against the lock-free end of a
        // handler call in `call`: it frees the slot then reads `touched`, so one of the
        // two sees the other and the slot's next use starts clean.
        self.touched.store(true, Ordering::SeqCst);
        if self.access.load(Ordering::SeqCst) == FREE || state.finished {
            return Finished::Again;
        }
        state.finished = true;
        let stream = state.stream.take();
        // Asked before the end is queued: once it is, the connection may send it and let go
        // of its end at once, which then reads as gone too.
        let unsent = stream.as_ref().is_some_and(|stream| stream.is_gone());
        match &stream {
            // The end of the body is queued (after whatever writes are under way).
            Some(stream) => stream.end(end),
            // SAFETY: the body is the calling thread's (it holds the handle, per the
            // contract) until the exchange takes it, which happens under this lock.
            None if end == End::Aborted => unsafe { (*self.body.get()).set_error(500) },
            None => {}
        }
        drop(stream);
        let later = state.later.take();
        // Not handed over yet (the handler has not returned, or the server has not taken
        // the exchange from it): it goes out then, whole or streamed.
        if later.is_none() && !state.sent {
            return Finished::Sent;
        }
        if state.callbacks > 0 {
            // A callback runs (on_close: the client is gone): the slot stays this
            // exchange's until it returns, which then releases it. Nothing here touches
            // the slot after the lock.
            state.release_pending = true;
            return Finished::Closed;
        }
        let gone = unsent || self.access.load(Ordering::Acquire) == GONE;
        // A deferred response leaves now; a streamed one left with its head.
        let answer = later
            .filter(|_| !gone)
            .map(|later| (later, self.take_body()));
        drop(state);
        self.release();
        match answer {
            Some((later, response)) => {
                later.finish(response);
                Finished::Sent
            }
            None if gone => Finished::Closed,
            None => Finished::Sent,
        }
    }

    /// `roost_response_on_close`.
    pub fn set_on_close(&self, on_close: Option<Callback>) -> Result<(), Over> {
        let mut state = self.state();
        // As in `finish`.
        self.touched.store(true, Ordering::SeqCst);
        match self.access.load(Ordering::SeqCst) {
            FREE => return Err(Over::Done),
            GONE => return Err(Over::Gone),
            _ if state.finished => return Err(Over::Done),
            _ => {}
        }
        state.on_close = on_close;
        Ok(())
    }

    /// The connection of the exchange of `generation` closed before its finish. Runs on
    /// its I/O thread.
    fn client_gone(&'static self, generation: u64) {
        let on_close = {
            let mut state = self.state();
            // Another use of the slot, or finished (by now, or by a finish that is
            // releasing the slot): the host let go of the handle, and its callback must not
            // run any more.
            if state.generation != generation || state.finished {
                return;
            }
            self.access.store(GONE, Ordering::Release);
            let on_close = state.on_close.take();
            state.callbacks += u32::from(on_close.is_some());
            on_close
        };
        let Some(on_close) = on_close else {
            return;
        };
        // Called once, as `roost_response_on_close` documents.
        on_close.call(self.handle());
        self.callback_done();
    }

    /// An on_writable hook of the exchange of `generation` is due: the host's callback
    /// runs unless that exchange was finished meanwhile (its handle is the host's no more,
    /// and the slot may serve another exchange by now).
    fn writable(&'static self, generation: u64, callback: Callback) {
        {
            let mut state = self.state();
            if state.generation != generation || state.finished {
                return;
            }
            state.callbacks += 1;
        }
        callback.call(self.handle());
        self.callback_done();
    }

    /// A host callback returned: the last one releases a slot finished meanwhile.
    fn callback_done(&'static self) {
        let mut state = self.state();
        state.callbacks -= 1;
        if state.callbacks == 0 && std::mem::take(&mut state.release_pending) {
            drop(state);
            self.release();
        }
    }

    /// Ends the slot's current use: no handle to it may act any more.
    fn retire(&self) {
        self.access.store(FREE, Ordering::Release);
        let mut state = self.state();
        state.generation += 1;
        state.later = None;
        state.finished = false;
        state.on_close = None;
        state.callbacks = 0;
        state.release_pending = false;
        let stream = state.stream.take();
        state.sent = false;
        self.touched.store(false, Ordering::Release);
        drop(state);
        // A stream never finished (its exchange failed before the hand-over) is cut.
        drop(stream);
        // SAFETY: retired, the slot's request and body are touched by no handle; only the
        // thread retiring it holds it.
        unsafe {
            (*self.body.get()).reset();
            (*self.request.get()).bind_nothing();
        }
    }

    /// Keeps the slot for this thread's next handler call, or shares it.
    fn give_to_thread(&'static self) {
        let kept = SPARE.try_with(|s| {
            if s.0.get().is_none() {
                s.0.set(Some(self));
                true
            } else {
                false
            }
        });
        if kept != Ok(true) {
            free_list().push_back(self);
        }
    }

    /// Ends a deferred use: the slot goes to the shared list.
    fn release(&'static self) {
        self.retire();
        free_list().push_back(self);
    }
}

impl Callback {
    /// Set only by `roost_response_on_close` and `roost_response_on_writable`, whose
    /// contracts make `userdata` usable from the I/O thread that calls it.
    pub fn new(
        func: unsafe extern "C" fn(*mut roost_response, *mut c_void),
        userdata: *mut c_void,
    ) -> Callback {
        Callback { func, userdata }
    }

    /// Calls the host's callback for the response `res`.
    pub fn call(self, res: *mut roost_response) {
        // SAFETY: the host registered `func` with this userdata for the response `res`,
        // to be called once, on the terms of the function that registered it.
        unsafe { (self.func)(res, self.userdata) }
    }
}

// SAFETY: see `Callback::new`: the host promises the callback and its userdata may be used
// from roost's I/O threads.
unsafe impl Send for Callback {}
