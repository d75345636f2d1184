//! The HTTP/1.1 side of one connection (RFC 9112), with no I/O: bytes in, requests out,
//! responses in, bytes out.
//!
//! The server reads into an [`InBuf`] and calls [`Session::process`], which reads the next
//! request from it and says what it needs ([`Next`]): more input; a decision on whether a
//! declared body will be used ([`Session::accept_body`]); an answer to a complete request
//! ([`Session::respond`], now, or later after [`Session::take_request`]). Responses are
//! appended to an [`Output`], so the answers to a pipelined batch leave in one write.

use std::net::SocketAddr;
use std::sync::Arc;

use super::chunked::{ChunkedDecoder, Decoded};
use super::inbuf::InBuf;
use super::output::Output;
use super::parse::{
    empty_lines, fill_request, header_slots, is_head_request, parse_head, Framing, HeadResult,
};
use super::spare;
use super::writer::{self, write_response, StreamFraming, CONTINUE};
use crate::http::body::{Body, BodyBudget, Refused};
use crate::http::date::DATE_LEN;
use crate::http::status::forbids_body;
use crate::http::stream::{End, Tap};
use crate::http::upload::{self, Inlet, ReadError};
use crate::http::{answer, Failure, Handler, Limits, Request, Response, TlsInfo};

/// Where a connection stands, which decides its timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Between requests: no byte of the next one has arrived.
    Idle,
    /// Part of a request head has arrived.
    Head,
    /// The head is complete and the content is arriving (or waits for memory).
    Body,
    /// A request is out for an answer; nothing is read until it comes.
    Answering,
}

/// What the session needs after [`Session::process`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// More input. `want` hints how many more bytes could be used at once.
    Read { want: usize },
    /// The output is full: send some, then call `process` again before reading more.
    Pause,
    /// Send what is queued, then close gracefully: the peer may still be sending, so shut
    /// down the write side and drain input for a while rather than reset it.
    Close,
    /// A head arrived whose content has not: tell [`Session::accept_body`] whether the
    /// request (its head in [`Session::request`]) will use it.
    Head,
    /// A whole request is in [`Session::request`]: answer it with [`Session::respond`], or
    /// take it with [`Session::take_request`] and respond later.
    Request,
    /// A request is out for an answer: nothing more is read until [`Session::respond`].
    Answering,
    /// The head of a streamed response is queued: its body comes from the producer through
    /// [`Session::stream`], [`Session::stream_piece`] and [`Session::end_stream`]. Nothing
    /// more is read until it has ended (`process` says [`Next::Answering`] meanwhile).
    Streaming,
    /// The handler of the request in [`Session::request`] deferred its answer (the
    /// response holds its `Deferral`): take the request with [`Session::take_request`] and
    /// hand the exchange over; its answer comes later through [`Session::respond`].
    Deferred,
    /// The content cannot grow within the server's body budget: call `process` again once
    /// memory is released (see `BodyBudget::set_on_release`).
    Stalled,
}

/// What the session needs from the server for one call.
pub struct Env<'a> {
    pub limits: &'a Limits,
    pub date: &'a [u8; DATE_LEN],
    /// The server is stopping: responses close their connections.
    pub stopping: bool,
}

#[derive(Debug)]
enum State {
    Head,
    /// The head is read; the content is yet to come, if it is wanted.
    Deciding(BodyReader),
    Body(BodyReader),
    /// A whole request waits for its answer here.
    Ready,
    /// The request was taken; its answer comes through `respond`.
    Answering,
    /// The head of the answer is out; its body is being streamed.
    Streaming {
        tap: Tap,
        framing: StreamFraming,
        /// The connection closes after the body.
        close: bool,
    },
    Closed,
}

/// A body streaming in while its handler runs (see `http::upload`).
#[derive(Debug)]
struct Inflow {
    reader: BodyReader,
    inlet: Inlet,
    /// The reader asked for the body (and a client waiting on `Expect: 100-continue` was
    /// told to send it).
    started: bool,
}

#[derive(Debug)]
enum BodyReader {
    /// This many bytes of content left.
    Length(u64),
    Chunked(ChunkedDecoder),
}

