//! Runs the Python binding's unittest suite (bindings/python/tests) against the library
//! this test run built.

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn python_binding_tests_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let library = common::library_dir().join("libroost.so");
    assert!(library.exists(), "no library at {}", library.display());
    let output = Command::new("python3")
        .args(["-m", "unittest", "discover", "-v", "-s"])
        .arg(root.join("bindings/python/tests"))
        .env("PYTHONPATH", root.join("bindings/python"))
        .env("ROOST_LIBRARY", &library)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs");
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "Python tests failed:\n{report}");
    assert!(
        report.contains("\nOK"),
        "unexpected unittest output:\n{report}"
    );
}
