//! One client connection: its socket, buffers and HTTP session, and the moves between them.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::mailbox::{Mailbox, Responder};
use super::pool::{Job, Pool};
use super::transport::Transport;
use crate::h1::inbuf::InBuf;
use crate::h1::output::{Chunk, Output};
use crate::h1::{Env, Next, Phase, Session};
use crate::http::body::BodyBudget;
use crate::http::stream::Taken;
use crate::http::{Failure, Handler, Later, Placement, Response, Ticket};
use crate::router::PlainHttpOnTlsPort;
use crate::sys::epoll::{ERROR, READABLE, READ_HANGUP, URGENT};
use crate::sys::socket::{self, Shutdown};

/// What the connection waits for after [`Connection::drive`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// The client to read queued output.
    Write,
    /// Input, in this phase of the session.
    Input(Phase),
    /// Memory for the body being read, which the server's other bodies hold.
    Memory,
    /// The client's end of stream while draining before a graceful close.
    Linger,
    /// Nothing: the connection has more to do but used its turn; drive it again after the
    /// other ready connections (edge-triggered epoll will not report it again by itself).
    Yield,
}

/// The result of driving a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Open(Wait),
    Close,
    /// Close with a reset, not a graceful close: the response's body was cut short where a
    /// close would end it (see `Session::must_reset`).
    Reset,
}

/// What a worker lends a connection for one turn.
pub struct Turn<'a> {
    pub handler: &'a dyn Handler,
    /// Threads for handlers that may block, if the server has them.
    pub pool: Option<&'a Pool>,
    /// Threads for handlers that read bodies as they arrive.
    pub uploads: Option<&'a Pool>,
    /// The queue the host's own threads take their requests from.
    pub host: &'a Pool,
    /// Where answers from those threads come back, and this connection's token there.
    pub mailbox: &'a Arc<Mailbox>,
    pub token: u64,
    pub env: Env<'a>,
    /// The current time in seconds since the Unix epoch, to the second of the Date field.
    pub now: u64,
    /// Scratch response, reused across the requests the worker answers itself.
    pub response: &'a mut Response,
}

/// The most one send(2) or sendfile(2) moves, and the most one turn writes, so that one
/// large download does not hold a worker while other connections wait. Calls end on
/// multiples of it in the connection's byte stream (a head and the first piece of its body
/// fill one call together), and a connection writes one call's worth before the next
/// connection's turn: lighttpd's pattern. Bursts of a whole megabyte (four calls a turn,
/// as before) fill the client's receive window, after which the client's own reads drive
/// the sending at their pace, with the cost on both sides: at 1 MiB, c16 on loopback, this
/// pattern gave over twice the responses a second at under half the server CPU per response
/// (wrk runs alternating the two builds; see the README's Performance section).
const WRITE_CHUNK: usize = 256 << 10;
/// Regions of output one send(2) gathers: the pieces of a streamed body, each a buffer of
/// its own, leave in one call as a file's bytes do.
const GATHER: usize = 16;
/// Reads per turn: a client that keeps sending cannot hold a worker while others wait.
const READS_PER_TURN: usize = 16;
/// Takes from a streamed body's producer per turn, likewise for a producer that keeps
/// writing.
const PUMPS_PER_TURN: usize = 2;

/// How a flush ended.
enum Flushed {
    All,
    /// The socket buffer is full: wait for the client to read.
    Blocked,
    /// This turn's share is used up; more can go at once.
    Budget,
}

