//! Conditional requests (RFC 9110 §13) and range responses (§14) for representations
//! that carry validators: static files, and files a handler sends.
//!
//! After a handler fills a 200 response from a file, [`apply`] evaluates the request's
//! preconditions in the order of §13.2.2 and then its Range field, turning the response
//! into a 304, 412, 206 (single part or multipart/byteranges) or 416, or leaving it.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use super::date::{format_http_date, parse_http_date};
use super::range::{plan, RangePlan};
use super::request::Request;
use super::response::Response;
use super::syntax::{push_decimal, trim_ows};

/// The validators of one representation: a strong entity tag and a modification time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validators {
    /// The entity tag with its quotes, e.g. `"1a2b-5f3e-d"`; always strong.
    pub etag: Arc<[u8]>,
    /// Seconds since the Unix epoch.
    pub last_modified: u64,
}

impl Validators {
    /// The Last-Modified value.
    pub fn last_modified_text(&self) -> [u8; 29] {
        format_http_date(self.last_modified)
    }
}

/// What the preconditions decided (§13.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precondition {
    /// Go on as if there were no preconditions.
    Proceed,
    /// 304 Not Modified.
    NotModified,
    /// 412 Precondition Failed.
    Failed,
}

/// Evaluates the preconditions of `req` against `v`, in the order of RFC 9110 §13.2.2.
/// `now` is the current time in seconds, to discard If-Modified-Since dates in the future.
pub fn evaluate(req: &Request, v: &Validators, now: u64) -> Precondition {
    let safe = matches!(req.method(), "GET" | "HEAD");
    // 1. If-Match: strong comparison (§13.1.1); `*` matches any current representation.
    if let Some(lists) = field_lists(req, "if-match") {
        if !tag_lists_match(&lists, &v.etag, Compare::Strong) {
            return Precondition::Failed;
        }
    // 2. If-Unmodified-Since only without If-Match; an invalid date is ignored (§13.1.4).
    } else if let Some(date) = single_date(req, "if-unmodified-since") {
        if v.last_modified > date {
            return Precondition::Failed;
        }
    }
    // 3. If-None-Match: weak comparison (§13.1.2).
    if let Some(lists) = field_lists(req, "if-none-match") {
        if tag_lists_match(&lists, &v.etag, Compare::Weak) {
            return if safe {
                Precondition::NotModified
            } else {
                Precondition::Failed
            };
        }
    // 4. If-Modified-Since only without If-None-Match, only for GET and HEAD; an invalid
    //    date, or one later than now, is ignored (§13.1.3).
    } else if safe {
        if let Some(date) = single_date(req, "if-modified-since").filter(|&d| d <= now) {
            if v.last_modified <= date {
                return Precondition::NotModified;
            }
        }
    }
    Precondition::Proceed
}

/// The preconditions that can be decided for a representation without validators:
/// `If-Match` with a list fails (no tag can match) while `If-Match: *` holds, and
/// `If-None-Match: *` matches the current representation.
fn evaluate_without_validators(req: &Request) -> Precondition {
    if let Some(lists) = field_lists(req, "if-match") {
        if !lists.iter().any(|list| trim_ows(list) == b"*") {
            return Precondition::Failed;
        }
    }
    if let Some(lists) = field_lists(req, "if-none-match") {
        if lists.iter().any(|list| trim_ows(list) == b"*") {
            return Precondition::NotModified;
        }
    }
    Precondition::Proceed
}

/// Whether `If-Range: <value>` lets the Range field be honoured (§13.1.5): a strong entity
/// tag equal to the current one, or a date exactly equal to Last-Modified that is strong
/// (§8.8.2.2). A weak tag never matches. A date counts as strong only once its second is
/// more than a second past (`now`): a file written twice within its last second could
/// otherwise hand out two versions under one date and splice them into one download.
pub fn if_range_allows(value: &[u8], v: &Validators, now: u64) -> bool {
    let value = trim_ows(value);
    if value.starts_with(b"\"") || value.starts_with(b"W/") {
        return value == &*v.etag;
    }
    parse_http_date(value) == Some(v.last_modified) && v.last_modified + 1 < now
}

