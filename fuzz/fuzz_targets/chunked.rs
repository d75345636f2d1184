//! The chunked decoder: fed in arbitrary pieces, it decodes exactly what it decodes in one
//! go, never more than the limit, and the framing it cuts never covers content.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roost::http::chunked::{ChunkedDecoder, Decoded};

fn decode(input: &[u8], pieces: &[u8], max_body: u64) -> (Result<Decoded, u16>, Vec<u8>, usize) {
    let mut region: Vec<u8> = Vec::new();
    let mut decoder = ChunkedDecoder::new();
    let mut fed = 0;
    let mut sizes = pieces.iter().cycle();
    let mut cut = 0;
    loop {
        let step = if pieces.is_empty() {
            input.len()
        } else {
            usize::from(*sizes.next().unwrap()) + 1
        };
        let end = (fed + step).min(input.len());
        region.extend_from_slice(&input[fed..end]);
        fed = end;
        let result = decoder.decode(&mut region, max_body, 256);
        let framing = decoder.framing();
        assert!(framing.start <= framing.end && framing.end <= region.len());
        region.drain(framing.clone());
        cut += framing.len();
        decoder.framing_removed();
        assert!(decoder.decoded() as u64 <= max_body);
        match result {
            Ok(Decoded::NeedMore) if fed < input.len() => continue,
            other => {
                return (
                    other,
                    region[..decoder.decoded()].to_vec(),
                    decoder.consumed() + cut,
                )
            }
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
