//! Query strings as `application/x-www-form-urlencoded` pairs (`a=1&b=two+words`).

use std::borrow::Cow;

use super::syntax::percent_escape;

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
            b'%' => match percent_escape(&bytes[i..]) {
                Some(byte) => {
                    out.push(byte);
                    i += 3;
                    continue;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(out)
}

/// Every pair of the query, decoded, in order; a pair without `=` has an empty value and
/// empty pieces between `&`s are skipped. Repeated names come once per occurrence.
pub fn query_pairs(query: &str) -> impl Iterator<Item = (Cow<'_, [u8]>, Cow<'_, [u8]>)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .map(|(key, value)| (form_decode(key.as_bytes()), form_decode(value.as_bytes())))
}

/// The decoded value of the first pair named `name`, or `None`.
pub fn query_value<'q>(query: &'q str, name: &[u8]) -> Option<Cow<'q, [u8]>> {
    query_pairs(query)
        .find(|(key, _)| **key == *name)
        .map(|(_, value)| value)
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
        let names: Vec<Vec<u8>> = query_pairs("a=1&&a=2&b")
            .map(|(k, _)| k.into_owned())
            .collect();
        assert_eq!(names, [b"a".to_vec(), b"a".to_vec(), b"b".to_vec()]);
    }
}
