//! How other threads reach a worker's connections: each worker has a mailbox (a queue and
//! an eventfd in its epoll set). A thread that answers a request does it through the
//! request's [`Responder`], which posts the answer there; the worker applies it on its own
//! thread. Nothing but the worker ever touches a connection.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::http::Response;
use crate::sys::eventfd::EventFd;

/// What a worker finds in its mailbox.
#[derive(Debug)]
pub enum Letter {
    /// The answer to the exchange of the connection with this token.
    Answer { token: u64, response: Response },
    /// The exchange of this connection was let go without an answer.
    Abandoned { token: u64 },
    /// The streamed body of this connection's exchange has something new.
    Ready { token: u64 },
}

/// See the module docs.
pub struct Mailbox {
    letters: Mutex<Vec<Letter>>,
    /// Body memory came back since the worker last looked.
    memory: AtomicBool,
    waker: EventFd,
}

/// What [`Mailbox::take`] gives.
pub struct Mail {
    pub letters: Vec<Letter>,
    /// Body memory came back: connections waiting for it may go on.
    pub memory: bool,
}

impl Mailbox {
    pub fn new() -> std::io::Result<Mailbox> {
        Ok(Mailbox {
            letters: Mutex::new(Vec::new()),
            memory: AtomicBool::new(false),
            waker: EventFd::new()?,
        })
    }

    /// The descriptor to watch: readable when there is mail, or the worker is asked to
    /// look at the server's state (a stop).
    pub fn waker(&self) -> &EventFd {
        &self.waker
    }

    /// Queues `letter`, waking the worker only if none was waiting: the worker takes all
    /// the letters at once, after clearing the wake (see [`Mailbox::take`]), so one wake
    /// serves a whole batch of answers.
    fn post(&self, letter: Letter) {
        let first = {
            let mut letters = self.letters.lock().unwrap_or_else(|e| e.into_inner());
            letters.push(letter);
            letters.len() == 1
        };
        if first {
            self.waker.notify();
        }
    }

    /// Tells the worker that the streamed body of connection `token` has something new.
    pub fn ready(&self, token: u64) {
        self.post(Letter::Ready { token });
    }

    /// Wakes the worker with nothing in particular: it looks at the server's state.
    pub fn wake(&self) {
        self.waker.notify();
    }

    /// Tells the worker that body memory came back (once, however often it is called before
    /// the worker looks).
    pub fn memory_released(&self) {
        if !self.memory.swap(true, Ordering::AcqRel) {
            self.waker.notify();
        }
    }

    /// Everything posted since the last call.
    pub fn take(&self) -> Mail {
        self.waker.drain();
        let letters = std::mem::take(&mut *self.letters.lock().unwrap_or_else(|e| e.into_inner()));
        Mail {
            letters,
            memory: self.memory.swap(false, Ordering::AcqRel),
        }
    }
}

/// The one way to answer a request that left its worker: any thread may call
/// [`Responder::finish`], once. Dropping it unfinished tells the connection that no answer
/// will come (its client gets 500).
pub struct Responder {
    mailbox: Arc<Mailbox>,
    token: u64,
    done: bool,
}

impl Responder {
    /// A responder for the exchange of the connection `token` of the worker with `mailbox`.
    pub fn new(mailbox: Arc<Mailbox>, token: u64) -> Responder {
        Responder {
            mailbox,
            token,
            done: false,
        }
    }

    /// Sends `response` as the answer.
    pub fn finish(mut self, response: Response) {
        self.done = true;
        self.mailbox.post(Letter::Answer {
            token: self.token,
            response,
        });
    }

    /// Lets go without a word: nobody waits for the answer any more.
    pub fn dismiss(mut self) {
        self.done = true;
    }
}

impl crate::http::Finish for Responder {
    fn finish(self: Box<Self>, response: Response) {
        Responder::finish(*self, response);
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if !self.done {
            self.mailbox.post(Letter::Abandoned { token: self.token });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_and_abandoned_exchanges_arrive_in_order() {
        let mailbox = Arc::new(Mailbox::new().unwrap());
        Responder::new(mailbox.clone(), 7).finish(Response::new());
        drop(Responder::new(mailbox.clone(), 8));
        Responder::new(mailbox.clone(), 9).dismiss();
        mailbox.memory_released();
        mailbox.memory_released();
        let mail = mailbox.take();
        assert!(mail.memory);
        assert!(matches!(
            mail.letters.as_slice(),
            [
                Letter::Answer { token: 7, .. },
                Letter::Abandoned { token: 8 }
            ]
        ));
        let again = mailbox.take();
        assert!(again.letters.is_empty() && !again.memory);
    }
}