impl BodyReader {
    /// Moves content from `input` into `body`; the progress, or the status the request
    /// deserves (the content passes `max_body`, its framing is bad).
    fn decode(
        &mut self,
        input: &mut InBuf,
        body: &mut Body,
        max_body: u64,
        max_trailer: usize,
    ) -> Result<Decoded, u16> {
        match self {
            BodyReader::Length(left) => {
                let available = input.data().len();
                let take = usize::try_from(*left).map_or(available, |l| l.min(available));
                if let Err(refused) = body.try_extend(&input.data()[..take]) {
                    return Ok(Decoded::Stalled(refused));
                }
                input.consume(take);
                *left -= take as u64;
                Ok(if *left == 0 {
                    Decoded::Done
                } else {
                    Decoded::NeedMore
                })
            }
            BodyReader::Chunked(decoder) => {
                let (used, outcome) = decoder.decode(input.data(), body, max_body, max_trailer);
                input.consume(used);
                outcome
            }
        }
    }

    /// How much more input could be used at once, for [`Next::Read`].
    fn want(&self) -> usize {
        match self {
            BodyReader::Length(left) => usize::try_from(*left).unwrap_or(usize::MAX),
            BodyReader::Chunked(_) => 0,
        }
    }
}

/// How the exchange under way relates to its connection.
#[derive(Clone, Copy, Debug, Default)]
struct Exchange {
    head_request: bool,
    keep_alive: bool,
    minor_version: u8,
    expect_continue: bool,
    /// The content was not read: the connection cannot be reused after the answer.
    unread_body: bool,
    /// The most content this request may have (the server's limit, or its route's).
    max_body: u64,
}

/// See the module docs.
#[derive(Debug)]
pub struct Session {
    state: State,
    served: u64,
    peer: SocketAddr,
    budget: Option<Arc<BodyBudget>>,
    /// The request being read or answered; none between requests, so an idle connection
    /// holds none.
    request: Option<Box<Request>>,
    exchange: Exchange,
    /// Empty-line bytes skipped before the request line, counted against the head limit.
    leading: usize,
    /// Bytes of the current head already searched for its end, never searched again.
    scanned: usize,
    /// The request line was complete and checked.
    line_checked: bool,
    /// The last `process` stopped for want of body memory.
    stalled: bool,
    /// See [`Session::must_reset`].
    cut: bool,
    /// The content of the request under way, streaming in while its handler runs.
    inflow: Option<Inflow>,
    /// The connection's TLS, for its requests to show.
    tls: Option<Arc<TlsInfo>>,
}

impl Session {
    /// A session for a connection from `peer`, whose bodies are charged to `budget`.
    pub fn new(peer: SocketAddr, budget: Option<Arc<BodyBudget>>) -> Session {
        Session {
            state: State::Head,
            served: 0,
            peer,
            budget,
            request: None,
            exchange: Exchange::default(),
            leading: 0,
            scanned: 0,
            line_checked: false,
            stalled: false,
            cut: false,
            inflow: None,
            tls: None,
        }
    }

    /// The connection's TLS handshake finished: its requests are to say so.
    pub fn set_tls(&mut self, tls: TlsInfo) {
        self.tls = Some(Arc::new(tls));
    }

    /// How many requests this connection has answered.
    pub fn served(&self) -> u64 {
        self.served
    }

    /// Where the connection stands. Once the session has closed, nothing is in flight:
    /// what is left is sending its output, then the close.
    pub fn phase(&self, input: &InBuf) -> Phase {
        match self.state {
            // Empty lines alone (some clients send CRLF after a request) start nothing.
            State::Head if input.is_empty() => Phase::Idle,
            State::Head => Phase::Head,
            State::Deciding(_) | State::Body(_) => Phase::Body,
            // A body streaming in is the client's to send while the handler waits for it;
            // while the handler does not read, the slowness is the server's.
            State::Answering | State::Streaming { .. }
                if self.inflow.as_ref().is_some_and(|f| f.inlet.is_flowing()) =>
            {
                Phase::Body
            }
            State::Ready | State::Answering | State::Streaming { .. } => Phase::Answering,
            State::Closed => Phase::Idle,
        }
    }

