//! The request head: httparse for the syntax, then the framing rules of RFC 9112 that decide
//! how the message ends and whether the connection survives it.

use std::mem::MaybeUninit;

use httparse::Header;

use super::target::{parse_target, Target};
use crate::http::request::Line;
use crate::http::syntax::{list_items, trim_ows};
use crate::http::uri::valid_authority;
use crate::http::{Limits, Request, Version};

/// How the request content is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No content.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// The chunked transfer coding.
    Chunked,
}

/// A parsed and validated request head, borrowing from the input buffer.
#[derive(Debug)]
pub struct Head<'a> {
    pub method: &'a str,
    /// The request target exactly as received.
    pub raw_target: &'a str,
    pub target: Target<'a>,
    /// The minor version of HTTP/1.x: 0 or 1.
    pub minor_version: u8,
    pub headers: &'a [Header<'a>],
    pub framing: Framing,
    /// Whether the client allows the connection to stay open after this exchange.
    pub keep_alive: bool,
    /// The client sent `Expect: 100-continue` and waits before sending content.
    pub expect_continue: bool,
}

/// What parsing a head gave.
#[derive(Debug)]
pub enum HeadResult<'a> {
    /// A whole, valid head of this many bytes.
    Complete(Head<'a>, usize),
    /// Not all of the head has arrived yet.
    Partial,
    /// The head is invalid and must be answered with `status`; the connection closes after.
    Reject(Reject),
    /// The version was HTTP/1.x with x > 1: a recipient must treat it as HTTP/1.1
    /// (RFC 9110 §6.2). The caller rewrites the digit at this offset to `1` and parses again.
    DowngradeMinor(usize),
}

/// An invalid head: its status, and whether it was a HEAD request (so the error has no body).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reject {
    pub status: u16,
    pub head_method: bool,
}

/// Room for header fields; `Limits::max_headers` picks how much of it a request may use.
pub type HeaderSlots<'a> = [MaybeUninit<Header<'a>>; Limits::HEADERS_CEILING];

/// Empty slots to parse into; `MaybeUninit` makes this free.
pub fn header_slots<'a>() -> HeaderSlots<'a> {
    [const { MaybeUninit::uninit() }; Limits::HEADERS_CEILING]
}

/// Parses the head at the start of `buf`.
pub fn parse_head<'a>(
    buf: &'a [u8],
    slots: &'a mut HeaderSlots<'a>,
    limits: &Limits,
) -> HeadResult<'a> {
    let mut req = httparse::Request::new(&mut []);
    let max_headers = limits.max_headers.clamp(1, Limits::HEADERS_CEILING);
    let reject = |status| {
        HeadResult::Reject(Reject {
            status,
            head_method: is_head_request(buf),
        })
    };
    match req.parse_with_uninit_headers(buf, &mut slots[..max_headers]) {
        Ok(httparse::Status::Complete(len)) => {
            if len > limits.max_head {
                return reject(431);
            }
            match validate(req, limits) {
                Ok(head) => HeadResult::Complete(head, len),
                Err(status) => reject(status),
            }
        }
        Ok(httparse::Status::Partial) => match partial_status(buf, limits) {
            Some(status) => reject(status),
            None => HeadResult::Partial,
        },
        Err(httparse::Error::TooManyHeaders) => reject(431),
        Err(httparse::Error::Version) => version_error(buf),
        Err(_) => reject(400),
    }
}

/// Makes `req` the request `head` describes: its parts are copied into the request.
pub fn fill_request(req: &mut Request, head: &Head<'_>) {
    req.fill_head(|text, values, fields| {
        let mut push = |part: &str| {
            let start = text.len();
            text.push_str(part);
            start..text.len()
        };
        let method = push(head.method);
        let target = push(head.raw_target);
        // The path and the query are parts of the target, except the `/` an absolute
        // target without a path stands for; the authority is that of the target.
        let within = |part: &str| {
            let at = (part.as_ptr() as usize).wrapping_sub(head.raw_target.as_ptr() as usize);
            (at <= head.raw_target.len() && part.len() <= head.raw_target.len() - at)
                .then(|| target.start + at..target.start + at + part.len())
        };
        let (path, query, authority) = (
            within(head.target.path),
            head.target.query.and_then(within),
            head.target.authority.and_then(within),
        );
        let path = path.unwrap_or_else(|| push(head.target.path));
        for h in head.headers {
            let name = push(h.name);
            let start = values.len();
            values.extend_from_slice(h.value);
            fields.push((name, start..values.len()));
        }
        Line {
            method,
            target,
            path,
            query,
            authority,
            version: if head.minor_version == 0 {
                Version::Http10
            } else {
                Version::Http11
            },
        }
    });
}

