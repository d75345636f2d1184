//! roost: an HTTP/1.1 server with a Rust core, shipped as a C-ABI shared library.
//!
//! - [`server`]: the listener, the worker threads and their epoll loops, connections, timers.
//! - [`http`]: request parsing, bodies, responses, and the per-connection protocol state.
//! - [`files`]: the static file server.
//! - [`router`]: handlers by method and path pattern, and static mounts by prefix.
//! - `ffi`: the C ABI (see `include/roost.h`).
//! - `sys`: the libc calls, the only `unsafe` outside the C boundary.

#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

#[allow(unsafe_code)]
pub mod ffi;
pub mod files;
pub mod h1;
pub mod http;
pub mod router;
pub mod server;
#[allow(unsafe_code)]
mod sys;
pub mod tls;

pub use files::StaticFiles;
pub use http::{
    Deferral, Handler, Intake, Later, Limits, Placement, ReadError, Request, Response, Stream,
    StreamError,
};
pub use router::{HostRoute, Matched, RouteHandler, RouteOptions, Router};
pub use server::{Config, HostQueue, NextError, Server, Timeouts};

/// The library version, from Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The README's Rust example, compiled and run by `cargo test` so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