    /// Gives the request kept for the next one back to the thread's spares when the
    /// connection is between requests, so an idle connection holds none.
    pub fn release_if_idle(&mut self, input: &InBuf) {
        if self.phase(input) == Phase::Idle {
            if let Some(request) = self.request.take() {
                spare::give_request(request);
            }
        }
    }

    /// The request of [`Next::Head`] or [`Next::Request`].
    ///
    /// # Panics
    /// When there is none (the session did not ask for a decision or an answer).
    pub fn request(&self) -> &Request {
        self.request.as_deref().expect("a request under way")
    }

    /// Takes the request of [`Next::Request`], to answer it elsewhere; the session then
    /// waits for [`Session::respond`].
    ///
    /// # Panics
    /// When there is none.
    pub fn take_request(&mut self) -> Box<Request> {
        assert!(matches!(self.state, State::Ready), "no request to take");
        self.state = State::Answering;
        self.request.take().expect("a request under way")
    }

    /// Says whether the request of [`Next::Head`] will use its content. If so, a client
    /// waiting on `Expect: 100-continue` is told to send it; if not, the request is ready
    /// at once, without it, and the connection closes after its answer (the content would
    /// otherwise be read as the next request).
    pub fn accept_body(&mut self, out: &mut Output, wanted: bool) {
        let State::Deciding(reader) = std::mem::replace(&mut self.state, State::Ready) else {
            return;
        };
        if wanted {
            if self.exchange.expect_continue {
                out.bytes_mut().extend_from_slice(CONTINUE);
            }
            self.state = State::Body(reader);
        } else {
            self.exchange.unread_body = true;
            if let Some(request) = self.request.as_deref_mut() {
                request.body_mut().release();
            }
        }
    }

    /// Reads what `input` holds; see [`Next`] for what comes after. `handler` is asked how
    /// each request's content is taken ([`Handler::intake`]).
    pub fn process(
        &mut self,
        input: &mut InBuf,
        out: &mut Output,
        env: &Env<'_>,
        handler: &dyn Handler,
    ) -> Next {
        self.stalled = false;
        loop {
            let next = match self.state {
                State::Closed => Next::Close,
                State::Answering | State::Streaming { .. } => {
                    self.feed(input, out, env).unwrap_or(Next::Answering)
                }
                State::Ready => Next::Request,
                State::Deciding(_) => Next::Head,
                _ if out.is_full() => Next::Pause,
                State::Head => match self.read_head(input, out, env, handler) {
                    Some(next) => next,
                    None => continue,
                },
                State::Body(_) => match self.read_body(input, out, env) {
                    Some(next) => next,
                    None => continue,
                },
            };
            self.stalled = next == Next::Stalled;
            return next;
        }
    }

    /// Runs [`Session::process`] and answers what it asks for with `handler`: whether a
    /// body is wanted (`Handler::wants_body`), and complete requests (`http::answer`, into
    /// `res`), unless `divert` takes a request first (it returns true having taken or
    /// answered it; a server gives requests that may block to other threads this way).
    /// Returns the first [`Next`] that only the caller can act on: read, send, close,
    /// hand over a deferred exchange, wait for an answer or for memory.
    #[allow(clippy::too_many_arguments)]
    pub fn serve(
        &mut self,
        input: &mut InBuf,
        out: &mut Output,
        env: &Env<'_>,
        handler: &dyn Handler,
        res: &mut Response,
        now: u64,
        divert: &mut dyn FnMut(&mut Session, &mut Output, &mut Response) -> bool,
    ) -> Next {
        loop {
            match self.process(input, out, env, handler) {
                Next::Head => {
                    let wanted = handler.wants_body(self.request());
                    self.accept_body(out, wanted);
                }
                Next::Request => {
                    if !divert(self, out, res) {
                        answer(handler, self.request(), res, now);
                        if res.is_deferred() {
                            return Next::Deferred;
                        }
                        self.respond(out, res, env);
                    }
                    if self.stream().is_some() {
                        return Next::Streaming;
                    }
                }
                next => return next,
            }
        }
    }