/// How many bytes of empty lines (CRLF, or a bare LF) precede the request line. RFC 9112
/// §2.2 has a server ignore at least one there; the session counts them against the head
/// limit. A CR not followed by LF is not an empty line: the request line starts there (and
/// is refused), or, at the very end, waits for its next byte.
pub fn empty_lines(buf: &[u8]) -> usize {
    let mut at = 0;
    loop {
        match &buf[at..] {
            [b'\n', ..] => at += 1,
            [b'\r', b'\n', ..] => at += 2,
            _ => return at,
        }
    }
}

/// Whether `buf` starts a HEAD request, whose responses never carry content, even when
/// they report an error in the rest of the request.
pub fn is_head_request(buf: &[u8]) -> bool {
    buf[empty_lines(buf)..].starts_with(b"HEAD ")
}

/// Limits that an incomplete head already exceeds: a request line longer than the URI
/// limit allows (414), or more bytes than the head limit (431).
fn partial_status(buf: &[u8], limits: &Limits) -> Option<u16> {
    let buf = &buf[empty_lines(buf)..];
    let line_end = buf.iter().position(|&b| b == b'\n');
    let line = &buf[..line_end.unwrap_or(buf.len())];
    let target_len = match line.iter().position(|&b| b == b' ') {
        Some(start) => {
            let rest = &line[start + 1..];
            match (line_end, rest.iter().rposition(|&b| b == b' ')) {
                (Some(_), Some(end)) => end,
                _ => rest.len(),
            }
        }
        None if line.len() > limits.max_uri => return Some(400),
        None => 0,
    };
    if target_len > limits.max_uri {
        Some(414)
    } else if buf.len() > limits.max_head {
        Some(431)
    } else {
        None
    }
}

/// httparse knows only HTTP/1.0 and HTTP/1.1. Another 1.x is read as 1.1; another major
/// version gets 505; anything else (a request line with more than three parts, say) is not
/// a valid request line at all (400).
fn version_error(buf: &[u8]) -> HeadResult<'_> {
    let skipped = empty_lines(buf);
    let rest = &buf[skipped..];
    let Some(line_end) = rest.iter().position(|&b| b == b'\n') else {
        // httparse judges the version before the line ends: wait for the whole of it, so
        // that the status does not depend on where the bytes were split.
        let start = rest.iter().rposition(|&b| b == b' ').map_or(0, |i| i + 1);
        return if is_version_prefix(&rest[start..]) {
            HeadResult::Partial
        } else {
            HeadResult::Reject(Reject {
                status: 400,
                head_method: is_head_request(buf),
            })
        };
    };
    let line = rest[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&rest[..line_end]);
    let three_parts = line.iter().filter(|&&b| b == b' ').count() == 2;
    let start = line.iter().rposition(|&b| b == b' ').map_or(0, |i| i + 1);
    let status = match &line[start..] {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if three_parts && major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            match major {
                b'1' if *minor > b'1' => return HeadResult::DowngradeMinor(skipped + start + 7),
                b'1' => 400,
                _ => 505,
            }
        }
        _ => 400,
    };
    HeadResult::Reject(Reject {
        status,
        head_method: is_head_request(buf),
    })
}

/// Whether `tail` could still become `HTTP/d.d` (or `HTTP/d.d\r`).
fn is_version_prefix(tail: &[u8]) -> bool {
    let pattern = b"HTTP/0.0\r";
    tail.len() <= pattern.len()
        && tail.iter().zip(pattern).all(|(&b, &p)| match p {
            b'0' => b.is_ascii_digit(),
            p => b == p,
        })
}

