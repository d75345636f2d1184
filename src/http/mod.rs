//! HTTP/1.1 messages (RFC 9110, RFC 9112): parsing requests, decoding bodies, writing
//! responses, and the per-connection protocol state. Nothing here touches a socket: the
//! server moves bytes between the network and these types.

pub mod chunked;
pub mod conditional;
pub mod date;
pub mod encoding;
pub mod handler;
pub mod inbuf;
pub mod limits;
pub mod output;
pub mod parse;
pub mod path;
pub mod query;
pub mod range;
pub mod request;
pub mod response;
pub mod session;
pub mod spare;
pub mod status;
pub mod syntax;
pub mod uri;
pub mod writer;

pub use handler::Handler;
pub use limits::Limits;
pub use request::Request;
pub use response::{Response, ResponseError};