    /// Queues `res` as the answer to the request under way, closing after it when needed;
    /// the session then goes on with the next request. `res` is left empty.
    pub fn respond(&mut self, out: &mut Output, res: &mut Response, env: &Env<'_>) {
        if !matches!(self.state, State::Ready | State::Answering) {
            return;
        }
        let tap = res.take_tap();
        let status = res.status();
        // A status that may carry no content is sent without framing (205 with an empty
        // body); HEAD gets the fields GET would have.
        let stream = tap
            .as_ref()
            .filter(|_| !(forbids_body(status) || status == 205))
            .map(|tap| writer::stream_framing(tap.declared(), self.exchange.minor_version));
        // A body still streaming in goes on only beside a streamed answer; otherwise the
        // rest is not read, and the connection cannot be reused.
        if stream.is_none() || self.exchange.head_request {
            self.cut_inflow(ReadError::Closed);
        }
        let exchange = self.exchange;
        // An answer whose head leaves while its request's body is still to be read says
        // that the connection closes after it (RFC 9110 §10.1.1).
        let close = exchange.unread_body
            || res.closes_connection()
            || self.inflow.is_some()
            || !exchange.keep_alive
            || env.stopping
            || (stream == Some(StreamFraming::Close) && !exchange.head_request);
        let framing = writer::Framing {
            head_request: exchange.head_request,
            close,
            announce_keep_alive: !close && exchange.minor_version == 0,
            stream,
        };
        write_response(out, res, env.date, framing);
        // A reused response drops its file now, not at the next request.
        res.reset();
        match (tap, stream) {
            (Some(tap), Some(framing)) if !exchange.head_request => {
                self.state = State::Streaming {
                    tap,
                    framing,
                    close,
                };
            }
            // Nobody will read the body: the exchange is over now, and the producer's
            // writes say so (the tap is dropped).
            (Some(_), _) => self.next_exchange(close),
            (None, _) => self.next_exchange(close),
        }
    }

    /// The reading end's partner of a body streaming in, for the server to attach to.
    pub fn inlet(&self) -> Option<&Inlet> {
        self.inflow.as_ref().map(|f| &f.inlet)
    }

    /// Moves what `input` holds of a body streaming in to its reader, once the reader has
    /// asked and while it keeps up. `None`: nothing to read now.
    fn feed(&mut self, input: &mut InBuf, out: &mut Output, env: &Env<'_>) -> Option<Next> {
        let inflow = self.inflow.as_mut()?;
        if !inflow.inlet.has_room() {
            return None;
        }
        if !inflow.started {
            inflow.started = true;
            // Not once the answer's head is out: a 100 after the final status is invalid.
            if self.exchange.expect_continue && matches!(self.state, State::Answering) {
                out.bytes_mut().extend_from_slice(CONTINUE);
            }
        }
        let mut piece = Body::charged_to(self.budget.clone());
        let outcome = inflow.reader.decode(
            input,
            &mut piece,
            self.exchange.max_body,
            env.limits.max_head,
        );
        inflow.inlet.push(piece);
        match outcome {
            Ok(Decoded::Done) => {
                inflow.inlet.finish();
                self.inflow = None;
                None
            }
            // The queue is full now: wait for the reader (it wakes the connection), not for
            // the client, whose silence is then no fault of its own.
            Ok(Decoded::NeedMore) if !inflow.inlet.has_room() => None,
            Ok(Decoded::NeedMore) => Some(Next::Read {
                want: inflow.reader.want(),
            }),
            Ok(Decoded::Stalled(Refused::Budget)) => Some(Next::Stalled),
            Ok(Decoded::Stalled(Refused::Memory)) => {
                self.cut_inflow(ReadError::Memory);
                None
            }
            Err(status) => {
                self.cut_inflow(ReadError::Invalid(status));
                None
            }
        }
    }

    /// Ends a body streaming in short: its reader gets `error`, and the connection closes
    /// after the answer (the rest of the body would be read as the next request).
    fn cut_inflow(&mut self, error: ReadError) {
        if let Some(inflow) = self.inflow.take() {
            inflow.inlet.fail(error);
            self.exchange.unread_body = true;
        }
    }

