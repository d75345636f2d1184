//! The HTTP/1.1 side of one connection (RFC 9112), with no I/O: bytes in, responses out.
//!
//! The server reads into an [`InBuf`] and calls [`Session::process`], which answers every
//! complete request in the buffer, in order, appending the responses to an [`Output`]; then
//! the server writes the output in one go. Between calls the session remembers whether it is
//! between requests, inside a head, or waiting for the rest of a body.

use std::net::SocketAddr;

use super::chunked::{ChunkedDecoder, Decoded};
use super::conditional;
use super::date::DATE_LEN;
use super::handler::Handler;
use super::inbuf::InBuf;
use super::limits::Limits;
use super::output::Output;
use super::parse::{header_slots, is_head_request, parse_head, Framing, Head, HeadResult};
use super::request::Request;
use super::response::Response;
use super::writer::{self, write_response, CONTINUE};

/// Where a connection stands, which decides its timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Between requests: no byte of the next one has arrived.
    Idle,
    /// Part of a request head has arrived.
    Head,
    /// The head is complete and the content is arriving.
    Body,
    /// No more requests will be read; the connection closes once its output is sent.
    Closing,
    /// A handler runs on another thread; nothing is read until its response is back.
    Handler,
}

/// What the connection should do after [`Session::process`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Read more input. `want` is how many unconsumed bytes the session needs in total to
    /// make progress (0 when unknown), a hint for sizing the read buffer.
    Read { want: usize },
    /// Output is full: send it, then call `process` again before reading more.
    Pause,
    /// Send what is queued, then close gracefully: the peer may still be sending, so shut
    /// down the write side and drain input for a while rather than reset it.
    Close,
    /// A request was handed off ([`Session::take_handoff`]): send what is queued, then wait
    /// for [`Session::complete`].
    Wait,
}

/// A request handed to another thread, copied out of the input buffer: its head, parsed
/// again there, and its content.
#[derive(Debug)]
pub struct Handoff {
    pub head: Vec<u8>,
    pub body: Vec<u8>,
}

/// What a request is answered with and by what it is answered.
pub struct Env<'a> {
    pub handler: &'a dyn Handler,
    pub limits: &'a Limits,
    pub date: &'a [u8; DATE_LEN],
    /// The current time in seconds since the Unix epoch, to the second of `date`.
    pub now: u64,
    pub peer: SocketAddr,
    /// Scratch response, reused across requests.
    pub response: &'a mut Response,
    /// The server is stopping: answer what has arrived, then close.
    pub stopping: bool,
    /// Requests whose handler may block are handed off to other threads.
    pub defer: bool,
}

#[derive(Debug)]
enum State {
    Head,
    Body {
        head_len: usize,
        body: BodyState,
    },
    /// Waiting for the response to a handed-off request.
    Waiting(Pending),
    Closed,
}

/// What the response to a handed-off request needs from its request.
#[derive(Debug, Clone, Copy)]
struct Pending {
    head_request: bool,
    keep_alive: bool,
    minor_version: u8,
    unread_body: bool,
}

#[derive(Debug)]
enum BodyState {
    Length(usize),
    Chunked(ChunkedDecoder),
}

/// See the module docs.
#[derive(Debug)]
pub struct Session {
    state: State,
    served: u64,
    handoff: Option<Handoff>,
}

/// The outcome of one step of [`Session::process`].
enum Step {
    Continue,
    Read(usize),
}

impl Session {
    pub fn new() -> Session {
        Session {
            state: State::Head,
            served: 0,
            handoff: None,
        }
    }

    /// How many requests this connection has answered.
    pub fn served(&self) -> u64 {
        self.served
    }

    pub fn phase(&self, input: &InBuf) -> Phase {
        match self.state {
            State::Head if input.is_empty() => Phase::Idle,
            State::Head => Phase::Head,
            State::Body { .. } => Phase::Body,
            State::Waiting(_) => Phase::Handler,
            State::Closed => Phase::Closing,
        }
    }

    /// The request just handed off, for the caller to run elsewhere.
    pub fn take_handoff(&mut self) -> Option<Handoff> {
        self.handoff.take()
    }

