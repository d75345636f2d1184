//! Routing: requests go to handlers registered by method and path pattern, or to static
//! file mounts by URL prefix.
//!
//! The method is looked at first: one no route uses and HTTP does not define is 501, and
//! the requests that name no path (`OPTIONS *`, CONNECT) are answered for the server as a
//! whole. Then the path is normalized once and looked up in a tree of route patterns (see
//! `tree`), most specific first, registration order breaking ties: the first route whose
//! method matches wins; a GET route also answers HEAD. A path that only routes with other
//! methods match gets 405 with `Allow` (or 204 with `Allow` for OPTIONS). Otherwise the
//! longest mount prefix covering the path serves it; otherwise 404.

mod https;
mod pattern;
mod tree;

use std::fmt;
use std::sync::Arc;

use crate::files::{self, from_segments, Refusal, StaticFiles};
use crate::http::methods::{is_standard, respond_allow};
use crate::http::path::{normalize, NormalPath};
use crate::http::{Handler, Intake, Placement, Request, Response};

pub use https::{PlainHttpOnTlsPort, RedirectToHttps};
pub use pattern::{Params, Pattern, PatternError, WILDCARD};
use tree::Tree;

/// What a route handler learns about how its route matched.
#[derive(Debug)]
pub struct Matched<'a> {
    path: &'a NormalPath<'a>,
    params: Params<'a>,
}

impl<'a> Matched<'a> {
    /// The decoded, normalized path (`/hello/bob`).
    pub fn path(&self) -> Vec<u8> {
        self.path.to_bytes()
    }

    /// A path parameter by name; `*` is what a trailing wildcard matched.
    pub fn param(&self, name: &str) -> Option<&[u8]> {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| &**v)
    }

    /// Every path parameter, in pattern order.
    pub fn params(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.params.iter().map(|(n, v)| (*n, &**v))
    }
}

/// Answers the requests of one route.
pub trait RouteHandler: Send + Sync {
    fn handle(&self, req: &Request, route: &Matched<'_>, res: &mut Response);

    /// Where its requests are answered: route handlers are host code that may block.
    fn placement(&self) -> Placement {
        Placement::Blocking
    }

    /// How its requests' content is taken: the limit, if not the server's, and whether it
    /// streams in while the handler runs.
    fn intake(&self) -> Intake {
        Intake::default()
    }
}

/// How a route is served, for [`Router::route_with`]; the defaults are those of
/// [`Router::route`].
#[derive(Clone, Copy, Debug)]
pub struct RouteOptions {
    /// The most request content the route takes (above or below `Limits::max_body`): past
    /// it, 413 from the head, before any `100 Continue`. `None`: the server's limit.
    pub max_body: Option<u64>,
    /// Where its requests are answered: [`Placement::Blocking`] (the default) for a handler
    /// that may block, [`Placement::Here`] for a quick one kept on the I/O thread.
    pub placement: Placement,
    /// The handler is called once the head is in and reads the content as it arrives
    /// (`Request::read_body`); it then runs on a handler thread whatever `placement` says
    /// (or on the host's, for [`Placement::HostThread`]).
    pub stream_body: bool,
    /// For a streamed body: the most bytes of it the server holds ahead of the handler's
    /// reads. `None`: `Limits::stream_buffer`.
    pub stream_buffer: Option<usize>,
}

impl Default for RouteOptions {
    fn default() -> Self {
        RouteOptions {
            max_body: None,
            placement: Placement::Blocking,
            stream_body: false,
            stream_buffer: None,
        }
    }
}

/// A handler with the options of its route.
struct WithOptions {
    handler: Arc<dyn RouteHandler>,
    options: RouteOptions,
}

impl RouteHandler for WithOptions {
    fn handle(&self, req: &Request, route: &Matched<'_>, res: &mut Response) {
        self.handler.handle(req, route, res)
    }

    fn placement(&self) -> Placement {
        self.options.placement
    }

    fn intake(&self) -> Intake {
        let inner = self.handler.intake();
        Intake {
            max_body: self.options.max_body.or(inner.max_body),
            stream: self.options.stream_body || inner.stream,
            buffer: self.options.stream_buffer.or(inner.buffer),
        }
    }
}

/// A route answered by threads of the host's own: `Server::host_queue` gives them its
/// requests. Its `handle` is never called by the server; called anyway, it answers 500.
pub struct HostRoute;

impl RouteHandler for HostRoute {
    fn handle(&self, _req: &Request, _route: &Matched<'_>, res: &mut Response) {
        res.set_error(500);
    }

