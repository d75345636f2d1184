//! Request targets (RFC 9112 §3.2) and percent-decoding (RFC 3986 §2.1).

use std::borrow::Cow;

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
    let (path, query) = split_query(target);
    let visible = |b: u8| b.is_ascii_graphic() && !b"#\"<>".contains(&b);
    path.bytes().all(|b| visible(b) && !b"`{}".contains(&b))
        && query.is_none_or(|q| q.bytes().all(visible))
}

fn split_query(path_and_query: &str) -> (&str, Option<&str>) {
    match path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
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

/// Whether `value` is a valid `uri-host [ ":" port ]` (RFC 9110 §7.2, RFC 3986 §3.2.2),
/// as a Host field value must be. An empty value is valid: a client sends one when the
/// target URI has no authority.
pub fn valid_authority(value: &[u8]) -> bool {
    let port = if value.first() == Some(&b'[') {
        let Some(close) = value.iter().position(|&b| b == b']') else {
            return false;
        };
        let literal = &value[1..close];
        let ok = !literal.is_empty()
            && literal
                .iter()
                .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !ok {
            return false;
        }
        &value[close + 1..]
    } else {
        let end = value.iter().position(|&b| b == b':').unwrap_or(value.len());
        let host = &value[..end];
        if !host.iter().all(|&b| is_reg_name_byte(b)) || !valid_percent_escapes(host) {
            return false;
        }
        &value[end..]
    };
    match port.split_first() {
        None => true,
        Some((b':', digits)) => digits.iter().all(u8::is_ascii_digit),
        Some(_) => false,
    }
}

fn is_reg_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b)
}

fn valid_percent_escapes(bytes: &[u8]) -> bool {
    percent_decode(bytes).is_some()
}

/// Decodes `%XX` escapes once. `None` when an escape is malformed. Borrows when there is
/// nothing to decode.
pub fn percent_decode(bytes: &[u8]) -> Option<Cow<'_, [u8]>> {
    let Some(first) = bytes.iter().position(|&b| b == b'%') else {
        return Some(Cow::Borrowed(bytes));
    };
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..first]);
    let mut i = first;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex_value(*bytes.get(i + 1)?)?;
            let lo = hex_value(*bytes.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(Cow::Owned(out))
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
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

    #[test]
    fn authorities() {
        for ok in [
            "",
            "example.com",
            "a.b:80",
            "127.0.0.1:8080",
            "[::1]",
            "[::1]:80",
            "x%41y",
        ] {
            assert!(valid_authority(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "a b", "a/b", "a:b", "[::1", "[]", "a@b", "x%4", "[::1]x", "a:80:90",
        ] {
            assert!(!valid_authority(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn decoding() {
        assert_eq!(&*percent_decode(b"/a%20b").unwrap(), b"/a b");
        assert_eq!(&*percent_decode(b"%2e%2E").unwrap(), b"..");
        assert_eq!(&*percent_decode(b"%00").unwrap(), b"\0");
        assert!(percent_decode(b"%zz").is_none());
        assert!(percent_decode(b"%4").is_none());
        assert!(matches!(
            percent_decode(b"/plain").unwrap(),
            Cow::Borrowed(_)
        ));
    }
}