    /// The streamed body under way, to take its bytes from.
    pub fn stream(&self) -> Option<&Tap> {
        match &self.state {
            State::Streaming { tap, .. } => Some(tap),
            _ => None,
        }
    }

    /// Queues bytes of the streamed body, framed.
    pub fn stream_piece(&mut self, out: &mut Output, bytes: Vec<u8>) {
        if let State::Streaming { framing, .. } = &mut self.state {
            writer::write_stream_piece(out, framing, bytes);
        }
    }

    /// The streamed body ended as `end` says: its end is queued (a body cut short, or one
    /// that only the close can end, closes the connection) and the session goes on with
    /// the next request.
    pub fn end_stream(&mut self, out: &mut Output, end: End, env: &Env<'_>) {
        let State::Streaming { framing, close, .. } =
            std::mem::replace(&mut self.state, State::Answering)
        else {
            return;
        };
        let whole = end == End::Finished && writer::write_stream_end(out, framing);
        // Only a reset tells a client reading to the close that the body is not all there.
        self.cut = end == End::Aborted && framing == StreamFraming::Close;
        self.cut_inflow(ReadError::Closed);
        let close = close || self.exchange.unread_body;
        self.next_exchange(close || !whole || env.stopping);
    }

    /// Whether the connection must be reset rather than closed: the body of its last
    /// response was cut short where the close would have ended it, so a graceful close
    /// would pass it off as complete.
    pub fn must_reset(&self) -> bool {
        self.cut
            || matches!(
                self.state,
                State::Streaming {
                    framing: StreamFraming::Close,
                    ..
                }
            )
    }

    /// The exchange under way is answered: the session goes on with the next request, or
    /// closes after the answer.
    fn next_exchange(&mut self, close: bool) {
        self.served += 1;
        self.inflow = None;
        // The request is kept for the next one (pipelined requests reuse it) until the
        // connection goes idle; a large body goes back now.
        if let Some(request) = self.request.as_deref_mut() {
            request.body_mut().clear();
        }
        self.state = if close { State::Closed } else { State::Head };
        self.leading = 0;
        self.scanned = 0;
        self.line_checked = false;
    }

    /// The head or the body did not arrive in time: 408, or 503 when the body waited for
    /// memory the server could not give it; then close. A session waiting for an answer is
    /// past reading, so a stale timer is ignored.
    pub fn time_out(&mut self, input: &InBuf, out: &mut Output, env: &Env<'_>) {
        match self.state {
            State::Head | State::Deciding(_) | State::Body(_) => {
                let status = if self.stalled {
                    Failure::OutOfMemory.status()
                } else {
                    408
                };
                // In a head, the kept request is the last one: look at what arrived.
                let head_method = match self.state {
                    State::Head => is_head_request(input.data()),
                    _ => self.exchange.head_request,
                };
                self.fail(out, env, status, head_method);
            }
            // A body streaming in: its reader hears of it, and its handler answers.
            State::Answering | State::Streaming { .. } => {
                let error = if self.stalled {
                    ReadError::Memory
                } else {
                    ReadError::Timeout
                };
                self.cut_inflow(error);
            }
            State::Ready | State::Closed => {}
        }
    }

