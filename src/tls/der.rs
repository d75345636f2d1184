//! Just enough DER (X.690) to read two things out of an X.509 certificate (RFC 5280): the
//! subject, rendered as RFC 4514 text for handlers, and the DNS names a certificate is for,
//! to choose a certificate by SNI. rustls checks certificates; this only reads them.

/// One TLV: its tag byte and its contents.
#[derive(Clone, Copy, Debug)]
struct Tlv<'a> {
    tag: u8,
    value: &'a [u8],
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
/// `[0]` EXPLICIT, constructed: the version of a TBSCertificate.
const VERSION: u8 = 0xa0;
/// `[3]` EXPLICIT, constructed: the extensions of a TBSCertificate.
const EXTENSIONS: u8 = 0xa3;
/// `[2]` IMPLICIT IA5String: a dNSName in a GeneralName.
const DNS_NAME: u8 = 0x82;
const BOOLEAN: u8 = 0x01;
const OCTET_STRING: u8 = 0x04;

/// Reads TLVs one after another from a buffer.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next TLV, or None if what is left is not one (short, or a long form DER does
    /// not allow; lengths past 2^32 are refused too).
    fn next(&mut self) -> Option<Tlv<'a>> {
        let (&tag, rest) = self.rest.split_first()?;
        // Tags of more than one byte (low bits 11111) appear in no field read here.
        if tag & 0x1f == 0x1f {
            return None;
        }
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || rest.len() < count {
                return None;
            }
            let (digits, after) = rest.split_at(count);
            rest = after;
            digits.iter().fold(0usize, |n, &d| n << 8 | usize::from(d))
        };
        if rest.len() < len {
            return None;
        }
        let (value, after) = rest.split_at(len);
        self.rest = after;
        Some(Tlv { tag, value })
    }

    /// The next TLV if it has tag `tag`.
    fn expect(&mut self, tag: u8) -> Option<Tlv<'a>> {
        self.next().filter(|tlv| tlv.tag == tag)
    }
}

/// The parts of a TBSCertificate that are read here.
struct Tbs<'a> {
    subject: &'a [u8],
    extensions: Option<&'a [u8]>,
}

fn tbs(cert: &[u8]) -> Option<Tbs<'_>> {
    let certificate = Reader::new(cert).expect(SEQUENCE)?;
    let mut tbs = Reader::new(Reader::new(certificate.value).expect(SEQUENCE)?.value);
    // An optional version, the serial number; then signature, issuer, validity, subject.
    if tbs.next()?.tag == VERSION {
        let _serial = tbs.next()?;
    }
    let _signature = tbs.expect(SEQUENCE)?;
    let _issuer = tbs.expect(SEQUENCE)?;
    let _validity = tbs.expect(SEQUENCE)?;
    let subject = tbs.expect(SEQUENCE)?.value;
    let _spki = tbs.expect(SEQUENCE)?;
    let mut extensions = None;
    while let Some(tlv) = tbs.next() {
        if tlv.tag == EXTENSIONS {
            extensions = Some(tlv.value);
        }
    }
    Some(Tbs {
        subject,
        extensions,
    })
}

/// The subject of the DER certificate `cert` in RFC 4514 form (`CN=client,O=Example`), or
/// None if it cannot be read.
pub fn subject(cert: &[u8]) -> Option<String> {
    let name = tbs(cert)?.subject;
    // RFC 4514 §2.1: the RDNs in reverse order of the sequence.
    let mut rdns = Vec::new();
    let mut seq = Reader::new(name);
    while !seq.is_empty() {
        let set = seq.expect(SET)?;
        let mut parts = Vec::new();
        let mut attrs = Reader::new(set.value);
        while !attrs.is_empty() {
            let pair = attrs.expect(SEQUENCE)?;
            let mut pair = Reader::new(pair.value);
            let oid = pair.expect(OID)?.value;
            let value = pair.next()?;
            parts.push(format!(
                "{}={}",
                attribute_name(oid),
                attribute_value(value)
            ));
        }
        rdns.push(parts.join("+"));
    }
    rdns.reverse();
    Some(rdns.join(","))
}