/// See the module docs.
pub struct Connection {
    socket: OwnedFd,
    transport: Transport,
    /// What answers this connection's requests, if not the server's handler (its
    /// listener's own: a redirect to HTTPS).
    pub handler: Option<Arc<dyn Handler>>,
    input: InBuf,
    output: Output,
    session: Session,
    /// The socket may hold unread input (edge-triggered epoll reports only changes).
    readable: bool,
    /// The client shut down its sending side.
    peer_done: bool,
    /// Urgent data arrived. recv(2) stops short at the urgent mark, so from now on a short
    /// read no longer proves the socket is empty: read until EAGAIN.
    urgent: bool,
    /// Output is finished and the write side shut down; input is being discarded.
    lingering: bool,
    /// Bytes moved in either direction since [`Connection::take_progress`].
    progress: bool,
    /// Bytes read from the socket, ever.
    bytes_read: u64,
    /// The window the body's arrival rate is measured over, for the body being read.
    rate: Option<RateWindow>,
    /// Queued to be driven again after yielding its turn.
    pub queued: bool,
    /// Waiting for body memory, in the worker's list of such connections.
    pub waiting_for_memory: bool,
    /// The link with the exchange while it is away (on a handler thread, or deferred).
    ticket: Option<Arc<Ticket>>,
    /// The worker watches the socket for room to write (only while output waits for it).
    pub watching_writes: bool,
    /// The streamed body under way tells this connection when it has something new.
    stream_attached: bool,
}

/// The bytes of one body read since a point in time: a body must keep up the minimum rate
/// over each stretch of the body timeout, not merely on average since its start (a fast
/// start would buy hours of trickling).
#[derive(Clone, Copy, Debug)]
struct RateWindow {
    /// Which request (by `served()`) it measures, so each body gets a clock of its own.
    request: u64,
    since: Instant,
    bytes_then: u64,
}

impl Drop for Connection {
    /// A request still waiting for a handler thread is not run once its connection is
    /// gone, and its content's memory goes back now; whoever holds a deferred exchange
    /// hears that its client left.
    fn drop(&mut self) {
        if let Some(ticket) = &self.ticket {
            ticket.cancel();
        }
    }
}

impl Connection {
    pub fn new(socket: OwnedFd, peer: SocketAddr, budget: Option<Arc<BodyBudget>>) -> Connection {
        Connection {
            socket,
            transport: Transport::Plain,
            handler: None,
            input: InBuf::new(),
            output: Output::new(),
            session: Session::new(peer, budget),
            readable: false,
            peer_done: false,
            urgent: false,
            lingering: false,
            progress: false,
            bytes_read: 0,
            rate: None,
            queued: false,
            waiting_for_memory: false,
            ticket: None,
            stream_attached: false,
            watching_writes: false,
        }
    }