/// Applies §13 and §14 to a GET or HEAD response; see the module docs.
///
/// Preconditions are evaluated only for GET and HEAD: for other methods the handler has
/// already acted when this runs, and §13.2.1 wants the condition checked before the method
/// is performed, so a handler of such a method checks them itself ([`evaluate`]). A 2xx
/// response with no validators at all (a listing, a generated body) still answers
/// `If-None-Match: *` with 304 and an If-Match list with 412 (§13.1.1, §13.1.2); one whose
/// handler set its own `ETag` or `Last-Modified` is left to that handler.
pub fn apply(req: &Request, res: &mut Response, now: u64) {
    // §13.2.1: preconditions apply only where the response would have been 2xx. A
    // streamed body is sent as it is: its producer writes the whole of it.
    if !(200..300).contains(&res.status())
        || !matches!(req.method(), "GET" | "HEAD")
        || res.is_streamed()
    {
        return;
    }
    // Most requests carry none of the fields at stake: one look at the names settles it.
    let at_stake = |name: &str| {
        let name = name.as_bytes();
        name.get(..3)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"if-"))
            || name.eq_ignore_ascii_case(b"range")
    };
    if !req.headers().any(|(name, _)| at_stake(name)) {
        return;
    }
    let Some(v) = res.validators().cloned() else {
        if !res.has_header("etag") && !res.has_header("last-modified") {
            match evaluate_without_validators(req) {
                Precondition::NotModified => res.set_not_modified(),
                Precondition::Failed => res.set_error(412),
                Precondition::Proceed => {}
            }
        }
        return;
    };
    match evaluate(req, &v, now) {
        Precondition::NotModified => return res.set_not_modified(),
        Precondition::Failed => return res.set_error(412),
        Precondition::Proceed => {}
    }
    // §14.2: only GET has range handling; a Range on any other method is ignored. A Range
    // or If-Range field given twice is not a valid singleton field: no partial response.
    if req.method() != "GET" || res.status() != 200 {
        return;
    }
    let range = match field_lists(req, "range").as_deref() {
        Some([range]) => *range,
        _ => return,
    };
    match field_lists(req, "if-range").as_deref() {
        None => {}
        Some([if_range]) if if_range_allows(if_range, &v, now) => {}
        Some(_) => return,
    }
    let len = res.body_len();
    let plan = match plan(range, len) {
        // A multipart body under a top-level Content-Encoding would have clients decode
        // the multipart framing: send the whole precompressed form instead.
        RangePlan::Parts(parts) if parts.len() > 1 && res.has_header("content-encoding") => {
            RangePlan::Whole
        }
        plan => plan,
    };
    match plan {
        RangePlan::Whole => {}
        RangePlan::Unsatisfiable => {
            res.set_error(416);
            let mut value = b"bytes */".to_vec();
            push_decimal(&mut value, len);
            res.push_header("Content-Range", &[&value]);
        }
        RangePlan::Parts(parts) if parts.len() == 1 => {
            let part = parts[0];
            let _ = res.set_status(206);
            res.push_header(
                "Content-Range",
                &[&content_range(part.start, part.end, len)],
            );
            res.select_ranges(&[(Vec::new(), part.start, part.len())], b"");
        }
        RangePlan::Parts(parts) => {
            let boundary = boundary(&v);
            let content_type = res
                .header_value("content-type")
                .map(<[u8]>::to_vec)
                .unwrap_or_else(|| b"application/octet-stream".to_vec());
            res.retain_headers(|name| !name.eq_ignore_ascii_case(b"content-type"));
            let _ = res.set_status(206);
            res.push_header(
                "Content-Type",
                &[b"multipart/byteranges; boundary=", &boundary],
            );
            // §14.6: each part has its own Content-Type and Content-Range.
            let pieces: Vec<(Vec<u8>, u64, u64)> = parts
                .iter()
                .map(|part| {
                    let mut head = Vec::new();
                    head.extend_from_slice(b"\r\n--");
                    head.extend_from_slice(&boundary);
                    head.extend_from_slice(b"\r\nContent-Type: ");
                    head.extend_from_slice(&content_type);
                    head.extend_from_slice(b"\r\nContent-Range: ");
                    head.extend_from_slice(&content_range(part.start, part.end, len));
                    head.extend_from_slice(b"\r\n\r\n");
                    (head, part.start, part.len())
                })
                .collect();
            let mut tail = b"\r\n--".to_vec();
            tail.extend_from_slice(&boundary);
            tail.extend_from_slice(b"--\r\n");
            res.select_ranges(&pieces, &tail);
        }
    }
}

/// `bytes first-last/len` for `[start, end)`.
fn content_range(start: u64, end: u64, len: u64) -> Vec<u8> {
    let mut value = b"bytes ".to_vec();
    push_decimal(&mut value, start);
    value.push(b'-');
    push_decimal(&mut value, end - 1);
    value.push(b'/');
    push_decimal(&mut value, len);
    value
}

/// A multipart boundary that the content is vanishingly unlikely to contain: 20 hex
/// digits from a randomly keyed hash of the entity tag.
fn boundary(v: &Validators) -> Vec<u8> {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write(&v.etag);
    let mut out = b"roost-".to_vec();
    for value in [
        hasher.finish(),
        hasher.finish().rotate_left(17) ^ v.last_modified,
    ] {
        out.extend_from_slice(format!("{value:016x}").as_bytes());
    }
    out.truncate(26);
    out
}

