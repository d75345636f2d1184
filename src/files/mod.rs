//! The static file server: a document root served read-only over GET and HEAD.

mod cache;
mod listing;
mod mime;
mod resolve;
mod send;
mod url;

use std::ffi::CString;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::http::encoding;
use crate::http::methods::{is_standard, respond_allow};
use crate::http::response::{push_field, Source};
use crate::http::syntax::is_field_value;
use crate::http::{Handler, Request, Response, ResponseError};
use crate::sys::file::{open_beneath, open_root};
use cache::{Form, Found, Identity};

pub use resolve::{from_segments, resolve, Refusal, Resolved};
pub use send::{open_regular, open_under, push_file_fields, send_file, validators};
pub use url::push_path_encoded;

/// The methods a static mount allows (with HEAD and OPTIONS, which `Allow` always adds).
pub const ALLOW: [&str; 1] = ["GET"];

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
    /// Names this mount in each thread's lookup cache.
    id: u64,
    /// How long what was found under a name is trusted before it is looked up again.
    revalidate: Duration,
}

/// Mount ids, never reused, so that a new mount never sees an old one's cache entries.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// How long a lookup is trusted unless the mount says otherwise.
pub const DEFAULT_REVALIDATE: Duration = Duration::from_secs(1);

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
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            revalidate: DEFAULT_REVALIDATE,
        })
    }

    /// How long each worker thread trusts what it found under a name (the file, its
    /// fields, the content of a small file) before looking again: a file changed on disk
    /// is served changed at most this long after. One second by default; zero looks every
    /// file up for every request.
    pub fn with_revalidation(mut self, interval: Duration) -> StaticFiles {
        self.revalidate = interval;
        self
    }

    /// Sends `Cache-Control: <value>` with every file (200, 206 and 304), e.g.
    /// `max-age=3600`. Off by default. The value must be a valid field value.
    pub fn with_cache_control(mut self, value: &str) -> Result<StaticFiles, ResponseError> {
        if value.is_empty() || !is_field_value(value.as_bytes()) {
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
    pub fn serve(&self, req: &Request, res: &mut Response) {
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
        req: &Request,
        res: &mut Response,
    ) {
        let (directory, relative) = (resolved.trailing_slash, &resolved.relative[..]);
        if let Some(found) = cache::get(self.id, directory, relative, self.revalidate) {
            if self.send_found(&found, Vec::new(), req, res) {
                return;
            }
            cache::forget_name(self.id, directory, relative);
        }
        let name: &[u8] = if relative.is_empty() { b"." } else { relative };
        let (file, meta) = match self.open(name) {
            Ok(found) => found,
            Err(status) => return res.set_error(status),
        };
        if meta.is_dir() {
            if !directory {
                return redirect_to_slash(mount, relative, req.query(), res);
            }
            let mut index = relative.to_vec();
            if !index.is_empty() {
                index.push(b'/');
            }
            index.extend_from_slice(b"index.html");
            match self.open(&index) {
                Ok((index_file, index_meta)) if index_meta.is_file() => {
                    self.send(resolved, index_file, &index_meta, &index, req, res)
                }
                Ok(_) | Err(404) if self.listing => {
                    listing::respond_listing(file, mount, relative, res)
                }
                Ok(_) | Err(404) => res.set_error(404),
                Err(status) => res.set_error(status),
            }
        } else if meta.is_file() && !directory {
            self.send(resolved, file, &meta, name, req, res);
        } else {
            // A FIFO, socket or device, or a file asked for as a directory.
            res.set_error(404);
        }
    }

    /// Sends the regular file `name`, found for the request path `resolved`, and keeps what
    /// was found for the next requests.
    fn send(
        &self,
        resolved: &Resolved,
        file: File,
        meta: &Metadata,
        name: &[u8],
        req: &Request,
        res: &mut Response,
    ) {
        let (found, files) = self.find_forms(file, meta, name);
        let found = Rc::new(found);
        let (directory, relative) = (resolved.trailing_slash, &resolved.relative[..]);
        cache::put(self.id, directory, relative, self.revalidate, found.clone());
        if !self.send_found(&found, files, req, res) {
            res.set_error(500);
        }
    }

    /// What answers for the regular file `name`: the file, and its precompressed forms
    /// beside it (`name.br`, `name.gz`), each with its fields, validators and, when small,
    /// content. Also returns the files left open, those whose content was not read.
    fn find_forms(&self, file: File, meta: &Metadata, name: &[u8]) -> (Found, Vec<Option<File>>) {
        let mut opened = vec![(None, name.to_vec(), file, meta.clone())];
        for (coding, suffix) in PRECOMPRESSED {
            let form_name = [name, suffix].concat();
            if let Ok((form, form_meta)) = self.open(&form_name) {
                if form_meta.is_file() {
                    opened.push((Some(coding), form_name, form, form_meta));
                }
            }
        }
        let vary = opened.len() > 1;
        let mut forms = Vec::with_capacity(opened.len());
        let mut files = Vec::with_capacity(opened.len());
        for (coding, form_name, mut file, meta) in opened {
            let validators = validators(&meta);
            // `Vary: Accept-Encoding` goes on every response for a file that has
            // precompressed forms; the Content-Type is the original's.
            let mut fields = Vec::new();
            if vary {
                push_field(&mut fields, "Vary", &[b"Accept-Encoding"]);
            }
            if let Some(coding) = coding {
                push_field(&mut fields, "Content-Encoding", &[coding.as_bytes()]);
            }
            let type_start = fields.len();
            push_field(&mut fields, "Content-Type", &mime::content_type(name));
            let content_type = type_start..fields.len();
            push_file_fields(&mut fields, None, &validators);
            if let Some(value) = &self.cache_control {
                push_field(&mut fields, "Cache-Control", &[value]);
            }
            // A file written within the last second may be in the middle of a rewrite
            // whose new time fstat already shows: keep its bytes only once it has settled
            // (until then it is sent from the file, checked on every request).
            let settled = meta
                .modified()
                .ok()
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .is_some_and(|age| age >= Duration::from_secs(1));
            let content = if settled && meta.len() <= cache::MAX_CONTENT {
                read_whole(&mut file, meta.len())
            } else {
                None
            };
            files.push(content.is_none().then_some(file));
            forms.push(Form {
                coding,
                name: form_name,
                identity: Identity::of(&meta),
                validators,
                fields,
                content_type,
                content,
            });
        }
        (Found { forms }, files)
    }

    /// Answers with the form of `found` that the request's Accept-Encoding prefers. A large
    /// form is opened again unless `files` holds it open; false when it is no longer the
    /// file that was found (nothing is written to `res` then).
    fn send_found(
        &self,
        found: &Found,
        mut files: Vec<Option<File>>,
        req: &Request,
        res: &mut Response,
    ) -> bool {
        let mut at = 0;
        if found.forms.len() > 1 {
            let codings: Vec<&str> = found.forms.iter().filter_map(|f| f.coding).collect();
            let accept: Vec<&[u8]> = req.header_lines("accept-encoding").collect();
            if let Some(chosen) = encoding::choose(&accept, &codings) {
                at = found
                    .forms
                    .iter()
                    .position(|f| f.coding == Some(chosen))
                    .unwrap_or(0);
            }
        }
        let form = &found.forms[at];
        let source = match &form.content {
            Some(bytes) => Source::Memory(bytes.clone()),
            None => match files.get_mut(at).and_then(Option::take) {
                Some(file) => Source::File(Arc::new(file)),
                None => match self.open(&form.name) {
                    Ok((file, meta)) if Identity::of(&meta) == form.identity => {
                        Source::File(Arc::new(file))
                    }
                    _ => return false,
                },
            },
        };
        // A handler that set its own Content-Type before serving the file keeps it.
        let fields = &form.fields;
        res.push_fields(&fields[..form.content_type.start]);
        if !res.has_header("content-type") {
            res.push_fields(&fields[form.content_type.clone()]);
        }
        res.push_fields(&fields[form.content_type.end..]);
        res.set_source(source, 0, form.identity.size());
        res.set_validators(form.validators.clone());
        true
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
    fn handle(&self, req: &Request, res: &mut Response) {
        respond(req.method(), res, |res| self.serve(req, res));
    }

    /// Files are read-only: no content is ever used, so a client waiting on
    /// `Expect: 100-continue` is answered at once.
    fn wants_body(&self, _req: &Request) -> bool {
        false
    }
}

/// Answers `method` the way a static mount does: GET and HEAD with `serve`, OPTIONS with
/// 204 and `Allow`, the other methods HTTP defines with 405 and `Allow`, and a method
/// nobody here implements with 501 (RFC 9110 §9.1, §15.6.2; methods are case-sensitive:
/// `get` is not `GET`).
pub fn respond(method: &str, res: &mut Response, serve: impl FnOnce(&mut Response)) {
    match method {
        "GET" | "HEAD" => serve(res),
        "OPTIONS" => respond_allow(204, ALLOW, res),
        method if is_standard(method) => respond_allow(405, ALLOW, res),
        _ => res.set_error(501),
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

/// The whole content of a small file, or None if it did not read back at the size its
/// metadata gave (it is being written: it is then sent from the file, and checked there).
fn read_whole(file: &mut File, len: u64) -> Option<Arc<[u8]>> {
    let mut content = Vec::with_capacity(usize::try_from(len).ok()?);
    file.by_ref().take(len + 1).read_to_end(&mut content).ok()?;
    (content.len() as u64 == len).then(|| content.into())
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
        // Out of descriptors or kernel memory: the server is busy, not broken.
        Some(libc::EMFILE | libc::ENFILE | libc::ENOMEM) => 503,
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
        assert_eq!(status(libc::EMFILE), 503);
        assert_eq!(status(libc::ENFILE), 503);
        assert_eq!(status(libc::EIO), 500);
    }
}
