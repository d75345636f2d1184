//! Range planning: any field and length give parts inside the representation, disjoint and
//! not adjacent, at most the cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roost::http::range::{plan, RangePlan, MAX_RANGES};

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (len, field) = data.split_at(8);
    let len = u64::from_le_bytes(len.try_into().unwrap()) % (1 << 40);
    match plan(field, len) {
        RangePlan::Whole | RangePlan::Unsatisfiable => {}
        RangePlan::Parts(parts) => {
            assert!(!parts.is_empty() && parts.len() <= MAX_RANGES);
            let mut sorted = parts.clone();
            sorted.sort_by_key(|p| p.start);
            for p in &sorted {
                assert!(p.start < p.end && p.end <= len, "{p:?} of {len}");
            }
            for pair in sorted.windows(2) {
                assert!(pair[0].end < pair[1].start, "not coalesced: {pair:?}");
            }
        }
    }
});
