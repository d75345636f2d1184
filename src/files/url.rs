//! Writing names into URLs and HTML.

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `path` percent-encoded for a URI path: `/` stays a separator, and only
/// unreserved characters, sub-delims, `:` and `@` stay as they are (RFC 3986 §3.3).
pub fn push_path_encoded(out: &mut Vec<u8>, path: &[u8]) {
    push_encoded(out, path, b"/-._~!$&'()*+,;=:@");
}

/// Appends one file name encoded as a relative reference for an HTML attribute: like a
/// path segment, with `:` encoded too, so that `a:b` cannot read as a URI scheme (RFC 3986
/// §4.2), and `&` and `'` encoded, so the result needs no HTML escaping.
pub fn push_name_encoded(out: &mut Vec<u8>, name: &[u8]) {
    push_encoded(out, name, b"-._~!$()*+,;=@");
}

fn push_encoded(out: &mut Vec<u8>, bytes: &[u8], keep: &[u8]) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

/// Appends text escaped for HTML content and attribute values.
pub fn push_html_escaped(out: &mut Vec<u8>, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '"' => out.extend_from_slice(b"&quot;"),
            '\'' => out.extend_from_slice(b"&#39;"),
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let mut out = Vec::new();
        push_path_encoded(&mut out, "a b/c:d%é".as_bytes());
        assert_eq!(out, b"a%20b/c:d%25%C3%A9");
        out.clear();
        push_name_encoded(&mut out, b"a:b/c?&'");
        assert_eq!(out, b"a%3Ab%2Fc%3F%26%27");
        out.clear();
        push_html_escaped(&mut out, "<a href=\"x\">&'</a>");
        assert_eq!(out, b"&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    }
}
