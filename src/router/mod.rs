//! Routing: requests go to handlers registered by method and path pattern, or to static
//! file mounts by URL prefix.
//!
//! For each request the path is normalized once. Routes are kept from most to least
//! specific (registration order breaks ties), so the first route whose pattern and method
//! both match wins; a GET route also answers HEAD. A path that only routes with other
//! methods match gets 405 with `Allow` (or 204 with `Allow` for OPTIONS). Otherwise the
//! longest mount prefix covering the path serves it; otherwise 404.

mod pattern;

use std::fmt;
use std::sync::Arc;

use crate::files::{self, from_segments, Refusal, StaticFiles};
use crate::http::path::{normalize, NormalPath};
use crate::http::{Handler, Request, Response};

pub use pattern::{Params, Pattern, PatternError, WILDCARD};

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
    fn handle(&self, req: &Request<'_>, route: &Matched<'_>, res: &mut Response);
}

impl<F> RouteHandler for F
where
    F: Fn(&Request<'_>, &Matched<'_>, &mut Response) + Send + Sync,
{
    fn handle(&self, req: &Request<'_>, route: &Matched<'_>, res: &mut Response) {
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
    routes: Vec<Route>,
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
        // Keep routes sorted from most to least specific; equals stay in registration order.
        let at = self
            .routes
            .partition_point(|r| r.pattern.specificity(&pattern).is_le());
        self.routes.insert(
            at,
            Route {
                method: method.to_string(),
                pattern,
                handler,
            },
        );
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
        let mut get_route = None;
        for route in &self.routes {
            if route.pattern.matches(path).is_none() {
                continue;
            }
            if route.method == method {
                return Target::Route(route);
            }
            if route.method == "GET" && get_route.is_none() {
                get_route = Some(route);
            }
            if !allowed.contains(&route.method.as_str()) {
                allowed.push(&route.method);
            }
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
                allowed.push("GET");
                Target::Methods(allowed)
            }
            None if !allowed.is_empty() => Target::Methods(allowed),
            None => Target::None,
        }
    }

    /// Whether `req` goes to a route's handler.
    fn routes_to_handler(&self, req: &Request<'_>) -> bool {
        match normalize(req.path()) {
            Ok(path) => matches!(self.resolve(req.method(), &path), Target::Route(_)),
            Err(_) => false,
        }
    }

    /// `OPTIONS *`: what the server as a whole allows.
    fn server_options(&self, res: &mut Response) {
        let mut allowed: Vec<&str> = self.routes.iter().map(|r| r.method.as_str()).collect();
        if !self.mounts.is_empty() {
            allowed.push("GET");
        }
        respond_allow(204, allowed, res);
    }
}

/// `status` with an `Allow` field listing `methods`, plus HEAD where GET is allowed and
/// OPTIONS, which is always answered.
fn respond_allow(status: u16, mut methods: Vec<&str>, res: &mut Response) {
    if methods.contains(&"GET") && !methods.contains(&"HEAD") {
        methods.push("HEAD");
    }
    if !methods.contains(&"OPTIONS") {
        methods.push("OPTIONS");
    }
    if status == 204 {
        let _ = res.set_status(204);
    } else {
        res.set_error(status);
    }
    res.push_header("Allow", &[methods.join(", ").as_bytes()]);
}

impl Handler for Router {
    fn handle(&self, req: &Request<'_>, res: &mut Response) {
        if req.path() == "*" {
            return self.server_options(res);
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
            Target::Methods(allowed) if req.method() == "OPTIONS" => {
                respond_allow(204, allowed, res)
            }
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
    fn wants_body(&self, req: &Request<'_>) -> bool {
        self.routes_to_handler(req)
    }

    /// Route handlers are host code; static files, 404 and 405 are not.
    fn may_block(&self, req: &Request<'_>) -> bool {
        self.routes_to_handler(req)
    }
}
