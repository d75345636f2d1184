//! What carries a connection's bytes: the socket itself, or TLS over it, with rustls driven
//! sans-IO (`read_tls` / `process_new_packets` / `reader` in, `writer` / `write_tls` out).
//! The connection above reads and writes plaintext either way.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufRead, IoSlice, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use rustls::{ServerConfig, ServerConnection};

use crate::http::TlsInfo;
use crate::sys::socket;

/// See the module docs.
pub enum Transport {
    Plain,
    /// A TLS listener's connection before its first byte, which tells a TLS handshake from
    /// a plain HTTP request sent to the wrong port.
    Opening(Arc<ServerConfig>),
    Tls(Box<Tls>),
    /// Plain HTTP came to a TLS port: it is read as plain HTTP, to be told so in a status
    /// the client can read (nginx does the same), then closed.
    Misdirected,
}

/// A TLS connection's state.
pub struct Tls {
    conn: ServerConnection,
    /// Whether `Transport::take_handshake` has told of the finished handshake.
    told: bool,
    /// close_notify is queued: the connection sends nothing after it.
    closed: bool,
}

/// The first byte of a TLS record holding a handshake message (a ClientHello).
const HANDSHAKE_RECORD: u8 = 0x16;
/// The most plaintext of a file read in one go to be encrypted.
const FILE_PIECE: usize = 64 << 10;

thread_local! {
    /// Where file bytes are read to be encrypted, one per I/O thread.
    static FILE_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The socket as rustls reads and writes it.
struct Wire<'a> {
    fd: BorrowedFd<'a>,
    /// The last read brought less than asked for: the socket is empty now.
    short: bool,
}

impl<'a> Wire<'a> {
    fn new(fd: BorrowedFd<'a>) -> Wire<'a> {
        Wire { fd, short: false }
    }
}

impl Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = socket::recv(self.fd, buf)?;
        self.short = n < buf.len();
        Ok(n)
    }
}

