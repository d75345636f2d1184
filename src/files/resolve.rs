//! From a request path to a file name under the document root.
//!
//! The path is percent-decoded exactly once, then split into segments with dot-segments
//! removed (RFC 3986 §5.2.4). A `..` that would climb above the root, a NUL byte, or a bad
//! escape is a bad request; a segment starting with `.` (a dotfile, `.git`, ...) is hidden.
//! What comes out never starts with `/` and never holds a `..` segment, and the kernel
//! checks again when the file is opened (RESOLVE_BENEATH), so symlinks cannot escape either.

use crate::http::uri::percent_decode;

/// A path that may name something under the root.
#[derive(Debug, PartialEq, Eq)]
pub struct Resolved {
    /// Segments joined by `/`, relative to the root; empty for the root itself.
    pub relative: Vec<u8>,
    /// The path asked for a directory (it ended in `/`, `/.` or `/..`).
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
    let decoded = percent_decode(raw_path.as_bytes()).ok_or(Refusal::BadRequest)?;
    if decoded.first() != Some(&b'/') || decoded.contains(&0) {
        return Err(Refusal::BadRequest);
    }
    let mut segments: Vec<&[u8]> = Vec::new();
    let mut trailing_slash = false;
    for segment in decoded[1..].split(|&b| b == b'/') {
        trailing_slash = matches!(segment, b"" | b"." | b"..");
        match segment {
            b"" | b"." => {}
            b".." => {
                segments.pop().ok_or(Refusal::BadRequest)?;
            }
            s if s[0] == b'.' => return Err(Refusal::NotFound),
            s => segments.push(s),
        }
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
            ("/with%20space", ok("with space", false)),
            ("/a%2fb", ok("a/b", false)),
            ("/%C3%A9t%C3%A9", ok("été", false)),
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
