//! Exchanges answered after their handler returned, from whatever thread.
//!
//! A handler that cannot answer at once calls [`Response::defer`] with a [`Deferral`] and
//! returns. The server then takes the request out of its connection and gives the
//! deferral a [`Later`]: the request, and the way back to the connection. Whoever holds
//! the `Later` finishes it once, from any thread, with the response; meanwhile the
//! connection goes on with its I/O, and the responses to requests behind it wait their
//! turn. A [`Ticket`] links the connection with its exchange while it is away: the
//! connection cancels it when its client goes, and the holder of the exchange hears of it.

use std::sync::{Arc, Mutex, MutexGuard};

use super::conditional;
use super::request::Request;
use super::response::Response;
use super::stream::Stream;

/// The way an answer goes back to its connection; the server implements it.
pub trait Finish: Send {
    /// Sends `response` as the answer (nothing happens if the connection is gone).
    fn finish(self: Box<Self>, response: Response);
}

/// What a handler that defers leaves in its response: once the server has let go of the
/// exchange, [`Deferral::adopt`] receives it, on the thread that ran the handler, right
/// after the handler returned.
pub trait Deferral: Send {
    fn adopt(self: Box<Self>, later: Later);
}

impl<F: FnOnce(Later) + Send> Deferral for F {
    fn adopt(self: Box<Self>, later: Later) {
        self(later)
    }
}

/// An exchange to finish later: see the module docs. Dropping it unfinished answers 500.
pub struct Later {
    request: Box<Request>,
    finish: Box<dyn Finish>,
    ticket: Arc<Ticket>,
    /// The time the handler ran, in seconds since the Unix epoch, for the conditional
    /// rules applied at the finish.
    now: u64,
}

impl Later {
    pub fn new(
        request: Box<Request>,
        finish: Box<dyn Finish>,
        ticket: Arc<Ticket>,
        now: u64,
    ) -> Later {
        Later {
            request,
            finish,
            ticket,
            now,
        }
    }

    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The time its handler ran, in seconds since the Unix epoch.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Sends `response` as the answer, with the rules of RFC 9110 §13-14 applied as for a
    /// response made at once.
    pub fn finish(self, mut response: Response) {
        conditional::apply(&self.request, &mut response, self.now);
        // The request's memory goes back before the answer is sent.
        drop(self.request);
        self.finish.finish(response);
    }

    /// Sends the status and fields of `response` now, its body to follow through the
    /// returned [`Stream`] (see [`Response::stream`]), which keeps the request until it is
    /// dropped.
    pub fn stream(self, mut response: Response) -> Stream {
        let stream = response.stream();
        stream.keep(self.send(response));
        stream
    }

    /// Sends `response` (streamed already, or whole) and gives the request back.
    pub(crate) fn send(self, mut response: Response) -> Box<Request> {
        conditional::apply(&self.request, &mut response, self.now);
        self.finish.finish(response);
        self.request
    }

    /// Whether the client is gone (a finish would be sent nowhere).
    pub fn is_gone(&self) -> bool {
        self.ticket.is_gone()
    }

    /// Calls `hook` once, on the connection's I/O thread, when the client goes before the
    /// answer; at once, on this thread, if it is gone already.
    pub fn on_gone(&self, hook: Box<dyn FnOnce() + Send>) {
        self.ticket.on_gone(hook);
    }

    /// The exchange's link with its connection, to watch it after the `Later` is stored.
    pub fn ticket(&self) -> Arc<Ticket> {
        self.ticket.clone()
    }
}

/// The link between a connection and its exchange while the exchange is away from it (on
/// a handler thread's queue, or deferred). See the module docs.
pub struct Ticket(Mutex<TicketState>);

struct TicketState {
    /// The request, while it waits in a queue for a thread to claim it.
    request: Option<Box<Request>>,
    gone: bool,
    /// The client ended its side before anyone watched: a watcher takes it as gone.
    half_closed: bool,
    on_gone: Option<Box<dyn FnOnce() + Send>>,
}

impl Ticket {
    /// A ticket holding `request` until it is claimed (or none: the exchange left already).
    pub fn new(request: Option<Box<Request>>) -> Ticket {
        Ticket(Mutex::new(TicketState {
            request,
            gone: false,
            half_closed: false,
            on_gone: None,
        }))
    }

    fn state(&self) -> MutexGuard<'_, TicketState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the request to answer it; `None` once claimed or once the client is gone.
    pub fn claim(&self) -> Option<Box<Request>> {
        let mut state = self.state();
        if state.gone {
            return None;
        }
        state.request.take()
    }

    /// The client is gone: an unclaimed request is dropped now (its content's memory with
    /// it) and the hook, if any, runs on this thread.
    pub fn cancel(&self) {
        let (request, hook) = {
            let mut state = self.state();
            state.gone = true;
            (state.request.take(), state.on_gone.take())
        };
        drop(request);
        if let Some(hook) = hook {
            hook();
        }
    }

    pub fn is_gone(&self) -> bool {
        self.state().gone
    }

    /// The client ended its sending side while the exchange is away. Returns whether
    /// someone watches (or watched) for the client leaving, as a deferred exchange does:
    /// for it that counts as leaving, and the connection closes. Otherwise it is kept for
    /// a watcher that comes later (a handler thread that defers after the end arrived).
    pub fn peer_closed(&self) -> bool {
        let mut state = self.state();
        state.half_closed = true;
        state.on_gone.is_some() || state.gone
    }

    /// See [`Later::on_gone`].
    pub fn on_gone(&self, hook: Box<dyn FnOnce() + Send>) {
        let mut state = self.state();
        if state.gone || state.half_closed {
            // A client that ended its side counts as gone for whoever watches.
            state.gone = true;
            drop(state);
            hook();
        } else {
            state.on_gone = Some(hook);
        }
    }
}
