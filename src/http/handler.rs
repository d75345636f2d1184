//! What answers a request: the static file server, a router, or a test's own handler.

use super::request::Request;
use super::response::Response;

/// Answers requests. Called on the server's worker threads, concurrently, so it must be
/// `Send + Sync`; it should not block for long, since other connections on the same worker
/// wait meanwhile.
pub trait Handler: Send + Sync {
    /// Fills `res` for `req`. `res` starts as an empty `200 OK`.
    fn handle(&self, req: &Request<'_>, res: &mut Response);

    /// Whether the content of `req` will be used. Asked only when the client sent
    /// `Expect: 100-continue` and waits: `false` means the request is answered at once,
    /// without the content, and the connection closes after. `req.body()` is empty here.
    fn wants_body(&self, req: &Request<'_>) -> bool {
        let _ = req;
        true
    }

    /// Whether answering `req` runs code that may block (a host program's handler). When
    /// the server has a handler pool, such requests are answered on it, so that the I/O
    /// threads go on serving other connections. `req.body()` is complete here.
    fn may_block(&self, req: &Request<'_>) -> bool {
        let _ = req;
        false
    }
}
