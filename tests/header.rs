//! `include/roost.h` is checked in so that C users can read it without building; it must be
//! exactly what cbindgen generates from the current `src/ffi/`.

use std::path::Path;

#[test]
fn checked_in_header_matches_generated() {
    let fresh = include_str!(concat!(env!("OUT_DIR"), "/roost.h"));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/roost.h");
    if std::env::var_os("ROOST_UPDATE_HEADER").is_some() {
        std::fs::write(&path, fresh).expect("write include/roost.h");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == fresh,
        "include/roost.h is stale: run `ROOST_UPDATE_HEADER=1 cargo test --test header` and commit it"
    );
}