    /// Reads the next head. `None` means go on with the new state.
    fn read_head(
        &mut self,
        input: &mut InBuf,
        out: &mut Output,
        env: &Env<'_>,
        handler: &dyn Handler,
    ) -> Option<Next> {
        let limits = env.limits;
        // Empty lines before a request are ignored (RFC 9112 §2.2), but they count: a client
        // sending only CRLF is cut off at the head limit, and they are dropped as they come.
        let skipped = empty_lines(input.data());
        if skipped > 0 {
            input.consume(skipped);
            self.leading += skipped;
        }
        if self.leading > limits.max_head {
            self.fail(out, env, 431, false);
            return None;
        }
        if input.is_empty() {
            return Some(Next::Read { want: 0 });
        }
        let data = input.data();
        let mut slots = header_slots();
        // A head that arrives whole (the usual case) is parsed once. One that arrives in
        // pieces is searched for its end as it grows, each byte once, and parsed when the
        // end is there: a client trickling a large head costs no more than sending it.
        let parsed = if self.scanned == 0 {
            parse_head(data, &mut slots, limits)
        } else {
            match head_end(data, self.scanned) {
                Some(end) => parse_head(&data[..end], &mut slots, limits),
                None => HeadResult::Partial,
            }
        };
        let (head, head_len) = match parsed {
            HeadResult::Complete(head, len) if self.leading + len > limits.max_head => {
                let head_method = head.method == "HEAD";
                self.fail(out, env, 431, head_method);
                return None;
            }
            HeadResult::Complete(head, len) => (head, len),
            HeadResult::Partial => {
                if let Some(status) = self.check_partial(data, limits) {
                    self.fail(out, env, status, is_head_request(data));
                    return None;
                }
                self.scanned = data.len();
                return Some(Next::Read { want: 0 });
            }
            HeadResult::Reject(r) => {
                self.fail(out, env, r.status, r.head_method);
                return None;
            }
            HeadResult::DowngradeMinor(at) => {
                input.data_mut()[at] = b'1';
                return None;
            }
        };
        let framing = head.framing;
        self.exchange = Exchange {
            head_request: head.method == "HEAD",
            keep_alive: head.keep_alive,
            minor_version: head.minor_version,
            expect_continue: head.expect_continue,
            unread_body: false,
            max_body: limits.max_body,
        };
        let request = self
            .request
            .get_or_insert_with(|| spare::take_request(self.peer, &self.budget));
        request.set_tls(self.tls.clone());
        fill_request(request, &head);
        input.consume(head_len);
        // The handler may set its own limit for the content (a route's), and read it as it
        // arrives; asked only when there is content, before any of it is read (and before
        // any 100 Continue).
        let mut stream = None;
        if framing != Framing::Empty {
            let intake = handler.intake(request);
            if let Some(max) = intake.max_body {
                self.exchange.max_body = max;
            }
            stream = intake
                .stream
                .then(|| intake.buffer.unwrap_or(limits.stream_buffer));
        }
        let reader = match framing {
            Framing::Empty => None,
            Framing::Length(n) if n > self.exchange.max_body => {
                let head_method = self.exchange.head_request;
                self.fail(out, env, 413, head_method);
                return None;
            }
            Framing::Length(n) => Some(BodyReader::Length(n)),
            Framing::Chunked => Some(BodyReader::Chunked(ChunkedDecoder::new())),
        };
        let Some(reader) = reader else {
            self.state = State::Ready;
            return None;
        };
        if let Some(buffer) = stream {
            let (inlet, upload) = upload::pair(buffer);
            self.request
                .as_deref_mut()
                .expect("a request under way")
                .set_upload(upload);
            self.inflow = Some(Inflow {
                reader,
                inlet,
                started: false,
            });
            self.state = State::Ready;
            return None;
        }
        // Content that came with the head is taken at once when it may be all of it (a body
        // that is all here needs no decision); otherwise, or if it must wait for memory,
        // the handler decides first whether it will be read at all.
        let try_now = match reader {
            BodyReader::Length(n) => input.data().len() as u64 >= n,
            BodyReader::Chunked(_) => true,
        };
        if !try_now {
            self.state = State::Deciding(reader);
            return None;
        }
        self.state = State::Body(reader);
        match self.read_body(input, out, env) {
            Some(Next::Read { .. } | Next::Stalled) => {
                if let State::Body(reader) = std::mem::replace(&mut self.state, State::Head) {
                    self.state = State::Deciding(reader);
                }
                None
            }
            other => other,
        }
    }