    pub fn socket(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    /// Carries the connection over `transport` (TLS) instead of plain TCP; before any
    /// byte moved.
    pub fn set_transport(&mut self, transport: Transport) {
        self.transport = transport;
    }

    /// Before a graceful close: TLS says so to the client (close_notify), once.
    pub fn close_notify(&mut self) {
        self.transport.close_notify(self.socket.as_fd());
    }

    pub fn served(&self) -> u64 {
        self.session.served()
    }

    /// Whether any byte was read or written since the last call.
    pub fn take_progress(&mut self) -> bool {
        std::mem::take(&mut self.progress)
    }

    /// Whether closing the connection now loses no response: it is between requests or
    /// inside a head with nothing to send, or its last response is out and it only lingers.
    pub fn is_quiet(&self) -> bool {
        self.lingering
            || (self.output.is_empty()
                && matches!(self.session.phase(&self.input), Phase::Idle | Phase::Head))
    }

    /// Records readiness reported by epoll. Returns false if the socket has failed.
    pub fn note_events(&mut self, events: u32) -> bool {
        if events & ERROR != 0 {
            return false;
        }
        if events & (READABLE | READ_HANGUP | URGENT) != 0 {
            self.readable = true;
        }
        if events & READ_HANGUP != 0 {
            self.peer_done = true;
        }
        if events & URGENT != 0 {
            self.urgent = true;
        }
        true
    }

    /// Reads, answers and writes until the connection must wait for the network, a
    /// handler thread, or memory.
    pub fn drive(&mut self, turn: &mut Turn<'_>) -> Outcome {
        if self.lingering {
            return self.drain();
        }
        let mut reads = 0;
        let mut pumps = 0;
        loop {
            let (pool, uploads) = (turn.pool, turn.uploads);
            let (host, mailbox, token) = (turn.host, turn.mailbox, turn.token);
            let handler = if self.transport.is_misdirected() {
                &PlainHttpOnTlsPort
            } else {
                turn.handler
            };
            let ticket = &mut self.ticket;
            let next = self.session.serve(
                &mut self.input,
                &mut self.output,
                &turn.env,
                handler,
                turn.response,
                turn.now,
                &mut |session, out, res| {
                    let queue = match handler.placement(session.request()) {
                        Placement::HostThread => host,
                        // Its handler waits for the body: never on this thread (with no
                        // threads, its reads fail rather than wait).
                        _ if session.inlet().is_some() => match uploads {
                            Some(pool) => pool,
                            None => return false,
                        },
                        Placement::Here => return false,
                        Placement::Blocking => match pool {
                            Some(pool) => pool,
                            None => return false,
                        },
                    };
                    *ticket = hand_off(session, out, res, &turn.env, queue, mailbox, token);
                    true
                },
            );
            let pumped = self.pump(turn);
            // The last answer before a graceful close: TLS's close_notify leaves with it.
            let closing = next == Next::Close && !self.session.must_reset();
            match self.flush(closing) {
                Err(_) => return Outcome::Close,
                Ok(Flushed::Blocked) => return Outcome::Open(Wait::Write),
                Ok(Flushed::Budget) => return Outcome::Open(Wait::Yield),
                Ok(Flushed::All) => {}
            }
            let want = match next {
                Next::Pause | Next::Streaming => continue,
                // The producer of a streamed body keeps up: take more, within the turn. All
                // is sent: wait for its next write, unless it came meanwhile.
                Next::Answering if pumped || self.session.stream().is_some_and(|t| !t.wait()) => {
                    pumps += 1;
                    if pumps == PUMPS_PER_TURN {
                        return Outcome::Open(Wait::Yield);
                    }
                    continue;
                }
                Next::Close if self.session.must_reset() => return Outcome::Reset,
                Next::Close => return self.start_linger(),
                // A handler runs elsewhere: read nothing until its answer is back, and hold
                // no buffer meanwhile if all input was used.
                Next::Answering => {
                    // A client that ends its side while a deferred answer is awaited has
                    // left (nginx takes it so too): a long poll must not outlive it.
                    // A streamed body is watched so too: its producer may write seldom (an
                    // event stream) and would otherwise hold the connection on.
                    // A body still streaming in may all be in the socket: the read that
                    // reaches the end of the input settles it instead.
                    if self.peer_done
                        && self.session.inlet().is_none()
                        && (self.ticket.as_ref().is_some_and(|t| t.peer_closed())
                            || self.session.stream().is_some())
                    {
                        return if self.session.must_reset() {
                            Outcome::Reset
                        } else {
                            Outcome::Close
                        };
                    }
                    self.input.release_if_empty();
                    // The server holds the body up now: its rate is measured afresh after.
                    self.rate = None;
                    return Outcome::Open(Wait::Input(Phase::Answering));
                }
                Next::Deferred => {
                    attach_inlet(&self.session, turn.mailbox, turn.token);
                    let deferral = turn.response.take_deferral();
                    let request = self.session.take_request();
                    let ticket = Arc::new(Ticket::new(None));
                    let responder = Responder::new(turn.mailbox.clone(), turn.token);
                    self.ticket = Some(ticket.clone());
                    let later = Later::new(request, Box::new(responder), ticket, turn.now);
                    if let Some(deferral) = deferral {
                        deferral.adopt(later);
                    }
                    turn.response.reset();
                    continue;
                }
                Next::Stalled => {
                    // The slowness is the server's, not the client's.
                    self.rate = None;
                    return Outcome::Open(Wait::Memory);
                }
                Next::Read { want } => want,
                // `serve` answers these itself.
                Next::Head | Next::Request => continue,
            };
            if !self.readable {
                // A streamed answer beside a body streaming in: its producer wakes this
                // connection only once it waits for it.
                if self.session.stream().is_some_and(|t| !t.wait()) {
                    pumps += 1;
                    if pumps == PUMPS_PER_TURN {
                        return Outcome::Open(Wait::Yield);
                    }
                    continue;
                }
                let phase = self.session.phase(&self.input);
                if phase == Phase::Idle {
                    // An idle connection holds no buffers: thousands of them cost little.
                    self.input.release_if_empty();
                    self.output.release_if_empty();
                    self.session.release_if_idle(&self.input);
                }
                return Outcome::Open(Wait::Input(phase));
            }
            if reads == READS_PER_TURN {
                return Outcome::Open(Wait::Yield);
            }
            reads += 1;
            let buf = self.input.prepare_read(want);
            let space = buf.capacity() - buf.len();
            let received = self.transport.recv(self.socket.as_fd(), buf);
            if let Some(tls) = self.transport.take_handshake() {
                self.session.set_tls(tls);
            }
            match received {
                // End of stream: with nothing pending, the client is done; in the middle of
                // a request, the request can never complete. Close at once either way.
                Ok(0) => return Outcome::Close,
                Ok(n) => {
                    self.progress = true;
                    self.bytes_read += n as u64;
                    // A short read emptied the socket (the next arrival is a new edge).
                    if n < space && !self.peer_done && !self.urgent {
                        self.readable = false;
                    }
                }
                // Empty for now. TLS says so after a short read, which may leave the end of
                // the stream unread: after the client's FIN, read on until it shows.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = self.peer_done;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Outcome::Close,
            }
        }
    }

    /// Whether the body being read is too slow: each stretch of `window` must have brought
    /// at least `min_rate` bytes a second, or a client trickling a byte now and then would
    /// hold the connection (and its memory) without ever tripping the silence timeout.
    pub fn body_too_slow(&mut self, now: Instant, window: Duration, min_rate: u64) -> bool {
        if self.session.phase(&self.input) != Phase::Body {
            self.rate = None;
            return false;
        }
        let request = self.session.served();
        let rate = match self.rate {
            Some(rate) if rate.request == request => rate,
            _ => *self.rate.insert(RateWindow {
                request,
                since: now,
                bytes_then: self.bytes_read,
            }),
        };
        let elapsed = now.saturating_duration_since(rate.since);
        if elapsed < window {
            return false;
        }
        let received = self.bytes_read - rate.bytes_then;
        if u128::from(received) * 1000 < u128::from(min_rate) * elapsed.as_millis() {
            return true;
        }
        self.rate = Some(RateWindow {
            request,
            since: now,
            bytes_then: self.bytes_read,
        });
        false
    }

    /// Queues the answer a handler thread sent back; `drive` then sends it and goes on.
    pub fn complete(&mut self, res: &mut Response, turn: &mut Turn<'_>) {
        self.session.respond(&mut self.output, res, &turn.env);
        // A streamed answer is still away until its body has ended.
        if self.session.stream().is_none() {
            self.ticket = None;
        }
    }

    /// Moves what the producer of the streamed body under way wrote into the output, and
    /// its end; runs the producer's writable hook when it is due. Returns whether anything
    /// moved.
    fn pump(&mut self, turn: &Turn<'_>) -> bool {
        let Some(tap) = self.session.stream() else {
            return false;
        };
        if !self.stream_attached {
            let (mailbox, token) = (turn.mailbox.clone(), turn.token);
            let wake = Arc::new(move || mailbox.ready(token));
            tap.attach(turn.env.limits.stream_buffer, wake);
            self.stream_attached = true;
        }
        if self.output.is_full() {
            return false;
        }
        let Taken {
            pieces,
            end,
            writable,
        } = tap.take();
        let moved = !pieces.is_empty() || end.is_some();
        for piece in pieces {
            self.session.stream_piece(&mut self.output, piece);
        }
        if let Some(end) = end {
            self.session.end_stream(&mut self.output, end, &turn.env);
            self.stream_attached = false;
            self.ticket = None;
        }
        if let Some(hook) = writable {
            hook();
        }
        moved
    }

    /// The request out on a handler thread will get no answer from it: 500.
    /// Returns true when the connection should close instead: its client ended its side
    /// while a deferred exchange was out, which counts as leaving (the exchange was let
    /// go because of that, so a 500 would answer nobody).
    pub fn abandon(&mut self, turn: &mut Turn<'_>) -> bool {
        let ticket = self.ticket.take();
        if self.peer_done && ticket.is_some_and(|t| t.peer_closed()) {
            return true;
        }
        Failure::Abandoned.respond(turn.response);
        self.session
            .respond(&mut self.output, turn.response, &turn.env);
        false
    }

    /// Answers a head or body that took too long; `drive` then sends it and closes.
    pub fn time_out(&mut self, turn: &mut Turn<'_>) {
        self.session
            .time_out(&self.input, &mut self.output, &turn.env);
    }

    /// Sends queued output, up to this turn's share.
    /// `closing`: nothing follows this output but the close, so TLS may end with
    /// close_notify in the same write.
    fn flush(&mut self, closing: bool) -> io::Result<Flushed> {
        let mut corked = false;
        let flushed = self.flush_corked(&mut corked);
        if corked {
            self.transport.set_cork(self.socket.as_fd(), false);
        }
        let flushed = flushed?;
        if closing && matches!(flushed, Flushed::All) {
            self.transport.queue_close_notify();
        }
        // All is out only once TLS has sent the records it made of it (and those of its
        // handshake, which come with no output).
        match flushed {
            Flushed::All if !self.transport.flush(self.socket.as_fd())? => Ok(Flushed::Blocked),
            flushed => Ok(flushed),
        }
    }

    /// [`Connection::flush`]; a head followed by its body is written corked, so that they
    /// leave in full packets, not the head alone in one of its own. (MSG_MORE on the head
    /// would do that too, but made each sendfile(2) behind it cost three times the CPU.)
    fn flush_corked(&mut self, corked: &mut bool) -> io::Result<Flushed> {
        let mut written = 0;
        while let Some(chunk) = self.output.front() {
            if written >= WRITE_CHUNK {
                return Ok(Flushed::Budget);
            }
            let room = WRITE_CHUNK - written;
            let (sent, more) = match chunk {
                Chunk::Bytes { .. } => {
                    let mut slices = [IoSlice::new(&[]); GATHER];
                    let (count, more) = self.output.gather(&mut slices, room);
                    if more && !*corked {
                        self.transport.set_cork(self.socket.as_fd(), true);
                        *corked = true;
                    }
                    let fd = self.socket.as_fd();
                    (self.transport.send(fd, &slices[..count]), more)
                }
                Chunk::File { file, offset, len } => {
                    let count = usize::try_from(len).map_or(room, |l| l.min(room));
                    let fd = self.socket.as_fd();
                    (self.transport.send_file(fd, file, offset, count), false)
                }
            };
            match sent {
                // The file shrank under us: the promised length cannot be kept.
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    self.output.advance(n);
                    self.progress = true;
                    written += n;
                    if *corked && !more {
                        self.transport.set_cork(self.socket.as_fd(), false);
                        *corked = false;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Flushed::Blocked),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Flushed::All)
    }

    /// Everything is sent and nothing more will be read as a request: send FIN, then discard
    /// input until the client closes too (or the linger timeout passes). Closing with unread
    /// input would make the kernel reset the connection, and a reset can destroy response
    /// bytes the client has not read yet.
    fn start_linger(&mut self) -> Outcome {
        self.transport.close_notify(self.socket.as_fd());
        socket::shutdown(self.socket.as_fd(), Shutdown::Write);
        self.lingering = true;
        self.readable = true;
        self.input.clear();
        self.drain()
    }

    fn drain(&mut self) -> Outcome {
        for _ in 0..READS_PER_TURN {
            self.input.clear();
            let buf = self.input.prepare_read(64 * 1024);
            match socket::recv_into(self.socket.as_fd(), buf) {
                Ok(0) => return Outcome::Close,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.input.release_if_empty();
                    return Outcome::Open(Wait::Linger);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Outcome::Close,
            }
        }
        self.input.clear();
        Outcome::Open(Wait::Yield)
    }
}

/// Lets the reader of a body streaming in wake this connection (once the reader asks for
/// the body, and when it has drained the queue), before the request leaves the connection.
fn attach_inlet(session: &Session, mailbox: &Arc<Mailbox>, token: u64) {
    if let Some(inlet) = session.inlet().filter(|inlet| !inlet.is_attached()) {
        let mailbox = mailbox.clone();
        inlet.attach(Arc::new(move || mailbox.ready(token)));
    }
}

/// Gives the request of `session` to a handler thread of `pool`, its answer to come back
/// through `mailbox`; returns the ticket that cancels it if the connection goes first. With
/// the queue full, the client is told at once (503) and there is no ticket.
fn hand_off(
    session: &mut Session,
    out: &mut Output,
    res: &mut Response,
    env: &Env<'_>,
    pool: &Pool,
    mailbox: &Arc<Mailbox>,
    token: u64,
) -> Option<Arc<Ticket>> {
    attach_inlet(session, mailbox, token);
    let ticket = Arc::new(Ticket::new(Some(session.take_request())));
    let job = Job {
        ticket: ticket.clone(),
        responder: Responder::new(mailbox.clone(), token),
    };
    match pool.submit(job) {
        Ok(()) => Some(ticket),
        Err(job) => {
            job.responder.dismiss();
            Failure::Overloaded.respond(res);
            session.respond(out, res, env);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;

    use super::*;
    use crate::http::{Limits, Request};

    struct Echo;

    impl Handler for Echo {
        fn handle(&self, req: &Request, res: &mut Response) {
            res.set_body(req.body());
        }
    }

    #[test]
    fn an_idle_connection_gives_its_buffers_back() {
        let (server_end, mut client) = UnixStream::pair().unwrap();
        server_end.set_nonblocking(true).unwrap();
        let peer = "127.0.0.1:1".parse().unwrap();
        let mut conn = Connection::new(OwnedFd::from(server_end), peer, None);
        let limits = Limits::default();
        let date = *b"Thu, 01 Jan 1970 00:00:00 GMT";
        let mailbox = Arc::new(Mailbox::new().unwrap());
        let host = Pool::queue(1);
        let mut response = Response::new();
        let body = vec![b'x'; 200 * 1024];
        let mut request = format!(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(&body);
        let writer = std::thread::spawn(move || {
            client.write_all(&request).unwrap();
            let mut reply = vec![0u8; 64];
            client.read_exact(&mut reply).unwrap();
            client
        });
        let mut outcome = Outcome::Open(Wait::Input(Phase::Idle));
        for _ in 0..1000 {
            conn.note_events(READABLE);
            let mut turn = Turn {
                handler: &Echo,
                pool: None,
                uploads: None,
                host: &host,
                mailbox: &mailbox,
                token: 0,
                env: Env {
                    limits: &limits,
                    date: &date,
                    stopping: false,
                },
                now: 0,
                response: &mut response,
            };
            outcome = conn.drive(&mut turn);
            if conn.served() == 1 && conn.output.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let _client = writer.join().unwrap();
        assert_eq!(conn.served(), 1);
        assert_eq!(outcome, Outcome::Open(Wait::Input(Phase::Idle)));
        assert_eq!(conn.input.capacity(), 0, "read buffer kept while idle");
        assert_eq!(conn.output.capacity(), 0, "write buffer kept while idle");
    }
}