    fn placement(&self) -> Placement {
        Placement::HostThread
    }
}

impl<F> RouteHandler for F
where
    F: Fn(&Request, &Matched<'_>, &mut Response) + Send + Sync,
{
    fn handle(&self, req: &Request, route: &Matched<'_>, res: &mut Response) {
        self(req, route, res)
    }
}

/// Why a route or mount was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteError {
    /// A method must be an uppercase token (methods are case-sensitive).
    Method(String),
    Pattern(PatternError),
    /// A mount prefix must be a normalized path.
    Prefix(String),
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteError::Method(m) => write!(
                f,
                "method {m:?}: methods are case-sensitive uppercase tokens, like GET"
            ),
            RouteError::Pattern(e) => e.fmt(f),
            RouteError::Prefix(p) => write!(f, "mount prefix {p:?}: must be a path like /files"),
        }
    }
}

impl std::error::Error for RouteError {}

struct Route {
    method: String,
    pattern: Pattern,
    handler: Arc<dyn RouteHandler>,
}

struct Mount {
    /// Decoded segments of the prefix.
    segments: Vec<Vec<u8>>,
    /// The prefix as it appears in URLs, for redirects: `""` for the root, `/files`.
    location: Vec<u8>,
    files: StaticFiles,
}

/// See the module docs.
#[derive(Default)]
pub struct Router {
    /// In registration order; the tree names them by index.
    routes: Vec<Route>,
    tree: Tree,
    mounts: Vec<Mount>,
}

