//! The chunked transfer coding (RFC 9112 §7.1), decoded as it arrives.
//!
//! The decoder reads framing byte by byte and copies chunk data into the request's body,
//! so raw framing never piles up in memory and a body grows only with its content.
//!
//! Framing is strict: every line ends in CRLF, sizes are hex digits only, chunk extensions
//! follow their grammar (`;name[=token|"quoted"]`), trailer lines are `name: value`, and
//! each line is capped in length.

use crate::http::body::{Body, Refused};
use crate::http::syntax::{hex_digit, is_field_value_byte, is_token_byte};

/// The longest chunk-size line or trailer line accepted (RFC 9112 §7.1.1: a server ought
/// to limit chunk extensions).
pub const MAX_LINE: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Hex digits of a chunk size; `any` once at least one was seen.
    Size {
        any: bool,
    },
    /// Whitespace after the size or an extension, before `;` or CR.
    ExtGap,
    /// After `;`: whitespace, then the extension name.
    ExtNameStart,
    ExtName,
    /// After a name: whitespace, then `=`, `;` or CR.
    ExtAfterName,
    /// After `=`: whitespace, then a token or a quoted string.
    ExtValueStart,
    ExtToken,
    ExtQuoted,
    ExtQuotedEscape,
    /// Expecting the LF that ends the size line.
    SizeLf,
    /// Inside chunk data, this many bytes left.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataCr,
    DataLf,
    /// At the start of a trailer line (or the final CRLF).
    TrailerStart,
    TrailerName,
    TrailerValue,
    /// Expecting the LF that ends a trailer line.
    TrailerLf,
    /// Expecting the LF of the final empty line.
    FinalLf,
    Done,
}

/// Progress of one call to [`ChunkedDecoder::decode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// The whole body is decoded.
    Done,
    /// More input is needed.
    NeedMore,
    /// The body could not grow: call again with the rest of the input once it can.
    Stalled(Refused),
}

/// Decodes a chunked body; see the module docs.
#[derive(Clone, Debug)]
pub struct ChunkedDecoder {
    state: State,
    size: u64,
    /// Content bytes so far.
    decoded: u64,
    /// Bytes of the current framing line.
    line: usize,
    /// Bytes of trailer fields so far.
    trailer: usize,
}