fn validate<'h, 'b>(req: httparse::Request<'h, 'b>, limits: &Limits) -> Result<Head<'b>, u16>
where
    'h: 'b,
{
    let method = req.method.ok_or(400u16)?;
    let raw_target = req.path.ok_or(400u16)?;
    let minor_version = req.version.ok_or(400u16)?;
    if raw_target.len() > limits.max_uri {
        return Err(414);
    }
    let target = parse_target(raw_target, method).ok_or(400u16)?;
    let headers: &'b [Header<'b>] = req.headers;

    let mut hosts = 0;
    let mut content_length: Option<u64> = None;
    let mut length_fields = 0;
    let mut codings = Codings::default();
    let mut close = false;
    let mut keep_alive_token = false;
    let mut expect_continue = false;
    let mut unknown_expectation = false;
    for h in headers {
        let name = h.name;
        if name.eq_ignore_ascii_case("host") {
            hosts += 1;
            if !valid_authority(h.value) {
                return Err(400);
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            length_fields += 1;
            content_length = Some(parse_content_length(h.value)?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            codings.add(h.value);
        } else if name.eq_ignore_ascii_case("connection") {
            for token in list_items(h.value) {
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    keep_alive_token = true;
                }
            }
        } else if name.eq_ignore_ascii_case("expect")
            && minor_version == 1
            && !trim_ows(h.value).is_empty()
        {
            // An HTTP/1.0 client cannot know about 100-continue; its expectation is ignored
            // (RFC 9110 §10.1.1), and so is an empty one, as nginx does.
            if h.value.eq_ignore_ascii_case(b"100-continue") {
                expect_continue = true;
            } else {
                unknown_expectation = true;
            }
        }
    }

    if hosts > 1 || (hosts == 0 && minor_version == 1) {
        return Err(400);
    }
    if length_fields > 1 {
        return Err(400);
    }
    if unknown_expectation {
        return Err(417);
    }
    let framing = match (codings.present, content_length) {
        (false, None | Some(0)) => Framing::Empty,
        (false, Some(n)) => Framing::Length(n),
        // Both framings at once is how requests are smuggled (RFC 9112 §6.1).
        (true, Some(_)) => return Err(400),
        // Transfer-Encoding did not exist in HTTP/1.0 (RFC 9112 §6.1).
        (true, None) if minor_version == 0 => return Err(400),
        (true, None) => {
            codings.chunked()?;
            Framing::Chunked
        }
    };
    let keep_alive = !close && (minor_version == 1 || keep_alive_token);
    Ok(Head {
        method,
        raw_target,
        target,
        minor_version,
        headers,
        framing,
        keep_alive,
        expect_continue,
    })
}

/// Content-Length is `1*DIGIT` (RFC 9110 §8.6): no sign, no hex, no list. A number too large
/// for u64 is a valid number past any limit.
fn parse_content_length(value: &[u8]) -> Result<u64, u16> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(400);
    }
    let mut n: u64 = 0;
    for &d in value {
        n = match n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
        {
            Some(n) => n,
            None => return Ok(u64::MAX),
        };
    }
    Ok(n)
}

/// The transfer codings of all Transfer-Encoding field lines, in order.
#[derive(Clone, Copy, Debug, Default)]
struct Codings {
    present: bool,
    chunked: u32,
    last_is_chunked: bool,
    /// `chunked` with parameters, which it does not define (RFC 9112 §7).
    chunked_with_parameters: bool,
    unknown: bool,
}

impl Codings {
    fn add(&mut self, value: &[u8]) {
        self.present = true;
        for item in list_items(value) {
            let mut parts = item.split(|&b| b == b';');
            let name = trim_ows(parts.next().unwrap_or(item));
            let is_chunked = name.eq_ignore_ascii_case(b"chunked");
            self.chunked += u32::from(is_chunked);
            self.chunked_with_parameters |= is_chunked && parts.next().is_some();
            self.unknown |= !is_chunked;
            self.last_is_chunked = is_chunked;
        }
    }

