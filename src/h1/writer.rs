//! Serializes responses into a connection's output queue.

use super::output::Output;
use crate::http::date::DATE_LEN;
use crate::http::response::{Content, Response, Segment, Source};
use crate::http::status::{forbids_body, reason};
use crate::http::syntax::push_decimal;

/// An in-memory body at least this large is queued as it is, not copied.
const MOVE_BODY: usize = 64 * 1024;

/// How the response relates to its request and connection.
#[derive(Clone, Copy, Debug)]
pub struct Framing {
    /// The request was HEAD: send the fields GET would have, without the content.
    pub head_request: bool,
    /// The connection closes after this response.
    pub close: bool,
    /// The request was HTTP/1.0 with `Connection: keep-alive`, so the answer must say it too.
    pub announce_keep_alive: bool,
    /// The body is a stream that follows the head this way (see [`stream_framing`]).
    pub stream: Option<StreamFraming>,
}

/// How a streamed body follows its head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamFraming {
    /// In chunks (RFC 9112 §7.1), ended by the last chunk.
    Chunked,
    /// Exactly the Content-Length the handler declared; this many bytes are still to come.
    Length(u64),
    /// Until the connection closes: an HTTP/1.0 client cannot read chunks (RFC 9112 §6.3).
    Close,
}

/// How a streamed body of `declared` length (if any) goes to a client of HTTP/1.`minor`.
pub fn stream_framing(declared: Option<u64>, minor: u8) -> StreamFraming {
    match declared {
        Some(len) => StreamFraming::Length(len),
        None if minor >= 1 => StreamFraming::Chunked,
        None => StreamFraming::Close,
    }
}