impl ChunkedDecoder {
    pub fn new() -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size { any: false },
            size: 0,
            decoded: 0,
            line: 0,
            trailer: 0,
        }
    }

    /// Decodes from `input`, appending content to `body`, and returns how many bytes of
    /// `input` it used, with the progress or a status: 413 when the content passes
    /// `max_body`, 431 when the trailers pass `max_trailer`, 400 for anything malformed or
    /// a framing line longer than [`MAX_LINE`]. After `Done`, the next request starts at
    /// the returned offset.
    pub fn decode(
        &mut self,
        input: &[u8],
        body: &mut Body,
        max_body: u64,
        max_trailer: usize,
    ) -> (usize, Result<Decoded, u16>) {
        let mut at = 0;
        while at < input.len() {
            if let State::Data(left) = self.state {
                let available = input.len() - at;
                let take = usize::try_from(left).map_or(available, |l| l.min(available));
                if let Err(refused) = body.try_extend(&input[at..at + take]) {
                    return (at, Ok(Decoded::Stalled(refused)));
                }
                at += take;
                self.decoded += take as u64;
                let left = left - take as u64;
                self.state = if left == 0 {
                    State::DataCr
                } else {
                    State::Data(left)
                };
                continue;
            }
            let byte = input[at];
            at += 1;
            self.line += 1;
            if self.line > MAX_LINE {
                return (at, Err(400));
            }
            match self.step(byte, max_body, max_trailer) {
                Ok(State::Done) => {
                    self.state = State::Done;
                    return (at, Ok(Decoded::Done));
                }
                Ok(state) => self.state = state,
                Err(status) => return (at, Err(status)),
            }
        }
        let progress = if self.state == State::Done {
            Decoded::Done
        } else {
            Decoded::NeedMore
        };
        (at, Ok(progress))
    }

    fn step(&mut self, byte: u8, max_body: u64, max_trailer: usize) -> Result<State, u16> {
        use State::*;
        let next = match (self.state, byte) {
            (Size { .. }, b) if b.is_ascii_hexdigit() => {
                if self.size > u64::MAX >> 4 {
                    return Err(413);
                }
                self.size = self.size << 4 | u64::from(hex_digit(b).unwrap_or(0));
                if self
                    .decoded
                    .checked_add(self.size)
                    .is_none_or(|total| total > max_body)
                {
                    return Err(413);
                }
                Size { any: true }
            }
            (Size { any: false }, _) => return Err(400),
            (Size { any: true } | ExtGap, b' ' | b'\t') => ExtGap,
            (Size { any: true } | ExtGap, b';') => ExtNameStart,
            (Size { any: true } | ExtGap, b'\r') => SizeLf,
            (ExtNameStart, b' ' | b'\t') => ExtNameStart,
            (ExtNameStart | ExtName, b) if is_token_byte(b) => ExtName,
            (ExtName | ExtAfterName, b' ' | b'\t') => ExtAfterName,
            (ExtName | ExtAfterName, b'=') => ExtValueStart,
            (ExtName | ExtAfterName, b';') => ExtNameStart,
            (ExtName | ExtAfterName, b'\r') => SizeLf,
            (ExtValueStart, b' ' | b'\t') => ExtValueStart,
            (ExtValueStart, b'"') => ExtQuoted,
            (ExtValueStart | ExtToken, b) if is_token_byte(b) => ExtToken,
            (ExtToken, b' ' | b'\t') => ExtGap,
            (ExtToken, b';') => ExtNameStart,
            (ExtToken, b'\r') => SizeLf,
            (ExtQuoted, b'"') => ExtGap,
            (ExtQuoted, b'\\') => ExtQuotedEscape,
            (ExtQuoted | ExtQuotedEscape, b) if is_field_value_byte(b) => ExtQuoted,
            (SizeLf, b'\n') => {
                self.line = 0;
                match std::mem::take(&mut self.size) {
                    0 => TrailerStart,
                    size => Data(size),
                }
            }
            (DataCr, b'\r') => DataLf,
            (DataLf, b'\n') => {
                self.line = 0;
                Size { any: false }
            }
            (TrailerStart, b'\r') => FinalLf,
            (TrailerStart | TrailerName, b) if is_token_byte(b) => {
                self.count_trailer(max_trailer)?;
                TrailerName
            }
            (TrailerName, b':') => TrailerValue,
            (TrailerValue, b'\r') => TrailerLf,
            (TrailerValue, b) if is_field_value_byte(b) => {
                self.count_trailer(max_trailer)?;
                TrailerValue
            }
            (TrailerLf, b'\n') => {
                self.line = 0;
                TrailerStart
            }
            (FinalLf, b'\n') => Done,
            _ => return Err(400),
        };
        Ok(next)
    }

    /// Trailer fields are consumed, not kept, but counted against the limit.
    fn count_trailer(&mut self, max_trailer: usize) -> Result<(), u16> {
        self.trailer += 1;
        if self.trailer > max_trailer {
            return Err(431);
        }
        Ok(())
    }
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8]) -> Result<(Vec<u8>, usize), u16> {
        let mut body = Body::new();
        let mut d = ChunkedDecoder::new();
        match d.decode(input, &mut body, 1 << 20, 1024) {
            (used, Ok(Decoded::Done)) => Ok((body.as_slice().to_vec(), used)),
            (_, Ok(_)) => Err(0),
            (_, Err(status)) => Err(status),
        }
    }

    #[test]
    fn decodes_table() {
        let ok: &[(&[u8], &[u8])] = &[
            (b"0\r\n\r\n", b""),
            (b"5\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world"),
            (b"A\r\n0123456789\r\n0\r\n\r\n", b"0123456789"),
            (b"5;name=value\r\nhello\r\n0;x\r\n\r\n", b"hello"),
            (b"5 ; q=\"a;b\\\"c\" ; t\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5;a = b\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5\r\nhello\r\n0\r\nX-Trailer: 1\r\nY:2\r\n\r\n", b"hello"),
            (b"0005\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"000000000000000000000005\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5\r\nhello\r\n0\r\nX: caf\xc3\xa9\r\n\r\n", b"hello"),
        ];
        for (input, want) in ok {
            let (body, consumed) = decode_all(input).unwrap();
            assert_eq!(&body, want, "{input:?}");
            assert_eq!(consumed, input.len());
        }
        let long_ext = [&b"5;"[..], &[b'a'; MAX_LINE][..], b"\r\n"].concat();
        let bad: &[(&[u8], u16)] = &[
            (b"x\r\n", 400),
            (b"\r\n", 400),
            (b"-5\r\nhello\r\n", 400),
            (b"0x5\r\nhello\r\n", 400),
            (b"5 garbage\r\nhello\r\n", 400),
            (b"5;\r\nhello\r\n", 400),
            (b"5;=v\r\nhello\r\n", 400),
            (b"5;a=\r\nhello\r\n", 400),
            (b"5;a=\"open\r\nhello\r\n", 400),
            (b"5;a b\r\nhello\r\n", 400),
            (b"5\nhello\r\n0\r\n\r\n", 400),
            (b"5\r\nhelloXX0\r\n\r\n", 400),
            (b"5\r\nhello\n0\r\n\r\n", 400),
            (b"5;a\0b\r\nhello\r\n", 400),
            (b"0\r\nX: a\0\r\n\r\n", 400),
            (b"0\r\nX: 1\n\r\n", 400),
            (b"0\r\nnocolon\r\n\r\n", 400),
            (b"0\r\n: empty name\r\n\r\n", 400),
            (b"0\r\nBad Name: v\r\n\r\n", 400),
            (&long_ext, 400),
            (b"FFFFFFFFFFFFFFFFF\r\n", 413),
            (b"100001\r\n", 413),
            (b"1\r\na\r\nFFFFFFFFFFFFFFFF\r\n", 413),
        ];
        for (input, status) in bad {
            assert_eq!(
                decode_all(input),
                Err(*status),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn decodes_byte_by_byte_and_stops_at_the_end() {
        let input = b"3\r\nabc\r\n4;e=1\r\ndefg\r\n0\r\nT: v\r\n\r\nNEXT";
        let mut body = Body::new();
        let mut d = ChunkedDecoder::new();
        let mut at = 0;
        let mut done = false;
        while at < input.len() {
            let (used, progress) = d.decode(&input[at..at + 1], &mut body, 100, 100);
            at += used;
            if progress.unwrap() == Decoded::Done {
                done = true;
                break;
            }
        }
        assert!(done);
        assert_eq!(body.as_slice(), b"abcdefg");
        assert_eq!(&input[at..], b"NEXT");
    }

    #[test]
    fn a_refused_chunk_is_taken_again() {
        let budget = crate::http::body::BodyBudget::new(32);
        let mut other = Body::charged_to(Some(budget.clone()));
        other.try_extend(&[0; 24]).unwrap();
        let mut body = Body::charged_to(Some(budget));
        let mut d = ChunkedDecoder::new();
        let input = b"10\r\n0123456789abcdef\r\n0\r\n\r\n";
        let (used, progress) = d.decode(input, &mut body, 100, 100);
        assert_eq!(progress, Ok(Decoded::Stalled(Refused::Budget)));
        assert_eq!(used, 4, "the framing before the data is used");
        assert!(body.is_empty());
        let mut roomy = Body::new();
        let (rest, progress) = d.decode(&input[used..], &mut roomy, 100, 100);
        assert_eq!(progress, Ok(Decoded::Done));
        assert_eq!(used + rest, input.len());
        assert_eq!(roomy.as_slice(), b"0123456789abcdef");
    }
}
