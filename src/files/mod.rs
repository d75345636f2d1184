//! The static file server: a document root served read-only over GET and HEAD.

mod mime;
mod resolve;

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use crate::http::{Handler, Request, Response};
use crate::sys::file::{open_beneath, open_root};

pub use resolve::{from_segments, resolve, Refusal, Resolved};

/// The methods a static mount allows, for `Allow` fields.
pub const ALLOW: &[u8] = b"GET, HEAD, OPTIONS";

/// Serves the files under one directory. See the crate README for the rules: index.html for
/// directories, 301 to add a missing slash, 404 for what is missing or hidden, and nothing
/// outside the root, ever.
#[derive(Debug)]
pub struct StaticFiles {
    root: OwnedFd,
}

impl StaticFiles {
    /// Opens `dir` as the document root. Fails if it is not a directory.
    pub fn new(dir: impl AsRef<Path>) -> io::Result<StaticFiles> {
        let dir = dir.as_ref();
        let root = open_root(dir).map_err(|e| {
            io::Error::new(e.kind(), format!("document root {}: {}", dir.display(), e))
        })?;
        Ok(StaticFiles { root })
    }

    /// Answers a GET or HEAD for `raw_path` (percent-encoded, starting with `/`, relative
    /// to this root); `query` is kept on redirects.
    pub fn serve(&self, raw_path: &str, query: Option<&str>, res: &mut Response) {
        match resolve(raw_path) {
            Ok(resolved) => self.serve_resolved(b"", &resolved, query, res),
            Err(Refusal::BadRequest) => res.set_error(400),
            Err(Refusal::NotFound) => res.set_error(404),
        }
    }

    /// Answers a GET or HEAD for a path already resolved under this root. `mount` is the
    /// URL prefix the root is served at (`""` or `/files`, say), for redirects.
    pub fn serve_resolved(
        &self,
        mount: &[u8],
        resolved: &Resolved,
        query: Option<&str>,
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
                return redirect_to_slash(mount, &resolved.relative, query, res);
            }
            let mut index = resolved.relative.clone();
            if !index.is_empty() {
                index.push(b'/');
            }
            index.extend_from_slice(b"index.html");
            match self.open(&index) {
                Ok((file, meta)) if meta.is_file() => send_file(file, meta.len(), &index, res),
                Ok(_) | Err(404) => res.set_error(404),
                Err(status) => res.set_error(status),
            }
        } else if meta.is_file() && !resolved.trailing_slash {
            send_file(file, meta.len(), name, res);
        } else {
            // A FIFO, socket or device, or a file asked for as a directory.
            res.set_error(404);
        }
    }

    /// Opens `relative` under the root and reads its metadata; errors are statuses.
    fn open(&self, relative: &[u8]) -> Result<(File, std::fs::Metadata), u16> {
        let c_name = CString::new(relative).map_err(|_| 400u16)?;
        let file = open_beneath(self.root.as_fd(), &c_name).map_err(|e| status_for(&e))?;
        let meta = file.metadata().map_err(|_| 500u16)?;
        Ok((file, meta))
    }
}

impl Handler for StaticFiles {
    fn handle(&self, req: &Request<'_>, res: &mut Response) {
        respond(req.method(), res, |res| {
            self.serve(req.path(), req.query(), res)
        });
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

/// The response for a regular file: its Content-Type (unless the response has one), and
/// the file itself as the body.
pub fn send_file(file: File, len: u64, name: &[u8], res: &mut Response) {
    if !res.has_header("content-type") {
        res.push_header("Content-Type", &mime::content_type(name));
    }
    res.set_file(file, 0, len);
}

/// Opens a regular file by path for a handler's response: the host picked the path, so it
/// is not confined to any root. O_NONBLOCK keeps a FIFO from blocking the open; anything
/// but a regular file is refused.
pub fn open_regular(path: &Path) -> io::Result<(File, u64)> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    Ok((file, meta.len()))
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

/// Appends `path` percent-encoded for a URI path: `/` stays a separator, and only
/// unreserved characters, sub-delims, `:` and `@` stay as they are (RFC 3986 §3.3).
pub fn push_path_encoded(out: &mut Vec<u8>, path: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in path {
        if b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

fn status_for(err: &io::Error) -> u16 {
    match err.raw_os_error() {
        // Missing, not a directory on the way, a symlink leaving the root (EXDEV), a loop.
        Some(libc::ENOENT | libc::ENOTDIR | libc::EXDEV | libc::ELOOP | libc::ENAMETOOLONG) => 404,
        Some(libc::EACCES | libc::EPERM) => 403,
        _ => 500,
    }
}