/// The short names of RFC 4514 §3 (and emailAddress, which certificates use often), else
/// the dotted OID.
fn attribute_name(oid: &[u8]) -> String {
    let known = match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x09] => "STREET",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01] => "UID",
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "emailAddress",
        _ => return dotted(oid),
    };
    known.to_string()
}

fn dotted(oid: &[u8]) -> String {
    let mut arcs = Vec::new();
    let mut n: u64 = 0;
    for &b in oid {
        n = n << 7 | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (n / 40).min(2);
                arcs.push(first);
                arcs.push(n - first * 40);
            } else {
                arcs.push(n);
            }
            n = 0;
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// A string value escaped per RFC 4514 §2.4; a value of another type as `#` and its hex
/// DER (§2.4 too).
fn attribute_value(value: Tlv<'_>) -> String {
    // UTF8String, PrintableString, TeletexString (taken as Latin-1), IA5String,
    // UniversalString and BMPString are the DirectoryString choices.
    let text: Option<String> = match value.tag {
        0x0c | 0x13 | 0x16 => std::str::from_utf8(value.value).ok().map(str::to_string),
        0x14 => Some(value.value.iter().map(|&b| char::from(b)).collect()),
        0x1e => utf16_be(value.value),
        0x1c => utf32_be(value.value),
        _ => None,
    };
    match text {
        Some(text) => escape(&text),
        None => {
            let mut hex = String::from("#");
            hex.push_str(&format!("{:02x}", value.tag));
            hex.push_str(&format!("{:02x}", value.value.len().min(0x7f)));
            for b in value.value {
                hex.push_str(&format!("{b:02x}"));
            }
            hex
        }
    }
}

fn utf16_be(bytes: &[u8]) -> Option<String> {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

fn utf32_be(bytes: &[u8]) -> Option<String> {
    bytes
        .chunks_exact(4)
        .map(|p| char::from_u32(u32::from_be_bytes([p[0], p[1], p[2], p[3]])))
        .collect()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let last = text.chars().count().saturating_sub(1);
    for (i, c) in text.chars().enumerate() {
        let special = matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || (i == 0 && matches!(c, ' ' | '#'))
            || (i == last && c == ' ');
        if c == '\0' {
            out.push_str("\\00");
            continue;
        }
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The DNS names in the certificate's subjectAltName extension, lower-cased; without that
/// extension, the subject's common names (what clients fell back to before RFC 6125).
pub fn dns_names(cert: &[u8]) -> Vec<String> {
    let Some(tbs) = tbs(cert) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    if let Some(extensions) = tbs.extensions.and_then(|e| Reader::new(e).expect(SEQUENCE)) {
        let mut list = Reader::new(extensions.value);
        while let Some(ext) = list.expect(SEQUENCE) {
            let mut ext = Reader::new(ext.value);
            // subjectAltName is 2.5.29.17.
            if ext.expect(OID).map(|o| o.value) != Some(&[0x55, 0x1d, 0x11]) {
                continue;
            }
            let mut value = ext.next();
            if value.is_some_and(|v| v.tag == BOOLEAN) {
                value = ext.next();
            }
            let Some(general) = value
                .filter(|v| v.tag == OCTET_STRING)
                .and_then(|v| Reader::new(v.value).expect(SEQUENCE))
            else {
                continue;
            };
            let mut general = Reader::new(general.value);
            while let Some(name) = general.next() {
                if name.tag == DNS_NAME {
                    if let Ok(dns) = std::str::from_utf8(name.value) {
                        names.push(dns.to_ascii_lowercase());
                    }
                }
            }
            return names;
        }
    }
    let mut seq = Reader::new(tbs.subject);
    while let Some(set) = seq.expect(SET) {
        let mut attrs = Reader::new(set.value);
        while let Some(pair) = attrs.expect(SEQUENCE) {
            let mut pair = Reader::new(pair.value);
            if pair.expect(OID).map(|o| o.value) == Some(&[0x55, 0x04, 0x03]) {
                if let Some(value) = pair.next() {
                    if let Ok(cn) = std::str::from_utf8(value.value) {
                        names.push(cn.to_ascii_lowercase());
                    }
                }
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_print_dotted() {
        assert_eq!(
            dotted(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d]),
            "1.2.840.113549"
        );
        assert_eq!(dotted(&[0x55, 0x04, 0x2a]), "2.5.4.42");
    }

    #[test]
    fn values_are_escaped_as_rfc_4514_says() {
        assert_eq!(escape("a,b+c"), "a\\,b\\+c");
        assert_eq!(escape(" x "), "\\ x\\ ");
        assert_eq!(escape("#1"), "\\#1");
        assert_eq!(escape("plain"), "plain");
    }

    /// Made by `openssl req -x509 -subj "/C=DE/O=Example, Inc./CN=alice" -addext
    /// subjectAltName=DNS:alice.test,DNS:*.alice.test`; `openssl x509 -nameopt RFC2253`
    /// prints its subject as `CN=alice,O=Example\, Inc.,C=DE`.
    const OPENSSL_CERT: &str = "MIIB4zCCAYqgAwIBAgIUNyvpglVf9etUqdQPAqHUdcProfswCgYIKoZIzj0EAwIwNTELMAkGA1UEBhMCREUxFjAUBgNVBAoMDUV4YW1wbGUsIEluYy4xDjAMBgNVBAMMBWFsaWNlMB4XDTI2MTIwMjEwMTUzMVoXDTM2MTEyOTEwMTUzMVowNTELMAkGA1UEBhMCREUxFjAUBgNVBAoMDUV4YW1wbGUsIEluYy4xDjAMBgNVBAMMBWFsaWNlMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEDPGVJ0OIrr6s5Vy4a5V4OeOcP3XXTo+PRog8LsmlJlSCXOa86qfTq5+VOkZGdbMXR4loZG9cNk0IYiqetLvuh6N4MHYwHQYDVR0OBBYEFAVsGamxxiS1d2mtuB4InpDTNiVKMB8GA1UdIwQYMBaAFAVsGamxxiS1d2mtuB4InpDTNiVKMA8GA1UdEwEB/wQFMAMBAf8wIwYDVR0RBBwwGoIKYWxpY2UudGVzdIIMKi5hbGljZS50ZXN0MAoGCCqGSM49BAMCA0cAMEQCIHbTKMBdEbNC1LlM5t25lmfIp4y6ePg1qXOe+d4YHlX0AiATXQTwxWlnquWFzp5cf4HLzp+ZB28mMshF5ynhaLDNXg==";

    fn base64(text: &str) -> Vec<u8> {
        let value = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            _ => 63,
        };
        let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(value).collect();
        let mut out = Vec::new();
        for group in digits.chunks(4) {
            let n =
                group.iter().fold(0u32, |n, &d| n << 6 | u32::from(d)) << (6 * (4 - group.len()));
            out.extend_from_slice(&n.to_be_bytes()[1..group.len()]);
        }
        out
    }

    #[test]
    fn an_openssl_certificate_reads_as_openssl_prints_it() {
        let cert = base64(OPENSSL_CERT);
        assert_eq!(
            subject(&cert).as_deref(),
            Some("CN=alice,O=Example\\, Inc.,C=DE")
        );
        assert_eq!(dns_names(&cert), ["alice.test", "*.alice.test"]);
    }

    #[test]
    fn garbage_reads_as_nothing() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 2, 3, 4, 5],
            &[0x30, 0x05, 1],
        ] {
            assert_eq!(subject(bad), None);
            assert!(dns_names(bad).is_empty());
        }
    }
}
