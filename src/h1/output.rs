//! The output queue of a connection: response bytes, with file bodies and large in-memory
//! bodies spliced in.
//!
//! Heads and small bodies go into one byte buffer, so all the responses to a batch of
//! pipelined requests leave in one write. A file body, or a body too large to be worth
//! copying, is a marker at a position in that buffer; the server sends a file with
//! sendfile(2), and a moved body as it is, when the bytes before it are out.

use std::collections::VecDeque;
use std::fs::File;
use std::io::IoSlice;

use std::sync::Arc;

use super::spare;

/// A body waiting in the queue beside the byte buffer.
#[derive(Debug)]
struct Spliced {
    /// Position in the byte buffer before which it goes.
    at: usize,
    body: SplicedBody,
}

#[derive(Debug)]
enum SplicedBody {
    File {
        file: Arc<File>,
        offset: u64,
        remaining: u64,
    },
    Owned {
        bytes: Vec<u8>,
        sent: usize,
    },
}

/// The front of the queue: what to send next.
#[derive(Debug)]
pub enum Chunk<'a> {
    /// Bytes to send; `more` is set when more output follows at once.
    Bytes { bytes: &'a [u8], more: bool },
    /// A file region to send with sendfile(2).
    File {
        file: &'a File,
        offset: u64,
        len: u64,
    },
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct Output {
    bytes: Vec<u8>,
    sent: usize,
    spliced: VecDeque<Spliced>,
    /// Bytes of moved bodies still queued.
    owned: usize,
}

/// Past this many queued bytes, the session stops answering more pipelined requests until
/// the peer has read some (backpressure).
const FULL_BYTES: usize = 256 * 1024;
/// Past this many queued bodies, likewise; a file body holds an open descriptor.
const FULL_BODIES: usize = 64;

impl Drop for Output {
    /// The memory goes back to the thread's spares, for the next connection.
    fn drop(&mut self) {
        spare::give(std::mem::take(&mut self.bytes));
    }
}

impl Output {
    pub fn new() -> Output {
        Output::default()
    }

    /// The byte buffer to append a response to.
    pub fn bytes_mut(&mut self) -> &mut Vec<u8> {
        if self.bytes.capacity() == 0 {
            self.bytes = spare::take();
        }
        &mut self.bytes
    }

    /// Queues `len` bytes of `file` from `offset`, after the bytes appended so far.
    pub fn push_file(&mut self, file: Arc<File>, offset: u64, len: u64) {
        if len > 0 {
            self.push(SplicedBody::File {
                file,
                offset,
                remaining: len,
            });
        }
    }

    /// Queues `bytes` as they are, after the bytes appended so far.
    pub fn push_owned(&mut self, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.owned += bytes.len();
            self.push(SplicedBody::Owned { bytes, sent: 0 });
        }
    }

    fn push(&mut self, body: SplicedBody) {
        self.spliced.push_back(Spliced {
            at: self.bytes.len(),
            body,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.sent == self.bytes.len() && self.spliced.is_empty()
    }

    /// Whether enough is queued that no more should be added until the peer reads.
    pub fn is_full(&self) -> bool {
        self.bytes.len() - self.sent + self.owned >= FULL_BYTES || self.spliced.len() >= FULL_BODIES
    }

    /// What to send next, if anything.
    pub fn front(&self) -> Option<Chunk<'_>> {
        match self.spliced.front() {
            Some(s) if s.at == self.sent => Some(match &s.body {
                SplicedBody::File {
                    file,
                    offset,
                    remaining,
                } => Chunk::File {
                    file,
                    offset: *offset,
                    len: *remaining,
                },
                SplicedBody::Owned { bytes, sent } => Chunk::Bytes {
                    bytes: &bytes[*sent..],
                    more: self.spliced.len() > 1 || self.sent < self.bytes.len(),
                },
            }),
            Some(s) => Some(Chunk::Bytes {
                bytes: &self.bytes[self.sent..s.at],
                more: true,
            }),
            None if self.sent < self.bytes.len() => Some(Chunk::Bytes {
                bytes: &self.bytes[self.sent..],
                more: false,
            }),
            None => None,
        }
    }

    /// The bytes to send next, as far as they go without a file (at most `slices.len()`
    /// regions and about `limit` bytes), into `slices`: how many regions were filled, and
    /// whether more output follows them. So that the pieces of a streamed body, each a
    /// moved buffer, leave in one call.
    pub fn gather<'a>(&'a self, slices: &mut [IoSlice<'a>], limit: usize) -> (usize, bool) {
        let mut count = 0;
        let mut total = 0;
        let mut at = self.sent;
        let mut spliced = self.spliced.iter().peekable();
        while count < slices.len() && total < limit {
            let region: &[u8] = match spliced.peek() {
                Some(s) if s.at == at => match &s.body {
                    SplicedBody::Owned { bytes, sent } => {
                        spliced.next();
                        &bytes[*sent..]
                    }
                    SplicedBody::File { .. } => break,
                },
                Some(s) => {
                    let region = &self.bytes[at..s.at];
                    at = s.at;
                    region
                }
                None if at < self.bytes.len() => {
                    let region = &self.bytes[at..];
                    at = self.bytes.len();
                    region
                }
                None => break,
            };
            let region = &region[..region.len().min(limit - total)];
            if !region.is_empty() {
                slices[count] = IoSlice::new(region);
                count += 1;
                total += region.len();
            }
        }
        (count, self.more_than(total))
    }

    /// Whether more than `bytes` bytes of output are queued.
    fn more_than(&self, bytes: usize) -> bool {
        let files = self
            .spliced
            .iter()
            .any(|s| matches!(s.body, SplicedBody::File { .. }));
        files || self.bytes.len() - self.sent + self.owned > bytes
    }

    /// Records that `n` bytes were sent, across as many chunks as they cover.
    pub fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let front = match self.front() {
                Some(Chunk::Bytes { bytes, .. }) => bytes.len(),
                Some(Chunk::File { len, .. }) => usize::try_from(len).unwrap_or(usize::MAX),
                None => return,
            };
            let step = n.min(front);
            self.advance_front(step);
            n -= step;
        }
    }

    /// Records that `n` bytes of the front chunk were sent.
    fn advance_front(&mut self, n: usize) {
        match self.spliced.front_mut() {
            Some(s) if s.at == self.sent => {
                let done = match &mut s.body {
                    SplicedBody::File {
                        offset, remaining, ..
                    } => {
                        *offset += n as u64;
                        *remaining -= n as u64;
                        *remaining == 0
                    }
                    SplicedBody::Owned { bytes, sent } => {
                        *sent += n;
                        self.owned -= n;
                        *sent == bytes.len()
                    }
                };
                if done {
                    if let Some(Spliced {
                        body: SplicedBody::Owned { bytes, .. },
                        ..
                    }) = self.spliced.pop_front()
                    {
                        crate::sys::memory::freed(bytes.capacity());
                    }
                }
            }
            _ => self.sent += n,
        }
        if self.is_empty() {
            self.bytes.clear();
            self.sent = 0;
        }
    }

    /// Bytes of memory the byte buffer holds.
    pub fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    /// Gives the memory of an empty queue back (to the thread's spares), so an idle
    /// connection holds none.
    pub fn release_if_empty(&mut self) {
        if self.is_empty() && self.bytes.capacity() > 0 {
            spare::give(std::mem::take(&mut self.bytes));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_and_files_interleave_in_order() {
        let mut out = Output::new();
        out.bytes_mut().extend_from_slice(b"head1");
        let file = Arc::new(File::open("Cargo.toml").unwrap());
        out.push_file(file, 2, 3);
        out.bytes_mut().extend_from_slice(b"head2");
        assert!(matches!(
            out.front(),
            Some(Chunk::Bytes {
                bytes: b"head1",
                more: true
            })
        ));
        out.advance(5);
        assert!(matches!(
            out.front(),
            Some(Chunk::File {
                offset: 2,
                len: 3,
                ..
            })
        ));
        out.advance(1);
        assert!(matches!(
            out.front(),
            Some(Chunk::File {
                offset: 3,
                len: 2,
                ..
            })
        ));
        out.advance(2);
        assert!(matches!(
            out.front(),
            Some(Chunk::Bytes {
                bytes: b"head2",
                more: false
            })
        ));
        out.advance(5);
        assert!(out.is_empty());
        assert!(out.front().is_none());
    }

    /// The regions `gather` gives, copied, and whether more follows.
    fn gathered(out: &Output, limit: usize) -> (Vec<Vec<u8>>, bool) {
        let mut slices = [IoSlice::new(&[]); 8];
        let (count, more) = out.gather(&mut slices, limit);
        (slices[..count].iter().map(|s| s.to_vec()).collect(), more)
    }

    #[test]
    fn bytes_and_moved_bodies_are_gathered_up_to_a_file_or_the_limit() {
        let mut out = Output::new();
        out.bytes_mut().extend_from_slice(b"head");
        out.push_owned(b"one".to_vec());
        out.bytes_mut().extend_from_slice(b"\r\n");
        out.push_owned(b"two".to_vec());
        let file = Arc::new(File::open("Cargo.toml").unwrap());
        out.push_file(file, 0, 3);
        out.bytes_mut().extend_from_slice(b"tail");
        let (regions, more) = gathered(&out, 1 << 20);
        assert_eq!(regions, [&b"head"[..], b"one", b"\r\n", b"two"]);
        assert!(more, "the file and the tail follow");
        let (regions, _) = gathered(&out, 6);
        assert_eq!(regions, [&b"head"[..], b"on"], "cut at the limit");
        // Sent across regions at once.
        out.advance(9);
        assert!(matches!(
            out.front(),
            Some(Chunk::Bytes { bytes: b"two", .. })
        ));
        out.advance(3);
        assert!(matches!(out.front(), Some(Chunk::File { len: 3, .. })));
        out.advance(3);
        assert_eq!(gathered(&out, 1 << 20), (vec![b"tail".to_vec()], false));
    }

    #[test]
    fn a_moved_body_goes_out_between_heads() {
        let mut out = Output::new();
        out.bytes_mut().extend_from_slice(b"head");
        out.push_owned(b"body".to_vec());
        assert!(matches!(
            out.front(),
            Some(Chunk::Bytes {
                bytes: b"head",
                more: true
            })
        ));
        out.advance(4);
        assert!(matches!(
            out.front(),
            Some(Chunk::Bytes {
                bytes: b"body",
                more: false
            })
        ));
        out.advance(3);
        assert!(matches!(
            out.front(),
            Some(Chunk::Bytes { bytes: b"y", .. })
        ));
        out.advance(1);
        assert!(out.is_empty());
    }
}
