//! The response a handler fills in.

use std::fmt;
use std::fs::File;
use std::ops::Range;
use std::sync::Arc;

use super::conditional::Validators;
use super::later::Deferral;
use super::status::reason;
use super::stream::{Stream, Tap};
use super::syntax::{is_field_value, is_token};

/// A response under construction. The server adds `Date`, `Server`, `Content-Length` and
/// `Connection` itself; a handler sets the status, its own fields, and a body from memory or
/// from a file. One value is reused for the requests a worker answers itself, so its
/// buffers keep their capacity (up to a bound).
#[derive(Debug)]
pub struct Response {
    status: u16,
    /// Field lines, each `name: value\r\n`, already validated.
    headers: Vec<u8>,
    /// The content when there is no source; with one, the bytes that `segments` refer to.
    body: Vec<u8>,
    source: Option<Source>,
    /// With a source: the content as runs of `body` bytes and regions of the source, in
    /// order.
    segments: Vec<Segment>,
    /// The validators of a representation sent from a file, for conditional requests and
    /// ranges (RFC 9110 §13, §14).
    validators: Option<Validators>,
    /// Set by a handler that answers later (see `http::later`).
    deferral: Deferred,
    /// The connection's end of a body produced over time (see `http::stream`).
    stream: Option<Tap>,
    /// A Content-Length the handler added: the length of a streamed body.
    declared_length: Option<u64>,
    /// The connection is to close after this response.
    close: bool,
}

/// A handler's [`Deferral`], if it left one.
#[derive(Default)]
struct Deferred(Option<Box<dyn Deferral>>);

impl fmt::Debug for Deferred {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Deferred" } else { "-" })
    }
}

/// Content a response shares with others rather than owns: an open file (sent with
/// sendfile), or the bytes of a small file the file server holds in memory. Ranges and
/// multipart responses select regions of it.
#[derive(Clone, Debug)]
pub enum Source {
    File(Arc<File>),
    Memory(Arc<[u8]>),
}

/// A piece of a response's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Bytes of the response's byte buffer.
    Bytes(Range<usize>),
    /// A region of the response's source.
    Source { offset: u64, len: u64 },
}

/// A response's content, for the writer.
#[derive(Debug)]
pub enum Content<'a> {
    Bytes(&'a [u8]),
    Segments {
        bytes: &'a [u8],
        source: &'a Source,
        segments: &'a [Segment],
    },
}

/// What a handler got wrong while building a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseError {
    /// A status outside 200..=599 (interim 1xx responses are the server's business).
    InvalidStatus,
    /// A field name that is not a token (RFC 9110 §5.1).
    InvalidHeaderName,
    /// A field value with CR, LF, NUL or another control byte (RFC 9110 §5.5).
    InvalidHeaderValue,
    /// A field that the server writes itself (framing, connection, date, server).
    ReservedHeader,
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResponseError::InvalidStatus => "status must be a final status (200-599)",
            ResponseError::InvalidHeaderName => "header name is not a valid token",
            ResponseError::InvalidHeaderValue => "header value holds a control character",
            ResponseError::ReservedHeader => "header is set by the server",
        })
    }
}

impl std::error::Error for ResponseError {}

/// Whether a response carries `name` once (RFC 9110 §5.3: it is not a list): adding one
/// again replaces the value added before, so a handler cannot send two Content-Types.
fn is_singleton(name: &str) -> bool {
    let candidates: &[&str] = match name.len() {
        3 => &["age"],
        4 => &["etag"],
        7 => &["expires"],
        8 => &["location"],
        11 => &["retry-after"],
        12 => &["content-type"],
        13 => &["content-range", "last-modified"],
        16 => &["content-location"],
        _ => return false,
    };
    candidates.iter().any(|c| c.eq_ignore_ascii_case(name))
}

/// Fields the server owns: a handler setting them would break framing or duplicate them.
/// (Content-Length is taken as the length of a streamed body, and written by the server.)
const RESERVED: &[&str] = &[
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "date",
    "server",
];

