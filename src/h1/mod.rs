//! HTTP/1.1 on the wire (RFC 9112): the head parser, request targets, the chunked coding,
//! the per-connection session state machine, the response writer, and a connection's input
//! and output buffers. Sans-IO: bytes in, requests out, responses in, bytes out; the
//! server moves the bytes, `http` gives the meaning.

pub mod chunked;
pub mod inbuf;
pub mod output;
pub mod parse;
pub mod session;
pub mod spare;
pub mod target;
pub mod writer;

pub use session::{Env, Next, Phase, Session};