/// What a request resolved to.
enum Target<'r> {
    Route(&'r Route),
    /// Routes match the path, with other methods.
    Methods(Vec<&'r str>),
    Mount(&'r Mount),
    None,
}

impl Router {
    pub fn new() -> Router {
        Router::default()
    }

    /// Like [`Router::route`], with the route's options.
    pub fn route_with(
        &mut self,
        method: &str,
        pattern: &str,
        handler: Arc<dyn RouteHandler>,
        options: RouteOptions,
    ) -> Result<(), RouteError> {
        self.route(method, pattern, Arc::new(WithOptions { handler, options }))
    }

    /// Routes `method` requests whose path matches `pattern` to `handler`.
    pub fn route(
        &mut self,
        method: &str,
        pattern: &str,
        handler: Arc<dyn RouteHandler>,
    ) -> Result<(), RouteError> {
        let valid_method = !method.is_empty()
            && method
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !valid_method {
            return Err(RouteError::Method(method.to_string()));
        }
        let pattern = Pattern::parse(pattern).map_err(RouteError::Pattern)?;
        self.tree.insert(&pattern, self.routes.len());
        self.routes.push(Route {
            method: method.to_string(),
            pattern,
            handler,
        });
        Ok(())
    }

    /// Serves the files under `files` at URL `prefix` (`/` for the whole site).
    pub fn mount(&mut self, prefix: &str, files: StaticFiles) -> Result<(), RouteError> {
        let bad = || RouteError::Prefix(prefix.to_string());
        let normal = normalize(prefix).map_err(|_| bad())?;
        let segments: Vec<Vec<u8>> = normal.segments.iter().map(|s| s.to_vec()).collect();
        if segments.iter().any(|s| s.contains(&b'/')) {
            return Err(bad());
        }
        let mut location = Vec::new();
        for segment in &segments {
            location.push(b'/');
            files::push_path_encoded(&mut location, segment);
        }
        // Longest prefix first, so the most specific mount is found first.
        let at = self
            .mounts
            .partition_point(|m| m.segments.len() >= segments.len());
        self.mounts.insert(
            at,
            Mount {
                segments,
                location,
                files,
            },
        );
        Ok(())
    }

    fn resolve<'r>(&'r self, method: &str, path: &NormalPath<'_>) -> Target<'r> {
        let mut allowed: Vec<&str> = Vec::new();
        let mut exact = None;
        let mut get_route = None;
        self.tree.matches(path, &mut |id| {
            let route = &self.routes[id];
            if route.method == method {
                exact = Some(route);
                return false;
            }
            if route.method == "GET" && get_route.is_none() {
                get_route = Some(route);
            }
            allowed.push(&route.method);
            true
        });
        if let Some(route) = exact {
            return Target::Route(route);
        }
        if method == "HEAD" {
            if let Some(route) = get_route {
                return Target::Route(route);
            }
        }
        let mount = self.mounts.iter().find(|m| {
            m.segments.len() <= path.segments.len()
                && m.segments
                    .iter()
                    .zip(&path.segments)
                    .all(|(a, b)| a[..] == b[..])
        });
        match mount {
            Some(mount) if allowed.is_empty() || method == "GET" || method == "HEAD" => {
                Target::Mount(mount)
            }
            Some(_) => {
                allowed.extend(files::ALLOW);
                Target::Methods(allowed)
            }
            None if !allowed.is_empty() => Target::Methods(allowed),
            None => Target::None,
        }
    }

    /// Whether `req` goes to a route's handler.
    fn route_of(&self, req: &Request) -> Option<&Route> {
        if !self.knows(req.method()) {
            return None;
        }
        let path = normalize(req.path()).ok()?;
        match self.resolve(req.method(), &path) {
            Target::Route(route) => Some(route),
            _ => None,
        }
    }

    /// Whether anything here can answer `method`: HTTP defines it, or a route uses it.
    fn knows(&self, method: &str) -> bool {
        is_standard(method) || self.routes.iter().any(|r| r.method == method)
    }

    /// What the server as a whole allows, for requests that name no path.
    fn server_methods(&self) -> Vec<&str> {
        let mut methods: Vec<&str> = self.routes.iter().map(|r| r.method.as_str()).collect();
        if !self.mounts.is_empty() {
            methods.extend(files::ALLOW);
        }
        methods
    }
}

impl Handler for Router {
    fn handle(&self, req: &Request, res: &mut Response) {
        let method = req.method();
        if !self.knows(method) {
            return res.set_error(501);
        }
        // `OPTIONS *` and CONNECT's authority name no path: answer for the whole server.
        if req.path() == "*" || method == "CONNECT" {
            let status = if method == "OPTIONS" { 204 } else { 405 };
            return respond_allow(status, self.server_methods(), res);
        }
        let Ok(path) = normalize(req.path()) else {
            return res.set_error(400);
        };
        match self.resolve(req.method(), &path) {
            Target::Route(route) => {
                let params = route.pattern.matches(&path).unwrap_or_default();
                let matched = Matched {
                    path: &path,
                    params,
                };
                route.handler.handle(req, &matched, res);
            }
            Target::Methods(allowed) if method == "OPTIONS" => respond_allow(204, allowed, res),
            Target::Methods(allowed) => respond_allow(405, allowed, res),
            Target::Mount(mount) => {
                let rest = &path.segments[mount.segments.len()..];
                let trailing = path.trailing_slash || path.segments.is_empty();
                files::respond(req.method(), res, |res| {
                    match from_segments(rest, trailing) {
                        Ok(resolved) => {
                            mount
                                .files
                                .serve_resolved(&mount.location, &resolved, req, res)
                        }
                        Err(Refusal::BadRequest) => res.set_error(400),
                        Err(Refusal::NotFound) => res.set_error(404),
                    }
                });
            }
            Target::None => res.set_error(404),
        }
    }

    /// Only a route's handler can use the content; static files, 404 and 405 answer at once.
    fn wants_body(&self, req: &Request) -> bool {
        self.route_of(req).is_some()
    }

    /// As the route's handler says.
    fn intake(&self, req: &Request) -> Intake {
        self.route_of(req)
            .map_or_else(Intake::default, |route| route.handler.intake())
    }

    /// Routes the host's own threads answer need none of the server's.
    fn streams_bodies(&self) -> bool {
        self.routes
            .iter()
            .any(|r| r.handler.intake().stream && r.handler.placement() != Placement::HostThread)
    }

    /// As the route's handler says; static files, 404 and 405 are answered here.
    fn placement(&self, req: &Request) -> Placement {
        self.route_of(req)
            .map_or(Placement::Here, |route| route.handler.placement())
    }
}