    /// Queues the response to the handed-off request (its handler ran, and preconditions
    /// and ranges were applied, on the other thread), then goes on with the next request.
    pub fn complete(&mut self, out: &mut Output, res: &mut Response, env: &mut Env<'_>) {
        let State::Waiting(pending) = self.state else {
            return;
        };
        self.finish(out, res, env.date, env.stopping, pending);
    }

    /// Answers every complete request in `input`; see [`Next`] for what comes after.
    pub fn process(&mut self, input: &mut InBuf, out: &mut Output, env: &mut Env<'_>) -> Next {
        loop {
            let step = match self.state {
                State::Closed => return Next::Close,
                State::Waiting(_) => return Next::Wait,
                _ if out.is_full() => return Next::Pause,
                State::Head if input.is_empty() => return Next::Read { want: 0 },
                State::Head => self.start_request(input, out, env),
                State::Body { .. } => self.continue_body(input, out, env),
            };
            if let Step::Read(want) = step {
                return Next::Read { want };
            }
        }
    }

    /// The head or the body did not arrive in time: answer 408 and close. A connection
    /// waiting for a handed-off request is past reading, so a stale timer is ignored.
    pub fn time_out(&mut self, input: &InBuf, out: &mut Output, env: &mut Env<'_>) {
        if matches!(self.state, State::Waiting(_) | State::Closed) {
            return;
        }
        let head_method = is_head_request(input.data());
        self.fail(out, env, 408, head_method);
    }

    fn start_request(&mut self, input: &mut InBuf, out: &mut Output, env: &mut Env<'_>) -> Step {
        let mut slots = header_slots();
        let data = input.data();
        let consumed = match parse_head(data, &mut slots, env.limits) {
            HeadResult::Partial => return Step::Read(0),
            HeadResult::Reject(r) => {
                self.fail(out, env, r.status, r.head_method);
                return Step::Continue;
            }
            HeadResult::DowngradeMinor(at) => {
                input.data_mut()[at] = b'1';
                return Step::Continue;
            }
            HeadResult::Complete(head, head_len) => {
                let len = match head.framing {
                    Framing::Empty => 0,
                    Framing::Length(n) if n > env.limits.max_body => {
                        self.fail(out, env, 413, head.method == "HEAD");
                        return Step::Continue;
                    }
                    Framing::Length(n) => n as usize,
                    Framing::Chunked => usize::MAX,
                };
                if data.len() - head_len >= len {
                    let body = &data[head_len..head_len + len];
                    self.dispatch(&data[..head_len], &head, body, out, env, false);
                    head_len + len
                } else {
                    if head.expect_continue && data.len() == head_len {
                        let req = Request::new(&head, &[], env.peer);
                        if !env.handler.wants_body(&req) {
                            // Answer now, unread content and all; the connection cannot be
                            // reused since the content would be read as the next request.
                            self.dispatch(&data[..head_len], &head, &[], out, env, true);
                            return Step::Continue;
                        }
                        out.bytes_mut().extend_from_slice(CONTINUE);
                    }
                    let body = match head.framing {
                        Framing::Chunked => BodyState::Chunked(ChunkedDecoder::new()),
                        _ => BodyState::Length(len),
                    };
                    self.state = State::Body { head_len, body };
                    return Step::Continue;
                }
            }
        };
        input.consume(consumed);
        Step::Continue
    }

    fn continue_body(&mut self, input: &mut InBuf, out: &mut Output, env: &mut Env<'_>) -> Step {
        let State::Body { head_len, body } = &mut self.state else {
            return Step::Continue;
        };
        let head_len = *head_len;
        let (body_len, consumed) = match body {
            BodyState::Length(len) => {
                let need = head_len + *len;
                if input.data().len() < need {
                    return Step::Read(need);
                }
                (*len, need)
            }
            BodyState::Chunked(decoder) => {
                let region = &mut input.data_mut()[head_len..];
                let max_trailer = env.limits.max_head;
                let decoded = decoder.decode(region, env.limits.max_body, max_trailer);
                // Cut the framing just consumed, so only content and unread input stay.
                let framing = decoder.framing();
                input.cut(head_len + framing.start..head_len + framing.end);
                decoder.framing_removed();
                match decoded {
                    Ok(Decoded::NeedMore) => return Step::Read(0),
                    Ok(Decoded::Done) => (decoder.decoded(), head_len + decoder.consumed()),
                    Err(status) => {
                        let head_method = is_head_request(input.data());
                        self.fail(out, env, status, head_method);
                        return Step::Continue;
                    }
                }
            }
        };
        // The head was validated when it arrived; parse it again to borrow its fields next
        // to the now complete content.
        let mut slots = header_slots();
        let data = input.data();
        match parse_head(&data[..head_len], &mut slots, env.limits) {
            HeadResult::Complete(head, _) => {
                let body = &data[head_len..head_len + body_len];
                self.dispatch(&data[..head_len], &head, body, out, env, false);
            }
            _ => self.fail(out, env, 400, false),
        }
        input.consume(consumed);
        Step::Continue
    }

