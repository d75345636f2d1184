//! Size limits on requests, each enforced with its own status.

/// How large a request may be. Every limit answers with its own status and closes the
/// connection, since the rest of the oversized request is never read as a request.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Request line plus header fields, in bytes; past it: 431.
    pub max_head: usize,
    /// Request target, in bytes; past it: 414.
    pub max_uri: usize,
    /// Number of header field lines; past it: 431. At most [`Limits::HEADERS_CEILING`].
    pub max_headers: usize,
    /// Request content after chunked decoding, in bytes; past it: 413.
    pub max_body: u64,
    /// Bytes a streamed response may hold queued before the producer's writes are refused
    /// (see `http::stream`).
    pub stream_buffer: usize,
}

impl Limits {
    /// The most header fields the parser can hold, whatever `max_headers` says.
    pub const HEADERS_CEILING: usize = 512;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head: 16 * 1024,
            max_uri: 8 * 1024,
            max_headers: 100,
            max_body: 16 * 1024 * 1024,
            stream_buffer: super::stream::DEFAULT_BUFFER,
        }
    }
}
