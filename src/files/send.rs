//! A file as a response: Content-Type, validators, and the body sent with sendfile.

use std::fs::{File, Metadata};
use std::io;
use std::path::Path;

use super::mime;
use super::resolve::{from_segments, Refusal};
use crate::http::conditional::Validators;
use crate::http::response::push_field;
use crate::http::Response;
use crate::sys::file::{open_beneath, open_root};

/// The response for a regular file (RFC 9110 §8): its Content-Type from `name` (unless the
/// response has one), validators (a strong ETag and Last-Modified), `Accept-Ranges: bytes`,
/// and the file itself as the body. Conditional requests and ranges are answered from
/// these once the handler returns.
pub fn send_file(file: File, meta: &Metadata, name: &[u8], res: &mut Response) {
    let validators = validators(meta);
    let name = (!res.has_header("content-type")).then_some(name);
    push_file_fields(res.fields_mut(), name, &validators);
    res.set_file(file, 0, meta.len());
    res.set_validators(validators);
}

/// Serializes the fields of a file's representation: Content-Type from `name` (when
/// given), ETag, Last-Modified and Accept-Ranges.
pub fn push_file_fields(buf: &mut Vec<u8>, name: Option<&[u8]>, validators: &Validators) {
    if let Some(name) = name {
        push_field(buf, "Content-Type", &mime::content_type(name));
    }
    push_field(buf, "ETag", &[&validators.etag]);
    push_field(buf, "Last-Modified", &[&validators.last_modified_text()]);
    push_field(buf, "Accept-Ranges", &[b"bytes"]);
}

/// The validators of a file's current state. The entity tag joins the inode, the
/// modification time in nanoseconds and the size: the same file state gives the same tag,
/// and a change of content changes the time (or the size, or the inode when the file is
/// replaced), so the tag is strong (RFC 9110 §8.8.3). A modification time in the future
/// is replaced by the current time (§8.8.2.1 requires it).
pub fn validators(meta: &Metadata) -> Validators {
    use std::os::unix::fs::MetadataExt;
    let mtime_ns = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
    let etag = format!(
        "\"{:x}-{:x}-{:x}\"",
        meta.ino(),
        mtime_ns.max(0),
        meta.size()
    );
    let now = crate::http::date::unix_now();
    Validators {
        etag: etag.into_bytes().into(),
        last_modified: u64::try_from(meta.mtime()).unwrap_or(0).min(now),
    }
}

/// Opens a regular file by path for a handler's response: the host picked the path, so it
/// is not confined to any root. O_NONBLOCK keeps a FIFO from blocking the open; anything
/// but a regular file is refused.
pub fn open_regular(path: &Path) -> io::Result<(File, Metadata)> {
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
    Ok((file, meta))
}

/// Opens the regular file `relative` below the directory `dir`, the way a static mount
/// would: `relative` is split at `/` (empty parts are skipped, so a leading `/` stays below
/// `dir`), a part starting with `.` (a dotfile, `..`) is hidden, and the kernel refuses any
/// resolution that leaves `dir`, through a symlink too (`openat2` with RESOLVE_BENEATH).
/// Missing and hidden files are `NotFound`; anything but a regular file is `InvalidInput`.
pub fn open_under(dir: &Path, relative: &[u8]) -> io::Result<(File, Metadata)> {
    let segments: Vec<std::borrow::Cow<'_, [u8]>> = relative
        .split(|&b| b == b'/')
        .filter(|s| !s.is_empty())
        .map(std::borrow::Cow::Borrowed)
        .collect();
    let not_found = || io::Error::new(io::ErrorKind::NotFound, "no such file below the root");
    let resolved = match from_segments(&segments, false) {
        Ok(resolved) if !resolved.relative.is_empty() => resolved,
        Ok(_) | Err(Refusal::NotFound | Refusal::BadRequest) => return Err(not_found()),
    };
    let name = std::ffi::CString::new(resolved.relative).map_err(|_| not_found())?;
    let root = open_root(dir)?;
    let file = open_beneath(std::os::fd::AsFd::as_fd(&root), &name).map_err(|e| {
        match e.raw_os_error() {
            Some(libc::EXDEV | libc::ELOOP | libc::ENOTDIR) => not_found(),
            _ => e,
        }
    })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok((file, meta))
}
