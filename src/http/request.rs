//! The request as a handler sees it, owned: it can outlive the I/O turn that read it (a
//! handler thread answers it later, say), and it knows nothing of the wire it came over.

use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::body::{Body, BodyBudget};
use super::tls::TlsInfo;
use super::upload::{ReadError, Upload};

/// The protocol version a request came with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

/// One request: method, target, header fields, content and the client's address.
///
/// The head is kept in two buffers, with the parts as ranges into them: `text` for what is
/// ASCII by the grammar (method, target, field names), so reading it costs nothing, and
/// `values` for field values (which may hold obs-text). Reusing a request allocates
/// nothing.
#[derive(Debug)]
pub struct Request {
    text: String,
    values: Vec<u8>,
    method: Range<usize>,
    target: Range<usize>,
    path: Range<usize>,
    query: Option<Range<usize>>,
    /// The authority of an absolute target (`http://host/path`), which replaces Host.
    authority: Option<Range<usize>>,
    version: Version,
    fields: Vec<(Range<usize>, Range<usize>)>,
    body: Body,
    /// The content's reading end, when it streams in while the handler runs.
    upload: Option<Upload>,
    /// Bytes of `body` given out by [`Request::read_body`].
    read_at: AtomicUsize,
    peer: SocketAddr,
    /// The connection's TLS, if it came over TLS.
    tls: Option<Arc<TlsInfo>>,
}

/// Where the parts of a request line are in the text buffer, for [`Request::fill_head`].
#[derive(Clone, Debug)]
pub struct Line {
    pub method: Range<usize>,
    pub target: Range<usize>,
    pub path: Range<usize>,
    pub query: Option<Range<usize>>,
    pub authority: Option<Range<usize>>,
    pub version: Version,
}

/// Buffers larger than these are not kept for another request.
const KEEP_CAPACITY: usize = 16 * 1024;
const KEEP_FIELDS: usize = 128;

impl Request {
    /// An empty `GET /` from `peer`, whose content will be charged to `body`'s budget.
    pub fn new(peer: SocketAddr, body: Body) -> Request {
        Request {
            text: "GET /".to_string(),
            values: Vec::new(),
            method: 0..3,
            target: 4..5,
            path: 4..5,
            query: None,
            authority: None,
            version: Version::Http11,
            fields: Vec::new(),
            body,
            upload: None,
            read_at: AtomicUsize::new(0),
            peer,
            tls: None,
        }
    }

    /// Sets the head: `fill` writes the request line's parts and the field names into the
    /// (emptied) text buffer and the field values into the values buffer, pushes where each
    /// field's name (in the text) and value (in the values) are, and says where the parts
    /// of the request line are. Protocol sessions build requests this way. The content is
    /// emptied.
    pub(crate) fn fill_head(
        &mut self,
        fill: impl FnOnce(&mut String, &mut Vec<u8>, &mut Vec<(Range<usize>, Range<usize>)>) -> Line,
    ) {
        self.text.clear();
        self.values.clear();
        self.fields.clear();
        let line = fill(&mut self.text, &mut self.values, &mut self.fields);
        self.method = line.method;
        self.target = line.target;
        self.path = line.path;
        self.query = line.query;
        self.authority = line.authority;
        self.version = line.version;
        self.body.clear();
        self.upload = None;
        *self.read_at.get_mut() = 0;
    }

    /// Makes an answered request ready to be kept for another: large buffers and all of
    /// the content's memory go back.
    pub(crate) fn shed(&mut self) {
        if self.text.capacity() > KEEP_CAPACITY {
            self.text = String::new();
        }
        if self.values.capacity() > KEEP_CAPACITY {
            self.values = Vec::new();
        }
        if self.fields.capacity() > KEEP_FIELDS {
            self.fields = Vec::new();
        }
        // Nothing refers to the old text any more: a kept request reads as an empty one.
        self.text.clear();
        self.values.clear();
        self.fields.clear();
        (self.method, self.target, self.path) = (0..0, 0..0, 0..0);
        (self.query, self.authority) = (None, None);
        self.body.release();
        self.upload = None;
        self.tls = None;
    }

