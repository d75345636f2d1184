//! The README's C and Python quick starts, run as written (with port 0 passed on the
//! command line, which both accept) against the library this test run built.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::*;

/// The first fenced block in the README whose info string is `lang`.
fn readme_block(lang: &str) -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let fence = format!("```{lang}\n");
    let start = readme
        .find(&fence)
        .unwrap_or_else(|| panic!("no {lang} block"))
        + fence.len();
    let end = start + readme[start..].find("\n```").unwrap();
    readme[start..=end].to_string()
}

/// A folder with `public/index.html`, as the quick starts ask for.
fn workdir(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    dir.write("public/index.html", b"<h1>hello</h1>\n");
    dir
}

fn stop_with_enter(mut child: Child) {
    child.stdin.as_mut().unwrap().write_all(b"\n").unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn the_c_quick_start_works_as_written() {
    let dir = workdir("readme-c");
    dir.write("app.c", readme_block("c").as_bytes());
    let lib = library_dir();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("cc")
        .args(["-Wall", "-Wextra", "-Werror", "-I"])
        .arg(root.join("include"))
        .arg("app.c")
        .arg(format!("-L{}", lib.display()))
        .arg("-lroost")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-o", "app"])
        .current_dir(dir.path())
        .status()
        .expect("cc runs");
    assert!(status.success(), "the C quick start does not compile");
    let mut child = Command::new(dir.path().join("app"))
        .arg("0")
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (_, addr) = ready_line(&mut child);
    assert_eq!(get(addr, "/hello/world").text(), "hi world\n");
    assert_eq!(get(addr, "/").body, b"<h1>hello</h1>\n");
    stop_with_enter(child);
}

#[test]
fn the_python_quick_start_works_as_written() {
    let dir = workdir("readme-py");
    dir.write("app.py", readme_block("python").as_bytes());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new("python3")
        .args(["app.py", "0"])
        .current_dir(dir.path())
        .env("PYTHONPATH", root.join("bindings/python"))
        .env("ROOST_LIBRARY", library_dir().join("libroost.so"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (_, addr) = ready_line(&mut child);
    assert_eq!(get(addr, "/hello/world").text(), "hi world");
    assert_eq!(get(addr, "/files/").body, b"<h1>hello</h1>\n");
    stop_with_enter(child);
}