impl Response {
    pub fn new() -> Response {
        Response {
            status: 200,
            headers: Vec::new(),
            body: Vec::new(),
            source: None,
            segments: Vec::new(),
            validators: None,
            deferral: Deferred(None),
            stream: None,
            declared_length: None,
            close: false,
        }
    }

    /// Answers later: once the handler has returned, `deferral` receives the exchange (a
    /// [`crate::http::later::Later`]) and finishes it with a response of its own, from any
    /// thread. What this response holds is not sent.
    pub fn defer(&mut self, deferral: Box<dyn Deferral>) {
        self.deferral = Deferred(Some(deferral));
    }

    pub fn is_deferred(&self) -> bool {
        self.deferral.0.is_some()
    }

    /// The deferral a handler left, for the server to hand the exchange to.
    pub(crate) fn take_deferral(&mut self) -> Option<Box<dyn Deferral>> {
        self.deferral.0.take()
    }

    /// Back to an empty 200, keeping the buffers' capacity unless it is large.
    pub(crate) fn reset(&mut self) {
        self.status = 200;
        self.deferral = Deferred(None);
        self.declared_length = None;
        self.close = false;
        self.headers.clear();
        self.clear_content();
        if self.body.capacity() > KEEP_CAPACITY {
            crate::sys::memory::freed(self.body.capacity());
            self.body = Vec::new();
        }
        if self.headers.capacity() > KEEP_CAPACITY {
            self.headers = Vec::new();
        }
    }

