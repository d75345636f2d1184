//! Request targets (RFC 9112 §3.2): the four forms, split into path, query and authority.

use crate::http::uri::valid_authority;

/// The four forms a request target can take, split into the parts a handler needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target<'a> {
    /// The path, still percent-encoded; `*` for the asterisk form, the authority for CONNECT.
    pub path: &'a str,
    /// What follows the first `?`, without it.
    pub query: Option<&'a str>,
    /// The authority of an absolute-form target, which replaces the Host field (§3.2.2).
    pub authority: Option<&'a str>,
}

/// Splits a request target. `None` means the target is malformed (400).
pub fn parse_target<'a>(target: &'a str, method: &str) -> Option<Target<'a>> {
    if target.is_empty() || !valid_target_bytes(target) {
        return None;
    }
    if target == "*" {
        // The asterisk form exists only for a server-wide OPTIONS (RFC 9112 §3.2.4).
        return (method == "OPTIONS").then_some(Target {
            path: "*",
            query: None,
            authority: None,
        });
    }
    if method == "CONNECT" {
        // Authority form (RFC 9112 §3.2.3): host:port and nothing else.
        let valid = valid_authority(target.as_bytes()) && target.contains(':');
        return valid.then_some(Target {
            path: target,
            query: None,
            authority: Some(target),
        });
    }
    if target.starts_with('/') {
        let (path, query) = split_query(target);
        return Some(Target {
            path,
            query,
            authority: None,
        });
    }
    absolute_form(target)
}

/// RFC 3986 allows only some ASCII in a URI; httparse lets more through. Refused here:
/// anything outside visible ASCII, `#` (a fragment is never sent), and the characters that
/// browsers always percent-encode (`"`, `<`, `>` anywhere; `` ` ``, `{`, `}` in the path).
/// `|`, `^` and `\` are let through because browsers send them as they are.
fn valid_target_bytes(target: &str) -> bool {
    let mut in_query = false;
    target.bytes().all(|b| match b {
        b'?' => {
            in_query = true;
            true
        }
        b'#' | b'"' | b'<' | b'>' => false,
        b'`' | b'{' | b'}' => in_query,
        b => b.is_ascii_graphic(),
    })
}

fn split_query(path_and_query: &str) -> (&str, Option<&str>) {
    match path_and_query.bytes().position(|b| b == b'?') {
        Some(at) => (&path_and_query[..at], Some(&path_and_query[at + 1..])),
        None => (path_and_query, None),
    }
}

/// `http://authority/path?query` (RFC 9112 §3.2.2); an empty path means `/`.
fn absolute_form(target: &str) -> Option<Target<'_>> {
    let (scheme, rest) = target.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(end);
    if authority.is_empty() || authority.contains('@') || !valid_authority(authority.as_bytes()) {
        return None;
    }
    let (path, query) = split_query(path_and_query);
    Some(Target {
        path: if path.is_empty() { "/" } else { path },
        query,
        authority: Some(authority),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_forms() {
        let t = |s, m| parse_target(s, m);
        assert_eq!(t("/a/b?x=1", "GET").unwrap().path, "/a/b");
        assert_eq!(t("/a/b?x=1", "GET").unwrap().query, Some("x=1"));
        assert_eq!(t("*", "OPTIONS").unwrap().path, "*");
        assert!(t("*", "GET").is_none());
        assert!(t("/a#frag", "GET").is_none());
        assert!(t("/caf\u{e9}", "GET").is_none());
        assert!(t("/<script>", "GET").is_none());
        assert!(t("/a\"b", "GET").is_none());
        assert!(t("/{x}", "GET").is_none());
        assert!(t("/a`b", "GET").is_none());
        assert!(t("/a?q=\"x\"", "GET").is_none());
        assert_eq!(t("/a|b^c?q={x}|`", "GET").unwrap().query, Some("q={x}|`"));
        assert!(t("a/b", "GET").is_none());
        let abs = t("http://example.com:8080/p?q", "GET").unwrap();
        assert_eq!(abs.path, "/p");
        assert_eq!(abs.query, Some("q"));
        assert_eq!(abs.authority, Some("example.com:8080"));
        assert_eq!(t("HTTP://example.com", "GET").unwrap().path, "/");
        assert!(t("ftp://example.com/", "GET").is_none());
        assert!(t("http://user@example.com/", "GET").is_none());
        assert!(t("http:///p", "GET").is_none());
        assert_eq!(
            t("example.com:443", "CONNECT").unwrap().authority,
            Some("example.com:443")
        );
        assert!(t("example.com", "CONNECT").is_none());
    }
}
