//! Small pieces of field-value syntax (RFC 9110 §5.6) shared by the parsers.

/// The non-empty elements of a comma-separated list (§5.6.1), trimmed of OWS. Only for
/// lists whose elements cannot contain commas (entity tags can: see `conditional`).
pub fn list_items(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|item| !item.is_empty())
}

/// `bytes` without leading and trailing spaces and tabs (OWS, §5.6.3).
pub fn trim_ows(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_whitespace() {
        let items: Vec<&[u8]> = list_items(b" a ,, b\t,").collect();
        assert_eq!(items, [&b"a"[..], b"b"]);
        assert_eq!(trim_ows(b" \t x y \t"), b"x y");
        assert_eq!(trim_ows(b"   "), b"");
    }
}