    fn clear_content(&mut self) {
        self.stream = None;
        self.body.clear();
        self.source = None;
        self.segments.clear();
        self.validators = None;
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    /// Closes the connection after this response (it says `Connection: close`): for an
    /// answer after which nothing more from this client should be read.
    pub fn close_connection(&mut self) {
        self.close = true;
    }

    /// Whether [`Response::close_connection`] was asked for.
    pub fn closes_connection(&self) -> bool {
        self.close
    }

    /// Sets the status; it must be a final status, 200 to 599.
    pub fn set_status(&mut self, status: u16) -> Result<(), ResponseError> {
        if !(200..=599).contains(&status) {
            return Err(ResponseError::InvalidStatus);
        }
        self.status = status;
        Ok(())
    }

    /// Adds a field line. Names are checked against the token grammar and values against
    /// field-value, so nothing a handler passes can split or corrupt the response. A field
    /// that is not a list (Content-Type, Location, ETag, ...) replaces its earlier value.
    pub fn add_header(&mut self, name: &str, value: &[u8]) -> Result<(), ResponseError> {
        if !is_token(name.as_bytes()) {
            return Err(ResponseError::InvalidHeaderName);
        }
        if !is_field_value(value) {
            return Err(ResponseError::InvalidHeaderValue);
        }
        if name.eq_ignore_ascii_case("content-length") {
            let length = std::str::from_utf8(value)
                .ok()
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse().ok())
                .ok_or(ResponseError::InvalidHeaderValue)?;
            self.declared_length = Some(length);
            return Ok(());
        }
        if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            return Err(ResponseError::ReservedHeader);
        }
        if is_singleton(name) && self.has_header(name) {
            self.retain_headers(|n| !n.eq_ignore_ascii_case(name.as_bytes()));
        }
        self.push_header(name, &[value]);
        Ok(())
    }

    /// Adds a field the library built itself from valid parts, skipping the checks.
    pub(crate) fn push_header(&mut self, name: &str, value_parts: &[&[u8]]) {
        push_field(&mut self.headers, name, value_parts);
    }

    /// Adds field lines the library serialized itself with [`push_field`].
    pub(crate) fn push_fields(&mut self, lines: &[u8]) {
        self.headers.extend_from_slice(lines);
    }

    /// The serialized field lines, for library code that appends to them with
    /// [`push_field`].
    pub(crate) fn fields_mut(&mut self) -> &mut Vec<u8> {
        &mut self.headers
    }

    /// The value of the first field named `name` (case-insensitive) that was added.
    pub fn header_value(&self, name: &str) -> Option<&[u8]> {
        self.header_lines()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// Whether a field named `name` (case-insensitive) was added.
    pub fn has_header(&self, name: &str) -> bool {
        self.header_value(name).is_some()
    }

    /// The field lines added so far, as (name, value).
    fn header_lines(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.headers
            .split(|&b| b == b'\n')
            .filter(|line| !line.is_empty())
            .filter_map(|line| {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let colon = line.iter().position(|&b| b == b':')?;
                Some((&line[..colon], &line[colon + 2..]))
            })
    }

    /// Keeps only the fields `keep` says yes to.
    pub(crate) fn retain_headers(&mut self, keep: impl Fn(&[u8]) -> bool) {
        let mut kept = Vec::with_capacity(self.headers.len());
        for (name, value) in self.header_lines() {
            if keep(name) {
                kept.extend_from_slice(name);
                kept.extend_from_slice(b": ");
                kept.extend_from_slice(value);
                kept.extend_from_slice(b"\r\n");
            }
        }
        self.headers = kept;
    }

    /// The field lines added so far, serialized.
    pub(crate) fn header_bytes(&self) -> &[u8] {
        &self.headers
    }

    /// Makes the body a stream, produced over time: the head leaves as soon as the response
    /// is sent, and the body follows through the returned [`Stream`], from any thread, until
    /// [`Stream::finish`]. With a Content-Length added before, the body is exactly that
    /// long (the stream refuses more; a shorter one ends with the connection closing);
    /// without one, it is chunked (close-delimited for an HTTP/1.0 client). Whatever body
    /// was set before is dropped, and the rules for conditional requests and ranges do not
    /// apply: the response is sent as it is.
    pub fn stream(&mut self) -> Stream {
        self.clear_content();
        let (stream, tap) = Stream::new(self.declared_length);
        self.stream = Some(tap);
        stream
    }

    /// Whether the body is a stream (see [`Response::stream`]).
    pub fn is_streamed(&self) -> bool {
        self.stream.is_some()
    }

    /// The connection's end of a streamed body, for the writer.
    pub(crate) fn take_tap(&mut self) -> Option<Tap> {
        self.stream.take()
    }

    /// Replaces the body with a copy of `bytes`.
    pub fn set_body(&mut self, bytes: &[u8]) {
        self.clear_content();
        self.body.extend_from_slice(bytes);
    }

    /// Sends `len` bytes of `file` from `offset` as the body.
    pub fn set_file(&mut self, file: File, offset: u64, len: u64) {
        self.set_source(Source::File(Arc::new(file)), offset, len);
    }

    /// Sends `len` bytes of a source from `offset` as the body.
    pub(crate) fn set_source(&mut self, source: Source, offset: u64, len: u64) {
        self.clear_content();
        self.source = Some(source);
        self.segments.push(Segment::Source { offset, len });
    }

    /// Length of the content, whatever it is made of.
    pub fn body_len(&self) -> u64 {
        match self.source {
            None => self.body.len() as u64,
            Some(_) => self
                .segments
                .iter()
                .map(|s| match s {
                    Segment::Bytes(r) => r.len() as u64,
                    Segment::Source { len, .. } => *len,
                })
                .sum(),
        }
    }

    /// The content, for the writer.
    pub(crate) fn content(&self) -> Content<'_> {
        match &self.source {
            None => Content::Bytes(&self.body),
            Some(source) => Content::Segments {
                bytes: &self.body,
                source,
                segments: &self.segments,
            },
        }
    }

    /// Takes the body bytes of a response without a source, leaving it empty: a writer
    /// queues a large body this way instead of copying it.
    pub(crate) fn take_body(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.body)
    }

    /// Marks the content as a representation with these validators: conditional requests
    /// and ranges are then answered from it.
    pub(crate) fn set_validators(&mut self, validators: Validators) {
        self.validators = Some(validators);
    }

    pub(crate) fn validators(&self) -> Option<&Validators> {
        self.validators.as_ref()
    }

    /// Turns the content into `parts` of the current source content (which must be one
    /// region), each as a region of the source: a single range, or several with separators
    /// appended to the byte buffer between them (multipart/byteranges).
    ///
    /// `pieces` alternates: for each range, the bytes to send before it, then the range;
    /// `tail` is sent after the last one.
    pub(crate) fn select_ranges(&mut self, pieces: &[(Vec<u8>, u64, u64)], tail: &[u8]) {
        let Some(Segment::Source { offset: base, .. }) = self.segments.first().cloned() else {
            return;
        };
        self.segments.clear();
        self.body.clear();
        for (before, start, len) in pieces {
            self.push_bytes(before);
            self.segments.push(Segment::Source {
                offset: base + start,
                len: *len,
            });
        }
        self.push_bytes(tail);
    }

    fn push_bytes(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() {
            let start = self.body.len();
            self.body.extend_from_slice(bytes);
            self.segments.push(Segment::Bytes(start..self.body.len()));
        }
    }

    /// Makes this a 304 Not Modified (RFC 9110 §15.4.5): no content, and of the fields
    /// only those a cache updates its stored response with.
    pub(crate) fn set_not_modified(&mut self) {
        const KEEP: &[&str] = &[
            "etag",
            "last-modified",
            "cache-control",
            "vary",
            "expires",
            "content-location",
        ];
        self.status = 304;
        self.clear_content();
        self.retain_headers(|name| KEEP.iter().any(|k| k.as_bytes().eq_ignore_ascii_case(name)));
    }

    /// Makes this a short plain-text error: `404 Not Found\n`, say.
    pub fn set_error(&mut self, status: u16) {
        self.reset();
        self.status = status;
        self.push_header("Content-Type", &[b"text/plain; charset=utf-8"]);
        let mut code = [0u8; 3];
        code[0] = b'0' + (status / 100 % 10) as u8;
        code[1] = b'0' + (status / 10 % 10) as u8;
        code[2] = b'0' + (status % 10) as u8;
        self.body.extend_from_slice(&code);
        self.body.push(b' ');
        self.body.extend_from_slice(reason(status).as_bytes());
        self.body.push(b'\n');
    }
}

