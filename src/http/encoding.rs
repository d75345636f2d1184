//! Content-coding negotiation (RFC 9110 §12.5.3): which of the available precompressed
//! forms, if any, a request's Accept-Encoding prefers over the identity form.

use super::syntax::{list_items, trim_ows};

/// Picks the coding to send among `available` (in order of preference when the client
/// weighs them equally), or `None` for the identity form. `fields` are the values of every
/// Accept-Encoding line, read as one list (RFC 9110 §5.3); without any, nothing is
/// compressed. A coding the field does not name is acceptable only through
/// `*`; `q=0` refuses; `x-gzip` means gzip (§8.4.1.3). A compressed form is chosen when
/// its weight is at least the identity form's.
pub fn choose<'a>(fields: &[&[u8]], available: &[&'a str]) -> Option<&'a str> {
    if fields.is_empty() {
        return None;
    }
    let mut star = None;
    let mut identity = None;
    let mut weights: Vec<(&[u8], u16)> = Vec::new();
    for item in fields.iter().flat_map(|field| list_items(field)) {
        let mut parts = item.split(|&b| b == b';');
        let coding = trim_ows(parts.next().unwrap_or(item));
        let mut q = 1000;
        for param in parts {
            let param = trim_ows(param);
            if param.len() >= 2 && param[..2].eq_ignore_ascii_case(b"q=") {
                q = weight(&param[2..]).unwrap_or(0);
            }
        }
        if coding == b"*" {
            star = Some(q);
        } else if coding.eq_ignore_ascii_case(b"identity") {
            identity = Some(q);
        } else {
            weights.push((coding, q));
        }
    }
    let weight_of = |name: &str| {
        weights
            .iter()
            .find(|(coding, _)| {
                coding.eq_ignore_ascii_case(name.as_bytes())
                    || (name == "gzip" && coding.eq_ignore_ascii_case(b"x-gzip"))
            })
            .map(|&(_, q)| q)
            .or(star)
            .unwrap_or(0)
    };
    let identity = identity.or(star).unwrap_or(1);
    let mut best: Option<(&str, u16)> = None;
    for &name in available {
        let q = weight_of(name);
        if q > 0 && q >= identity.min(1000) && best.is_none_or(|(_, b)| q > b) {
            best = Some((name, q));
        }
    }
    best.map(|(name, _)| name)
}

/// A qvalue (§12.4.2) in thousandths: `0`, `0.5`, `1`, `1.000`.
fn weight(text: &[u8]) -> Option<u16> {
    let (int, frac) = match text.iter().position(|&b| b == b'.') {
        Some(dot) => (&text[..dot], &text[dot + 1..]),
        None => (text, &[][..]),
    };
    if int.len() != 1 || frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths: u16 = 0;
    for i in 0..3 {
        thousandths = thousandths * 10 + frac.get(i).map_or(0, |d| u16::from(d - b'0'));
    }
    match int[0] {
        b'0' => Some(thousandths),
        b'1' if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9110_12_5_3_negotiation() {
        let both = ["br", "gzip"];
        let cases: &[(Option<&str>, &[&str], Option<&str>)] = &[
            (None, &both, None),
            (Some(""), &both, None),
            (Some("gzip"), &both, Some("gzip")),
            (Some("br"), &both, Some("br")),
            (Some("gzip, br"), &both, Some("br")),
            (Some("br;q=0.5, gzip"), &both, Some("gzip")),
            (Some("br;q=0, gzip;q=0"), &both, None),
            (Some("gzip;q=0"), &["gzip"], None),
            (Some("*"), &both, Some("br")),
            (Some("*;q=0"), &both, None),
            (Some("*, br;q=0"), &both, Some("gzip")),
            (Some("x-gzip"), &both, Some("gzip")),
            (Some("GZIP"), &both, Some("gzip")),
            (Some("deflate"), &both, None),
            (Some("gzip;q=0.5, identity"), &both, None),
            (Some("gzip;q=0.5, identity;q=0.5"), &both, Some("gzip")),
            (Some("gzip;q=1.0"), &both, Some("gzip")),
            (Some("gzip;q=2"), &both, None),
            (Some("gzip;q=abc"), &both, None),
            (Some("gzip;q="), &both, None),
            (Some("br"), &["gzip"], None),
        ];
        for &(field, available, want) in cases {
            let fields: Vec<&[u8]> = field.map(str::as_bytes).into_iter().collect();
            assert_eq!(choose(&fields, available), want, "{field:?} {available:?}");
        }
        // Several lines are one list.
        assert_eq!(choose(&[b"*", b"br;q=0"], &both), Some("gzip"));
    }
}
