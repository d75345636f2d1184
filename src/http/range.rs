//! Byte ranges (RFC 9110 §14): parsing a Range field and planning the partial response.

/// Requests with more ranges than this get the whole representation (200): a long list of
/// small ranges is a denial-of-service pattern (RFC 9110 §17.15), not a client need.
pub const MAX_RANGES: usize = 16;

/// A byte range `[start, end)` of a representation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// What to answer a Range field with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RangePlan {
    /// Serve the whole representation (200): the field is malformed, uses another unit,
    /// asks for too many ranges, or the representation is empty (§14.2: a server MAY
    /// ignore the Range field).
    Whole,
    /// No range overlaps the representation: 416 (§15.5.17).
    Unsatisfiable,
    /// These ranges, with overlapping and adjacent ones coalesced (§14.2 allows it), in the
    /// order the request first asked for each (§15.3.7.2); one range is a single part,
    /// several a multipart/byteranges body.
    Parts(Vec<ByteRange>),
}

/// Plans the response to `Range: <field>` for a representation of `len` bytes.
pub fn plan(field: &[u8], len: u64) -> RangePlan {
    let Some(specs) = parse(field) else {
        return RangePlan::Whole;
    };
    if len == 0 || specs.len() > MAX_RANGES {
        return RangePlan::Whole;
    }
    // Each satisfiable range with the position it was asked at.
    let mut ranges: Vec<(ByteRange, usize)> = specs
        .into_iter()
        .enumerate()
        .filter_map(|(at, spec)| spec.resolve(len).map(|r| (r, at)))
        .collect();
    if ranges.is_empty() {
        return RangePlan::Unsatisfiable;
    }
    ranges.sort_by_key(|(r, _)| r.start);
    let mut merged: Vec<(ByteRange, usize)> = Vec::with_capacity(ranges.len());
    for (range, at) in ranges {
        match merged.last_mut() {
            Some((last, first_at)) if range.start <= last.end => {
                last.end = last.end.max(range.end);
                *first_at = (*first_at).min(at);
            }
            _ => merged.push((range, at)),
        }
    }
    merged.sort_by_key(|&(_, at)| at);
    RangePlan::Parts(merged.into_iter().map(|(r, _)| r).collect())
}

/// One range-spec (§14.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Spec {
    /// `first-last` or `first-` (last = None).
    Int { first: u64, last: Option<u64> },
    /// `-suffix`.
    Suffix(u64),
}

impl Spec {
    /// The satisfiable part of this spec for a representation of `len` bytes (§14.1.1:
    /// an int-range is satisfiable if first < len, a suffix-range if suffix > 0), with the
    /// last position clamped to the representation.
    fn resolve(self, len: u64) -> Option<ByteRange> {
        match self {
            Spec::Int { first, .. } if first >= len => None,
            Spec::Int { first, last } => {
                let end = last.map_or(len, |l| l.saturating_add(1).min(len));
                Some(ByteRange { start: first, end })
            }
            Spec::Suffix(0) => None,
            Spec::Suffix(n) => Some(ByteRange {
                start: len - n.min(len),
                end: len,
            }),
        }
    }
}

/// `bytes=range-set`, or `None` when the field is not a valid bytes range request. The
/// unit is case-insensitive (§14.1); list elements may be empty or padded with OWS.
fn parse(field: &[u8]) -> Option<Vec<Spec>> {
    let eq = field.iter().position(|&b| b == b'=')?;
    if !field[..eq].eq_ignore_ascii_case(b"bytes") {
        return None;
    }
    let mut specs = Vec::new();
    for item in super::syntax::list_items(&field[eq + 1..]) {
        let dash = item.iter().position(|&b| b == b'-')?;
        let (first, last) = (&item[..dash], &item[dash + 1..]);
        let spec = match (number(first), number(last)) {
            (Some(first), Some(last)) if first <= last => Spec::Int {
                first,
                last: Some(last),
            },
            (Some(first), None) if last.is_empty() => Spec::Int { first, last: None },
            (None, Some(suffix)) if first.is_empty() => Spec::Suffix(suffix),
            _ => return None,
        };
        specs.push(spec);
    }
    (!specs.is_empty()).then_some(specs)
}

/// `1*DIGIT` as a number; past u64::MAX it saturates (still a valid, huge position).
fn number(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0u64, |n, &d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(pairs: &[(u64, u64)]) -> RangePlan {
        RangePlan::Parts(
            pairs
                .iter()
                .map(|&(start, end)| ByteRange { start, end })
                .collect(),
        )
    }

    #[test]
    fn rfc9110_14_1_plans() {
        let len = 100;
        let cases: &[(&str, RangePlan)] = &[
            ("bytes=0-9", parts(&[(0, 10)])),
            ("bytes=90-", parts(&[(90, 100)])),
            ("bytes=-10", parts(&[(90, 100)])),
            ("bytes=-500", parts(&[(0, 100)])),
            ("bytes=95-200", parts(&[(95, 100)])),
            ("bytes=0-0", parts(&[(0, 1)])),
            ("BYTES=0-9", parts(&[(0, 10)])),
            ("bytes= 0-9 , 20-29", parts(&[(0, 10), (20, 30)])),
            ("bytes=20-29,0-9", parts(&[(20, 30), (0, 10)])),
            ("bytes=28-28,0-0,27-27", parts(&[(27, 29), (0, 1)])),
            ("bytes=0-9,5-19", parts(&[(0, 20)])),
            ("bytes=0-9,10-19", parts(&[(0, 20)])),
            ("bytes=0-9,,20-29", parts(&[(0, 10), (20, 30)])),
            ("bytes=0-9,200-300", parts(&[(0, 10)])),
            ("bytes=0-99999999999999999999999", parts(&[(0, 100)])),
            ("bytes=100-", RangePlan::Unsatisfiable),
            ("bytes=200-300", RangePlan::Unsatisfiable),
            ("bytes=-0", RangePlan::Unsatisfiable),
            ("bytes=100-200,-0", RangePlan::Unsatisfiable),
            ("bytes=9-0", RangePlan::Whole),
            ("bytes=a-b", RangePlan::Whole),
            ("bytes=-", RangePlan::Whole),
            ("bytes=+1-2", RangePlan::Whole),
            ("bytes=1-2-3", RangePlan::Whole),
            ("bytes=", RangePlan::Whole),
            ("bytes 0-9", RangePlan::Whole),
            ("items=0-9", RangePlan::Whole),
            ("bytes=0-9;x", RangePlan::Whole),
        ];
        for (field, want) in cases {
            assert_eq!(&plan(field.as_bytes(), len), want, "{field}");
        }
        let many = format!(
            "bytes={}",
            (0..17)
                .map(|i| format!("{}-{}", i * 2, i * 2))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(plan(many.as_bytes(), len), RangePlan::Whole, "over the cap");
        assert_eq!(
            plan(b"bytes=0-9", 0),
            RangePlan::Whole,
            "empty representation"
        );
    }
}