/// Buffers larger than this are not kept when a response is reused.
const KEEP_CAPACITY: usize = 64 * 1024;

impl Default for Response {
    fn default() -> Self {
        Response::new()
    }
}

/// Serializes a field line, `name: value\r\n`, from valid parts.
pub(crate) fn push_field(buf: &mut Vec<u8>, name: &str, value_parts: &[&[u8]]) {
    buf.extend_from_slice(name.as_bytes());
    buf.extend_from_slice(b": ");
    for part in value_parts {
        buf.extend_from_slice(part);
    }
    buf.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_validation() {
        let mut r = Response::new();
        assert_eq!(r.add_header("X-Ok", b"fine value\twith tab"), Ok(()));
        assert_eq!(
            r.add_header("Bad Name", b"v"),
            Err(ResponseError::InvalidHeaderName)
        );
        assert_eq!(
            r.add_header("", b"v"),
            Err(ResponseError::InvalidHeaderName)
        );
        assert_eq!(
            r.add_header("X", b"a\r\nInjected: 1"),
            Err(ResponseError::InvalidHeaderValue)
        );
        assert_eq!(
            r.add_header("X", b"a\0"),
            Err(ResponseError::InvalidHeaderValue)
        );
        assert_eq!(
            r.add_header("Transfer-Encoding", b"chunked"),
            Err(ResponseError::ReservedHeader)
        );
        assert_eq!(
            r.add_header("Content-Length", b"5x"),
            Err(ResponseError::InvalidHeaderValue)
        );
        assert_eq!(r.add_header("Content-Length", b"5"), Ok(()));
        assert_eq!(r.header_bytes(), b"X-Ok: fine value\twith tab\r\n");
        assert_eq!(r.set_status(100), Err(ResponseError::InvalidStatus));
        assert_eq!(r.set_status(600), Err(ResponseError::InvalidStatus));
    }

    #[test]
    fn error_body() {
        let mut r = Response::new();
        r.set_error(404);
        assert_eq!(r.status(), 404);
        assert!(matches!(r.content(), Content::Bytes(b"404 Not Found\n")));
    }
}
