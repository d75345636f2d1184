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

    /// Removes `range` (relative to the unconsumed bytes) from the buffer, moving what
    /// follows it down.
    pub fn cut(&mut self, range: std::ops::Range<usize>) {
        if !range.is_empty() {
            self.buf
                .drain(self.start + range.start..self.start + range.end);
        }
    }

    /// Drops all unconsumed input.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
    }

    /// Makes room to read into and returns the vector to append to. `want` is how many
    /// unconsumed bytes the caller needs in total (a whole body, say), so that a large
    /// body is read into one allocation instead of a series of doublings.
    pub fn prepare_read(&mut self, want: usize) -> &mut Vec<u8> {
        if self.buf.capacity() == 0 {
            self.buf = spare::take();
        }
        let spare = self.buf.capacity() - self.buf.len();
        if spare < MIN_READ && self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let have = self.buf.len() - self.start;
        let extra = want.saturating_sub(have).max(MIN_READ);
        self.buf.reserve(extra);
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
