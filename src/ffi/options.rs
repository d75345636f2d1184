//! Server options: a plain struct the caller fills, versioned by its size.

use std::ffi::c_char;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::result::roost_result;
use super::strings::bytes_arg;
use super::tls::listen_of;
use super::versioned::{self, Layout};
use crate::server::Config;

/// How a server is set up. Always start from `roost_options_init`, which sets `size` and
/// every default, then change the fields you need:
///
/// ```c
/// roost_options opts;
/// roost_options_init(&opts, sizeof opts);
/// opts.port = 0;
/// ```
///
/// Fields are only ever added at the end; `size` tells the library which ones the caller
/// knows (the library reads no further and gives the others their defaults), so a program
/// built against an older header keeps working with a newer library.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct roost_options {
    /// `sizeof(roost_options)` as the caller compiled it. Set by `roost_options_init`.
    pub size: usize,
    /// IP address to listen on, IPv4 or IPv6 ("127.0.0.1", "::1", "0.0.0.0", "::"), or
    /// "localhost"; `host_len` bytes, no NUL needed. Default "127.0.0.1".
    pub host: *const c_char,
    pub host_len: usize,
    /// TCP port; 0 picks a free one (see `roost_server_port`). Default 8080.
    pub port: u16,
    /// Worker threads, at most 1024; 0 means one per CPU. Default 0.
    pub threads: u32,
    /// Open connections allowed at once; the one past it is closed. 0: no limit but the
    /// descriptor limit. Default 0.
    pub max_connections: u32,
    /// Request line plus header fields, in bytes; past it: 431. Default 16384.
    pub max_head_bytes: u32,
    /// Request target, in bytes; past it: 414. Default 8192.
    pub max_uri_bytes: u32,
    /// Header field lines; past it: 431. At most 512. Default 100.
    pub max_headers: u32,
    /// Request content after de-chunking, in bytes; past it: 413. Default 16 MiB.
    pub max_body_bytes: u64,
    /// Time for a whole request head (past it: 408, then close), and for a new
    /// connection's first byte (past it: close). Default 10000.
    pub header_timeout_ms: u32,
    /// Idle time allowed between requests on a connection. Default 5000.
    pub keepalive_timeout_ms: u32,
    /// Time without progress while reading request content; past it: 408. Default 10000.
    pub body_timeout_ms: u32,
    /// Time without progress while sending (the client stopped reading). Default 10000.
    pub write_timeout_ms: u32,
    /// How long `roost_server_stop` waits for responses in flight. Default 10000.
    pub shutdown_timeout_ms: u32,
    /// Threads that run route handlers, apart from the I/O threads, so that a handler that
    /// blocks never stalls other connections (static files, other routes); at most 1024.
    /// 0 (the default): handlers run on the I/O thread that read the request. Added after the
    /// first layout: a caller with an older, smaller `size` gets 0.
    pub handler_threads: u32,
    /// Requests that may wait for a handler thread; past it, 503. Default 1024.
    pub handler_queue: u32,
    /// Bytes of request content held in memory at once across all connections (each body
    /// is bounded by `max_body_bytes` too). Past it, reading bodies pauses until memory
    /// comes back; a body kept waiting longer than `body_timeout_ms` gets 503. At least 1.
    /// Default 256 MiB. Added in the third layout: an older `size` gets the default.
    pub max_buffered_body_bytes: u64,
    /// Bytes a streamed response may hold queued before `roost_response_write` says
    /// `ROOST_ERR_AGAIN` (see `roost_response_stream`). At least 1. Default 256 KiB. Added in
    /// the fourth layout: an older `size` gets the default.
    pub stream_buffer_bytes: u64,
    /// What the listener on `host` and `port` is: `ROOST_LISTEN_TLS` for HTTPS (set up with
    /// `roost_server_tls`), `ROOST_LISTEN_REDIRECT_HTTPS` for plain HTTP that redirects to
    /// the first TLS listener (one added with `roost_server_listen`), 0 (the default) for
    /// plain HTTP. Added in the fifth layout.
    pub listen_flags: u32,
}

const DEFAULT_HOST: &[u8] = b"127.0.0.1";

/// The published layouts of roost_options: the first ended at `shutdown_timeout_ms`; the
/// handler pool fields came next, then the body budget, then the stream buffer, then the
/// listener's flags.
const LAYOUTS: [Layout; 5] = [
    Layout::ending_at::<roost_options>(std::mem::offset_of!(roost_options, handler_threads)),
    Layout::ending_at::<roost_options>(std::mem::offset_of!(
        roost_options,
        max_buffered_body_bytes
    )),
    Layout::ending_at::<roost_options>(std::mem::offset_of!(roost_options, stream_buffer_bytes)),
    Layout::ending_at::<roost_options>(std::mem::offset_of!(roost_options, listen_flags)),
    Layout::ending_at::<roost_options>(
        std::mem::offset_of!(roost_options, listen_flags) + std::mem::size_of::<u32>(),
    ),
];

/// The most worker threads a server may ask for.
const MAX_THREADS: u32 = 1024;

