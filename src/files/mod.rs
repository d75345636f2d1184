//! The static file server: a document root served read-only over GET and HEAD.

mod listing;
mod mime;
mod resolve;
mod send;
mod url;

use std::ffi::CString;
use std::fs::{File, Metadata};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use crate::http::encoding;
use crate::http::{Handler, Request, Response, ResponseError};
use crate::sys::file::{open_beneath, open_root};

pub use resolve::{from_segments, resolve, Refusal, Resolved};
pub use send::{open_regular, send_file, validators};
pub use url::push_path_encoded;

/// The methods a static mount allows, for `Allow` fields.
pub const ALLOW: &[u8] = b"GET, HEAD, OPTIONS";

/// Precompressed forms looked for beside a file, best first: the coding and the suffix.
const PRECOMPRESSED: [(&str, &[u8]); 2] = [("br", b".br"), ("gzip", b".gz")];

/// Serves the files under one directory. See the crate README for the rules: index.html for
/// directories, 301 to add a missing slash, 404 for what is missing or hidden, validators,
/// conditional requests and ranges, precompressed `.br`/`.gz` forms, and nothing outside
/// the root, ever.
#[derive(Debug)]
pub struct StaticFiles {
    root: OwnedFd,
    cache_control: Option<Vec<u8>>,
    listing: bool,
}

impl StaticFiles {
    /// Opens `dir` as the document root. Fails if it is not a directory.
    pub fn new(dir: impl AsRef<Path>) -> io::Result<StaticFiles> {
        let dir = dir.as_ref();
        let root = open_root(dir).map_err(|e| {
            io::Error::new(e.kind(), format!("document root {}: {}", dir.display(), e))
        })?;
        Ok(StaticFiles {
            root,
            cache_control: None,
            listing: false,
        })
    }

    /// Sends `Cache-Control: <value>` with every file (200, 206 and 304), e.g.
    /// `max-age=3600`. Off by default. The value must be a valid field value.
    pub fn with_cache_control(mut self, value: &str) -> Result<StaticFiles, ResponseError> {
        let valid = !value.is_empty()
            && value
                .bytes()
                .all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f));
        if !valid {
            return Err(ResponseError::InvalidHeaderValue);
        }
        self.cache_control = Some(value.as_bytes().to_vec());
        Ok(self)
    }

    /// Lists the entries of directories that have no index.html, instead of 404.
    /// Off by default.
    pub fn with_listing(mut self, listing: bool) -> StaticFiles {
        self.listing = listing;
        self
    }

    /// Answers a GET or HEAD for the request's path, relative to this root.
    pub fn serve(&self, req: &Request<'_>, res: &mut Response) {
        match resolve(req.path()) {
            Ok(resolved) => self.serve_resolved(b"", &resolved, req, res),
            Err(Refusal::BadRequest) => res.set_error(400),
            Err(Refusal::NotFound) => res.set_error(404),
        }
    }

    /// Answers a GET or HEAD for a path already resolved under this root. `mount` is the
    /// URL prefix the root is served at (`""` or `/files`, say), for redirects and
    /// listings.
    pub fn serve_resolved(
        &self,
        mount: &[u8],
        resolved: &Resolved,
        req: &Request<'_>,
        res: &mut Response,
    ) {
        let name: &[u8] = if resolved.relative.is_empty() {
            b"."
        } else {
            &resolved.relative
        };
        let (file, meta) = match self.open(name) {
            Ok(found) => found,
            Err(status) => return res.set_error(status),
        };
        if meta.is_dir() {
            if !resolved.trailing_slash {
                return redirect_to_slash(mount, &resolved.relative, req.query(), res);
            }
            let mut index = resolved.relative.clone();
            if !index.is_empty() {
                index.push(b'/');
            }
            index.extend_from_slice(b"index.html");
            match self.open(&index) {
                Ok((index_file, index_meta)) if index_meta.is_file() => {
                    self.send(index_file, &index_meta, &index, req, res)
                }
                Ok(_) | Err(404) if self.listing => {
                    listing::respond_listing(file, mount, &resolved.relative, res)
                }
                Ok(_) | Err(404) => res.set_error(404),
                Err(status) => res.set_error(status),
            }
        } else if meta.is_file() && !resolved.trailing_slash {
            self.send(file, &meta, name, req, res);
        } else {
            // A FIFO, socket or device, or a file asked for as a directory.
            res.set_error(404);
        }
    }

    /// Sends a regular file, or its precompressed form beside it (`name.br`, `name.gz`)
    /// when the request's Accept-Encoding prefers one: with `Content-Encoding`, the
    /// original's Content-Type and the form's own validators. `Vary: Accept-Encoding` goes
    /// on every response for a file that has such forms.
    fn send(
        &self,
        file: File,
        meta: &Metadata,
        name: &[u8],
        req: &Request<'_>,
        res: &mut Response,
    ) {
        let mut forms: Vec<(&str, File, Metadata)> = Vec::new();
        for (coding, suffix) in PRECOMPRESSED {
            let form_name = [name, suffix].concat();
            if let Ok((form, form_meta)) = self.open(&form_name) {
                if form_meta.is_file() {
                    forms.push((coding, form, form_meta));
                }
            }
        }
        if !forms.is_empty() {
            res.push_header("Vary", &[b"Accept-Encoding"]);
        }
        let codings: Vec<&str> = forms.iter().map(|(coding, _, _)| *coding).collect();
        match encoding::choose(&req.header_lines("accept-encoding"), &codings) {
            Some(chosen) => {
                let at = forms.iter().position(|(c, _, _)| *c == chosen).unwrap_or(0);
                let (coding, form, form_meta) = forms.swap_remove(at);
                res.push_header("Content-Encoding", &[coding.as_bytes()]);
                send_file(form, &form_meta, name, res);
            }
            None => send_file(file, meta, name, res),
        }
        if let Some(value) = &self.cache_control {
            res.push_header("Cache-Control", &[value]);
        }
    }

    /// Opens `relative` under the root and reads its metadata; errors are statuses.
    fn open(&self, relative: &[u8]) -> Result<(File, Metadata), u16> {
        let c_name = CString::new(relative).map_err(|_| 400u16)?;
        let file = open_beneath(self.root.as_fd(), &c_name).map_err(|e| status_for(&e))?;
        let meta = file.metadata().map_err(|_| 500u16)?;
        Ok((file, meta))
    }
}

