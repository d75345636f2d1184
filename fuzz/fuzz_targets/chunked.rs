//! The chunked decoder: fed in arbitrary pieces, it decodes exactly what it decodes in one
//! go, never more than the limit, and never uses more input than it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roost::h1::chunked::{ChunkedDecoder, Decoded};
use roost::http::Body;

fn decode(input: &[u8], pieces: &[u8], max_body: u64) -> (Result<Decoded, u16>, Vec<u8>, usize) {
    let mut body = Body::new();
    let mut decoder = ChunkedDecoder::new();
    let (mut fed, mut used) = (0, 0);
    let mut sizes = pieces.iter().cycle();
    loop {
        let step = if pieces.is_empty() {
            input.len()
        } else {
            usize::from(*sizes.next().unwrap()) + 1
        };
        fed = (fed + step).min(input.len());
        let (n, result) = decoder.decode(&input[used..fed], &mut body, max_body, 256);
        assert!(used + n <= fed, "used more than it was given");
        used += n;
        assert!(body.len() as u64 <= max_body);
        match result {
            Ok(Decoded::NeedMore) if fed < input.len() => continue,
            other => return (other, body.as_slice().to_vec(), used),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let (pieces, input) = rest.split_at(usize::from(split % 8).min(rest.len()));
    let max_body = 1 << 16;
    let whole = decode(input, &[], max_body);
    let split = decode(input, pieces, max_body);
    assert_eq!(whole.0, split.0, "result differs when split");
    if whole.0 == Ok(Decoded::Done) {
        assert_eq!(whole.1, split.1, "content differs when split");
        assert_eq!(whole.2, split.2, "consumed differs when split");
    }
});
