//! Request heads: whatever the bytes, parsing ends in a head, a status, or "more", and a
//! complete head is consistent with its own framing rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roost::h1::parse::{header_slots, parse_head, Framing, HeadResult};
use roost::Limits;

fuzz_target!(|data: &[u8]| {
    let Some((&knob, input)) = data.split_first() else {
        return;
    };
    // Small limits half of the time, so the limit paths are reached.
    let limits = if knob & 1 == 0 {
        Limits::default()
    } else {
        Limits {
            max_head: 64 + usize::from(knob),
            max_uri: 16 + usize::from(knob / 4),
            max_headers: 1 + usize::from(knob % 8),
            max_body: u64::from(knob),
            ..Limits::default()
        }
    };
    let mut buf = input.to_vec();
    for attempt in 0..2 {
        let mut slots = header_slots();
        match parse_head(&buf, &mut slots, &limits) {
            HeadResult::Complete(head, len) => {
                assert!(len <= buf.len());
                assert!(len <= limits.max_head);
                assert!(head.minor_version <= 1);
                assert!(head.raw_target.len() <= limits.max_uri);
                let has_te = head
                    .headers
                    .iter()
                    .any(|h| h.name.eq_ignore_ascii_case("transfer-encoding"));
                let has_cl = head
                    .headers
                    .iter()
                    .any(|h| h.name.eq_ignore_ascii_case("content-length"));
                assert!(!(has_te && has_cl), "both framings accepted");
                if head.framing == Framing::Chunked {
                    assert!(has_te && head.minor_version == 1);
                }
                return;
            }
            HeadResult::Reject(reject) => {
                assert!(matches!(
                    reject.status,
                    400 | 413 | 414 | 417 | 431 | 501 | 505
                ));
                return;
            }
            HeadResult::Partial => return,
            HeadResult::DowngradeMinor(at) => {
                // The rewrite must make progress: never asked for twice.
                assert_eq!(attempt, 0, "downgrade asked twice");
                assert!(buf[at].is_ascii_digit() && buf[at] > b'1');
                buf[at] = b'1';
            }
        }
    }
});
