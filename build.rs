//! Generates the C header from `src/ffi/` with cbindgen. The result goes to OUT_DIR; the
//! `header` test compares it with the checked-in `include/roost.h`.

use std::env;
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    // Only the boundary module is parsed: public items elsewhere in the crate are Rust API,
    // not C API.
    let mut builder = cbindgen::Builder::new().with_config(config);
    let mut sources: Vec<PathBuf> = std::fs::read_dir(crate_dir.join("src/ffi"))
        .expect("src/ffi exists")
        .map(|entry| entry.expect("readable src/ffi").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    sources.sort();
    for source in &sources {
        builder = builder.with_src(source);
    }
    builder
        .generate()
        .expect("cbindgen could not generate the header")
        .write_to_file(out_dir.join("roost.h"));
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=build.rs");
}
