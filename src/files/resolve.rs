//! From a request path to a file name under the document root.
//!
//! The path is normalized by `http::path` (percent-decoded once per segment, dot-segments
//! removed; a `..` climbing above the root, a NUL byte or a bad escape is a bad request).
//! Then the file rules apply: a segment starting with `.` (a dotfile, `.git`) is hidden,
//! and so is a segment holding an encoded `/`. What
//! comes out never starts with `/` and never holds a `..` segment, and the kernel checks
//! again when the file is opened (RESOLVE_BENEATH), so symlinks cannot escape either.

use std::borrow::Cow;

use crate::http::path::normalize;

/// A path that may name something under the root.
#[derive(Debug, PartialEq, Eq)]
pub struct Resolved {
    /// Segments joined by `/`, relative to the root; empty for the root itself.
    pub relative: Vec<u8>,
    /// The path asked for a directory: it ended in `/` (or was the root itself).
    pub trailing_slash: bool,
}

/// Why a path names nothing servable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Malformed, or climbing out of the root: 400.
    BadRequest,
    /// Hidden: 404.
    NotFound,
}

/// Resolves a percent-encoded absolute path; see the module docs.
pub fn resolve(raw_path: &str) -> Result<Resolved, Refusal> {
    let path = normalize(raw_path).map_err(|_| Refusal::BadRequest)?;
    let trailing_slash = path.trailing_slash || path.segments.is_empty();
    from_segments(&path.segments, trailing_slash)
}

/// Applies the file rules to decoded, normalized segments (relative to a mount).
pub fn from_segments(
    segments: &[Cow<'_, [u8]>],
    trailing_slash: bool,
) -> Result<Resolved, Refusal> {
    let hidden = |s: &[u8]| s.first() == Some(&b'.') || s.contains(&b'/');
    if segments.iter().any(|s| hidden(s)) {
        return Err(Refusal::NotFound);
    }
    Ok(Resolved {
        relative: segments.join(&b'/'),
        trailing_slash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(relative: &str, trailing_slash: bool) -> Result<Resolved, Refusal> {
        Ok(Resolved {
            relative: relative.as_bytes().to_vec(),
            trailing_slash,
        })
    }

    #[test]
    fn resolves_table() {
        let cases: &[(&str, Result<Resolved, Refusal>)] = &[
            ("/", ok("", true)),
            ("/a.txt", ok("a.txt", false)),
            ("/dir/", ok("dir", true)),
            ("/dir", ok("dir", false)),
            ("/a//b", ok("a/b", false)),
            ("/a/./b", ok("a/b", false)),
            ("/a/../b", ok("b", false)),
            ("/a/b/..", ok("a", true)),
            ("/a/.", ok("a", true)),
            ("/a/..", ok("", true)),
            ("/with%20space", ok("with space", false)),
            ("/%C3%A9t%C3%A9", ok("été", false)),
            ("/a%2fb", Err(Refusal::NotFound)),
            ("/..%5c..%5cetc", Err(Refusal::NotFound)),
            ("/..", Err(Refusal::BadRequest)),
            ("/../etc/passwd", Err(Refusal::BadRequest)),
            ("/a/../../etc", Err(Refusal::BadRequest)),
            ("/%2e%2e/etc/passwd", Err(Refusal::BadRequest)),
            ("/%2E%2E%2Fetc%2Fpasswd", Err(Refusal::BadRequest)),
            ("/..%2f..%2fetc", Err(Refusal::BadRequest)),
            ("/a.txt%00.html", Err(Refusal::BadRequest)),
            ("/%zz", Err(Refusal::BadRequest)),
            ("/.git/config", Err(Refusal::NotFound)),
            ("/dir/.hidden", Err(Refusal::NotFound)),
            ("/%2ehidden", Err(Refusal::NotFound)),
            ("*", Err(Refusal::BadRequest)),
        ];
        for (path, want) in cases {
            assert_eq!(&resolve(path), want, "{path}");
        }
    }
}
