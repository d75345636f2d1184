//! What every protocol shares (RFC 9110): the request and response model, bodies, the one
//! function that answers an exchange, conditional and range rules, content codings, dates,
//! statuses, methods, paths, queries and field syntax. Nothing here knows the wire a
//! message came over, touches a socket, or decides on which thread anything runs.

pub mod answer;
pub mod body;
pub mod conditional;
pub mod date;
pub mod encoding;
pub mod handler;
pub mod later;
pub mod limits;
pub mod methods;
pub mod path;
pub mod query;
pub mod range;
pub mod request;
pub mod response;
pub mod status;
pub mod stream;
pub mod syntax;
pub mod tls;
pub mod upload;
pub mod uri;

pub use answer::{answer, Failure};
pub use body::{Body, BodyBudget};
pub use handler::{Handler, Intake, Placement};
pub use later::{Deferral, Finish, Later, Ticket};
pub use limits::Limits;
pub use request::{Request, Version};
pub use response::{Response, ResponseError};
pub use stream::{Stream, StreamError};
pub use tls::TlsInfo;
pub use upload::ReadError;