/// How two entity tags are compared (§8.8.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Compare {
    /// Both strong and equal.
    Strong,
    /// Equal opaque tags, weak or not.
    Weak,
}

/// The values of every field line named `name`, or `None` if there is none.
fn field_lists<'a>(req: &'a Request, name: &'a str) -> Option<Vec<&'a [u8]>> {
    let values: Vec<&[u8]> = req.header_lines(name).collect();
    (!values.is_empty()).then_some(values)
}

/// The date of a field that must appear once with one valid HTTP-date, else `None`
/// (the field is then ignored, §13.1.3, §13.1.4).
fn single_date(req: &Request, name: &str) -> Option<u64> {
    let values = field_lists(req, name)?;
    match values.as_slice() {
        [value] => parse_http_date(value),
        _ => None,
    }
}

/// Whether any entity tag in the lists matches `current` (`*` matches anything). A list
/// that does not parse matches nothing.
fn tag_lists_match(lists: &[&[u8]], current: &[u8], compare: Compare) -> bool {
    let current_opaque = current.strip_prefix(b"W/").unwrap_or(current);
    lists.iter().any(|list| {
        if trim_ows(list) == b"*" {
            return true;
        }
        entity_tags(list).is_some_and(|tags| {
            tags.iter().any(|tag| {
                let weak = tag.starts_with(b"W/");
                let opaque = tag.strip_prefix(b"W/").unwrap_or(tag);
                match compare {
                    Compare::Strong => !weak && *tag == current,
                    Compare::Weak => opaque == current_opaque,
                }
            })
        })
    })
}

/// Splits `#entity-tag` (§8.8.3): `W/"x"` or `"x"`, comma-separated with OWS; empty list
/// elements are skipped (§5.6.1.2). A comma inside the quotes belongs to the tag.
fn entity_tags(list: &[u8]) -> Option<Vec<&[u8]>> {
    let mut tags = Vec::new();
    let mut rest = trim_ows(list);
    loop {
        while let Some(after) = rest.strip_prefix(b",") {
            rest = trim_ows(after);
        }
        if rest.is_empty() {
            break;
        }
        let start = usize::from(rest.starts_with(b"W/")) * 2;
        if rest.get(start) != Some(&b'"') {
            return None;
        }
        let close = rest[start + 1..].iter().position(|&b| b == b'"')? + start + 1;
        let tag = &rest[..=close];
        if !tag[start + 1..close]
            .iter()
            .all(|&b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
        {
            return None;
        }
        tags.push(tag);
        rest = trim_ows(&rest[close + 1..]);
        if !rest.is_empty() && !rest.starts_with(b",") {
            return None;
        }
    }
    Some(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9110_8_8_3_2_comparison() {
        let current = b"\"abc\"";
        let cases: &[(&str, bool, bool)] = &[
            // list, strong match, weak match
            ("\"abc\"", true, true),
            ("W/\"abc\"", false, true),
            ("\"xyz\", \"abc\"", true, true),
            ("\"xyz\",W/\"abc\"", false, true),
            ("*", true, true),
            ("\"ab\"", false, false),
            ("abc", false, false),
            ("\"abc\" junk", false, false),
            (", \"abc\"", true, true),
            ("\"x\",,\"abc\",", true, true),
            ("\"a,b\", \"abc\"", true, true),
            ("", false, false),
        ];
        for &(list, strong, weak) in cases {
            let lists = [list.as_bytes()];
            assert_eq!(
                tag_lists_match(&lists, current, Compare::Strong),
                strong,
                "{list} strong"
            );
            assert_eq!(
                tag_lists_match(&lists, current, Compare::Weak),
                weak,
                "{list} weak"
            );
        }
    }

    #[test]
    fn rfc9110_13_1_5_if_range() {
        let v = Validators {
            etag: b"\"abc\"".as_slice().into(),
            last_modified: 784_111_777,
        };
        let now = 2_000_000_000;
        assert!(if_range_allows(b"\"abc\"", &v, now));
        assert!(!if_range_allows(b"W/\"abc\"", &v, now));
        assert!(!if_range_allows(b"\"old\"", &v, now));
        assert!(if_range_allows(b"Sun, 06 Nov 1994 08:49:37 GMT", &v, now));
        assert!(!if_range_allows(b"Sun, 06 Nov 1994 08:49:38 GMT", &v, now));
        assert!(!if_range_allows(b"garbage", &v, now));
        // A date in the last second or so is not strong: it might name two versions.
        assert!(!if_range_allows(
            b"Sun, 06 Nov 1994 08:49:37 GMT",
            &v,
            784_111_778
        ));
    }
}
