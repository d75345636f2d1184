//! The request as a handler sees it: a view into the connection's input buffer.

use std::net::SocketAddr;

use super::parse::Head;

/// One request, valid for the duration of the handler call. Nothing is copied: the method,
/// target and fields point into the input buffer, and the content is already de-chunked.
#[derive(Debug)]
pub struct Request<'a> {
    head: &'a Head<'a>,
    body: &'a [u8],
    peer: SocketAddr,
}

impl<'a> Request<'a> {
    /// A request from a parsed head and its content, from `peer`.
    pub fn new(head: &'a Head<'a>, body: &'a [u8], peer: SocketAddr) -> Request<'a> {
        Request { head, body, peer }
    }

    /// The method, case-sensitive as received (`GET`, `POST`, ...).
    pub fn method(&self) -> &'a str {
        self.head.method
    }

    /// Whether this is a HEAD request (the response will be sent without its content).
    pub fn is_head(&self) -> bool {
        self.head.method == "HEAD"
    }

    /// The request target exactly as received.
    pub fn raw_target(&self) -> &'a str {
        self.head.raw_target
    }

    /// The path, still percent-encoded; `*` for `OPTIONS *`. For an absolute-form target,
    /// only its path.
    pub fn path(&self) -> &'a str {
        self.head.target.path
    }

    /// The query after `?`, still percent-encoded.
    pub fn query(&self) -> Option<&'a str> {
        self.head.target.query
    }

    /// The minor HTTP version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub fn minor_version(&self) -> u8 {
        self.head.minor_version
    }

    /// The authority the request is for: from an absolute-form target if there is one
    /// (RFC 9112 §3.2.2), else the Host field.
    pub fn authority(&self) -> Option<&'a [u8]> {
        match self.head.target.authority {
            Some(a) => Some(a.as_bytes()),
            None => self.header("host"),
        }
    }

    /// The value of the first field named `name` (compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.head
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }

    /// The values of every field line named `name` (compared case-insensitively), in
    /// arrival order.
    pub fn header_lines(&self, name: &str) -> Vec<&'a [u8]> {
        self.head
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
            .collect()
    }

    /// Every field line in arrival order, as (name, value).
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        self.head.headers.iter().map(|h| (h.name, h.value))
    }

    /// The request content (empty when there is none).
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// The address of the client.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }
}