    /// The status an incomplete head already deserves, if any. Each byte is looked at a
    /// bounded number of times: the request line once it is complete (or once it passes
    /// the URI limit), then only the head's length. (The first attempt, which parsed the
    /// whole buffer, already checked what had arrived then.)
    // Not inlined: its header slots (16 KiB) would double the stack frame of every
    // request's path, and each page of a frame is touched (probed) on every call.
    #[inline(never)]
    fn check_partial(&mut self, data: &[u8], limits: &Limits) -> Option<u16> {
        // A request line still without its end, longer than a target of the largest size
        // with a method and version around it, is too long: say so now, before looking
        // at it again for every byte that trickles in.
        if !self.line_checked && data.len() > limits.max_uri + LINE_SLACK && !data.contains(&b'\n')
        {
            return Some(if data.contains(&b' ') { 414 } else { 400 });
        }
        if self.scanned == 0 {
            self.line_checked = data.contains(&b'\n');
        } else if !self.line_checked {
            let line_done = data[self.scanned..].contains(&b'\n');
            if line_done || data.len() > limits.max_uri {
                self.line_checked = line_done;
                let mut slots = header_slots();
                if let HeadResult::Reject(r) = parse_head(data, &mut slots, limits) {
                    return Some(r.status);
                }
            }
        }
        (self.leading + data.len() > limits.max_head).then_some(431)
    }

    /// Moves content from `input` into the request. `None` means go on with the new
    /// state.
    fn read_body(&mut self, input: &mut InBuf, out: &mut Output, env: &Env<'_>) -> Option<Next> {
        let limits = env.limits;
        let State::Body(reader) = &mut self.state else {
            return None;
        };
        let body = self
            .request
            .as_deref_mut()
            .expect("a request under way")
            .body_mut();
        match reader.decode(input, body, self.exchange.max_body, limits.max_head) {
            Ok(Decoded::Done) => {
                self.state = State::Ready;
                None
            }
            Ok(Decoded::NeedMore) => Some(Next::Read {
                want: reader.want(),
            }),
            Ok(Decoded::Stalled(Refused::Budget)) => Some(Next::Stalled),
            Ok(Decoded::Stalled(Refused::Memory)) => {
                let head_method = self.exchange.head_request;
                self.fail(out, env, Failure::OutOfMemory.status(), head_method);
                None
            }
            Err(status) => {
                let head_method = self.exchange.head_request;
                self.fail(out, env, status, head_method);
                None
            }
        }
    }

    /// Queues an error response after which the connection closes: the request could not
    /// be read as one, so nothing after it can be trusted to start a new one.
    fn fail(&mut self, out: &mut Output, env: &Env<'_>, status: u16, head_method: bool) {
        let mut res = Response::new();
        res.set_error(status);
        let framing = writer::Framing {
            head_request: head_method,
            close: true,
            announce_keep_alive: false,
            stream: None,
        };
        write_response(out, &mut res, env.date, framing);
        if let Some(request) = self.request.take() {
            spare::give_request(request);
        }
        self.state = State::Closed;
    }
}

/// Room for a method, spaces and the version beside a target of `Limits::max_uri` bytes.
const LINE_SLACK: usize = 32;

