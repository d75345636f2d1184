//! Request paths as segments: percent-decoded one segment at a time, with dot-segments
//! removed (RFC 3986 §5.2.4) and empty segments dropped.
//!
//! Decoding each segment on its own keeps an encoded slash (`%2F`) inside its segment, so a
//! route parameter can hold one (`a%2Fb` is `a/b`); the file server refuses such segments.
//! What comes out never holds a `.` or `..` segment, however it was spelled: a segment
//! whose decoded slashes would make one (`..%2F..`), or an empty one (`a%2F%2Fb`, a leading
//! `%2F`), is refused, so that a handler joining a parameter to a directory stays in it.

use std::borrow::Cow;

use super::syntax::percent_decode;

/// A normalized path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalPath<'a> {
    pub segments: Vec<Cow<'a, [u8]>>,
    /// The path named a directory: it ended in `/`, `/.` or `/..` (and is not just `/`).
    pub trailing_slash: bool,
}

/// Why a path cannot be normalized: a bad escape, a NUL byte, a `..` climbing above `/`, an
/// encoded slash that makes a dot or empty segment, or no leading `/`. All mean 400.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadPath;

/// Normalizes a percent-encoded absolute path; see the module docs.
pub fn normalize(raw_path: &str) -> Result<NormalPath<'_>, BadPath> {
    let rest = raw_path.strip_prefix('/').ok_or(BadPath)?;
    let mut segments: Vec<Cow<'_, [u8]>> = Vec::new();
    let mut trailing_slash = false;
    for raw in rest.split('/') {
        let segment = percent_decode(raw.as_bytes()).ok_or(BadPath)?;
        // Only a decoded segment can hold a NUL or a slash.
        if matches!(segment, Cow::Owned(_))
            && (segment.contains(&0) || hides_a_dot_segment(&segment))
        {
            return Err(BadPath);
        }
        trailing_slash = matches!(&*segment, b"" | b"." | b"..");
        match &*segment {
            b"" | b"." => {}
            b".." => {
                segments.pop().ok_or(BadPath)?;
            }
            _ => segments.push(segment),
        }
    }
    Ok(NormalPath {
        trailing_slash: trailing_slash && !segments.is_empty(),
        segments,
    })
}

/// Whether a decoded segment holds slashes that, read as separators, would give a `.`,
/// `..` or empty segment.
fn hides_a_dot_segment(segment: &[u8]) -> bool {
    segment.contains(&b'/')
        && segment
            .split(|&b| b == b'/')
            .any(|part| matches!(part, b"" | b"." | b".."))
}

impl NormalPath<'_> {
    /// The decoded path as one string of bytes: `/a/b`, `/a/b/`, or `/`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for segment in &self.segments {
            out.push(b'/');
            out.extend_from_slice(segment);
        }
        if self.segments.is_empty() || self.trailing_slash {
            out.push(b'/');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(path: &str) -> Result<(Vec<String>, bool), BadPath> {
        let p = normalize(path)?;
        let segments = p
            .segments
            .iter()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect();
        Ok((segments, p.trailing_slash))
    }

    #[test]
    fn normalizes_table() {
        let ok: &[(&str, &[&str], bool)] = &[
            ("/", &[], false),
            ("/a", &["a"], false),
            ("/a/", &["a"], true),
            ("/a//b", &["a", "b"], false),
            ("/a/./b/", &["a", "b"], true),
            ("/a/../b", &["b"], false),
            ("/a/b/..", &["a"], true),
            ("/a/..", &[], false),
            ("/a%2Fb/c", &["a/b", "c"], false),
            ("/a%2F.b", &["a/.b"], false),
            ("/caf%C3%A9", &["café"], false),
            ("/a%20b", &["a b"], false),
        ];
        for (path, want, slash) in ok {
            let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            assert_eq!(segs(path), Ok((want, *slash)), "{path}");
        }
        for bad in [
            "",
            "a",
            "*",
            "/..",
            "/a/../..",
            "/%2e%2e/x",
            "/%zz",
            "/a%00b",
            "/%",
            "/%2e%2e%2fetc",
            "/p/..%2F..%2Fetc",
            "/a%2F..",
            "/.%2Fa",
            "/%2Fetc",
            "/a%2F",
            "/a%2F%2Fb",
        ] {
            assert_eq!(segs(bad), Err(BadPath), "{bad}");
        }
        assert_eq!(normalize("/a/./b/").unwrap().to_bytes(), b"/a/b/");
        assert_eq!(normalize("/a/..").unwrap().to_bytes(), b"/");
    }
}
