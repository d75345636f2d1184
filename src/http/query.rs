//! Query strings as `application/x-www-form-urlencoded` pairs (`a=1&b=two+words`).

use std::borrow::Cow;

/// Decodes a query component: `+` is a space and `%XX` an escape. A malformed escape is
/// kept as it is, the way browsers and Python's urllib treat it.
pub fn form_decode(bytes: &[u8]) -> Cow<'_, [u8]> {
    if !bytes.iter().any(|&b| b == b'%' || b == b'+') {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                    std::str::from_utf8(h)
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                });
                if let Some(byte) = hex {
                    out.push(byte);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(out)
}

/// The decoded value of the first pair named `name` (a pair without `=` has an empty
/// value), or `None`.
pub fn query_value<'q>(query: &'q str, name: &[u8]) -> Option<Cow<'q, [u8]>> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .find(|(key, _)| *form_decode(key.as_bytes()) == *name)
        .map(|(_, value)| form_decode(value.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        let q = "a=1&b=two+words&c=%C3%A9t%C3%A9&d&e=&a=second&sp%20ace=x&bad=%zz%4";
        let v = |name: &str| query_value(q, name.as_bytes()).map(|c| c.into_owned());
        assert_eq!(v("a"), Some(b"1".to_vec()));
        assert_eq!(v("b"), Some(b"two words".to_vec()));
        assert_eq!(v("c"), Some("été".as_bytes().to_vec()));
        assert_eq!(v("d"), Some(b"".to_vec()));
        assert_eq!(v("e"), Some(b"".to_vec()));
        assert_eq!(v("sp ace"), Some(b"x".to_vec()));
        assert_eq!(v("bad"), Some(b"%zz%4".to_vec()));
        assert_eq!(v("missing"), None);
    }
}
