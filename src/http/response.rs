//! The response a handler fills in.

use std::fmt;
use std::fs::File;

use super::status::reason;

/// A response under construction. The server adds `Date`, `Server`, `Content-Length` and
/// `Connection` itself; a handler sets the status, its own fields, and a body from memory or
/// from a file. One value is reused for every request on a worker, so its buffers keep
/// their capacity.
#[derive(Debug)]
pub struct Response {
    status: u16,
    /// Field lines, each `name: value\r\n`, already validated.
    headers: Vec<u8>,
    body: Vec<u8>,
    file: Option<FileBody>,
    close: bool,
}

/// A body sent from a file with sendfile(2).
#[derive(Debug)]
pub struct FileBody {
    pub file: File,
    pub offset: u64,
    pub len: u64,
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

/// Fields the server owns: a handler setting them would break framing or duplicate them.
const RESERVED: &[&str] = &[
    "content-length",
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
            file: None,
            close: false,
        }
    }

    /// Back to an empty 200, keeping the buffers' capacity.
    pub(crate) fn reset(&mut self) {
        self.status = 200;
        self.headers.clear();
        self.body.clear();
        self.file = None;
        self.close = false;
    }

    pub fn status(&self) -> u16 {
        self.status
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
    /// field-value, so nothing a handler passes can split or corrupt the response.
    pub fn add_header(&mut self, name: &str, value: &[u8]) -> Result<(), ResponseError> {
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(ResponseError::InvalidHeaderName);
        }
        if !value
            .iter()
            .all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
        {
            return Err(ResponseError::InvalidHeaderValue);
        }
        if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            return Err(ResponseError::ReservedHeader);
        }
        self.push_header(name, &[value]);
        Ok(())
    }

    /// Adds a field the library built itself from valid parts, skipping the checks.
    pub(crate) fn push_header(&mut self, name: &str, value_parts: &[&[u8]]) {
        self.headers.extend_from_slice(name.as_bytes());
        self.headers.extend_from_slice(b": ");
        for part in value_parts {
            self.headers.extend_from_slice(part);
        }
        self.headers.extend_from_slice(b"\r\n");
    }

    /// Whether a field named `name` (case-insensitive) was added.
    pub fn has_header(&self, name: &str) -> bool {
        self.headers.split(|&b| b == b'\n').any(|line| {
            line.len() > name.len()
                && line[name.len()] == b':'
                && line[..name.len()].eq_ignore_ascii_case(name.as_bytes())
        })
    }

    /// The field lines added so far, serialized.
    pub(crate) fn header_bytes(&self) -> &[u8] {
        &self.headers
    }

    /// Replaces the body with a copy of `bytes`.
    pub fn set_body(&mut self, bytes: &[u8]) {
        self.file = None;
        self.body.clear();
        self.body.extend_from_slice(bytes);
    }

    /// The body buffer, to write into directly.
    pub fn body_mut(&mut self) -> &mut Vec<u8> {
        self.file = None;
        &mut self.body
    }

    /// Sends `len` bytes of `file` from `offset` as the body.
    pub fn set_file(&mut self, file: File, offset: u64, len: u64) {
        self.body.clear();
        self.file = Some(FileBody { file, offset, len });
    }

    /// Length of the body, whichever kind it is.
    pub fn body_len(&self) -> u64 {
        match &self.file {
            Some(f) => f.len,
            None => self.body.len() as u64,
        }
    }

    pub(crate) fn body(&self) -> &[u8] {
        &self.body
    }

    pub(crate) fn take_file(&mut self) -> Option<FileBody> {
        self.file.take()
    }

    /// Asks the server to close the connection after this response.
    pub fn close_connection(&mut self) {
        self.close = true;
    }

    pub fn closes_connection(&self) -> bool {
        self.close
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

impl Default for Response {
    fn default() -> Self {
        Response::new()
    }
}

/// tchar (RFC 9110 §5.6.2).
pub fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
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
            r.add_header("Content-Length", b"5"),
            Err(ResponseError::ReservedHeader)
        );
        assert_eq!(r.header_bytes(), b"X-Ok: fine value\twith tab\r\n");
        assert_eq!(r.set_status(100), Err(ResponseError::InvalidStatus));
        assert_eq!(r.set_status(600), Err(ResponseError::InvalidStatus));
    }

    #[test]
    fn error_body() {
        let mut r = Response::new();
        r.set_error(404);
        assert_eq!(r.status(), 404);
        assert_eq!(r.body(), b"404 Not Found\n");
    }
}
