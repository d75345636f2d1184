//! Small pieces of field syntax (RFC 9110 §5) and URI syntax (RFC 3986 §2.1) shared by the
//! parsers and the response builder: each rule is written once, here.

use std::borrow::Cow;

/// tchar (RFC 9110 §5.6.2): what a method, a field name or a parameter name is made of.
pub fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `bytes` is a token: one or more tchar.
pub fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|&b| is_token_byte(b))
}

/// A byte allowed in a field value or a quoted string: HTAB, SP, VCHAR, obs-text
/// (RFC 9110 §5.5). CR, LF, NUL and the other controls are not.
pub fn is_field_value_byte(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

/// Whether `value` can be sent as a field value without splitting or corrupting a message.
pub fn is_field_value(value: &[u8]) -> bool {
    value.iter().all(|&b| is_field_value_byte(b))
}

/// The value of a hexadecimal digit, either case.
pub fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The byte a `%XX` escape at the start of `bytes` stands for, if it is one.
pub fn percent_escape(bytes: &[u8]) -> Option<u8> {
    match bytes {
        [b'%', hi, lo, ..] => Some(hex_digit(*hi)? << 4 | hex_digit(*lo)?),
        _ => None,
    }
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
            out.push(percent_escape(&bytes[i..])?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(Cow::Owned(out))
}

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

/// Appends the decimal digits of `n`.
pub fn push_decimal(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
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

    #[test]
    fn decimals() {
        for n in [0u64, 7, 10, 1234567890, u64::MAX] {
            let mut buf = Vec::new();
            push_decimal(&mut buf, n);
            assert_eq!(String::from_utf8(buf).unwrap(), n.to_string());
        }
    }

    #[test]
    fn tokens_values_and_escapes() {
        assert!(is_token(b"X-Custom_1") && !is_token(b"") && !is_token(b"a b"));
        assert!(is_field_value(b"fine\tvalue \xff") && !is_field_value(b"a\r\nb"));
        assert!(!is_field_value(b"a\0") && !is_field_value(b"\x7f"));
        assert_eq!(hex_digit(b'f'), Some(15));
        assert_eq!(hex_digit(b'G'), None);
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