impl Handler for StaticFiles {
    fn handle(&self, req: &Request<'_>, res: &mut Response) {
        respond(req.method(), res, |res| self.serve(req, res));
    }

    /// Files are read-only: no content is ever used, so a client waiting on
    /// `Expect: 100-continue` is answered at once.
    fn wants_body(&self, _req: &Request<'_>) -> bool {
        false
    }
}

/// Answers `method` the way a static mount does: GET and HEAD with `serve`, OPTIONS with
/// 204 and `Allow`, other methods with 405 or 501.
pub fn respond(method: &str, res: &mut Response, serve: impl FnOnce(&mut Response)) {
    match method {
        "GET" | "HEAD" => serve(res),
        "OPTIONS" => {
            let _ = res.set_status(204);
            res.push_header("Allow", &[ALLOW]);
        }
        method => method_not_allowed(method, ALLOW, res),
    }
}

/// 405 with `Allow` for a method HTTP defines, 501 for a method nobody here implements
/// (RFC 9110 §9.1, §15.6.2). Method names are case-sensitive: `get` is not `GET`.
pub fn method_not_allowed(method: &str, allow: &[u8], res: &mut Response) {
    const KNOWN: &[&str] = &[
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    if KNOWN.contains(&method) {
        res.set_error(405);
        res.push_header("Allow", &[allow]);
    } else {
        res.set_error(501);
    }
}

/// `/dir` names a directory: send the client to `/dir/`, keeping the query, so that
/// relative links in its index resolve against the directory. The location is built from
/// the resolved path, re-encoded, never from the raw target: `//evil.example/../dir` must
/// not become a redirect to another host.
fn redirect_to_slash(mount: &[u8], relative: &[u8], query: Option<&str>, res: &mut Response) {
    res.set_error(301);
    let mut location = Vec::with_capacity(mount.len() + relative.len() + 2);
    location.extend_from_slice(mount);
    location.push(b'/');
    if !relative.is_empty() {
        push_path_encoded(&mut location, relative);
        location.push(b'/');
    }
    if let Some(q) = query {
        location.push(b'?');
        location.extend_from_slice(q.as_bytes());
    }
    res.push_header("Location", &[&location]);
}

fn status_for(err: &io::Error) -> u16 {
    match err.raw_os_error() {
        // Missing, not a directory on the way, a symlink leaving the root (EXDEV), a loop;
        // a socket (ENXIO) or a device without a driver (ENODEV): nothing to serve.
        Some(
            libc::ENOENT
            | libc::ENOTDIR
            | libc::EXDEV
            | libc::ELOOP
            | libc::ENAMETOOLONG
            | libc::ENXIO
            | libc::ENODEV,
        ) => 404,
        Some(libc::EACCES | libc::EPERM) => 403,
        _ => 500,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_errors_become_statuses() {
        let status = |errno| status_for(&io::Error::from_raw_os_error(errno));
        for errno in [
            libc::ENOENT,
            libc::ENOTDIR,
            libc::EXDEV,
            libc::ELOOP,
            libc::ENXIO,
        ] {
            assert_eq!(status(errno), 404, "errno {errno}");
        }
        assert_eq!(status(libc::EACCES), 403);
        assert_eq!(status(libc::EPERM), 403);
        assert_eq!(status(libc::EIO), 500);
    }
}
