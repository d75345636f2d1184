//! The input buffer of a connection: bytes read from the peer and not yet consumed.

use super::spare;

/// Unconsumed input lives in `buf[start..]`. Offsets the session keeps are relative to
/// `start`, so compacting the buffer never invalidates them.
#[derive(Debug, Default)]
pub struct InBuf {
    buf: Vec<u8>,
    start: usize,
}

/// The least room a read is given; smaller reads would mean more system calls.
const MIN_READ: usize = 4096;
/// The most room a read is given: content is moved out of the buffer as it arrives, so a
/// large body never makes the buffer large.
const MAX_READ: usize = 64 * 1024;

impl Drop for InBuf {
    /// The memory goes back to the thread's spares, for the next connection.
    fn drop(&mut self) {
        spare::give(std::mem::take(&mut self.buf));
    }
}

impl InBuf {
    pub fn new() -> InBuf {
        InBuf::default()
    }

    /// The unconsumed bytes.
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..]
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.buf.len()
    }

    /// Marks the first `n` unconsumed bytes as used.
    pub fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start >= self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }

    /// Drops all unconsumed input.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
    }

    /// Makes room to read into and returns the vector to append to. `want` is a hint of
    /// how many more bytes the caller could use at once (the rest of a body, say): the room
    /// given is between 4 and 64 KiB, whatever a client announced.
    pub fn prepare_read(&mut self, want: usize) -> &mut Vec<u8> {
        if self.buf.capacity() == 0 {
            self.buf = spare::take();
        }
        let room = want.clamp(MIN_READ, MAX_READ);
        let spare = self.buf.capacity() - self.buf.len();
        if spare < room && self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.reserve(room.min(MAX_READ));
        &mut self.buf
    }

    /// Bytes of memory the buffer holds.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Gives the memory of an empty buffer back (to the thread's spares), so an idle
    /// connection holds none.
    pub fn release_if_empty(&mut self) {
        if self.is_empty() && self.buf.capacity() > 0 {
            self.start = 0;
            spare::give(std::mem::take(&mut self.buf));
        }
    }
}
