//! What answers a request: the static file server, a router, or a test's own handler.

use super::request::Request;
use super::response::Response;

/// Answers requests. Called on the server's threads, concurrently, so it must be
/// `Send + Sync`; it should not block for long on an I/O thread, since other connections
/// of that thread wait meanwhile (see [`Handler::may_block`]).
pub trait Handler: Send + Sync {
    /// Fills `res` for `req`. `res` starts as an empty `200 OK`.
    fn handle(&self, req: &Request, res: &mut Response);

    /// Whether the content of `req` will be used. Asked once the head has arrived and
    /// before any content is read (`req.body()` is empty here), unless the whole content
    /// came with the head: `false` answers the request at once, without the content, and
    /// the connection closes after (a client waiting on `Expect: 100-continue` never sends
    /// it).
    fn wants_body(&self, req: &Request) -> bool {
        let _ = req;
        true
    }

    /// How the content of `req` is taken: its limit, and whether the handler reads it as
    /// it arrives (see [`Intake`]). Asked once the head has arrived, only for a request
    /// with content, before any of it is read (and before any 100 Continue).
    fn intake(&self, req: &Request) -> Intake {
        let _ = req;
        Intake::default()
    }

    /// Whether [`Handler::intake`] may stream the content of some request answered on a
    /// handler thread: the server then has handler threads for such requests, even with
    /// `Config::handler_threads` at 0. A handler that streams bodies must say so, or with
    /// no handler threads its reads fail (`ReadError::WouldBlock`).
    fn streams_bodies(&self) -> bool {
        false
    }

    /// Where `req` is answered (asked once its content is complete): see [`Placement`].
    fn placement(&self, req: &Request) -> Placement {
        let _ = req;
        Placement::Here
    }
}

/// Where a request is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// On the I/O thread that read it: static files, errors, quick handlers.
    Here,
    /// By code that may block (a host program's handler): on a handler thread when the
    /// server has them (`Config::handler_threads`), so that the I/O threads go on serving
    /// other connections; else on the I/O thread.
    Blocking,
    /// By a thread of the host's own, which takes it with `HostQueue::next`.
    HostThread,
}

/// How a request's content is taken, as its handler says ([`Handler::intake`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Intake {
    /// The most content the request may have, if not the server's `Limits::max_body`:
    /// past it, 413, before any of it is read (and with no 100 Continue).
    pub max_body: Option<u64>,
    /// The handler is called once the head is in, on a handler thread, and reads the
    /// content as it arrives with `Request::read_body`; `Request::body` stays empty.
    pub stream: bool,
    /// For a streamed body: the most bytes of it the server holds ahead of the handler's
    /// reads, if not `Limits::stream_buffer`.
    pub buffer: Option<usize>,
}
