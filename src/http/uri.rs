//! The authority of a request (RFC 9110 §7.2, RFC 3986 §3.2.2): what a Host field or an
//! absolute target names, whichever protocol carried it.

use super::syntax::percent_decode;

/// Whether `value` is a valid `uri-host [ ":" port ]`, as a Host field value must be. An
/// empty value is valid: a client sends one when the target URI has no authority.
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
        let mut escaped = false;
        for &b in host {
            escaped |= b == b'%';
            if !is_reg_name_byte(b) {
                return false;
            }
        }
        if escaped && percent_decode(host).is_none() {
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

/// unreserved, sub-delims and `%` (RFC 3986 §3.2.2).
fn is_reg_name_byte(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9'
        | b'-' | b'.' | b'_' | b'~' | b'%'
        | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=')
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
