//! The one way an exchange is answered, whatever thread or protocol it came from: the
//! handler fills the response, then the rules of RFC 9110 §13-14 (preconditions, ranges)
//! apply to it. And the statuses for the ways an exchange can fail outside its handler.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::conditional;
use super::handler::Handler;
use super::request::Request;
use super::response::Response;

/// Answers `req` into `res` (which starts empty): `handler` fills it, a panic in the
/// handler gives 500 (the panic hook has reported it), then preconditions and ranges are
/// applied. `now` is the time in seconds since the Unix epoch. A handler that deferred its
/// answer leaves `res` deferred (see `http::later`): the caller hands the exchange over.
pub fn answer(handler: &dyn Handler, req: &Request, res: &mut Response, now: u64) {
    if catch_unwind(AssertUnwindSafe(|| handler.handle(req, res))).is_err() {
        res.take_deferral();
        return Failure::HandlerPanicked.respond(res);
    }
    // A deferred answer gets the rules when it is finished (`Later::finish`).
    if !res.is_deferred() {
        conditional::apply(req, res, now);
    }
}

/// Why an exchange got no answer from its handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Every place a request may wait for a handler thread is taken.
    Overloaded,
    /// The memory to hold its content was refused, or not freed in time.
    OutOfMemory,
    /// Whoever had to answer it let go of it without an answer.
    Abandoned,
    /// Its handler panicked.
    HandlerPanicked,
}

impl Failure {
    /// 503 for what may work later, 500 for a fault.
    pub fn status(self) -> u16 {
        match self {
            Failure::Overloaded | Failure::OutOfMemory => 503,
            Failure::Abandoned | Failure::HandlerPanicked => 500,
        }
    }

    /// Makes `res` the answer for this failure.
    pub fn respond(self, res: &mut Response) {
        res.set_error(self.status());
    }
}
