//! The output queue of a connection: response bytes, with file bodies spliced in.
//!
//! Heads and in-memory bodies go into one byte buffer, so all the responses to a batch of
//! pipelined requests leave in one write. A file body is a marker at a position in that
//! buffer; the server sends it with sendfile(2) when the bytes before it are out.

use std::collections::VecDeque;
use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;

use super::spare;

/// A file body waiting in the queue.
#[derive(Debug)]
struct FileChunk {
    /// Position in the byte buffer before which the file goes.
    at: usize,
    file: Arc<File>,
    offset: u64,
    remaining: u64,
}

/// The front of the queue: what to send next.
#[derive(Debug)]
pub enum Chunk<'a> {
    /// Bytes to send; `more` is set when a file body follows at once.
    Bytes { bytes: &'a [u8], more: bool },
    /// A file region to send with sendfile(2).
    File {
        file: BorrowedFd<'a>,
        offset: u64,
        len: u64,
    },
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct Output {
    bytes: Vec<u8>,
    sent: usize,
    files: VecDeque<FileChunk>,
}

/// Past this many queued bytes, the session stops answering more pipelined requests until
/// the peer has read some (backpressure).
const FULL_BYTES: usize = 256 * 1024;
/// Past this many queued file bodies, likewise; each holds an open descriptor.
const FULL_FILES: usize = 64;

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
            self.files.push_back(FileChunk {
                at: self.bytes.len(),
                file,
                offset,
                remaining: len,
            });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.sent == self.bytes.len() && self.files.is_empty()
    }

    /// Whether enough is queued that no more should be added until the peer reads.
    pub fn is_full(&self) -> bool {
        self.bytes.len() - self.sent >= FULL_BYTES || self.files.len() >= FULL_FILES
    }

    /// What to send next, if anything.
    pub fn front(&self) -> Option<Chunk<'_>> {
        match self.files.front() {
            Some(f) if f.at == self.sent => Some(Chunk::File {
                file: f.file.as_fd(),
                offset: f.offset,
                len: f.remaining,
            }),
            Some(f) => Some(Chunk::Bytes {
                bytes: &self.bytes[self.sent..f.at],
                more: true,
            }),
            None if self.sent < self.bytes.len() => Some(Chunk::Bytes {
                bytes: &self.bytes[self.sent..],
                more: false,
            }),
            None => None,
        }
    }

    /// Records that `n` bytes of the front chunk were sent.
    pub fn advance(&mut self, n: usize) {
        match self.files.front_mut() {
            Some(f) if f.at == self.sent => {
                f.offset += n as u64;
                f.remaining -= n as u64;
                if f.remaining == 0 {
                    self.files.pop_front();
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
}
