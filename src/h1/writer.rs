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
        buf.extend_from_slice(b"Content-Length: ");
        push_decimal(buf, res.body_len());
        buf.extend_from_slice(b"\r\n");
    }
    if framing.close {
        buf.extend_from_slice(b"Connection: close\r\n");
    } else if framing.announce_keep_alive {
        buf.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    buf.extend_from_slice(b"\r\n");
    if !has_content || framing.head_request {
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
    };

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
