//! The chunked transfer coding (RFC 9112 §7.1), decoded in place.
//!
//! The decoder works on the region of the input buffer that starts where the content starts.
//! Chunk data is moved down over the chunk framing, so when the last chunk arrives the whole
//! decoded content sits contiguously right after the head and the request can be handed to a
//! handler without another copy. After each call the caller cuts the framing already
//! consumed out of the buffer ([`ChunkedDecoder::framing`]), so raw framing never piles up.
//!
//! Framing is strict: every line ends in CRLF, sizes are hex digits only, chunk extensions
//! follow their grammar (`;name[=token|"quoted"]`), trailer lines are `name: value`, and
//! each line is capped in length.

use super::response::is_token_byte;

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
}

/// Decodes a chunked body in place; see the module docs.
#[derive(Clone, Debug)]
pub struct ChunkedDecoder {
    state: State,
    size: u64,
    /// Decoded bytes so far, at the start of the region.
    decoded: usize,
    /// Raw bytes consumed so far, from the start of the region.
    consumed: usize,
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
            consumed: 0,
            line: 0,
            trailer: 0,
        }
    }

    /// Decoded content length so far; the content is `region[..decoded()]`.
    pub fn decoded(&self) -> usize {
        self.decoded
    }

    /// Raw bytes of the region this body used so far; once decoding is done, the next
    /// request starts there.
    pub fn consumed(&self) -> usize {
        self.consumed
    }

    /// The consumed framing that sits between the decoded content and the unread input:
    /// `region[decoded()..consumed()]`. Remove it from the buffer and call
    /// [`ChunkedDecoder::framing_removed`].
    pub fn framing(&self) -> std::ops::Range<usize> {
        self.decoded..self.consumed
    }

    /// Records that the caller cut [`ChunkedDecoder::framing`] out of the region.
    pub fn framing_removed(&mut self) {
        self.consumed = self.decoded;
    }

    /// Decodes what `region` holds past what was consumed before. Errors are statuses:
    /// 413 when the content passes `max_body`, 431 when the trailers pass `max_trailer`,
    /// 400 for anything malformed or a framing line longer than [`MAX_LINE`].
    pub fn decode(
        &mut self,
        region: &mut [u8],
        max_body: u64,
        max_trailer: usize,
    ) -> Result<Decoded, u16> {
        while self.consumed < region.len() {
            if let State::Data(left) = self.state {
                let available = region.len() - self.consumed;
                let take = usize::try_from(left).map_or(available, |l| l.min(available));
                region.copy_within(self.consumed..self.consumed + take, self.decoded);
                self.decoded += take;
                self.consumed += take;
                let left = left - take as u64;
                self.state = if left == 0 {
                    State::DataCr
                } else {
                    State::Data(left)
                };
                continue;
            }
            let byte = region[self.consumed];
            self.consumed += 1;
            self.line += 1;
            if self.line > MAX_LINE {
                return Err(400);
            }
            self.state = self.step(byte, max_body, max_trailer)?;
            if self.state == State::Done {
                return Ok(Decoded::Done);
            }
        }
        Ok(if self.state == State::Done {
            Decoded::Done
        } else {
            Decoded::NeedMore
        })
    }

    fn step(&mut self, byte: u8, max_body: u64, max_trailer: usize) -> Result<State, u16> {
        use State::*;
        let next = match (self.state, byte) {
            (Size { .. }, b) if b.is_ascii_hexdigit() => {
                if self.size > u64::MAX >> 4 {
                    return Err(413);
                }
                self.size = self.size << 4 | u64::from(hex_value(b));
                if self.decoded as u64 + self.size > max_body {
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
            (ExtQuoted | ExtQuotedEscape, b) if is_field_byte(b) => ExtQuoted,
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
            (TrailerValue, b) if is_field_byte(b) => {
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

/// A byte allowed in a field value or quoted string: HTAB, SP, VCHAR, obs-text.
fn is_field_byte(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8]) -> Result<(Vec<u8>, usize), u16> {
        let mut region = input.to_vec();
        let mut d = ChunkedDecoder::new();
        match d.decode(&mut region, 1 << 20, 1024)? {
            Decoded::Done => Ok((region[..d.decoded()].to_vec(), d.consumed())),
            Decoded::NeedMore => Err(0),
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
    fn decodes_byte_by_byte_and_framing_can_be_cut() {
        let input = b"3\r\nabc\r\n4;e=1\r\ndefg\r\n0\r\nT: v\r\n\r\nNEXT";
        let mut region = Vec::new();
        let mut d = ChunkedDecoder::new();
        let mut done = false;
        for &b in input.iter() {
            region.push(b);
            let status = d.decode(&mut region, 100, 100).unwrap();
            region.drain(d.framing());
            d.framing_removed();
            if status == Decoded::Done {
                done = true;
                break;
            }
        }
        assert!(done);
        assert_eq!(region, b"abcdefg");
        let mut rest = region.clone();
        rest.extend_from_slice(b"NEXT");
        assert_eq!(&rest[d.consumed()..], b"NEXT");
    }
}
