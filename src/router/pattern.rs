//! Route patterns: `/users/{id}/files/*`.
//!
//! A pattern is a list of segments: literals (compared with the decoded request segment),
//! `{name}` parameters (one whole segment each), and at the end an optional `*` that
//! takes the rest of the path, zero or more segments. A trailing `/` is significant unless
//! the pattern ends in `*`.

use std::borrow::Cow;
use std::fmt;

use crate::http::path::NormalPath;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Literal(Vec<u8>),
    Param(String),
    Wildcard,
}

/// A parsed route pattern.
#[derive(Clone, Debug)]
pub struct Pattern {
    segments: Vec<Segment>,
    trailing_slash: bool,
}

/// What is wrong with a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError(pub String);

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PatternError {}

/// Path parameters as (name, decoded value), in pattern order.
pub type Params<'p> = Vec<(&'p str, Cow<'p, [u8]>)>;

/// The name under which the rest of the path matched by `*` is found.
pub const WILDCARD: &str = "*";

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let err = |why: &str| Err(PatternError(format!("pattern {text:?}: {why}")));
        let Some(rest) = text.strip_prefix('/') else {
            return err("must start with /");
        };
        let mut segments = Vec::new();
        let parts: Vec<&str> = rest.split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let segment = match *part {
                "" if last => continue,
                "" => return err("has an empty segment"),
                "." | ".." => return err("has a dot segment"),
                "*" if last => Segment::Wildcard,
                "*" => return err("* may only be the last segment"),
                p if p.starts_with('{') && p.ends_with('}') => {
                    let name = &p[1..p.len() - 1];
                    if name.is_empty()
                        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    {
                        return err("a parameter name is letters, digits and _");
                    }
                    let taken = segments
                        .iter()
                        .any(|s| matches!(s, Segment::Param(n) if n == name));
                    if taken {
                        return err("repeats a parameter name");
                    }
                    Segment::Param(name.to_string())
                }
                p if p.contains(['{', '}', '*']) => {
                    return err("{, } and * must stand alone in a segment")
                }
                p => Segment::Literal(p.as_bytes().to_vec()),
            };
            segments.push(segment);
        }
        let trailing_slash = text.len() > 1 && text.ends_with('/');
        Ok(Pattern {
            segments,
            trailing_slash,
        })
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Whether the pattern ends in `/` (significant unless it ends in `*`).
    pub fn trailing_slash(&self) -> bool {
        self.trailing_slash
    }

    /// Matches a normalized path; on success, the parameters in pattern order, with the
    /// wildcard's rest (if any) under [`WILDCARD`].
    pub fn matches<'p>(&'p self, path: &'p NormalPath<'_>) -> Option<Params<'p>> {
        let mut params = Vec::new();
        let mut segments = path.segments.iter();
        for expected in &self.segments {
            match expected {
                Segment::Wildcard => {
                    let rest: Vec<&[u8]> = segments.by_ref().map(|s| &**s).collect();
                    let mut joined = rest.join(&b'/');
                    if path.trailing_slash && !rest.is_empty() {
                        joined.push(b'/');
                    }
                    params.push((WILDCARD, Cow::Owned(joined)));
                    return Some(params);
                }
                Segment::Literal(literal) => {
                    if segments.next().map(|s| &**s) != Some(literal.as_slice()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let value = segments.next()?;
                    params.push((name.as_str(), Cow::Borrowed(&**value)));
                }
            }
        }
        let exact = segments.next().is_none() && path.trailing_slash == self.trailing_slash;
        exact.then_some(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::path::normalize;

    fn params(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
        let p = Pattern::parse(pattern).unwrap();
        let n = normalize(path).unwrap();
        p.matches(&n).map(|v| {
            v.into_iter()
                .map(|(k, v)| (k.to_string(), String::from_utf8(v.into_owned()).unwrap()))
                .collect()
        })
    }

    fn kv(pairs: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn matching_table() {
        assert_eq!(params("/", "/"), kv(&[]));
        assert_eq!(params("/hello", "/hello"), kv(&[]));
        assert_eq!(params("/hello", "/hello/"), None);
        assert_eq!(params("/hello/", "/hello/"), kv(&[]));
        assert_eq!(
            params("/hello/{name}", "/hello/bob"),
            kv(&[("name", "bob")])
        );
        assert_eq!(
            params("/hello/{name}", "/hello/b%20o%2Fb"),
            kv(&[("name", "b o/b")])
        );
        assert_eq!(params("/hello/{name}", "/hello"), None);
        assert_eq!(params("/hello/{name}", "/hello/a/b"), None);
        assert_eq!(params("/caf\u{e9}", "/caf%C3%A9"), kv(&[]));
        assert_eq!(params("/files/*", "/files"), kv(&[("*", "")]));
        assert_eq!(
            params("/files/*", "/files/a/b.txt"),
            kv(&[("*", "a/b.txt")])
        );
        assert_eq!(params("/files/*", "/files/a/"), kv(&[("*", "a/")]));
        assert_eq!(
            params("/u/{id}/f/*", "/u/7/f/x/y"),
            kv(&[("id", "7"), ("*", "x/y")])
        );
        assert_eq!(params("/a/b", "/a/./c/../b"), kv(&[]));
    }

    #[test]
    fn bad_patterns() {
        for bad in [
            "", "x", "/a//b", "/a/*/b", "/{}", "/{a-b}", "/{a}/{a}", "/a{b}", "/../x", "/a*",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }
}