/// Where the head at the start of `data` ends (just past its empty line), searching from
/// about `from` on: the bytes before it were searched already.
fn head_end(data: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(2);
    let mut at = start;
    while let Some(i) = data[at..].iter().position(|&b| b == b'\n') {
        let lf = at + i;
        match &data[lf + 1..] {
            [b'\n', ..] => return Some(lf + 2),
            [b'\r', b'\n', ..] => return Some(lf + 3),
            _ => at = lf + 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h1::output::Chunk;

    fn env(limits: &Limits) -> Env<'_> {
        Env {
            limits,
            date: b"Thu, 01 Jan 1970 00:00:00 GMT",
            stopping: false,
        }
    }

    #[test]
    fn pipelined_requests_are_all_answered_before_anything_is_written() {
        struct NoRoutes;
        impl Handler for NoRoutes {
            fn handle(&self, _: &Request, _: &mut Response) {}
        }
        let mut input = InBuf::new();
        input
            .prepare_read(0)
            .extend_from_slice(b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
        let mut out = Output::new();
        let limits = Limits::default();
        let env = env(&limits);
        let mut session = Session::new("127.0.0.1:1".parse().unwrap(), None);
        let mut res = Response::new();
        loop {
            match session.process(&mut input, &mut out, &env, &NoRoutes) {
                Next::Request => {
                    res.set_body(session.request().path().as_bytes());
                    session.respond(&mut out, &mut res, &env);
                }
                next => {
                    assert_eq!(next, Next::Read { want: 0 });
                    break;
                }
            }
        }
        assert_eq!(session.served(), 3);
        // One contiguous run of bytes: the caller sends it with one write.
        let Some(Chunk::Bytes { bytes, more: false }) = out.front() else {
            panic!("expected one run of bytes");
        };
        let text = String::from_utf8_lossy(bytes);
        assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 3);
        assert!(text.ends_with("/3"));
    }

    /// Feeds `bytes` to `session`, answering requests with empty 200s; returns what was
    /// written and the last `Next`.
    fn feed(session: &mut Session, input: &mut InBuf, bytes: &[u8]) -> (Vec<u8>, Next) {
        let limits = Limits::default();
        let env = env(&limits);
        let mut out = Output::new();
        let mut res = Response::new();
        input.prepare_read(bytes.len()).extend_from_slice(bytes);
        let next = session.serve(
            input,
            &mut out,
            &env,
            &Ok200,
            &mut res,
            0,
            &mut |_, _, _| false,
        );
        (drain(&mut out), next)
    }

    fn drain(out: &mut Output) -> Vec<u8> {
        let mut all = Vec::new();
        while let Some(Chunk::Bytes { bytes, .. }) = out.front() {
            all.extend_from_slice(bytes);
            let n = bytes.len();
            out.advance(n);
        }
        all
    }

    struct Ok200;

    impl Handler for Ok200 {
        fn handle(&self, _req: &Request, _res: &mut Response) {}
    }

    #[test]
    fn empty_lines_after_a_request_leave_the_connection_idle() {
        let mut session = Session::new("127.0.0.1:1".parse().unwrap(), None);
        let mut input = InBuf::new();
        let (sent, next) = feed(
            &mut session,
            &mut input,
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi\r\n",
        );
        assert!(sent.starts_with(b"HTTP/1.1 200 OK"));
        assert_eq!(next, Next::Read { want: 0 });
        assert_eq!(session.phase(&input), Phase::Idle);
    }

    #[test]
    fn a_timed_out_head_is_answered_as_its_own_method() {
        let limits = Limits::default();
        let env = env(&limits);
        let mut session = Session::new("127.0.0.1:1".parse().unwrap(), None);
        let mut input = InBuf::new();
        feed(
            &mut session,
            &mut input,
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\nHEAD /x HTTP/1.1\r\n",
        );
        let mut out = Output::new();
        session.time_out(&input, &mut out, &env);
        let sent = String::from_utf8(drain(&mut out)).unwrap();
        assert!(sent.starts_with("HTTP/1.1 408 "), "{sent}");
        assert!(sent.ends_with("\r\n\r\n"), "no body for HEAD: {sent}");
    }

    #[test]
    fn a_long_request_line_trickled_in_is_refused_at_the_limit() {
        let mut session = Session::new("127.0.0.1:1".parse().unwrap(), None);
        let mut input = InBuf::new();
        let mut line = vec![b'A'; Limits::default().max_uri];
        line.extend_from_slice(b" /");
        let (sent, _) = feed(&mut session, &mut input, &line);
        assert!(sent.is_empty());
        let mut answer = Vec::new();
        for i in 0..LINE_SLACK + 1 {
            let (sent, next) = feed(&mut session, &mut input, b"x");
            if next == Next::Close {
                answer = sent;
                assert!(i < LINE_SLACK, "refused only after {i} more bytes");
                break;
            }
        }
        assert!(
            answer.starts_with(b"HTTP/1.1 414 "),
            "{:?}",
            String::from_utf8_lossy(&answer)
        );
    }

    #[test]
    fn the_head_end_is_found_across_reads() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nrest";
        for split in 0..head.len() - 4 {
            let (first, _) = head.split_at(split);
            assert_eq!(head_end(first, 0), None, "{split}");
            assert_eq!(head_end(head, split), Some(head.len() - 4), "{split}");
        }
        assert_eq!(head_end(b"GET / HTTP/1.0\n\nx", 0), Some(16));
    }
}