    /// Whether the content is chunked, or the status that refuses the request. Unless
    /// chunked is the final coding, applied once, the length cannot be known: 400
    /// (RFC 9112 §6.3). A coding other than chunked before it is not implemented: 501
    /// (RFC 9112 §6.1).
    fn chunked(&self) -> Result<bool, u16> {
        if !self.present {
            return Ok(false);
        }
        if self.chunked != 1 || !self.last_is_chunked || self.chunked_with_parameters {
            return Err(400);
        }
        if self.unknown {
            return Err(501);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Result<(Framing, bool, bool), u16> {
        let mut slots = header_slots();
        match parse_head(input.as_bytes(), &mut slots, &Limits::default()) {
            HeadResult::Complete(h, _) => Ok((h.framing, h.keep_alive, h.expect_continue)),
            HeadResult::Partial => Err(0),
            HeadResult::Reject(r) => Err(r.status),
            HeadResult::DowngradeMinor(_) => Err(1),
        }
    }

    #[test]
    fn framing_table() {
        use Framing::*;
        let ok: &[(&str, Framing, bool)] = &[
            ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", Empty, true),
            ("GET / HTTP/1.0\r\n\r\n", Empty, false),
            (
                "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                Empty,
                true,
            ),
            (
                "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                Empty,
                false,
            ),
            (
                "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, Close\r\n\r\n",
                Empty,
                false,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",
                Length(5),
                true,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
                Empty,
                true,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
                Chunked,
                true,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n",
                Chunked,
                true,
            ),
            ("GET http://x/y HTTP/1.1\r\nHost: a\r\n\r\n", Empty, true),
            ("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", Empty, true),
            ("GET / HTTP/1.1\r\nHost:\r\n\r\n", Empty, true),
        ];
        for (input, framing, keep_alive) in ok {
            assert_eq!(
                parse(input),
                Ok((*framing, *keep_alive, false)),
                "{input:?}"
            );
        }
        let bad: &[(&str, u16)] = &[
            ("GET / HTTP/1.1\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: five\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                400,
            ),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nExpect: bogus\r\n\r\n", 400),
            ("\r\nGET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                400,
            ),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400),
            ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n", 400),
            ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
            ("GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505),
            ("GET / FOO/1.1\r\nHost: a\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: a\r\nExpect: bogus\r\n\r\n", 417),
            ("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            ("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            ("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            ("GET /a b HTTP/1.2\r\nHost: a\r\n\r\n", 400),
        ];
        for (input, status) in bad {
            assert_eq!(parse(input), Err(*status), "{input:?}");
        }
        assert_eq!(parse("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), Err(1));
        // The version of a line still arriving waits for the line, whatever the split.
        for partial in [
            "GET / HTTP/2",
            "GET / HTTP/2.",
            "GET / HTTP/2.0",
            "GET / HTTP/2.0\r",
        ] {
            assert_eq!(parse(partial), Err(0), "{partial:?}");
        }
        assert_eq!(parse("GET / HTTX/2"), Err(400));
        // A bare CR before the request line is not an empty line.
        assert_eq!(parse("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n"), Err(400));
        assert_eq!(empty_lines(b"\r\n\nGET"), 3);
        assert_eq!(empty_lines(b"\r\n\r"), 2);
        assert_eq!(empty_lines(b"\rGET"), 0);
        assert_eq!(parse("\r\n\r\nGET / HTTP/1.2\r\nHost: a\r\n\r\n"), Err(1));
        assert!(is_head_request(b"\r\nHEAD / HTTP/1.1\r\n"));
    }

    #[test]
    fn expectations() {
        let got =
            parse("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n");
        assert_eq!(got, Ok((Framing::Length(3), true, true)));
        let got = parse("PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
        assert_eq!(got, Ok((Framing::Length(3), false, false)));
    }

    #[test]
    fn limits_on_partial_heads() {
        let limits = Limits {
            max_head: 64,
            max_uri: 16,
            ..Limits::default()
        };
        let status = |input: &[u8]| {
            let mut slots = header_slots();
            match parse_head(input, &mut slots, &limits) {
                HeadResult::Reject(r) => r.status,
                HeadResult::Partial => 0,
                _ => 1,
            }
        };
        assert_eq!(status(b"GET /0123456789abcdefghij"), 414);
        assert_eq!(status(b"GET /0123456789abcdefghij HTTP/1.1\r\n"), 414);
        assert_eq!(status(b"GET /short HTTP/1.1\r\nHost: a\r\n"), 0);
        assert_eq!(status(&[b'x'; 100]), 400);
        let mut long = b"GET / HTTP/1.1\r\nX: ".to_vec();
        long.extend_from_slice(&[b'a'; 80]);
        assert_eq!(status(&long), 431);
    }
}
