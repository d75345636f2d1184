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

    /// The most content `req` may have, if not the server's `Limits::max_body`: past it,
    /// 413, before any of it is read (and with no 100 Continue). Asked once the head has
    /// arrived, only for a request with content.
    fn max_body(&self, req: &Request) -> Option<u64> {
        let _ = req;
        None
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