    /// Makes a kept request the next one, from `peer`, its content charged to `budget`.
    pub(crate) fn reuse(&mut self, peer: SocketAddr, budget: &Option<Arc<BodyBudget>>) {
        self.peer = peer;
        self.body.charge_to(budget);
    }

    /// Says which TLS connection the request came over (None: plain TCP).
    pub(crate) fn set_tls(&mut self, tls: Option<Arc<TlsInfo>>) {
        self.tls = tls;
    }

    /// The content, to fill while it arrives.
    pub(crate) fn body_mut(&mut self) -> &mut Body {
        &mut self.body
    }

    fn text(&self, range: &Range<usize>) -> &str {
        self.text.get(range.clone()).unwrap_or("")
    }

    /// The method, case-sensitive as received (`GET`, `POST`, ...).
    pub fn method(&self) -> &str {
        self.text(&self.method)
    }

    /// Whether this is a HEAD request (the response will be sent without its content).
    pub fn is_head(&self) -> bool {
        self.method() == "HEAD"
    }

    /// The request target exactly as received.
    pub fn raw_target(&self) -> &str {
        self.text(&self.target)
    }

    /// The path, still percent-encoded; `*` for `OPTIONS *`, the authority for CONNECT.
    /// For an absolute-form target, only its path.
    pub fn path(&self) -> &str {
        self.text(&self.path)
    }

    /// The query after `?`, still percent-encoded.
    pub fn query(&self) -> Option<&str> {
        self.query.as_ref().map(|q| self.text(q))
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// The authority the request is for: from an absolute-form target if there is one
    /// (RFC 9112 §3.2.2), else the Host field.
    pub fn authority(&self) -> Option<&[u8]> {
        match &self.authority {
            Some(a) => Some(self.text(a).as_bytes()),
            None => self.header("host"),
        }
    }

    /// The value of the first field named `name` (compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The values of every field line named `name` (compared case-insensitively), in
    /// arrival order.
    pub fn header_lines<'r>(&'r self, name: &'r str) -> impl Iterator<Item = &'r [u8]> + 'r {
        self.headers()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every field line in arrival order, as (name, value).
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.fields
            .iter()
            .map(|(name, value)| (self.text(name), &self.values[value.clone()]))
    }

    /// The request content (empty when there is none, and when it streams: see
    /// [`Request::read_body`]).
    pub fn body(&self) -> &[u8] {
        self.body.as_slice()
    }

    /// Gives the content its reading end: it streams in while the handler runs.
    pub(crate) fn set_upload(&mut self, upload: Upload) {
        self.upload = Some(upload);
    }

    /// The reading end of content that streams in, if it does.
    pub fn upload(&self) -> Option<&Upload> {
        self.upload.as_ref()
    }

    /// Whether the content streams in while the handler runs (its route asked for it), to
    /// be read with [`Request::read_body`]; otherwise it is all in [`Request::body`].
    pub fn streams_body(&self) -> bool {
        self.upload.is_some()
    }

    /// Copies the next bytes of the content into `buf`; `Ok(0)` at its end. For content
    /// that streams in, it waits until some has arrived (the first call lets the client
    /// send it: `100 Continue`), and fails as [`ReadError`] says; call it from one thread
    /// at a time. For content in memory, it gives [`Request::body`] piece by piece, so a
    /// handler reads the same way on any route.
    pub fn read_body(&self, buf: &mut [u8]) -> Result<usize, ReadError> {
        if let Some(upload) = &self.upload {
            return upload.read(buf);
        }
        let body = self.body.as_slice();
        let at = self.read_at.load(Ordering::Relaxed).min(body.len());
        let n = buf.len().min(body.len() - at);
        buf[..n].copy_from_slice(&body[at..at + n]);
        self.read_at.store(at + n, Ordering::Relaxed);
        Ok(n)
    }

    /// The address of the client.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The TLS connection the request came over, or None for plain HTTP.
    pub fn tls(&self) -> Option<&TlsInfo> {
        self.tls.as_deref()
    }
}

impl Default for Request {
    fn default() -> Self {
        Request::new(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)), Body::new())
    }
}