/// The interim response that tells a waiting client to send its content.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Appends `res` to `out`: status line, server fields, the handler's fields, framing, then
/// the body (small bytes copied, a large buffer moved, a file queued for sendfile).
pub fn write_response(
    out: &mut Output,
    res: &mut Response,
    date: &[u8; DATE_LEN],
    framing: Framing,
) {
    let status = res.status();
    if status == 205 {
        // 205 Reset Content must not carry content (RFC 9110 §15.3.6).
        res.set_body(b"");
    }
    let has_content = !forbids_body(status);
    let buf = out.bytes_mut();
    buf.extend_from_slice(b"HTTP/1.1 ");
    push_decimal(buf, u64::from(status));
    buf.push(b' ');
    buf.extend_from_slice(reason(status).as_bytes());
    buf.extend_from_slice(b"\r\nServer: roost\r\nDate: ");
    buf.extend_from_slice(date);
    buf.extend_from_slice(b"\r\n");
    buf.extend_from_slice(res.header_bytes());
    if has_content {
        match framing.stream {
            None => {
                buf.extend_from_slice(b"Content-Length: ");
                push_decimal(buf, res.body_len());
                buf.extend_from_slice(b"\r\n");
            }
            Some(StreamFraming::Length(len)) => {
                buf.extend_from_slice(b"Content-Length: ");
                push_decimal(buf, len);
                buf.extend_from_slice(b"\r\n");
            }
            Some(StreamFraming::Chunked) => {
                buf.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
            }
            Some(StreamFraming::Close) => {}
        }
    }
    if framing.close {
        buf.extend_from_slice(b"Connection: close\r\n");
    } else if framing.announce_keep_alive {
        buf.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    buf.extend_from_slice(b"\r\n");
    if !has_content || framing.head_request || framing.stream.is_some() {
        return;
    }
    match res.content() {
        Content::Bytes(bytes) if bytes.len() >= MOVE_BODY => out.push_owned(res.take_body()),
        Content::Bytes(bytes) => out.bytes_mut().extend_from_slice(bytes),
        Content::Segments {
            bytes,
            source,
            segments,
        } => {
            for segment in segments {
                match (segment, source) {
                    (Segment::Bytes(range), _) => {
                        out.bytes_mut().extend_from_slice(&bytes[range.clone()])
                    }
                    (&Segment::Source { offset, len }, Source::File(file)) => {
                        out.push_file(file.clone(), offset, len)
                    }
                    (&Segment::Source { offset, len }, Source::Memory(memory)) => {
                        // Offsets were checked against the length when the ranges were.
                        let start = offset as usize;
                        out.bytes_mut()
                            .extend_from_slice(&memory[start..start + len as usize]);
                    }
                }
            }
        }
    }
}

/// Appends a piece of a streamed body framed as `framing` says (a body with no bytes left
/// to send takes none, and a chunk is never empty: that would end the body).
pub fn write_stream_piece(out: &mut Output, framing: &mut StreamFraming, mut bytes: Vec<u8>) {
    if let StreamFraming::Length(left) = framing {
        // The stream refuses writes past the declared length; this only keeps the promise.
        bytes.truncate(usize::try_from(*left).unwrap_or(usize::MAX));
        *left -= bytes.len() as u64;
    }
    if bytes.is_empty() {
        return;
    }
    if *framing == StreamFraming::Chunked {
        let buf = out.bytes_mut();
        push_hex(buf, bytes.len() as u64);
        buf.extend_from_slice(b"\r\n");
    }
    if bytes.len() >= MOVE_BODY {
        out.push_owned(bytes);
    } else {
        out.bytes_mut().extend_from_slice(&bytes);
    }
    if *framing == StreamFraming::Chunked {
        out.bytes_mut().extend_from_slice(b"\r\n");
    }
}

/// Appends the end of a streamed body. Returns whether the body is complete on the wire
/// (a close-delimited body, or one short of its length, is not: the connection must close).
pub fn write_stream_end(out: &mut Output, framing: StreamFraming) -> bool {
    match framing {
        StreamFraming::Chunked => {
            out.bytes_mut().extend_from_slice(b"0\r\n\r\n");
            true
        }
        StreamFraming::Length(left) => left == 0,
        StreamFraming::Close => false,
    }
}

fn push_hex(buf: &mut Vec<u8>, n: u64) {
    let digits = (64 - n.leading_zeros()).div_ceil(4).max(1);
    for i in (0..digits).rev() {
        buf.push(b"0123456789abcdef"[(n >> (i * 4) & 0xf) as usize]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(res: &mut Response, framing: Framing) -> String {
        let mut out = Output::new();
        write_response(&mut out, res, b"Thu, 01 Jan 1970 00:00:00 GMT", framing);
        let mut all = Vec::new();
        while let Some(super::super::output::Chunk::Bytes { bytes, .. }) = out.front() {
            all.extend_from_slice(bytes);
            let n = bytes.len();
            out.advance(n);
        }
        String::from_utf8(all).unwrap()
    }

    const KEEP: Framing = Framing {
        head_request: false,
        close: false,
        announce_keep_alive: false,
        stream: None,
    };

    #[test]
    fn streamed_bodies_are_chunked_or_sent_to_their_length() {
        let mut res = Response::new();
        let _stream = res.stream();
        let chunked = Framing {
            stream: Some(StreamFraming::Chunked),
            ..KEEP
        };
        let text = written(&mut res, chunked);
        assert!(
            text.ends_with("Transfer-Encoding: chunked\r\n\r\n"),
            "{text}"
        );
        let mut out = Output::new();
        let mut framing = StreamFraming::Chunked;
        write_stream_piece(&mut out, &mut framing, vec![b'x'; 26]);
        write_stream_piece(&mut out, &mut framing, Vec::new());
        assert!(write_stream_end(&mut out, framing));
        let mut length = StreamFraming::Length(3);
        write_stream_piece(&mut out, &mut length, b"abcd".to_vec());
        assert!(write_stream_end(&mut out, length));
        let mut all = Vec::new();
        while let Some(super::super::output::Chunk::Bytes { bytes, .. }) = out.front() {
            all.extend_from_slice(bytes);
            let n = bytes.len();
            out.advance(n);
        }
        assert_eq!(
            all,
            [&b"1a\r\n"[..], &[b'x'; 26], b"\r\n0\r\n\r\nabc"].concat()
        );
        assert!(!write_stream_end(&mut out, StreamFraming::Length(1)));
        assert_eq!(stream_framing(None, 0), StreamFraming::Close);
    }

    #[test]
    fn writes_status_fields_and_body() {
        let mut res = Response::new();
        res.add_header("Content-Type", b"text/plain").unwrap();
        res.set_body(b"hi");
        assert_eq!(
            written(&mut res, KEEP),
            "HTTP/1.1 200 OK\r\nServer: roost\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n\
             Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"
        );
    }

    #[test]
    fn head_keeps_length_drops_body_and_close_is_announced() {
        let mut res = Response::new();
        res.set_body(b"hello");
        let text = written(
            &mut res,
            Framing {
                head_request: true,
                close: true,
                announce_keep_alive: false,
                stream: None,
            },
        );
        assert!(
            text.ends_with("Content-Length: 5\r\nConnection: close\r\n\r\n"),
            "{text}"
        );
    }

    #[test]
    fn no_content_statuses_have_no_length() {
        let mut res = Response::new();
        res.set_status(204).unwrap();
        let text = written(&mut res, KEEP);
        assert!(!text.contains("Content-Length"), "{text}");
    }

    #[test]
    fn reset_content_has_empty_content() {
        let mut res = Response::new();
        res.set_status(205).unwrap();
        res.set_body(b"not allowed");
        let text = written(&mut res, KEEP);
        assert!(text.ends_with("Content-Length: 0\r\n\r\n"), "{text}");
    }
}