    /// Calls the handler and queues its response, or hands the request off when its
    /// handler may block. `unread_body` means the content was not read, so the connection
    /// must close after the response.
    fn dispatch(
        &mut self,
        raw_head: &[u8],
        head: &Head<'_>,
        body: &[u8],
        out: &mut Output,
        env: &mut Env<'_>,
        unread_body: bool,
    ) {
        let req = Request::new(head, body, env.peer);
        let pending = Pending {
            head_request: req.is_head(),
            keep_alive: head.keep_alive,
            minor_version: head.minor_version,
            unread_body,
        };
        if env.defer && env.handler.may_block(&req) {
            self.handoff = Some(Handoff {
                head: raw_head.to_vec(),
                body: body.to_vec(),
            });
            self.state = State::Waiting(pending);
            return;
        }
        env.response.reset();
        env.handler.handle(&req, env.response);
        conditional::apply(&req, env.response, env.now);
        self.finish(out, env.response, env.date, env.stopping, pending);
    }

    /// Queues `res` as the response to a request, closing after it when needed.
    fn finish(
        &mut self,
        out: &mut Output,
        res: &mut Response,
        date: &[u8; DATE_LEN],
        stopping: bool,
        pending: Pending,
    ) {
        let close =
            pending.unread_body || !pending.keep_alive || stopping || res.closes_connection();
        let framing = writer::Framing {
            head_request: pending.head_request,
            close,
            announce_keep_alive: !close && pending.minor_version == 0,
        };
        write_response(out, res, date, framing);
        // A reused response drops its file now, not at the next request.
        res.reset();
        self.served += 1;
        self.state = if close { State::Closed } else { State::Head };
    }

    /// Queues an error response after which the connection closes: the request could not
    /// be read as one, so nothing after it can be trusted to start a new one.
    fn fail(&mut self, out: &mut Output, env: &mut Env<'_>, status: u16, head_method: bool) {
        env.response.set_error(status);
        let framing = writer::Framing {
            head_request: head_method,
            close: true,
            announce_keep_alive: false,
        };
        write_response(out, env.response, env.date, framing);
        self.state = State::Closed;
    }
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::output::Chunk;

    struct Ok200;

    impl Handler for Ok200 {
        fn handle(&self, req: &Request<'_>, res: &mut Response) {
            res.set_body(req.path().as_bytes());
        }
    }

    #[test]
    fn pipelined_requests_are_all_answered_before_anything_is_written() {
        let mut input = InBuf::new();
        input
            .prepare_read(0)
            .extend_from_slice(b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
        let mut out = Output::new();
        let mut response = Response::new();
        let mut env = Env {
            handler: &Ok200,
            limits: &Limits::default(),
            date: b"Thu, 01 Jan 1970 00:00:00 GMT",
            now: 0,
            peer: "127.0.0.1:1".parse().unwrap(),
            response: &mut response,
            stopping: false,
            defer: false,
        };
        let mut session = Session::new();
        assert_eq!(
            session.process(&mut input, &mut out, &mut env),
            Next::Read { want: 0 }
        );
        assert_eq!(session.served(), 3);
        // One contiguous run of bytes: the caller sends it with one write.
        let Some(Chunk::Bytes { bytes, more: false }) = out.front() else {
            panic!("expected one run of bytes");
        };
        let text = String::from_utf8_lossy(bytes);
        assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 3);
        assert!(text.ends_with("/3"));
    }
}