impl Write for Wire<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        socket::send(self.fd, &[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        socket::send(self.fd, bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn would_block() -> io::Error {
    io::ErrorKind::WouldBlock.into()
}

impl Transport {
    /// The transport of a new connection, TLS if its listener has a TLS config.
    pub fn new(tls: Option<Arc<ServerConfig>>) -> Transport {
        match tls {
            Some(config) => Transport::Opening(config),
            None => Transport::Plain,
        }
    }

    /// Whether plain HTTP came to a TLS port (see `Transport::Misdirected`).
    pub fn is_misdirected(&self) -> bool {
        matches!(self, Transport::Misdirected)
    }

    /// Reads plaintext into the spare capacity of `buf`; 0 at the end of the stream. With
    /// TLS, reads from the socket until `buf` is full or the socket is empty, so a count
    /// short of the spare capacity means the socket is empty, as with plain reads; and
    /// WouldBlock may come after bytes did arrive (handshake messages, whose answers are
    /// then waiting in `flush`).
    pub fn recv(&mut self, fd: BorrowedFd<'_>, buf: &mut Vec<u8>) -> io::Result<usize> {
        if let Transport::Opening(config) = self {
            *self = match socket::peek_byte(fd)? {
                None => return Ok(0),
                Some(HANDSHAKE_RECORD) => {
                    let conn = ServerConnection::new(config.clone())
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                    Transport::Tls(Box::new(Tls {
                        conn,
                        told: false,
                        closed: false,
                    }))
                }
                // A request line starts with a method, a token.
                Some(b) if b.is_ascii_alphabetic() => Transport::Misdirected,
                Some(_) => return Err(io::ErrorKind::InvalidData.into()),
            };
        }
        match self {
            Transport::Tls(tls) => tls.recv(fd, buf),
            _ => socket::recv_into(fd, buf),
        }
    }

    /// Sends plaintext from `slices`, in order; returns how much was taken (with TLS, taken
    /// to be encrypted: `flush` tells when it has left).
    pub fn send(&mut self, fd: BorrowedFd<'_>, slices: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Transport::Tls(tls) => tls.send(fd, slices),
            _ => socket::send(fd, slices),
        }
    }

    /// Sends up to `count` bytes of `file` from `offset`: with sendfile(2) on plain TCP,
    /// read and encrypted with TLS.
    pub fn send_file(
        &mut self,
        fd: BorrowedFd<'_>,
        file: &File,
        offset: u64,
        count: usize,
    ) -> io::Result<usize> {
        match self {
            Transport::Tls(tls) => FILE_BUFFER.with(|buffer| {
                let mut buffer = buffer.borrow_mut();
                let piece = count.min(FILE_PIECE);
                if buffer.len() < piece {
                    buffer.resize(piece, 0);
                }
                let n = file.read_at(&mut buffer[..piece], offset)?;
                if n == 0 {
                    return Ok(0);
                }
                tls.send(fd, &[IoSlice::new(&buffer[..n])])
            }),
            _ => {
                let mut at = offset;
                socket::sendfile(fd, file.as_fd(), &mut at, count)
            }
        }
    }

    /// Sends what TLS holds encrypted. Ok(true) when nothing is left to send (always, on
    /// plain TCP); Ok(false) when the socket is full.
    pub fn flush(&mut self, fd: BorrowedFd<'_>) -> io::Result<bool> {
        match self {
            Transport::Tls(tls) => tls.flush(fd),
            _ => Ok(true),
        }
    }

    /// TCP_CORK, on plain TCP (TLS gathers its records into one write itself).
    pub fn set_cork(&self, fd: BorrowedFd<'_>, on: bool) {
        if matches!(self, Transport::Plain | Transport::Misdirected) {
            socket::set_cork(fd, on);
        }
    }

    /// Before a graceful close: TLS tells the client with a close_notify alert (as far as
    /// the socket takes it at once: the close goes ahead either way). A handshake cut off
    /// unfinished just ends.
    pub fn close_notify(&mut self, fd: BorrowedFd<'_>) {
        self.queue_close_notify();
        if let Transport::Tls(tls) = self {
            let _ = tls.flush(fd);
        }
    }

    /// Queues TLS's close_notify behind the records already made, once, to leave with
    /// them: nothing more may be sent after it.
    pub fn queue_close_notify(&mut self) {
        if let Transport::Tls(tls) = self {
            if !tls.conn.is_handshaking() && !tls.closed {
                tls.conn.send_close_notify();
                tls.closed = true;
            }
        }
    }

    /// What the TLS handshake agreed, once, when it has finished.
    pub fn take_handshake(&mut self) -> Option<TlsInfo> {
        match self {
            Transport::Tls(tls) if !tls.told && !tls.conn.is_handshaking() => {
                tls.told = true;
                Some(crate::tls::info(&tls.conn))
            }
            _ => None,
        }
    }
}

impl Tls {
    fn recv(&mut self, fd: BorrowedFd<'_>, buf: &mut Vec<u8>) -> io::Result<usize> {
        let space = buf.capacity() - buf.len();
        let mut got = 0;
        let mut ended = false;
        let mut failed = None;
        let mut wire = Wire::new(fd);
        loop {
            // The plaintext is copied from rustls's buffer straight into the spare capacity
            // (`read` would need that capacity zeroed first, on every read).
            let mut reader = self.conn.reader();
            match reader.fill_buf() {
                // The client sent close_notify.
                Ok([]) => {
                    ended = true;
                    break;
                }
                Ok(plaintext) => {
                    let n = plaintext.len().min(space - got);
                    buf.extend_from_slice(&plaintext[..n]);
                    reader.consume(n);
                    got += n;
                    if got == space {
                        break;
                    }
                    continue;
                }
                // All of the records read so far is taken: read more, unless the last read
                // emptied the socket (an edge-triggered wait comes next; a read now would
                // only say EAGAIN).
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if wire.short {
                        break;
                    }
                }
                // The TCP stream ended without close_notify.
                Err(_) => {
                    ended = true;
                    break;
                }
            }
            match self.conn.read_tls(&mut wire) {
                Ok(0) => {
                    ended = true;
                    break;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
            if let Err(e) = self.conn.process_new_packets() {
                // The alert that says why goes out before the close, if the socket takes it.
                let _ = self.flush(fd);
                failed = Some(io::Error::new(io::ErrorKind::InvalidData, e));
                break;
            }
        }
        match failed {
            Some(e) => Err(e),
            None if got > 0 => Ok(got),
            None if ended => Ok(0),
            None => Err(would_block()),
        }
    }

    fn send(&mut self, fd: BorrowedFd<'_>, slices: &[IoSlice<'_>]) -> io::Result<usize> {
        if !self.flush(fd)? {
            return Err(would_block());
        }
        let taken = self.conn.writer().write_vectored(slices)?;
        if taken == 0 && slices.iter().any(|s| !s.is_empty()) {
            return Err(would_block());
        }
        self.flush(fd)?;
        Ok(taken)
    }

    fn flush(&mut self, fd: BorrowedFd<'_>) -> io::Result<bool> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut Wire::new(fd)) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}
