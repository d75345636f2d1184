//! The chunked transfer coding (RFC 9112 §7.1), decoded in place.
//!
//! The decoder works on the region of the input buffer that starts where the content starts.
//! Chunk data is moved down over the chunk framing, so when the last chunk arrives the whole
//! decoded content sits contiguously right after the head and the request can be handed to a
//! handler without another copy. Framing is strict: every line ends in CRLF, sizes are hex
//! digits only, and nothing but chunk extensions may follow a size.

/// Where the decoder is within the coding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading hex digits of a chunk size; `digits` so far.
    Size {
        digits: u8,
    },
    /// After the size: whitespace and chunk extensions, up to CR.
    Extension,
    /// Expecting the LF that ends the size line.
    SizeLf,
    /// Inside chunk data, this many bytes left.
    Data(u64),
    /// Expecting the CR after chunk data.
    DataCr,
    /// Expecting the LF after chunk data.
    DataLf,
    /// At the start of a trailer line (or the final CRLF).
    TrailerStart,
    /// Inside a trailer field line, up to CR.
    TrailerLine,
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
    /// Bytes of trailer fields so far.
    trailer: usize,
}

impl ChunkedDecoder {
    pub fn new() -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size { digits: 0 },
            size: 0,
            decoded: 0,
            consumed: 0,
            trailer: 0,
        }
    }

    /// Decoded content length so far; the content is `region[..decoded()]`.
    pub fn decoded(&self) -> usize {
        self.decoded
    }

    /// Raw bytes of the region this body used, framing included; the next request starts
    /// there once decoding is done.
    pub fn consumed(&self) -> usize {
        self.consumed
    }

    /// Decodes what `region` holds past what was consumed before. Errors are statuses:
    /// 413 when the content passes `max_body`, 431 when the trailers pass `max_trailer`,
    /// 400 for anything malformed.
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
        let next = match self.state {
            State::Size { digits } => match hex_digit(byte) {
                Some(d) => {
                    if digits >= 16 {
                        return Err(413);
                    }
                    self.size = self.size << 4 | u64::from(d);
                    if self.decoded as u64 + self.size > max_body {
                        return Err(413);
                    }
                    State::Size { digits: digits + 1 }
                }
                None if digits == 0 => return Err(400),
                None => match byte {
                    b'\r' => State::SizeLf,
                    b';' | b' ' | b'\t' => State::Extension,
                    _ => return Err(400),
                },
            },
            State::Extension => match byte {
                b'\r' => State::SizeLf,
                b'\t' => State::Extension,
                b if b < 0x20 || b == 0x7f => return Err(400),
                _ => State::Extension,
            },
            State::SizeLf => {
                expect(byte, b'\n')?;
                let size = std::mem::take(&mut self.size);
                if size == 0 {
                    State::TrailerStart
                } else {
                    State::Data(size)
                }
            }
            State::DataCr => {
                expect(byte, b'\r')?;
                State::DataLf
            }
            State::DataLf => {
                expect(byte, b'\n')?;
                State::Size { digits: 0 }
            }
            State::TrailerStart => match byte {
                b'\r' => State::FinalLf,
                _ => self.trailer_byte(byte, max_trailer)?,
            },
            State::TrailerLine => match byte {
                b'\r' => State::TrailerLf,
                _ => self.trailer_byte(byte, max_trailer)?,
            },
            State::TrailerLf => {
                expect(byte, b'\n')?;
                State::TrailerStart
            }
            State::FinalLf => {
                expect(byte, b'\n')?;
                State::Done
            }
            State::Data(_) | State::Done => self.state,
        };
        Ok(next)
    }

    /// Trailer fields are consumed, not kept: counted against the limit and checked for
    /// bytes that a field line may not hold.
    fn trailer_byte(&mut self, byte: u8, max_trailer: usize) -> Result<State, u16> {
        self.trailer += 1;
        if self.trailer > max_trailer {
            return Err(431);
        }
        if (byte < 0x20 && byte != b'\t') || byte == 0x7f {
            return Err(400);
        }
        Ok(State::TrailerLine)
    }
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder::new()
    }
}

fn expect(byte: u8, want: u8) -> Result<(), u16> {
    if byte == want {
        Ok(())
    } else {
        Err(400)
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
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
            (b"5 ; quoted=\"a;b\"\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5\r\nhello\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n", b"hello"),
            (b"0005\r\nhello\r\n0\r\n\r\n", b"hello"),
        ];
        for (input, want) in ok {
            let (body, consumed) = decode_all(input).unwrap();
            assert_eq!(&body, want, "{input:?}");
            assert_eq!(consumed, input.len());
        }
        let bad: &[(&[u8], u16)] = &[
            (b"x\r\n", 400),
            (b"-5\r\nhello\r\n", 400),
            (b"0x5\r\nhello\r\n", 400),
            (b"5\nhello\r\n0\r\n\r\n", 400),
            (b"5\r\nhelloXX0\r\n\r\n", 400),
            (b"5\r\nhello\n0\r\n\r\n", 400),
            (b"5;a\0b\r\nhello\r\n", 400),
            (b"0\r\nX: a\0\r\n\r\n", 400),
            (b"0\r\nX: 1\n\r\n", 400),
            (b"FFFFFFFFFFFFFFFFF\r\n", 413),
            (b"100001\r\n", 413),
        ];
        for (input, status) in bad {
            assert_eq!(decode_all(input), Err(*status), "{input:?}");
        }
    }

    #[test]
    fn decodes_byte_by_byte() {
        let input = b"3\r\nabc\r\n4;e=1\r\ndefg\r\n0\r\nT: v\r\n\r\nNEXT";
        let mut region = Vec::new();
        let mut d = ChunkedDecoder::new();
        let mut done = false;
        for &b in input.iter() {
            region.push(b);
            if d.decode(&mut region, 100, 100).unwrap() == Decoded::Done {
                done = true;
                break;
            }
        }
        assert!(done);
        assert_eq!(&region[..d.decoded()], b"abcdefg");
        assert_eq!(&input[d.consumed()..], b"NEXT");
    }
}