fn defaults() -> roost_options {
    let config = Config::default();
    let t = &config.timeouts;
    let l = &config.limits;
    roost_options {
        size: std::mem::size_of::<roost_options>(),
        host: DEFAULT_HOST.as_ptr().cast(),
        host_len: DEFAULT_HOST.len(),
        port: 8080,
        threads: 0,
        max_connections: 0,
        max_head_bytes: l.max_head as u32,
        max_uri_bytes: l.max_uri as u32,
        max_headers: l.max_headers as u32,
        max_body_bytes: l.max_body,
        header_timeout_ms: t.header.as_millis() as u32,
        keepalive_timeout_ms: t.keep_alive.as_millis() as u32,
        body_timeout_ms: t.body.as_millis() as u32,
        write_timeout_ms: t.write.as_millis() as u32,
        shutdown_timeout_ms: t.shutdown.as_millis() as u32,
        handler_threads: config.handler_threads as u32,
        handler_queue: config.handler_queue as u32,
        max_buffered_body_bytes: config.max_buffered_body_bytes as u64,
        stream_buffer_bytes: l.stream_buffer as u64,
        listen_flags: 0,
    }
}

/// Fills `opts` with the defaults; `size` must be `sizeof *opts`. Only `size` bytes are
/// written, so a caller built against an older (smaller) header is served too.
///
/// Returns `ROOST_ERR_NULL` if `opts` is NULL, `ROOST_ERR_INVALID` if `size` is not a
/// size this library knows (a header newer than the library, say).
///
/// # Safety
/// `opts` must be NULL or point to `size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn roost_options_init(opts: *mut roost_options, size: usize) -> roost_result {
    guard!(super::result::ROOST_ERR_PANIC, {
        // SAFETY: roost_options is repr(C) with `size` first; `opts` per the contract.
        unsafe { versioned::init(opts, size, &LAYOUTS, defaults(), "roost_options_init") }
    })
}

/// Reads the caller's options: the fields within its `size`, defaults for the rest.
///
/// # Safety
/// `opts` must point to a roost_options whose `size` field is readable and which is
/// `size` bytes long.
pub unsafe fn read_options(opts: *const roost_options) -> Result<roost_options, roost_result> {
    // SAFETY: roost_options is repr(C) with `size` first; `opts` per the contract.
    unsafe { versioned::read(opts, &LAYOUTS, defaults(), "roost_server_new") }
}

/// The IP address in a host option: IPv4 or IPv6 (brackets allowed), or "localhost".
///
/// # Safety
/// `host` must be NULL or point to `len` readable bytes.
pub unsafe fn parse_host(host: *const c_char, len: usize) -> Result<IpAddr, String> {
    // SAFETY: per the contract.
    let host = unsafe { bytes_arg(host, len) }.ok_or("host is NULL")?;
    let host = std::str::from_utf8(host).map_err(|_| "host is not UTF-8")?;
    match host {
        "localhost" => Ok(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        _ => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| format!("host {host:?} is not an IP address")),
    }
}

/// Turns options (complete: see `read_options`) into a server config, or an error message.
///
/// # Safety
/// `opts.host` must point to `opts.host_len` readable bytes.
pub unsafe fn to_config(opts: &roost_options) -> Result<Config, String> {
    if opts.threads > MAX_THREADS {
        return Err(format!("options: threads must be at most {MAX_THREADS}"));
    }
    // SAFETY: the caller guarantees host/host_len describe readable bytes.
    let ip =
        unsafe { parse_host(opts.host, opts.host_len) }.map_err(|e| format!("options: {e}"))?;
    let ms = |name: &str, value: u32| {
        if value == 0 {
            Err(format!("options: {name} must be at least 1 ms"))
        } else {
            Ok(Duration::from_millis(u64::from(value)))
        }
    };
    let positive = |name: &str, value: u64| {
        if value == 0 {
            Err(format!("options: {name} must be at least 1"))
        } else {
            Ok(value)
        }
    };
    let mut config = Config {
        listen: vec![listen_of(SocketAddr::new(ip, opts.port), opts.listen_flags)
            .map_err(|e| format!("options: listen_flags: {e}"))?],
        threads: opts.threads as usize,
        max_connections: opts.max_connections as usize,
        ..Config::default()
    };
    config.limits.max_head = positive("max_head_bytes", opts.max_head_bytes.into())? as usize;
    config.limits.max_uri = positive("max_uri_bytes", opts.max_uri_bytes.into())? as usize;
    config.limits.max_headers = positive("max_headers", opts.max_headers.into())? as usize;
    if config.limits.max_headers > crate::Limits::HEADERS_CEILING {
        return Err(format!(
            "options: max_headers must be at most {}",
            crate::Limits::HEADERS_CEILING
        ));
    }
    config.limits.max_body = opts.max_body_bytes;
    config.timeouts.header = ms("header_timeout_ms", opts.header_timeout_ms)?;
    config.timeouts.keep_alive = ms("keepalive_timeout_ms", opts.keepalive_timeout_ms)?;
    config.timeouts.body = ms("body_timeout_ms", opts.body_timeout_ms)?;
    config.timeouts.write = ms("write_timeout_ms", opts.write_timeout_ms)?;
    config.timeouts.shutdown = ms("shutdown_timeout_ms", opts.shutdown_timeout_ms)?;
    if opts.handler_threads > MAX_THREADS {
        return Err(format!(
            "options: handler_threads must be at most {MAX_THREADS}"
        ));
    }
    config.handler_threads = opts.handler_threads as usize;
    config.handler_queue = positive("handler_queue", opts.handler_queue.into())? as usize;
    let budget = positive("max_buffered_body_bytes", opts.max_buffered_body_bytes)?;
    config.max_buffered_body_bytes = usize::try_from(budget).unwrap_or(usize::MAX);
    let stream_buffer = positive("stream_buffer_bytes", opts.stream_buffer_bytes)?;
    config.limits.stream_buffer = usize::try_from(stream_buffer).unwrap_or(usize::MAX);
    Ok(config)
}
